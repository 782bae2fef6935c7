"""XDS metadata as the volet names it, free of any XML encoding.

LotSoumission = :class:`SubmissionSet`, Fiche = :class:`DocumentEntry`, Classeur = :class:`Folder`,
Document = :class:`Document`. ``xdsi.ebrim`` encodes and decodes these; the cardinality tables read them.

Decoded objects remember where they came from (``location``, an XPath) and how many times each
attribute occurred in the message (``occurrences``): a message may repeat what the model holds once,
and the cardinality rules must see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xdsi.model import identifiers as ids

# Availability status URNs (TRE_R269 / TRE_R270).
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"
STATUSES = (APPROVED, DEPRECATED, ARCHIVED, DELETED)

STABLE = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
ON_DEMAND = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"

# Code systems and value sets the imaging volet uses.
MODALITY_JDV = "1.2.250.1.213.1.1.5.618"
REGION_JDV = "1.2.250.1.213.1.1.5.695"
DCM = "1.2.840.10008.2.16.4"
SNOMED_CT = "2.16.840.1.113883.6.96"
CCAM = "1.2.250.1.213.2.5"
CIM10 = "2.16.840.1.113883.6.3"
KOS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"
DICOM_UID_REGISTRY = "1.2.840.10008.2.6.1"
CLASS_CODE_SYSTEM = "1.2.250.1.213.1.1.4.1"
TYPE_DOC_COMPLEMENTAIRE = "1.2.250.1.213.1.1.4.12"
LOINC = "2.16.840.1.113883.6.1"


@dataclass(frozen=True)
class Code:
    code: str
    scheme: str
    display: str = ""

    def __str__(self) -> str:
        return f"{self.code}^^{self.scheme}"


class _Located:
    """Mixin: where a decoded object sits in its message and how often each attribute occurred."""

    location: str
    occurrences: dict[str, int]

    def count(self, attr: str) -> int:
        if attr in self.occurrences:
            return self.occurrences[attr]
        value: Any = getattr(self, attr)
        if value is None or value == "":
            return 0
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, list | tuple):
            return len(value)
        return 1


@dataclass
class Author(_Located):
    person: str | None = None
    institutions: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    specialties: list[str] = field(default_factory=list)
    telecommunications: list[str] = field(default_factory=list)
    location: str = ""
    occurrences: dict[str, int] = field(default_factory=dict)


@dataclass
class DocumentEntry(_Located):
    """Fiche: the metadata of one document (IHE XDS DocumentEntry)."""

    entry_uuid: str
    unique_id: str | None = None
    patient_id: str | None = None
    mime_type: str | None = None
    object_type: str = STABLE
    logical_id: str | None = None
    version: str | None = None
    status: str | None = None
    title: str | None = None
    comments: str | None = None
    class_code: Code | None = None
    type_code: Code | None = None
    format_code: Code | None = None
    healthcare_facility_type_code: Code | None = None
    practice_setting_code: Code | None = None
    confidentiality_codes: list[Code] = field(default_factory=list)
    event_codes: list[Code] = field(default_factory=list)
    authors: list[Author] = field(default_factory=list)
    legal_authenticator: str | None = None
    creation_time: str | None = None
    service_start_time: str | None = None
    service_stop_time: str | None = None
    language_code: str | None = None
    source_patient_id: str | None = None
    source_patient_info: list[str] = field(default_factory=list)
    hash: str | None = None
    size: str | None = None
    repository_unique_id: str | None = None
    uri: str | None = None
    document_availability: str | None = None
    reference_ids: list[str] = field(default_factory=list)
    home: str | None = None
    extra_slots: dict[str, list[str]] = field(default_factory=dict)
    location: str = ""
    occurrences: dict[str, int] = field(default_factory=dict)

    # --- the imaging view of the entry (volet Tableau 12) -------------------------------------------
    @property
    def is_kos(self) -> bool:
        """A KOS entry (XDS-I.b manifest): by MIME type, format code or CI-SIS type code."""
        return (
            self.mime_type == "application/dicom"
            or (self.format_code is not None and self.format_code.code == KOS_SOP_CLASS)
            or (self.type_code is not None and self.type_code.code == "IMG-KOS")
        )

    @property
    def modality_codes(self) -> list[Code]:
        return [c for c in self.event_codes if c.scheme in (MODALITY_JDV, DCM)]

    @property
    def region_codes(self) -> list[Code]:
        return [c for c in self.event_codes if c.scheme in (REGION_JDV, SNOMED_CT)]

    @property
    def procedure_codes(self) -> list[Code]:
        return [c for c in self.event_codes if c not in self.modality_codes and c not in self.region_codes]

    def reference_ids_of(self, type_urn: str) -> list[str]:
        return [v for v in self.reference_ids if v.split("^")[4:5] == [type_urn]]

    @property
    def reference_id_slots(self) -> int:
        """How many referenceIdList slots the entry carries (the volet's listeIdentifiantsReference)."""
        return 1 if self.reference_ids else 0

    @property
    def accession_numbers(self) -> list[str]:
        return self.reference_ids_of(ids.ACCESSION)

    @property
    def study_instance_uids(self) -> list[str]:
        return self.reference_ids_of(ids.STUDY_INSTANCE_UID)

    @property
    def order_numbers(self) -> list[str]:
        return self.reference_ids_of(ids.ORDER)


@dataclass
class SubmissionSet(_Located):
    """LotSoumission."""

    entry_uuid: str
    unique_id: str | None = None
    source_id: str | None = None
    patient_id: str | None = None
    submission_time: str | None = None
    content_type_code: Code | None = None
    authors: list[Author] = field(default_factory=list)
    title: str | None = None
    comments: str | None = None
    intended_recipients: list[str] = field(default_factory=list)
    status: str | None = None
    home: str | None = None
    extra_slots: dict[str, list[str]] = field(default_factory=dict)
    location: str = ""
    occurrences: dict[str, int] = field(default_factory=dict)


@dataclass
class Folder(_Located):
    """Classeur."""

    entry_uuid: str
    unique_id: str | None = None
    patient_id: str | None = None
    codes: list[Code] = field(default_factory=list)
    title: str | None = None
    comments: str | None = None
    last_update_time: str | None = None
    status: str | None = None
    logical_id: str | None = None
    version: str | None = None
    home: str | None = None
    extra_slots: dict[str, list[str]] = field(default_factory=dict)
    location: str = ""
    occurrences: dict[str, int] = field(default_factory=dict)


# Association types (IHE ITI TF-3 4.2.2).
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
APND = "urn:ihe:iti:2007:AssociationType:APND"
XFRM = "urn:ihe:iti:2007:AssociationType:XFRM"
XFRM_RPLC = "urn:ihe:iti:2007:AssociationType:XFRM_RPLC"
SIGNS = "urn:ihe:iti:2007:AssociationType:signs"
IS_SNAPSHOT_OF = "urn:ihe:iti:2010:AssociationType:IsSnapshotOf"
UPDATE_AVAILABILITY_STATUS = "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"
SUBMIT_ASSOCIATION = "urn:ihe:iti:2010:AssociationType:SubmitAssociation"


@dataclass
class Association(_Located):
    id: str
    type: str
    source: str
    target: str
    submission_set_status: str | None = None
    previous_version: str | None = None
    original_status: str | None = None
    new_status: str | None = None
    propagation: str | None = None
    status: str | None = None
    extra_slots: dict[str, list[str]] = field(default_factory=dict)
    location: str = ""
    occurrences: dict[str, int] = field(default_factory=dict)


@dataclass
class Document(_Located):
    """The content of one document in ITI-41 (``xdsb:Document``), linked to its entry by ``id``."""

    id: str
    content: bytes = b""
    location: str = ""
    occurrences: dict[str, int] = field(default_factory=dict)


@dataclass
class RegistryObjects:
    """What a submission (ITI-41, ITI-57) or a LeafClass query result carries."""

    submission_sets: list[SubmissionSet] = field(default_factory=list)
    entries: list[DocumentEntry] = field(default_factory=list)
    folders: list[Folder] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)
    object_refs: list[str] = field(default_factory=list)

    @property
    def submission_set(self) -> SubmissionSet | None:
        return self.submission_sets[0] if self.submission_sets else None
