"""ITI-18 Registry Stored Query execution (Flux 5 → 6): the 14 stored queries of ITI TF-2a 3.18.4.1.2.3.7 over
the store, answered as a whole ``query:AdhocQueryResponse``.

Matching rules (where the TF leaves a choice, the choice is said here):

* Patient ids match exactly (the CX string as registered).
* Code parameters: ``code^^scheme`` exact; several values in one slot are ORed. eventCodeList,
  confidentialityCode and the folder codeList take several slots, ANDed. For eventCodeList the CI-SIS JDV
  OIDs are equivalent to the code systems (``1.2.250.1.213.1.1.5.618`` ≡ DCM ``1.2.840.10008.2.16.4``,
  ``1.2.250.1.213.1.1.5.695`` ≡ SNOMED CT ``2.16.840.1.113883.6.96``; docs/decisions.md).
* Times: ``…From`` inclusive (≥), ``…To`` exclusive (<), both sides as 14-digit keys padded with the earliest
  instant the value covers (``2026`` → ``20260101000000``); an entry without the attribute does not match a
  range on it.
* AuthorPerson: SQL LIKE with ``%`` and ``_``, case-insensitive, any author of the object; several values ORed.
* ``$XDSDocumentEntryType``: stable entries only when absent.
* referenceIdList: a value matches an entry's CXi with the same id (CX.1) and type (CX.5); when the query
  value names an assigning authority (CX.4) it must be the same, when it omits it (``id^^^^type``) any
  authority matches (a StudyInstanceUID has none). Several values ORed, several slots ANDed.
* GetDocuments / GetDocumentsAndAssociations by uniqueId or logicalID return every version; GetFolderAndContents,
  GetFoldersForDocument and GetRelatedDocuments by uniqueId use the latest version.
* GetAll and GetSubmissionSetAndContents return the associations whose two ends are in the result;
  GetFolderAndContents the Folder→DocumentEntry HasMember associations whose status is in
  ``$XDSAssociationStatus`` (Approved when absent).
* Above ``max_results`` objects: Failure with XDSTooManyResults. Parameter problems the validator should have
  stopped: XDSUnknownStoredQuery, XDSStoredQueryMissingParam, XDSStoredQueryParamNumber (several values or
  slots for a single-valued parameter, not exactly one of a "one of" group), XDSRegistryError (return type,
  unreadable code or time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

from lxml import etree

from simulators.registry.store import Tx
from simulators.registry.store import objects as ob
from xdsi.ebrim import query as ebquery
from xdsi.ebrim import vocabulary as v
from xdsi.model import formats as fmt
from xdsi.model import metadata as md
from xdsi.model import storedquery as sq
from xdsi.model.responses import FAILURE, SUCCESS, RegistryResponse
from xdsi.model.responses import RegistryError as XdsError

__all__ = ["QueryError", "execute", "failure"]

DE = "$XDSDocumentEntry"
UNKNOWN_STORED_QUERY = "XDSUnknownStoredQuery"
MISSING_PARAM = "XDSStoredQueryMissingParam"
PARAM_NUMBER = "XDSStoredQueryParamNumber"
REGISTRY_ERROR = "XDSRegistryError"
TOO_MANY_RESULTS = "XDSTooManyResults"

_HEAD = (
    f'<query:AdhocQueryResponse xmlns:query="{v.QUERY}" xmlns:rim="{v.RIM}" xmlns:rs="{v.RS}" status="{SUCCESS}">'
    "<rim:RegistryObjectList>"
)
_TAIL = "</rim:RegistryObjectList></query:AdhocQueryResponse>"
_ORDER = (ob.SUBMISSION_SET, ob.FOLDER, ob.ENTRY, ob.ASSOCIATION)


class QueryError(Exception):
    def __init__(self, *errors: XdsError) -> None:
        super().__init__("; ".join(e.context for e in errors))
        self.errors = list(errors)


def _err(code: str, context: str, location: str | None = None) -> QueryError:
    return QueryError(XdsError(code=code, context=context, location=location))


def failure(errors: list[XdsError]) -> etree._Element:
    """A Failure ``AdhocQueryResponse`` with these errors (and the empty RegistryObjectList the schema requires)."""
    return ebquery.encode_response(ebquery.AdhocQueryResult(RegistryResponse(FAILURE, list(errors))))


@dataclass
class _Result:
    """Row ids per kind, in the order found (deduplicated)."""

    ids: dict[str, dict[int, None]] = field(default_factory=lambda: {k: {} for k in _ORDER})
    uuids: dict[str, dict[str, int]] = field(default_factory=lambda: {k: {} for k in _ORDER})

    def add(self, kind: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Add ``(id, entry_uuid)`` rows."""
        for r in rows:
            self.ids[kind][int(r[0])] = None
            self.uuids[kind][r[1]] = int(r[0])

    def all_uuids(self) -> set[str]:
        return {u for kind in _ORDER for u in self.uuids[kind]}

    def count(self) -> int:
        return sum(len(self.ids[k]) for k in _ORDER)


class _Executor:
    def __init__(self, tx: Tx, query: sq.StoredQuery, max_results: int) -> None:
        self.tx = tx
        self.q = query
        self.max = max_results
        self.like = tx.store.like

    # --- parameter access ---------------------------------------------------------------------------
    def check_params(self, definition: sq.QueryDef) -> None:
        for p in definition.required:
            if not self.q.has(p.name):
                raise _err(MISSING_PARAM, f"{definition.name}: required parameter {p.name} is missing", p.name)
        for names in definition.groups.values():
            present = [n for n in names if self.q.has(n)]
            if len(present) != 1:
                code = MISSING_PARAM if not present else PARAM_NUMBER
                raise _err(
                    code,
                    f"{definition.name}: exactly one of {', '.join(names)} is required; "
                    f"{'none' if not present else ', '.join(present)} given",
                    names[0],
                )
        for p in definition.params:
            slots = self.q.and_or(p.name)
            if not slots:
                continue
            if not p.multiple and (len(slots) > 1 or len(slots[0]) > 1):
                raise _err(PARAM_NUMBER, f"{definition.name}: {p.name} takes a single value", p.name)
            if len(slots) > 1 and not p.and_or and p.multiple:
                raise _err(PARAM_NUMBER, f"{definition.name}: {p.name} is given in several slots", p.name)

    def values(self, name: str) -> list[str]:
        return self.q.values(name)

    def codes(self, name: str) -> list[list[tuple[str, str]]]:
        try:
            return self.q.codes(name)
        except ValueError as exc:
            raise _err(REGISTRY_ERROR, f"{name}: {exc}", name) from exc

    def time(self, name: str) -> str | None:
        value = self.q.value(name)
        if value is None:
            return None
        key = ob.time_key(value)
        if key is None or not value.strip().isdigit():
            raise _err(REGISTRY_ERROR, f"{name}: {value!r} is not a DTM (YYYY[MM[DD[hh[mm[ss]]]]])", name)
        return key

    # --- filters ------------------------------------------------------------------------------------
    @staticmethod
    def _in(column: str, values: list[Any], where: list[str], params: list[Any]) -> None:
        where.append(f"{column} IN ({', '.join('?' * len(values))})")
        params.extend(values)

    def _codes_column(self, column: str, name: str, where: list[str], params: list[Any]) -> None:
        values = [f"{c}^^{s}" for slot in self.codes(name) for c, s in slot]
        if values:
            self._in(column, values, where, params)

    def _time_range(self, column: str, prefix: str, where: list[str], params: list[Any]) -> None:
        low, high = self.time(f"{prefix}From"), self.time(f"{prefix}To")
        if low is not None:
            where.append(f"{column} >= ?")
            params.append(low)
        if high is not None:
            where.append(f"{column} < ?")
            params.append(high)

    def _child_codes(
        self, table: str, owner: str, scheme_col: str, name: str, where: list[str], params: list[Any], fold: bool
    ) -> None:
        """AND of ORs on a child code table."""
        for slot in self.codes(name):
            ors = []
            for code, scheme in slot:
                ors.append(f"(c.code = ? AND c.{scheme_col} = ?)")
                params.extend((code, ob.scheme_key(scheme) if fold else scheme))
            where.append(f"EXISTS (SELECT 1 FROM {table} c WHERE c.{owner} AND ({' OR '.join(ors)}))")

    def _authors(self, table: str, owner: str, name: str, where: list[str], params: list[Any]) -> None:
        patterns = self.values(name)
        if patterns:
            ors = " OR ".join(f"a.person {self.like}" for _ in patterns)
            where.append(f"EXISTS (SELECT 1 FROM {table} a WHERE a.{owner} AND ({ors}))")
            params.extend(patterns)

    def _statuses(self, column: str, name: str, where: list[str], params: list[Any]) -> None:
        values = self.values(name)
        if values:
            self._in(column, values, where, params)

    def _object_types(self, where: list[str], params: list[Any], default: bool = True) -> None:
        values = self.values(f"{DE}Type") or ([md.STABLE] if default else [])
        if values:
            self._in("d.object_type", values, where, params)

    def _reference_ids(self, where: list[str], params: list[Any]) -> None:
        name = f"{DE}ReferenceIdList"
        for slot in self.q.and_or(name):
            ors = []
            for value in slot:
                ref_id, authority, ref_type = fmt.parse_cxi(value)
                if not ref_id or not ref_type:
                    raise _err(REGISTRY_ERROR, f"{name}: {value!r} is not a CXi id^^^&oid&ISO^type", name)
                if authority:
                    ors.append("(r.ref_id = ? AND r.ref_type = ? AND r.ref_authority = ?)")
                    params.extend((ref_id, ref_type, authority))
                else:
                    ors.append("(r.ref_id = ? AND r.ref_type = ?)")
                    params.extend((ref_id, ref_type))
            where.append(f"EXISTS (SELECT 1 FROM de_reference_id r WHERE r.entry_id = d.id AND ({' OR '.join(ors)}))")

    def content_filters(self, where: list[str], params: list[Any]) -> None:
        """formatCode, confidentialityCode (AND/OR) and objectType: the filters of GetAll and the *AndContents."""
        self._codes_column("d.format_code", f"{DE}FormatCode", where, params)
        self._child_codes(
            "de_confidentiality_code", "entry_id = d.id", "scheme", f"{DE}ConfidentialityCode", where, params, False
        )
        self._object_types(where, params)

    # --- selects ------------------------------------------------------------------------------------
    def select(self, table: str, where: list[str], params: list[Any]) -> list[tuple[Any, ...]]:
        alias = {"document_entry": "d", "submission_set": "s", "folder": "f", "association": "a"}[table]
        sql = f"SELECT {alias}.id, {alias}.entry_uuid FROM {table} {alias}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {alias}.id LIMIT {self.max + 1}"
        rows = self.tx.execute(sql, params)
        if len(rows) > self.max:
            raise self.too_many()
        return rows

    def too_many(self) -> QueryError:
        return _err(
            TOO_MANY_RESULTS,
            f"{self.q.name or self.q.query_id}: more than {self.max} objects match; narrow the query",
        )

    def by_values(self, table: str, column: str, values: list[str], extra: str = "") -> list[tuple[Any, ...]]:
        alias = {"document_entry": "d", "submission_set": "s", "folder": "f", "association": "a"}[table]
        rows: list[tuple[Any, ...]] = []
        for part in ob.chunks(sorted(set(values))):
            where = [f"{alias}.{column} IN ({', '.join('?' * len(part))})"]
            if extra:
                where.append(extra)
            rows += self.tx.execute(
                f"SELECT {alias}.id, {alias}.entry_uuid FROM {table} {alias} WHERE {' AND '.join(where)}", part
            )
        return sorted(set(rows))

    def latest_entry_uuid(self, unique_id: str) -> list[str]:
        row = self.tx.one(
            "SELECT entry_uuid FROM document_entry WHERE unique_id = ? ORDER BY version DESC LIMIT 1", (unique_id,)
        )
        return [row[0]] if row else []

    def associations_touching(self, uuids: Iterable[str], types: list[str] | None = None) -> list[tuple[Any, ...]]:
        """``(id, entry_uuid, type, source, target, status)`` of associations with an end in ``uuids``."""
        found: dict[int, tuple[Any, ...]] = {}
        values = sorted(set(uuids))
        type_filter = ""
        type_params: list[Any] = []
        if types:
            type_filter = f" AND a.type IN ({', '.join('?' * len(types))})"
            type_params = list(types)
        for part in ob.chunks(values, 400):
            marks = ", ".join("?" * len(part))
            for column in ("source_uuid", "target_uuid"):
                for r in self.tx.execute(
                    "SELECT a.id, a.entry_uuid, a.type, a.source_uuid, a.target_uuid, a.status FROM association a "
                    f"WHERE a.{column} IN ({marks}){type_filter}",
                    [*part, *type_params],
                ):
                    found[int(r[0])] = r
        return [found[k] for k in sorted(found)]

    def associations_within(self, result: _Result) -> list[tuple[Any, ...]]:
        """Associations whose two ends are objects of the result."""
        inside = result.all_uuids()
        return [r for r in self.associations_touching(inside) if r[3] in inside and r[4] in inside]

    # --- the queries --------------------------------------------------------------------------------
    def find_documents(self, result: _Result, by_reference: bool = False) -> None:
        where: list[str] = ["d.patient_id = ?"]
        params: list[Any] = [self.q.value(f"{DE}PatientId")]
        self._statuses("d.status", f"{DE}Status", where, params)
        self._object_types(where, params)
        for column, name in (
            ("d.class_code", "ClassCode"),
            ("d.type_code", "TypeCode"),
            ("d.practice_setting_code", "PracticeSettingCode"),
            ("d.healthcare_facility_type_code", "HealthcareFacilityTypeCode"),
            ("d.format_code", "FormatCode"),
        ):
            self._codes_column(column, f"{DE}{name}", where, params)
        for column, name in (
            ("d.creation_time", "CreationTime"),
            ("d.service_start_time", "ServiceStartTime"),
            ("d.service_stop_time", "ServiceStopTime"),
        ):
            self._time_range(column, f"{DE}{name}", where, params)
        self._child_codes("de_event_code", "entry_id = d.id", "scheme_key", f"{DE}EventCodeList", where, params, True)
        self._child_codes(
            "de_confidentiality_code", "entry_id = d.id", "scheme", f"{DE}ConfidentialityCode", where, params, False
        )
        self._authors("de_author", "entry_id = d.id", f"{DE}AuthorPerson", where, params)
        if by_reference:
            self._reference_ids(where, params)
        result.add(ob.ENTRY, self.select("document_entry", where, params))

    def find_documents_by_reference_id(self, result: _Result) -> None:
        self.find_documents(result, by_reference=True)

    def find_submission_sets(self, result: _Result) -> None:
        p = "$XDSSubmissionSet"
        where: list[str] = ["s.patient_id = ?"]
        params: list[Any] = [self.q.value(f"{p}PatientId")]
        self._statuses("s.status", f"{p}Status", where, params)
        sources = self.values(f"{p}SourceId")
        if sources:
            self._in("s.source_id", sources, where, params)
        self._time_range("s.submission_time", f"{p}SubmissionTime", where, params)
        self._authors("ss_author", "ss_id = s.id", f"{p}AuthorPerson", where, params)
        self._codes_column("s.content_type_code", f"{p}ContentType", where, params)
        result.add(ob.SUBMISSION_SET, self.select("submission_set", where, params))

    def find_folders(self, result: _Result) -> None:
        where: list[str] = ["f.patient_id = ?"]
        params: list[Any] = [self.q.value("$XDSFolderPatientId")]
        self._statuses("f.status", "$XDSFolderStatus", where, params)
        self._time_range("f.last_update_time", "$XDSFolderLastUpdateTime", where, params)
        self._child_codes("folder_code", "folder_id = f.id", "scheme", "$XDSFolderCodeList", where, params, False)
        result.add(ob.FOLDER, self.select("folder", where, params))

    def get_all(self, result: _Result) -> None:
        patient = self.q.value("$patientId")
        where: list[str] = ["d.patient_id = ?"]
        params: list[Any] = [patient]
        self._statuses("d.status", f"{DE}Status", where, params)
        self.content_filters(where, params)
        result.add(ob.ENTRY, self.select("document_entry", where, params))
        where, params = ["s.patient_id = ?"], [patient]
        self._statuses("s.status", "$XDSSubmissionSetStatus", where, params)
        result.add(ob.SUBMISSION_SET, self.select("submission_set", where, params))
        where, params = ["f.patient_id = ?"], [patient]
        self._statuses("f.status", "$XDSFolderStatus", where, params)
        result.add(ob.FOLDER, self.select("folder", where, params))
        self.check_size(result)
        result.add(ob.ASSOCIATION, self.associations_within(result))

    def _entries_by_group(self) -> list[tuple[Any, ...]]:
        if self.q.has(f"{DE}EntryUUID"):
            return self.by_values("document_entry", "entry_uuid", self.values(f"{DE}EntryUUID"))
        if self.q.has(f"{DE}UniqueId"):
            return self.by_values("document_entry", "unique_id", self.values(f"{DE}UniqueId"))
        return self.by_values("document_entry", "lid", self.values(f"{DE}LogicalID"))

    def _one_entry_uuid(self) -> list[str]:
        if self.q.has(f"{DE}EntryUUID"):
            return self.values(f"{DE}EntryUUID")[:1]
        return self.latest_entry_uuid(self.values(f"{DE}UniqueId")[0])

    def get_documents(self, result: _Result) -> None:
        result.add(ob.ENTRY, self._entries_by_group())

    def get_folders(self, result: _Result) -> None:
        if self.q.has("$XDSFolderEntryUUID"):
            rows = self.by_values("folder", "entry_uuid", self.values("$XDSFolderEntryUUID"))
        elif self.q.has("$XDSFolderUniqueId"):
            rows = self.by_values("folder", "unique_id", self.values("$XDSFolderUniqueId"))
        else:
            rows = self.by_values("folder", "lid", self.values("$XDSFolderLogicalID"))
        result.add(ob.FOLDER, rows)

    def get_associations(self, result: _Result) -> None:
        result.add(ob.ASSOCIATION, self.associations_touching(self.values("$uuid")))

    def get_documents_and_associations(self, result: _Result) -> None:
        result.add(ob.ENTRY, self._entries_by_group())
        self.check_size(result)
        result.add(ob.ASSOCIATION, self.associations_touching(result.uuids[ob.ENTRY]))

    def get_submission_sets(self, result: _Result) -> None:
        members = [
            r for r in self.associations_touching(self.values("$uuid"), [md.HAS_MEMBER]) if r[4] in self.values("$uuid")
        ]
        sets = self.by_values("submission_set", "entry_uuid", [r[3] for r in members])
        result.add(ob.SUBMISSION_SET, sets)
        found = {r[1] for r in sets}
        result.add(ob.ASSOCIATION, [r for r in members if r[3] in found])

    def _contents(self, result: _Result, owner: str, association_status: list[str] | None) -> None:
        """The DocumentEntries (filtered) and, for a SubmissionSet, the Folders a HasMember from ``owner`` reaches."""
        members = [r for r in self.associations_touching([owner], [md.HAS_MEMBER]) if r[3] == owner]
        if association_status is not None:
            members = [r for r in members if r[5] in association_status]
        targets = [r[4] for r in members]
        for part in ob.chunks(sorted(set(targets))):
            where: list[str] = [f"d.entry_uuid IN ({', '.join('?' * len(part))})"]
            params: list[Any] = list(part)
            self.content_filters(where, params)
            result.add(ob.ENTRY, self.select("document_entry", where, params))
        if owner in result.uuids[ob.SUBMISSION_SET]:
            result.add(ob.FOLDER, self.by_values("folder", "entry_uuid", targets))
            result.add(ob.ASSOCIATION, self.by_values("association", "entry_uuid", targets))
        self.check_size(result)
        inside = result.all_uuids()
        result.add(ob.ASSOCIATION, [r for r in members if r[4] in inside])

    def get_submission_set_and_contents(self, result: _Result) -> None:
        if self.q.has("$XDSSubmissionSetEntryUUID"):
            sets = self.by_values("submission_set", "entry_uuid", self.values("$XDSSubmissionSetEntryUUID")[:1])
        else:
            sets = self.by_values("submission_set", "unique_id", self.values("$XDSSubmissionSetUniqueId")[:1])
        if not sets:
            return
        result.add(ob.SUBMISSION_SET, sets)
        self._contents(result, sets[0][1], None)
        result.add(ob.ASSOCIATION, self.associations_within(result))

    def get_folder_and_contents(self, result: _Result) -> None:
        if self.q.has("$XDSFolderEntryUUID"):
            folders = self.by_values("folder", "entry_uuid", self.values("$XDSFolderEntryUUID")[:1])
        else:
            row = self.tx.one(
                "SELECT id, entry_uuid FROM folder WHERE unique_id = ? ORDER BY version DESC LIMIT 1",
                (self.values("$XDSFolderUniqueId")[0],),
            )
            folders = [row] if row else []
        if not folders:
            return
        result.add(ob.FOLDER, folders)
        self._contents(result, folders[0][1], self.values("$XDSAssociationStatus") or [md.APPROVED])

    def get_folders_for_document(self, result: _Result) -> None:
        uuids = self._one_entry_uuid()
        if not uuids:
            return
        members = [r for r in self.associations_touching(uuids, [md.HAS_MEMBER]) if r[4] in uuids]
        result.add(ob.FOLDER, self.by_values("folder", "entry_uuid", [r[3] for r in members]))

    def get_related_documents(self, result: _Result) -> None:
        uuids = self._one_entry_uuid()
        if not uuids:
            return
        me = uuids[0]
        related = [
            r
            for r in self.associations_touching([me], self.values("$AssociationTypes"))
            if me in (r[3], r[4]) and r[3] != r[4]
        ]
        others = [r[4] if r[3] == me else r[3] for r in related]
        where: list[str] = []
        params: list[Any] = []
        found: list[tuple[Any, ...]] = []
        for part in ob.chunks(sorted(set(others))):
            where = [f"d.entry_uuid IN ({', '.join('?' * len(part))})"]
            params = list(part)
            self._object_types(where, params, default=bool(self.q.has(f"{DE}Type")))
            found += self.select("document_entry", where, params)
        if not found:
            return
        found_uuids = {r[1] for r in found}
        result.add(ob.ENTRY, self.by_values("document_entry", "entry_uuid", [me]))
        result.add(ob.ENTRY, found)
        result.add(ob.ASSOCIATION, [r for r in related if (r[4] if r[3] == me else r[3]) in found_uuids])

    def check_size(self, result: _Result) -> None:
        if result.count() > self.max:
            raise self.too_many()

    # --- the response -------------------------------------------------------------------------------
    def response(self, result: _Result) -> etree._Element:
        self.check_size(result)
        parts: list[str] = [_HEAD]
        if self.q.return_type == "ObjectRef":
            for kind in _ORDER:
                for entry_uuid in result.uuids[kind]:
                    parts.append(f"<rim:ObjectRef id={quoteattr(entry_uuid)}/>")
        else:
            for kind in _ORDER:
                ids = list(result.ids[kind])
                table = ob.TABLES[kind]
                fragments: dict[int, str] = {}
                for part in ob.chunks([str(i) for i in ids]):
                    rows = self.tx.execute(
                        f"SELECT id, xml FROM {table} WHERE id IN ({', '.join('?' * len(part))})",
                        [int(i) for i in part],
                    )
                    fragments.update({int(r[0]): r[1] for r in rows})
                parts.extend(fragments[i] for i in ids if i in fragments)
        parts.append(_TAIL)
        return ob.parse("".join(parts))


_HANDLERS: dict[str, Callable[[_Executor, _Result], None]] = {
    "FindDocuments": _Executor.find_documents,
    "FindDocumentsByReferenceId": _Executor.find_documents_by_reference_id,
    "FindSubmissionSets": _Executor.find_submission_sets,
    "FindFolders": _Executor.find_folders,
    "GetAll": _Executor.get_all,
    "GetDocuments": _Executor.get_documents,
    "GetFolders": _Executor.get_folders,
    "GetAssociations": _Executor.get_associations,
    "GetDocumentsAndAssociations": _Executor.get_documents_and_associations,
    "GetSubmissionSets": _Executor.get_submission_sets,
    "GetSubmissionSetAndContents": _Executor.get_submission_set_and_contents,
    "GetFolderAndContents": _Executor.get_folder_and_contents,
    "GetFoldersForDocument": _Executor.get_folders_for_document,
    "GetRelatedDocuments": _Executor.get_related_documents,
}


def execute(tx: Tx, query: sq.StoredQuery, max_results: int = 10_000) -> etree._Element:
    """Run ``query`` in the read transaction ``tx``: the ``query:AdhocQueryResponse`` (Success or Failure)."""
    try:
        definition = sq.query_def(query.query_id)
        if definition is None:
            raise _err(UNKNOWN_STORED_QUERY, f"{query.query_id}: not an ITI-18 stored query id", "AdhocQuery/@id")
        if query.return_type not in sq.RETURN_TYPES:
            raise _err(
                REGISTRY_ERROR,
                f"returnType {query.return_type!r}: LeafClass or ObjectRef",
                "ResponseOption/@returnType",
            )
        executor = _Executor(tx, query, max_results)
        executor.check_params(definition)
        result = _Result()
        _HANDLERS[definition.name](executor, result)
        return executor.response(result)
    except QueryError as exc:
        return failure(exc.errors)
