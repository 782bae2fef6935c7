"""A body element to bytes on the wire (SOAP 1.2 envelope, MTOM when there are attachments) and back."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from xdsi.messages import mtom, soap
from xdsi.messages.capture import RawMessage, read_message

SOAP_CONTENT_TYPE = 'application/soap+xml; charset=UTF-8; action="{action}"'


@dataclass
class WireMessage:
    body: bytes
    content_type: str


def to_wire(
    body: etree._Element,
    action: str,
    attachments: dict[str, bytes] | None = None,
    attachment_type: str | dict[str, str] = "application/octet-stream",
    message_id: str | None = None,
    relates_to: str | None = None,
    to: str | None = None,
) -> WireMessage:
    """Wrap ``body`` in a SOAP 1.2 envelope; with attachments, as an MTOM/XOP multipart message."""
    env = soap.build_envelope(body, action, message_id=message_id, relates_to=relates_to, to=to)
    xml = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
    if attachments:
        types = attachment_type if isinstance(attachment_type, dict) else {}
        default = attachment_type if isinstance(attachment_type, str) else "application/octet-stream"
        parts = {cid: (data, types.get(cid, default)) for cid, data in attachments.items()}
        data, content_type = mtom.encode(xml, parts, action)
        return WireMessage(data, content_type)
    return WireMessage(xml, SOAP_CONTENT_TYPE.format(action=action))


def from_wire(data: bytes, content_type: str | None = None) -> RawMessage:
    """Read what came over the wire (an envelope, MTOM or an HTTP capture); raises InputError."""
    return read_message(data, content_type)
