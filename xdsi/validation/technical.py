"""Technical-framework format rules on ebRIM metadata: the data types of slots and external identifiers.

:func:`check_metadata_formats` walks every ``rim:RegistryObjectList`` under a message body (ITI-41
``ProvideAndRegisterDocumentSetRequest``, ITI-42/ITI-57 ``SubmitObjectsRequest``, ITI-18
``AdhocQueryResponse``) and checks the format of each value it knows (DTM, CX, CXi, XCN, XON, OID, UUID,
language, hash, size). Cardinalities and value-set membership are other layers' business.

Locations are XPaths from the body element, with the prefixes of :data:`NS`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator

from lxml import etree

from xdsi.ebrim.vocabulary import (
    DE_AUTHOR,
    DE_PATIENT_ID,
    DE_UNIQUE_ID,
    FOLDER_PATIENT_ID,
    FOLDER_UNIQUE_ID,
    REFERENCE_ID_LIST,
    SS_AUTHOR,
    SS_PATIENT_ID,
    SS_SOURCE_ID,
    SS_UNIQUE_ID,
)
from xdsi.model import formats as fmt
from xdsi.model.identifiers import (
    ACCESSION,
    ENCOUNTER_ID,
    ORDER,
    REFERRAL,
    STUDY_INSTANCE_UID,
    UNIQUE_ID,
    WORKFLOW_INSTANCE_ID,
)
from xdsi.namespaces import RIM
from xdsi.validation.findings import CATALOGUE, PROFILES, Finding, Severity, finding, register
from xdsi.xmlpaths import PREFIXES, xpath_of

LAYER = "technical"

#: namespace → prefix used in locations (the project's shared table, plus nothing of our own)
_PREFIX: dict[str, str] = dict(PREFIXES)
#: prefix → namespace
NS: dict[str, str] = {prefix: uri for uri, prefix in _PREFIX.items()}

PATIENT_ID_SCHEMES = {
    DE_PATIENT_ID: "XDSDocumentEntry.patientId",
    SS_PATIENT_ID: "XDSSubmissionSet.patientId",
    FOLDER_PATIENT_ID: "XDSFolder.patientId",
}
OID_ID_SCHEMES = {
    SS_UNIQUE_ID: "XDSSubmissionSet.uniqueId",
    SS_SOURCE_ID: "XDSSubmissionSet.sourceId",
    FOLDER_UNIQUE_ID: "XDSFolder.uniqueId",
}
DTM_SLOTS = ("creationTime", "serviceStartTime", "serviceStopTime", "submissionTime", "lastUpdateTime")
#: referenceIdList types defined by IHE = JDV_J197_XdsTypesIdentifiantsReferenceId_CISIS (xds-facts §2.5)
J197_TYPES = frozenset(
    {
        UNIQUE_ID,
        ACCESSION,
        REFERRAL,
        ORDER,
        WORKFLOW_INSTANCE_ID,
        STUDY_INSTANCE_UID,
        ENCOUNTER_ID,
    }
)
#: JDV_J231_XdsTypesIdentifiantsReferenceId_DMP
J231_TYPES = frozenset({ACCESSION, ORDER, STUDY_INSTANCE_UID})
#: codingScheme values that are not OIDs but are in use (TRE_A10 ``URN``, TRE_A12 ``ASTM``, DICOM ``DCM``)
SYMBOLIC_CODING_SCHEMES = frozenset({"URN", "ASTM", "DCM"})
UNIQUE_ID_MAX = 128
DICOM_MIME = "application/dicom"

_KINDS = ("flux1", "flux3", "flux6")
_REF_TYPES = "IHE ITI TF-3 4.2.3.1.7 (metadata data types)"


def _rule(
    rule_id: str,
    severity: Severity,
    reference: str,
    text: str,
    profiles: tuple[str, ...] = PROFILES,
    profile_severity: dict[str, Severity] | None = None,
) -> str:
    register(rule_id, severity, _KINDS, reference, text, LAYER, profiles, profile_severity)
    return rule_id


R_DTM = _rule(
    "MD.DTM",
    "error",
    f"{_REF_TYPES} DTM; ITI TF-3 Table 4.2.3.2-1 creationTime/serviceStartTime/serviceStopTime, "
    "Table 4.2.3.3-1 submissionTime, Table 4.2.3.4-1 lastUpdateTime",
    "Date/time slots are DTM: YYYY[MM[DD[hh[mm[ss]]]]] in UTC, digits only, a real date.",
)
R_PATIENT_ID = _rule(
    "MD.PATIENTID.CX",
    "error",
    f"{_REF_TYPES} CX; ITI TF-3 4.2.3.2.16 DocumentEntry.patientId; CI-SIS INS ^NH (xds-facts §2.4, §8.2)",
    "patientId is a CX ID^^^&OID&ISO (profile cisis/dmp: with CX.5 NH; dmp: also CX.7 date).",
)
R_SOURCE_PATIENT_ID = _rule(
    "MD.SOURCEPATIENTID.CX",
    "error",
    f"{_REF_TYPES} CX; ITI TF-3 4.2.3.2.23 DocumentEntry.sourcePatientId; DMP IPP …^PI (xds-facts §8.2)",
    "sourcePatientId is a CX ID^^^&OID&ISO (profile cisis/dmp: with an identifier type code in CX.5).",
)
R_UNIQUE_ID_DOC = _rule(
    "MD.UNIQUEID.DOC",
    "error",
    "IHE ITI TF-3 4.2.3.2.26 DocumentEntry.uniqueId (OID or OID^extension, at most 128 characters)",
    "DocumentEntry.uniqueId is an OID (≤ 64) or OID^extension, at most 128 characters.",
)
R_UNIQUE_ID_DMP = _rule(
    "MD.UNIQUEID.DOC.DMP",
    "error",
    "CI-SIS Structuration minimale §3.5.5.4 (the DMP does not accept OID^extension as uniqueId)",
    "In the DMP, DocumentEntry.uniqueId is a plain OID (no ^extension).",
    profiles=("dmp",),
)
R_OID_ID = _rule(
    "MD.UNIQUEID.OID",
    "error",
    "IHE ITI TF-3 4.2.3.3.12 SubmissionSet.uniqueId, 4.2.3.3.9 SubmissionSet.sourceId, 4.2.3.4.9 Folder.uniqueId (OID)",
    "SubmissionSet.uniqueId, SubmissionSet.sourceId and Folder.uniqueId are OIDs.",
)
R_XCN = _rule(
    "MD.XCN",
    "error",
    f"{_REF_TYPES} XCN; ITI TF-3 4.2.3.1.4.2 authorPerson, 4.2.3.2.14 legalAuthenticator; "
    "CI-SIS form id^NOM^Prénom^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS (xds-facts §2.4)",
    "authorPerson and legalAuthenticator are XCN: an id with its assigning authority, or a family name.",
)
R_XON = _rule(
    "MD.XON",
    "error",
    f"{_REF_TYPES} XON; ITI TF-3 4.2.3.1.4.1 authorInstitution; "
    "CI-SIS form Nom^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^id (xds-facts §2.4)",
    "authorInstitution is XON: the name, and the id's assigning authority &OID&ISO when an id is given.",
)
R_LANGUAGE = _rule(
    "MD.LANGUAGE",
    "error",
    "IHE ITI TF-3 4.2.3.2.13 DocumentEntry.languageCode (RFC 3066 / RFC 5646)",
    "languageCode is a language tag such as fr-FR.",
)
R_HASH = _rule(
    "MD.HASH",
    "error",
    "IHE ITI TF-3 4.2.3.2.11 DocumentEntry.hash (SHA-1, hexadecimal)",
    "hash is the SHA-1 of the document: 40 hexadecimal digits.",
)
R_SIZE = _rule(
    "MD.SIZE",
    "error",
    "IHE ITI TF-3 4.2.3.2.20 DocumentEntry.size (integer, bytes)",
    "size is a non-negative integer.",
)
R_REPOSITORY = _rule(
    "MD.REPOSITORYUNIQUEID",
    "error",
    "IHE ITI TF-3 4.2.3.2.18 DocumentEntry.repositoryUniqueId (OID)",
    "repositoryUniqueId is an OID.",
)
R_CODING_SCHEME = _rule(
    "MD.CODINGSCHEME",
    "warning",
    "IHE ITI TF-3 4.2.3.1.2 (coded values: codingScheme slot); CI-SIS code systems by OID, TRE_A10 URN, "
    "TRE_A12 ASTM (xds-facts §2.2, §8.1)",
    "The codingScheme of a code is an OID (or one of the symbolic schemes URN, ASTM, DCM).",
    profile_severity={"ihe": "info"},
)
R_REFID_CXI = _rule(
    "MD.REFID.CXI",
    "error",
    f"{_REF_TYPES} CXi; ITI TF-3 Table 4.2.3.2-1 referenceIdList",
    "Each referenceIdList value is a CXi: id^^^[&OID&ISO]^type-URN[^facility].",
)
R_REFID_TYPE = _rule(
    "MD.REFID.TYPE",
    "error",
    "ITI TF-3 Table 4.2.3.2-1 referenceIdList (CXi.5); JDV_J197 (CI-SIS), JDV_J231 (DMP) (xds-facts §2.5)",
    "The referenceIdList type is in JDV_J197 (cisis) / JDV_J231 (dmp: accession, order, studyInstanceUID).",
    profile_severity={"ihe": "warning"},
)
R_REFID_ACCESSION_AA = _rule(
    "MD.REFID.ACCESSION.AA",
    "warning",
    "IHE RAD TF-3 4.68.4.1.2.3.2 (accession number with its issuer, CXi.4); PEI §5.1.2 Tableau 12 "
    "listeIdentifiantsReference.numeroDeDemandeSIR",
    "An accession-number reference id carries its assigning authority &OID&ISO (CXi.4).",
)
R_STUDY_UID_FORMAT = _rule(
    "MD.REFID.STUDYUID.FORMAT",
    "error",
    "DICOM PS3.5 §9.1 (UID: digits and dots, ≤ 64 characters); IHE RAD MADO, CI-SIS studyInstanceUID",
    "A studyInstanceUID reference id is a DICOM UID (OID form, at most 64 characters).",
)
R_ENTRY_UUID = _rule(
    "MD.ENTRYUUID",
    "error",
    "IHE ITI TF-3 4.2.3.2.8 entryUUID, 4.1.12.3 (symbolic ids in submissions), ebRIM 3.0 rim.xsd "
    "(Identifiable/@id); registry responses carry urn:uuid ids",
    "Object ids are urn:uuid:<UUID> (symbolic ids only in submissions); lid and references likewise.",
)
R_ASSOCIATION_ID = _rule(
    "MD.ASSOCIATION.ID",
    "error",
    "ebRIM 3.0 rim.xsd (Identifiable/@id required); IPF ValidationMessage.ASSOCIATION_ID_MISSING",
    "Every Association has an @id.",
)

RULES = (
    R_DTM,
    R_PATIENT_ID,
    R_SOURCE_PATIENT_ID,
    R_UNIQUE_ID_DOC,
    R_UNIQUE_ID_DMP,
    R_OID_ID,
    R_XCN,
    R_XON,
    R_LANGUAGE,
    R_HASH,
    R_SIZE,
    R_REPOSITORY,
    R_CODING_SCHEME,
    R_REFID_CXI,
    R_REFID_TYPE,
    R_REFID_ACCESSION_AA,
    R_STUDY_UID_FORMAT,
    R_ENTRY_UUID,
    R_ASSOCIATION_ID,
)

# --------------------------------------------------------------------------------------------------
# Locations

#: Elements that always get a position predicate (they are lists in ebRIM).
_ALWAYS_INDEX = frozenset(
    {
        "ExtrinsicObject",
        "RegistryPackage",
        "Association",
        "Classification",
        "ExternalIdentifier",
        "ObjectRef",
        "Value",
        "Document",
        "DocumentRequest",
        "RegistryError",
    }
)


def _step(el: etree._Element) -> str:
    qname = etree.QName(el)
    prefix = _PREFIX.get(qname.namespace or "")
    local = qname.localname
    if qname.namespace and prefix is None:
        name = f"*[local-name()='{local}']"
    else:
        name = f"{prefix}:{local}" if prefix else local
    parent = el.getparent()
    if parent is None:
        return name
    if local == "Slot" and el.get("name") is not None:
        slot_name = el.get("name", "")
        same = [s for s in parent if s.tag == el.tag and s.get("name") == slot_name]
        quote = '"' if "'" in slot_name else "'"
        pred = f"[@name={quote}{slot_name}{quote}]"
        return name + pred + (f"[{same.index(el) + 1}]" if len(same) > 1 else "")
    same = [s for s in parent if s.tag == el.tag]
    if len(same) > 1 or local in _ALWAYS_INDEX:
        return f"{name}[{same.index(el) + 1}]"
    return name


def element_xpath(el: etree._Element, root: etree._Element | None = None) -> str:
    """XPath of ``el`` from ``root`` (the body element; default the document root), e.g.
    ``/lcm:SubmitObjectsRequest/rim:RegistryObjectList/rim:ExtrinsicObject[2]/rim:Slot[@name='x']``."""
    steps: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        steps.append(_step(node))
        if node is root:
            break
        node = node.getparent()
    return "/" + "/".join(reversed(steps))


# --------------------------------------------------------------------------------------------------
# Walking


def _q(local: str) -> str:
    return f"{{{RIM}}}{local}"


def _slot_values(slot: etree._Element) -> Iterator[etree._Element]:
    yield from slot.iterfind(f"{_q('ValueList')}/{_q('Value')}")


def _direct_slots(obj: etree._Element, name: str) -> list[etree._Element]:
    return [s for s in obj.iterfind(_q("Slot")) if s.get("name") == name]


def _text(el: etree._Element) -> str:
    return el.text or ""


class _Checker:
    def __init__(self, root: etree._Element, kind: str, profile: str) -> None:
        self.root = root
        self.kind = kind
        self.profile = profile
        self.findings: list[Finding] = []
        # symbolic ids are allowed in submissions (ITI-41/42/57); a registry answers with urn:uuid ids
        self.symbolic_ok = kind != "flux6"

    def add(self, rule_id: str, el: etree._Element, message: str, attribute: str | None = None) -> None:
        if self.profile not in CATALOGUE[rule_id].profiles:
            return
        loc = element_xpath(el, self.root) + (f"/@{attribute}" if attribute else "")
        self.findings.append(finding(rule_id, loc, message, self.profile))

    # -- values ----------------------------------------------------------------------------------

    def values(self, slot: etree._Element, rule_id: str, check: Callable[[str], str | None], label: str) -> None:
        for value in _slot_values(slot):
            text = _text(value)
            problem = check(text)
            if problem:
                self.add(rule_id, value, f"{label} {text!r}: {problem}")

    def check_id(self, el: etree._Element, attribute: str, what: str, symbolic_ok: bool | None = None) -> None:
        value = el.get(attribute)
        if value is None:
            return
        symbolic = self.symbolic_ok if symbolic_ok is None else symbolic_ok
        if value.lower().startswith("urn:uuid:"):
            problem = fmt.check_uuid_urn(value)
        elif not symbolic:
            problem = f"{value!r} is not a urn:uuid: id (symbolic ids are only allowed in submissions)"
        elif not value or re.search(r"\s", value):
            problem = f"{value!r} is neither a urn:uuid: id nor a symbolic id (no spaces, not empty)"
        else:
            problem = None
        if problem:
            self.add(R_ENTRY_UUID, el, f"{what} @{attribute}: {problem}", attribute)

    # -- objects ---------------------------------------------------------------------------------

    def run(self) -> list[Finding]:
        for rol in self.root.iter(_q("RegistryObjectList")):
            for obj in rol:
                if not isinstance(obj.tag, str):
                    continue
                local = etree.QName(obj).localname
                if local == "ExtrinsicObject":
                    self.document_entry(obj)
                elif local == "RegistryPackage":
                    self.package(obj)
                elif local == "Association":
                    self.association(obj)
                elif local == "ObjectRef":
                    self.check_id(obj, "id", "ObjectRef", symbolic_ok=False)
                elif local == "Classification":
                    self.classification(obj)
                elif local == "ExternalIdentifier":
                    self.external_identifier(obj)
        return self.findings

    def common(self, obj: etree._Element, what: str) -> None:
        self.check_id(obj, "id", what)
        lid = obj.get("lid")
        if lid is not None and lid != obj.get("id"):
            self.check_id(obj, "lid", what, symbolic_ok=False)
        for name in DTM_SLOTS:
            for slot in _direct_slots(obj, name):
                self.values(slot, R_DTM, fmt.check_dtm, name)
        for cl in obj.iterfind(_q("Classification")):
            self.classification(cl)
        for ei in obj.iterfind(_q("ExternalIdentifier")):
            self.external_identifier(ei)

    def document_entry(self, de: etree._Element) -> None:
        self.common(de, "ExtrinsicObject")
        for slot in _direct_slots(de, "languageCode"):
            self.values(slot, R_LANGUAGE, fmt.check_language, "languageCode")
        for slot in _direct_slots(de, "hash"):
            self.values(slot, R_HASH, fmt.check_hash, "hash")
        for slot in _direct_slots(de, "size"):
            self.values(slot, R_SIZE, fmt.check_int, "size")
        for slot in _direct_slots(de, "repositoryUniqueId"):
            self.values(slot, R_REPOSITORY, fmt.check_oid, "repositoryUniqueId")
        for slot in _direct_slots(de, "legalAuthenticator"):
            self.values(slot, R_XCN, fmt.check_xcn, "legalAuthenticator")
        for slot in _direct_slots(de, "sourcePatientId"):
            self.values(
                slot,
                R_SOURCE_PATIENT_ID,
                lambda v: fmt.check_cx(v, self.profile, source=True),
                "sourcePatientId",
            )
        slots = _direct_slots(de, REFERENCE_ID_LIST)
        if slots:
            self.reference_ids(de, slots)

    def reference_ids(self, de: etree._Element, slots: list[etree._Element]) -> None:
        allowed = J231_TYPES if self.profile == "dmp" else J197_TYPES
        jdv = "JDV_J231 (DMP)" if self.profile == "dmp" else "JDV_J197"
        for slot in slots:
            for value in _slot_values(slot):
                text = _text(value)
                problem = fmt.check_cxi(text)
                if problem:
                    self.add(R_REFID_CXI, value, f"referenceIdList value {text!r}: {problem}")
                ident, oid, id_type = fmt.parse_cxi(text)
                if id_type and id_type not in allowed:
                    self.add(R_REFID_TYPE, value, f"reference id type {id_type!r} is not in {jdv}")
                if id_type == ACCESSION and oid is None:
                    self.add(
                        R_REFID_ACCESSION_AA,
                        value,
                        f"accession number {ident!r} has no assigning authority (CXi.4 &OID&ISO)",
                    )
                if id_type == STUDY_INSTANCE_UID:
                    uid_problem = fmt.check_oid(ident)
                    if uid_problem:
                        self.add(R_STUDY_UID_FORMAT, value, f"studyInstanceUID {ident!r}: {uid_problem}")

    def package(self, rp: etree._Element) -> None:
        self.common(rp, "RegistryPackage")

    def association(self, assoc: etree._Element) -> None:
        if not assoc.get("id"):
            self.add(R_ASSOCIATION_ID, assoc, "Association without @id")
        else:
            self.check_id(assoc, "id", "Association")
        for attribute in ("sourceObject", "targetObject"):
            self.check_id(assoc, attribute, "Association")

    def classification(self, cl: etree._Element) -> None:
        scheme = cl.get("classificationScheme")
        if scheme in (DE_AUTHOR, SS_AUTHOR):
            for slot in _direct_slots(cl, "authorPerson"):
                self.values(slot, R_XCN, fmt.check_xcn, "authorPerson")
            for slot in _direct_slots(cl, "authorInstitution"):
                self.values(slot, R_XON, lambda v: fmt.check_xon(v, self.profile), "authorInstitution")
            return
        for slot in _direct_slots(cl, "codingScheme"):
            for value in _slot_values(slot):
                text = _text(value)
                if text in SYMBOLIC_CODING_SCHEMES:
                    continue
                problem = fmt.check_oid(text)
                if problem:
                    self.add(
                        R_CODING_SCHEME,
                        value,
                        f"codingScheme {text!r} of code {cl.get('nodeRepresentation')!r}: {problem}, nor one "
                        f"of the symbolic schemes {', '.join(sorted(SYMBOLIC_CODING_SCHEMES))}",
                    )

    def external_identifier(self, ei: etree._Element) -> None:
        scheme = ei.get("identificationScheme")
        value = ei.get("value")
        if value is None:
            return
        if scheme in PATIENT_ID_SCHEMES:
            problem = fmt.check_cx(value, self.profile)
            if problem:
                self.add(
                    R_PATIENT_ID,
                    ei,
                    f"{PATIENT_ID_SCHEMES[scheme]} {value!r}: {problem}",
                    "value",
                )
        elif scheme == DE_UNIQUE_ID:
            problem = check_document_unique_id(value)
            if problem:
                self.add(R_UNIQUE_ID_DOC, ei, f"XDSDocumentEntry.uniqueId {value!r}: {problem}", "value")
            elif "^" in value:
                self.add(
                    R_UNIQUE_ID_DMP,
                    ei,
                    f"XDSDocumentEntry.uniqueId {value!r} has an ^extension; the DMP takes a plain OID",
                    "value",
                )
        elif scheme in OID_ID_SCHEMES:
            problem = fmt.check_oid(value)
            if problem:
                self.add(R_OID_ID, ei, f"{OID_ID_SCHEMES[scheme]} {value!r}: {problem}", "value")


def check_document_unique_id(value: str) -> str | None:
    """DocumentEntry.uniqueId: ``OID`` or ``OID^extension``, at most 128 characters."""
    if len(value) > UNIQUE_ID_MAX:
        return f"longer than {UNIQUE_ID_MAX} characters ({len(value)})"
    root, sep, extension = value.partition("^")
    problem = fmt.check_oid(root)
    if problem:
        return problem
    if sep and (not extension or "^" in extension or re.search(r"\s", extension)):
        return f"extension {extension!r} is empty or contains ^ or spaces"
    return None


def check_metadata_formats(body_root: etree._Element, kind: str, profile: str) -> list[Finding]:
    """Format findings for every object of every ``rim:RegistryObjectList`` under ``body_root``.

    ``kind``: flux1/flux3 (submissions: symbolic ids allowed) or flux6 (query response: urn:uuid ids).
    ``profile``: cisis | dmp | ihe (patient id CX conventions, reference-id types, XON form)."""
    return _Checker(body_root, kind, profile).run()


R_DOCUMENT_BASE64 = "XDSB.DOCUMENT.BASE64"
register(
    R_DOCUMENT_BASE64,
    "error",
    ("flux1", "flux8", "flux10"),
    "IHE ITI TF-2 3.41.4.1.2, 3.43.4.2.2 (xdsb:Document is xs:base64Binary, or an xop:Include with MTOM); "
    "RFC 2045 §6.8 base64",
    "An xdsb:Document written inline holds valid base64.",
    LAYER,
)


def check_inline_documents(body_root: etree._Element, profile: str = "cisis") -> list[Finding]:
    """Inline ``xdsb:Document`` content must decode as base64 (libxml2 lets some invalid text through)."""
    out = []
    for doc in body_root.iter(f"{{{NS['xdsb']}}}Document"):
        if len(doc) or not (doc.text or "").strip():
            continue
        text = "".join((doc.text or "").split())
        try:
            base64.b64decode(text, validate=True)
        except ValueError:
            shown = text if len(text) <= 40 else text[:37] + "..."
            out.append(
                finding(R_DOCUMENT_BASE64, xpath_of(doc), f"xdsb:Document content is not base64: {shown!r}", profile)
            )
    return out
