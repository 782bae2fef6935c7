"""KOS rules: the XDS-I.b manifest on its own, against its DocumentEntry, its study, and what a retrieve returned.

* :func:`validate_kos` — a DICOM file given as a KOS (``xdsi validate --as kos``): Part 10 header, IOD
  (PS3.3 A.35.4), Key Object Document module (C.17.6.2.1), TID 2010 content, XDS-I.b retrieve information
  (RAD TF-3 4.68.4.1.2.3, NIST ValidateKOS), CI-SIS / DMP identification (INS, accession and order with their
  issuers). Unreadable input returns ``([], reason)``; locations are DICOM tag paths such as
  ``(0040,A375)[1]/(0008,1115)[1]/(0008,1199)[2]/(0008,1155)``.
* :func:`check_kos_against_entry` — the KOS and its DocumentEntry (uniqueId, patient, study UID, accession,
  order, modalities and regions of the referenced series, creation and service times).
* :func:`check_kos_against_study` — the KOS and the study it references (identity, instances).
* :func:`check_retrieved` — Flux 10: every referenced instance received, nothing more.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from urllib.parse import urlparse

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

from xdsi.dicom import vocab
from xdsi.dicom.kos import KosError, KosInfo, dicom_datetime, kos_info_from_dataset, read_dataset
from xdsi.dicom.study import StudyInfo, nir_key
from xdsi.dicom.vocab import tag_path, tag_str
from xdsi.model.identifiers import CX, ReferenceId
from xdsi.model.metadata import DocumentEntry
from xdsi.validation.findings import CATALOGUE, PROFILES, Finding, Severity, finding, register

LAYER = "kos"
KOS_KINDS = ("kos",)
ENTRY_KINDS = ("kos", "flux1", "flux8")
RETRIEVE_KINDS = ("flux10",)

R_IOD = "DICOM PS3.3 A.35.4 (Key Object Selection Document IOD)"
R_KODOC = "DICOM PS3.3 C.17.6.2.1 (Key Object Document Module)"
R_CONTENT = "DICOM PS3.3 C.17.3 (SR Document Content Module); PS3.16 TID 2010 (Key Object Selection)"
R_PART10 = "DICOM PS3.10 §7.1 (DICOM File Meta Information); IHE RAD-68 RAD68-003 (KOS as DICOM Part 10)"
R_VR = "DICOM PS3.5 §6.2 (Value Representations)"
R_CHARSET = "DICOM PS3.5 §6.1.2.3 and PS3.3 C.12.1.1.2 (Specific Character Set)"
R_XDSI = "IHE RAD TF-3 4.68.4.1.2.3 (XDS-I.b manifest: Referenced Series retrieve information)"
R_NIST = "NIST XDS-I.b ValidateKOS (ids_4801 readme, quoting IHE RAD TF-3 4.68.4.1.2.3) (xds-facts §7.2)"
R_CISIS = (
    "CI-SIS PEI §5.1.2 Tableau 12 (accession, study UID, order of the exam referenced by the KOS); ANS DRIM-M "
    "KOS example and DRIMbox KOSFile (cisis-content §3.1, xds-facts §7.2)"
)
R_INS = (
    "CI-SIS identification by the INS: OIDs 1.2.250.1.213.1.4.8/.9/.10/.11 (xds-facts §8.2); ANS DRIM-M KOS "
    "and DRIMbox KOSFile (Issuer of Patient ID ASIP-SANTE-INS-NIR, qualifiers UEID = INS OID, ISO)"
)
R_DE = "IHE RAD TF-3 4.68.4.1.2.3.2 (KOS DocumentEntry metadata, as quoted by NIST); PEI §5.1.2 Tableau 12"
R_RAD69 = "IHE RAD TF-3 4.69 (RAD-69 Retrieve Imaging Document Set); PEI §5.9-5.10 (Flux 9/10, Tableau 16)"


def _rule(
    rule_id: str,
    severity: Severity,
    reference: str,
    text: str,
    kinds: tuple[str, ...] = KOS_KINDS,
    profiles: tuple[str, ...] = PROFILES,
    profile_severity: dict[str, Severity] | None = None,
) -> str:
    register(rule_id, severity, kinds, reference, text, LAYER, profiles, profile_severity)
    return rule_id


# --- the file --------------------------------------------------------------------------------------------------
R_PART10_HEADER = _rule("KOS.PART10", "error", R_PART10, "The KOS is a DICOM Part 10 file (preamble, DICM, meta).")
R_META = _rule(
    "KOS.META.MISMATCH",
    "error",
    R_PART10,
    "Media Storage SOP Class/Instance UID (0002,0002/0003) equal SOP Class/Instance UID (0008,0016/0018).",
)
R_SOPCLASS = _rule(
    "KOS.SOPCLASS",
    "error",
    f"{R_IOD}; {R_NIST}",
    "SOP Class UID (0008,0016) is Key Object Selection Document Storage 1.2.840.10008.5.1.4.1.1.88.59.",
)
R_MODALITY = _rule("KOS.MODALITY", "error", f"{R_IOD} (Key Object Document Series); {R_NIST}", "Modality is KO.")
R_TYPE1 = _rule("KOS.IOD.TYPE1", "error", R_IOD, "Type 1 attributes of the KOS IOD are present with a value.")
R_TYPE2 = _rule("KOS.IOD.TYPE2", "error", R_IOD, "Type 2 attributes of the KOS IOD are present (possibly empty).")
R_VR_INVALID = _rule("KOS.VR", "error", R_VR, "DA, TM, DT, UI, AE, CS, IS and DS values follow their VR.")
R_CHARSET_RULE = _rule(
    "KOS.CHARSET",
    "error",
    R_CHARSET,
    "Text with characters outside the default repertoire needs Specific Character Set (0008,0005).",
)
# --- the document ------------------------------------------------------------------------------------------------
R_SERIES_OWN = _rule(
    "KOS.SERIES.OWN",
    "error",
    f"{R_NIST}; {R_IOD}",
    "The KOS is in its own series: its Series Instance UID is none of the referenced series.",
)
R_TITLE = _rule(
    "KOS.TITLE",
    "error",
    f"{R_XDSI}; {R_CISIS}; PS3.16 CID 7010",
    'The document title (0040,A043) is (113030, DCM, "Manifest").',
)
R_ROOT = _rule(
    "KOS.ROOT",
    "error",
    R_CONTENT,
    "The root content item is a CONTAINER with a Continuity Of Content and no value of another value type.",
)
R_TEMPLATE = _rule(
    "KOS.TEMPLATE",
    "info",
    R_CONTENT,
    "Content Template Sequence (0040,A504) names TID 2010 (DCMR); the ANS examples omit it.",
)
# --- evidence -------------------------------------------------------------------------------------------------
R_EVIDENCE_MISSING = _rule(
    "KOS.EVIDENCE.MISSING",
    "error",
    f"{R_KODOC}; IHE RAD-68 RAD68-008",
    "Current Requested Procedure Evidence Sequence (0040,A375) lists the referenced instances.",
)
R_EVIDENCE_STUDYUID = _rule(
    "KOS.EVIDENCE.STUDYUID",
    "error",
    f"{R_KODOC}; {R_NIST}",
    "The evidence study item names the KOS's Study Instance UID (the study of the referenced images).",
)
R_EVIDENCE_MULTISTUDY = _rule(
    "KOS.EVIDENCE.MULTISTUDY",
    "warning",
    f"{R_CISIS} (DRIMbox rejects a KOS with more than one study)",
    "The evidence holds exactly one study.",
    profile_severity={"ihe": "info"},
)
R_EVIDENCE_SERIES = _rule(
    "KOS.EVIDENCE.SERIES",
    "error",
    f"{R_KODOC} (Hierarchical Series Reference Macro)",
    "Each study item lists series; each series item has its Series Instance UID and Referenced SOP items.",
)
R_EVIDENCE_SOP = _rule(
    "KOS.EVIDENCE.SOP",
    "error",
    f"{R_KODOC} (Hierarchical SOP Instance Reference Macro)",
    "Each Referenced SOP item has Referenced SOP Class UID and Referenced SOP Instance UID.",
)
R_EVIDENCE_DUPLICATE = _rule(
    "KOS.EVIDENCE.DUPLICATE",
    "warning",
    R_KODOC,
    "No instance or series is listed twice in the evidence.",
)
R_EVIDENCE_UNREFERENCED = _rule(
    "KOS.EVIDENCE.UNREFERENCED",
    "warning",
    f"{R_KODOC}; {R_CONTENT}",
    "Every instance of the evidence is referenced by a content item (the evidence is the content's full set).",
)
R_CONTENT_UNLISTED = _rule(
    "KOS.CONTENT.UNLISTED",
    "error",
    R_KODOC,
    "Every instance the content tree references is listed in the evidence sequence.",
)
R_CONTENT_EMPTY = _rule(
    "KOS.CONTENT.EMPTY",
    "error",
    R_CONTENT,
    "The content tree references at least one object (IMAGE, COMPOSITE or WAVEFORM item).",
)
R_CONTENT_SOPCLASS = _rule(
    "KOS.CONTENT.SOPCLASS",
    "error",
    R_KODOC,
    "A content item and the evidence give the same SOP class for an instance.",
)
R_CONTENT_RELATIONSHIP = _rule(
    "KOS.CONTENT.RELATIONSHIP",
    "error",
    R_CONTENT,
    "Content items under the root are CONTAINS (or HAS OBS CONTEXT / HAS CONCEPT MOD) as TID 2010 allows.",
)
R_CONTENT_ITEM = _rule(
    "KOS.CONTENT.ITEM",
    "error",
    R_CONTENT,
    "Each content item has a value type and the value it announces (Referenced SOP Sequence, Text Value).",
)
# --- retrieve information ---------------------------------------------------------------------------------------
R_NORETRIEVE = _rule(
    "KOS.SERIES.NORETRIEVE",
    "error",
    f"{R_XDSI}; {R_NIST}",
    "Each referenced series says where to retrieve it: Retrieve AE Title, Retrieve Location UID or Retrieve URL.",
)
R_RETRIEVE_AE = _rule(
    "KOS.SERIES.RETRIEVEAE",
    "error",
    f"{R_XDSI}; {R_NIST}",
    "Each Referenced Series item has a non-empty Retrieve AE Title (0008,0054) (DICOM retrieve, Flux 9/10).",
    profile_severity={"cisis": "warning", "dmp": "warning"},
)
R_RETRIEVE_LOCATION = _rule(
    "KOS.SERIES.RETRIEVELOCATION",
    "error",
    f"{R_XDSI}; {R_NIST}",
    "Each Referenced Series item has Retrieve Location UID (0040,E011) = the Imaging Document Source's "
    "repositoryUniqueId (RAD-69).",
    profile_severity={"cisis": "warning", "dmp": "warning"},
)
R_RETRIEVE_URL = _rule(
    "KOS.SERIES.RETRIEVEURL",
    "warning",
    f"{R_XDSI} (WADO-RS); {R_CISIS} (DRIMbox retrieves by the series Retrieve URL)",
    "Each Referenced Series item has a Retrieve URL (0008,1190) (WADO-RS series endpoint).",
    profile_severity={"ihe": "info"},
)
R_RETRIEVE_URL_SYNTAX = _rule(
    "KOS.SERIES.RETRIEVEURL.SYNTAX",
    "error",
    f"{R_VR} (UR); {R_XDSI}",
    "A Retrieve URL is an absolute http(s) URL.",
)
R_RETRIEVE_URL_SERIES = _rule(
    "KOS.SERIES.RETRIEVEURL.SERIES",
    "warning",
    f"DICOM PS3.18 (WADO-RS series resource); {R_CISIS}",
    "A series Retrieve URL is the WADO-RS resource of that series: …/studies/{study}/series/{series}.",
)
R_RETRIEVE_URL_TOP = _rule(
    "KOS.RETRIEVEURL.TOPLEVEL",
    "warning",
    R_IOD,
    "Retrieve URL belongs in the Referenced Series items, not at the top level of the KOS.",
)
# --- request ---------------------------------------------------------------------------------------------------
_CISIS_STRICT: dict[str, Severity] = {"ihe": "warning"}
R_REQUEST_MISSING = _rule(
    "KOS.REQUEST.MISSING",
    "error",
    f"{R_KODOC} (Referenced Request Sequence 0040,A370); {R_CISIS}",
    "Referenced Request Sequence (0040,A370) carries the exam's request (accession, order).",
    profile_severity=_CISIS_STRICT,
)
R_REQUEST_ACCESSION = _rule(
    "KOS.REQUEST.ACCESSION",
    "error",
    f"{R_CISIS}; {R_NIST}",
    "Each Referenced Request item has a non-empty Accession Number (0008,0050).",
    profile_severity=_CISIS_STRICT,
)
R_REQUEST_ACCESSION_ISSUER = _rule(
    "KOS.REQUEST.ACCESSION_ISSUER",
    "error",
    f"{R_CISIS}; IHE RAD TF-3 4.68.4.1.2.3.2 (accession with its issuer OID)",
    "The accession number has Issuer of Accession Number Sequence (0008,0051) with a Universal Entity ID, type ISO.",
    profile_severity=_CISIS_STRICT,
)
R_REQUEST_ORDER = _rule(
    "KOS.REQUEST.ORDER",
    "error",
    R_CISIS,
    "Each Referenced Request item has a non-empty Placer Order Number / Imaging Service Request (0040,2016).",
    profile_severity=_CISIS_STRICT,
)
R_REQUEST_ORDER_ISSUER = _rule(
    "KOS.REQUEST.ORDER_ISSUER",
    "error",
    R_CISIS,
    "The placer order number has Order Placer Identifier Sequence (0040,0026) with a Universal Entity ID, type ISO.",
    profile_severity=_CISIS_STRICT,
)
R_REQUEST_STUDYUID = _rule(
    "KOS.REQUEST.STUDYUID",
    "error",
    R_KODOC,
    "Each Referenced Request item names the KOS's Study Instance UID.",
)
R_ISSUER_OID = _rule(
    "KOS.ISSUER.OID",
    "error",
    f"{R_VR} (UT as an ISO OID); DICOM PS3.3 10.14 (Issuer of … Universal Entity ID Type ISO)",
    "A Universal Entity ID of type ISO is an OID.",
)
R_ISSUER_CODESYSTEM = _rule(
    "KOS.ISSUER.CODESYSTEM",
    "warning",
    f"{R_CISIS}; ITI TF-3 CXi.4 (assigning authority of the identifier)",
    "An issuer of accession or order number is an organisation's OID, not a code system's (SNOMED CT, LOINC…).",
)
R_STUDY_ACCESSION_EMPTY = _rule(
    "KOS.STUDY.ACCESSION_EMPTY",
    "warning",
    f"{R_NIST} (Accession Number identical to the images)",
    "The top-level Accession Number (0008,0050) repeats the exam's accession number.",
)
R_STUDY_ACCESSION_MISMATCH = _rule(
    "KOS.STUDY.ACCESSION_MISMATCH",
    "error",
    R_NIST,
    "The top-level Accession Number is one of the Referenced Request Sequence's accession numbers.",
)
# --- patient ---------------------------------------------------------------------------------------------------
R_PATIENT_ID = _rule("KOS.PATIENT.ID", "error", f"{R_IOD} (Patient Module); {R_NIST}", "Patient ID has a value.")
R_PATIENT_INS_ISSUER = _rule(
    "KOS.PATIENT.INS_ISSUER",
    "error",
    R_INS,
    "The patient is identified by the INS: Issuer of Patient ID Qualifiers Sequence (0010,0024) with Universal "
    "Entity ID = an INS OID and type ISO.",
    profiles=("cisis", "dmp"),
)
R_PATIENT_INS_FORMAT = _rule(
    "KOS.PATIENT.INS_FORMAT",
    "error",
    f"{R_INS}; NIR: 13 characters + 2-digit key (97 - n mod 97)",
    "An INS Patient ID is a NIR of 15 characters whose key is right.",
    profiles=("cisis", "dmp"),
)
R_PATIENT_ISSUER_TEXT = _rule(
    "KOS.PATIENT.ISSUER_TEXT",
    "info",
    R_INS,
    "Issuer of Patient ID (0010,0021) of an INS is ASIP-SANTE-INS-NIR, as the ANS examples and DRIMbox write it.",
    profiles=("cisis", "dmp"),
)
# --- KOS vs DocumentEntry --------------------------------------------------------------------------------------
R_DE_UNIQUEID = _rule(
    "KOSDE.UNIQUEID.MISMATCH",
    "error",
    f"{R_DE} (uniqueId = KOS SOP Instance UID)",
    "The entry's uniqueId is the KOS SOP Instance UID.",
    ENTRY_KINDS,
)
R_DE_PATIENT = _rule(
    "KOSDE.PATIENT.MISMATCH",
    "error",
    f"{R_DE} (patientId); {R_INS}",
    "The entry's patientId is the KOS patient (INS and its OID).",
    ENTRY_KINDS,
)
R_DE_STUDYUID = _rule(
    "KOSDE.STUDYUID.MISMATCH",
    "error",
    f"{R_DE} (referenceIdList studyInstanceUID)",
    "The entry's studyInstanceUID reference id is the KOS's Study Instance UID.",
    ENTRY_KINDS,
)
R_DE_ACCESSION = _rule(
    "KOSDE.ACCESSION.MISMATCH",
    "error",
    f"{R_DE} (referenceIdList accession with its issuer)",
    "The entry's accession reference ids are the KOS's accession numbers, with the same issuers.",
    ENTRY_KINDS,
)
R_DE_ORDER = _rule(
    "KOSDE.ORDER.MISMATCH",
    "error",
    f"{R_DE} (referenceIdList order with its issuer)",
    "The entry's order reference ids are the KOS's placer order numbers, with the same issuers.",
    ENTRY_KINDS,
)
R_DE_MODALITY_MISSING = _rule(
    "KOSDE.MODALITY.MISSING",
    "error",
    f"{R_DE} (eventCodeList: all acquisition modalities of the referenced series)",
    "Every modality of the referenced series is an eventCodeList modality code of the entry.",
    ENTRY_KINDS,
)
R_DE_MODALITY_EXTRA = _rule(
    "KOSDE.MODALITY.EXTRA",
    "error",
    f"{R_DE} (eventCodeList: no code not found in the images)",
    "Every modality code of the entry is the modality of a referenced series.",
    ENTRY_KINDS,
)
R_DE_REGION_MISSING = _rule(
    "KOSDE.REGION.MISSING",
    "warning",
    f"{R_DE} (eventCodeList: anatomic regions); JDV_RegionAnatomique-CISIS",
    "The region of every referenced series' body part is an eventCodeList region code of the entry.",
    ENTRY_KINDS,
)
R_DE_REGION_EXTRA = _rule(
    "KOSDE.REGION.EXTRA",
    "warning",
    f"{R_DE} (eventCodeList: no code not found in the images)",
    "Every region code of the entry is the region of a referenced series' body part.",
    ENTRY_KINDS,
)
R_DE_CREATION = _rule(
    "KOSDE.CREATIONTIME",
    "warning",
    f"{R_DE}; DRIMbox DocumentEntry (creationTime = KOS Instance Creation Date/Time)",
    "The entry's creationTime is the KOS's creation (or content) date and time.",
    ENTRY_KINDS,
)
R_DE_SERVICESTART = _rule(
    "KOSDE.SERVICESTART",
    "warning",
    f"{R_DE} (serviceStartTime suggested from Study Date/Time)",
    "The entry's serviceStartTime is the study's date and time.",
    ENTRY_KINDS,
)
# --- KOS vs study ----------------------------------------------------------------------------------------------
R_ST_PATIENT = _rule(
    "KOSSTUDY.PATIENT.MISMATCH",
    "error",
    R_NIST,
    "The KOS patient is the images' patient (same INS, same local id when the KOS gives it).",
)
R_ST_STUDYUID = _rule(
    "KOSSTUDY.STUDYUID.MISMATCH", "error", R_NIST, "The KOS Study Instance UID is the images' Study Instance UID."
)
R_ST_ACCESSION = _rule(
    "KOSSTUDY.ACCESSION.MISMATCH", "error", R_NIST, "The KOS accession number is the images' accession number."
)
R_ST_UNKNOWN = _rule(
    "KOSSTUDY.INSTANCE.UNKNOWN",
    "error",
    f"{R_KODOC}; {R_XDSI}",
    "Every instance the KOS references is an instance of the study.",
)
R_ST_UNREFERENCED = _rule(
    "KOSSTUDY.INSTANCE.UNREFERENCED",
    "warning",
    f"{R_XDSI} (the manifest references the shared study)",
    "Every instance of the study is referenced by the KOS.",
)
# --- retrieve (Flux 10) ----------------------------------------------------------------------------------------
R_RT_MISSING = _rule(
    "RETRIEVE.INSTANCE.MISSING",
    "error",
    R_RAD69,
    "Every instance the KOS references (and the request asked for) is received.",
    RETRIEVE_KINDS,
)
R_RT_EXTRA = _rule(
    "RETRIEVE.INSTANCE.EXTRA",
    "error",
    R_RAD69,
    "Nothing but instances the KOS references is received.",
    RETRIEVE_KINDS,
)
R_RT_SOPCLASS = _rule(
    "RETRIEVE.SOPCLASS.MISMATCH",
    "error",
    R_RAD69,
    "A received instance has the SOP class the KOS gives for it.",
    RETRIEVE_KINDS,
)
R_RT_DUPLICATE = _rule(
    "RETRIEVE.INSTANCE.DUPLICATE",
    "warning",
    R_RAD69,
    "No instance is received twice.",
    RETRIEVE_KINDS,
)


# ==============================================================================================================
# Helpers
# ==============================================================================================================
class _Out:
    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.findings: list[Finding] = []

    def add(self, rule_id: str, location: str, message: str) -> None:
        if self.profile not in CATALOGUE[rule_id].profiles:
            return
        self.findings.append(finding(rule_id, location, message, self.profile))


_UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
_DA_RE = re.compile(r"^\d{8}$")
_TM_RE = re.compile(r"^(\d{2})(\d{2})?(\d{2})?(\.\d{1,6})?$")
_DT_RE = re.compile(r"^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$")
_CS_RE = re.compile(r"^[A-Z0-9 _]*$")
_IS_RE = re.compile(r"^[+-]?[0-9]+$")
_DS_RE = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_TEXT_VRS = {"PN", "LO", "SH", "ST", "LT", "UT", "UC"}
_INS_BODY = re.compile(r"^[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{6}$")


def check_uid(value: str) -> str | None:
    if not value:
        return "empty"
    if len(value) > 64:
        return f"{len(value)} characters (at most 64)"
    if not _UID_RE.match(value):
        return "not digits and dots without leading zeros"
    return None


def _check_value(vr: str, value: str) -> str | None:
    if value == "":
        return None
    if vr == "UI":
        return check_uid(value)
    if vr == "DA":
        if not _DA_RE.match(value):
            return "not YYYYMMDD"
        try:
            datetime.strptime(value, "%Y%m%d")
        except ValueError:
            return "not a calendar date"
        return None
    if vr == "TM":
        m = _TM_RE.match(value)
        if not m or (m.group(4) and not m.group(3)):
            return "not HHMMSS.FFFFFF"
        hh, mm, ss = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
        if hh > 23 or mm > 59 or ss > 60:
            return "hour, minute or second out of range"
        return None
    if vr == "DT":
        return None if _DT_RE.match(value) else "not YYYYMMDDHHMMSS.FFFFFF&ZZXX"
    if vr == "AE":
        if len(value) > 16:
            return f"{len(value)} characters (at most 16)"
        if "\\" in value or any(ord(c) < 32 for c in value):
            return "backslash or control character"
        return None
    if vr == "IS":
        return None if _IS_RE.match(value) and len(value) <= 12 else "not an integer string"
    if vr == "DS":
        return None if _DS_RE.match(value) and len(value) <= 16 else "not a decimal string"
    if vr == "CS":
        if len(value) > 16:
            return f"{len(value)} characters (at most 16)"
        return None if _CS_RE.match(value) else "characters other than A-Z, 0-9, space and underscore"
    return None


def _walk(ds: Dataset, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, DataElement]]:
    """(tag path, element) of every element, recursively, the file meta group aside."""
    for elem in ds:
        here = (*prefix, tag_str(elem.tag))
        yield "/".join(here), elem
        if elem.VR == "SQ" and isinstance(elem.value, Sequence):
            for n, item in enumerate(elem.value, start=1):
                yield from _walk(item, (*prefix, f"{tag_str(elem.tag)}[{n}]"))


def _values(value: object) -> list[str]:
    if value is None:
        return [""]
    if isinstance(value, MultiValue | list | tuple):
        return [str(v) for v in value]
    if isinstance(value, bytes):
        return [value.decode("latin-1", "replace")]
    return [str(value)]


def _s(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


def _has_value(ds: Dataset, keyword: str) -> bool:
    if keyword not in ds:
        return False
    value = ds[keyword].value
    if value is None:
        return False
    if isinstance(value, Sequence | MultiValue | list | str | bytes):
        return len(value) > 0 and (not isinstance(value, str) or bool(value.strip()))
    return True


def _loc(prefix: str, tag: int) -> str:
    return f"{prefix}/{tag_str(tag)}" if prefix else tag_str(tag)


# Tags used in locations.
T_META = 0x00020000
T_MS_CLASS, T_MS_INSTANCE = 0x00020002, 0x00020003
T_SOP_CLASS, T_SOP_INSTANCE = 0x00080016, 0x00080018
T_MODALITY = 0x00080060
T_ACCESSION, T_ACC_ISSUER = 0x00080050, 0x00080051
T_RETRIEVE_AE, T_RETRIEVE_URL, T_RETRIEVE_LOC = 0x00080054, 0x00081190, 0x0040E011
T_REF_SERIES, T_REF_SOP = 0x00081115, 0x00081199
T_REF_CLASS, T_REF_INSTANCE = 0x00081150, 0x00081155
T_PATIENT_ID, T_ISSUER, T_ISSUER_QUAL = 0x00100020, 0x00100021, 0x00100024
T_STUDY_UID, T_SERIES_UID = 0x0020000D, 0x0020000E
T_ORDER_ISSUER, T_ORDER = 0x00400026, 0x00402016
T_UEID, T_UEID_TYPE = 0x00400032, 0x00400033
T_REQUEST, T_EVIDENCE = 0x0040A370, 0x0040A375
T_VALUE_TYPE, T_CONCEPT, T_CONTINUITY = 0x0040A040, 0x0040A043, 0x0040A050
T_CONTENT, T_TEMPLATE, T_RELATIONSHIP = 0x0040A730, 0x0040A504, 0x0040A010
T_TEXT_VALUE = 0x0040A160

_TYPE1_TOP = (
    ("SOPInstanceUID", 0x00080018),
    ("StudyInstanceUID", 0x0020000D),
    ("SeriesInstanceUID", 0x0020000E),
    ("SeriesNumber", 0x00200011),
    ("InstanceNumber", 0x00200013),
    ("ContentDate", 0x00080023),
    ("ContentTime", 0x00080033),
)
_TYPE2_TOP = (
    ("PatientName", 0x00100010),
    ("PatientBirthDate", 0x00100030),
    ("PatientSex", 0x00100040),
    ("StudyDate", 0x00080020),
    ("StudyTime", 0x00080030),
    ("ReferringPhysicianName", 0x00080090),
    ("StudyID", 0x00200010),
    ("AccessionNumber", 0x00080050),
    ("Manufacturer", 0x00080070),
    ("ReferencedPerformedProcedureStepSequence", 0x00081111),
)
_TYPE2_REQUEST = (
    ("ReferencedStudySequence", 0x00081110),
    ("RequestedProcedureID", 0x00401001),
    ("RequestedProcedureDescription", 0x00321060),
    ("RequestedProcedureCodeSequence", 0x00321064),
    ("FillerOrderNumberImagingServiceRequest", 0x00402017),
)
_ROOT_VALUE_ATTRS = (
    ("TextValue", 0x0040A160),
    ("ReferencedSOPSequence", 0x00081199),
    ("ConceptCodeSequence", 0x0040A168),
    ("MeasuredValueSequence", 0x0040A300),
    ("DateTime", 0x0040A120),
    ("UID", 0x0040A124),
)


# ==============================================================================================================
# validate_kos
# ==============================================================================================================
def validate_kos(data: bytes, profile: str = "cisis") -> tuple[list[Finding], str | None]:
    """Validate a DICOM file as an XDS-I.b / CI-SIS KOS.

    Returns (findings, None), or ([], reason) when the input cannot be read as DICOM (empty, truncated, not
    DICOM). A DICOM object that is not a KOS gives a single ``KOS.SOPCLASS`` finding. Never raises.
    """
    if profile not in PROFILES:
        return [], f"unknown profile {profile!r} (one of {', '.join(PROFILES)})"
    try:
        ds, part10 = read_dataset(data)
    except KosError as exc:
        return [], str(exc)
    except Exception as exc:  # a reader bug must not crash the harness
        return [], f"unreadable DICOM: {type(exc).__name__}: {exc}"
    out = _Out(profile)
    try:
        _validate(ds, part10, out)
    except Exception as exc:  # pragma: no cover - defensive: report what was found, and why it stopped
        return out.findings, f"validation stopped on malformed content: {type(exc).__name__}: {exc}"
    return out.findings, None


def _validate(ds: Dataset, part10: bool, out: _Out) -> None:
    sop_class = _s(ds, "SOPClassUID")
    if not part10:
        out.add(R_PART10_HEADER, tag_str(T_META), "no 128-byte preamble and DICM prefix: a bare dataset, not Part 10")
    if sop_class != vocab.KOS_SOP_CLASS:
        from pydicom.uid import UID

        name = UID(sop_class).name if sop_class else "absent"
        out.add(R_SOPCLASS, tag_str(T_SOP_CLASS), f"SOP Class UID {sop_class or '-'} ({name}) is not a KOS")
        return  # the other rules would only restate that this is not a KOS
    if part10:
        meta = ds.file_meta
        for mkw, mtag, kw in (
            ("MediaStorageSOPClassUID", T_MS_CLASS, "SOPClassUID"),
            ("MediaStorageSOPInstanceUID", T_MS_INSTANCE, "SOPInstanceUID"),
        ):
            if _s(meta, mkw) != _s(ds, kw):
                out.add(R_META, tag_str(mtag), f"{mkw} {_s(meta, mkw)!r} differs from {kw} {_s(ds, kw)!r}")
    modality = _s(ds, "Modality")
    if modality != "KO":
        out.add(R_MODALITY, tag_str(T_MODALITY), f"Modality is {modality or 'absent'}, not KO")
    _check_iod(ds, out)
    _check_values(ds, out)
    _check_document(ds, out)
    _check_evidence(ds, out)
    _check_requests(ds, out)
    _check_patient(ds, out)


def _check_iod(ds: Dataset, out: _Out) -> None:
    for kw, tag in _TYPE1_TOP:
        if not _has_value(ds, kw):
            state = "absent" if kw not in ds else "empty"
            out.add(R_TYPE1, tag_str(tag), f"{kw} is {state} (Type 1)")
    for kw, tag in _TYPE2_TOP:
        if kw not in ds:
            out.add(R_TYPE2, tag_str(tag), f"{kw} is absent (Type 2)")
    for n, item in enumerate(ds.get("OtherPatientIDsSequence") or [], start=1):
        for kw, tag in (("PatientID", 0x00100020), ("TypeOfPatientID", 0x00100022)):
            if not _has_value(item, kw):
                out.add(R_TYPE1, tag_path((0x00101002, n), tag), f"Other Patient IDs item {n}: {kw} missing (Type 1)")
    for n, item in enumerate(ds.get("ReferencedRequestSequence") or [], start=1):
        for kw, tag in _TYPE2_REQUEST:
            if kw not in item:
                out.add(R_TYPE2, tag_path((T_REQUEST, n), tag), f"Referenced Request item {n}: {kw} is absent (Type 2)")


def _check_values(ds: Dataset, out: _Out) -> None:
    charset = ds.get("SpecificCharacterSet")
    no_charset = not charset or _values(charset) in (["ISO_IR 6"], [""])
    charset_reported = False
    for path, elem in _walk(ds):
        vr = getattr(elem, "VR", "")
        if vr in ("UI", "DA", "TM", "DT", "AE", "CS", "IS", "DS"):
            for value in _values(elem.value):
                problem = _check_value(vr, value.strip() if vr != "UI" else value.rstrip("\0 "))
                if problem:
                    out.add(R_VR_INVALID, path, f"{elem.keyword or elem.tag} {vr} value {value!r}: {problem}")
        elif no_charset and not charset_reported and vr in _TEXT_VRS:
            text = "".join(_values(elem.value))
            if any(ord(c) > 127 for c in text):
                out.add(
                    R_CHARSET_RULE, path, f"{elem.keyword} has non-ASCII text and there is no Specific Character Set"
                )
                charset_reported = True


def _check_document(ds: Dataset, out: _Out) -> None:
    series_uid = _s(ds, "SeriesInstanceUID")
    referenced_series = {
        _s(se, "SeriesInstanceUID")
        for st in ds.get("CurrentRequestedProcedureEvidenceSequence") or []
        for se in st.get("ReferencedSeriesSequence") or []
    }
    if series_uid and series_uid in referenced_series:
        out.add(R_SERIES_OWN, tag_str(T_SERIES_UID), f"the KOS shares series {series_uid} with referenced images")
    titles = ds.get("ConceptNameCodeSequence")
    if not titles:
        out.add(R_TITLE, tag_str(T_CONCEPT), "no document title (Concept Name Code Sequence)")
    else:
        t = titles[0]
        code = (_s(t, "CodeValue"), _s(t, "CodingSchemeDesignator"))
        if code != MANIFEST_CODE:
            out.add(
                R_TITLE,
                tag_path((T_CONCEPT, 1), 0x00080100),
                f"document title is ({code[0]}, {code[1]}, {_s(t, 'CodeMeaning')!r}), not (113030, DCM, Manifest)",
            )
    if _s(ds, "ValueType") != "CONTAINER":
        out.add(R_ROOT, tag_str(T_VALUE_TYPE), f"root Value Type is {_s(ds, 'ValueType') or 'absent'}, not CONTAINER")
    if _s(ds, "ContinuityOfContent") not in ("SEPARATE", "CONTINUOUS"):
        out.add(
            R_ROOT,
            tag_str(T_CONTINUITY),
            f"Continuity Of Content is {_s(ds, 'ContinuityOfContent') or 'absent'}, not SEPARATE or CONTINUOUS",
        )
    for kw, tag in _ROOT_VALUE_ATTRS:
        if kw in ds:
            out.add(R_ROOT, tag_str(tag), f"the root CONTAINER carries {kw}, which only another value type may have")
    templates = ds.get("ContentTemplateSequence")
    if not templates:
        out.add(R_TEMPLATE, tag_str(T_TEMPLATE), "no Content Template Sequence (TID 2010 not declared)")
    elif _s(templates[0], "TemplateIdentifier") != "2010":
        out.add(
            R_TEMPLATE,
            tag_path((T_TEMPLATE, 1), 0x0040DB00),
            f"template {_s(templates[0], 'TemplateIdentifier')!r} is not TID 2010",
        )
    if "RetrieveURL" in ds:
        out.add(R_RETRIEVE_URL_TOP, tag_str(T_RETRIEVE_URL), "a Retrieve URL at the top level of the KOS")


_ALLOWED_RELATIONSHIPS = {"CONTAINS", "HAS OBS CONTEXT", "HAS CONCEPT MOD"}


def _content_items(ds: Dataset, prefix: str = "") -> Iterator[tuple[str, Dataset, int]]:
    """(location prefix, item, depth) of every content item under the root."""
    for n, item in enumerate(ds.get("ContentSequence") or [], start=1):
        here = f"{prefix}/{tag_str(T_CONTENT)}[{n}]" if prefix else f"{tag_str(T_CONTENT)}[{n}]"
        yield here, item, here.count(tag_str(T_CONTENT))
        yield from _content_items(item, here)


def _check_evidence(ds: Dataset, out: _Out) -> None:
    study_uid = _s(ds, "StudyInstanceUID")
    evidence = ds.get("CurrentRequestedProcedureEvidenceSequence")
    listed: dict[str, tuple[str, str]] = {}  # instance -> (class, location)
    if not evidence:
        state = "absent" if "CurrentRequestedProcedureEvidenceSequence" not in ds else "empty"
        out.add(R_EVIDENCE_MISSING, tag_str(T_EVIDENCE), f"Current Requested Procedure Evidence Sequence is {state}")
    else:
        if len(evidence) > 1:
            out.add(R_EVIDENCE_MULTISTUDY, tag_str(T_EVIDENCE), f"the evidence holds {len(evidence)} studies")
        seen_series: set[str] = set()
        for s_n, st in enumerate(evidence, start=1):
            st_uid = _s(st, "StudyInstanceUID")
            if st_uid != study_uid:
                out.add(
                    R_EVIDENCE_STUDYUID,
                    tag_path((T_EVIDENCE, s_n), T_STUDY_UID),
                    f"evidence study {st_uid or '(absent)'} is not the KOS study {study_uid or '(absent)'}",
                )
            series_seq = st.get("ReferencedSeriesSequence")
            if not series_seq:
                out.add(R_EVIDENCE_SERIES, tag_path((T_EVIDENCE, s_n), T_REF_SERIES), "the study item lists no series")
                continue
            for se_n, se in enumerate(series_seq, start=1):
                _check_series(se, st_uid, (T_EVIDENCE, s_n), se_n, seen_series, listed, out)
    # The content tree.
    referenced: dict[str, str] = {}
    any_reference = False
    for loc, item, depth in _content_items(ds):
        vt = _s(item, "ValueType")
        rel = _s(item, "RelationshipType")
        if depth == 1 and rel not in _ALLOWED_RELATIONSHIPS:
            out.add(R_CONTENT_RELATIONSHIP, f"{loc}/{tag_str(T_RELATIONSHIP)}", f"relationship {rel or '(absent)'}")
        if not vt:
            out.add(R_CONTENT_ITEM, f"{loc}/{tag_str(T_VALUE_TYPE)}", "content item without Value Type")
            continue
        if vt in ("IMAGE", "COMPOSITE", "WAVEFORM"):
            refs = item.get("ReferencedSOPSequence")
            if not refs:
                out.add(R_CONTENT_ITEM, f"{loc}/{tag_str(T_REF_SOP)}", f"{vt} item without Referenced SOP Sequence")
                continue
            any_reference = True
            ref = refs[0]
            cls, inst = _s(ref, "ReferencedSOPClassUID"), _s(ref, "ReferencedSOPInstanceUID")
            ref_loc = f"{loc}/{tag_str(T_REF_SOP)}[1]/{tag_str(T_REF_INSTANCE)}"
            referenced[inst] = cls
            if evidence and inst not in listed:
                out.add(R_CONTENT_UNLISTED, ref_loc, f"{vt} item references {inst}, absent from the evidence")
            elif evidence and listed[inst][0] != cls:
                out.add(
                    R_CONTENT_SOPCLASS,
                    f"{loc}/{tag_str(T_REF_SOP)}[1]/{tag_str(T_REF_CLASS)}",
                    f"{inst}: content says SOP class {cls}, evidence says {listed[inst][0]}",
                )
        elif vt == "TEXT" and not _has_value(item, "TextValue"):
            out.add(R_CONTENT_ITEM, f"{loc}/{tag_str(T_TEXT_VALUE)}", "TEXT item without Text Value")
    if not any_reference:
        out.add(R_CONTENT_EMPTY, tag_str(T_CONTENT), "the content tree references no object")
    else:
        for inst, (_cls, where) in listed.items():
            if inst not in referenced:
                out.add(R_EVIDENCE_UNREFERENCED, where, f"{inst} is in the evidence but no content item references it")


def _check_series(
    se: Dataset,
    study_uid: str,
    study_step: tuple[int, int],
    se_n: int,
    seen_series: set[str],
    listed: dict[str, tuple[str, str]],
    out: _Out,
) -> None:
    se_step = (T_REF_SERIES, se_n)
    series_uid = _s(se, "SeriesInstanceUID")
    if not series_uid:
        out.add(R_EVIDENCE_SERIES, tag_path(study_step, se_step, T_SERIES_UID), "series item without Series UID")
    elif series_uid in seen_series:
        out.add(R_EVIDENCE_DUPLICATE, tag_path(study_step, se_step, T_SERIES_UID), f"series {series_uid} twice")
    seen_series.add(series_uid)
    sops = se.get("ReferencedSOPSequence")
    if not sops:
        out.add(R_EVIDENCE_SERIES, tag_path(study_step, se_step, T_REF_SOP), f"series {series_uid}: no instance")
    for i_n, sop in enumerate(sops or [], start=1):
        cls, inst = _s(sop, "ReferencedSOPClassUID"), _s(sop, "ReferencedSOPInstanceUID")
        where = tag_path(study_step, se_step, (T_REF_SOP, i_n), T_REF_INSTANCE)
        if not cls or not inst:
            missing = "Referenced SOP Class UID" if not cls else "Referenced SOP Instance UID"
            tag = T_REF_CLASS if not cls else T_REF_INSTANCE
            out.add(R_EVIDENCE_SOP, tag_path(study_step, se_step, (T_REF_SOP, i_n), tag), f"{missing} missing")
            if not inst:
                continue
        if inst in listed:
            out.add(R_EVIDENCE_DUPLICATE, where, f"instance {inst} listed twice (first at {listed[inst][1]})")
            continue
        listed[inst] = (cls, where)
    # Retrieve information.
    ae = _s(se, "RetrieveAETitle")
    loc_uid = _s(se, "RetrieveLocationUID")
    url = _s(se, "RetrieveURL")
    if not (ae or loc_uid or url):
        out.add(
            R_NORETRIEVE,
            tag_path(study_step, se_step),
            f"series {series_uid}: no Retrieve AE Title, Retrieve Location UID or Retrieve URL",
        )
    if not ae:
        state = "empty" if "RetrieveAETitle" in se else "absent"
        out.add(R_RETRIEVE_AE, tag_path(study_step, se_step, T_RETRIEVE_AE), f"series {series_uid}: {state}")
    if not loc_uid:
        out.add(R_RETRIEVE_LOCATION, tag_path(study_step, se_step, T_RETRIEVE_LOC), f"series {series_uid}: absent")
    if not url:
        out.add(R_RETRIEVE_URL, tag_path(study_step, se_step, T_RETRIEVE_URL), f"series {series_uid}: absent")
    else:
        parsed = urlparse(url)
        where = tag_path(study_step, se_step, T_RETRIEVE_URL)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            out.add(R_RETRIEVE_URL_SYNTAX, where, f"{url!r} is not an absolute http(s) URL")
        elif not parsed.path.rstrip("/").endswith(f"/studies/{study_uid}/series/{series_uid}"):
            out.add(R_RETRIEVE_URL_SERIES, where, f"{url!r} is not …/studies/{study_uid}/series/{series_uid}")


_ISSUER_TAGS = {"IssuerOfAccessionNumberSequence": T_ACC_ISSUER, "OrderPlacerIdentifierSequence": T_ORDER_ISSUER}


def _check_issuer(item: Dataset, seq_kw: str, step: tuple[int, int], rule_missing: str, what: str, out: _Out) -> None:
    """An issuer sequence (Issuer of Accession Number, Order Placer Identifier) with an ISO OID."""
    seq = item.get(seq_kw)
    seq_tag = _ISSUER_TAGS[seq_kw]
    if not seq:
        out.add(rule_missing, tag_path(step, seq_tag), f"{what}: no {seq_kw}")
        return
    ueid, ueid_type = _s(seq[0], "UniversalEntityID"), _s(seq[0], "UniversalEntityIDType")
    where = tag_path(step, (seq_tag, 1), T_UEID)
    if not ueid:
        out.add(rule_missing, where, f"{what}: no Universal Entity ID")
        return
    if ueid_type != "ISO":
        out.add(rule_missing, tag_path(step, (seq_tag, 1), T_UEID_TYPE), f"{what}: type {ueid_type!r}, not ISO")
        return
    problem = check_uid(ueid)
    if problem:
        out.add(R_ISSUER_OID, where, f"{what}: issuer {ueid!r} is not an OID ({problem})")
    elif ueid in vocab.CODE_SYSTEM_OIDS:
        out.add(R_ISSUER_CODESYSTEM, where, f"{what}: issuer {ueid} is the OID of {vocab.CODE_SYSTEM_OIDS[ueid]}")


def _check_requests(ds: Dataset, out: _Out) -> None:
    study_uid = _s(ds, "StudyInstanceUID")
    requests = ds.get("ReferencedRequestSequence")
    if not requests:
        out.add(R_REQUEST_MISSING, tag_str(T_REQUEST), "no Referenced Request Sequence: no accession or order number")
    accessions: list[str] = []
    for n, item in enumerate(requests or [], start=1):
        step = (T_REQUEST, n)
        if _s(item, "StudyInstanceUID") != study_uid:
            out.add(
                R_REQUEST_STUDYUID,
                tag_path(step, T_STUDY_UID),
                f"request study {_s(item, 'StudyInstanceUID') or '(absent)'} is not the KOS study {study_uid}",
            )
        accession = _s(item, "AccessionNumber")
        if not accession:
            out.add(R_REQUEST_ACCESSION, tag_path(step, T_ACCESSION), f"request {n}: no accession number")
        else:
            accessions.append(accession)
            _check_issuer(
                item, "IssuerOfAccessionNumberSequence", step, R_REQUEST_ACCESSION_ISSUER, f"accession {accession}", out
            )
        order = _s(item, "PlacerOrderNumberImagingServiceRequest")
        if not order:
            out.add(R_REQUEST_ORDER, tag_path(step, T_ORDER), f"request {n}: no placer order number")
        else:
            _check_issuer(item, "OrderPlacerIdentifierSequence", step, R_REQUEST_ORDER_ISSUER, f"order {order}", out)
    top = _s(ds, "AccessionNumber")
    if "AccessionNumber" in ds and not top and accessions:
        out.add(R_STUDY_ACCESSION_EMPTY, tag_str(T_ACCESSION), f"empty while the request has {accessions[0]}")
    elif top and accessions and top not in accessions:
        out.add(R_STUDY_ACCESSION_MISMATCH, tag_str(T_ACCESSION), f"{top} is not a requested accession {accessions}")


def _check_patient(ds: Dataset, out: _Out) -> None:
    pid = _s(ds, "PatientID")
    if not pid:
        out.add(R_PATIENT_ID, tag_str(T_PATIENT_ID), "Patient ID is absent or empty")
    quals = ds.get("IssuerOfPatientIDQualifiersSequence")
    ueid = _s(quals[0], "UniversalEntityID") if quals else ""
    ueid_type = _s(quals[0], "UniversalEntityIDType") if quals else ""
    if not quals:
        out.add(
            R_PATIENT_INS_ISSUER, tag_str(T_ISSUER_QUAL), "no Issuer of Patient ID Qualifiers: the INS OID is absent"
        )
    elif ueid not in vocab.INS_OIDS:
        out.add(
            R_PATIENT_INS_ISSUER,
            tag_path((T_ISSUER_QUAL, 1), T_UEID),
            f"Universal Entity ID {ueid or '(absent)'} is not an INS OID ({', '.join(vocab.INS_OIDS)})",
        )
    elif ueid_type != "ISO":
        out.add(R_PATIENT_INS_ISSUER, tag_path((T_ISSUER_QUAL, 1), T_UEID_TYPE), f"type {ueid_type!r}, not ISO")
    if ueid in vocab.INS_OIDS and pid:
        problem = ins_problem(pid)
        if problem:
            out.add(R_PATIENT_INS_FORMAT, tag_str(T_PATIENT_ID), f"INS {pid!r}: {problem}")
        issuer = _s(ds, "IssuerOfPatientID")
        if issuer != vocab.INS_ISSUER_TEXT:
            out.add(R_PATIENT_ISSUER_TEXT, tag_str(T_ISSUER), f"Issuer of Patient ID is {issuer or '(absent)'!r}")


def ins_problem(value: str) -> str | None:
    """Why ``value`` is not a NIR-form INS (15 characters, key 97 - n mod 97), or None."""
    if len(value) != 15:
        return f"{len(value)} characters, not 15"
    if not _INS_BODY.match(value[:13]) or not value[13:].isdigit():
        return "not 13 NIR characters followed by a 2-digit key"
    if nir_key(value[:13]) != value[13:]:
        return f"key {value[13:]} is wrong (expected {nir_key(value[:13])})"
    return None


MANIFEST_CODE = ("113030", "DCM")


# ==============================================================================================================
# KOS vs DocumentEntry
# ==============================================================================================================
def _entry_loc(entry: DocumentEntry, what: str) -> str:
    if entry.location:
        return f"{entry.location}/{what}"
    return f"DocumentEntry[{entry.entry_uuid}]/{what}"


def _refids(values: Iterable[str]) -> set[tuple[str, str]]:
    out = set()
    for v in values:
        r = ReferenceId.parse(v)
        out.add((r.id, r.authority or ""))
    return out


_DTM_FORMATS = {8: "%Y%m%d", 10: "%Y%m%d%H", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}


def _times_differ(a: str, b: str, tz_known: bool) -> bool:
    """Whether two DTM values differ at the precision both give (with 14 h of slack when the KOS does not say
    its time zone: XDS times are UTC, DICOM times local)."""
    n = min(len(a), len(b), 14)
    if n < 8:
        return False
    n = 8 if n < 10 else n - n % 2
    try:
        ta = datetime.strptime(a[:n], _DTM_FORMATS[n])
        tb = datetime.strptime(b[:n], _DTM_FORMATS[n])
    except ValueError:
        return a[:n] != b[:n]
    slack = (0 if tz_known else 86400) if n == 8 else (60 if tz_known else 14 * 3600)
    return abs((ta - tb).total_seconds()) > slack


def check_kos_against_entry(
    kos: KosInfo, entry: DocumentEntry, study: StudyInfo | None = None, *, profile: str = "cisis"
) -> list[Finding]:
    """The consistency of a KOS and its DocumentEntry. ``study`` (the referenced images) gives the modalities and
    body parts of the series; without it the modalities come from the referenced SOP classes and regions are
    not compared."""
    out = _Out(profile)
    if entry.unique_id and kos.sop_instance_uid and entry.unique_id != kos.sop_instance_uid:
        out.add(
            R_DE_UNIQUEID,
            _entry_loc(entry, "uniqueId"),
            f"uniqueId {entry.unique_id} is not the KOS SOP Instance UID {kos.sop_instance_uid} (0008,0018)",
        )
    if entry.patient_id:
        cx = CX.parse(entry.patient_id)
        ins, ins_oid = kos.patient.ins, kos.patient.ins_oid
        if ins:
            ok = cx.id == ins and (not cx.authority or cx.authority == ins_oid)
            kos_side = f"INS {ins} ({ins_oid})"
        else:
            ok = cx.id == kos.patient.id
            kos_side = f"Patient ID {kos.patient.id}"
        if not ok:
            out.add(
                R_DE_PATIENT,
                _entry_loc(entry, "patientId"),
                f"patientId {entry.patient_id} is not the KOS patient: {kos_side} (0010,0020)/(0010,0024)",
            )
    study_uids = {ReferenceId.parse(v).id for v in entry.study_instance_uids}
    if study_uids and kos.study_instance_uid and study_uids != {kos.study_instance_uid}:
        out.add(
            R_DE_STUDYUID,
            _entry_loc(entry, "referenceIdList"),
            f"studyInstanceUID {sorted(study_uids)} is not the KOS Study Instance UID {kos.study_instance_uid}",
        )
    for rule, entry_values, kos_values, label in (
        (R_DE_ACCESSION, entry.accession_numbers, kos.accession_numbers, "accession"),
        (R_DE_ORDER, entry.order_numbers, kos.order_numbers, "order"),
    ):
        ev = _refids(entry_values)
        kv = {(n, i) for n, i in kos_values}
        if not ev or not kv:
            continue  # presence is the cardinality tables' business
        e_ids, k_ids = {n for n, _ in ev}, {n for n, _ in kv}
        if e_ids != k_ids:
            out.add(
                rule,
                _entry_loc(entry, "referenceIdList"),
                f"{label} {sorted(e_ids)} in the entry, {sorted(k_ids)} in the KOS Referenced Request Sequence",
            )
            continue
        for num, issuer in sorted(ev):
            k_issuers = {i for n, i in kv if n == num}
            if issuer and k_issuers and issuer not in k_issuers:
                out.add(
                    rule,
                    _entry_loc(entry, "referenceIdList"),
                    f"{label} {num}: issuer {issuer} in the entry, {sorted(k_issuers)} in the KOS",
                )
    # Modalities and regions.
    kos_mods = set(study.modalities if study is not None else kos.modalities)
    entry_mods = {c.code for c in entry.modality_codes}
    if kos_mods:
        for m in sorted(kos_mods - entry_mods):
            out.add(
                R_DE_MODALITY_MISSING,
                _entry_loc(entry, "eventCodeList"),
                f"modality {m} of the referenced series is not among the entry's {sorted(entry_mods)}",
            )
        for m in sorted(entry_mods - kos_mods):
            out.add(
                R_DE_MODALITY_EXTRA,
                _entry_loc(entry, "eventCodeList"),
                f"modality {m} is in the entry but in no referenced series ({sorted(kos_mods)})",
            )
    if study is not None:
        regions = set(study.region_codes)
        entry_regions = {c.code for c in entry.region_codes}
        for r in sorted(regions - entry_regions):
            out.add(
                R_DE_REGION_MISSING,
                _entry_loc(entry, "eventCodeList"),
                f"region {r} ({vocab.REGIONS.get(r, '')}) of body part {study.body_parts} is not in the entry",
            )
        for r in sorted(entry_regions - regions):
            out.add(
                R_DE_REGION_EXTRA,
                _entry_loc(entry, "eventCodeList"),
                f"region {r} is in the entry but no series' body part maps to it ({study.body_parts})",
            )
    # Times.
    tz = bool(kos.timezone_offset)
    created = dicom_datetime(
        kos.instance_creation_date or kos.content_date,
        kos.instance_creation_time if kos.instance_creation_date else kos.content_time,
        kos.timezone_offset,
    )
    if entry.creation_time and created and _times_differ(entry.creation_time, created, tz):
        out.add(
            R_DE_CREATION,
            _entry_loc(entry, "creationTime"),
            f"creationTime {entry.creation_time}, KOS created {created} (0008,0012)/(0008,0013)",
        )
    started = dicom_datetime(kos.study_date, kos.study_time, kos.timezone_offset)
    if entry.service_start_time and started and _times_differ(entry.service_start_time, started, tz):
        out.add(
            R_DE_SERVICESTART,
            _entry_loc(entry, "serviceStartTime"),
            f"serviceStartTime {entry.service_start_time}, Study Date/Time {started} (0008,0020)/(0008,0030)",
        )
    return out.findings


# ==============================================================================================================
# KOS vs study
# ==============================================================================================================
def _evidence_locations(kos: KosInfo) -> dict[str, str]:
    """Instance UID -> tag path of its Referenced SOP Instance UID in the evidence (study items in order)."""
    out: dict[str, str] = {}
    study_n, series_n, last_study = 0, 0, None
    for se in kos.referenced:
        if se.study_instance_uid != last_study or study_n == 0:
            study_n += 1
            series_n = 0
            last_study = se.study_instance_uid
        series_n += 1
        for i_n, (_cls, inst) in enumerate(se.instances, start=1):
            out.setdefault(
                inst, tag_path((T_EVIDENCE, study_n), (T_REF_SERIES, series_n), (T_REF_SOP, i_n), T_REF_INSTANCE)
            )
    return out


def check_kos_against_study(kos: KosInfo, study: StudyInfo, *, profile: str = "cisis") -> list[Finding]:
    """The KOS and the images it references: same patient, study, accession; the same instances."""
    out = _Out(profile)
    if kos.study_instance_uid != study.study_instance_uid:
        out.add(
            R_ST_STUDYUID,
            tag_str(T_STUDY_UID),
            f"KOS study {kos.study_instance_uid}, images' study {study.study_instance_uid}",
        )
    kos_ins = kos.patient.ins
    if study.ins and kos_ins and kos_ins != study.ins:
        out.add(R_ST_PATIENT, tag_str(T_PATIENT_ID), f"KOS INS {kos_ins}, images' INS {study.ins}")
    kos_ids = {kos.patient.id} | {pid for pid, _i, _o in kos.patient.other_ids}
    if not kos_ins and study.patient_id not in kos_ids:
        out.add(R_ST_PATIENT, tag_str(T_PATIENT_ID), f"KOS patient {sorted(kos_ids)}, images' {study.patient_id}")
    accessions = {a for a, _ in kos.accession_numbers}
    if study.accession_number and accessions and study.accession_number not in accessions:
        out.add(
            R_ST_ACCESSION,
            tag_path((T_REQUEST, 1), T_ACCESSION),
            f"KOS accession {sorted(accessions)}, images' {study.accession_number}",
        )
    in_study = {uid for _c, uid in study.references}
    locations = _evidence_locations(kos)
    for inst, where in locations.items():
        if inst not in in_study:
            out.add(R_ST_UNKNOWN, where, f"{inst} is not an instance of the study on disk")
    for cls, inst in study.references:
        if inst not in locations:
            out.add(R_ST_UNREFERENCED, tag_str(T_EVIDENCE), f"instance {inst} ({cls}) of the study is not referenced")
    return out.findings


# ==============================================================================================================
# Flux 10: what a retrieve returned
# ==============================================================================================================
def check_retrieved(
    kos: KosInfo,
    received: Iterable[tuple[str, str]],
    requested: Iterable[str] | None = None,
    *,
    location: Callable[[int], str] | None = None,
    profile: str = "cisis",
) -> list[Finding]:
    """Every instance the KOS references was received (or, with ``requested``, every requested one), and
    nothing else. ``received`` = (SOP class UID, SOP instance UID) in the order received; ``location(n)``
    names the n-th (1-based) received document in findings (default ``received[n]``)."""
    out = _Out(profile)
    name = location or (lambda n: f"received[{n}]")
    expected = dict((inst, cls) for cls, inst in kos.instances)
    wanted = set(requested) if requested is not None else set(expected)
    evidence_loc = _evidence_locations(kos)
    counts: Counter[str] = Counter()
    for n, (cls, inst) in enumerate(received, start=1):
        counts[inst] += 1
        if counts[inst] == 2:
            out.add(R_RT_DUPLICATE, name(n), f"instance {inst} received more than once")
        if counts[inst] > 1:
            continue
        if inst not in expected:
            out.add(R_RT_EXTRA, name(n), f"instance {inst} ({cls}) is not referenced by the KOS")
        elif inst not in wanted:
            out.add(R_RT_EXTRA, name(n), f"instance {inst} was not requested")
        elif cls and expected[inst] and cls != expected[inst]:
            out.add(R_RT_SOPCLASS, name(n), f"instance {inst}: received SOP class {cls}, KOS says {expected[inst]}")
    for inst in expected:
        if inst in wanted and inst not in counts:
            out.add(R_RT_MISSING, evidence_loc.get(inst, tag_str(T_EVIDENCE)), f"instance {inst} was not received")
    return out.findings


def validate_kos_file(path: str, profile: str = "cisis") -> tuple[list[Finding], str | None]:
    """:func:`validate_kos` on a file path (an unreadable path is an error reason, not an exception)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return [], f"cannot read {path}: {exc.strerror or exc}"
    return validate_kos(data, profile)


__all__ = [
    "KosInfo",
    "check_kos_against_entry",
    "check_kos_against_study",
    "check_retrieved",
    "kos_info_from_dataset",
    "validate_kos",
    "validate_kos_file",
]
