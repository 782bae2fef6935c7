"""ITI-57 Update Document Set (Flux 3 request, Flux 4 response): a bare lcm:SubmitObjectsRequest."""

from __future__ import annotations

from lxml import etree

from xdsi.ebrim import decode, encode
from xdsi.model.metadata import RegistryObjects

ACTION = "urn:ihe:iti:2010:UpdateDocumentSet"
RESPONSE_ACTION = "urn:ihe:iti:2010:UpdateDocumentSetResponse"
#: The DMP answers with this spelling (official examples TD3.3c/d); accepted as an alternative.
DMP_RESPONSE_ACTION = "urn:ihe:iti:2010:UpdateDocumentSet-Response"


def encode_request(objects: RegistryObjects) -> etree._Element:
    return encode.submit_objects_request(objects)


def decode_request(root: etree._Element) -> RegistryObjects:
    return decode.registry_objects(decode.find_registry_object_list(root))
