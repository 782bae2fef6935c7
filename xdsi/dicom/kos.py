"""The XDS-I.b manifest: a DICOM Key Object Selection Document built, written and parsed as the CI-SIS uses it.

``build_kos(study)`` follows DICOM PS3.3 A.35.4 / C.17.6, IHE RAD TF-3 4.68.4.1.2.3 (XDS-I.b) and what the ANS
examples and DRIMbox carry (cisis-content.md §3, xds-facts.md §7.2):

* document title (113030, DCM, "Manifest"), value type CONTAINER, continuity SEPARATE, template TID 2010;
* its own series (Modality KO) and SOP Instance UID (the XDS ``uniqueId``);
* Current Requested Procedure Evidence Sequence (0040,A375) listing every instance of the study, each
  Referenced Series item carrying Retrieve AE Title (0008,0054), Retrieve Location UID (0040,E011) and
  Retrieve URL (0008,1190) as configured (highdicom sets none of them: added here);
* Referenced Request Sequence (0040,A370): accession number + issuer, placer order number + issuer, study UID,
  requested procedure code (highdicom does not set it either);
* the patient identified by the INS: Patient ID = INS, Issuer of Patient ID ``ASIP-SANTE-INS-NIR``, Issuer of
  Patient ID Qualifiers = the INS OID (ISO); the local IPP in Other Patient IDs Sequence;
* a Key Object Description text item in the DRIMbox form (``Examen : …`` / ``Série-<uid> : <modality> …``).

``parse_kos`` reads any KOS (ours, the ANS examples, DRIMbox's) into a :class:`KosInfo`;
``kos_entry_metadata`` derives the DocumentEntry (Fiche) a producer submits for it (volet Tableau 12).
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID
from pydicom.valuerep import DA, TM

from xdsi.dicom import vocab
from xdsi.dicom.study import StudyInfo, code_item, generate_study, seeded_uid
from xdsi.messages import examples
from xdsi.model import identifiers as ids
from xdsi.model import metadata as md
from xdsi.model.identifiers import CX, ReferenceId
from xdsi.model.metadata import Code, DocumentEntry

MANIFEST_TITLE = ("113030", "DCM", "Manifest")
KOS_SERIES_NUMBER = 59  # what the ANS examples and DRIMbox use
_NS = uuid.UUID("9b1f7d0a-3c2e-4f5b-8a6d-1e0c2b3a4d5f")


class KosError(ValueError):
    """The input cannot be read as a DICOM dataset, or is not a KOS; ``str(err)`` is the reason."""


# --------------------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------------------
def _load(data: bytes | Path | str) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    try:
        return Path(data).read_bytes()
    except OSError as exc:
        raise KosError(f"cannot read {data}: {exc.strerror or exc}") from exc


class _TrackingReader(io.BytesIO):
    """A byte stream that notices when the parser asks for bytes past the end: a truncated file.

    A complete file ends with exactly one empty 8-byte read (the next element's header, at the end); any short
    read, or any other empty read, means the data stopped inside an element."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.short_at: int | None = None
        self.empty_reads = 0

    def read(self, size: int | None = -1, /) -> bytes:
        pos = self.tell()
        got = super().read(size)
        if size is not None and size > 0 and len(got) < size:
            if got or size != 8:
                self.short_at = pos if self.short_at is None else self.short_at
            else:
                self.empty_reads += 1
                if self.empty_reads > 1 and self.short_at is None:
                    self.short_at = pos
        return got

    @property
    def truncated(self) -> bool:
        return self.short_at is not None


def _touch_all(ds: Dataset) -> None:
    """Convert every raw element now, so that a malformed value fails here and not later."""
    for elem in ds.iterall():
        _ = elem.value


def read_dataset(data: bytes | Path | str, complete: bool = True) -> tuple[Dataset, bool]:
    """Parse DICOM bytes (Part 10, or a bare dataset); returns (dataset, is_part10). ``complete``: every value is
    converted now (a malformed one fails here), else only when read.

    Raises :class:`KosError` with a readable reason for empty, truncated or non-DICOM input.
    """
    raw = _load(data)
    if not raw:
        raise KosError("empty input: not a DICOM file")
    part10 = len(raw) >= 132 and raw[128:132] == b"DICM"
    reader = _TrackingReader(raw)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns on every oddity of a bad file: the findings say it
            ds = pydicom.dcmread(reader, force=not part10)
            if complete:
                _touch_all(ds)
    except Exception as exc:
        kind = "truncated or malformed DICOM file" if part10 else "not a DICOM file"
        raise KosError(f"{kind}: {type(exc).__name__}: {exc}") from exc
    if reader.truncated:
        what = "truncated DICOM file" if part10 else "not a DICOM file (or a truncated dataset)"
        raise KosError(f"{what}: the data ends inside an element (read from byte {reader.short_at} past the end)")
    if not part10:
        # force=True accepts nearly anything: demand a plausible dataset.
        tags = list(ds.keys())
        if not tags or "SOPClassUID" not in ds or any(t.group == 0xFFFE for t in tags):
            raise KosError("not a DICOM file: no DICM prefix and no recognisable dataset")
    if part10 and not ds.file_meta.get("TransferSyntaxUID"):
        raise KosError("truncated or malformed DICOM file: no transfer syntax in the file meta group")
    if len(ds) == 0:
        raise KosError("truncated DICOM file: the dataset after the file meta group is empty")
    return ds, part10


# --------------------------------------------------------------------------------------------------------------
# KosInfo
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DicomCode:
    value: str
    scheme: str  # coding scheme designator
    meaning: str = ""


@dataclass
class KosPatient:
    id: str = ""
    name: str = ""
    issuer: str = ""  # Issuer of Patient ID (0010,0021)
    universal_entity_id: str = ""  # Issuer of Patient ID Qualifiers Sequence (0010,0024)
    universal_entity_id_type: str = ""
    birth_date: str = ""
    sex: str = ""
    #: Other Patient IDs Sequence items: (Patient ID, Issuer of Patient ID, universal entity id)
    other_ids: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def is_ins(self) -> bool:
        return self.universal_entity_id in vocab.INS_OIDS

    @property
    def ins(self) -> str | None:
        if self.is_ins:
            return self.id
        for pid, _issuer, oid in self.other_ids:
            if oid in vocab.INS_OIDS:
                return pid
        return None

    @property
    def ins_oid(self) -> str | None:
        if self.is_ins:
            return self.universal_entity_id
        for _pid, _issuer, oid in self.other_ids:
            if oid in vocab.INS_OIDS:
                return oid
        return None


@dataclass
class KosRequest:
    """One Referenced Request Sequence (0040,A370) item."""

    accession_number: str = ""
    accession_issuer: str = ""
    order_number: str = ""
    order_issuer: str = ""
    study_instance_uid: str = ""
    procedure_codes: list[DicomCode] = field(default_factory=list)


@dataclass
class ReferencedSeries:
    series_instance_uid: str
    retrieve_ae_title: str | None = None
    retrieve_location_uid: str | None = None
    retrieve_url: str | None = None
    instances: list[tuple[str, str]] = field(default_factory=list)  # (SOP class UID, SOP instance UID)
    study_instance_uid: str = ""


@dataclass
class KosInfo:
    sop_instance_uid: str
    patient: KosPatient
    study_instance_uid: str
    accession_number: str
    accession_issuer: str
    order_number: str
    order_issuer: str
    title: DicomCode | None
    referenced: list[ReferencedSeries]
    content_date: str = ""
    content_time: str = ""
    sop_class_uid: str = ""
    series_instance_uid: str = ""
    modality: str = ""
    instance_creation_date: str = ""
    instance_creation_time: str = ""
    timezone_offset: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    description: str = ""  # Key Object Description (113012, DCM) text
    requests: list[KosRequest] = field(default_factory=list)
    #: (SOP class, SOP instance) of every IMAGE/COMPOSITE/WAVEFORM content item
    content_references: list[tuple[str, str]] = field(default_factory=list)
    transfer_syntax_uid: str = ""

    @property
    def instances(self) -> list[tuple[str, str]]:
        """Every referenced (SOP class UID, SOP instance UID), in evidence order."""
        return [ref for s in self.referenced for ref in s.instances]

    @property
    def instance_uids(self) -> set[str]:
        return {uid for _cls, uid in self.instances}

    @property
    def sop_classes(self) -> list[str]:
        return list(dict.fromkeys(cls for cls, _uid in self.instances))

    @property
    def modalities(self) -> list[str]:
        """The modalities the referenced SOP classes imply (known storage classes only)."""
        return list(dict.fromkeys(m for m in (vocab.SOP_CLASS_MODALITY.get(c) for c in self.sop_classes) if m))

    @property
    def accession_numbers(self) -> list[tuple[str, str]]:
        """(accession number, issuer OID) of every request (the top-level one when no request has one)."""
        out = [(r.accession_number, r.accession_issuer) for r in self.requests if r.accession_number]
        if not out and self.accession_number:
            out = [(self.accession_number, self.accession_issuer)]
        return list(dict.fromkeys(out))

    @property
    def order_numbers(self) -> list[tuple[str, str]]:
        return list(dict.fromkeys((r.order_number, r.order_issuer) for r in self.requests if r.order_number))


def _s(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    if isinstance(value, pydicom.multival.MultiValue):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _oid(ds: Dataset, keyword: str) -> tuple[str, str]:
    seq = ds.get(keyword)
    if seq and isinstance(seq, Sequence) and len(seq):
        return _s(seq[0], "UniversalEntityID"), _s(seq[0], "UniversalEntityIDType")
    return "", ""


def _codes(ds: Dataset, keyword: str) -> list[DicomCode]:
    seq = ds.get(keyword)
    if not seq or not isinstance(seq, Sequence):
        return []
    return [DicomCode(_s(it, "CodeValue"), _s(it, "CodingSchemeDesignator"), _s(it, "CodeMeaning")) for it in seq]


def _content_references(items: Sequence | None, out: list[tuple[str, str]], texts: list[str]) -> None:
    for it in items or []:
        vt = _s(it, "ValueType")
        if vt in ("IMAGE", "COMPOSITE", "WAVEFORM"):
            for ref in it.get("ReferencedSOPSequence") or []:
                out.append((_s(ref, "ReferencedSOPClassUID"), _s(ref, "ReferencedSOPInstanceUID")))
        elif vt == "TEXT":
            names = _codes(it, "ConceptNameCodeSequence")
            if names and names[0].value == "113012":
                texts.append(_s(it, "TextValue"))
        if "ContentSequence" in it:
            _content_references(it.ContentSequence, out, texts)


def kos_info_from_dataset(ds: Dataset, content: bool = True) -> KosInfo:
    """A :class:`KosInfo` from a dataset, leniently: missing attributes become empty values. Without ``content``,
    the content tree (its references, texts and title) is not read: the KosInfo keeps the header, the requests
    and the evidence only (what the KOS ⇄ DocumentEntry checks need, in half the time)."""
    patient = KosPatient(
        id=_s(ds, "PatientID"),
        name=_s(ds, "PatientName"),
        issuer=_s(ds, "IssuerOfPatientID"),
        birth_date=_s(ds, "PatientBirthDate"),
        sex=_s(ds, "PatientSex"),
    )
    patient.universal_entity_id, patient.universal_entity_id_type = _oid(ds, "IssuerOfPatientIDQualifiersSequence")
    for it in ds.get("OtherPatientIDsSequence") or []:
        patient.other_ids.append(
            (_s(it, "PatientID"), _s(it, "IssuerOfPatientID"), _oid(it, "IssuerOfPatientIDQualifiersSequence")[0])
        )
    requests = []
    for it in ds.get("ReferencedRequestSequence") or []:
        requests.append(
            KosRequest(
                accession_number=_s(it, "AccessionNumber"),
                accession_issuer=_oid(it, "IssuerOfAccessionNumberSequence")[0],
                order_number=_s(it, "PlacerOrderNumberImagingServiceRequest"),
                order_issuer=_oid(it, "OrderPlacerIdentifierSequence")[0],
                study_instance_uid=_s(it, "StudyInstanceUID"),
                procedure_codes=_codes(it, "RequestedProcedureCodeSequence"),
            )
        )
    referenced: list[ReferencedSeries] = []
    for study_item in ds.get("CurrentRequestedProcedureEvidenceSequence") or []:
        for se in study_item.get("ReferencedSeriesSequence") or []:
            referenced.append(
                ReferencedSeries(
                    series_instance_uid=_s(se, "SeriesInstanceUID"),
                    retrieve_ae_title=_s(se, "RetrieveAETitle") or None,
                    retrieve_location_uid=_s(se, "RetrieveLocationUID") or None,
                    retrieve_url=_s(se, "RetrieveURL") or None,
                    instances=[
                        (_s(ref, "ReferencedSOPClassUID"), _s(ref, "ReferencedSOPInstanceUID"))
                        for ref in se.get("ReferencedSOPSequence") or []
                    ],
                    study_instance_uid=_s(study_item, "StudyInstanceUID"),
                )
            )
    titles = _codes(ds, "ConceptNameCodeSequence") if content else []
    content_refs: list[tuple[str, str]] = []
    texts: list[str] = []
    if content:
        _content_references(ds.get("ContentSequence"), content_refs, texts)
    first = requests[0] if requests else KosRequest()
    top_accession = _s(ds, "AccessionNumber")
    top_issuer = _oid(ds, "IssuerOfAccessionNumberSequence")[0]
    meta = getattr(ds, "file_meta", None)
    return KosInfo(
        sop_instance_uid=_s(ds, "SOPInstanceUID"),
        patient=patient,
        study_instance_uid=_s(ds, "StudyInstanceUID"),
        accession_number=first.accession_number or top_accession,
        accession_issuer=first.accession_issuer if first.accession_number else top_issuer,
        order_number=first.order_number,
        order_issuer=first.order_issuer,
        title=titles[0] if titles else None,
        referenced=referenced,
        content_date=_s(ds, "ContentDate"),
        content_time=_s(ds, "ContentTime"),
        sop_class_uid=_s(ds, "SOPClassUID"),
        series_instance_uid=_s(ds, "SeriesInstanceUID"),
        modality=_s(ds, "Modality"),
        instance_creation_date=_s(ds, "InstanceCreationDate"),
        instance_creation_time=_s(ds, "InstanceCreationTime"),
        timezone_offset=_s(ds, "TimezoneOffsetFromUTC"),
        study_date=_s(ds, "StudyDate"),
        study_time=_s(ds, "StudyTime"),
        study_description=_s(ds, "StudyDescription"),
        description="\n".join(texts),
        requests=requests,
        content_references=content_refs,
        transfer_syntax_uid=str(meta.get("TransferSyntaxUID", "")) if meta is not None else "",
    )


def parse_kos(data: bytes | Path, complete: bool = True) -> KosInfo:
    """Parse a KOS (DICOM Part 10 bytes or a path). Raises :class:`KosError` when the input is not DICOM, is
    truncated, or is a DICOM object other than a Key Object Selection Document. Not ``complete``: only the values
    the KosInfo holds are converted and the content tree is not read (``kos_info_from_dataset(content=False)``):
    a malformed value elsewhere goes unnoticed, for a fifth of the time."""
    ds, _part10 = read_dataset(data, complete)
    sop_class = _s(ds, "SOPClassUID")
    if sop_class != vocab.KOS_SOP_CLASS:
        name = pydicom.uid.UID(sop_class).name if sop_class else "no SOP Class UID"
        raise KosError(f"not a Key Object Selection Document: SOP Class UID {sop_class or '-'} ({name})")
    if complete:
        return kos_info_from_dataset(ds)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return kos_info_from_dataset(ds, content=False)
    except Exception as exc:
        raise KosError(f"malformed DICOM file: {type(exc).__name__}: {exc}") from exc


# --------------------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------------------
def _issuer_seq(oid: str) -> Sequence:
    it = Dataset()
    it.UniversalEntityID = oid
    it.UniversalEntityIDType = "ISO"
    return Sequence([it])


def _check_study(study: StudyInfo) -> None:
    """highdicom raises a bare AttributeError on missing evidence attributes: say what is missing instead."""
    missing = [name for name in ("study_instance_uid",) if not getattr(study, name)]
    if not study.ins and not study.patient_id:
        missing.append("patient identifier (ins or patient_id)")
    if study.ins and not study.ins_issuer:
        missing.append("ins_issuer (the OID of the INS)")
    if missing:
        raise ValueError(f"cannot build a KOS: the study has no {', '.join(missing)}")
    if not study.series or not any(s.instances for s in study.series):
        raise ValueError("cannot build a KOS: the study has no instance")
    for se in study.series:
        if not se.series_instance_uid:
            raise ValueError("cannot build a KOS: a series has no Series Instance UID")
        for inst in se.instances:
            if not inst.sop_class_uid or not inst.sop_instance_uid:
                raise ValueError(f"cannot build a KOS: an instance of series {se.series_instance_uid} has no UIDs")


def series_retrieve_url(base: str, study_uid: str, series_uid: str) -> str:
    """The WADO-RS series URL: ``base`` with ``{study}``/``{series}`` filled, or ``base/studies/…/series/…``."""
    if "{study}" in base or "{series}" in base:
        return base.format(study=study_uid, series=series_uid)
    return f"{base.rstrip('/')}/studies/{study_uid}/series/{series_uid}"


def description_text(study: StudyInfo) -> str:
    """The Key Object Description in the DRIMbox form (DRIMbox parses it for the modalities)."""
    lines = [f"Examen : {study.study_description}"]
    if study.procedure_code is not None:
        lines.append(f"Acte = {study.procedure_code.code} : {study.procedure_code.display}")
    for se in study.series:
        lines.append(f"Série-{se.series_instance_uid} : {se.modality} @ {se.body_part} : {se.series_description}")
    return "\n".join(lines) + "\n"


def _default_content_datetime(study: StudyInfo) -> datetime:
    """One hour after the study started (the examples' creationTime); deterministic."""
    try:
        start = datetime.strptime(study.study_date + (study.study_time[:6] or "000000").ljust(6, "0"), "%Y%m%d%H%M%S")
    except ValueError:
        start = datetime(2026, 1, 1, 8, 0, 0)
    return start + timedelta(hours=1)


def build_kos(
    study: StudyInfo,
    *,
    retrieve_ae_title: str | None = "XDSI_SOURCE",
    retrieve_url: str | None = None,
    retrieve_location_uid: str | None = None,
    seed: int = 0,
    exam: examples.Exam | None = None,
    sop_instance_uid: str | None = None,
    series_instance_uid: str | None = None,
    content_datetime: datetime | None = None,
    institution_name: str | None = None,
    description: bool = True,
) -> Dataset:
    """The KOS manifest of ``study`` (a pydicom Dataset with its file meta; :func:`write_kos` writes it).

    ``retrieve_url`` is the WADO-RS base (``http://host/dicom-web``) or a template with ``{study}`` and
    ``{series}``; each series gets its own URL. ``retrieve_ae_title`` / ``retrieve_location_uid`` = None leave
    the attribute out. UIDs come from ``exam`` (its ``kos_uid``) or from ``seed`` and the study UID; dates from
    ``content_datetime`` (default: one hour after the study). Same arguments -> same bytes.
    Raises ``ValueError`` when the study lacks what a KOS needs.
    """
    _check_study(study)
    if sop_instance_uid is None:
        sop_instance_uid = exam.kos_uid if exam is not None else seeded_uid(seed, "kos", study.study_instance_uid)
    if series_instance_uid is None:
        series_instance_uid = (
            examples.uid(exam.name, "kos-series")
            if exam is not None
            else seeded_uid(seed, "kos-series", study.study_instance_uid)
        )
    when = content_datetime or _default_content_datetime(study)
    date, time = when.strftime("%Y%m%d"), when.strftime("%H%M%S")

    evidence: list[Dataset] = []
    for se in study.series:
        for inst in se.instances:
            ev = Dataset()
            ev.StudyInstanceUID = study.study_instance_uid
            ev.SeriesInstanceUID = se.series_instance_uid
            ev.SOPClassUID = inst.sop_class_uid
            ev.SOPInstanceUID = inst.sop_instance_uid
            if vocab.is_image_sop_class(inst.sop_class_uid):
                ev.Rows = ev.Columns = 1  # only tells highdicom to write an IMAGE item
            evidence.append(ev)
    first = evidence[0]
    first.SpecificCharacterSet = "ISO_IR 100"
    first.PatientID = study.ins or study.patient_id
    first.PatientName = study.patient_name
    first.PatientBirthDate = study.patient_birth_date
    first.PatientSex = study.patient_sex
    first.AccessionNumber = study.accession_number
    first.StudyID = study.study_id
    first.StudyDate = study.study_date
    first.StudyTime = study.study_time
    first.ReferringPhysicianName = study.referring_physician_name

    from highdicom.ko import KeyObjectSelection, KeyObjectSelectionDocument  # building only: a heavy import
    from highdicom.sr import CodedConcept

    content = KeyObjectSelection(
        document_title=CodedConcept(*MANIFEST_TITLE),
        referenced_objects=evidence,
        description=description_text(study) if description else None,
    )
    request = Dataset()
    request.StudyInstanceUID = study.study_instance_uid
    request.AccessionNumber = study.accession_number
    if study.accession_issuer:
        request.IssuerOfAccessionNumberSequence = _issuer_seq(study.accession_issuer)
    request.ReferencedStudySequence = Sequence([])
    request.RequestedProcedureID = study.accession_number[-16:]
    request.RequestedProcedureDescription = study.study_description[:64]
    request.RequestedProcedureCodeSequence = Sequence(
        [code_item(study.procedure_code)] if study.procedure_code is not None else []
    )
    request.PlacerOrderNumberImagingServiceRequest = study.order_number
    if study.order_issuer:
        request.OrderPlacerIdentifierSequence = _issuer_seq(study.order_issuer)
    request.FillerOrderNumberImagingServiceRequest = ""

    ds = KeyObjectSelectionDocument(
        evidence=evidence,
        content=content,
        series_instance_uid=series_instance_uid,
        series_number=KOS_SERIES_NUMBER,
        sop_instance_uid=sop_instance_uid,
        instance_number=1,
        manufacturer="XDSI",
        institution_name=institution_name or study.institution_name or None,
        requested_procedures=[request],
        content_date=date,
        content_time=time,
        series_date=date,
        series_time=time,
        series_description="Référence d'objets d'un examen d'imagerie",
    )
    ds.ContinuityOfContent = "SEPARATE"  # as the ANS examples and DRIMbox (highdicom writes CONTINUOUS)
    for equipment in ds.get("ContributingEquipmentSequence") or []:
        equipment.ContributionDateTime = when.strftime("%Y%m%d%H%M%S")  # highdicom writes now(): keep the bytes stable
    ds.InstanceCreationDate = DA(date)
    ds.InstanceCreationTime = TM(time)
    if study.accession_issuer:
        ds.IssuerOfAccessionNumberSequence = _issuer_seq(study.accession_issuer)
    if study.study_description:
        ds.StudyDescription = study.study_description[:64]
    # The patient, identified by the INS (CI-SIS), with the local IPP beside it. Without an INS (a study from
    # elsewhere), the local identifier and its issuer: the KOS rules then say what the CI-SIS misses.
    if study.ins:
        ds.IssuerOfPatientID = vocab.INS_ISSUER_TEXT
        ds.IssuerOfPatientIDQualifiersSequence = _issuer_seq(study.ins_issuer)
    elif study.patient_id_issuer:
        ds.IssuerOfPatientIDQualifiersSequence = _issuer_seq(study.patient_id_issuer)
    if study.ins and study.patient_id and study.patient_id != study.ins:
        other = Dataset()
        other.PatientID = study.patient_id
        other.TypeOfPatientID = "TEXT"
        if study.patient_id_issuer:
            other.IssuerOfPatientIDQualifiersSequence = _issuer_seq(study.patient_id_issuer)
        ds.OtherPatientIDsSequence = Sequence([other])
    # Retrieve information per series (XDS-I.b; highdicom sets none of it).
    for study_item in ds.CurrentRequestedProcedureEvidenceSequence:
        for se in study_item.ReferencedSeriesSequence:
            if retrieve_ae_title:
                se.RetrieveAETitle = retrieve_ae_title
            if retrieve_location_uid:
                se.RetrieveLocationUID = retrieve_location_uid
            if retrieve_url:
                se.RetrieveURL = series_retrieve_url(retrieve_url, study_item.StudyInstanceUID, se.SeriesInstanceUID)
    ds.file_meta.ImplementationClassUID = UID(vocab.IMPLEMENTATION_CLASS_UID)
    ds.file_meta.ImplementationVersionName = vocab.IMPLEMENTATION_VERSION_NAME
    return ds


def example_kos_bytes(
    exam: examples.Exam | None = None,
    *,
    retrieve_ae_title: str | None = "XDSI_SOURCE",
    retrieve_url: str | None = None,
    retrieve_location_uid: str | None = examples.IMAGING_SOURCE_UID,
) -> bytes:
    """The real KOS of an example exam (default: ``examples.Exam()``), without writing the study: what
    ``examples.kos_bytes`` can return instead of its header-only stand-in. Its uniqueId is ``exam.kos_uid``."""
    exam = exam or examples.Exam()
    study = generate_study(Path("."), exam=exam, write=False)
    return kos_bytes(
        build_kos(
            study,
            exam=exam,
            retrieve_ae_title=retrieve_ae_title,
            retrieve_url=retrieve_url,
            retrieve_location_uid=retrieve_location_uid,
        )
    )


def kos_bytes(ds: Dataset) -> bytes:
    """The DICOM Part 10 bytes of a KOS dataset."""
    buf = io.BytesIO()
    if not getattr(ds, "preamble", None):
        ds.preamble = b"\0" * 128
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def write_kos(ds: Dataset, path: Path | str) -> Path:
    """Write a KOS dataset as a DICOM Part 10 file; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(kos_bytes(ds))
    return path


# --------------------------------------------------------------------------------------------------------------
# The DocumentEntry a producer derives from a KOS
# --------------------------------------------------------------------------------------------------------------
def dicom_datetime(date: str, time: str, offset: str = "") -> str:
    """XDS DTM (UTC when the offset is known, as the DICOM local time otherwise) from DICOM DA/TM (+ offset)."""
    if not date:
        return ""
    digits = "".join(ch for ch in time.split(".")[0] if ch.isdigit())[:6]
    stamp = date + digits
    if not offset or len(offset) != 5 or offset[0] not in "+-" or not offset[1:].isdigit():
        return stamp
    try:
        local = datetime.strptime(date + digits.ljust(6, "0"), "%Y%m%d%H%M%S")
    except ValueError:
        return stamp
    sign = 1 if offset[0] == "+" else -1
    delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])) * sign
    utc = (local - delta).replace(tzinfo=UTC)
    return utc.strftime("%Y%m%d%H%M%S")[: len(stamp)]


def _hl7_name(dicom_name: str) -> str:
    comps = dicom_name.split("^")
    family = comps[0] if comps else ""
    given = comps[1] if len(comps) > 1 else ""
    return f"{family}^{given}^^^^^L"


def modality_code(modality: str) -> Code:
    info = vocab.MODALITIES.get(modality)
    return Code(modality, md.DCM, info.label if info else modality)


def region_code(region: str) -> Code:
    return Code(region, md.SNOMED_CT, vocab.REGIONS.get(region, ""))


def kos_entry_metadata(kos: KosInfo, study: StudyInfo | None = None, *, entry_uuid: str | None = None) -> DocumentEntry:
    """The DocumentEntry (Fiche) a producer submits for ``kos`` (volet Tableau 12, RAD TF-3 4.68.4.1.2.3.2).

    uniqueId = KOS SOP Instance UID; mimeType application/dicom; class 31, type IMG-KOS, format = the KOS SOP
    class; event codes = the modalities of the referenced series (from ``study``, else from the SOP classes),
    the regions of the study's body parts, and the requested procedure codes; referenceIdList = accession
    numbers with issuer, the study UID, the placer order numbers with issuer; creationTime from the KOS
    Instance Creation (else Content) date and time, serviceStartTime from Study Date/Time. The fields a KOS does
    not hold (author, legal authenticator, facility, practice setting) are left empty.
    """
    de = DocumentEntry(
        entry_uuid=entry_uuid or f"urn:uuid:{uuid.uuid5(_NS, kos.sop_instance_uid)}",
        unique_id=kos.sop_instance_uid,
        mime_type="application/dicom",
    )
    de.title = "Référence d'objets d'un examen d'imagerie"
    de.class_code = Code("31", md.CLASS_CODE_SYSTEM, "Imagerie médicale")
    de.type_code = Code("IMG-KOS", md.TYPE_DOC_COMPLEMENTAIRE, "Reference d'objets d'un examen d'imagerie")
    de.format_code = Code(
        md.KOS_SOP_CLASS,
        md.DICOM_UID_REGISTRY,
        "Document de Référence d'objets d'un examen d'imagerie selon profil IHE RAD XDS-I",
    )
    de.confidentiality_codes = [Code("N", "2.16.840.1.113883.5.25", "Normal")]
    de.language_code = "fr-FR"
    p = kos.patient
    if p.ins and p.ins_oid:
        de.patient_id = str(CX.ins(p.ins, p.ins_oid))
    elif p.id:
        de.patient_id = str(CX(p.id, p.universal_entity_id))
    for pid, _issuer, oid in p.other_ids:
        if pid and oid and oid not in vocab.INS_OIDS:
            de.source_patient_id = f"{pid}^^^&{oid}&ISO^PI"
            break
    info = []
    if p.name:
        info.append(f"PID-5|{_hl7_name(p.name)}")
    if p.birth_date:
        info.append(f"PID-7|{p.birth_date}")
    if p.sex:
        info.append(f"PID-8|{p.sex}")
    de.source_patient_info = info
    de.creation_time = (
        dicom_datetime(
            kos.instance_creation_date or kos.content_date,
            kos.instance_creation_time if kos.instance_creation_date else kos.content_time,
            kos.timezone_offset,
        )
        or None
    )
    de.service_start_time = dicom_datetime(kos.study_date, kos.study_time, kos.timezone_offset) or None
    modalities = study.modalities if study is not None else kos.modalities
    events = [modality_code(m) for m in modalities]
    if study is not None:
        events += [region_code(r) for r in study.region_codes]
    seen: set[tuple[str, str]] = set()
    for req in kos.requests:
        for pc in req.procedure_codes:
            scheme = vocab.DESIGNATOR_OIDS.get(pc.scheme, pc.scheme)
            if pc.value and (pc.value, scheme) not in seen:
                seen.add((pc.value, scheme))
                events.append(Code(pc.value, scheme, pc.meaning))
    de.event_codes = events
    refs = [str(ReferenceId(acc, ids.ACCESSION, issuer or None)) for acc, issuer in kos.accession_numbers]
    if kos.study_instance_uid:
        refs.append(str(ReferenceId(kos.study_instance_uid, ids.STUDY_INSTANCE_UID)))
    refs += [str(ReferenceId(num, ids.ORDER, issuer or None)) for num, issuer in kos.order_numbers]
    de.reference_ids = refs
    return de
