"""The index of the imaging-source simulator: studies, series and instances, and the files that hold them.

Rows live in the same kinds of store as the registry's: one SQLite file (WAL journal, ``synchronous=FULL``: an
instance acknowledged is on disk) by default, or PostgreSQL by URL; several simulator processes may share one
store and one files directory. Tables are prefixed ``img_`` so that ``xdsi serve all`` can keep the registry
and the imaging source in one database.

* ``sqlite:///relative/path.sqlite``, ``sqlite:////absolute/path.sqlite`` (files default to ``<path>.files/``);
* ``postgresql://user@host/db`` (give ``files_dir``; without it a temporary directory is used).

Files are DICOM Part 10 files, stored as received, at ``<files_dir>/<study>/<series>/<sop instance>.dcm`` (the
UIDs are checked before they become path components). Writes go to a temporary file, are fsync'ed (``durable``)
and renamed into place before the rows are committed.

    index = ImagingIndex("sqlite:///var/imaging.sqlite")
    index.import_directory("studies/")
    for inst in index.instances(study_uids=[uid]):
        data = index.read_bytes(inst)
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

log = logging.getLogger("xdsi.imaging_source.index")

#: a DICOM UID (PS3.5 §9.1): digits and dots, no leading zero in a component, at most 64 characters
UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
#: the same, tolerating leading zeros (seen in real data); what may become a file name
_PATH_SAFE_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_IN_CHUNK = 500


def is_uid(value: str) -> bool:
    return len(value) <= 64 and bool(UID_RE.match(value))


class IndexStoreError(Exception):
    """A storage failure, or an instance that cannot be indexed (the reason says which)."""


class NotDicomError(IndexStoreError):
    """The bytes are not a DICOM instance we can index (not DICOM, or without the UIDs it needs)."""


@dataclass(frozen=True)
class StudyRecord:
    study_instance_uid: str
    patient_id: str = ""
    issuer_of_patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    study_date: str = ""
    study_time: str = ""
    accession_number: str = ""
    study_id: str = ""
    study_description: str = ""
    referring_physician_name: str = ""


@dataclass(frozen=True)
class SeriesRecord:
    series_instance_uid: str
    study_instance_uid: str
    modality: str = ""
    series_number: str = ""
    series_description: str = ""
    body_part_examined: str = ""
    series_date: str = ""
    series_time: str = ""


@dataclass(frozen=True)
class InstanceRecord:
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str
    instance_number: str
    path: str
    size: int

    @property
    def instance_number_key(self) -> tuple[int, str]:
        try:
            return (int(self.instance_number), self.sop_instance_uid)
        except ValueError:
            return (1 << 31, self.sop_instance_uid)


_STUDY_COLUMNS = tuple(f.name for f in fields(StudyRecord))
_SERIES_COLUMNS = tuple(f.name for f in fields(SeriesRecord))
_INSTANCE_COLUMNS = tuple(f.name for f in fields(InstanceRecord))

#: DICOM keyword of each study / series / instance column
STUDY_KEYWORDS = {
    "study_instance_uid": "StudyInstanceUID",
    "patient_id": "PatientID",
    "issuer_of_patient_id": "IssuerOfPatientID",
    "patient_name": "PatientName",
    "patient_birth_date": "PatientBirthDate",
    "patient_sex": "PatientSex",
    "study_date": "StudyDate",
    "study_time": "StudyTime",
    "accession_number": "AccessionNumber",
    "study_id": "StudyID",
    "study_description": "StudyDescription",
    "referring_physician_name": "ReferringPhysicianName",
}
SERIES_KEYWORDS = {
    "series_instance_uid": "SeriesInstanceUID",
    "study_instance_uid": "StudyInstanceUID",
    "modality": "Modality",
    "series_number": "SeriesNumber",
    "series_description": "SeriesDescription",
    "body_part_examined": "BodyPartExamined",
    "series_date": "SeriesDate",
    "series_time": "SeriesTime",
}
INSTANCE_KEYWORDS = {
    "sop_instance_uid": "SOPInstanceUID",
    "series_instance_uid": "SeriesInstanceUID",
    "study_instance_uid": "StudyInstanceUID",
    "sop_class_uid": "SOPClassUID",
    "instance_number": "InstanceNumber",
}

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS img_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS img_study ("
    + ", ".join(
        f"{c} TEXT NOT NULL DEFAULT ''" if c != "study_instance_uid" else f"{c} TEXT PRIMARY KEY"
        for c in _STUDY_COLUMNS
    )
    + ")",
    "CREATE TABLE IF NOT EXISTS img_series ("
    + ", ".join(
        f"{c} TEXT NOT NULL DEFAULT ''" if c != "series_instance_uid" else f"{c} TEXT PRIMARY KEY"
        for c in _SERIES_COLUMNS
    )
    + ")",
    "CREATE TABLE IF NOT EXISTS img_instance (sop_instance_uid TEXT PRIMARY KEY, series_instance_uid TEXT NOT NULL, "
    "study_instance_uid TEXT NOT NULL, sop_class_uid TEXT NOT NULL, transfer_syntax_uid TEXT NOT NULL, "
    "instance_number TEXT NOT NULL DEFAULT '', path TEXT NOT NULL, size BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS img_series_study ON img_series (study_instance_uid)",
    "CREATE INDEX IF NOT EXISTS img_instance_series ON img_instance (series_instance_uid)",
    "CREATE INDEX IF NOT EXISTS img_instance_study ON img_instance (study_instance_uid)",
)
_PG_SCHEMA_LOCK = 0x5844_5349_0069


# --------------------------------------------------------------------------------------------------- database


@dataclass(frozen=True)
class StoreUrl:
    dialect: str  # "sqlite" | "postgresql"
    target: str  # a file path, or the libpq URL

    @classmethod
    def parse(cls, url: str) -> StoreUrl:
        if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            return cls("postgresql", url.replace("postgresql+psycopg://", "postgresql://", 1))
        if url.startswith("sqlite://"):
            parts = urlsplit(url)
            if parts.netloc:
                raise IndexStoreError(f"sqlite URL with a host is not supported: {url!r} (use sqlite:///PATH)")
            path = unquote(parts.path)
            path = path[1:] if path.startswith("/") else path
            if not path or path == ":memory:":
                raise IndexStoreError(f"sqlite URL without a file path: {url!r} (the index needs a file)")
            return cls("sqlite", path)
        if "://" not in url:  # a bare path
            return cls("sqlite", url)
        raise IndexStoreError(f"unsupported store URL {url!r}: use sqlite:///PATH or postgresql://...")


class _Db:
    """A few pooled connections on one database; ``?`` placeholders in every statement."""

    def __init__(self, url: StoreUrl, pool_size: int = 8) -> None:
        self.url = url
        self.pg = url.dialect == "postgresql"
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pool_size = pool_size
        if not self.pg:
            Path(url.target).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)

    def _connect(self) -> Any:
        if self.pg:
            import psycopg

            try:
                return psycopg.connect(self.url.target, autocommit=True)
            except psycopg.Error as exc:
                raise IndexStoreError(f"cannot connect to PostgreSQL: {exc}") from exc
        try:
            conn = sqlite3.connect(
                str(Path(self.url.target).expanduser()), timeout=30.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=30000")
        except sqlite3.Error as exc:
            raise IndexStoreError(f"cannot open the SQLite index {self.url.target}: {exc}") from exc
        return conn

    def sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.pg else text

    @contextmanager
    def tx(self, write: bool = False) -> Iterator[Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]]:
        """A transaction; yields ``run(sql, params) -> rows``. Committed when the block ends."""
        with self._lock:
            idle = self._idle.pop() if self._idle else None
        conn: Any = idle if idle is not None else self._connect()
        broken = False
        locked = write and not self.pg
        if locked:
            self._write_lock.acquire()
        try:

            def run(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
                cur = conn.execute(self.sql(sql), tuple(params))
                return [tuple(r) for r in cur.fetchall()] if cur.description is not None else []

            try:
                if self.pg:
                    conn.execute("BEGIN" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                else:
                    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield run
            except BaseException:
                try:
                    conn.execute("ROLLBACK")
                except Exception:
                    broken = True
                raise
            conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            broken = True
            raise IndexStoreError(f"index store: {exc}") from exc
        except Exception as exc:
            if self.pg and type(exc).__module__.startswith("psycopg"):
                broken = True
                raise IndexStoreError(f"index store (PostgreSQL): {exc}") from exc
            raise
        finally:
            if locked:
                self._write_lock.release()
            if broken or getattr(conn, "closed", False):
                _close_quietly(conn)
            else:
                with self._lock:
                    if len(self._idle) < self._pool_size:
                        self._idle.append(conn)
                        conn = None
                if conn is not None:
                    _close_quietly(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            _close_quietly(conn)


def _close_quietly(conn: Any) -> None:
    with suppress(Exception):
        conn.close()


# --------------------------------------------------------------------------------------------------- the index


def _text(ds: Dataset, keyword: str) -> str:
    try:
        value = ds.get(keyword)
    except Exception:  # a value pydicom cannot decode: index it as empty
        return ""
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


@dataclass(frozen=True)
class Parsed:
    """What indexing needs of one instance: its rows and its Part 10 bytes."""

    study: StudyRecord
    series: SeriesRecord
    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str
    instance_number: str
    data: bytes


def parse_instance(data: bytes) -> Parsed:
    """Read the header of a DICOM instance (a Part 10 file, or a bare dataset which is then given a file meta
    header); raises :class:`NotDicomError`."""
    if len(data) >= 132 and data[128:132] == b"DICM":
        try:
            ds = dcmread(BytesIO(data), stop_before_pixels=True)
        except Exception as exc:
            raise NotDicomError(f"unreadable DICOM file: {exc}") from exc
    else:
        try:
            full = dcmread(BytesIO(data), force=True)
            if len(full) == 0 or "SOPInstanceUID" not in full:
                raise NotDicomError("not a DICOM instance (no Part 10 header, no SOP Instance UID)")
            data = _to_part10(full)
            ds = dcmread(BytesIO(data), stop_before_pixels=True)
        except NotDicomError:
            raise
        except Exception as exc:
            raise NotDicomError(f"not a DICOM instance: {exc}") from exc
    meta = ds.file_meta
    sop = _text(ds, "SOPInstanceUID") or str(meta.get("MediaStorageSOPInstanceUID", "") or "")
    sop_class = _text(ds, "SOPClassUID") or str(meta.get("MediaStorageSOPClassUID", "") or "")
    ts = str(meta.get("TransferSyntaxUID", "") or "")
    study_uid = _text(ds, "StudyInstanceUID")
    series_uid = _text(ds, "SeriesInstanceUID")
    for name, value in (
        ("SOP Instance UID", sop),
        ("SOP Class UID", sop_class),
        ("Study Instance UID", study_uid),
        ("Series Instance UID", series_uid),
        ("Transfer Syntax UID", ts),
    ):
        if not value:
            raise NotDicomError(f"the instance has no {name}")
        if len(value) > 64 or not _PATH_SAFE_UID.match(value):
            raise NotDicomError(f"the instance's {name} is not a UID: {value[:80]!r}")
    study = StudyRecord(
        study_uid, **{c: _text(ds, kw) for c, kw in STUDY_KEYWORDS.items() if c != "study_instance_uid"}
    )
    series = SeriesRecord(
        series_uid,
        study_uid,
        **{
            c: _text(ds, kw)
            for c, kw in SERIES_KEYWORDS.items()
            if c not in ("series_instance_uid", "study_instance_uid")
        },
    )
    return Parsed(study, series, sop, sop_class, ts, _text(ds, "InstanceNumber"), data)


def _to_part10(ds: Dataset) -> bytes:
    """A dataset read without a file meta header, as a Part 10 file in the transfer syntax pydicom inferred."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ts = getattr(ds, "original_encoding", None)
    implicit = bool(ts[0]) if ts and ts[0] is not None else True
    little = bool(ts[1]) if ts and ts[1] is not None else True
    if implicit:
        meta.TransferSyntaxUID = ImplicitVRLittleEndian
    else:
        meta.TransferSyntaxUID = ExplicitVRLittleEndian if little else ExplicitVRBigEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    buf = BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


class ImagingIndex:
    """Studies, series and instances of the simulator, with their files (thread-safe, process-shareable)."""

    def __init__(
        self,
        store: str | None = None,
        files_dir: str | Path | None = None,
        *,
        retrieve_location_uid: str | None = None,
        durable: bool = True,
        pool_size: int = 8,
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if store is None:
            if files_dir is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="xdsi-imaging-")
                files_dir = Path(self._tmp.name) / "files"
            store = f"sqlite:///{Path(files_dir).resolve().parent / 'imaging-index.sqlite'}"
        self.store_url = store
        url = StoreUrl.parse(store)
        if files_dir is None:
            if url.dialect == "sqlite":
                files_dir = Path(url.target).expanduser().resolve().with_suffix(".files")
            else:
                self._tmp = tempfile.TemporaryDirectory(prefix="xdsi-imaging-")
                files_dir = Path(self._tmp.name) / "files"
                log.warning("no files directory given with %s: instances go to %s", store, files_dir)
        self.files_dir = Path(files_dir).expanduser().resolve()
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.durable = durable
        self._db = _Db(url, pool_size)
        self._create_schema()
        self.retrieve_location_uid = self._retrieve_location_uid(retrieve_location_uid)

    @property
    def dialect(self) -> str:
        return self._db.url.dialect

    # ----------------------------------------------------------------------------- schema and meta
    def _create_schema(self) -> None:
        with self._db.tx(write=True) as run:
            if self._db.pg:
                run("SELECT pg_advisory_xact_lock(?)", (_PG_SCHEMA_LOCK,))
            for statement in _SCHEMA:
                run(statement, ())

    def _retrieve_location_uid(self, wanted: str | None) -> str:
        if wanted is not None and not is_uid(wanted):
            raise IndexStoreError(f"the Retrieve Location UID {wanted!r} is not a DICOM UID")
        with self._db.tx(write=True) as run:
            rows = run("SELECT value FROM img_meta WHERE name = ?", ("retrieve_location_uid",))
            if wanted is None and rows:
                return str(rows[0][0])
            value = wanted or f"2.25.{uuid.uuid4().int}"
            run(
                "INSERT INTO img_meta (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                ("retrieve_location_uid", value),
            )
            return value

    def close(self) -> None:
        self._db.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> ImagingIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------- adding
    def path_for(self, study_uid: str, series_uid: str, sop_uid: str) -> Path:
        for uid in (study_uid, series_uid, sop_uid):
            if not _PATH_SAFE_UID.match(uid) or len(uid) > 64:
                raise NotDicomError(f"not a UID, refused as a file name: {uid[:80]!r}")
        return self.files_dir / study_uid / series_uid / f"{sop_uid}.dcm"

    def add_bytes(self, data: bytes) -> InstanceRecord:
        """Index one instance (Part 10 file or bare dataset); replaces an instance with the same SOP Instance
        UID. Raises :class:`NotDicomError` for what cannot be indexed."""
        parsed = parse_instance(bytes(data))
        path = self.path_for(
            parsed.study.study_instance_uid, parsed.series.series_instance_uid, parsed.sop_instance_uid
        )
        self._write_file(path, parsed.data)
        record = InstanceRecord(
            parsed.sop_instance_uid,
            parsed.series.series_instance_uid,
            parsed.study.study_instance_uid,
            parsed.sop_class_uid,
            parsed.transfer_syntax_uid,
            parsed.instance_number,
            str(path),
            len(parsed.data),
        )
        old = self._upsert(parsed.study, parsed.series, record)
        if old and old != str(path):
            with _suppress_os():
                os.unlink(old)
        return record

    def add_dataset(self, ds: Dataset) -> InstanceRecord:
        """Index a pydicom dataset (written as a Part 10 file, in its file meta's transfer syntax or Explicit VR
        Little Endian)."""
        buf = BytesIO()
        if not getattr(ds, "file_meta", None) or "TransferSyntaxUID" not in ds.file_meta:
            meta = FileMetaDataset()
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds.file_meta = meta
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(buf, enforce_file_format=True)
        return self.add_bytes(buf.getvalue())

    def add_file(self, path: str | Path) -> InstanceRecord:
        return self.add_bytes(Path(path).read_bytes())

    def import_directory(self, directory: str | Path) -> tuple[list[InstanceRecord], list[str]]:
        """Index every DICOM file under ``directory`` (recursively); returns the instances and one note per file
        skipped (not DICOM, no UIDs...). A DICOMDIR and KOS manifests are skipped too."""
        added: list[InstanceRecord] = []
        skipped: list[str] = []
        root = Path(directory)
        if not root.is_dir():
            raise IndexStoreError(f"{root} is not a directory")
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if path.name.upper() == "DICOMDIR":
                skipped.append(f"{path}: a DICOMDIR")
                continue
            try:
                data = path.read_bytes()
                parsed_class = _sop_class_quick(data)
                if parsed_class == "1.2.840.10008.5.1.4.1.1.88.59":
                    skipped.append(f"{path}: a KOS manifest, not an image")
                    continue
                added.append(self.add_bytes(data))
            except NotDicomError as exc:
                skipped.append(f"{path}: {exc}")
            except OSError as exc:
                skipped.append(f"{path}: {exc.strerror or exc}")
        return added, skipped

    def _write_file(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                if self.durable:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            with _suppress_os():
                os.unlink(tmp)
            raise IndexStoreError(f"cannot write {path}: {exc.strerror or exc}") from exc
        if self.durable:
            _fsync_dir(path.parent)

    def _upsert(self, study: StudyRecord, series: SeriesRecord, inst: InstanceRecord) -> str | None:
        """Write the three rows; returns the previous path of the instance, if any."""
        with self._db.tx(write=True) as run:
            rows = run("SELECT path FROM img_instance WHERE sop_instance_uid = ?", (inst.sop_instance_uid,))
            old = str(rows[0][0]) if rows else None
            run(_upsert_sql("img_study", _STUDY_COLUMNS, "study_instance_uid"), _values(study, _STUDY_COLUMNS))
            run(_upsert_sql("img_series", _SERIES_COLUMNS, "series_instance_uid"), _values(series, _SERIES_COLUMNS))
            run(
                _upsert_sql("img_instance", _INSTANCE_COLUMNS, "sop_instance_uid"),
                _values(inst, _INSTANCE_COLUMNS),
            )
        return old

    def delete_study(self, study_uid: str) -> int:
        """Forget a study and delete its files; the number of instances removed."""
        with self._db.tx(write=True) as run:
            paths = [r[0] for r in run("SELECT path FROM img_instance WHERE study_instance_uid = ?", (study_uid,))]
            run("DELETE FROM img_instance WHERE study_instance_uid = ?", (study_uid,))
            run("DELETE FROM img_series WHERE study_instance_uid = ?", (study_uid,))
            run("DELETE FROM img_study WHERE study_instance_uid = ?", (study_uid,))
        for p in paths:
            with _suppress_os():
                os.unlink(p)
        return len(paths)

    # ----------------------------------------------------------------------------- reading
    def studies(self, study_uids: Iterable[str] | None = None) -> list[StudyRecord]:
        rows = self._select("img_study", _STUDY_COLUMNS, [("study_instance_uid", study_uids)])
        return sorted((StudyRecord(*r) for r in rows), key=lambda s: (s.study_date, s.study_instance_uid))

    def study(self, study_uid: str) -> StudyRecord | None:
        found = self.studies([study_uid])
        return found[0] if found else None

    def series(
        self, study_uids: Iterable[str] | None = None, series_uids: Iterable[str] | None = None
    ) -> list[SeriesRecord]:
        rows = self._select(
            "img_series", _SERIES_COLUMNS, [("study_instance_uid", study_uids), ("series_instance_uid", series_uids)]
        )
        return sorted((SeriesRecord(*r) for r in rows), key=_series_key)

    def instances(
        self,
        study_uids: Iterable[str] | None = None,
        series_uids: Iterable[str] | None = None,
        sop_uids: Iterable[str] | None = None,
    ) -> list[InstanceRecord]:
        """The instances matching every filter given (each a list of UIDs), in study/series/instance order."""
        rows = self._select(
            "img_instance",
            _INSTANCE_COLUMNS,
            [("study_instance_uid", study_uids), ("series_instance_uid", series_uids), ("sop_instance_uid", sop_uids)],
        )
        out = [InstanceRecord(*r[:-1], int(r[-1])) for r in rows]  # type: ignore[call-arg]
        return sorted(out, key=lambda i: (i.study_instance_uid, i.series_instance_uid, i.instance_number_key))

    def instance(self, sop_uid: str) -> InstanceRecord | None:
        found = self.instances(sop_uids=[sop_uid])
        return found[0] if found else None

    def counts(self) -> tuple[int, int, int]:
        """(studies, series, instances)."""
        with self._db.tx() as run:
            return tuple(  # type: ignore[return-value]
                int(run(f"SELECT COUNT(*) FROM {t}", ())[0][0]) for t in ("img_study", "img_series", "img_instance")
            )

    def read_bytes(self, inst: InstanceRecord) -> bytes:
        """The Part 10 file of an instance; raises :class:`IndexStoreError` when the file has gone."""
        try:
            return Path(inst.path).read_bytes()
        except OSError as exc:
            raise IndexStoreError(f"the file of instance {inst.sop_instance_uid} is unreadable: {exc}") from exc

    def _select(
        self, table: str, columns: Sequence[str], filters: list[tuple[str, Iterable[str] | None]]
    ) -> list[tuple[Any, ...]]:
        given = [(col, list(dict.fromkeys(values))) for col, values in filters if values is not None]
        if any(not values for _, values in given):
            return []
        base = f"SELECT {', '.join(columns)} FROM {table}"
        with self._db.tx() as run:
            if not given:
                return run(base, ())
            # the most selective filter is chunked; the others are applied in Python
            given.sort(key=lambda cv: len(cv[1]))
            col, values = given[0]
            rows: list[tuple[Any, ...]] = []
            for i in range(0, len(values), _IN_CHUNK):
                chunk = values[i : i + _IN_CHUNK]
                rows += run(f"{base} WHERE {col} IN ({', '.join('?' * len(chunk))})", chunk)
        for col, values in given[1:]:
            pos = list(columns).index(col)
            allowed = set(values)
            rows = [r for r in rows if r[pos] in allowed]
        return rows


def _series_key(s: SeriesRecord) -> tuple[str, int, str]:
    try:
        number = int(s.series_number)
    except ValueError:
        number = 1 << 31
    return (s.study_instance_uid, number, s.series_instance_uid)


def _upsert_sql(table: str, columns: Sequence[str], key: str) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


def _values(record: object, columns: Sequence[str]) -> tuple[Any, ...]:
    return tuple(getattr(record, c) for c in columns)


def _sop_class_quick(data: bytes) -> str | None:
    try:
        ds = dcmread(BytesIO(data), stop_before_pixels=True, force=True, specific_tags=["SOPClassUID"])
        return str(ds.get("SOPClassUID", "") or "") or None
    except (InvalidDicomError, Exception):
        return None


@contextmanager
def _suppress_os() -> Iterator[None]:
    with suppress(OSError):
        yield


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
