"""ITI-43 Retrieve Document Set (Flux 7 request, Flux 8 response); the response shape serves RAD-69 too."""

from __future__ import annotations

import base64

from lxml import etree

from xdsi.ebrim import decode, encode
from xdsi.ebrim import vocabulary as v
from xdsi.messages.iti41 import document_content
from xdsi.model.retrieve import DocumentRequest, RetrievedDocument, RetrieveResponse
from xdsi.namespaces import XOP

ACTION = "urn:ihe:iti:2007:RetrieveDocumentSet"
RESPONSE_ACTION = "urn:ihe:iti:2007:RetrieveDocumentSetResponse"
X = f"{{{v.XDSB}}}"


def _text(parent: etree._Element, tag: str, value: str | None) -> None:
    if value is not None:
        etree.SubElement(parent, X + tag).text = value


def encode_document_request(parent: etree._Element, d: DocumentRequest) -> None:
    el = etree.SubElement(parent, X + "DocumentRequest")
    _text(el, "HomeCommunityId", d.home_community_id)
    _text(el, "RepositoryUniqueId", d.repository_unique_id)
    _text(el, "DocumentUniqueId", d.document_unique_id)


def decode_document_request(el: etree._Element) -> DocumentRequest:
    return DocumentRequest(
        repository_unique_id=(el.findtext(X + "RepositoryUniqueId") or "").strip(),
        document_unique_id=(el.findtext(X + "DocumentUniqueId") or "").strip(),
        home_community_id=el.findtext(X + "HomeCommunityId"),
    )


def encode_request(requests: list[DocumentRequest]) -> etree._Element:
    root = etree.Element(X + "RetrieveDocumentSetRequest", nsmap={"xdsb": v.XDSB})
    for d in requests:
        encode_document_request(root, d)
    return root


def decode_request(root: etree._Element) -> list[DocumentRequest]:
    return [decode_document_request(el) for el in root.findall(X + "DocumentRequest")]


def content_id(n: int) -> str:
    return f"doc{n}@xdsi"


def encode_response(resp: RetrieveResponse, mtom: bool = True) -> tuple[etree._Element, dict[str, bytes]]:
    root = etree.Element(X + "RetrieveDocumentSetResponse", nsmap={"xdsb": v.XDSB, "rs": v.RS, "xop": XOP})
    encode.registry_response(resp.response, root)
    attachments: dict[str, bytes] = {}
    for n, doc in enumerate(resp.documents):
        el = etree.SubElement(root, X + "DocumentResponse")
        _text(el, "HomeCommunityId", doc.home_community_id)
        _text(el, "RepositoryUniqueId", doc.repository_unique_id)
        _text(el, "DocumentUniqueId", doc.document_unique_id)
        _text(el, "NewRepositoryUniqueId", doc.new_repository_unique_id)
        _text(el, "NewDocumentUniqueId", doc.new_document_unique_id)
        _text(el, "mimeType", doc.mime_type)
        body = etree.SubElement(el, X + "Document")
        if mtom:
            cid = content_id(n)
            etree.SubElement(body, f"{{{XOP}}}Include", href=f"cid:{cid}")
            attachments[cid] = doc.content
        else:
            body.text = base64.b64encode(doc.content).decode("ascii")
    return root, attachments


def decode_response(root: etree._Element, attachments: dict[str, bytes] | None = None) -> RetrieveResponse:
    rr = root.find(f"{{{v.RS}}}RegistryResponse")
    response = decode.registry_response(rr if rr is not None else root)
    docs = []
    for el in root.findall(X + "DocumentResponse"):
        body = el.find(X + "Document")
        content = document_content(body, attachments or {}) if body is not None else None
        docs.append(
            RetrievedDocument(
                repository_unique_id=(el.findtext(X + "RepositoryUniqueId") or "").strip(),
                document_unique_id=(el.findtext(X + "DocumentUniqueId") or "").strip(),
                mime_type=(el.findtext(X + "mimeType") or "").strip(),
                content=content or b"",
                home_community_id=el.findtext(X + "HomeCommunityId"),
                new_repository_unique_id=el.findtext(X + "NewRepositoryUniqueId"),
                new_document_unique_id=el.findtext(X + "NewDocumentUniqueId"),
            )
        )
    return RetrieveResponse(response, docs)
