"""ITI-41 Provide and Register Document Set-b (Flux 1 request, Flux 2 response)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from lxml import etree

from xdsi.ebrim import decode, encode
from xdsi.ebrim import vocabulary as v
from xdsi.messages import mtom
from xdsi.model.metadata import Document, RegistryObjects
from xdsi.namespaces import XOP
from xdsi.xmlpaths import xpath_of

ACTION = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
RESPONSE_ACTION = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"
TAG = f"{{{v.XDSB}}}ProvideAndRegisterDocumentSetRequest"


@dataclass
class ProvideAndRegisterRequest:
    objects: RegistryObjects
    documents: list[Document] = field(default_factory=list)


def content_id(doc_id: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in ".-_" else "-" for ch in doc_id)
    return f"{safe}@xdsi"


def encode_request(req: ProvideAndRegisterRequest, mtom: bool = True) -> tuple[etree._Element, dict[str, bytes]]:
    """The body element and, with MTOM, the attachments by Content-ID (documents inline in base64 otherwise)."""
    root = etree.Element(TAG, nsmap={"xdsb": v.XDSB, "lcm": v.LCM, "rim": v.RIM, "xop": XOP})
    encode.submit_objects_request(req.objects, root)
    attachments: dict[str, bytes] = {}
    for doc in req.documents:
        el = etree.SubElement(root, f"{{{v.XDSB}}}Document", id=doc.id)
        if mtom:
            cid = content_id(doc.id)
            etree.SubElement(el, f"{{{XOP}}}Include", href=f"cid:{cid}")
            attachments[cid] = doc.content
        else:
            el.text = base64.b64encode(doc.content).decode("ascii")
    return root, attachments


def document_content(el: etree._Element, attachments: dict[str, bytes]) -> bytes | None:
    """The bytes of an ``xdsb:Document`` (XOP reference or inline base64); None when unresolvable."""
    inc = el.find(f"{{{XOP}}}Include")
    if inc is not None:
        return mtom.resolve_href(inc.get("href", ""), attachments)[1]
    try:
        return base64.b64decode("".join((el.text or "").split()), validate=True)
    except ValueError:
        return None


def decode_request(root: etree._Element, attachments: dict[str, bytes] | None = None) -> ProvideAndRegisterRequest:
    attachments = attachments or {}
    objects = decode.registry_objects(decode.find_registry_object_list(root))
    docs = []
    for el in root.findall(f"{{{v.XDSB}}}Document"):
        content = document_content(el, attachments)
        doc = Document(el.get("id", ""), content or b"", location=xpath_of(el))
        if content is None:
            doc.occurrences["content"] = 0
        docs.append(doc)
    return ProvideAndRegisterRequest(objects, docs)
