"""MTOM/XOP: decode and encode ``multipart/related`` SOAP messages (W3C SOAP MTOM, XOP 1.0).

Decoding uses requests-toolbelt's :class:`MultipartDecoder` (byte-exact, fast), which splits on
CRLF-framed boundaries and ignores ``start=``: this module strips the preamble, checks the closing boundary
(truncation), rewrites bare-LF framing (as in published examples saved on Unix) to CRLF framing without
touching part content, maps the parts by Content-ID, resolves the root part from ``start=`` and undoes
base64 / quoted-printable Content-Transfer-Encodings.

Unreadable input raises :class:`~xdsi.messages.xmlsafe.InputError`; readable oddities go to ``notes``.
"""

from __future__ import annotations

import base64
import binascii
import email.message
import quopri
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree
from requests_toolbelt.multipart.decoder import ImproperBodyPartContentException, MultipartDecoder

from xdsi.messages.xmlsafe import InputError
from xdsi.xmlpaths import xpath_of

XOP_NS = "http://www.w3.org/2004/08/xop/include"
XOP_INCLUDE = f"{{{XOP_NS}}}Include"
XOP_MEDIA_TYPE = "application/xop+xml"
SOAP12_MEDIA_TYPE = "application/soap+xml"
SOAP11_MEDIA_TYPE = "text/xml"

#: Default size limit for a whole multipart message (bytes); attachments may be large DICOM studies.
MAX_MESSAGE_BYTES = 512 * 1024 * 1024


def parse_content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """Split a Content-Type value into (lower-case media type, parameters with lower-case names).

    Quoted values are unquoted; a ``start`` value keeps its angle brackets if it was quoted with them.
    """
    if not value:
        return "", {}
    msg = email.message.Message()
    msg["content-type"] = value
    params = msg.get_params(failobj=[]) or []
    if not params:
        return "", {}
    mediatype = params[0][0].strip().lower()
    out: dict[str, str] = {}
    for name, val in params[1:]:
        if isinstance(val, tuple):  # RFC 2231
            val = email.utils.collapse_rfc2231_value(val)
        out.setdefault(name.strip().lower(), str(val).strip())
    return mediatype, out


def strip_cid(value: str | None) -> str:
    """``<abc@x>`` → ``abc@x`` (Content-ID / start form)."""
    value = (value or "").strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    return value


@dataclass
class Part:
    """One MIME part, content already decoded from its Content-Transfer-Encoding."""

    content_id: str
    content_type: str
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)
    transfer_encoding: str | None = None


@dataclass
class MtomMessage:
    """A decoded multipart/related message."""

    #: the root (SOAP) part's content
    root: bytes
    #: the root part's Content-Type header value
    root_content_type: str
    #: Content-ID of the root part (without <>)
    root_id: str
    #: every part (root included) by Content-ID without <>
    parts: dict[str, Part]
    #: ``start-info`` parameter of the multipart Content-Type (None when absent or unknown)
    start_info: str | None
    #: the ``action`` parameter of the multipart Content-Type, else of the root part's Content-Type
    action: str | None
    #: the multipart Content-Type used (given, or synthesised from the first line of a raw body)
    content_type: str
    boundary: str
    #: ``type`` parameter of the multipart Content-Type (None when absent or unknown)
    multipart_type: str | None = None
    #: ``start`` parameter (without <>), None when absent
    start: str | None = None
    #: ``action`` parameter of the multipart Content-Type / of the root part's Content-Type
    header_action: str | None = None
    root_action: str | None = None
    #: False when decoded from a raw body without its HTTP Content-Type header
    content_type_known: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def attachments(self) -> dict[str, Part]:
        """The non-root parts by Content-ID."""
        return {cid: p for cid, p in self.parts.items() if cid != self.root_id}


def _sniff_boundary(body: bytes) -> str:
    stripped = body.lstrip(b"\r\n")
    first = stripped.split(b"\n", 1)[0].rstrip(b"\r \t")
    if not first.startswith(b"--") or len(first) < 3:
        raise InputError(f"not a MIME multipart body: the first line does not start with '--boundary' ({first[:40]!r})")
    boundary = first[2:]
    if len(boundary) > 200:
        raise InputError("not a MIME multipart body: the first line is too long to be a boundary")
    if boundary.endswith(b"--") and stripped.count(first) == 1:
        raise InputError("multipart body has no parts (it starts with its closing boundary)")
    return boundary.decode("latin-1")


def _frame_lf(content: bytes, dash: bytes) -> tuple[bytes, int]:
    """Rewrite bare-LF multipart framing as CRLF framing; part content is kept byte for byte.

    ``content`` starts with the first delimiter. Returns (CRLF-framed body ending with the close delimiter,
    number of parts).
    """
    pieces = (b"\n" + content).split(b"\n" + dash)
    out: list[bytes] = []
    closed = False
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            closed = True
            break
        nl = piece.find(b"\n")
        if nl < 0:
            raise InputError("truncated multipart body: a boundary line is not followed by part headers")
        rest = piece[nl + 1 :]
        if rest.startswith(b"\n") or rest.startswith(b"\r\n"):
            headers, data = b"", rest[1:] if rest.startswith(b"\n") else rest[2:]
        else:
            end = rest.find(b"\n\n")
            end_crlf = rest.find(b"\r\n\r\n")
            if end < 0 and end_crlf < 0:
                raise InputError(f"MIME part {len(out) + 1} has no blank line between its headers and its content")
            if end_crlf >= 0 and (end < 0 or end_crlf < end):
                headers, data = rest[:end_crlf], rest[end_crlf + 4 :]
            else:
                headers, data = rest[:end], rest[end + 2 :]
        headers = headers.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        out.append(dash + b"\r\n" + headers + b"\r\n\r\n" + data)
    if not closed:
        raise InputError(
            f"truncated multipart body: no closing boundary '{dash.decode('latin-1')}--' ({len(out)} part(s) started)"
        )
    return b"\r\n".join(out) + b"\r\n" + dash + b"--\r\n", len(out)


def _decode_transfer(data: bytes, cte: str | None, label: str, notes: list[str]) -> bytes:
    enc = (cte or "").strip().lower()
    if enc in ("", "binary", "8bit", "7bit"):
        return data
    if enc == "base64":
        try:
            return base64.b64decode(b"".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            raise InputError(
                f"MIME part {label}: Content-Transfer-Encoding base64 but the content is not base64"
            ) from None
    if enc == "quoted-printable":
        return quopri.decodestring(data)
    notes.append(f"MIME part {label}: unknown Content-Transfer-Encoding '{cte}', content kept as is")
    return data


def decode(body: bytes, content_type: str | None, max_bytes: int = MAX_MESSAGE_BYTES) -> MtomMessage:
    """Decode a multipart/related (MTOM/XOP) body.

    ``content_type`` is the HTTP Content-Type header; with None (a raw body saved without its headers) the
    boundary is taken from the first line and the root is the first part.
    """
    notes: list[str] = []
    body = bytes(body)
    if len(body) > max_bytes:
        raise InputError(f"message is too large: {len(body)} bytes, the limit is {max_bytes} bytes")
    if not body.strip():
        raise InputError("MIME multipart body is empty")

    params: dict[str, str] = {}
    if content_type:
        mediatype, params = parse_content_type(content_type)
        if not mediatype.startswith("multipart/"):
            raise InputError(f"Content-Type is '{mediatype or content_type}', not multipart/related")
        if mediatype != "multipart/related":
            notes.append(f"Content-Type is {mediatype}, MTOM uses multipart/related")
        boundary = params.get("boundary", "")
        if not boundary:
            raise InputError("Content-Type multipart/related has no boundary parameter")
        known = True
    else:
        boundary = _sniff_boundary(body)
        content_type = f'multipart/related; boundary="{boundary}"'
        known = False
        notes.append("no Content-Type header: boundary read from the first line, the first part is the root")

    dash = b"--" + boundary.encode("latin-1")
    if body.startswith(dash):
        start_at = 0
    else:
        idx = body.find(b"\n" + dash)
        if idx < 0:
            raise InputError(f"the boundary '{boundary}' of the Content-Type does not occur in the body")
        start_at = idx + 1
        if body[:idx].strip():
            notes.append(f"MIME preamble of {idx} bytes ignored")
    content = body[start_at:]

    # Line-ending style of the framing: look at the end of the first delimiter line.
    eol = content.find(b"\n", len(dash))
    if eol < 0:
        raise InputError("truncated multipart body: nothing after the first boundary line")
    if content[len(dash) : len(dash) + 2] == b"--":
        raise InputError("multipart body has no parts (it starts with its closing boundary)")
    if content[eol - 1 : eol] != b"\r":
        notes.append("multipart framing uses bare LF line ends instead of CRLF (RFC 2046 requires CRLF)")
        content, _ = _frame_lf(content, dash)
    else:
        close = b"\r\n" + dash + b"--"
        close_at = content.find(close)
        if close_at < 0:
            started = content.count(b"\r\n" + dash) + 1
            raise InputError(
                f"truncated multipart body: no closing boundary '--{boundary}--' ({started} part(s) started)"
            )
        epilogue = content[close_at + len(close) :]
        if epilogue.strip():
            notes.append(f"{len(epilogue.strip())} bytes after the closing boundary ignored")
        content = content[: close_at + len(close)] + b"\r\n"

    try:
        decoder = MultipartDecoder(content, f'multipart/related; boundary="{boundary}"', encoding="latin-1")
    except ImproperBodyPartContentException:
        raise InputError("a MIME part has no blank line between its headers and its content") from None
    except Exception as e:  # requests-toolbelt raises assorted errors on malformed input
        raise InputError(f"cannot split the multipart body: {type(e).__name__}: {e}") from None
    if not decoder.parts:
        raise InputError("multipart body has no parts")

    parts: dict[str, Part] = {}
    order: list[str] = []
    for n, bp in enumerate(decoder.parts, 1):
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in bp.headers.items()}
        lower = {k.lower(): v for k, v in headers.items()}
        cid = strip_cid(lower.get("content-id"))
        if not cid:
            cid = f"part{n}"
            notes.append(f"MIME part {n} has no Content-ID (named '{cid}' here)")
        label = f"<{cid}>"
        data = _decode_transfer(bp.content, lower.get("content-transfer-encoding"), label, notes)
        part = Part(
            content_id=cid,
            content_type=lower.get("content-type", "").strip(),
            data=data,
            headers=headers,
            transfer_encoding=lower.get("content-transfer-encoding"),
        )
        if cid in parts:
            notes.append(f"duplicate Content-ID <{cid}>: MIME part {n} ignored")
            continue
        parts[cid] = part
        order.append(cid)

    start = strip_cid(params.get("start")) if params.get("start") else None
    if start is not None:
        if start not in parts:
            listed = ", ".join(f"<{c}>" for c in order)
            raise InputError(f"MTOM start part <{start}> not found among the MIME parts ({listed})")
        root_id = start
    else:
        root_id = order[0]
        if known:
            notes.append("no start parameter in the Content-Type: the first MIME part is taken as the root")
    root = parts[root_id]
    if not root.data.strip():
        raise InputError(f"the root MIME part <{root_id}> is empty")
    for cid, p in parts.items():
        if cid != root_id and not p.data:
            notes.append(f"MIME part <{cid}> is empty")

    _, root_params = parse_content_type(root.content_type)
    header_action = params.get("action") or None
    root_action = root_params.get("action") or None
    return MtomMessage(
        root=root.data,
        root_content_type=root.content_type,
        root_id=root_id,
        parts=parts,
        start_info=params.get("start-info") if known else None,
        action=header_action or root_action,
        content_type=content_type,
        boundary=boundary,
        multipart_type=params.get("type") if known else None,
        start=start,
        header_action=header_action,
        root_action=root_action,
        content_type_known=known,
        notes=notes,
    )


@dataclass
class XopInclude:
    """One ``xop:Include`` and what it points at."""

    #: the element the xop:Include stands in for (its parent, e.g. ``xdsb:Document``)
    element: etree._Element
    #: XPath of that element
    path: str
    href: str
    #: the Content-ID named by href (percent-decoded, without ``cid:``), None when href is not a cid: URI
    cid: str | None
    #: the attachment's bytes, None when unresolved
    data: bytes | None


def _part_bytes(p: Part | bytes) -> bytes:
    return p.data if isinstance(p, Part) else bytes(p)


def resolve_href(href: str, parts: Mapping[str, Part | bytes]) -> tuple[str | None, bytes | None]:
    """The Content-ID an ``xop:Include/@href`` names (``cid:`` URL, percent-decoded per RFC 2392) and its bytes."""
    href = href.strip()
    if href[:4].lower() != "cid:":
        return None, None
    raw = href[4:]
    cid = urllib.parse.unquote(raw)
    for key in (cid, raw, strip_cid(cid)):
        if key in parts:
            return key, _part_bytes(parts[key])
    return cid, None


def xop_includes(root_element: etree._Element, parts: Mapping[str, Part | bytes]) -> list[XopInclude]:
    """List every ``xop:Include`` under ``root_element`` with its target (``data`` None when missing)."""
    out: list[XopInclude] = []
    for inc in root_element.iter(XOP_INCLUDE):
        parent = inc.getparent()
        element = parent if parent is not None else inc
        href = (inc.get("href") or "").strip()
        cid, data = resolve_href(href, parts)
        out.append(XopInclude(element, xpath_of(element), href, cid, data))
    return out


def resolve_xop(root_element: etree._Element, parts: Mapping[str, Part | bytes]) -> dict[str, bytes]:
    """Map the XPath of each element holding an ``xop:Include`` to its attachment's bytes.

    Unresolved includes are left out; list them with :func:`unresolved_xop`.
    """
    return {x.path: x.data for x in xop_includes(root_element, parts) if x.data is not None}


def unresolved_xop(root_element: etree._Element, parts: Mapping[str, Part | bytes]) -> list[XopInclude]:
    """The ``xop:Include`` elements whose href names no MIME part."""
    return [x for x in xop_includes(root_element, parts) if x.data is None]


def _check_param(value: str, what: str) -> None:
    if any(c in value for c in '"\r\n\\'):
        raise ValueError(f"{what} must not contain quotes, backslashes or line breaks: {value!r}")


def encode(
    soap_xml: bytes,
    attachments: Mapping[str, tuple[bytes, str]],
    action: str,
    soap_version: str = "1.2",
) -> tuple[bytes, str]:
    """Build an MTOM/XOP message; return (body, value of the HTTP Content-Type header).

    ``attachments`` maps a Content-ID (without <>) to (bytes, media type). Parts are sent with
    ``Content-Transfer-Encoding: binary``; the boundary is chosen so that it occurs in no part.
    """
    if soap_version not in ("1.2", "1.1"):
        raise ValueError(f"soap_version must be '1.2' or '1.1', not {soap_version!r}")
    _check_param(action, "action")
    inner = SOAP12_MEDIA_TYPE if soap_version == "1.2" else SOAP11_MEDIA_TYPE
    root_cid = f"root.{uuid.uuid4().hex}@xdsi"
    cids = {strip_cid(c): v for c, v in attachments.items()}
    for cid, (_, ctype) in cids.items():
        if not cid or any(c in cid for c in '<>\r\n" '):
            raise ValueError(f"invalid Content-ID {cid!r}")
        _check_param(ctype, "attachment media type")
    if root_cid in cids:  # pragma: no cover - uuid collision
        raise ValueError("attachment Content-ID collides with the root part")

    blobs = [soap_xml, *(data for data, _ in cids.values())]
    while True:
        boundary = f"MIMEBoundary_{uuid.uuid4().hex}"
        dash = b"--" + boundary.encode("ascii")
        if not any(dash in b for b in blobs):
            break

    root_type = f'{XOP_MEDIA_TYPE}; charset=UTF-8; type="{inner}"'
    chunks: list[bytes] = [
        dash,
        b"\r\nContent-Type: " + root_type.encode("ascii"),
        b"\r\nContent-Transfer-Encoding: binary",
        b"\r\nContent-ID: <" + root_cid.encode("ascii") + b">\r\n\r\n",
        soap_xml,
    ]
    for cid, (data, ctype) in cids.items():
        chunks += [
            b"\r\n",
            dash,
            b"\r\nContent-Type: " + (ctype or "application/octet-stream").encode("ascii"),
            b"\r\nContent-Transfer-Encoding: binary",
            b"\r\nContent-ID: <" + cid.encode("ascii") + b">\r\n\r\n",
            data,
        ]
    chunks += [b"\r\n", dash, b"--\r\n"]
    content_type = (
        f'multipart/related; boundary="{boundary}"; type="{XOP_MEDIA_TYPE}"; start="<{root_cid}>"; start-info="{inner}"'
    )
    if soap_version == "1.2":
        content_type += f'; action="{action}"'
    return b"".join(chunks), content_type
