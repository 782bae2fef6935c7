"""Read a message as integrators hand it over: an HTTP capture, a raw MTOM body, or plain XML.

:func:`read_message` accepts

(a) a raw HTTP request or response capture (``POST …`` / ``HTTP/1.x …``: headers, blank line, body; chunked
    transfer coding and gzip/deflate content coding are undone),
(b) a raw MTOM body whose first line is ``--boundary`` (HTTP headers lost),
(c) plain XML: a SOAP envelope or a bare body element,

and returns a :class:`RawMessage`. Unreadable input raises :class:`~xdsi.messages.xmlsafe.InputError` with a
one-line reason; readable oddities are kept in ``notes`` for the transport checks.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from xdsi.messages import mtom
from xdsi.messages.mtom import MtomMessage, XopInclude
from xdsi.messages.soap import SoapEnvelope, parse_envelope
from xdsi.messages.xmlsafe import MAX_XML_BYTES, InputError, ParsedXml, parse_xml_info

Form = Literal["http", "mtom", "xml"]

#: Labels of the places an action can be written besides wsa:Action (keys of ``RawMessage.actions``).
ACTION_HTTP_CONTENT_TYPE = "HTTP Content-Type action parameter"
ACTION_MULTIPART = "multipart Content-Type action parameter"
ACTION_START_INFO = "multipart Content-Type start-info action parameter"
ACTION_ROOT_PART = "root MIME part Content-Type action parameter"
ACTION_SOAPACTION = "HTTP SOAPAction header"

_HTTP_REQUEST = re.compile(rb"^(POST|PUT|GET|HEAD|DELETE|PATCH|OPTIONS) (\S+) (HTTP/\d(?:\.\d)?)\s*$")
_HTTP_RESPONSE = re.compile(rb"^(HTTP/\d(?:\.\d)?) (\d{3})(?: (.*))?$")


@dataclass
class RawMessage:
    """A message read by :func:`read_message`."""

    #: the parsed envelope, or the bare root element
    xml_root: etree._Element
    #: None when the root is not a SOAP envelope (a bare body)
    envelope: SoapEnvelope | None
    #: attachments (non-root MIME parts) by Content-ID without <>
    attachments: dict[str, bytes]
    #: HTTP headers with lower-case names (empty unless the input was an HTTP capture)
    http_headers: dict[str, str]
    #: the Content-Type of the message (HTTP header, given argument, or synthesised for a raw MTOM body)
    content_type: str | None
    notes: list[str]
    #: wsa:Action, else the HTTP/MTOM action parameter, else the SOAPAction header
    soap_action: str | None
    #: what was read: "http" capture, raw "mtom" body, or plain "xml"
    form: Form = "xml"
    #: the HTTP request line or status line
    http_start_line: str | None = None
    http_method: str | None = None
    http_status: int | None = None
    #: the decoded multipart message (None when the body was plain XML)
    mtom: MtomMessage | None = None
    #: parse details of the root XML (BOM, encodings, DOCTYPE)
    xml_info: ParsedXml | None = None
    #: every xop:Include and its target
    xop: list[XopInclude] = field(default_factory=list)
    #: actions written outside wsa:Action, by where they were found (see the ACTION_* labels)
    actions: dict[str, str] = field(default_factory=dict)

    @property
    def body(self) -> etree._Element | None:
        """The payload: the first child of soap:Body, or the bare root."""
        if self.envelope is not None:
            return self.envelope.body
        return self.xml_root

    @property
    def is_http_request(self) -> bool | None:
        if self.form != "http":
            return None
        return self.http_method is not None


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    crlf = data.find(b"\r\n\r\n")
    lf = data.find(b"\n\n")
    if crlf < 0 and lf < 0:
        raise InputError("truncated HTTP capture: no blank line after the headers")
    if crlf >= 0 and (lf < 0 or crlf <= lf):
        return data[:crlf], data[crlf + 4 :]
    return data[:lf], data[lf + 2 :]


def _parse_headers(lines: list[bytes], notes: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    last: str | None = None
    for raw in lines:
        line = raw.decode("latin-1").rstrip("\r")
        if not line:
            continue
        if line[0] in " \t" and last is not None:  # obsolete line folding
            headers[last] += " " + line.strip()
            continue
        if ":" not in line:
            notes.append(f"HTTP header line without ':' ignored: {line[:60]!r}")
            continue
        name, value = line.split(":", 1)
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
        last = key
    return headers


def _dechunk(body: bytes, limit: int) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        eol = body.find(b"\n", pos)
        if eol < 0:
            raise InputError("truncated HTTP body: chunked transfer coding ends without its last (0) chunk")
        size_line = body[pos:eol].rstrip(b"\r").split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise InputError(f"invalid chunked transfer coding: chunk size {size_line[:20]!r} is not hex") from None
        pos = eol + 1
        if size == 0:
            return bytes(out)  # trailers, if any, are ignored
        if pos + size > len(body):
            raise InputError(f"truncated HTTP body: a chunk announces {size} bytes, only {len(body) - pos} remain")
        out += body[pos : pos + size]
        if len(out) > limit:
            raise InputError(f"message is too large: more than {limit} bytes after de-chunking")
        pos += size
        if body[pos : pos + 2] == b"\r\n":
            pos += 2
        elif body[pos : pos + 1] == b"\n":
            pos += 1
        else:
            raise InputError("invalid chunked transfer coding: a chunk is not followed by CRLF")


def _decompress(body: bytes, coding: str, limit: int) -> bytes:
    wbits = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(coding)
    if wbits is None:
        raise InputError(f"Content-Encoding '{coding}' is not supported")
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as e:
        raise InputError(f"Content-Encoding {coding}: the body cannot be decompressed ({e})") from None
    if len(out) > limit:
        raise InputError(f"message is too large: more than {limit} bytes once decompressed")
    return out


def _action_param(content_type: str | None) -> str | None:
    if not content_type:
        return None
    _, params = mtom.parse_content_type(content_type)
    return params.get("action") or None


def read_message(
    data: bytes,
    content_type: str | None = None,
    max_bytes: int = mtom.MAX_MESSAGE_BYTES,
    max_xml_bytes: int = MAX_XML_BYTES,
) -> RawMessage:
    """Read an HTTP capture, a raw MTOM body or plain XML (``content_type``: the HTTP header, if known)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_bytes:
        raise InputError(f"message is too large: {len(data)} bytes, the limit is {max_bytes} bytes")
    if not data.strip():
        raise InputError("input is empty" if not data else "input holds only whitespace")

    notes: list[str] = []
    headers: dict[str, str] = {}
    form: Form = "xml"
    start_line: str | None = None
    method: str | None = None
    status: int | None = None
    body = data

    head = data.lstrip(b"\r\n\t ")
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r")
    req = _HTTP_REQUEST.match(first_line)
    resp = _HTTP_RESPONSE.match(first_line)
    if req or resp:
        form = "http"
        header_block, body = _split_head(head)
        lines = header_block.split(b"\n")
        start_line = lines[0].decode("latin-1").rstrip("\r")
        if req:
            method = req.group(1).decode("ascii")
        elif resp:
            status = int(resp.group(2))
            if status >= 400:
                notes.append(f"HTTP status {status}")
        headers = _parse_headers(lines[1:], notes)
        te = headers.get("transfer-encoding", "").lower()
        if "chunked" in te:
            body = _dechunk(body, max_bytes)
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                notes.append(f"invalid Content-Length {headers['content-length']!r} ignored")
            else:
                if len(body) < length:
                    raise InputError(
                        f"truncated HTTP body: Content-Length says {length} bytes, the capture holds {len(body)}"
                    )
                if len(body) > length:
                    notes.append(f"{len(body) - length} bytes after Content-Length ignored")
                    body = body[:length]
        ce = headers.get("content-encoding", "").strip().lower()
        if ce and ce != "identity":
            body = _decompress(body, ce, max_bytes)
            notes.append(f"body was {ce}-encoded")
        header_ct = headers.get("content-type")
        if header_ct:
            if content_type and content_type != header_ct:
                notes.append("the Content-Type argument differs from the capture's header; the header is used")
            content_type = header_ct
        elif content_type is None:
            notes.append("the HTTP capture has no Content-Type header")
        if not body.strip():
            raise InputError(f"the HTTP message has an empty body ({start_line})")

    mediatype, ct_params = mtom.parse_content_type(content_type)
    looks_mime = body.lstrip(b"\r\n").startswith(b"--")
    mtom_msg: MtomMessage | None = None
    actions: dict[str, str] = {}
    if mediatype.startswith("multipart/"):
        mtom_msg = mtom.decode(body, content_type, max_bytes)
    elif looks_mime:
        if content_type:
            notes.append(f"Content-Type is {mediatype or content_type!r} but the body is MIME multipart")
        mtom_msg = mtom.decode(body, None, max_bytes)
        if form == "xml":
            form = "mtom"
        content_type = mtom_msg.content_type

    if mtom_msg is not None:
        notes.extend(mtom_msg.notes)
        try:
            info = parse_xml_info(mtom_msg.root, max_xml_bytes)
        except InputError as e:
            raise InputError(f"root MIME part <{mtom_msg.root_id}>: {e.reason}") from None
        attachments = {cid: p.data for cid, p in mtom_msg.attachments.items()}
        if mtom_msg.header_action:
            actions[ACTION_MULTIPART] = mtom_msg.header_action
        if mtom_msg.start_info:
            si_action = _action_param(mtom_msg.start_info)
            if si_action:
                actions[ACTION_START_INFO] = si_action
        if mtom_msg.root_action:
            actions[ACTION_ROOT_PART] = mtom_msg.root_action
    else:
        info = parse_xml_info(body, max_xml_bytes)
        attachments = {}
        if ct_params.get("action"):
            actions[ACTION_HTTP_CONTENT_TYPE] = ct_params["action"]
    soap_action_header = headers.get("soapaction", "").strip().strip('"').strip()
    if soap_action_header:
        actions[ACTION_SOAPACTION] = soap_action_header
    notes.extend(info.notes)

    root = info.root
    env = parse_envelope(root)
    envelope = env if env.soap_version else None
    parts = mtom_msg.parts if mtom_msg is not None else {}
    xop = mtom.xop_includes(root, parts)

    soap_action = envelope.action if envelope is not None and envelope.action else None
    if soap_action is None:
        soap_action = next(iter(actions.values()), None)

    return RawMessage(
        xml_root=root,
        envelope=envelope,
        attachments=attachments,
        http_headers=headers,
        content_type=content_type,
        notes=notes,
        soap_action=soap_action,
        form=form,
        http_start_line=start_line,
        http_method=method,
        http_status=status,
        mtom=mtom_msg,
        xml_info=info,
        xop=xop,
        actions=actions,
    )
