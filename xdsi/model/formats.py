"""Format checks for the data types XDS carries in slots and external identifiers (no XML here).

Every ``check_*`` function returns ``None`` when the value is valid and a short reason (English, for an
integrator) when it is not; none of them raises, whatever the input. ``parse_cx`` / ``parse_cxi`` split an
identifier into the parts a registry matches on.

References: IHE ITI TF-3 4.2.3.1.7 (Metadata attribute data types: CX, CXi, DTM, OID, XCN, XON, UUID),
ITI TF-3 Table 4.2.3.2-1 (DocumentEntry attributes: hash, size, languageCode), HL7 v2.5 Chapter 2.7
(escape sequences), xds-facts §2.4 (CI-SIS conventions: ``^NH`` INS patient ids, CX.7 date in the DMP
examples, XCN/XON forms).

Profiles (DESIGN §3): ``ihe`` is strict IHE; ``cisis`` accepts the French conventions (CX.5 = ``NH`` in the
INS patient id); ``dmp`` additionally accepts what the official DMP examples carry (CX.7 = a date,
``…^NH^^20100907``).
"""

from __future__ import annotations

import calendar
import re

__all__ = [
    "DMP_PATIENT_ID_TYPES",
    "FRENCH_PATIENT_ID_TYPES",
    "check_cx",
    "check_cxi",
    "check_dtm",
    "check_hash",
    "check_hd_oid",
    "check_int",
    "check_language",
    "check_oid",
    "check_uuid_urn",
    "check_xcn",
    "check_xon",
    "dtm_sort_key",
    "parse_cx",
    "parse_cxi",
    "split_components",
    "unescape",
]

#: CX.5 identifier type codes accepted in a patient id by the French profiles (INS: ``NH``).
FRENCH_PATIENT_ID_TYPES = frozenset({"NH"})
#: ... and in the DMP profile (same list; CX.7 is what the DMP adds, see ``check_cx``).
DMP_PATIENT_ID_TYPES = FRENCH_PATIENT_ID_TYPES

_ESCAPES = {"F": "|", "S": "^", "T": "&", "R": "~", "E": "\\"}
_ESCAPE_RE = re.compile(r"\\([FSTRE])\\")
_DIGITS = re.compile(r"[0-9]+")
_OID_RE = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+")
_UUID_URN_RE = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_HASH_RE = re.compile(r"[0-9a-fA-F]{40}")
_HASH_CHARS = re.compile(r"[0-9a-fA-F]+")
#: RFC 5646 language tag, simplified: primary subtag (2-3 letters, or 4-8 for registered/private tags),
#: then subtags of 1-8 alphanumerics (script, region, variants, extensions); ``x-…`` private use; ``i-…``.
_LANGUAGE_RE = re.compile(r"([A-Za-z]{2,8}|[xXiI])(-[A-Za-z0-9]{1,8})*")
_URN_RE = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+")
_CX_TYPE_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")
_DTM_LENGTHS = (4, 6, 8, 10, 12, 14)
OID_MAX_LENGTH = 64


# --------------------------------------------------------------------------------------------------
# HL7 v2 encoding helpers


def unescape(text: str) -> str:
    """Resolve the HL7 v2 escape sequences ``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\`` (others are left as they are)."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(1)], text)


def split_components(value: str, sep: str = "^") -> list[str]:
    """Split on a separator; escaped separators (``\\S\\`` for ``^``, ``\\T\\`` for ``&``) are data, since
    an escape sequence never contains the raw separator character. Components are returned escaped."""
    return value.split(sep)


def _component(comps: list[str], n: int) -> str:
    """HL7 component n (1-based), empty when absent."""
    return comps[n - 1] if len(comps) >= n else ""


def _non_empty_after(comps: list[str], allowed: set[int]) -> list[int]:
    """1-based numbers of the components that carry something but are not in ``allowed``."""
    return [i + 1 for i, c in enumerate(comps) if c and (i + 1) not in allowed]


def _whitespace_problem(value: str) -> str | None:
    if value != value.strip():
        return "leading or trailing whitespace"
    if "\n" in value or "\r" in value or "\t" in value:
        return "control characters (newline/tab) inside the value"
    return None


# --------------------------------------------------------------------------------------------------
# Scalar types


def check_dtm(value: str) -> str | None:
    """HL7 DTM as XDS uses it: ``YYYY[MM[DD[hh[mm[ss]]]]]`` in UTC, digits only, real calendar values."""
    if not isinstance(value, str) or not value:
        return "empty date/time"
    if not _DIGITS.fullmatch(value):
        return "not digits only (DTM is YYYY[MM[DD[hh[mm[ss]]]]] in UTC, no separators nor time zone)"
    if len(value) not in _DTM_LENGTHS:
        return f"{len(value)} digits; a DTM has 4, 6, 8, 10, 12 or 14"
    year = int(value[0:4])
    if year < 1:
        return "year 0000"
    if len(value) >= 6:
        month = int(value[4:6])
        if not 1 <= month <= 12:
            return f"month {value[4:6]} out of range"
        if len(value) >= 8:
            day = int(value[6:8])
            if not 1 <= day <= calendar.monthrange(year, month)[1]:
                return f"day {value[6:8]} does not exist in {value[0:4]}-{value[4:6]}"
    if len(value) >= 10 and int(value[8:10]) > 23:
        return f"hour {value[8:10]} out of range"
    if len(value) >= 12 and int(value[10:12]) > 59:
        return f"minute {value[10:12]} out of range"
    if len(value) >= 14 and int(value[12:14]) > 59:
        return f"second {value[12:14]} out of range"
    return None


def dtm_sort_key(value: str, upper: bool = False) -> str:
    """A DTM padded to 14 digits, for comparisons: the earliest instant it covers (or, with ``upper``, a
    key not below the latest one). Only meaningful for values ``check_dtm`` accepts."""
    if len(value) >= 14:
        return value
    return value + ("1231235959" if upper else "0101000000")[len(value) - 4 :]


def check_oid(value: str) -> str | None:
    """ISO OID (also the form of DICOM UIDs): digits and dots, at least two arcs, no leading zero in an
    arc other than ``0`` itself, first arc 0/1/2, at most 64 characters. (The X.660 limit of 39 on the second
    arc under 0 and 1 is not enforced: official DMP examples break it, e.g. ``1.999888777.1.24``.)"""
    if not isinstance(value, str) or not value:
        return "empty OID"
    if len(value) > OID_MAX_LENGTH:
        return f"OID longer than {OID_MAX_LENGTH} characters ({len(value)})"
    if not _OID_RE.fullmatch(value):
        if re.fullmatch(r"[0-9.]+", value):
            if ".." in value or value.startswith(".") or value.endswith("."):
                return "empty arc in OID"
            if "." not in value:
                return "an OID has at least two arcs"
            return "arcs of an OID have no leading zeros"
        return "not an OID (digits and dots only)"
    if value.split(".", 1)[0] not in ("0", "1", "2"):
        return "the first arc of an OID is 0, 1 or 2"
    return None


def check_uuid_urn(value: str) -> str | None:
    """``urn:uuid:`` followed by an RFC 4122 UUID (8-4-4-4-12 hexadecimal digits)."""
    if not isinstance(value, str) or not value:
        return "empty UUID"
    if not value.lower().startswith("urn:uuid:"):
        return "does not start with urn:uuid:"
    if not _UUID_URN_RE.fullmatch(value):
        return "not urn:uuid: followed by a UUID (8-4-4-4-12 hexadecimal digits)"
    return None


def check_language(value: str) -> str | None:
    """Language tag (RFC 5646 / RFC 3066), e.g. ``fr-FR``, ``en-us``, ``art``."""
    if not isinstance(value, str) or not value:
        return "empty language code"
    if not _LANGUAGE_RE.fullmatch(value):
        return "not an RFC 5646 language tag (e.g. fr-FR)"
    return None


def check_hash(value: str) -> str | None:
    """SHA-1 digest in hexadecimal: exactly 40 hex digits."""
    if not isinstance(value, str) or not value:
        return "empty hash"
    if not _HASH_RE.fullmatch(value):
        return (
            f"{len(value)} characters, not 40 hexadecimal digits (SHA-1)"
            if _HASH_CHARS.fullmatch(value)
            else "not 40 hexadecimal digits (SHA-1)"
        )
    return None


def check_int(value: str, allow_negative: bool = False) -> str | None:
    """Decimal integer (non-negative unless ``allow_negative``), digits only, no sign, spaces or decimals."""
    if not isinstance(value, str) or not value:
        return "empty integer"
    body = value[1:] if allow_negative and value.startswith("-") else value
    if not _DIGITS.fullmatch(body):
        return "not an integer" if allow_negative else "not a non-negative integer (digits only)"
    return None


# --------------------------------------------------------------------------------------------------
# HD / CX / CXi


def check_hd_oid(hd: str, what: str = "assigning authority") -> str | None:
    """An HD given as ``&OID&ISO`` (namespace empty, universal id an OID, universal id type ``ISO``)."""
    if not hd:
        return f"{what} is missing (expected &OID&ISO)"
    sub = hd.split("&")
    if len(sub) != 3:
        return f"{what} {hd!r} is not &OID&ISO"
    namespace, oid, oid_type = sub
    if namespace:
        return f"{what} {hd!r} has a namespace id; expected &OID&ISO with an empty first sub-component"
    problem = check_oid(oid)
    if problem:
        return f"{what} {hd!r}: {problem}"
    if oid_type != "ISO":
        return f"{what} {hd!r}: universal id type is {oid_type!r}, expected ISO"
    return None


def check_cx(value: str, profile: str = "ihe", *, source: bool = False) -> str | None:
    """Patient identifier CX.

    ``ihe``: ``ID^^^&OID&ISO`` — CX.1 and CX.4 only (CX.4.2 an OID, CX.4.3 ``ISO``), nothing else.
    ``cisis``: also CX.5 = ``NH`` (INS). ``dmp``: also CX.7 (a date), as the official DMP examples carry
    ``…^NH^^20100907``. With ``source`` (sourcePatientId, a local id such as the IPP ``…^PI``), the
    French profiles accept any CX.5 identifier type code.
    """
    if not isinstance(value, str) or not value.strip():
        return "empty patient identifier"
    ws = _whitespace_problem(value)
    if ws:
        return ws
    comps = split_components(value)
    if not comps[0]:
        return "CX.1 (id number) is empty"
    for n in (2, 3):
        if _component(comps, n):
            return f"CX.{n} must be empty (found {_component(comps, n)!r}); expected ID^^^&OID&ISO"
    problem = check_hd_oid(_component(comps, 4), "CX.4 assigning authority")
    if problem:
        return problem
    allowed = {1, 4}
    if profile in ("cisis", "dmp"):
        allowed.add(5)
        if profile == "dmp":
            allowed.add(7)
    extra = _non_empty_after(comps, allowed)
    if extra:
        shown = ", ".join(f"CX.{n}={_component(comps, n)!r}" for n in extra)
        if profile == "ihe":
            return f"only CX.1 and CX.4 are allowed by IHE; found {shown}"
        return f"components not allowed in profile {profile}: {shown}"
    id_type = _component(comps, 5)
    if id_type:
        if source:
            if not _CX_TYPE_RE.fullmatch(id_type):
                return f"CX.5 identifier type {id_type!r} is not an HL7 identifier type code"
        elif id_type not in FRENCH_PATIENT_ID_TYPES:
            return f"CX.5 identifier type {id_type!r} not allowed in a patient id (expected NH for the INS)"
    effective = _component(comps, 7)
    if effective:
        problem = check_dtm(effective)
        if problem:
            return f"CX.7 (effective date): {problem}"
    return None


def parse_cx(value: str) -> tuple[str, str, str | None]:
    """``(id, assigning-authority OID, CX.5 type or None)``; never raises. The id is unescaped; the OID
    is ``""`` when CX.4 is not ``&OID&ISO``-shaped. Check the value with ``check_cx`` first."""
    comps = split_components(value or "")
    hd = _component(comps, 4).split("&")
    oid = hd[1] if len(hd) >= 2 else ""
    return unescape(comps[0]), oid, (_component(comps, 5) or None)


def check_cxi(value: str) -> str | None:
    """referenceIdList value (CXi): CX.1 id required; CX.4 optional ``&OID&ISO``; CX.5 the identifier
    type, a URN, required; CX.6 (assigning facility / homeCommunityId) optional; nothing else."""
    if not isinstance(value, str) or not value.strip():
        return "empty reference id"
    ws = _whitespace_problem(value)
    if ws:
        return ws
    comps = split_components(value)
    if not comps[0]:
        return "CXi.1 (id) is empty"
    for n in (2, 3):
        if _component(comps, n):
            return f"CXi.{n} must be empty (found {_component(comps, n)!r})"
    hd = _component(comps, 4)
    if hd:
        problem = check_hd_oid(hd, "CXi.4 assigning authority")
        if problem:
            return problem
    id_type = _component(comps, 5)
    if not id_type:
        return "CXi.5 (identifier type URN) is missing"
    if not _URN_RE.fullmatch(id_type):
        return f"CXi.5 identifier type {id_type!r} is not a URN"
    extra = _non_empty_after(comps, {1, 4, 5, 6})
    if extra:
        return "only CXi.1, CXi.4, CXi.5 and CXi.6 are allowed; found " + ", ".join(
            f"CXi.{n}={_component(comps, n)!r}" for n in extra
        )
    return None


def parse_cxi(value: str) -> tuple[str, str | None, str]:
    """``(id, assigning-authority OID or None, identifier type URN)``; never raises; the id is unescaped."""
    comps = split_components(value or "")
    hd = _component(comps, 4).split("&")
    oid = hd[1] if len(hd) >= 2 and hd[1] else None
    return unescape(comps[0]), oid, _component(comps, 5)


# --------------------------------------------------------------------------------------------------
# XCN / XON


def check_xcn(value: str) -> str | None:
    """Person (authorPerson, legalAuthenticator): an id (XCN.1) with its assigning authority (XCN.9,
    ``&OID&ISO``), or at least a family name (XCN.2). CI-SIS form:
    ``<id>^<NOM>^<Prénom>^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS``."""
    if not isinstance(value, str) or not value.strip():
        return "empty person (XCN)"
    ws = _whitespace_problem(value)
    if ws:
        return ws
    comps = split_components(value)
    if len(comps) > 23:
        return f"XCN has {len(comps)} components (at most 23)"
    ident, family, authority = comps[0], _component(comps, 2), _component(comps, 9)
    family_name = family.split("&")[0]
    if not ident and not family_name:
        return "neither an id (XCN.1) nor a family name (XCN.2)"
    if authority:
        problem = check_hd_oid(authority, "XCN.9 assigning authority")
        if problem:
            return problem
    elif ident and not family_name:
        return f"id {ident!r} (XCN.1) without assigning authority (XCN.9) nor name"
    return None


def check_xon(value: str, profile: str = "cisis") -> str | None:
    """Organisation (authorInstitution): XON.1 name required; when XON.10 (organisation id) is present
    and is not itself an OID, XON.6 is its assigning authority ``&OID&ISO``. IHE allows no other
    component; the CI-SIS form adds XON.7 = ``IDNST``:
    ``<Raison sociale>^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^<Struct_IdNat>``."""
    if not isinstance(value, str) or not value.strip():
        return "empty organisation (XON)"
    ws = _whitespace_problem(value)
    if ws:
        return ws
    comps = split_components(value)
    if not comps[0]:
        return "XON.1 (organisation name) is empty"
    org_id, authority = _component(comps, 10), _component(comps, 6)
    if authority:
        problem = check_hd_oid(authority, "XON.6 assigning authority")
        if problem:
            return problem
    if org_id and not authority and check_oid(org_id) is not None:
        return f"organisation id {org_id!r} (XON.10) is not an OID and has no assigning authority (XON.6)"
    if authority and not org_id:
        return "assigning authority (XON.6) without organisation id (XON.10)"
    allowed = {1, 6, 10} if profile == "ihe" else {1, 6, 7, 10}
    extra = _non_empty_after(comps, allowed)
    if extra:
        shown = ", ".join(f"XON.{n}={_component(comps, n)!r}" for n in extra)
        return f"only XON.1, XON.6{'' if profile == 'ihe' else ', XON.7'} and XON.10 are allowed; found {shown}"
    return None
