"""ITI-18 Registry Stored Query (Flux 5 request, Flux 6 response)."""

from xdsi.ebrim.query import (
    AdhocQuery,
    AdhocQueryResult,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
)

ACTION = "urn:ihe:iti:2007:RegistryStoredQuery"
RESPONSE_ACTION = "urn:ihe:iti:2007:RegistryStoredQueryResponse"

FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
FIND_DOCUMENTS_BY_REFERENCE_ID = "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"

__all__ = [
    "ACTION",
    "FIND_DOCUMENTS",
    "FIND_DOCUMENTS_BY_REFERENCE_ID",
    "GET_DOCUMENTS",
    "RESPONSE_ACTION",
    "AdhocQuery",
    "AdhocQueryResult",
    "decode_request",
    "decode_response",
    "encode_request",
    "encode_response",
]
