"""Deterministic example messages for every flux, built from the model by our own encoders.

One imaging exam (a chest CT of a test patient) published as a KOS and its report, then updated,
searched and retrieved. ``xdsi examples --out examples/`` writes them; the tests use them as the
valid baselines that rule tests break one element at a time.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from xdsi.messages import dicommeta
from xdsi.model import identifiers as ids
from xdsi.model import metadata as md
from xdsi.model.identifiers import CX, XCN, XON, ReferenceId
from xdsi.model.metadata import (
    Association,
    Author,
    Code,
    Document,
    DocumentEntry,
    RegistryObjects,
    SubmissionSet,
)
from xdsi.model.responses import RegistryResponse
from xdsi.model.retrieve import (
    DocumentRequest,
    ImagingRetrieveRequest,
    RetrievedDocument,
    RetrieveResponse,
    SeriesRequest,
    StudyRequest,
)

_NS = uuid.UUID("0b7d4c1e-2f57-4e0e-9a1c-5d2b8e6f4a10")
ORG_ROOT = "1.2.250.1.999.42"  # fictitious organisation root used by every example


def uid(*parts: str) -> str:
    """A deterministic DICOM UID (2.25 form) from a name."""
    return f"2.25.{uuid.uuid5(_NS, '/'.join(parts)).int}"


def entry_uuid(*parts: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NS, '/'.join(parts))}"


@dataclass
class Exam:
    """What an imaging exam contributes to the metadata (volet Tableau 11 concepts)."""

    name: str = "ct-thorax"
    patient_ins: str = "248039263001064"
    patient_ipp: str = "IPP0042"
    accession_number: str = "ACC20261123001"
    accession_issuer: str = f"{ORG_ROOT}.1.1"
    order_number: str = "CMD-2026-0042"
    order_issuer: str = f"{ORG_ROOT}.1.2"
    modality: Code = field(default_factory=lambda: Code("CT", md.DCM, "Tomodensitométrie"))
    region: Code = field(default_factory=lambda: Code("67734004", md.SNOMED_CT, "Segment thoracique"))
    procedure: Code = field(default_factory=lambda: Code("ZBQK001", md.CCAM, "Scanographie du thorax"))
    study_date: str = "20261123091500"
    series: int = 2
    instances_per_series: int = 3

    @property
    def patient_id(self) -> str:
        return str(CX.ins(self.patient_ins))

    @property
    def study_uid(self) -> str:
        return uid(self.name, "study")

    def series_uid(self, n: int) -> str:
        return uid(self.name, "series", str(n))

    def instance_uid(self, s: int, i: int) -> str:
        return uid(self.name, "instance", str(s), str(i))

    @property
    def kos_uid(self) -> str:
        return uid(self.name, "kos")

    @property
    def report_uid(self) -> str:
        return f"{ORG_ROOT}.2.{hash_int(self.name)}"


def hash_int(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest()[:12], 16)


RADIOLOGIST = XCN("810002909371", "MARTIN", "Claire")
CLINIC = XON("Cabinet de radiologie du Parc", "10B0127189")
REPOSITORY_UID = f"{ORG_ROOT}.3.1"
IMAGING_SOURCE_UID = f"{ORG_ROOT}.3.2"
SOURCE_ID = f"{ORG_ROOT}.4"
SUBMISSION_TIME = "20261123103000"


def author() -> Author:
    return Author(
        person=str(RADIOLOGIST),
        institutions=[str(CLINIC)],
        roles=["Radiologue"],
        specialties=["G15_10/SM44^Radio-diagnostic et imagerie médicale (SM)^1.2.250.1.213.1.1.4.5"],
    )


def _common(exam: Exam, de: DocumentEntry) -> DocumentEntry:
    de.patient_id = exam.patient_id
    de.source_patient_id = f"{exam.patient_ipp}^^^&{ORG_ROOT}.5&ISO^PI"
    de.source_patient_info = ["PID-5|DUPONT^Marie^^^^^L", "PID-7|19800315", "PID-8|F"]
    de.authors = [author()]
    de.legal_authenticator = str(RADIOLOGIST)
    de.creation_time = "20261123101500"
    de.service_start_time = exam.study_date
    de.service_stop_time = "20261123093000"
    de.language_code = "fr-FR"
    de.healthcare_facility_type_code = Code("SA07", "1.2.250.1.71.4.2.4", "Cabinet individuel")
    de.practice_setting_code = Code("AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire")
    de.confidentiality_codes = [Code("N", "2.16.840.1.113883.5.25", "Normal")]
    de.event_codes = [exam.modality, exam.region, exam.procedure]
    de.reference_ids = [
        str(ReferenceId(exam.accession_number, ids.ACCESSION, exam.accession_issuer)),
        str(ReferenceId(exam.study_uid, ids.STUDY_INSTANCE_UID)),
        str(ReferenceId(exam.order_number, ids.ORDER, exam.order_issuer)),
    ]
    return de


def kos_entry(exam: Exam, entry_id: str = "DocumentEntry-KOS") -> DocumentEntry:
    de = DocumentEntry(entry_uuid=entry_id, unique_id=exam.kos_uid, mime_type="application/dicom")
    de.title = "Référence d'objets d'un examen d'imagerie"
    de.class_code = Code("31", md.CLASS_CODE_SYSTEM, "Imagerie médicale")
    de.type_code = Code("IMG-KOS", md.TYPE_DOC_COMPLEMENTAIRE, "Reference d'objets d'un examen d'imagerie")
    de.format_code = Code(
        md.KOS_SOP_CLASS,
        md.DICOM_UID_REGISTRY,
        "Document de Référence d'objets d'un examen d'imagerie selon profil IHE RAD XDS-I",
    )
    return _common(exam, de)


def report_entry(exam: Exam, entry_id: str = "DocumentEntry-CR") -> DocumentEntry:
    de = DocumentEntry(entry_uuid=entry_id, unique_id=exam.report_uid, mime_type="text/xml")
    de.title = "Compte rendu de scanographie du thorax"
    de.class_code = Code("10", md.CLASS_CODE_SYSTEM, "Compte rendu")
    de.type_code = Code("18748-4", md.LOINC, "CR d'imagerie médicale")
    de.format_code = Code(
        "urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013",
        "1.3.6.1.4.1.19376.1.2.3",
        "Compte-rendu d'imagerie médicale",
    )
    return _common(exam, de)


def kos_bytes(exam: Exam) -> bytes:
    """The exam's real KOS manifest (built by ``xdsi.dicom.kos`` from the synthetic study of the exam)."""
    from xdsi.dicom.kos import example_kos_bytes  # the DICOM layer builds on these examples

    return example_kos_bytes(exam)


def report_bytes(exam: Exam) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3">'
        f'<id root="{exam.report_uid}"/><title>Compte rendu de scanographie du thorax</title></ClinicalDocument>\n'
    ).encode()


def submission_set(exam: Exam, ss_id: str = "SubmissionSet01") -> SubmissionSet:
    return SubmissionSet(
        entry_uuid=ss_id,
        unique_id=uid(exam.name, "submission-set"),
        source_id=SOURCE_ID,
        patient_id=exam.patient_id,
        submission_time=SUBMISSION_TIME,
        content_type_code=Code("04", "1.2.250.1.213.2.2", "Hospitalisation de jour"),
        authors=[author()],
        title="Examen d'imagerie",
    )


def has_member(
    ss_id: str, target: str, n: int, submission_set_status: str | None = None, previous_version: str | None = None
) -> Association:
    return Association(
        id=f"Association{n:02d}",
        type=md.HAS_MEMBER,
        source=ss_id,
        target=target,
        submission_set_status=submission_set_status,
        previous_version=previous_version,
    )


def flux1(exam: Exam | None = None) -> tuple[RegistryObjects, list[Document]]:
    """Flux 1 (ITI-41): a KOS and its report in one submission set."""
    exam = exam or Exam()
    kos, cr = kos_entry(exam), report_entry(exam)
    ss = submission_set(exam)
    assocs = [
        has_member(ss.entry_uuid, kos.entry_uuid, 1, submission_set_status="Original"),
        has_member(ss.entry_uuid, cr.entry_uuid, 2, submission_set_status="Original"),
    ]
    objects = RegistryObjects(submission_sets=[ss], entries=[kos, cr], associations=assocs)
    docs = [Document(kos.entry_uuid, kos_bytes(exam)), Document(cr.entry_uuid, report_bytes(exam))]
    return objects, docs


def registered(de: DocumentEntry, exam: Exam, content: bytes, version: str = "1") -> DocumentEntry:
    """The entry as the registry holds it after Flux 1: UUID, status, hash, size, repository."""
    de.entry_uuid = entry_uuid(exam.name, de.unique_id or "")
    de.logical_id = de.entry_uuid
    de.version = version
    de.status = md.APPROVED
    de.hash = hashlib.sha1(content).hexdigest()
    de.size = str(len(content))
    de.repository_unique_id = REPOSITORY_UID
    return de


def flux3_status(
    exam: Exam | None = None,
    *,
    target: str | None = None,
    original: str = md.APPROVED,
    new: str = md.ARCHIVED,
    submission_set_uid: str | None = None,
) -> RegistryObjects:
    """Flux 3 (ITI-57): change the status of the KOS entry (``target``: its entryUUID), by default Approved ->
    CI-SIS Archived."""
    exam = exam or Exam()
    ss = submission_set(exam, "SubmissionSet02")
    ss.unique_id = submission_set_uid or uid(exam.name, "submission-set", "update")
    a = Association(
        id="Association01",
        type=md.UPDATE_AVAILABILITY_STATUS,
        source=ss.entry_uuid,
        target=target or entry_uuid(exam.name, exam.kos_uid),
        original_status=original,
        new_status=new,
    )
    return RegistryObjects(submission_sets=[ss], associations=[a])


def flux3_new_version(
    exam: Exam | None = None,
    *,
    logical_id: str | None = None,
    unique_id: str | None = None,
    submission_set_uid: str | None = None,
) -> RegistryObjects:
    """Flux 3 (ITI-57): a new version of the KOS entry (``logical_id``, ``unique_id``: those registered) hidden
    from professionals (MASQUE_PS)."""
    exam = exam or Exam()
    ss = submission_set(exam, "SubmissionSet03")
    ss.unique_id = submission_set_uid or uid(exam.name, "submission-set", "new-version")
    de = kos_entry(exam, "DocumentEntry-KOS-v2")
    de.logical_id = logical_id or entry_uuid(exam.name, exam.kos_uid)
    if unique_id:
        de.unique_id = unique_id
    de.confidentiality_codes.append(Code("MASQUE_PS", "1.2.250.1.213.1.1.4.13", "Masqué aux professionnels de santé"))
    a = has_member(ss.entry_uuid, de.entry_uuid, 1, submission_set_status="Original", previous_version="1")
    return RegistryObjects(submission_sets=[ss], entries=[de], associations=[a])


def flux5_slots(exam: Exam | None = None) -> list[tuple[str, list[str]]]:
    """Flux 5 (ITI-18 FindDocuments): the patient's KOS of a CT of the chest, Approved."""
    exam = exam or Exam()
    return [
        ("$XDSDocumentEntryPatientId", [f"'{exam.patient_id}'"]),
        ("$XDSDocumentEntryStatus", [f"('{md.APPROVED}')"]),
        ("$XDSDocumentEntryServiceStartTimeFrom", ["20260101"]),
        ("$XDSDocumentEntryEventCodeList", [f"('{exam.modality}')"]),
        ("$XDSDocumentEntryEventCodeList", [f"('{exam.region}')"]),
        ("$XDSDocumentEntryTypeCode", [f"('{Code('IMG-KOS', md.TYPE_DOC_COMPLEMENTAIRE)}')"]),
    ]


def flux6(exam: Exam | None = None) -> RegistryObjects:
    """Flux 6 (ITI-18 LeafClass response): the registered KOS entry."""
    exam = exam or Exam()
    return RegistryObjects(entries=[registered(kos_entry(exam), exam, kos_bytes(exam))])


def flux7(exam: Exam | None = None) -> list[DocumentRequest]:
    exam = exam or Exam()
    return [DocumentRequest(REPOSITORY_UID, exam.kos_uid)]


def flux8(exam: Exam | None = None) -> RetrieveResponse:
    exam = exam or Exam()
    doc = RetrievedDocument(REPOSITORY_UID, exam.kos_uid, "application/dicom", kos_bytes(exam))
    return RetrieveResponse(RegistryResponse(), [doc])


def flux9(exam: Exam | None = None) -> ImagingRetrieveRequest:
    exam = exam or Exam()
    series = [
        SeriesRequest(
            exam.series_uid(s),
            [DocumentRequest(IMAGING_SOURCE_UID, exam.instance_uid(s, i)) for i in range(exam.instances_per_series)],
        )
        for s in range(exam.series)
    ]
    return ImagingRetrieveRequest([StudyRequest(exam.study_uid, series)])


def instance_bytes(exam: Exam, s: int, i: int) -> bytes:
    """Stand-in for a CT image: a real Part 10 header, no dataset."""
    return dicommeta.file_meta(dicommeta.CT_IMAGE_SOP_CLASS, exam.instance_uid(s, i))


def flux10(exam: Exam | None = None) -> RetrieveResponse:
    exam = exam or Exam()
    docs = [
        RetrievedDocument(IMAGING_SOURCE_UID, exam.instance_uid(s, i), "application/dicom", instance_bytes(exam, s, i))
        for s in range(exam.series)
        for i in range(exam.instances_per_series)
    ]
    return RetrieveResponse(RegistryResponse(), docs)


def flux1_with_folder(exam: Exam | None = None) -> tuple[RegistryObjects, list[Document]]:
    """Flux 1 with a Classeur (Folder) holding the KOS."""
    exam = exam or Exam()
    objects, docs = flux1(exam)
    ss = objects.submission_sets[0]
    fd = md.Folder(
        entry_uuid="Folder01",
        unique_id=uid(exam.name, "folder"),
        patient_id=exam.patient_id,
        codes=[exam.procedure],
        title="Examens d'imagerie du thorax",
    )
    objects.folders.append(fd)
    objects.associations += [
        has_member(ss.entry_uuid, fd.entry_uuid, 3, submission_set_status="Original"),
        has_member(fd.entry_uuid, "DocumentEntry-KOS", 4),
    ]
    return objects, docs
