"""Storage of the registry/repository simulator: SQLite by default, PostgreSQL by URL.

* ``sqlite:///relative/path.sqlite``, ``sqlite:////absolute/path.sqlite``, ``sqlite:///:memory:`` — one file in
  WAL journal mode with ``synchronous=FULL`` (a commit returns once it is on disk), a small pool of
  connections (readers run beside the writer), writes serialised in-process by a lock and across processes by
  ``BEGIN IMMEDIATE`` (with a busy timeout).
* ``postgresql://…`` / ``postgres://…`` — psycopg 3, a small pool of autocommit connections on which
  transactions are opened explicitly (``BEGIN`` / ``COMMIT``); a write transaction takes transaction-scoped
  advisory locks on the keys it is given (the registry passes the patient id), read transactions run
  ``REPEATABLE READ READ ONLY`` so that a multi-statement query sees one snapshot. Unique constraints back
  every "already registered" check (two concurrent submissions of one uniqueId: one of them fails on the
  constraint, mapped to XDSDuplicateUniqueIdInRegistry by the registry).

Migrations: ``simulators/registry/migrations/NNNN_name.sql`` applied in order, each in its own transaction,
recorded in ``schema_version``; one file serves both dialects (``{{ID}}``, ``{{BIGINT}}``, ``{{BLOB}}`` are
substituted). SQL in this package is written with ``?`` placeholders and converted for psycopg.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_FILE = re.compile(r"^(\d{4})_([A-Za-z0-9_]+)\.sql$")
#: advisory lock key under which PostgreSQL migrations run (arbitrary constant)
_MIGRATION_LOCK = 0x5844_5349_0001

Row = tuple[Any, ...]
#: SQLite page cache per connection (negative: KiB), and while a bulk load runs
SQLITE_CACHE_KIB = -65536
SQLITE_BULK_CACHE_KIB = -524288


class StoreError(Exception):
    """A storage failure that is not a refusal (connection lost, bad URL, corrupt database…)."""


class UniqueViolation(StoreError):
    """A unique constraint refused a row. ``key`` is ``table.column`` of the constraint
    (e.g. ``document_entry.unique_id``), whatever the dialect."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


#: PostgreSQL constraint name → ``table.column`` key (SQLite names the columns in its message instead)
_CONSTRAINT_KEYS = {
    "submission_set_entry_uuid": "submission_set.entry_uuid",
    "submission_set_unique_id": "submission_set.unique_id",
    "document_entry_entry_uuid": "document_entry.entry_uuid",
    "document_entry_lid_version": "document_entry.lid",
    "document_entry_unique_id_version": "document_entry.unique_id",
    "folder_entry_uuid": "folder.entry_uuid",
    "folder_lid_version": "folder.lid",
    "folder_unique_id_version": "folder.unique_id",
    "association_entry_uuid": "association.entry_uuid",
    "document_unique_id": "document.unique_id",
    "document_pkey": "document.unique_id",
}


def now_dtm() -> str:
    """The current UTC time as an HL7 DTM (``YYYYMMDDhhmmss``)."""
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S")


@dataclass(frozen=True)
class StoreUrl:
    dialect: str  # "sqlite" | "postgresql"
    target: str  # a file path, ":memory:", or the libpq conninfo URL

    @classmethod
    def parse(cls, url: str) -> StoreUrl:
        if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            return cls("postgresql", url.replace("postgresql+psycopg://", "postgresql://", 1))
        if url.startswith("sqlite://"):
            parts = urlsplit(url)
            path = unquote(parts.path)
            if parts.netloc:
                raise StoreError(f"sqlite URL with a host is not supported: {url!r} (use sqlite:///path)")
            path = path[1:] if path.startswith("/") else path  # sqlite:///rel -> rel, sqlite:////abs -> /abs
            if not path:
                raise StoreError(f"sqlite URL without a path: {url!r}")
            return cls("sqlite", path)
        raise StoreError(f"unsupported store URL {url!r}: use sqlite:///PATH or postgresql://…")


class Tx:
    """One open transaction on one connection. SQL uses ``?`` placeholders."""

    def __init__(self, store: Store, conn: Any) -> None:
        self.store = store
        self._conn = conn
        self._pg = store.dialect == "postgresql"
        self._savepoints = 0

    def _sql(self, sql: str) -> str:
        return self.store.sql(sql)

    def _run(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:
            raise self.store.translate(exc) from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement; its rows (empty for statements without a result)."""

        def run() -> list[Row]:
            cur = self._conn.execute(self._sql(sql), tuple(params))
            if cur.description is None:
                return []
            return [tuple(r) for r in cur.fetchall()]

        result: list[Row] = self._run(run)
        return result

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.execute(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(sql, params)
        return row[0] if row else None

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """An ``INSERT … RETURNING id``: the new row's id."""
        row = self.one(sql, params)
        if row is None:  # pragma: no cover - RETURNING always yields a row
            raise StoreError("INSERT … RETURNING returned no row")
        return int(row[0])

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(r) for r in rows]
        if not batch:
            return

        def run() -> None:
            if self._pg:
                with self._conn.cursor() as cur:
                    cur.executemany(self._sql(sql), batch)
            else:
                self._conn.executemany(sql, batch)

        self._run(run)

    def bulk_cache(self, on: bool) -> None:
        """SQLite: a large page cache on this connection while a bulk load runs (index inserts at random keys)."""
        if not self._pg:
            self.execute(f"PRAGMA cache_size={SQLITE_BULK_CACHE_KIB if on else SQLITE_CACHE_KIB}")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: rolled back alone when the block raises."""
        self._savepoints += 1
        name = f"sp{self._savepoints}"
        self.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            self.execute(f"RELEASE SAVEPOINT {name}")


class _Pool:
    """A bounded pool of connections: a thread borrows one for the length of a transaction."""

    def __init__(self, factory: Callable[[], Any], size: int) -> None:
        self._factory = factory
        self._size = max(1, size)
        self._idle: list[Any] = []
        self._open: list[Any] = []
        self._cond = threading.Condition()
        self._closed = False

    def get(self) -> Any:
        with self._cond:
            while True:
                if self._closed:
                    raise StoreError("the store is closed")
                if self._idle:
                    return self._idle.pop()
                if len(self._open) < self._size:
                    placeholder = object()
                    self._open.append(placeholder)
                    break
                self._cond.wait()
        try:
            conn = self._factory()
        except BaseException:
            with self._cond:
                self._open.remove(placeholder)
                self._cond.notify()
            raise
        with self._cond:
            self._open[self._open.index(placeholder)] = conn
        return conn

    def put(self, conn: Any, broken: bool = False) -> None:
        with self._cond:
            if broken or self._closed:
                if conn in self._open:
                    self._open.remove(conn)
                _close_quietly(conn)
            else:
                self._idle.append(conn)
            self._cond.notify()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            for conn in self._open:
                _close_quietly(conn)
            self._open.clear()
            self._idle.clear()
            self._cond.notify_all()


def _close_quietly(conn: Any) -> None:
    with suppress(Exception):
        conn.close()


class Store:
    """A connection pool on one database, with transactions, migrations and dialect helpers."""

    def __init__(self, url: str, pool_size: int = 8) -> None:
        self.url = StoreUrl.parse(url)
        self.dialect = self.url.dialect
        self._write_lock = threading.Lock()  # SQLite: one writer per process (BEGIN IMMEDIATE across processes)
        self._memory_name: str | None = None
        self._keepalive: Any = None
        if self.dialect == "sqlite":
            if self.url.target == ":memory:":
                self._memory_name = f"file:xdsi-registry-{uuid.uuid4().hex}?mode=memory&cache=shared"
                pool_size = 1
            else:
                Path(self.url.target).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            factory: Callable[[], Any] = self._connect_sqlite
        else:
            factory = self._connect_postgresql
        self._pool = _Pool(factory, pool_size)
        if self._memory_name:
            self._keepalive = self._connect_sqlite()
        self.migrate()

    # --- connections ------------------------------------------------------------------------------
    def _connect_sqlite(self) -> sqlite3.Connection:
        if self._memory_name:
            conn = sqlite3.connect(
                self._memory_name, uri=True, timeout=30.0, isolation_level=None, check_same_thread=False
            )
        else:
            path = str(Path(self.url.target).expanduser())
            conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")
        conn.execute("PRAGMA temp_store=MEMORY")
        return conn

    def _connect_postgresql(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(self.url.target, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {exc}") from exc

    # --- dialect ----------------------------------------------------------------------------------
    def sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    @property
    def like(self) -> str:
        """The case-insensitive LIKE operator with ``%``/``_`` wildcards and no escape character."""
        return "ILIKE ? ESCAPE ''" if self.dialect == "postgresql" else "LIKE ?"

    def ddl(self, text: str) -> str:
        if self.dialect == "postgresql":
            subst = {"ID": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "BIGINT": "BIGINT", "BLOB": "BYTEA"}
        else:
            subst = {"ID": "INTEGER PRIMARY KEY", "BIGINT": "INTEGER", "BLOB": "BLOB"}
        return re.sub(r"\{\{(\w+)\}\}", lambda m: subst[m.group(1)], text)

    def translate(self, exc: BaseException) -> BaseException:
        """Dialect exceptions → :class:`UniqueViolation` / :class:`StoreError` (others unchanged)."""
        if isinstance(exc, StoreError):
            return exc
        if isinstance(exc, sqlite3.IntegrityError):
            m = re.search(r"UNIQUE constraint failed: (\w+)\.(\w+)", str(exc))
            if m:
                return UniqueViolation(f"{m.group(1)}.{m.group(2)}", str(exc))
            return StoreError(str(exc))
        if isinstance(exc, sqlite3.Error):
            return StoreError(f"SQLite: {exc}")
        if self.dialect == "postgresql":
            import psycopg

            if isinstance(exc, psycopg.errors.UniqueViolation):
                name = exc.diag.constraint_name or ""
                return UniqueViolation(_CONSTRAINT_KEYS.get(name, name), str(exc))
            if isinstance(exc, psycopg.Error):
                return StoreError(f"PostgreSQL: {exc}")
        return exc

    # --- transactions -----------------------------------------------------------------------------
    def _begin_write(self, conn: Any, lock_keys: Iterable[str]) -> None:
        if self.dialect == "sqlite":
            conn.execute("BEGIN IMMEDIATE")
        else:
            conn.execute("BEGIN")
            for key in sorted(set(lock_keys)):
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))

    def _end(self, conn: Any, commit: bool) -> None:
        conn.execute("COMMIT" if commit else "ROLLBACK")

    @contextmanager
    def _transaction(self, begin: Callable[[Any], None], write: bool) -> Iterator[Tx]:
        conn = self._pool.get()
        broken = False
        locked = False
        try:
            if write and self.dialect == "sqlite":
                self._write_lock.acquire()
                locked = True
            try:
                begin(conn)
            except Exception as exc:
                broken = True
                raise self.translate(exc) from exc
            try:
                yield Tx(self, conn)
            except BaseException:
                try:
                    self._end(conn, commit=False)
                except Exception:
                    broken = True
                raise
            try:
                self._end(conn, commit=True)
            except Exception as exc:
                try:
                    self._end(conn, commit=False)
                except Exception:
                    broken = True
                raise self.translate(exc) from exc
        finally:
            if locked:
                self._write_lock.release()
            self._pool.put(conn, broken=broken or _is_closed(conn))

    @contextmanager
    def write(self, lock_keys: Iterable[str] = ()) -> Iterator[Tx]:
        """A write transaction, committed (durably) when the block ends, rolled back if it raises."""
        keys = list(lock_keys)
        with self._transaction(lambda c: self._begin_write(c, keys), write=True) as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction on one snapshot."""

        def begin(conn: Any) -> None:
            if self.dialect == "sqlite":
                conn.execute("BEGIN")
            else:
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

        with self._transaction(begin, write=False) as tx:
            yield tx

    # --- migrations -------------------------------------------------------------------------------
    @staticmethod
    def migrations() -> list[tuple[int, str, str]]:
        """``(version, name, sql)`` of every migration file, in order."""
        out = []
        for path in sorted(MIGRATIONS_DIR.iterdir()):
            m = _MIGRATION_FILE.match(path.name)
            if m:
                out.append((int(m.group(1)), m.group(2), path.read_text(encoding="utf-8")))
        return out

    def migrate(self) -> list[int]:
        """Apply the migrations not yet recorded in ``schema_version``; the versions applied."""
        applied: list[int] = []
        with self.write() as tx:
            if self.dialect == "postgresql":
                tx.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
            tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {int(r[0]) for r in tx.execute("SELECT version FROM schema_version")}
            for version, name, text in self.migrations():
                if version in done:
                    continue
                for statement in split_statements(self.ddl(text)):
                    tx.execute(statement)
                tx.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, now_dtm()),
                )
                applied.append(version)
        return applied

    def schema_versions(self) -> list[int]:
        with self.read() as tx:
            return [int(r[0]) for r in tx.execute("SELECT version FROM schema_version ORDER BY version")]

    def optimize(self, analyze: bool = False) -> None:
        """Refresh the planner's statistics: ``PRAGMA optimize`` (SQLite; ``ANALYZE`` with ``analyze``), or
        ``ANALYZE`` (PostgreSQL). Best effort: a busy or closed store is left as it is."""
        if self._pool.closed:
            return
        with suppress(StoreError), self.write() as tx:
            tx.execute("ANALYZE" if analyze or self.dialect == "postgresql" else "PRAGMA optimize")

    def close(self) -> None:
        if self.dialect == "sqlite":
            self.optimize()
        self._pool.close()
        if self._keepalive is not None:
            _close_quietly(self._keepalive)
            self._keepalive = None


def _is_closed(conn: Any) -> bool:
    closed = getattr(conn, "closed", False)
    return bool(closed)


def split_statements(script: str) -> list[str]:
    """The statements of a migration script: ``--`` comments dropped, split on ``;`` at the end of a line."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.MULTILINE) if s.strip()]
