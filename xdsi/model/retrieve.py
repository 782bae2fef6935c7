"""Retrieve requests and responses: ITI-43 (Flux 7/8) and RAD-69 (Flux 9/10)."""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsi.model.responses import RegistryResponse

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"


@dataclass(frozen=True)
class DocumentRequest:
    repository_unique_id: str
    document_unique_id: str
    home_community_id: str | None = None


@dataclass
class RetrievedDocument:
    repository_unique_id: str
    document_unique_id: str
    mime_type: str
    content: bytes
    home_community_id: str | None = None
    new_repository_unique_id: str | None = None
    new_document_unique_id: str | None = None


@dataclass
class RetrieveResponse:
    """ITI-43 response, also the RAD-69 response (the instances are the documents)."""

    response: RegistryResponse = field(default_factory=RegistryResponse)
    documents: list[RetrievedDocument] = field(default_factory=list)


@dataclass
class SeriesRequest:
    series_instance_uid: str
    documents: list[DocumentRequest] = field(default_factory=list)


@dataclass
class StudyRequest:
    study_instance_uid: str
    series: list[SeriesRequest] = field(default_factory=list)


@dataclass
class ImagingRetrieveRequest:
    """RAD-69 RetrieveImagingDocumentSetRequest (Flux 9): the Image/idUnique are the SOP Instance UIDs."""

    studies: list[StudyRequest] = field(default_factory=list)
    transfer_syntaxes: list[str] = field(default_factory=lambda: [EXPLICIT_VR_LITTLE_ENDIAN])

    @property
    def document_requests(self) -> list[DocumentRequest]:
        return [d for st in self.studies for se in st.series for d in se.documents]
