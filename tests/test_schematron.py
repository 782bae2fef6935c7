"""Tests of the ISO Schematron rules (schemas/schematron) and their runner (xdsi.validation.schematron).

Every assert id has a case below: a valid hand-written fixture (tests/fixtures/schematron) and one small edit
that makes the rule fire; the same rule stays silent on the unedited fixture.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import lxml.isoschematron as isoschematron
import pytest
from lxml import etree

from tests.fixtures.cda import build_cr, build_da
from tests.rulecheck import assert_fires, assert_silent
from xdsi.validation.findings import CATALOGUE, Finding
from xdsi.validation.schematron import (
    RULES,
    SCH_NS,
    SCHEMATRON_DIR,
    SCHEMATRONS,
    compiled,
    readable_location,
    schematron_parts,
    validate,
)

FIXTURES = Path(__file__).parent / "fixtures" / "schematron"

NS = {
    "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
    "rs": "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0",
    "lcm": "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0",
    "query": "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0",
    "xdsb": "urn:ihe:iti:xds-b:2007",
    "xdsiB": "urn:ihe:rad:xdsi-b:2009",
    "xop": "http://www.w3.org/2004/08/xop/include",
}

#: fixture -> the kinds it is a valid body of
VALID: dict[str, tuple[str, ...]] = {
    "iti41-pnr.xml": ("flux1",),
    "iti57-status.xml": ("flux3",),
    "iti57-new-version.xml": ("flux3",),
    "registry-response-success.xml": ("flux2", "flux4"),
    "registry-response-failure.xml": ("flux2", "flux4"),
    "iti18-request.xml": ("flux5",),
    "iti18-response-leafclass.xml": ("flux6",),
    "iti18-response-objectref.xml": ("flux6",),
    "iti43-request.xml": ("flux7",),
    "iti43-response.xml": ("flux8",),
    "retrieve-response-partial.xml": ("flux8", "flux10"),
    "rad69-request.xml": ("flux9",),
    "rad69-response.xml": ("flux10",),
}

# --- edits --------------------------------------------------------------------------------------------------

Edit = Callable[[etree._Element], None]


def set_attr(name: str, value: str | None) -> Edit:
    def edit(el: etree._Element) -> None:
        if value is None:
            del el.attrib[name]
        else:
            el.set(name, value)

    edit.__name__ = f"@{name}={value!r}"
    return edit


def set_text(value: str) -> Edit:
    def edit(el: etree._Element) -> None:
        el.text = value
        for child in list(el):
            el.remove(child)

    edit.__name__ = f"text={value!r}"
    return edit


def remove(el: etree._Element) -> None:
    parent = el.getparent()
    assert parent is not None
    parent.remove(el)


def duplicate(el: etree._Element) -> None:
    el.addnext(copy.deepcopy(el))


def rename(tag: str) -> Edit:
    def edit(el: etree._Element) -> None:
        el.tag = tag

    edit.__name__ = f"rename={tag}"
    return edit


def load(fixture: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    return etree.parse(str(FIXTURES / fixture), parser).getroot()


def first(root: etree._Element, xpath: str) -> etree._Element:
    """The first element ``xpath`` selects under ``root``."""
    nodes = root.xpath(xpath, namespaces=NS)
    assert isinstance(nodes, list) and nodes, f"{xpath} selects nothing"
    node = nodes[0]
    assert isinstance(node, etree._Element)
    return node


def edited(fixture: str, xpath: str, edit: Edit) -> etree._Element:
    root = load(fixture)
    edit(first(root, xpath))
    return root


# --- the cases: one per rule id -----------------------------------------------------------------------------

CR = "//rim:ExtrinsicObject[@id='DocumentCR']"
KOS = "//rim:ExtrinsicObject[@id='DocumentKOS']"
CR_CLASS = f"{CR}/rim:Classification[@classificationScheme='urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a']"
CR_UID = f"{CR}/rim:ExternalIdentifier[@identificationScheme='urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab']"
CR_PID = f"{CR}/rim:ExternalIdentifier[@identificationScheme='urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427']"
SS = "//rim:RegistryPackage[@id='SubmissionSet01']"
HM_CR = "//rim:Association[@id='as-ss-cr']"
KOS_FORMAT = f"{KOS}/rim:Classification[@id='cl-kos-format']"
KOS_CLASS = f"{KOS}/rim:Classification[@id='cl-kos-class']"
KOS_TYPE = f"{KOS}/rim:Classification[@id='cl-kos-type']"
CODING = "rim:Slot[@name='codingScheme']/rim:ValueList/rim:Value"
UAS = "//rim:Association[@id='as-status']"
NEWV = "//rim:ExtrinsicObject[@id='DocumentKOSv2']"
HM_NEWV = "//rim:Association[@id='as-ss-kos']"
ERR1 = "//rs:RegistryError[1]"
DOCREQ1 = "//xdsb:DocumentRequest[1]"
DOCRESP = "//xdsb:DocumentResponse[1]"
RAD_DOCREQ1 = "//xdsiB:SeriesRequest/xdsb:DocumentRequest[1]"
PARTIAL = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"


class Case(NamedTuple):
    rule: str
    kind: str
    fixture: str
    xpath: str
    edit: Edit


CASES: list[Case] = [
    # common-metadata.sch
    Case("META.DE.OBJECTTYPE", "flux1", "iti41-pnr.xml", CR, set_attr("objectType", "urn:uuid:not-a-type")),
    Case("META.DE.MIMETYPE", "flux1", "iti41-pnr.xml", CR, set_attr("mimeType", " ")),
    Case(
        "META.PATIENT.MISMATCH",
        "flux1",
        "iti41-pnr.xml",
        CR_PID,
        set_attr("value", "1^^^&1.2.250.1.213.1.4.10&ISO^NH"),
    ),
    Case(
        "META.FOLDER.PATIENT.MISMATCH",
        "flux1",
        "iti41-pnr.xml",
        "//rim:ExternalIdentifier[@id='ei-folder-pid']",
        set_attr("value", "2^^^&1.2.250.1.213.1.4.10&ISO^NH"),
    ),
    Case("META.SLOT.DUPLICATE", "flux1", "iti41-pnr.xml", f"{CR}/rim:Slot[@name='languageCode']", duplicate),
    Case(
        "META.SLOT.SINGLE_VALUE",
        "flux1",
        "iti41-pnr.xml",
        f"{CR}/rim:Slot[@name='creationTime']//rim:Value",
        duplicate,
    ),
    Case("META.CODE.NODEREPRESENTATION", "flux1", "iti41-pnr.xml", CR_CLASS, set_attr("nodeRepresentation", "")),
    Case(
        "META.CODE.CODINGSCHEME",
        "flux1",
        "iti41-pnr.xml",
        f"{CR_CLASS}/rim:Slot[@name='codingScheme']",
        remove,
    ),
    Case("META.CODE.NAME", "flux1", "iti41-pnr.xml", f"{CR_CLASS}/rim:Name", remove),
    Case(
        "META.CLASSIFICATION.SCHEME",
        "flux1",
        "iti41-pnr.xml",
        CR_CLASS,
        set_attr("classificationScheme", "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"),
    ),
    Case(
        "META.EXTID.SCHEME",
        "flux1",
        "iti41-pnr.xml",
        CR_UID,
        set_attr("identificationScheme", "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"),
    ),
    Case("META.EXTID.VALUE", "flux1", "iti41-pnr.xml", CR_UID, set_attr("value", "")),
    Case(
        "META.ASSOC.TYPE",
        "flux1",
        "iti41-pnr.xml",
        HM_CR,
        set_attr("associationType", "urn:ihe:iti:2007:AssociationType:Unknown"),
    ),
    Case("META.ASSOC.SELF", "flux1", "iti41-pnr.xml", HM_CR, set_attr("targetObject", "SubmissionSet01")),
    Case("META.ASSOC.SOURCE.UNRESOLVED", "flux1", "iti41-pnr.xml", HM_CR, set_attr("sourceObject", "Nowhere")),
    Case("META.ASSOC.TARGET.UNRESOLVED", "flux1", "iti41-pnr.xml", HM_CR, set_attr("targetObject", "Nowhere")),
    Case("KOS.DE.MIMETYPE", "flux1", "iti41-pnr.xml", KOS, set_attr("mimeType", "application/octet-stream")),
    Case("KOS.DE.FORMATCODE", "flux1", "iti41-pnr.xml", KOS_FORMAT, set_attr("nodeRepresentation", "1.2.3")),
    Case("KOS.DE.FORMATCODE.SCHEME", "flux1", "iti41-pnr.xml", f"{KOS_FORMAT}/{CODING}", set_text("DCM")),
    Case("KOS.DE.CLASSCODE", "flux1", "iti41-pnr.xml", KOS_CLASS, set_attr("nodeRepresentation", "10")),
    Case("KOS.DE.CLASSCODE.SCHEME", "flux1", "iti41-pnr.xml", f"{KOS_CLASS}/{CODING}", set_text("1.2.3")),
    Case("KOS.DE.TYPECODE", "flux1", "iti41-pnr.xml", KOS_TYPE, set_attr("nodeRepresentation", "18748-4")),
    Case(
        "KOS.DE.TYPECODE.SCHEME",
        "flux1",
        "iti41-pnr.xml",
        f"{KOS_TYPE}/{CODING}",
        set_text("2.16.840.1.113883.6.1"),
    ),
    # common-submission.sch
    Case("SUBMIT.DE.HASMEMBER", "flux1", "iti41-pnr.xml", HM_CR, remove),
    Case("SUBMIT.FOLDER.HASMEMBER", "flux1", "iti41-pnr.xml", "//rim:Association[@id='as-ss-folder']", remove),
    Case("SUBMIT.HASMEMBER.SSSTATUS.VALUE", "flux1", "iti41-pnr.xml", f"{HM_CR}//rim:Value", set_text("Copy")),
    Case(
        "SUBMIT.UNIQUEID.DUPLICATE",
        "flux1",
        "iti41-pnr.xml",
        CR_UID,
        set_attr("value", "1.2.250.1.999.1.2.20240312.1.99.1"),
    ),
    # flux1-iti41.sch
    Case("ITI41.ROOT", "flux1", "iti41-pnr.xml", "/*", rename(f"{{{NS['xdsb']}}}ProvideAndRegister")),
    Case("ITI41.SS.COUNT", "flux1", "iti41-pnr.xml", "//rim:Classification[@id='cl-ss-node']", remove),
    Case(
        "ITI41.DE.ONDEMAND",
        "flux1",
        "iti41-pnr.xml",
        CR,
        set_attr("objectType", "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"),
    ),
    Case("ITI41.DOCUMENT.MISSING", "flux1", "iti41-pnr.xml", "//xdsb:Document[@id='DocumentCR']", remove),
    Case(
        "ITI41.DOCUMENT.METADATA_MISSING",
        "flux1",
        "iti41-pnr.xml",
        "//xdsb:Document[@id='DocumentCR']",
        set_attr("id", "documentcr"),
    ),
    Case(
        "ITI41.DOCUMENT.ID.DUPLICATE",
        "flux1",
        "iti41-pnr.xml",
        "//xdsb:Document[@id='DocumentCR']",
        duplicate,
    ),
    Case("ITI41.DOCUMENT.EMPTY", "flux1", "iti41-pnr.xml", "//xdsb:Document[@id='DocumentKOS']", set_text(" ")),
    # flux3-iti57.sch
    Case("ITI57.ROOT", "flux3", "iti57-status.xml", "/*", rename(f"{{{NS['lcm']}}}UpdateObjectsRequest")),
    Case("ITI57.SS.COUNT", "flux3", "iti57-status.xml", "//rim:Classification[@id='cl-ss-node']", remove),
    Case(
        "ITI57.UAS.ORIGINALSTATUS.VALUE",
        "flux3",
        "iti57-status.xml",
        f"{UAS}/rim:Slot[@name='OriginalStatus']//rim:Value",
        set_text("Approved"),
    ),
    Case(
        "ITI57.UAS.NEWSTATUS.VALUE",
        "flux3",
        "iti57-status.xml",
        f"{UAS}/rim:Slot[@name='NewStatus']//rim:Value",
        set_text("urn:asip:ci-sis:2010:StatusType:Masked"),
    ),
    Case(
        "ITI57.UAS.UNCHANGED",
        "flux3",
        "iti57-status.xml",
        f"{UAS}/rim:Slot[@name='NewStatus']//rim:Value",
        set_text("urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"),
    ),
    Case(
        "ITI57.UAS.SOURCE",
        "flux3",
        "iti57-status.xml",
        UAS,
        set_attr("sourceObject", "urn:uuid:9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"),
    ),
    Case("ITI57.UAS.TARGET.UUID", "flux3", "iti57-status.xml", UAS, set_attr("targetObject", "SubmissionSet02")),
    Case("ITI57.NEWVERSION.LID.MISSING", "flux3", "iti57-new-version.xml", NEWV, set_attr("lid", None)),
    Case(
        "ITI57.NEWVERSION.LID.EQUALS_ID",
        "flux3",
        "iti57-new-version.xml",
        NEWV,
        set_attr("lid", "DocumentKOSv2"),
    ),
    Case(
        "ITI57.NEWVERSION.SSSTATUS",
        "flux3",
        "iti57-new-version.xml",
        f"{HM_NEWV}/rim:Slot[@name='SubmissionSetStatus']//rim:Value",
        set_text("Reference"),
    ),
    # common-errors.sch
    Case("RESP.STATUS.MISSING", "flux2", "registry-response-success.xml", "/*", set_attr("status", None)),
    Case("RESP.STATUS.INVALID", "flux4", "registry-response-success.xml", "/*", set_attr("status", "Success")),
    Case("RESP.FAILURE.NO_ERROR", "flux2", "registry-response-success.xml", "/*", set_attr("status", FAILURE)),
    Case("RESP.SUCCESS.HAS_ERROR", "flux2", "registry-response-failure.xml", "/*", set_attr("status", SUCCESS)),
    Case(
        "RESP.PARTIAL.NO_ERROR",
        "flux8",
        "iti43-response.xml",
        "//rs:RegistryResponse",
        set_attr("status", PARTIAL),
    ),
    Case("RESP.ERROR.SEVERITY", "flux2", "registry-response-failure.xml", ERR1, set_attr("severity", "Error")),
    Case(
        "RESP.ERROR.CODE.UNKNOWN",
        "flux2",
        "registry-response-failure.xml",
        ERR1,
        set_attr("errorCode", "PatientMismatch"),
    ),
    Case(
        "RESP.ERROR.CODECONTEXT.EMPTY",
        "flux2",
        "registry-response-failure.xml",
        ERR1,
        set_attr("codeContext", ""),
    ),
    Case(
        "RESP.ERRORLIST.HIGHESTSEVERITY",
        "flux2",
        "registry-response-failure.xml",
        "//rs:RegistryErrorList",
        set_attr("highestSeverity", "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"),
    ),
    # registry-response.sch
    Case("RESP.ROOT", "flux2", "registry-response-success.xml", "/*", rename(f"{{{NS['rs']}}}RegistryResult")),
    Case(
        "RESP.STATUS.PARTIAL_NOT_ALLOWED",
        "flux4",
        "registry-response-failure.xml",
        "/*",
        set_attr("status", PARTIAL),
    ),
    # flux5-iti18-request.sch
    Case("ITI18.ROOT", "flux5", "iti18-request.xml", "/*", rename(f"{{{NS['query']}}}AdhocQueryResponse")),
    # flux6-iti18-response.sch
    Case(
        "ITI18.RESP.ROOT",
        "flux6",
        "iti18-response-objectref.xml",
        "/*",
        rename(f"{{{NS['query']}}}AdhocQueryRequest"),
    ),
    Case(
        "ITI18.RESP.OBJECTREF.ONLY",
        "flux6",
        "iti18-response-objectref.xml",
        "//rim:ObjectRef[2]",
        rename(f"{{{NS['rim']}}}RegistryPackage"),
    ),
    Case(
        "ITI18.RESP.FAILURE.RESULTS",
        "flux6",
        "iti18-response-leafclass.xml",
        "/*",
        set_attr("status", FAILURE),
    ),
    # flux7-iti43-request.sch
    Case(
        "ITI43.ROOT",
        "flux7",
        "iti43-request.xml",
        "/*",
        rename(f"{{{NS['xdsb']}}}RetrieveDocumentSetResponse"),
    ),
    Case(
        "ITI43.REPOSITORYUNIQUEID.EMPTY",
        "flux7",
        "iti43-request.xml",
        f"{DOCREQ1}/xdsb:RepositoryUniqueId",
        set_text(""),
    ),
    Case(
        "ITI43.DOCUMENTUNIQUEID.EMPTY",
        "flux7",
        "iti43-request.xml",
        f"{DOCREQ1}/xdsb:DocumentUniqueId",
        set_text(" "),
    ),
    Case(
        "ITI43.DOCUMENTUNIQUEID.ENTRYUUID",
        "flux7",
        "iti43-request.xml",
        f"{DOCREQ1}/xdsb:DocumentUniqueId",
        set_text("urn:uuid:3f1c9a5e-6a3b-4d7e-9b0a-1c2d3e4f5a6b"),
    ),
    Case("ITI43.REQUEST.DUPLICATE", "flux7", "iti43-request.xml", DOCREQ1, duplicate),
    # retrieve-response.sch
    Case("RETRIEVE.ROOT", "flux8", "iti43-response.xml", "//rs:RegistryResponse", remove),
    Case("RETRIEVE.PARTIAL.NO_DOCUMENT", "flux8", "retrieve-response-partial.xml", DOCRESP, remove),
    Case(
        "RETRIEVE.FAILURE.DOCUMENT",
        "flux10",
        "retrieve-response-partial.xml",
        "//rs:RegistryResponse",
        set_attr("status", FAILURE),
    ),
    Case("RETRIEVE.SUCCESS.EMPTY", "flux8", "iti43-response.xml", DOCRESP, remove),
    Case(
        "RETRIEVE.DOC.REPOSITORYUNIQUEID",
        "flux8",
        "iti43-response.xml",
        f"{DOCRESP}/xdsb:RepositoryUniqueId",
        set_text(""),
    ),
    Case(
        "RETRIEVE.DOC.DOCUMENTUNIQUEID",
        "flux8",
        "iti43-response.xml",
        f"{DOCRESP}/xdsb:DocumentUniqueId",
        set_text(""),
    ),
    Case("RETRIEVE.DOC.MIMETYPE", "flux8", "iti43-response.xml", f"{DOCRESP}/xdsb:mimeType", set_text("")),
    Case("RETRIEVE.DOC.DOCUMENT", "flux8", "iti43-response.xml", f"{DOCRESP}/xdsb:Document", remove),
    # flux10-rad69-response.sch
    Case(
        "RAD69.RESP.MIMETYPE",
        "flux10",
        "rad69-response.xml",
        "//xdsb:DocumentResponse[2]/xdsb:mimeType",
        set_text("image/jpeg"),
    ),
    # flux9-rad69-request.sch
    Case("RAD69.ROOT", "flux9", "rad69-request.xml", "//xdsiB:StudyRequest", remove),
    Case("RAD69.TSLIST.EMPTY", "flux9", "rad69-request.xml", "//xdsiB:TransferSyntaxUIDList", remove),
    Case("RAD69.TSUID.EMPTY", "flux9", "rad69-request.xml", "//xdsiB:TransferSyntaxUID[2]", set_text("")),
    Case(
        "RAD69.STUDYUID.EMPTY",
        "flux9",
        "rad69-request.xml",
        "//xdsiB:StudyRequest",
        set_attr("studyInstanceUID", ""),
    ),
    Case(
        "RAD69.STUDYUID.FORMAT",
        "flux9",
        "rad69-request.xml",
        "//xdsiB:StudyRequest",
        set_attr("studyInstanceUID", "1.2.250.01.5"),
    ),
    Case(
        "RAD69.SERIESUID.EMPTY",
        "flux9",
        "rad69-request.xml",
        "//xdsiB:SeriesRequest",
        set_attr("seriesInstanceUID", " "),
    ),
    Case(
        "RAD69.SERIESUID.FORMAT",
        "flux9",
        "rad69-request.xml",
        "//xdsiB:SeriesRequest",
        set_attr("seriesInstanceUID", "1.2.250.1."),
    ),
    Case(
        "RAD69.REPOSITORYUNIQUEID.EMPTY",
        "flux9",
        "rad69-request.xml",
        f"{RAD_DOCREQ1}/xdsb:RepositoryUniqueId",
        set_text(""),
    ),
    Case(
        "RAD69.SOPUID.FORMAT",
        "flux9",
        "rad69-request.xml",
        f"{RAD_DOCREQ1}/xdsb:DocumentUniqueId",
        set_text("1.2.250.1.999.1.2.3a"),
    ),
    Case("RAD69.INSTANCE.DUPLICATE", "flux9", "rad69-request.xml", RAD_DOCREQ1, duplicate),
]


def _case_id(case: Case) -> str:
    return case.rule


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule_fires_on_broken_message(case: Case) -> None:
    findings = validate(edited(case.fixture, case.xpath, case.edit), case.kind)
    hit = assert_fires(findings, case.rule)
    rule = CATALOGUE[case.rule]
    assert hit.severity == rule.severity
    assert hit.reference == rule.reference
    assert hit.location.startswith("/")
    assert "local-name()" not in hit.location, hit.location
    assert hit.message.startswith(rule.text), (hit.message, rule.text)
    assert hit.message.startswith(f"{rule.text}: found"), hit.message


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule_silent_on_valid_message(case: Case) -> None:
    assert_silent(validate(load(case.fixture), case.kind), case.rule)


@pytest.mark.parametrize(("fixture", "kind"), [(f, k) for f, kinds in VALID.items() for k in kinds])
@pytest.mark.parametrize("profile", ["cisis", "dmp", "ihe"])
def test_valid_fixtures_have_no_finding(fixture: str, kind: str, profile: str) -> None:
    findings = validate(load(fixture), kind, profile)
    assert findings == [], [(f.rule, f.location, f.message) for f in findings]


def test_every_schematron_rule_has_a_case() -> None:
    """The flux rules have their case here; the CDA rules theirs in tests/test_cda_rules.py."""
    flux_rules = {r for r in RULES if any(k.startswith("flux") for k in CATALOGUE[r].kinds)}
    assert sorted(flux_rules) == sorted({case.rule for case in CASES})
    assert len(RULES) >= 40


# --- the catalogue ------------------------------------------------------------------------------------------


def test_rules_registered_from_the_sch_files() -> None:
    for rule_id, sch_rule in RULES.items():
        rule = CATALOGUE[rule_id]
        assert rule.layer == "schematron"
        assert rule.severity == sch_rule.severity
        assert rule.reference == sch_rule.reference and rule.reference
        assert rule.kinds, rule_id
    assert CATALOGUE["META.DE.MIMETYPE"].kinds == ("flux1", "flux3", "flux6")
    assert CATALOGUE["SUBMIT.DE.HASMEMBER"].kinds == ("flux1", "flux3")
    assert CATALOGUE["RESP.FAILURE.NO_ERROR"].kinds == ("flux2", "flux4", "flux6", "flux8", "flux10")
    assert CATALOGUE["RETRIEVE.DOC.MIMETYPE"].kinds == ("flux8", "flux10")
    assert CATALOGUE["RAD69.RESP.MIMETYPE"].kinds == ("flux10",)
    assert CATALOGUE["KOS.DE.CLASSCODE"].profiles == ("cisis", "dmp")
    assert CATALOGUE["RESP.ERROR.CODE.UNKNOWN"].severity == "warning"


def _sch_asserts() -> list[tuple[Path, etree._Element]]:
    out = []
    for path in sorted(SCHEMATRON_DIR.glob("*.sch")):
        tree = etree.parse(str(path))
        out += [(path, el) for el in tree.iter(f"{{{SCH_NS}}}assert", f"{{{SCH_NS}}}report")]
    return out


def test_every_assert_follows_the_conventions() -> None:
    asserts = _sch_asserts()
    ids = [el.get("id") for _, el in asserts]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for path, el in asserts:
        where = f"{path.name}:{el.sourceline} {el.get('id')}"
        assert re.fullmatch(r"[A-Z0-9]+(\.[A-Z0-9_]+)+", el.get("id", "")), where
        assert el.get("role") in ("error", "warning", "info"), where
        assert el.get("see", "").strip(), where
        # the message says what was found
        assert el.find(f"{{{SCH_NS}}}value-of") is not None, where
        assert ": found" in (el.text or ""), where


def test_every_sch_file_is_used() -> None:
    used = {part for files in SCHEMATRONS.values() for top in files for part in schematron_parts(top)}
    assert {p.resolve() for p in SCHEMATRON_DIR.glob("*.sch")} == used
    assert set(SCHEMATRONS) == {f"flux{n}" for n in range(1, 11)} | {"img-da-img", "img-cr-img"}


# --- the runner ---------------------------------------------------------------------------------------------


def test_location_is_readable() -> None:
    svrl = (
        "/*[local-name()='ProvideAndRegisterDocumentSetRequest' and namespace-uri()='urn:ihe:iti:xds-b:2007']"
        "/*[local-name()='SubmitObjectsRequest' and "
        "namespace-uri()='urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0']"
        "/*[local-name()='X' and namespace-uri()='urn:other'][2]"
    )
    assert readable_location(svrl) == (
        "/xdsb:ProvideAndRegisterDocumentSetRequest/lcm:SubmitObjectsRequest/*[local-name()='X' and "
        "namespace-uri()='urn:other'][2]"
    )
    findings = validate(edited("iti41-pnr.xml", CR, set_attr("mimeType", "")), "flux1")
    hit = assert_fires(findings, "META.DE.MIMETYPE")
    assert hit.location == (
        "/xdsb:ProvideAndRegisterDocumentSetRequest/lcm:SubmitObjectsRequest"
        "/rim:RegistryObjectList/rim:ExtrinsicObject[2]"
    )
    assert "DocumentCR" in hit.message


def test_body_inside_a_soap_envelope() -> None:
    """The body child may still sit in its envelope: it is validated as the root of its own document."""
    envelope = etree.Element("{http://www.w3.org/2003/05/soap-envelope}Envelope")
    body = etree.SubElement(envelope, "{http://www.w3.org/2003/05/soap-envelope}Body")
    body.append(edited("iti41-pnr.xml", HM_CR, remove))
    findings = validate(body[0], "flux1")
    hit = assert_fires(findings, "SUBMIT.DE.HASMEMBER")
    assert hit.location.startswith("/xdsb:ProvideAndRegisterDocumentSetRequest/")
    assert body[0].getparent() is body  # the caller's tree is untouched


def test_accepts_an_element_tree() -> None:
    assert validate(etree.ElementTree(load("rad69-request.xml")), "flux9") == []


def test_profile_filters_cisis_rules() -> None:
    broken = edited("iti41-pnr.xml", KOS_TYPE, set_attr("nodeRepresentation", "18748-4"))
    assert_fires(validate(broken, "flux1", "dmp"), "KOS.DE.TYPECODE")
    assert_silent(validate(broken, "flux1", "ihe"), "KOS.DE.TYPECODE")


def test_kos_entry_detected_by_typecode() -> None:
    """A DocumentEntry typed IMG-KOS is a KOS entry even with another mimeType and formatCode."""
    root = load("iti41-pnr.xml")
    cr_type = first(root, f"{CR}/rim:Classification[@id='cl-cr-type']")
    cr_type.set("nodeRepresentation", "IMG-KOS")
    first(cr_type, CODING).text = "1.2.250.1.213.1.1.4.12"
    findings = validate(root, "flux1")
    assert_fires(findings, "KOS.DE.MIMETYPE", location_contains="rim:ExtrinsicObject[2]")
    assert_fires(findings, "KOS.DE.FORMATCODE")
    assert_fires(findings, "KOS.DE.CLASSCODE")


def test_kos_rules_apply_to_query_responses() -> None:
    broken = edited("iti18-response-leafclass.xml", "//rim:ExtrinsicObject", set_attr("mimeType", "text/xml"))
    assert_fires(validate(broken, "flux6"), "KOS.DE.MIMETYPE")


def test_top_level_classifications_are_followed() -> None:
    """Classifications written outside their object (classifiedObject) count as the object's codes."""
    root = load("iti41-pnr.xml")
    kos_type = first(root, KOS_TYPE)
    remove(kos_type)
    first(root, "//rim:RegistryObjectList").append(kos_type)
    findings = validate(root, "flux1")
    assert_silent(findings, "KOS.DE.TYPECODE")
    assert_silent(findings)


@pytest.mark.parametrize(
    ("uid", "valid"),
    [
        ("1.2.840.10008.1.2.1", True),
        ("0.1", True),
        ("1.0.2", True),
        ("1.02", False),
        ("01.2", False),
        ("1..2", False),
        (".1.2", False),
        ("1.2.", False),
        ("1.2.x", False),
        ("1." + "2" * 62, True),
        ("1." + "2" * 63, False),
    ],
)
def test_dicom_uid_syntax(uid: str, valid: bool) -> None:
    findings = validate(edited("rad69-request.xml", "//xdsiB:StudyRequest", set_attr("studyInstanceUID", uid)), "flux9")
    if valid:
        assert_silent(findings, "RAD69.STUDYUID.FORMAT")
    else:
        assert_fires(findings, "RAD69.STUDYUID.FORMAT")


def test_kinds_without_schematron_and_unknown_kinds() -> None:
    assert validate(load("rad69-request.xml"), "kos") == []
    with pytest.raises(ValueError):
        validate(load("rad69-request.xml"), "flux11")
    with pytest.raises(ValueError):
        validate(load("rad69-request.xml"), "flux9", profile="nhs")


def test_findings_are_findings() -> None:
    findings = validate(edited("registry-response-success.xml", "/*", set_attr("status", FAILURE)), "flux2")
    assert findings and all(isinstance(f, Finding) for f in findings)
    assert findings[0].as_dict()["rule"] == "RESP.FAILURE.NO_ERROR"


# --- the corpus ---------------------------------------------------------------------------------------------

_SOAP = ("http://www.w3.org/2003/05/soap-envelope", "http://schemas.xmlsoap.org/soap/envelope/")
_KIND_OF_ROOT = {
    f"{{{NS['xdsb']}}}ProvideAndRegisterDocumentSetRequest": "flux1",
    f"{{{NS['lcm']}}}SubmitObjectsRequest": "flux3",
    f"{{{NS['rs']}}}RegistryResponse": "flux2",
    f"{{{NS['query']}}}AdhocQueryRequest": "flux5",
    f"{{{NS['query']}}}AdhocQueryResponse": "flux6",
    f"{{{NS['xdsb']}}}RetrieveDocumentSetRequest": "flux7",
    f"{{{NS['xdsb']}}}RetrieveDocumentSetResponse": "flux8",
    f"{{{NS['xdsiB']}}}RetrieveImagingDocumentSetRequest": "flux9",
}

#: corpus file -> rules the schematrons must find in it (known defects of the published samples)
_EXPECTED_IN_CORPUS = {
    "NEG_RegistryResponse_success-with-error.xml": "RESP.SUCCESS.HAS_ERROR",
    "NEG_RegistryResponse_failure-without-error.xml": "RESP.FAILURE.NO_ERROR",
    "NEG_ITI-41_PnR_association-to-self.xml": "META.ASSOC.SELF",
    "NEG_ITI-18_response_ObjectRef_no-status.xml": "RESP.STATUS.MISSING",
    # as published: xdsb:Document/@id "documentME2" vs ExtrinsicObject/@id "DocumentME2"
    "TD2.1_ITI-41_ProvideAndRegister_request.mime": "ITI41.DOCUMENT.MISSING",
}


def _corpus_body(path: Path) -> etree._Element | None:
    data = path.read_bytes()
    if path.suffix == ".mime":  # the SOAP part of a MIME multipart/related capture
        m = re.search(rb"<([\w-]+:)?Envelope\b.*?</([\w-]+:)?Envelope>", data, re.S)
        if m is None:
            return None
        data = m.group(0)
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except etree.XMLSyntaxError:
        return None
    if etree.QName(root).namespace in _SOAP:
        body = root.find(f"{{{etree.QName(root).namespace}}}Body")
        return body[0] if body is not None and len(body) else None
    return root


@pytest.mark.corpus
def test_corpus_messages(corpus: Path) -> None:
    messages = corpus / "xds" / "messages"
    ran = 0
    for path in sorted(messages.rglob("*")):
        if not path.is_file() or path.suffix not in (".xml", ".mime"):
            continue
        root = _corpus_body(path)
        kind = _KIND_OF_ROOT.get(root.tag) if root is not None else None
        if root is None or kind is None:
            continue
        if kind == "flux8" and "RAD-69" in path.name:
            kind = "flux10"
        findings = validate(root, kind)
        ran += 1
        print(f"{path.relative_to(messages)} [{kind}]: {sorted({f.rule for f in findings}) or 'no finding'}")
        if path.name in _EXPECTED_IN_CORPUS:
            assert_fires(findings, _EXPECTED_IN_CORPUS[path.name])
        if path.parent.name == "dmp-ans" and path.suffix == ".xml":
            assert_silent(findings)  # the official DMP examples pass
    assert ran >= 40


# --- the key mode against the full traversal -------------------------------------------------------------------


def _traversal_findings(path: Path, root: etree._Element) -> list[tuple[str, str]]:
    """The findings of the ISO skeleton in its default mode (one traversal of the document per pattern)."""
    expanded = isoschematron.iso_abstract_expand(isoschematron.iso_dsdl_include(etree.parse(str(path))))
    reference = isoschematron.Schematron(
        expanded, include=False, expand=False, validate_schema=False, store_report=True
    )
    reference(root)
    report = reference.validation_report.getroot()
    return sorted((r.get("id", ""), r.get("location", "")) for r in report.iter(*_SVRL_RESULTS))


def _key_mode_findings(path: Path, root: etree._Element) -> list[tuple[str, str]]:
    report = compiled(path).xslt(root).getroot()
    return sorted((r.get("id", ""), r.get("location", "")) for r in report.iter(*_SVRL_RESULTS))


def _mutants(root: etree._Element, rng: random.Random, count: int) -> list[etree._Element]:
    """``count`` copies of ``root``, each with one to three random edits (an element removed or doubled, an
    attribute emptied, changed or removed)."""
    out = []
    for _ in range(count):
        mutant = copy.deepcopy(root)
        for _ in range(rng.randrange(1, 4)):
            elements = [e for e in mutant.iter() if isinstance(e.tag, str) and e is not mutant]
            if not elements:
                break
            el = rng.choice(elements)
            parent = el.getparent()
            edit = rng.randrange(4)
            if edit == 0 and parent is not None:
                parent.remove(el)
            elif edit in (1, 2) and el.attrib:
                name = rng.choice(list(el.attrib))
                if edit == 1:
                    el.set(name, rng.choice(["", "X", f"{el.get(name)}1"]))
                else:
                    del el.attrib[name]
            elif parent is not None:
                parent.insert(parent.index(el), copy.deepcopy(el))
        out.append(mutant)
    return out


_SVRL_RESULTS = (
    "{http://purl.oclc.org/dsdl/svrl}failed-assert",
    "{http://purl.oclc.org/dsdl/svrl}successful-report",
)


def test_key_mode_finds_what_the_full_traversal_finds() -> None:
    """The validator runs in the skeleton's key mode (one key per pattern): on every valid fixture and on random
    mutants of each, it reports exactly what the skeleton's default traversal reports."""
    rng = random.Random(20261123)
    sources = [(name, etree.parse(str(FIXTURES / name)).getroot(), kinds) for name, kinds in VALID.items()]
    sources += [
        ("build_da()", etree.fromstring(build_da()), ("img-da-img",)),
        ("build_cr()", etree.fromstring(build_cr()), ("img-cr-img",)),
    ]
    runs = fired = 0
    for name, source, kinds in sources:
        for root in [source, *_mutants(source, rng, 8)]:
            for kind in kinds:
                for path in SCHEMATRONS[kind]:
                    expected = _traversal_findings(path, root)
                    assert _key_mode_findings(path, root) == expected, (name, kind)
                    runs += 1
                    fired += len(expected)
    assert runs > 100 and fired > 50, (runs, fired)  # the mutants do break rules
