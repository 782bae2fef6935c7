"""The registry store: URLs, migrations, transactions, dialect translation, fragments."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from simulators.registry import store as store_module
from simulators.registry.registry import Registry
from simulators.registry.store import Store, StoreError, StoreUrl, UniqueViolation, split_statements
from simulators.registry.store import objects as ob
from tests.registry.conftest import entry_by_unique_id, exam, pnr
from xdsi.model import metadata as md

TABLES = {
    "schema_version",
    "submission_set",
    "ss_author",
    "document_entry",
    "de_event_code",
    "de_confidentiality_code",
    "de_reference_id",
    "de_author",
    "folder",
    "folder_code",
    "association",
    "document",
}


@pytest.mark.parametrize(
    ("url", "dialect", "target"),
    [
        ("sqlite:///registry.sqlite", "sqlite", "registry.sqlite"),
        ("sqlite:///data/r.sqlite", "sqlite", "data/r.sqlite"),
        ("sqlite:////tmp/r.sqlite", "sqlite", "/tmp/r.sqlite"),
        ("sqlite:///:memory:", "sqlite", ":memory:"),
        ("postgresql://u@127.0.0.1:5432/db", "postgresql", "postgresql://u@127.0.0.1:5432/db"),
        ("postgres://u@h/db", "postgresql", "postgres://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql", "postgresql://u@h/db"),
    ],
)
def test_store_urls(url: str, dialect: str, target: str) -> None:
    parsed = StoreUrl.parse(url)
    assert (parsed.dialect, parsed.target) == (dialect, target)


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://host/x", "sqlite://", "registry.sqlite"])
def test_bad_store_urls(url: str) -> None:
    with pytest.raises(StoreError):
        StoreUrl.parse(url)


def test_split_statements() -> None:
    script = "-- comment; with a semicolon\nCREATE TABLE a (x TEXT);\n\nCREATE INDEX i ON a (x);\n-- end\n"
    assert split_statements(script) == ["CREATE TABLE a (x TEXT)", "CREATE INDEX i ON a (x)"]


def _tables(store: Store) -> set[str]:
    with store.read() as tx:
        if store.dialect == "sqlite":
            rows = tx.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = tx.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
    return {r[0] for r in rows}


def test_migrations_are_applied_once_and_recorded(store_url: str) -> None:
    store = Store(store_url)
    try:
        assert store.schema_versions() == [1]
        assert _tables(store) >= TABLES
        assert store.migrate() == []
    finally:
        store.close()
    again = Store(store_url)
    try:
        assert again.schema_versions() == [1]
    finally:
        again.close()


def test_a_new_migration_is_applied_on_the_next_open(store_url: str, tmp_path: Path, monkeypatch) -> None:
    Store(store_url).close()
    migrations = tmp_path / "migrations"
    shutil.copytree(store_module.MIGRATIONS_DIR, migrations)
    (migrations / "0002_extra.sql").write_text(
        "-- a later migration\nCREATE TABLE extra (id {{ID}}, payload {{BLOB}});\n"
        "CREATE INDEX extra_id ON extra (id);\n"
    )
    (migrations / "README.txt").write_text("not a migration")
    monkeypatch.setattr(store_module, "MIGRATIONS_DIR", migrations)
    store = Store(store_url)
    try:
        assert store.schema_versions() == [1, 2]
        assert "extra" in _tables(store)
        with store.write() as tx:
            tx.execute("INSERT INTO extra (payload) VALUES (?)", (b"\x00\x01",))
        with store.read() as tx:
            assert bytes(tx.scalar("SELECT payload FROM extra")) == b"\x00\x01"
    finally:
        store.close()


def test_sqlite_is_durable_wal(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'r.sqlite'}")
    try:
        with store.read() as tx:
            assert tx.scalar("PRAGMA journal_mode") == "wal"
            assert tx.scalar("PRAGMA synchronous") == 2  # FULL
            assert tx.scalar("PRAGMA foreign_keys") == 1
    finally:
        store.close()


def test_sqlite_relative_path_creates_its_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = Store("sqlite:///sub/dir/registry.sqlite")
    store.close()
    assert (tmp_path / "sub" / "dir" / "registry.sqlite").exists()


def test_memory_store() -> None:
    registry = Registry("sqlite:///:memory:")
    try:
        e = exam("memory")
        assert registry.provide_and_register(pnr(e)).ok
        assert entry_by_unique_id(registry, e.kos_uid)[0].status == md.APPROVED
    finally:
        registry.close()


def _insert_ss(tx, unique_id: str) -> None:
    tx.execute(
        "INSERT INTO submission_set (entry_uuid, unique_id, patient_id, status, registered_at, xml) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (f"urn:uuid:{unique_id}", unique_id, "p", md.APPROVED, "20260101000000", "<x/>"),
    )


def test_unique_violations_are_named_alike_in_both_dialects(store_url: str) -> None:
    store = Store(store_url)
    try:
        with store.write() as tx:
            _insert_ss(tx, "1.2.3")
        with pytest.raises(UniqueViolation) as info, store.write() as tx:
            tx.execute(
                "INSERT INTO submission_set (entry_uuid, unique_id, patient_id, status, registered_at, xml) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                ("urn:uuid:other", "1.2.3", "p", md.APPROVED, "20260101000000", "<x/>"),
            )
        assert info.value.key == "submission_set.unique_id"
    finally:
        store.close()


def test_write_rolls_back_when_the_block_raises(store_url: str) -> None:
    store = Store(store_url)
    try:
        with pytest.raises(RuntimeError), store.write() as tx:
            _insert_ss(tx, "1.2.4")
            raise RuntimeError("refused")
        with store.write() as tx:
            _insert_ss(tx, "1.2.5")
            with pytest.raises(UniqueViolation), tx.savepoint():
                _insert_ss(tx, "1.2.5")
            _insert_ss(tx, "1.2.6")
        with store.read() as tx:
            rows = tx.execute("SELECT unique_id FROM submission_set ORDER BY unique_id")
        assert [r[0] for r in rows] == ["1.2.5", "1.2.6"]
    finally:
        store.close()


def test_closed_store_refuses(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'r.sqlite'}")
    store.close()
    with pytest.raises(StoreError), store.read():
        pass


def test_unreachable_postgresql_is_a_store_error() -> None:
    with pytest.raises(StoreError):
        Store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("2026", "20260101000000"),
        ("202611", "20261101000000"),
        ("20261123", "20261123000000"),
        ("2026112310", "20261123100000"),
        ("20261123101500", "20261123101500"),
        ("20261123101500.123+0100", "20261123101500"),
        ("20", None),
        ("", None),
        (None, None),
    ],
)
def test_time_keys(value: str | None, key: str | None) -> None:
    assert ob.time_key(value) == key


def test_scheme_keys_fold_the_jdv_oids() -> None:
    assert ob.scheme_key(md.MODALITY_JDV) == md.DCM
    assert ob.scheme_key(md.REGION_JDV) == md.SNOMED_CT
    assert ob.scheme_key(md.DCM) == md.DCM
    assert ob.scheme_key("1.2.3") == "1.2.3"


def test_rewrite_fragment_changes_status_and_slots() -> None:
    folder = md.Folder(entry_uuid="urn:uuid:f", unique_id="1.2", patient_id="p", status=md.APPROVED)
    folder.last_update_time = "20260101000000"
    xml = ob.folder_fragment(folder)
    assert "xmlns:rim" not in xml and 'status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"' in xml
    rewritten = ob.rewrite_fragment(xml, md.DEPRECATED, {"lastUpdateTime": "20270101000000"})
    assert md.DEPRECATED in rewritten and "20270101000000" in rewritten and "20260101000000" not in rewritten
    added = ob.rewrite_fragment(
        ob.folder_fragment(md.Folder(entry_uuid="urn:uuid:g")), slots={"lastUpdateTime": "2027"}
    )
    assert 'name="lastUpdateTime"' in added
