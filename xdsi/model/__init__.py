"""The domain model: XDS metadata, identifiers, requests and responses. No XML here."""

from xdsi.model.identifiers import CX, XCN, XON, ReferenceId
from xdsi.model.metadata import (
    Association,
    Author,
    Code,
    Document,
    DocumentEntry,
    Folder,
    RegistryObjects,
    SubmissionSet,
)
from xdsi.model.responses import RegistryError, RegistryResponse
from xdsi.model.retrieve import (
    DocumentRequest,
    ImagingRetrieveRequest,
    RetrievedDocument,
    RetrieveResponse,
    SeriesRequest,
    StudyRequest,
)

__all__ = [
    "CX",
    "XCN",
    "XON",
    "Association",
    "Author",
    "Code",
    "Document",
    "DocumentEntry",
    "DocumentRequest",
    "Folder",
    "ImagingRetrieveRequest",
    "ReferenceId",
    "RegistryError",
    "RegistryObjects",
    "RegistryResponse",
    "RetrieveResponse",
    "RetrievedDocument",
    "SeriesRequest",
    "StudyRequest",
    "SubmissionSet",
]
