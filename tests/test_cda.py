"""IMG-DA-IMG / IMG-CR-IMG documents: kind detection, the validation entry point, link keys, bad input.

Rule by rule firing tests are in tests/test_cda_rules.py, the schema comparison in tests/test_cda_xsd.py.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from lxml import etree

from tests.fixtures.cda import CORPUS_CDA, apply_mutation, build_cr, build_da
from tests.rulecheck import assert_fires, assert_silent
from xdsi.validation import schematron
from xdsi.validation.cda import (
    CDA_KINDS,
    MAX_CDA_BYTES,
    NOT_AN_IMAGING_DOCUMENT,
    OrderKey,
    ReportKeys,
    detect_cda_kind,
    report_keys,
    validate_cda,
    validate_cda_root,
)
from xdsi.validation.findings import CATALOGUE

DA_EXAMPLES = sorted(CORPUS_CDA.glob("IMG-DA-IMG_*.xml")) if CORPUS_CDA.is_dir() else []
CR_N3 = CORPUS_CDA / "IMG_CR_IMG_2024.01.xml"
CR_N1 = CORPUS_CDA / "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml"


def errors(findings: list) -> list[tuple[str, str, str]]:
    return [(f.rule, f.location, f.message) for f in findings if f.severity == "error"]


# ------------------------------------------------------------------------------------------ official examples


def test_seven_official_requests(corpus: Path) -> None:
    assert len(DA_EXAMPLES) == 7


@pytest.mark.parametrize("path", DA_EXAMPLES, ids=[p.name for p in DA_EXAMPLES])
def test_official_request_has_no_error(path: Path) -> None:
    kind, findings, error = validate_cda(path.read_bytes())
    assert (kind, error) == ("img-da-img", None)
    assert errors(findings) == []


def test_official_level3_report_has_no_error(corpus: Path) -> None:
    kind, findings, error = validate_cda(CR_N3.read_bytes())
    assert (kind, error) == ("img-cr-img", None)
    assert errors(findings) == []
    # what it does show: three originalText references to narrative IDs that do not exist (warnings)
    dangling = [f for f in findings if f.rule == "CDA.TEXTE.REFERENCE"]
    assert len(dangling) == 3 and all("exposition-rayonnements" in f.message for f in dangling)


def test_official_level1_report(corpus: Path) -> None:
    """The level-1 example (PDF in nonXMLBody, XDS-SD templateId, the IMG-CR-IMG templateId commented out) is
    recognised as an IMG-CR-IMG by its LOINC code 18748-4; the header and link-key rules apply, the level-3 body
    rules do not (no structuredBody): no finding at all."""
    root = etree.parse(str(CR_N1)).getroot()
    assert detect_cda_kind(root) == "img-cr-img"
    kind, findings, error = validate_cda(CR_N1.read_bytes())
    assert (kind, error, findings) == ("img-cr-img", None, [])
    assert report_keys(root).accession_number == "105234751"


def test_mammography_example_shows_the_header_urgency_and_a_bom(corpus: Path) -> None:
    data = (CORPUS_CDA / "IMG-DA-IMG_2024.01_Mammo-Echo-Seins.xml").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    _kind, findings, _ = validate_cda(data)
    assert_fires(findings, "CDA.ENCODAGE.BOM")
    assert_silent(findings, "IMGDA.ENTETE.URGENCE.MOTIF")


# ------------------------------------------------------------------------------------------ kind detection


def test_detect_by_template_then_code() -> None:
    da = etree.fromstring(build_da())
    assert detect_cda_kind(da) == "img-da-img"
    assert detect_cda_kind(etree.ElementTree(da)) == "img-da-img"
    # without the model templateId, the LOINC document code decides
    without_template = etree.fromstring(build_da().replace(b'root="1.2.250.1.213.1.1.1.47"', b'root="1.2.3"'))
    assert detect_cda_kind(without_template) == "img-da-img"
    cr = etree.fromstring(build_cr().replace(b'root="1.2.250.1.213.1.1.1.45"', b'root="1.2.3"'))
    assert detect_cda_kind(cr) == "img-cr-img"  # DICOM imaging report template 1.2.840.10008.9.1
    # the model templateId wins over a wrong code (the code rule then fires)
    wrong_code = etree.fromstring(apply_mutation("entete-code-document", build_da()))
    assert detect_cda_kind(wrong_code) == "img-da-img"


def test_other_documents_have_no_kind() -> None:
    other = build_da().replace(b'root="1.2.250.1.213.1.1.1.47"', b'root="1.2.3"').replace(b'"55115-0"', b'"11488-4"')
    assert detect_cda_kind(etree.fromstring(other)) is None
    assert detect_cda_kind(etree.fromstring(b'<ClinicalDocument xmlns="urn:x"/>')) is None
    assert detect_cda_kind(etree.fromstring(b"<foo/>")) is None


# ------------------------------------------------------------------------------------------ validate_cda


def test_our_documents_are_valid() -> None:
    for data, kind in ((build_da(), "img-da-img"), (build_cr(), "img-cr-img")):
        assert validate_cda(data) == (kind, [], None)


def test_findings_carry_rule_location_and_reference() -> None:
    _kind, findings, _ = validate_cda(apply_mutation("localisation-hors-jdv", build_da()))
    hit = assert_fires(findings, "IMGDA.ACTE.LOCALISATION.VS")
    assert hit.location == (
        "/hl7:ClinicalDocument/hl7:component/hl7:structuredBody/hl7:component[3]/hl7:section/hl7:entry[1]"
        "/hl7:observation/hl7:targetSiteCode"
    )
    assert hit.reference.startswith("IMG-DA-IMG §3.4.2 Localisation anatomique [1..1] CD")
    assert "999999999" in hit.message and "1.2.250.1.213.1.1.5.694" in hit.message
    _, findings, _ = validate_cda(apply_mutation("sans-localisation", build_da()))
    hit = assert_fires(findings, "IMGDA.ACTE.LOCALISATION.CARD")
    assert hit.location.endswith("/hl7:section/hl7:entry[1]/hl7:observation")
    assert hit.message.endswith("found 0")


def test_forced_kind() -> None:
    kind, findings, error = validate_cda(build_cr(), kind="img-da-img")
    assert (kind, error) == ("img-da-img", None)
    assert_fires(findings, "IMGDA.ENTETE.TEMPLATE")
    assert_fires(findings, "IMGDA.ACTES.CARD")
    assert (
        validate_cda(build_da(), kind="flux1")[2]
        == "--as flux1: not a CDA kind (expected one of img-da-img, img-cr-img)"
    )


def test_profiles() -> None:
    data = apply_mutation("modalite-hors-jdv", build_da())
    for profile in ("cisis", "dmp", "ihe"):
        assert_fires(validate_cda(data, profile=profile)[1], "IMGDA.ACTE.MODALITE.VS")
    with pytest.raises(ValueError):
        validate_cda_root(etree.fromstring(build_da()), "img-da-img", profile="nhs")
    with pytest.raises(ValueError):
        validate_cda_root(etree.fromstring(build_da()), "kos")


def test_official_xsd_directory_option(corpus: Path) -> None:
    data = apply_mutation("xsd-element-inconnu", build_da())
    _, findings, _ = validate_cda(data, xsd_dir=corpus / "cda-xsd")
    hit = assert_fires(findings, "XSD.SCHEMAV_ELEMENT_CONTENT")
    assert "CDA_extended.xsd" in hit.reference


def test_schematron_knows_the_cda_kinds() -> None:
    assert [p.name for p in schematron.SCHEMATRONS["img-da-img"]] == ["img-da-img.sch"]
    assert [p.name for p in schematron.SCHEMATRONS["img-cr-img"]] == ["img-cr-img.sch"]
    assert CATALOGUE["IMGDA.ACTE.LOCALISATION.CARD"].kinds == ("img-da-img",)
    assert CATALOGUE["IMGCR.ENTETE.ACCESSION"].kinds == ("img-cr-img",)
    assert CATALOGUE["IMGDA.ACTE.LOCALISATION.CARD"].layer == "schematron"
    assert (
        schematron.readable_location(
            "/*[local-name()='ClinicalDocument' and namespace-uri()='urn:hl7-org:v3']"
            "/*[local-name()='accessionNumber' and namespace-uri()='urn:dicom-org:ps3-20']"
        )
        == "/hl7:ClinicalDocument/ps3-20:accessionNumber"
    )
    # the flux kinds are untouched
    assert all(rule.kinds[0].startswith("flux") for rule in CATALOGUE.values() if rule.id.startswith("RAD69."))


# ------------------------------------------------------------------------------------------ link keys


def test_report_keys_of_a_report() -> None:
    keys = report_keys(etree.fromstring(build_cr()))
    assert keys == ReportKeys(
        accession_number="ACC-0001",
        accession_issuer="1.2.250.1.999.3.1",
        study_instance_uid="1.2.250.1.999.4.1.20240202",
        order_number="DA-2024-0001",
        order_issuer="1.2.250.1.999.2.1",
        orders=(OrderKey("DA-2024-0001", "1.2.250.1.999.2.1", "ACC-0001", "1.2.250.1.999.3.1"),),
        study_instance_uids=("1.2.250.1.999.4.1.20240202",),
    )


def test_report_keys_of_a_request() -> None:
    keys = report_keys(etree.ElementTree(etree.fromstring(build_da())))
    assert (keys.order_number, keys.order_issuer) == ("DA-2024-0001", "1.2.250.1.999.2.1")
    assert (keys.accession_number, keys.accession_issuer, keys.study_instance_uid) == (None, None, None)
    assert keys.orders == (OrderKey("DA-2024-0001", "1.2.250.1.999.2.1"),)


def test_request_and_report_share_the_order_placer_number() -> None:
    request, report = report_keys(etree.fromstring(build_da())), report_keys(etree.fromstring(build_cr()))
    assert (request.order_number, request.order_issuer) == (report.order_number, report.order_issuer)


def test_report_keys_of_the_official_report(corpus: Path) -> None:
    keys = report_keys(etree.parse(str(CR_N3)).getroot())
    assert (keys.accession_number, keys.accession_issuer) == ("105234751", "1.2.250.1.925.994044785528.27")
    assert (keys.order_number, keys.order_issuer) == ("984375862", "1.2.250.1.748.12345678.12")
    assert keys.study_instance_uid == "1.2.250.1.925.994044.27.123.1876360"
    assert len(keys.orders) == 2 and keys.orders[1].accession_number == "105234752"
    assert len(keys.study_instance_uids) == 3


def test_report_keys_missing() -> None:
    report = etree.fromstring(apply_mutation("cr-sans-demande", build_cr()))
    keys = report_keys(report)
    assert (keys.accession_number, keys.order_number, keys.orders) == (None, None, ())
    assert keys.study_instance_uid == "1.2.250.1.999.4.1.20240202"
    assert report_keys(etree.fromstring(b"<foo/>")) == ReportKeys(None, None, None, None, None)


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "input is empty"),
        (b"%PDF-1.4\n...", "input is a PDF document"),
        (b"hello", "not XML"),
        (b'<?xml version="1.0"?><Document xmlns="urn:x"/>', "not a CDA document: the root element is 'Document'"),
        (b"<ClinicalDocument/>", "not a CDA document: the root element is 'ClinicalDocument' in no namespace"),
        (b'<ClinicalDocument xmlns="urn:hl7-org:v3">', "truncated XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><ClinicalDocument xmlns="urn:hl7-org:v3"/>',
            "entity declarations are refused",
        ),
    ],
)
def test_unreadable_input(data: bytes, reason: str) -> None:
    kind, findings, error = validate_cda(data)
    assert (kind, findings) == (None, [])
    assert error is not None and reason in error, error


def test_a_cda_of_another_model() -> None:
    other = build_da().replace(b'root="1.2.250.1.213.1.1.1.47"', b'root="1.2.3"').replace(b'"55115-0"', b'"11488-4"')
    kind, findings, error = validate_cda(other)
    assert (kind, findings) == (None, [])
    assert error is not None and error.startswith(NOT_AN_IMAGING_DOCUMENT) and "11488-4" in error


def test_byte_order_mark() -> None:
    kind, findings, error = validate_cda(b"\xef\xbb\xbf" + build_da())
    assert (kind, error) == ("img-da-img", None)
    assert_fires(findings, "CDA.ENCODAGE.BOM")
    assert errors(findings) == []


def test_wrong_encoding() -> None:
    latin1 = build_da().replace("prémédication".encode(), "prémédication".encode("latin-1"))
    kind, findings, error = validate_cda(latin1)
    assert kind is None and error is not None
    assert "encoding mismatch" in error and "ISO-8859-1" in error
    declared = build_da().decode().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
    kind, findings, error = validate_cda(declared)
    assert (kind, error) == ("img-da-img", None)
    assert_fires(findings, "CDA.ENCODAGE.UTF8")
    utf16 = build_da().decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert_fires(validate_cda(utf16)[1], "CDA.ENCODAGE.UTF8")


def test_fifty_megabytes() -> None:
    """A 50 MB request: read when its size is spread over the document; refused with a reason when one attached
    file is a single text node over the parser's 10 MB safety limit; above MAX_CDA_BYTES, refused unread."""
    paragraph = b"<paragraph>" + b"x" * 1000 + b"</paragraph>"
    spread = build_da().replace(b"<text/>", b"<text>" + paragraph * 50_000 + b"</text>", 1)
    assert len(spread) > 50_000_000
    kind, findings, error = validate_cda(spread)
    assert (kind, error, errors(findings)) == ("img-da-img", None, [])

    pdf = base64.b64encode(b"\0" * 38_000_000).decode()
    attached = build_da(attached_pdf=pdf)
    assert len(attached) > 50_000_000
    kind, findings, error = validate_cda(attached)
    assert kind is None and error is not None and "safety limits" in error

    assert MAX_CDA_BYTES < 70_000_000
    kind, findings, error = validate_cda(attached, max_bytes=50_000_000)
    assert error is not None and error.startswith("input is too large")


def test_validate_cda_never_raises_on_garbage() -> None:
    for data in (b"\x00\x01\x02", b"\xff\xfe<\x00", b"<a>" * 1000, bytes(range(256)), b"<ClinicalDocument"):
        kind, _findings, error = validate_cda(data)
        assert error is not None and kind in (None, *CDA_KINDS)
