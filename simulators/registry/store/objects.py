"""Registry objects ⇄ rows: the searchable columns, the child rows of multi-valued attributes, and the ebRIM
fragment stored as registered (the LeafClass answer is assembled from these fragments, not re-encoded).

A fragment is the XML of the object's top-level elements in a ``rim:RegistryObjectList``: the ExtrinsicObject
of a DocumentEntry; the RegistryPackage of a SubmissionSet or Folder followed by its classification-node
Classification; the Association. Fragments use the ``rim`` prefix without declaring it (it is declared once
by the element they are concatenated into: :data:`FRAGMENT_PARENT`), which keeps the stored XML and the
assembled responses free of one namespace declaration per object.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lxml import etree

from simulators.registry.store import Row, Tx
from xdsi.ebrim import encode
from xdsi.ebrim import vocabulary as v
from xdsi.model import formats as fmt
from xdsi.model.metadata import (
    DCM,
    MODALITY_JDV,
    REGION_JDV,
    SNOMED_CT,
    STABLE,
    Association,
    Code,
    DocumentEntry,
    Folder,
    SubmissionSet,
)

#: eventCodeList coding schemes treated as one (docs/decisions.md "Coding scheme of the modality and region
#: codes"): the CI-SIS JDV OIDs are folded onto the code systems their concepts come from.
EQUIVALENT_SCHEMES = {MODALITY_JDV: DCM, REGION_JDV: SNOMED_CT}

ENTRY = "entry"
SUBMISSION_SET = "ss"
FOLDER = "folder"
ASSOCIATION = "association"
TABLES = {ENTRY: "document_entry", SUBMISSION_SET: "submission_set", FOLDER: "folder", ASSOCIATION: "association"}
KIND_NAMES = {ENTRY: "DocumentEntry", SUBMISSION_SET: "SubmissionSet", FOLDER: "Folder", ASSOCIATION: "Association"}

_local = threading.local()


def _parser() -> etree.XMLParser:
    """One safe parser per thread (lxml parsers are not shared across threads)."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)
        _local.parser = parser
    return parser


def parse(xml: str | bytes) -> etree._Element:
    return etree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml, _parser())


def scheme_key(scheme: str) -> str:
    return EQUIVALENT_SCHEMES.get(scheme, scheme)


def code_str(code: Code | None) -> str | None:
    return f"{code.code}^^{code.scheme}" if code is not None else None


def time_key(value: str | None) -> str | None:
    """A DTM as a 14-digit key compared as a string: the digits it starts with (at least the year), padded
    with the earliest instant they cover (``2026`` → ``20260101000000``). ``None`` when unusable."""
    if not value:
        return None
    digits = ""
    for ch in value.strip():
        if not ch.isdigit():
            break
        digits += ch
    if len(digits) < 4:
        return None
    digits = digits[:14]
    return digits + "00000101000000"[len(digits) :]


#: the opening tag of an element inside which stored fragments are well-formed
FRAGMENT_PARENT = f'<rim:RegistryObjectList xmlns:rim="{v.RIM}">'
_RIM_DECLARATION = f' xmlns:rim="{v.RIM}"'


def _wrap() -> etree._Element:
    return etree.Element(encode.rim("RegistryObjectList"), nsmap={"rim": v.RIM})


def _serialise(parent: etree._Element) -> str:
    return "".join(etree.tostring(child, encoding="unicode").replace(_RIM_DECLARATION, "", 1) for child in parent)


def entry_fragment(de: DocumentEntry) -> str:
    parent = _wrap()
    encode.document_entry(parent, de)
    return _serialise(parent)


def submission_set_fragment(ss: SubmissionSet) -> str:
    parent = _wrap()
    encode.submission_set(parent, ss)
    return _serialise(parent)


def folder_fragment(fd: Folder) -> str:
    parent = _wrap()
    encode.folder(parent, fd)
    return _serialise(parent)


def association_fragment(a: Association) -> str:
    parent = _wrap()
    encode.association(parent, a)
    return _serialise(parent)


def rewrite_fragment(xml: str, status: str | None = None, slots: dict[str, str] | None = None) -> str:
    """The fragment with a new ``@status`` on its first element and/or new values for single-valued slots."""
    parent = parse(f"{FRAGMENT_PARENT}{xml}</rim:RegistryObjectList>")
    head = parent[0]
    if status is not None:
        head.set("status", status)
    for name, value in (slots or {}).items():
        existing = head.find(f"{{{v.RIM}}}Slot[@name='{name}']")
        if existing is None:
            existing = etree.Element(f"{{{v.RIM}}}Slot", name=name)
            head.insert(0, existing)
            etree.SubElement(existing, f"{{{v.RIM}}}ValueList")
        value_list = existing.find(f"{{{v.RIM}}}ValueList")
        if value_list is None:  # pragma: no cover - our fragments always have one
            value_list = etree.SubElement(existing, f"{{{v.RIM}}}ValueList")
        for old in list(value_list):
            value_list.remove(old)
        etree.SubElement(value_list, f"{{{v.RIM}}}Value").text = value
    return _serialise(parent)


# --------------------------------------------------------------------------------------------------
# Inserts


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def insert_entry(tx: Tx, de: DocumentEntry, registered_at: str, xml: str | None = None) -> int:
    """Insert a DocumentEntry as registered (its fields final: entryUUID, lid, version, status…); ``xml`` is its
    fragment when already encoded (the registry encodes before taking the write lock)."""
    xml = xml or entry_fragment(de)
    entry_id = tx.insert(
        "INSERT INTO document_entry (entry_uuid, lid, version, unique_id, patient_id, status, object_type, "
        "mime_type, class_code, type_code, format_code, practice_setting_code, healthcare_facility_type_code, "
        "creation_time, service_start_time, service_stop_time, hash, size, repository_unique_id, uri, "
        "registered_at, xml) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            de.entry_uuid,
            de.logical_id or de.entry_uuid,
            int(de.version or "1"),
            de.unique_id,
            de.patient_id,
            de.status,
            de.object_type or STABLE,
            de.mime_type,
            code_str(de.class_code),
            code_str(de.type_code),
            code_str(de.format_code),
            code_str(de.practice_setting_code),
            code_str(de.healthcare_facility_type_code),
            time_key(de.creation_time),
            time_key(de.service_start_time),
            time_key(de.service_stop_time),
            de.hash,
            _int_or_none(de.size),
            de.repository_unique_id,
            de.uri,
            registered_at,
            xml,
        ),
    )
    tx.executemany(
        "INSERT INTO de_event_code (entry_id, code, scheme_key) VALUES (?, ?, ?)",
        {(entry_id, c.code, scheme_key(c.scheme)) for c in de.event_codes},
    )
    tx.executemany(
        "INSERT INTO de_confidentiality_code (entry_id, code, scheme) VALUES (?, ?, ?)",
        {(entry_id, c.code, c.scheme) for c in de.confidentiality_codes},
    )
    refs = set()
    for value in de.reference_ids:
        ref_id, authority, ref_type = fmt.parse_cxi(value)
        refs.add((entry_id, value, ref_id, authority, ref_type))
    tx.executemany(
        "INSERT INTO de_reference_id (entry_id, value, ref_id, ref_authority, ref_type) VALUES (?, ?, ?, ?, ?)", refs
    )
    tx.executemany(
        "INSERT INTO de_author (entry_id, person) VALUES (?, ?)",
        {(entry_id, a.person) for a in de.authors if a.person},
    )
    return entry_id


def insert_submission_set(tx: Tx, ss: SubmissionSet, registered_at: str, xml: str | None = None) -> int:
    ss_id = tx.insert(
        "INSERT INTO submission_set (entry_uuid, unique_id, patient_id, source_id, submission_time, "
        "content_type_code, status, registered_at, xml) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            ss.entry_uuid,
            ss.unique_id,
            ss.patient_id,
            ss.source_id,
            time_key(ss.submission_time),
            code_str(ss.content_type_code),
            ss.status,
            registered_at,
            xml or submission_set_fragment(ss),
        ),
    )
    tx.executemany(
        "INSERT INTO ss_author (ss_id, person) VALUES (?, ?)", {(ss_id, a.person) for a in ss.authors if a.person}
    )
    return ss_id


def insert_folder(tx: Tx, fd: Folder, registered_at: str, xml: str | None = None) -> int:
    folder_id = tx.insert(
        "INSERT INTO folder (entry_uuid, lid, version, unique_id, patient_id, status, last_update_time, "
        "registered_at, xml) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            fd.entry_uuid,
            fd.logical_id or fd.entry_uuid,
            int(fd.version or "1"),
            fd.unique_id,
            fd.patient_id,
            fd.status,
            time_key(fd.last_update_time),
            registered_at,
            xml or folder_fragment(fd),
        ),
    )
    tx.executemany(
        "INSERT INTO folder_code (folder_id, code, scheme) VALUES (?, ?, ?)",
        {(folder_id, c.code, c.scheme) for c in fd.codes},
    )
    return folder_id


def insert_association(tx: Tx, a: Association, registered_at: str, xml: str | None = None) -> int:
    return tx.insert(
        "INSERT INTO association (entry_uuid, type, source_uuid, target_uuid, status, registered_at, xml) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (a.id, a.type, a.source, a.target, a.status, registered_at, xml or association_fragment(a)),
    )


def insert_document(
    tx: Tx, unique_id: str, mime_type: str | None, hash_: str, size: int, content: bytes, stored_at: str
) -> None:
    """Store a document's bytes in the repository."""
    tx.execute(
        "INSERT INTO document (unique_id, mime_type, hash, size, content, stored_at) VALUES (?, ?, ?, ?, ?, ?)",
        (unique_id, mime_type, hash_, size, content, stored_at),
    )


# --------------------------------------------------------------------------------------------------
# Lookups


@dataclass
class StoredObject:
    """A registered object as the registry's checks need it."""

    kind: str
    id: int
    entry_uuid: str
    status: str
    patient_id: str | None = None
    lid: str | None = None
    version: int | None = None
    unique_id: str | None = None
    type: str | None = None  # association type
    source: str | None = None
    target: str | None = None
    object_type: str | None = None


_LOOKUP = {
    ENTRY: "SELECT id, entry_uuid, status, patient_id, lid, version, unique_id, object_type "
    "FROM document_entry WHERE entry_uuid IN ({})",
    FOLDER: "SELECT id, entry_uuid, status, patient_id, lid, version, unique_id FROM folder WHERE entry_uuid IN ({})",
    SUBMISSION_SET: "SELECT id, entry_uuid, status, patient_id, NULL, NULL, unique_id "
    "FROM submission_set WHERE entry_uuid IN ({})",
    ASSOCIATION: "SELECT id, entry_uuid, status, NULL, NULL, NULL, NULL, type, source_uuid, target_uuid "
    "FROM association WHERE entry_uuid IN ({})",
}


def _stored(kind: str, r: Row) -> StoredObject:
    obj = StoredObject(kind, int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6])
    if kind == ASSOCIATION:
        obj.type, obj.source, obj.target = r[7], r[8], r[9]
    elif kind == ENTRY:
        obj.object_type = r[7]
    return obj


def chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def lookup(tx: Tx, uuids: set[str] | list[str], kinds: tuple[str, ...] = tuple(_LOOKUP)) -> dict[str, StoredObject]:
    """The registered objects (of the given kinds) with these entryUUIDs."""
    found: dict[str, StoredObject] = {}
    wanted = sorted(set(uuids))
    for kind in kinds:
        remaining = [u for u in wanted if u not in found]
        for part in chunks(remaining):
            sql = _LOOKUP[kind].format(", ".join("?" * len(part)))
            for r in tx.execute(sql, part):
                found[r[1]] = _stored(kind, r)
    return found


def latest_version(tx: Tx, kind: str, lid: str) -> StoredObject | None:
    """The latest version of a DocumentEntry or Folder by logicalID."""
    table = TABLES[kind]
    extra = ", object_type" if kind == ENTRY else ""
    row = tx.one(
        f"SELECT id, entry_uuid, status, patient_id, lid, version, unique_id{extra} FROM {table} "
        "WHERE lid = ? ORDER BY version DESC LIMIT 1",
        (lid,),
    )
    return _stored(kind, row) if row else None


def entries_by_unique_id(tx: Tx, unique_ids: list[str]) -> dict[str, StoredObject]:
    """uniqueId → the latest version of the DocumentEntry with that uniqueId."""
    out: dict[str, StoredObject] = {}
    for part in chunks(sorted(set(unique_ids))):
        rows = tx.execute(
            "SELECT id, entry_uuid, status, patient_id, lid, version, unique_id, object_type FROM document_entry "
            f"WHERE unique_id IN ({', '.join('?' * len(part))}) ORDER BY version",
            part,
        )
        for r in rows:
            out[r[6]] = _stored(ENTRY, r)
    return out


def existing_unique_ids(tx: Tx, kind: str, unique_ids: list[str]) -> dict[str, str]:
    """uniqueId → entryUUID of an already registered object of that kind."""
    table = TABLES[kind]
    out: dict[str, str] = {}
    for part in chunks(sorted(set(unique_ids))):
        for r in tx.execute(
            f"SELECT unique_id, entry_uuid FROM {table} WHERE unique_id IN ({', '.join('?' * len(part))})", part
        ):
            out.setdefault(r[0], r[1])
    return out


def stored_hash(tx: Tx, unique_id: str) -> str | None:
    value = tx.scalar("SELECT hash FROM document WHERE unique_id = ?", (unique_id,))
    return str(value) if value is not None else None


def entry_repository_fields(tx: Tx, entry_id: int) -> Row | None:
    """``(hash, size, repository_unique_id, uri)`` of a DocumentEntry version."""
    return tx.one("SELECT hash, size, repository_unique_id, uri FROM document_entry WHERE id = ?", (entry_id,))


def set_status(tx: Tx, kind: str, row_id: int, status: str) -> None:
    """Change an object's availability status, in its column and in its stored ebRIM."""
    table = TABLES[kind]
    xml = tx.scalar(f"SELECT xml FROM {table} WHERE id = ?", (row_id,))
    if xml is None:
        return
    tx.execute(f"UPDATE {table} SET status = ?, xml = ? WHERE id = ?", (status, rewrite_fragment(xml, status), row_id))


def touch_folder(tx: Tx, folder_id: int, when: str) -> None:
    """Set a Folder's lastUpdateTime (its membership changed)."""
    xml = tx.scalar("SELECT xml FROM folder WHERE id = ?", (folder_id,))
    if xml is None:
        return
    tx.execute(
        "UPDATE folder SET last_update_time = ?, xml = ? WHERE id = ?",
        (time_key(when), rewrite_fragment(xml, slots={"lastUpdateTime": when}), folder_id),
    )


def folders_of(tx: Tx, entry_uuid: str) -> list[tuple[str, str]]:
    """``(folder entryUUID, association status)`` of the Folder→DocumentEntry HasMember associations."""
    rows = tx.execute(
        "SELECT a.source_uuid, a.status FROM association a JOIN folder f ON f.entry_uuid = a.source_uuid "
        "WHERE a.target_uuid = ? AND a.type = ?",
        (entry_uuid, "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"),
    )
    return [(r[0], r[1]) for r in rows]
