"""The DICOM Part 10 file meta information (group 0002) of a document, read and written without a DICOM library.

Enough to tell a KOS manifest from an image in a retrieve response (Flux 8 or Flux 10) and to write
example payloads whose header is real DICOM (PS3.10 §7.1: preamble, ``DICM``, explicit VR little endian).
"""

from __future__ import annotations

import struct

KOS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"
CT_IMAGE_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"


def _element(tag: int, vr: bytes, value: bytes) -> bytes:
    if len(value) % 2:
        value += b"\0" if vr == b"UI" else b" "
    group, elem = tag >> 16, tag & 0xFFFF
    if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT"):
        return struct.pack("<HH2s2xI", group, elem, vr, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr, len(value)) + value


def file_meta(sop_class: str, sop_instance: str, transfer_syntax: str = EXPLICIT_VR_LITTLE_ENDIAN) -> bytes:
    """Preamble, ``DICM`` and a file meta group naming the SOP class and instance."""
    body = (
        _element(0x00020001, b"OB", b"\x00\x01")
        + _element(0x00020002, b"UI", sop_class.encode())
        + _element(0x00020003, b"UI", sop_instance.encode())
        + _element(0x00020010, b"UI", transfer_syntax.encode())
    )
    return b"\0" * 128 + b"DICM" + _element(0x00020000, b"UL", struct.pack("<I", len(body))) + body


def read_meta(data: bytes) -> dict[int, str]:
    """The UI/string elements of the file meta group, by tag; empty when ``data`` is not a Part 10 file."""
    if len(data) < 132 or data[128:132] != b"DICM":
        return {}
    out: dict[int, str] = {}
    pos = 132
    while pos + 8 <= len(data):
        group, elem, vr = struct.unpack_from("<HH2s", data, pos)
        if group != 0x0002:
            break
        if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT"):
            if pos + 12 > len(data):
                break
            (length,) = struct.unpack_from("<I", data, pos + 8)
            start = pos + 12
        else:
            (length,) = struct.unpack_from("<H", data, pos + 6)
            start = pos + 8
        value = data[start : start + length]
        if vr in (b"UI", b"AE", b"SH", b"CS", b"LO"):
            out[(group << 16) | elem] = value.rstrip(b"\0 ").decode("ascii", "replace")
        pos = start + length
    return out


def sop_class_of(data: bytes) -> str | None:
    return read_meta(data).get(0x00020002)
