"""The journal: the record of every message exchanged by our simulators and clients (DESIGN §6).

One :class:`Exchange` per request/response pair: the transaction, the flux of the request and of the
response, the direction seen from us (``received`` by a simulator, ``sent`` by a client), the peer, the time
(UTC, ISO 8601), the raw bytes of both messages with their content types, and the findings of validating
both.

Storage: one SQLite file, one table, WAL mode, the raw bytes as BLOBs. Several threads and processes may
append to the same file at once (each :meth:`Journal.record` is one short transaction on its own
connection); readers never block writers.

    journal = Journal("reports/journal.sqlite")
    journal.record(Exchange(transaction="ITI-41", direction="received", ...))
    for ex in journal.exchanges():
        ...
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from xdsi.validation.findings import Finding

Direction = Literal["received", "sent"]

#: seconds a writer waits for another one to finish (SQLite busy timeout)
BUSY_TIMEOUT = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    actor TEXT NOT NULL DEFAULT '',
    transaction_name TEXT NOT NULL DEFAULT '',
    direction TEXT NOT NULL,
    peer TEXT NOT NULL DEFAULT '',
    endpoint TEXT NOT NULL DEFAULT '',
    request_flux TEXT,
    response_flux TEXT,
    request_action TEXT,
    response_action TEXT,
    http_status INTEGER,
    request BLOB NOT NULL,
    request_content_type TEXT,
    response BLOB NOT NULL,
    response_content_type TEXT,
    request_findings TEXT NOT NULL DEFAULT '[]',
    response_findings TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    duration_ms REAL,
    notes TEXT NOT NULL DEFAULT '[]'
)
"""

_COLUMNS = (
    "time",
    "actor",
    "transaction_name",
    "direction",
    "peer",
    "endpoint",
    "request_flux",
    "response_flux",
    "request_action",
    "response_action",
    "http_status",
    "request",
    "request_content_type",
    "response",
    "response_content_type",
    "request_findings",
    "response_findings",
    "error",
    "duration_ms",
    "notes",
)


def now_utc() -> str:
    """The current time, UTC, ISO 8601 with milliseconds (``2026-11-23T10:30:00.123Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Exchange:
    """One request and its response, as one of our actors saw them."""

    #: ITI-41, ITI-57, ITI-18, ITI-43, RAD-69 (empty when the request could not be told apart)
    transaction: str = ""
    #: ``received`` (a simulator answered a peer) or ``sent`` (one of our clients asked a peer)
    direction: Direction = "received"
    #: who recorded it: ``registry``, ``producer``, ``consumer``…
    actor: str = ""
    #: the other side: ``host:port`` of the client (received) or the URL called (sent)
    peer: str = ""
    #: the path (received) or URL (sent) of the endpoint
    endpoint: str = ""
    request_flux: str | None = None
    response_flux: str | None = None
    request_action: str | None = None
    response_action: str | None = None
    #: the HTTP status of the response (None when no response arrived)
    http_status: int | None = None
    request: bytes = b""
    request_content_type: str | None = None
    response: bytes = b""
    response_content_type: str | None = None
    request_findings: list[Finding] = field(default_factory=list)
    response_findings: list[Finding] = field(default_factory=list)
    #: why the exchange failed at the transport level (a SOAP Fault, unreadable input, connection error…)
    error: str | None = None
    duration_ms: float | None = None
    #: readable oddities noticed on the way (validation notes, refusals of the registry…)
    notes: list[str] = field(default_factory=list)
    time: str = field(default_factory=now_utc)
    #: set by :meth:`Journal.record` / read back by :meth:`Journal.exchanges`
    id: int | None = None

    @property
    def findings(self) -> list[Finding]:
        return [*self.request_findings, *self.response_findings]

    def as_dict(self, with_bytes: bool = False) -> dict[str, Any]:
        """A JSON-ready dict; the raw messages as text (UTF-8, undecodable bytes replaced) when asked."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("request", "response"):
                out[f"{f.name}_size"] = len(value)
                if with_bytes:
                    out[f.name] = value.decode("utf-8", "replace")
                continue
            if f.name.endswith("_findings"):
                value = [x.as_dict() for x in value]
            out[f.name] = value
        return out


def _findings_json(findings: list[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings], ensure_ascii=False)


def _findings_from(text: str | None) -> list[Finding]:
    if not text:
        return []
    return [Finding(**d) for d in json.loads(text)]


class Journal:
    """An append-only SQLite journal of exchanges, safe to share between threads and processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._init_lock = threading.Lock()
        self._ready = False
        self._ensure()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        return conn

    def _ensure(self) -> None:
        with self._init_lock:
            if self._ready:
                return
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as conn:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute(_SCHEMA)
            self._ready = True

    def record(self, exchange: Exchange) -> int:
        """Append ``exchange`` (durably: committed before returning); sets and returns its id."""
        row = (
            exchange.time,
            exchange.actor,
            exchange.transaction,
            exchange.direction,
            exchange.peer,
            exchange.endpoint,
            exchange.request_flux,
            exchange.response_flux,
            exchange.request_action,
            exchange.response_action,
            exchange.http_status,
            sqlite3.Binary(bytes(exchange.request)),
            exchange.request_content_type,
            sqlite3.Binary(bytes(exchange.response)),
            exchange.response_content_type,
            _findings_json(exchange.request_findings),
            _findings_json(exchange.response_findings),
            exchange.error,
            exchange.duration_ms,
            json.dumps(exchange.notes, ensure_ascii=False),
        )
        sql = f"INSERT INTO exchanges ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
        with closing(self._connect()) as conn:
            conn.execute("PRAGMA synchronous = FULL")
            cur = conn.execute(sql, row)
            exchange.id = int(cur.lastrowid or 0)
        return exchange.id

    def exchanges(
        self,
        transaction: str | None = None,
        actor: str | None = None,
        after_id: int | None = None,
    ) -> Iterator[Exchange]:
        """Every exchange in the order recorded, optionally of one transaction / actor / after an id."""
        where: list[str] = []
        args: list[Any] = []
        if transaction is not None:
            where.append("transaction_name = ?")
            args.append(transaction)
        if actor is not None:
            where.append("actor = ?")
            args.append(actor)
        if after_id is not None:
            where.append("id > ?")
            args.append(after_id)
        sql = f"SELECT id, {', '.join(_COLUMNS)} FROM exchanges"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        with closing(self._connect()) as conn:  # a WAL reader: writers go on meanwhile
            for row in conn.execute(sql, args):
                yield _exchange_from(row)

    def __len__(self) -> int:
        with closing(self._connect()) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM exchanges").fetchone()[0])

    def last_id(self) -> int:
        """The id of the last exchange recorded (0 when empty): pass it as ``after_id`` to see what follows."""
        with closing(self._connect()) as conn:
            return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM exchanges").fetchone()[0])


def _exchange_from(row: tuple[Any, ...]) -> Exchange:
    d = dict(zip(("id", *_COLUMNS), row, strict=True))
    return Exchange(
        id=d["id"],
        time=d["time"],
        actor=d["actor"],
        transaction=d["transaction_name"],
        direction=d["direction"],
        peer=d["peer"],
        endpoint=d["endpoint"],
        request_flux=d["request_flux"],
        response_flux=d["response_flux"],
        request_action=d["request_action"],
        response_action=d["response_action"],
        http_status=d["http_status"],
        request=bytes(d["request"] or b""),
        request_content_type=d["request_content_type"],
        response=bytes(d["response"] or b""),
        response_content_type=d["response_content_type"],
        request_findings=_findings_from(d["request_findings"]),
        response_findings=_findings_from(d["response_findings"]),
        error=d["error"],
        duration_ms=d["duration_ms"],
        notes=list(json.loads(d["notes"] or "[]")),
    )


def open_journal(path: str | Path | None) -> Journal | None:
    return Journal(path) if path else None
