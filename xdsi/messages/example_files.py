"""Write the example messages of every flux (``xdsi examples``), byte-stable from one run to the next."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from lxml import etree

from xdsi.ebrim import encode as ebencode
from xdsi.ebrim import query as ebquery
from xdsi.messages import examples as ex
from xdsi.messages import iti18, iti41, iti43, iti57, rad69
from xdsi.messages.wire import WireMessage, to_wire
from xdsi.model.responses import RegistryResponse

_NS = uuid.UUID("3a0f5c2e-1d34-4b8f-9e61-7c2d0a9b5e44")
HOST = "127.0.0.1:8080"


def _mid(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NS, name)}"


def _stable(msg: WireMessage, name: str) -> WireMessage:
    """Replace the random MIME boundary and root Content-ID by values derived from the example's name."""
    text = msg.content_type
    boundary = re.search(r'boundary="([^"]+)"', text)
    start = re.search(r'start="<([^>]+)>"', text)
    body, ctype = msg.body, msg.content_type
    for found, new in ((boundary, f"MIMEBoundary_{uuid.uuid5(_NS, name).hex}"), (start, f"root.{name}@xdsi")):
        if found:
            body = body.replace(found.group(1).encode(), new.encode())
            ctype = ctype.replace(found.group(1), new)
    return WireMessage(body, ctype)


def http_request(msg: WireMessage, path: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\n"
        f"Content-Type: {msg.content_type}\r\nContent-Length: {len(msg.body)}\r\n\r\n"
    )
    return head.encode("ascii") + msg.body


def http_response(msg: WireMessage) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {msg.content_type}\r\nContent-Length: {len(msg.body)}\r\n\r\n"
    return head.encode("ascii") + msg.body


def build_all() -> dict[str, bytes]:
    """File name -> bytes of every example."""
    exam = ex.Exam()
    out: dict[str, bytes] = {}

    objects, docs = ex.flux1(exam)
    body, att = iti41.encode_request(iti41.ProvideAndRegisterRequest(objects, docs), mtom=True)
    types = {iti41.content_id(de.entry_uuid): de.mime_type or "application/octet-stream" for de in objects.entries}
    msg = _stable(to_wire(body, iti41.ACTION, att, types, message_id=_mid("flux1")), "flux1")
    out["flux1-iti41-request.http"] = http_request(msg, "/iti41")
    body, _ = iti41.encode_request(iti41.ProvideAndRegisterRequest(objects, docs), mtom=False)
    out["flux1-iti41-request-inline.xml"] = to_wire(body, iti41.ACTION, message_id=_mid("flux1-inline")).body

    ok = ebencode.registry_response(RegistryResponse())
    out["flux2-iti41-response.xml"] = to_wire(
        ok, iti41.RESPONSE_ACTION, message_id=_mid("flux2"), relates_to=_mid("flux1")
    ).body

    out["flux3-iti57-status-request.xml"] = to_wire(
        iti57.encode_request(ex.flux3_status(exam)), iti57.ACTION, message_id=_mid("flux3-status")
    ).body
    out["flux3-iti57-new-version-request.xml"] = to_wire(
        iti57.encode_request(ex.flux3_new_version(exam)), iti57.ACTION, message_id=_mid("flux3-version")
    ).body
    out["flux4-iti57-response.xml"] = to_wire(
        ebencode.registry_response(RegistryResponse()),
        iti57.RESPONSE_ACTION,
        message_id=_mid("flux4"),
        relates_to=_mid("flux3-status"),
    ).body

    q = ebquery.AdhocQuery(iti18.FIND_DOCUMENTS, slots=ex.flux5_slots(exam))
    out["flux5-iti18-request.xml"] = to_wire(iti18.encode_request(q), iti18.ACTION, message_id=_mid("flux5")).body
    result = ebquery.AdhocQueryResult(objects=ex.flux6(exam))
    out["flux6-iti18-response.xml"] = to_wire(
        iti18.encode_response(result),
        iti18.RESPONSE_ACTION,
        message_id=_mid("flux6"),
        relates_to=_mid("flux5"),
    ).body

    out["flux7-iti43-request.xml"] = to_wire(
        iti43.encode_request(ex.flux7(exam)), iti43.ACTION, message_id=_mid("flux7")
    ).body
    body, att = iti43.encode_response(ex.flux8(exam))
    msg = to_wire(body, iti43.RESPONSE_ACTION, att, "application/dicom", _mid("flux8"), relates_to=_mid("flux7"))
    out["flux8-iti43-response.http"] = http_response(_stable(msg, "flux8"))

    out["flux9-rad69-request.xml"] = to_wire(
        rad69.encode_request(ex.flux9(exam)), rad69.ACTION, message_id=_mid("flux9")
    ).body
    body, att = rad69.encode_response(ex.flux10(exam))
    msg = to_wire(body, rad69.RESPONSE_ACTION, att, "application/dicom", _mid("flux10"), relates_to=_mid("flux9"))
    out["flux10-rad69-response.http"] = http_response(_stable(msg, "flux10"))
    return out


def write_examples(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in build_all().items():
        path = directory / name
        if name.endswith(".xml"):
            data = etree.tostring(etree.fromstring(data), pretty_print=True, xml_declaration=True, encoding="UTF-8")
        path.write_bytes(data)
        written.append(path)
    return written
