"""Registry Stored Query (ITI-18) model: the query table, the value syntax of query slots, the parsed query.

No XML here: callers hand in the slot names and the texts of their ``<rim:Value>`` elements.

* ``QUERIES`` — every ITI-18 stored query (id → :class:`QueryDef`): its parameters with optionality,
  multiplicity, kind of value and whether AND/OR (several slots of one name) is allowed, and its "one of"
  groups. Source: xds-facts §3.2–§3.3 (NIST toolkit ``validate_parm``, IPF ``QueryType``/rules; IHE ITI
  TF-2a 3.18.4.1.2.3.7.1–.14).
* :func:`parse_value` / :func:`parse_slot_values` — the literal syntax of a value (xds-facts §3.4; ITI TF-2a
  3.18.4.1.2.3.4): ``'string'`` with ``''`` for a quote, ``('a','b')`` lists, unquoted numbers for times,
  several ``<Value>`` elements ORed.
* :func:`parse_code` — ``code^^scheme``.
* :class:`StoredQuery` — a parsed query: ``params[name]`` is a list of slots (AND) of lists of values (OR).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ASSOCIATION_TYPES",
    "CISIS_STATUSES",
    "IHE_STATUSES",
    "OBJECT_TYPES",
    "QUERIES",
    "QUERY_IDS",
    "RETURN_TYPES",
    "ParamDef",
    "ParamKind",
    "ParsedValue",
    "QueryDef",
    "SlotValueError",
    "StoredQuery",
    "allowed_statuses",
    "build_stored_query",
    "check_code",
    "parse_code",
    "parse_slot_values",
    "parse_value",
    "query_def",
]

ParamKind = Literal[
    "string",  # quoted string (uniqueIds, sourceId, homeCommunityId)
    "code",  # quoted code^^scheme
    "time",  # unquoted DTM number
    "status",  # quoted availability-status URN
    "uuid",  # quoted urn:uuid:…
    "cx",  # quoted patient id (CX)
    "cxi",  # quoted reference id (CXi)
    "objecttype",  # quoted DocumentEntry objectType UUID (stable / on-demand)
    "like",  # quoted string with SQL LIKE wildcards % and _
    "associationtype",  # quoted association type URN
    "metadatalevel",  # 1 or 2 (quoted or not)
]
#: Kinds whose values are unquoted numbers.
NUMERIC_KINDS: frozenset[str] = frozenset({"time"})
#: Kinds whose values may be given quoted or not.
EITHER_KINDS: frozenset[str] = frozenset({"metadatalevel"})

RETURN_TYPES = ("LeafClass", "ObjectRef")

# --------------------------------------------------------------------------------------------------
# Vocabularies (xds-facts §2.1, §2.6, §2.7)

APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"
IHE_STATUSES: frozenset[str] = frozenset({APPROVED, DEPRECATED})
#: JDV_J52_AvailabilityStatus_CISIS: the OASIS statuses plus the CI-SIS Archived/Deleted ones.
CISIS_STATUSES: frozenset[str] = IHE_STATUSES | {ARCHIVED, DELETED}

STABLE = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
ON_DEMAND = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"
OBJECT_TYPES: frozenset[str] = frozenset({STABLE, ON_DEMAND})

ASSOCIATION_TYPES: frozenset[str] = frozenset(
    {
        "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember",
        "urn:ihe:iti:2007:AssociationType:RPLC",
        "urn:ihe:iti:2007:AssociationType:APND",
        "urn:ihe:iti:2007:AssociationType:XFRM",
        "urn:ihe:iti:2007:AssociationType:XFRM_RPLC",
        "urn:ihe:iti:2007:AssociationType:signs",
        "urn:ihe:iti:2010:AssociationType:IsSnapshotOf",
        "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus",
        "urn:ihe:iti:2010:AssociationType:SubmitAssociation",
    }
)


def allowed_statuses(profile: str) -> frozenset[str]:
    """Availability statuses a query may ask for: IHE's two, plus Archived/Deleted in cisis and dmp."""
    return IHE_STATUSES if profile == "ihe" else CISIS_STATUSES


# --------------------------------------------------------------------------------------------------
# The query table


@dataclass(frozen=True)
class ParamDef:
    name: str
    kind: ParamKind
    required: bool = False
    #: several values allowed (a list ``('a','b')`` or several ``<Value>``), ORed
    multiple: bool = False
    #: several slots of this name allowed (ANDed); only for multiple-valued parameters
    and_or: bool = False
    #: name of a "one of" group: exactly one parameter of the group must be present
    group: str | None = None


@dataclass(frozen=True)
class QueryDef:
    id: str
    name: str
    params: tuple[ParamDef, ...]
    reference: str

    def param(self, name: str) -> ParamDef | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def required(self) -> tuple[ParamDef, ...]:
        return tuple(p for p in self.params if p.required)

    @property
    def groups(self) -> dict[str, tuple[str, ...]]:
        """The "one of" groups: group name → parameter names."""
        out: dict[str, list[str]] = {}
        for p in self.params:
            if p.group:
                out.setdefault(p.group, []).append(p.name)
        return {k: tuple(v) for k, v in out.items()}


def _p(name: str, kind: ParamKind, opt: str = "O", mult: str = "", and_or: bool = False) -> ParamDef:
    """Table shorthand: opt R|O|<group>, mult M|''."""
    required = opt == "R"
    group = opt if opt not in ("R", "O") else None
    return ParamDef(name, kind, required, mult == "M", and_or, group)


def _time_pair(prefix: str) -> tuple[ParamDef, ParamDef]:
    return _p(f"{prefix}From", "time"), _p(f"{prefix}To", "time")


#: Parameters every ITI-18 query accepts: ``$homeCommunityId`` (XCA routing) and ``$MetadataLevel``
#: (XDS Metadata Update, 1 or 2; NIST accepts it on the Get* queries).
_COMMON = (_p("$homeCommunityId", "string"), _p("$MetadataLevel", "metadatalevel"))

_DE = "$XDSDocumentEntry"
_FIND_DOCUMENTS_PARAMS = (
    _p(f"{_DE}PatientId", "cx", "R"),
    _p(f"{_DE}ClassCode", "code", "O", "M"),
    _p(f"{_DE}TypeCode", "code", "O", "M"),
    _p(f"{_DE}PracticeSettingCode", "code", "O", "M"),
    *_time_pair(f"{_DE}CreationTime"),
    *_time_pair(f"{_DE}ServiceStartTime"),
    *_time_pair(f"{_DE}ServiceStopTime"),
    _p(f"{_DE}HealthcareFacilityTypeCode", "code", "O", "M"),
    _p(f"{_DE}EventCodeList", "code", "O", "M", and_or=True),
    _p(f"{_DE}ConfidentialityCode", "code", "O", "M", and_or=True),
    _p(f"{_DE}AuthorPerson", "like", "O", "M"),
    _p(f"{_DE}FormatCode", "code", "O", "M"),
    _p(f"{_DE}Status", "status", "R", "M"),
    _p(f"{_DE}Type", "objecttype", "O", "M"),
)
_CONTENT_FILTERS = (
    _p(f"{_DE}FormatCode", "code", "O", "M"),
    _p(f"{_DE}ConfidentialityCode", "code", "O", "M", and_or=True),
    _p(f"{_DE}Type", "objecttype", "O", "M"),
)

_REF = "IHE ITI TF-2a 3.18.4.1.2.3.7"
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
FIND_DOCUMENTS_BY_REFERENCE_ID = "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492"
FIND_SUBMISSION_SETS = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
FIND_FOLDERS = "urn:uuid:958f3006-baad-4929-a4de-ff1114824431"
GET_ALL = "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
GET_FOLDERS = "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4"
GET_ASSOCIATIONS = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
GET_DOCUMENTS_AND_ASSOCIATIONS = "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a"
GET_SUBMISSION_SETS = "urn:uuid:51224314-5390-4169-9b91-b1980040715a"
GET_SUBMISSION_SET_AND_CONTENTS = "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83"
GET_FOLDER_AND_CONTENTS = "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7"
GET_FOLDERS_FOR_DOCUMENT = "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578"
GET_RELATED_DOCUMENTS = "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6"

_DEFS = (
    QueryDef(FIND_DOCUMENTS, "FindDocuments", (*_FIND_DOCUMENTS_PARAMS, *_COMMON), f"{_REF}.1"),
    QueryDef(
        FIND_SUBMISSION_SETS,
        "FindSubmissionSets",
        (
            _p("$XDSSubmissionSetPatientId", "cx", "R"),
            _p("$XDSSubmissionSetSourceId", "string", "O", "M"),
            *_time_pair("$XDSSubmissionSetSubmissionTime"),
            _p("$XDSSubmissionSetAuthorPerson", "like"),
            _p("$XDSSubmissionSetContentType", "code", "O", "M"),
            _p("$XDSSubmissionSetStatus", "status", "R", "M"),
            *_COMMON,
        ),
        f"{_REF}.2",
    ),
    QueryDef(
        FIND_FOLDERS,
        "FindFolders",
        (
            _p("$XDSFolderPatientId", "cx", "R"),
            *_time_pair("$XDSFolderLastUpdateTime"),
            _p("$XDSFolderCodeList", "code", "O", "M", and_or=True),
            _p("$XDSFolderStatus", "status", "R", "M"),
            *_COMMON,
        ),
        f"{_REF}.3",
    ),
    QueryDef(
        GET_ALL,
        "GetAll",
        (
            _p("$patientId", "cx", "R"),
            _p(f"{_DE}Status", "status", "R", "M"),
            _p("$XDSSubmissionSetStatus", "status", "R", "M"),
            _p("$XDSFolderStatus", "status", "R", "M"),
            *_CONTENT_FILTERS,
            *_COMMON,
        ),
        f"{_REF}.4",
    ),
    QueryDef(
        GET_DOCUMENTS,
        "GetDocuments",
        (
            _p(f"{_DE}EntryUUID", "uuid", "entry", "M"),
            _p(f"{_DE}UniqueId", "string", "entry", "M"),
            _p(f"{_DE}LogicalID", "uuid", "entry", "M"),
            *_COMMON,
        ),
        f"{_REF}.5",
    ),
    QueryDef(
        GET_FOLDERS,
        "GetFolders",
        (
            _p("$XDSFolderEntryUUID", "uuid", "folder", "M"),
            _p("$XDSFolderUniqueId", "string", "folder", "M"),
            _p("$XDSFolderLogicalID", "uuid", "folder", "M"),
            *_COMMON,
        ),
        f"{_REF}.6",
    ),
    QueryDef(GET_ASSOCIATIONS, "GetAssociations", (_p("$uuid", "uuid", "R", "M"), *_COMMON), f"{_REF}.7"),
    QueryDef(
        GET_DOCUMENTS_AND_ASSOCIATIONS,
        "GetDocumentsAndAssociations",
        (_p(f"{_DE}EntryUUID", "uuid", "entry", "M"), _p(f"{_DE}UniqueId", "string", "entry", "M"), *_COMMON),
        f"{_REF}.8",
    ),
    QueryDef(GET_SUBMISSION_SETS, "GetSubmissionSets", (_p("$uuid", "uuid", "R", "M"), *_COMMON), f"{_REF}.9"),
    QueryDef(
        GET_SUBMISSION_SET_AND_CONTENTS,
        "GetSubmissionSetAndContents",
        (
            _p("$XDSSubmissionSetEntryUUID", "uuid", "submissionset"),
            _p("$XDSSubmissionSetUniqueId", "string", "submissionset"),
            *_CONTENT_FILTERS,
            *_COMMON,
        ),
        f"{_REF}.10",
    ),
    QueryDef(
        GET_FOLDER_AND_CONTENTS,
        "GetFolderAndContents",
        (
            _p("$XDSFolderEntryUUID", "uuid", "folder"),
            _p("$XDSFolderUniqueId", "string", "folder"),
            *_CONTENT_FILTERS,
            _p("$XDSAssociationStatus", "status", "O", "M"),
            *_COMMON,
        ),
        f"{_REF}.11",
    ),
    QueryDef(
        GET_FOLDERS_FOR_DOCUMENT,
        "GetFoldersForDocument",
        (_p(f"{_DE}EntryUUID", "uuid", "entry"), _p(f"{_DE}UniqueId", "string", "entry"), *_COMMON),
        f"{_REF}.12",
    ),
    QueryDef(
        GET_RELATED_DOCUMENTS,
        "GetRelatedDocuments",
        (
            _p(f"{_DE}EntryUUID", "uuid", "entry"),
            _p(f"{_DE}UniqueId", "string", "entry"),
            _p("$AssociationTypes", "associationtype", "R", "M"),
            _p(f"{_DE}Type", "objecttype", "O", "M"),
            *_COMMON,
        ),
        f"{_REF}.13",
    ),
    # AND/OR on the reference id list: NIST forbids it, IPF allows several slots (xds-facts §10 Q4);
    # allowed here so that no conformant message is refused.
    QueryDef(
        FIND_DOCUMENTS_BY_REFERENCE_ID,
        "FindDocumentsByReferenceId",
        (*_FIND_DOCUMENTS_PARAMS, _p(f"{_DE}ReferenceIdList", "cxi", "R", "M", and_or=True), *_COMMON),
        f"{_REF}.14",
    ),
)

#: query id (``urn:uuid:…``) → definition
QUERIES: dict[str, QueryDef] = {q.id: q for q in _DEFS}
#: query name → query id
QUERY_IDS: dict[str, str] = {q.name: q.id for q in _DEFS}


def query_def(query_id_or_name: str) -> QueryDef | None:
    """Definition by id (case-insensitive UUID) or by name."""
    q = QUERIES.get(query_id_or_name) or QUERIES.get(query_id_or_name.lower())
    if q is None and query_id_or_name in QUERY_IDS:
        q = QUERIES[QUERY_IDS[query_id_or_name]]
    return q


# --------------------------------------------------------------------------------------------------
# Value syntax

SlotErrorCategory = Literal["syntax", "not-string", "quoted-number", "empty"]


class SlotValueError(ValueError):
    """A query slot value that cannot be read. ``category``: ``syntax`` (unbalanced quotes/parentheses,
    missing comma…), ``not-string`` (unquoted where a quoted string is due), ``quoted-number`` (a time
    given as a quoted string), ``empty`` (no value). ``index``: 0-based position of the ``<Value>``."""

    def __init__(self, reason: str, category: SlotErrorCategory = "syntax", index: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.category: SlotErrorCategory = category
        self.index = index
        #: the parameter (slot name), when known
        self.param: str | None = None


@dataclass(frozen=True)
class ParsedValue:
    """One ``<Value>`` text, read: its items (quotes removed), whether each was quoted, list form or not."""

    items: tuple[str, ...]
    quoted: tuple[bool, ...]
    is_list: bool


_DELIMS = set("(),'")


def _read_item(text: str, i: int) -> tuple[str, bool, int]:
    """Read one item at ``text[i]`` (not whitespace): a quoted string or an unquoted token."""
    n = len(text)
    if text[i] == "'":
        out: list[str] = []
        j = i + 1
        while j < n:
            c = text[j]
            if c == "'":
                if j + 1 < n and text[j + 1] == "'":
                    out.append("'")
                    j += 2
                    continue
                return "".join(out), True, j + 1
            out.append(c)
            j += 1
        raise SlotValueError(f"unbalanced quote: no closing ' for the string starting at position {i + 1}")
    j = i
    while j < n and text[j] not in _DELIMS and not text[j].isspace():
        j += 1
    if j == i:
        raise SlotValueError(f"unexpected {text[i]!r} at position {i + 1}")
    return text[i:j], False, j


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def parse_value(text: str) -> ParsedValue:
    """Read one ``<Value>`` text: ``'a'``, ``('a','b')``, ``20221016161616`` or ``(1, 2)``.

    Raises :class:`SlotValueError` (category ``syntax`` or ``empty``) on malformed syntax."""
    text = text or ""
    i = _skip_ws(text, 0)
    if i == len(text):
        raise SlotValueError("empty value", "empty")
    items: list[str] = []
    quoted: list[bool] = []
    if text[i] == "(":
        i = _skip_ws(text, i + 1)
        if i < len(text) and text[i] == ")":
            raise SlotValueError("empty list ()", "empty")
        while True:
            if i >= len(text):
                raise SlotValueError("unbalanced parenthesis: no closing )")
            item, q, i = _read_item(text, i)
            items.append(item)
            quoted.append(q)
            i = _skip_ws(text, i)
            if i >= len(text):
                raise SlotValueError("unbalanced parenthesis: no closing )")
            if text[i] == ",":
                i = _skip_ws(text, i + 1)
                continue
            if text[i] == ")":
                i = _skip_ws(text, i + 1)
                break
            raise SlotValueError(f"expected ',' or ')' at position {i + 1}, found {text[i]!r}")
        if i < len(text):
            raise SlotValueError(f"text after the closing parenthesis: {text[i:]!r}")
        return ParsedValue(tuple(items), tuple(quoted), True)
    item, q, i = _read_item(text, i)
    i = _skip_ws(text, i)
    if i < len(text):
        if text[i] == ")":
            raise SlotValueError("unbalanced parenthesis: ) without (")
        if text[i] == ",":
            raise SlotValueError("several values must be given as a list in parentheses ('a','b')")
        raise SlotValueError(f"text after the value: {text[i:]!r}")
    return ParsedValue((item,), (q,), False)


def _check_quoting(parsed: ParsedValue, kind: str | None, index: int) -> None:
    if kind is None or kind in EITHER_KINDS:
        return
    for item, q in zip(parsed.items, parsed.quoted, strict=True):
        if kind in NUMERIC_KINDS and q:
            raise SlotValueError(f"{item!r} is quoted; a {kind} value is an unquoted number", "quoted-number", index)
        if kind not in NUMERIC_KINDS and not q:
            raise SlotValueError(f"{item!r} is not quoted; string values are written '…'", "not-string", index)


def parse_slot_values(values: list[str], kind: str | None = "string") -> list[str]:
    """The values of one slot (all its ``<Value>`` texts, ORed), quotes removed, lists flattened.

    ``kind`` decides quoting: times are unquoted numbers, ``metadatalevel`` either, every other kind a
    quoted string; ``None`` accepts both. Raises :class:`SlotValueError` on the first problem."""
    if not values:
        raise SlotValueError("slot without value", "empty")
    out: list[str] = []
    for index, text in enumerate(values):
        try:
            parsed = parse_value(text)
        except SlotValueError as exc:
            exc.index = index
            raise
        _check_quoting(parsed, kind, index)
        out.extend(parsed.items)
    return out


def check_code(value: str) -> str | None:
    """``code^^scheme``: both the code and the coding scheme present, the middle component empty."""
    parts = (value or "").split("^")
    if len(parts) != 3:
        return "not code^^scheme"
    code, middle, scheme = parts
    if not code:
        return "the code is missing (expected code^^scheme)"
    if middle:
        return "the second component must be empty (expected code^^scheme)"
    if not scheme:
        return "the coding scheme is missing (expected code^^scheme)"
    return None


def parse_code(value: str) -> tuple[str, str]:
    """``code^^scheme`` → ``(code, scheme)``; raises ``ValueError`` when the scheme (or code) is missing."""
    problem = check_code(value)
    if problem:
        raise ValueError(f"{value!r}: {problem}")
    code, _, scheme = value.split("^")
    return code, scheme


# --------------------------------------------------------------------------------------------------
# Parsed query


@dataclass
class StoredQuery:
    """A stored query as a registry executes it.

    ``params[name]`` is a list of slots, ANDed; each slot a list of values, ORed (for a single-valued
    parameter: ``[[value]]``). Values are unquoted: times are digit strings, codes ``code^^scheme``."""

    query_id: str
    name: str | None
    return_type: str = "LeafClass"
    params: dict[str, list[list[str]]] = field(default_factory=dict)

    @property
    def definition(self) -> QueryDef | None:
        return query_def(self.query_id)

    def has(self, name: str) -> bool:
        return bool(self.params.get(name))

    def and_or(self, name: str) -> list[list[str]]:
        """The AND-list of OR-lists of a parameter (empty when absent)."""
        return self.params.get(name, [])

    def values(self, name: str) -> list[str]:
        """All values of a parameter, flattened (for parameters without AND/OR semantics)."""
        return [v for slot in self.params.get(name, []) for v in slot]

    def value(self, name: str) -> str | None:
        """The value of a single-valued parameter (the first one), or ``None``."""
        vals = self.values(name)
        return vals[0] if vals else None

    def codes(self, name: str) -> list[list[tuple[str, str]]]:
        """A code parameter as AND of ORs of ``(code, scheme)``."""
        return [[parse_code(v) for v in slot] for slot in self.and_or(name)]

    def time_range(self, attribute: str) -> tuple[str | None, str | None]:
        """``(From, To)`` of a time parameter pair, e.g. ``"$XDSDocumentEntryCreationTime"``. From is
        inclusive (≥), To exclusive (<)."""
        return self.value(f"{attribute}From"), self.value(f"{attribute}To")


def build_stored_query(
    query_id: str,
    slots: Iterable[tuple[str, list[str]]],
    return_type: str = "LeafClass",
) -> StoredQuery:
    """Parse the slots of an ``AdhocQuery`` — ``(name, [texts of its <Value> elements])`` in document
    order, a repeated name being one more AND-ed slot — into a :class:`StoredQuery`. Parameters the query
    does not define are kept, read without quoting rules.

    Raises :class:`SlotValueError` (with ``param`` set to the slot name) on unreadable values; run the
    validator first to get every problem as a finding."""
    definition = query_def(query_id)
    params: dict[str, list[list[str]]] = {}
    for name, texts in slots:
        p = definition.param(name) if definition else None
        try:
            values = parse_slot_values(list(texts), p.kind if p else None)
        except SlotValueError as exc:
            exc.param = name
            raise
        params.setdefault(name, []).append(values)
    return StoredQuery(
        definition.id if definition else query_id,
        definition.name if definition else None,
        return_type,
        params,
    )
