"""Safe XML parsing for untrusted input.

Every byte string the harness reads goes through :func:`parse_xml` (or :func:`parse_xml_info`): no
entity expansion, no network, no DTD loading, libxml2's default limits (``huge_tree=False``) and a size
limit. The usual traps are detected first and reported as one :class:`InputError` with a one-line reason an
integrator can act on: empty input, binary content (PDF, DICOM, ZIP…), a MIME body or an HTTP capture
handed to the XML parser, byte-order marks that contradict the XML declaration, bytes that are not in the
declared encoding, entity declarations (billion laughs, XXE) and truncated documents.

Readable-but-noteworthy facts (a BOM, UTF-16, an external DTD reference…) are returned as notes.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from lxml import etree

#: Default size limit for one XML document (bytes).
MAX_XML_BYTES = 64 * 1024 * 1024


class InputError(ValueError):
    """The input cannot be read at all; ``reason`` is one human-readable line."""

    def __init__(self, reason: str) -> None:
        reason = " ".join(str(reason).split())  # always one line
        super().__init__(reason)
        self.reason = reason


@dataclass
class ParsedXml:
    """The result of :func:`parse_xml_info`."""

    root: etree._Element
    notes: list[str] = field(default_factory=list)
    #: encoding named by the byte-order mark ("UTF-8", "UTF-16LE"…), or None
    bom: str | None = None
    #: encoding named in the XML declaration, or None
    declared_encoding: str | None = None
    #: the encoding the bytes were read in
    encoding: str = "UTF-8"
    #: the DOCTYPE declaration (without entity declarations, those are refused), or None
    doctype: str | None = None


# Longest first: the UTF-32LE BOM starts with the UTF-16LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "UTF-32BE"),
    (b"\xff\xfe\x00\x00", "UTF-32LE"),
    (b"\xef\xbb\xbf", "UTF-8"),
    (b"\xfe\xff", "UTF-16BE"),
    (b"\xff\xfe", "UTF-16LE"),
)

#: Signatures of binary formats people hand to an XML validator by mistake.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "a Windows executable"),
    (b"{\\rtf", "an RTF document"),
)

_XML_DECL_ENCODING = re.compile(r"""^<\?xml\s[^>]*?\bencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._:-]*)["']""")
_HTTP_START = re.compile(rb"^(?:(?:POST|PUT|GET|HEAD|DELETE|PATCH|OPTIONS) \S+ HTTP/\d|HTTP/\d(?:\.\d)? \d{3})")
_WS = b" \t\r\n"


def _preview(data: bytes, n: int = 16) -> str:
    return repr(data[:n])


def _codec_name(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _family(codec: str | None) -> str | None:
    """'utf-8', 'utf-16', 'utf-32' or None for single-byte / other codecs."""
    if codec is None:
        return None
    for fam in ("utf-8", "utf-16", "utf-32"):
        if codec.startswith(fam):
            return fam
    return None


def _detect_binary(data: bytes) -> str | None:
    """A reason when ``data`` is obviously not XML (checked on the raw bytes)."""
    if len(data) >= 132 and data[128:132] == b"DICM":
        return "input is a DICOM file, not XML"
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return f"input is {what}, not XML (starts with {_preview(data, 8)})"
    stripped = data.lstrip(_WS)
    if _HTTP_START.match(stripped):
        return "input is a raw HTTP capture, not bare XML: read it with xdsi.messages.capture.read_message"
    if stripped.startswith(b"--") and b"\n" in stripped[:300]:
        first = stripped.split(b"\n", 1)[0].rstrip()
        if 3 <= len(first) <= 200 and b"<" not in first:
            return (
                "input is a MIME multipart body (MTOM), not bare XML: read it with xdsi.messages.capture.read_message"
            )
    return None


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    col = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, col


def _scan_prolog(text: str) -> tuple[str | None, int]:
    """Return (the DOCTYPE declaration text or None, offset of the first element) by walking the prolog.

    Only the prolog is scanned (XML declaration, comments, processing instructions, DOCTYPE), so this is
    linear in the size of the prolog and never expands anything.
    """
    i, n = 0, len(text)
    doctype: str | None = None
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            if end < 0:
                raise InputError("truncated XML: a processing instruction in the prolog is never closed")
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                raise InputError("truncated XML: a comment in the prolog is never closed")
            i = end + 3
        elif text.startswith("<!DOCTYPE", i) or text.startswith("<!doctype", i):
            j, depth, quote = i + 9, 0, ""
            while j < n:
                c = text[j]
                if quote:
                    if c == quote:
                        quote = ""
                elif c in "\"'":
                    quote = c
                elif c == "[":
                    depth += 1
                elif c == "]":
                    depth -= 1
                elif c == ">" and depth <= 0:
                    break
                j += 1
            doctype = text[i : j + 1]
            if j >= n:
                # unterminated: still refuse entities if any were declared before the cut
                if "<!ENTITY" in doctype.upper():
                    break
                raise InputError("truncated XML: the DOCTYPE declaration is never closed")
            i = j + 1
        else:
            break
    return doctype, i


_ENTITY_DECL = re.compile(r"<!ENTITY\s+(%\s+)?([^\s>]+)(?:\s+(SYSTEM|PUBLIC))?", re.IGNORECASE)


def _check_doctype(doctype: str, notes: list[str]) -> None:
    m = _ENTITY_DECL.search(doctype)
    if m:
        kind = "parameter entity" if m.group(1) else "entity"
        ext = " (external: XXE)" if m.group(3) else ""
        count = len(_ENTITY_DECL.findall(doctype))
        raise InputError(
            f"DOCTYPE declares {count} {kind} declaration(s), first '{m.group(2)}'{ext}: entity declarations "
            "are refused (billion-laughs / XXE protection); they were not expanded"
        )
    ext_id = re.search(r"""(?:SYSTEM|PUBLIC\s+(?:"[^"]*"|'[^']*'))\s+["']([^"']*)["']""", doctype)
    if ext_id:
        notes.append(f"DOCTYPE references an external DTD '{ext_id.group(1)}'; it was not loaded")
    else:
        notes.append("DOCTYPE declaration present (no entities); ignored")


def _decode(data: bytes, codec: str, label: str, offset: int) -> str:
    try:
        return data[offset:].decode(codec)
    except UnicodeDecodeError as e:
        pos = offset + e.start
        bad = data[pos : pos + min(4, max(1, e.end - e.start))]
        line, col = _line_col(data, pos)
        hint = ""
        if _family(codec) == "utf-8":
            try:
                data[offset:].decode("cp1252")
                hint = " (the bytes look like ISO-8859-1/Windows-1252: fix the XML declaration or re-encode)"
            except UnicodeDecodeError:
                hint = ""
        raise InputError(
            f"encoding mismatch: {label}, but byte(s) {bad.hex(' ').upper()} at line {line}, column {col} "
            f"are not valid {codec.upper()}{hint}"
        ) from None


def parse_xml_info(data: bytes, max_bytes: int = MAX_XML_BYTES) -> ParsedXml:
    """Parse untrusted bytes safely; raise :class:`InputError` with a one-line reason when unreadable."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_bytes:
        raise InputError(f"input is too large: {len(data)} bytes, the limit is {max_bytes} bytes")
    if not data:
        raise InputError("input is empty (0 bytes)")
    notes: list[str] = []

    bom: str | None = None
    bom_len = 0
    for sig, name in _BOMS:
        if data.startswith(sig):
            bom, bom_len = name, len(sig)
            break
    if bom_len == len(data):
        raise InputError(f"input holds only a {bom} byte-order mark")
    if bom:
        notes.append(f"{bom} byte-order mark present")

    body = data[bom_len:]
    if not body.strip(_WS):
        raise InputError("input holds only whitespace")

    # Byte-level sniffing of 16/32-bit encodings without BOM.
    sniffed: str | None = None
    if bom is None:
        if body.startswith(b"<\x00\x00\x00"):
            sniffed = "UTF-32LE"
        elif body.startswith(b"\x00\x00\x00<"):
            sniffed = "UTF-32BE"
        elif body.startswith(b"<\x00") and len(body) > 2 and body[2] != 0:
            sniffed = "UTF-16LE"
        elif body.startswith(b"\x00<"):
            sniffed = "UTF-16BE"

    wide = bom if _family(_codec_name(bom or "")) in ("utf-16", "utf-32") else sniffed
    if wide is None:
        reason = _detect_binary(data if bom is None else body)
        if reason:
            raise InputError(reason)
        first = body.lstrip(_WS)[:1]
        if first != b"<":
            raise InputError(f"not XML: the first non-blank byte is {first!r} (input starts with {_preview(body)})")
        if b"\x00" in body[:4096]:
            raise InputError("not XML: the input contains NUL bytes (binary data)")
        head_text = body[:400].decode("latin-1")
    else:
        try:
            head_text = body[:800].decode(wide.lower(), errors="replace")
        except LookupError:  # pragma: no cover - all names above are known to Python
            head_text = ""
        if sniffed:
            notes.append(f"{sniffed} without byte-order mark")
        if not head_text.lstrip().startswith("<"):
            raise InputError(f"not XML: {wide} text does not start with '<'")

    m = _XML_DECL_ENCODING.match(head_text)
    declared = m.group(1) if m else None
    if head_text[:1] in " \t\r\n" and head_text.lstrip().startswith("<?xml"):
        raise InputError(
            "not well-formed XML: whitespace before the XML declaration '<?xml' (it must be the very first bytes)"
        )

    declared_codec = _codec_name(declared) if declared else None
    if declared and declared_codec is None:
        raise InputError(f"unknown encoding '{declared}' in the XML declaration")

    if bom or sniffed:
        actual = (bom or sniffed) or "UTF-8"
        actual_codec = _codec_name(actual)
        if declared_codec and _family(declared_codec) != _family(actual_codec):
            origin = "byte-order mark" if bom else "byte pattern"
            raise InputError(f"encoding mismatch: the {origin} says {actual} but the XML declaration says '{declared}'")
        codec = actual
        label = f"the {'byte-order mark' if bom else 'byte pattern'} says {actual}"
    else:
        if declared_codec and _family(declared_codec) in ("utf-16", "utf-32"):
            raise InputError(
                f"encoding mismatch: the XML declaration says '{declared}' but the bytes are 8-bit "
                "(no byte-order mark, '<?xml' is written one byte per character)"
            )
        codec = declared or "UTF-8"
        label = f"the XML declaration says '{declared}'" if declared else "no encoding declared (UTF-8 assumed)"

    text = _decode(data, _codec_name(codec) or "utf-8", label, bom_len)

    if declared_codec and _family(declared_codec) is None and not body.isascii():
        try:
            body.decode("utf-8")
            notes.append(
                f"declared encoding '{declared}' but the non-ASCII bytes are valid UTF-8: text may be mis-decoded"
            )
        except UnicodeDecodeError:
            pass

    doctype, _ = _scan_prolog(text.lstrip("\ufeff"))
    if doctype is not None:
        _check_doctype(doctype, notes)

    del text
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        msg = (e.msg or str(e)).strip()
        line, col = e.position if e.position else (e.lineno or 0, 0)
        lowered = msg.lower()
        if "premature end" in lowered or "endtag" in lowered or "couldn't find end" in lowered:
            raise InputError(f"truncated XML (ends before the document is complete): {msg}") from None
        if "excessive depth" in lowered or "huge" in lowered:
            raise InputError(f"XML exceeds the parser's safety limits: {msg}") from None
        where = "" if ", line " in msg else f" (line {line}, column {col})"
        raise InputError(f"not well-formed XML: {msg}{where}") from None
    except (ValueError, MemoryError, RecursionError) as e:  # pragma: no cover - defensive
        raise InputError(f"cannot parse XML: {type(e).__name__}: {e}") from None
    if root is None:  # pragma: no cover - lxml returns None for some empty documents
        raise InputError("not XML: no root element")

    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):  # type: ignore[union-attr]  # belt and braces after the prolog scan
        raise InputError("DOCTYPE declares entities: refused (billion-laughs / XXE protection)")

    return ParsedXml(
        root=root,
        notes=notes,
        bom=bom,
        declared_encoding=declared,
        encoding=(bom or sniffed or declared or "UTF-8"),
        doctype=doctype,
    )


def parse_xml_with_notes(data: bytes, max_bytes: int = MAX_XML_BYTES) -> tuple[etree._Element, list[str]]:
    """Parse safely; return the root element and notes such as "UTF-8 byte-order mark present"."""
    info = parse_xml_info(data, max_bytes)
    return info.root, info.notes


def parse_xml(data: bytes, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """Parse safely and return the root element; :class:`InputError` when the input is unreadable."""
    return parse_xml_info(data, max_bytes).root
