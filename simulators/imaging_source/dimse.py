"""The DICOM side of the imaging-source simulator: a pynetdicom AE answering C-ECHO, C-FIND, C-GET, C-MOVE and
C-STORE over the :class:`~simulators.imaging_source.index.ImagingIndex`.

What a peer gets for what (PS3.4 Annex C for the statuses):

=========================================================  =====================================================
request                                                    answer
=========================================================  =====================================================
association from a calling AE title not accepted           A-ASSOCIATE-RJ permanent, "calling AE title not
(``accepted_calling_aets``)                                recognised"
wrong called AE title (``require_called_aet``)             A-ASSOCIATE-RJ permanent, "called AE title not
                                                           recognised"
malformed or truncated PDU, a peer that stalls             A-ABORT (the server goes on)
C-FIND/C-GET/C-MOVE without a valid QueryRetrieveLevel,    0xA900 Identifier does not match SOP Class
or without the unique key of the level
C-FIND matching nothing                                    Success, no match (0x0000)
C-GET/C-MOVE of UIDs that match nothing                    0xC000 Unable to process, with ErrorComment and
                                                           the Failed SOP Instance UID List
C-GET/C-MOVE of several instances, some unknown            the known ones sent, then 0xB000 with the others
                                                           in Failed SOP Instance UID List
C-MOVE to a destination not configured                     0xA801 Move Destination unknown
C-STORE of something that is not an indexable instance     0xC000 Cannot understand
C-STORE the store cannot write                             0xA700 Out of resources
an identifier that cannot be decoded                       0xC000 with ErrorComment
=========================================================  =====================================================

Every socket pynetdicom opens or accepts gets TCP_NODELAY (:func:`enable_tcp_nodelay`): without it each
C-STORE sub-operation waits for the peer's delayed ACK (≈ 40 ms per instance on Linux).
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import re
import socket
import ssl
import struct
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import pynetdicom.association as _pyn_association
import pynetdicom.dimse_messages as _pyn_dimse_messages
from pydicom import dcmread
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, evt
from pynetdicom.presentation import (
    QueryRetrievePresentationContexts,
    StoragePresentationContexts,
    build_context,
)
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]
from pynetdicom.transport import AssociationSocket, ThreadedAssociationServer

from simulators.imaging_source.index import (
    ImagingIndex,
    IndexStoreError,
    InstanceRecord,
    NotDicomError,
    SeriesRecord,
    StudyRecord,
)
from xdsi.journal import Exchange, Journal

log = logging.getLogger("xdsi.imaging_source.dimse")

DEFAULT_AET = "XDSI_SOURCE"
#: the largest PDU we accept (and announce): big PDUs mean fewer Python round trips per instance
DEFAULT_MAX_PDU = 4 * 1024 * 1024

PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
PATIENT_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.1.2"
PATIENT_ROOT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
PATIENT_ROOT = {PATIENT_ROOT_FIND, PATIENT_ROOT_MOVE, PATIENT_ROOT_GET}
LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")

STATUS_SUCCESS = 0x0000
STATUS_PENDING = 0xFF00
STATUS_PENDING_WARNING = 0xFF01
STATUS_CANCEL = 0xFE00
STATUS_WARNING = 0xB000
STATUS_OUT_OF_RESOURCES = 0xA700
STATUS_MOVE_DESTINATION_UNKNOWN = 0xA801
STATUS_IDENTIFIER_MISMATCH = 0xA900
STATUS_UNABLE_TO_PROCESS = 0xC000
#: the content type of the journaled DIMSE exchanges (readable text: the identifier, the outcome)
TEXT = "text/plain; charset=utf-8"

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
UNCOMPRESSED = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2")
#: what we accept, best first (pynetdicom's acceptor takes the first of ours the requestor proposes): Explicit VR
#: Little Endian first, the syntax instances are usually stored in, so that C-GET sends them without re-encoding
PREFERRED_SYNTAXES = [*UNCOMPRESSED[:2], *(ts for ts in ALL_TRANSFER_SYNTAXES if ts not in UNCOMPRESSED[:2])]


# --------------------------------------------------------------------------------------------------- TCP_NODELAY

_patch_lock = threading.Lock()
_patched = False


def set_nodelay(sock: socket.socket | None) -> None:
    if sock is None:
        return
    with contextlib.suppress(OSError):  # not a TCP socket (a test double), or already closed
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def enable_tcp_nodelay() -> None:
    """Make every socket pynetdicom creates (association requests, C-MOVE sub-associations) set TCP_NODELAY.
    Idempotent. Accepted sockets get it from :class:`NoDelayAssociationServer`."""
    global _patched
    with _patch_lock:
        if _patched:
            return
        original = AssociationSocket._create_socket

        def _create_socket(self: AssociationSocket, address: Any) -> socket.socket:
            sock = original(self, address)
            set_nodelay(sock)
            return sock

        AssociationSocket._create_socket = _create_socket  # type: ignore[method-assign]
        _patched = True


class NoDelayAssociationServer(ThreadedAssociationServer):
    """pynetdicom's threaded server, with TCP_NODELAY and a receive timeout on every accepted socket (a peer that
    stalls in the middle of a PDU is aborted after ``ae.network_timeout`` instead of holding a thread forever)."""

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        client, address = super().get_request()
        set_nodelay(client)
        timeout = self.ae.network_timeout
        if timeout is not None:
            client.settimeout(timeout)
        return client, address


class _AE(AE):
    """An AE whose non-blocking servers are :class:`NoDelayAssociationServer`."""

    def make_server(self, address: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("server_class") is ThreadedAssociationServer:
            kwargs["server_class"] = NoDelayAssociationServer
        return super().make_server(address, *args, **kwargs)


# --------------------------------------------------------------------------------------------------- fast C-STORE

_original_encode = _pyn_association.encode
_encode_patched = False
#: the DUL reactor's idle sleep while a retrieve runs (pynetdicom's default, 1 ms, adds up to 1 ms per instance)
BUSY_LOOP_DELAY = 0.0001


def _encode(ds: Dataset, is_implicit_vr: bool, is_little_endian: bool, deflated: bool = False) -> bytes | None:
    """pynetdicom's ``encode`` for C-STORE requests, short-circuited for :func:`stored_dataset` datasets: their
    bytes as stored when the agreed transfer syntax is the stored one, else the file decoded and re-encoded."""
    state = ds.__dict__.get("_xdsi_stored") if isinstance(ds, Dataset) else None
    if state is None:
        return _original_encode(ds, is_implicit_vr, is_little_endian, deflated)
    raw, key, path = state
    if key == (is_implicit_vr, is_little_endian, deflated):
        return raw
    return _original_encode(dcmread(path), is_implicit_vr, is_little_endian, deflated)


_original_command_encode = _pyn_dimse_messages.encode
_STRING_VRS = {"UI", "AE", "LO", "SH", "ST", "CS", "LT", "UT"}


def _encode_command(ds: Dataset, is_implicit_vr: bool, is_little_endian: bool, deflated: bool = False) -> bytes | None:
    """pynetdicom's ``encode`` for DIMSE command sets (group 0000, Implicit VR Little Endian), written out directly:
    pydicom's general writer costs more than the rest of a C-STORE sub-operation. Anything unusual (a
    multi-valued or binary element) goes to the original."""
    if not (is_implicit_vr and is_little_endian) or deflated:
        return _original_command_encode(ds, is_implicit_vr, is_little_endian, deflated)
    out = bytearray()
    for elem in ds:
        tag = int(elem.tag)
        if tag >> 16:
            return _original_command_encode(ds, is_implicit_vr, is_little_endian, deflated)
        vr, value = elem.VR, elem.value
        if value is None or value == "":
            raw = b""
        elif vr == "US" and isinstance(value, int):
            raw = struct.pack("<H", value)
        elif vr == "UL" and isinstance(value, int):
            raw = struct.pack("<I", value)
        elif vr in _STRING_VRS and isinstance(value, str):
            raw = value.encode("ascii", "strict")
            if len(raw) % 2:
                raw += b"\0" if vr == "UI" else b" "
        else:
            return _original_command_encode(ds, is_implicit_vr, is_little_endian, deflated)
        out += struct.pack("<HHI", 0, tag & 0xFFFF, len(raw))
        out += raw
    return bytes(out)


def enable_fast_store() -> None:
    """Let pynetdicom send :func:`stored_dataset` datasets without decoding and re-encoding them, and encode
    command sets directly (:func:`_encode_command`). Idempotent."""
    global _encode_patched
    with _patch_lock:
        if not _encode_patched:
            _pyn_association.encode = _encode  # type: ignore[attr-defined]
            _pyn_dimse_messages.encode = _encode_command  # type: ignore[attr-defined]
            _encode_patched = True


def dataset_offset(data: bytes) -> int:
    """Where the data set starts in a Part 10 file (after the preamble and the group 0002 elements)."""
    if len(data) < 132 or data[128:132] != b"DICM":
        raise ValueError("not a DICOM Part 10 file")
    pos = 132
    while pos + 8 <= len(data):
        group = int.from_bytes(data[pos : pos + 2], "little")
        if group != 2:
            return pos
        vr = data[pos + 4 : pos + 6]
        if vr in _LONG_VRS:
            pos += 12 + int.from_bytes(data[pos + 8 : pos + 12], "little")
        else:
            pos += 8 + int.from_bytes(data[pos + 6 : pos + 8], "little")
    return pos


_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}


def stored_dataset(inst: InstanceRecord) -> Dataset:
    """A dataset standing for a stored instance: its UIDs and transfer syntax, and the encoded bytes that
    :func:`enable_fast_store` sends as they are (read once, never decoded)."""
    data = Path(inst.path).read_bytes()
    ts = UID(inst.transfer_syntax_uid)
    ds = Dataset()
    ds.SOPClassUID = inst.sop_class_uid
    ds.SOPInstanceUID = inst.sop_instance_uid
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(inst.sop_class_uid)
    meta.MediaStorageSOPInstanceUID = UID(inst.sop_instance_uid)
    meta.TransferSyntaxUID = ts
    ds.file_meta = meta
    key = (ts.is_implicit_VR, ts.is_little_endian, ts.is_deflated)
    ds.__dict__["_xdsi_stored"] = (data[dataset_offset(data) :], key, inst.path)
    return ds


def make_ae(ae_title: str, **kwargs: Any) -> AE:
    """A pynetdicom AE with TCP_NODELAY on its sockets (also for SCUs: :mod:`simulators.imaging_consumer`)."""
    enable_tcp_nodelay()
    enable_fast_store()
    ae = _AE(ae_title=ae_title)
    for name, value in kwargs.items():
        setattr(ae, name, value)
    return ae


# --------------------------------------------------------------------------------------------------- matching


@dataclass
class _Entity:
    """One candidate of a C-FIND / C-GET / C-MOVE: its attributes by keyword, its instances."""

    attrs: dict[str, str]
    instances: list[InstanceRecord] = field(default_factory=list)


_SKIP_KEYS = {"QueryRetrieveLevel", "SpecificCharacterSet", "RetrieveAETitle", "InstanceAvailability"}
_UNIQUE_KEY = {
    "PATIENT": "PatientID",
    "STUDY": "StudyInstanceUID",
    "SERIES": "SeriesInstanceUID",
    "IMAGE": "SOPInstanceUID",
}


class QueryError(Exception):
    def __init__(self, status: int, comment: str) -> None:
        super().__init__(comment)
        self.status = status
        self.comment = comment


def _vr(keyword: str) -> str:
    tag = tag_for_keyword(keyword)
    if tag is None:
        return "UN"
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return "UN"


def _element_text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace").strip()
    if type(value).__name__ == "MultiValue" or isinstance(value, list):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _matches(vr: str, query: str, value: str) -> bool:
    """PS3.4 C.2.2.2 matching of one attribute: universal, UID list, range, wildcard, single value."""
    if query in ("", "*"):
        return True
    values = value.split("\\") if value else [""]
    if vr == "UI":
        wanted = {q.strip() for q in query.split("\\")}
        return any(v in wanted for v in values)
    if vr in ("DA", "TM", "DT") and "-" in query:
        lo, _, hi = query.partition("-")
        lo, hi = _norm_time(vr, lo), _norm_time(vr, hi)
        return any(
            v and (not lo or _norm_time(vr, v) >= lo) and (not hi or _norm_time(vr, v)[: len(hi)] <= hi) for v in values
        )
    alternatives = query.split("\\") if vr not in ("PN",) else [query]
    for q in alternatives:
        q = q.strip() if vr not in ("PN",) else q
        if "*" in q or "?" in q:
            pattern = re.compile(fnmatch.translate(q).replace("(?s:", "(?si:" if vr == "PN" else "(?s:"))
            if any(pattern.match(v) for v in values):
                return True
        elif vr == "PN":
            if any(v.casefold().rstrip("^") == q.casefold().rstrip("^") for v in values):
                return True
        elif vr in ("DA", "TM", "DT"):
            if any(_norm_time(vr, v)[: len(_norm_time(vr, q))] == _norm_time(vr, q) for v in values):
                return True
        elif any(v == q for v in values):
            return True
    return False


def _norm_time(vr: str, value: str) -> str:
    value = value.strip()
    if vr == "TM":
        return value.replace(":", "")
    if vr == "DA":
        return value.replace(".", "")
    return value


class DicomSource:
    """The DIMSE service of the simulator: handlers bound to a pynetdicom AE, over one index."""

    def __init__(
        self,
        index: ImagingIndex,
        ae_title: str = DEFAULT_AET,
        *,
        move_destinations: Mapping[str, tuple[str, int]] | None = None,
        accepted_calling_aets: Collection[str] | None = None,
        require_called_aet: bool = False,
        max_pdu: int = DEFAULT_MAX_PDU,
        network_timeout: float = 60.0,
        dimse_timeout: float = 60.0,
        acse_timeout: float = 30.0,
        maximum_associations: int = 32,
        journal: Journal | None = None,
    ) -> None:
        self.index = index
        #: where each C-FIND, C-GET, C-MOVE and C-STORE received is recorded (as text: identifier, outcome)
        self.journal = journal
        self.ae_title = ae_title
        self.move_destinations = {k.strip(): v for k, v in (move_destinations or {}).items()}
        self.accepted_calling_aets = list(accepted_calling_aets) if accepted_calling_aets is not None else None
        self.require_called_aet = require_called_aet
        self.max_pdu = max_pdu
        self.network_timeout = network_timeout
        self.dimse_timeout = dimse_timeout
        self.acse_timeout = acse_timeout
        self.maximum_associations = maximum_associations

    # ----------------------------------------------------------------------------- the AE
    def build_ae(self) -> AE:
        ae = make_ae(
            self.ae_title,
            maximum_pdu_size=self.max_pdu,
            network_timeout=self.network_timeout,
            dimse_timeout=self.dimse_timeout,
            acse_timeout=self.acse_timeout,
            maximum_associations=self.maximum_associations,
            require_called_aet=self.require_called_aet,
        )
        if self.accepted_calling_aets is not None:
            ae.require_calling_aet = self.accepted_calling_aets
        ae.add_supported_context(Verification, PREFERRED_SYNTAXES[:2])
        for cx in QueryRetrievePresentationContexts:
            ae.add_supported_context(str(cx.abstract_syntax), PREFERRED_SYNTAXES[:2])
        for cx in StoragePresentationContexts:
            # scu_role/scp_role: accept the SCP role the C-GET requestor proposes for its storage contexts
            ae.add_supported_context(str(cx.abstract_syntax), PREFERRED_SYNTAXES, scu_role=True, scp_role=True)
        return ae

    def handlers(self) -> list[Any]:
        return [
            (evt.EVT_C_ECHO, self.on_echo),
            (evt.EVT_C_FIND, self.on_find),
            (evt.EVT_C_GET, self.on_get),
            (evt.EVT_C_MOVE, self.on_move),
            (evt.EVT_C_STORE, self.on_store),
        ]

    def start(
        self, host: str = "127.0.0.1", port: int = 11112, ssl_context: ssl.SSLContext | None = None
    ) -> DicomServer:
        """Start the AE's server in a thread (port 0: a free port); TLS with ``ssl_context``."""
        ae = self.build_ae()
        server = ae.start_server((host, port), block=False, evt_handlers=self.handlers(), ssl_context=ssl_context)
        return DicomServer(self, ae, server)

    # ----------------------------------------------------------------------------- handlers
    def on_echo(self, event: Any) -> int:
        return STATUS_SUCCESS

    def on_store(self, event: Any) -> int | Dataset:
        started = time.perf_counter()
        status = self._store(event)
        if self.journal is None:
            return status
        code = status if isinstance(status, int) else int(status.Status)
        comment = "" if isinstance(status, int) else str(status.get("ErrorComment", ""))
        try:
            what = f"{event.request.AffectedSOPClassUID} {event.request.AffectedSOPInstanceUID}"
        except Exception:
            what = "?"
        self._record(event, "C-STORE", None, f"C-STORE {what}", _status_text(code, comment), started)
        return status

    def _store(self, event: Any) -> int | Dataset:
        try:
            data = event.encoded_dataset(include_meta=True)
        except Exception as exc:
            return _status(STATUS_UNABLE_TO_PROCESS, f"cannot read the data set: {exc}")
        try:
            record = self.index.add_bytes(data)
        except NotDicomError as exc:
            return _status(STATUS_UNABLE_TO_PROCESS, f"cannot understand: {exc}")
        except IndexStoreError as exc:
            log.error("C-STORE: %s", exc)
            return _status(STATUS_OUT_OF_RESOURCES, f"cannot store: {exc}")
        except Exception as exc:  # a bug of ours: a failure status, never a crash
            log.exception("C-STORE: internal error")
            return _status(STATUS_OUT_OF_RESOURCES, f"internal error: {type(exc).__name__}")
        log.info("C-STORE from %s: %s stored", _calling(event), record.sop_instance_uid)
        return STATUS_SUCCESS

    def on_find(self, event: Any) -> Iterator[tuple[int | Dataset, Dataset | None]]:
        yield from self._journaled("C-FIND", event, self._find(event))

    def _find(self, event: Any) -> Iterator[tuple[int | Dataset, Dataset | None]]:
        try:
            ident = event.identifier
            level = _level(ident, event.request.AffectedSOPClassUID)
            entities = self._entities(level, ident)
        except QueryError as exc:
            yield _status(exc.status, exc.comment), None
            return
        except Exception as exc:
            log.exception("C-FIND: cannot process the identifier")
            yield _status(STATUS_UNABLE_TO_PROCESS, f"cannot process the identifier: {type(exc).__name__}: {exc}"), None
            return
        keys = [elem.keyword for elem in ident if elem.keyword]
        for entity in entities:
            if event.is_cancelled:
                yield STATUS_CANCEL, None
                return
            yield STATUS_PENDING, self._response_identifier(ident, keys, level, entity)

    def on_get(self, event: Any) -> Iterator[Any]:
        yield from self._journaled("C-GET", event, self._retrieve(event, move=False))

    def on_move(self, event: Any) -> Iterator[Any]:
        yield from self._journaled("C-MOVE", event, self._retrieve(event, move=True))

    # ----------------------------------------------------------------------------- journal
    def _journaled(self, op: str, event: Any, responses: Iterator[Any]) -> Iterator[Any]:
        """Pass a handler's responses through, then journal the request (its identifier) and what was answered:
        the final status, the matches (C-FIND) or C-STORE sub-operations offered (C-GET/C-MOVE)."""
        if self.journal is None:
            yield from responses
            return
        started = time.perf_counter()
        pending, final, comment = 0, None, ""
        offered: list[str] = []  # "SOP class UID SOP instance UID" of each C-STORE sub-operation (C-GET, C-MOVE)
        try:
            for item in responses:
                if isinstance(item, tuple) and len(item) == 2:
                    status = item[0]
                    if status is None:  # C-MOVE destination unknown: pynetdicom answers 0xA801
                        final = STATUS_MOVE_DESTINATION_UNKNOWN
                    else:
                        code = status if isinstance(status, int) else int(status.Status)
                        if code in (STATUS_PENDING, STATUS_PENDING_WARNING):
                            pending += 1
                            if op != "C-FIND" and isinstance(item[1], Dataset):
                                offered.append(f"{item[1].get('SOPClassUID', '')} {item[1].get('SOPInstanceUID', '')}")
                        else:
                            final = code
                            comment = "" if isinstance(status, int) else str(status.get("ErrorComment", ""))
                yield item
        finally:
            with contextlib.suppress(Exception):
                ident = identifier_text(event.identifier)
                if op == "C-MOVE":
                    ident = f"Move Destination: {(event.move_destination or '').strip()}\n{ident}"
                done = STATUS_SUCCESS if final is None else final
                count = f"{pending} match(es)" if op == "C-FIND" else f"{pending} C-STORE sub-operation(s) offered"
                flux = None if op == "C-FIND" else "flux9"
                answer = "\n".join([_status_text(done, comment), count, *offered])
                self._record(event, op, flux, f"{op}\n{ident}", answer, started)

    def _record(self, event: Any, op: str, flux: str | None, request: str, response: str, started: float) -> None:
        if self.journal is None:
            return
        try:
            called = event.assoc.acceptor.ae_title
        except Exception:
            called = self.ae_title
        exchange = Exchange(
            transaction=op,
            direction="received",
            actor="imaging_source",
            peer=_calling(event),
            endpoint=f"DIMSE {called}",
            request_flux=flux,
            response_flux="flux10" if flux else None,
            request=request.encode("utf-8"),
            request_content_type=TEXT,
            response=response.encode("utf-8"),
            response_content_type=TEXT,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        try:
            self.journal.record(exchange)
        except Exception:  # the journal never breaks an answer
            log.exception("cannot write the %s exchange to the journal", op)

    # ----------------------------------------------------------------------------- retrieve
    def _retrieve(self, event: Any, move: bool) -> Iterator[Any]:
        op = "C-MOVE" if move else "C-GET"
        instances: list[InstanceRecord] = []
        missing: list[str] = []
        error: tuple[int, str] | None = None
        try:
            ident = event.identifier
            level = _level(ident, event.request.AffectedSOPClassUID)
            instances, missing = self._resolve(level, ident)
        except QueryError as exc:
            error = (exc.status, exc.comment)
        except Exception as exc:
            log.exception("%s: cannot process the identifier", op)
            error = (STATUS_UNABLE_TO_PROCESS, f"cannot process the identifier: {type(exc).__name__}: {exc}")

        if move:
            destination = (event.move_destination or "").strip()
            address = self.move_destinations.get(destination)
            if address is None:
                log.warning("C-MOVE from %s to unknown destination %r", _calling(event), destination)
                yield None, None  # pynetdicom answers 0xA801 Move Destination unknown
                return
            if error is None:
                yield (
                    address[0],
                    address[1],
                    {
                        "contexts": _contexts_for(instances),
                        "max_pdu": self.max_pdu,
                        "evt_handlers": [(evt.EVT_ESTABLISHED, lambda ev: _fast_loop(ev.assoc))],
                    },
                )
            else:
                yield address[0], address[1]

        if error is not None:
            yield 1
            yield _status(*error), None
            return
        if not instances:
            yield 1
            comment = f"no instance matches: unknown {', '.join(missing) or 'UIDs'}"[:1024]
            yield _status(STATUS_UNABLE_TO_PROCESS, comment), _failed(missing)
            return

        yield len(instances) + len(missing)
        _fast_loop(event.assoc)
        for inst in instances:
            if event.is_cancelled:
                yield STATUS_CANCEL, _failed([i.sop_instance_uid for i in instances])
                return
            try:
                ds = stored_dataset(inst)
            except Exception as exc:
                log.error("%s: cannot read %s: %s", op, inst.path, exc)
                missing.append(inst.sop_instance_uid)
                continue
            yield STATUS_PENDING, ds
        if missing:
            yield _status(STATUS_WARNING, f"unknown or unreadable: {', '.join(missing)}"[:1024]), _failed(missing)

    def _resolve(self, level: str, ident: Dataset) -> tuple[list[InstanceRecord], list[str]]:
        """The instances a C-GET/C-MOVE identifier designates, and the requested UIDs that match nothing."""

        def uids(keyword: str, required: bool) -> list[str]:
            text = _element_text(ident, keyword)
            values = [v.strip() for v in text.split("\\") if v.strip()]
            if required and not values:
                raise QueryError(STATUS_IDENTIFIER_MISMATCH, f"{level} level retrieve without {keyword}")
            return values

        if level == "PATIENT":
            ids = uids("PatientID", True)
            studies = [s for s in self.index.studies() if s.patient_id in ids]
            found = {s.patient_id for s in studies}
            insts = self.index.instances(study_uids=[s.study_instance_uid for s in studies]) if studies else []
            return insts, [i for i in ids if i not in found]
        if level == "STUDY":
            wanted = uids("StudyInstanceUID", True)
            insts = self.index.instances(study_uids=wanted)
            found = {i.study_instance_uid for i in insts}
            return insts, [u for u in wanted if u not in found]
        if level == "SERIES":
            wanted = uids("SeriesInstanceUID", True)
            in_studies = uids("StudyInstanceUID", False)
            insts = self.index.instances(study_uids=in_studies or None, series_uids=wanted)
            found = {i.series_instance_uid for i in insts}
            return insts, [u for u in wanted if u not in found]
        wanted = uids("SOPInstanceUID", True)
        insts = self.index.instances(
            study_uids=uids("StudyInstanceUID", False) or None,
            series_uids=uids("SeriesInstanceUID", False) or None,
            sop_uids=wanted,
        )
        found = {i.sop_instance_uid for i in insts}
        return insts, [u for u in wanted if u not in found]

    # ----------------------------------------------------------------------------- find
    def _entities(self, level: str, ident: Dataset) -> list[_Entity]:
        """The entities of ``level`` matching every key of the identifier (relational matching on the keys of
        the levels above)."""
        query = {
            elem.keyword: (elem.VR, _element_text(ident, elem.keyword))
            for elem in ident
            if elem.keyword and elem.keyword not in _SKIP_KEYS and elem.VR != "SQ"
        }

        def uid_filter(keyword: str) -> list[str] | None:
            vr_value = query.get(keyword)
            if vr_value is None or not vr_value[1] or "*" in vr_value[1] or "?" in vr_value[1]:
                return None
            return [v.strip() for v in vr_value[1].split("\\") if v.strip()]

        study_filter = uid_filter("StudyInstanceUID")
        series_filter = uid_filter("SeriesInstanceUID")
        sop_filter = uid_filter("SOPInstanceUID")
        studies = self.index.studies(study_filter)
        if not studies:
            return []
        study_uids = [s.study_instance_uid for s in studies]
        instances = self.index.instances(study_uids=study_uids, series_uids=series_filter, sop_uids=sop_filter)
        series = self.index.series(study_uids=study_uids, series_uids=series_filter)
        series_by_uid = {s.series_instance_uid: s for s in series}
        inst_by_series: dict[str, list[InstanceRecord]] = {}
        for inst in instances:
            inst_by_series.setdefault(inst.series_instance_uid, []).append(inst)
        series_by_study: dict[str, list[SeriesRecord]] = {}
        for s in series:
            series_by_study.setdefault(s.study_instance_uid, []).append(s)

        def study_attrs(st: StudyRecord) -> dict[str, str]:
            its_series = series_by_study.get(st.study_instance_uid, [])
            n_inst = sum(len(inst_by_series.get(s.series_instance_uid, [])) for s in its_series)
            modalities = sorted({s.modality for s in its_series if s.modality})
            sop_classes = sorted(
                {i.sop_class_uid for s in its_series for i in inst_by_series.get(s.series_instance_uid, [])}
            )
            attrs = {_kw(k): getattr(st, k) for k in _STUDY_FIELDS}
            attrs.update(
                ModalitiesInStudy="\\".join(modalities),
                SOPClassesInStudy="\\".join(sop_classes),
                NumberOfStudyRelatedSeries=str(len(its_series)),
                NumberOfStudyRelatedInstances=str(n_inst),
            )
            return attrs

        out: list[_Entity] = []
        if level == "PATIENT":
            by_patient: dict[str, list[StudyRecord]] = {}
            for st in studies:
                by_patient.setdefault(st.patient_id, []).append(st)
            for pid, sts in by_patient.items():
                first = sts[0]
                attrs = {
                    "PatientID": pid,
                    "IssuerOfPatientID": first.issuer_of_patient_id,
                    "PatientName": first.patient_name,
                    "PatientBirthDate": first.patient_birth_date,
                    "PatientSex": first.patient_sex,
                    "NumberOfPatientRelatedStudies": str(len(sts)),
                    "NumberOfPatientRelatedSeries": str(
                        sum(len(series_by_study.get(s.study_instance_uid, [])) for s in sts)
                    ),
                    "NumberOfPatientRelatedInstances": str(
                        sum(
                            len(inst_by_series.get(se.series_instance_uid, []))
                            for s in sts
                            for se in series_by_study.get(s.study_instance_uid, [])
                        )
                    ),
                }
                out.append(_Entity(attrs))
        elif level == "STUDY":
            out = [_Entity(study_attrs(st)) for st in studies]
        elif level == "SERIES":
            study_by_uid = {st.study_instance_uid: study_attrs(st) for st in studies}
            for s in series:
                attrs = dict(study_by_uid[s.study_instance_uid])
                attrs.update({_kw(k): getattr(s, k) for k in _SERIES_FIELDS})
                attrs["NumberOfSeriesRelatedInstances"] = str(len(inst_by_series.get(s.series_instance_uid, [])))
                out.append(_Entity(attrs))
        else:
            study_by_uid = {st.study_instance_uid: study_attrs(st) for st in studies}
            for inst in instances:
                se = series_by_uid.get(inst.series_instance_uid)
                attrs = dict(study_by_uid.get(inst.study_instance_uid, {}))
                if se is not None:
                    attrs.update({_kw(k): getattr(se, k) for k in _SERIES_FIELDS})
                attrs.update(
                    SOPInstanceUID=inst.sop_instance_uid,
                    SOPClassUID=inst.sop_class_uid,
                    InstanceNumber=inst.instance_number,
                    AvailableTransferSyntaxUID=inst.transfer_syntax_uid,
                )
                out.append(_Entity(attrs, [inst]))
        # keys the index does not hold are not constraints (returned empty)
        return [e for e in out if all(_matches(vr, q, e.attrs[kw]) for kw, (vr, q) in query.items() if kw in e.attrs)]

    def _response_identifier(self, ident: Dataset, keys: Sequence[str], level: str, entity: _Entity) -> Dataset:
        ds = Dataset()
        non_ascii = False
        for keyword in keys:
            if keyword == "QueryRetrieveLevel":
                continue
            if keyword == "SpecificCharacterSet":
                continue
            if keyword == "RetrieveAETitle":
                ds.RetrieveAETitle = self.ae_title
                continue
            if keyword == "InstanceAvailability":
                ds.InstanceAvailability = "ONLINE"
                continue
            vr = _vr(keyword)
            if vr == "SQ":
                setattr(ds, keyword, [])
                continue
            value = entity.attrs.get(keyword, "")
            if value and not value.isascii():
                non_ascii = True
            try:
                setattr(ds, keyword, value if value else None)
            except Exception:  # a value that does not fit the VR: send it empty rather than fail the query
                setattr(ds, keyword, None)
        ds.QueryRetrieveLevel = level
        if non_ascii:
            ds.SpecificCharacterSet = "ISO_IR 192"
        return ds


@dataclass
class DicomServer:
    """A running DICOM server (:meth:`DicomSource.start`)."""

    source: DicomSource
    ae: AE
    server: Any

    @property
    def host(self) -> str:
        return str(self.server.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def ae_title(self) -> str:
        return self.source.ae_title

    def stop(self) -> None:
        try:
            self.server.shutdown()
        finally:
            self.ae.shutdown()


# --------------------------------------------------------------------------------------------------- helpers

_STUDY_FIELDS = (
    "study_instance_uid",
    "patient_id",
    "issuer_of_patient_id",
    "patient_name",
    "patient_birth_date",
    "patient_sex",
    "study_date",
    "study_time",
    "accession_number",
    "study_id",
    "study_description",
    "referring_physician_name",
)
_SERIES_FIELDS = (
    "series_instance_uid",
    "modality",
    "series_number",
    "series_description",
    "body_part_examined",
    "series_date",
    "series_time",
)
_KEYWORDS = {
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
    "series_instance_uid": "SeriesInstanceUID",
    "modality": "Modality",
    "series_number": "SeriesNumber",
    "series_description": "SeriesDescription",
    "body_part_examined": "BodyPartExamined",
    "series_date": "SeriesDate",
    "series_time": "SeriesTime",
}


def _kw(field_name: str) -> str:
    return _KEYWORDS[field_name]


def _level(ident: Dataset, sop_class: UID | str) -> str:
    level = _element_text(ident, "QueryRetrieveLevel").upper()
    if level not in LEVELS:
        raise QueryError(STATUS_IDENTIFIER_MISMATCH, f"QueryRetrieveLevel {level!r} is not one of {', '.join(LEVELS)}")
    if level == "PATIENT" and str(sop_class) not in PATIENT_ROOT:
        raise QueryError(STATUS_IDENTIFIER_MISMATCH, "QueryRetrieveLevel PATIENT needs the Patient Root model")
    return level


def _status(status: int, comment: str | None = None) -> Dataset:
    ds = Dataset()
    ds.Status = status
    if comment:
        ds.ErrorComment = comment[:64]  # LO
    return ds


def _failed(uids: Sequence[str]) -> Dataset:
    ds = Dataset()
    ds.FailedSOPInstanceUIDList = list(uids) if uids else ""
    return ds


def _contexts_for(instances: Sequence[InstanceRecord]) -> list[Any]:
    """Presentation contexts for a C-MOVE sub-association: one per SOP class (at most 128), proposing the
    stored transfer syntaxes and the uncompressed ones pydicom can convert to."""
    by_class: dict[str, list[str]] = {}
    for inst in instances:
        syntaxes = by_class.setdefault(inst.sop_class_uid, [])
        if inst.transfer_syntax_uid not in syntaxes:
            syntaxes.append(inst.transfer_syntax_uid)
    contexts = []
    for sop_class, syntaxes in list(by_class.items())[:128]:
        for ts in UNCOMPRESSED[:2]:
            if ts not in syntaxes:
                syntaxes.append(ts)
        contexts.append(build_context(sop_class, syntaxes))
    # nothing to send (a failure status follows): propose what any storage SCP accepts, so that the
    # sub-association succeeds and the requestor gets our status rather than "destination unknown"
    return contexts or [build_context(Verification), build_context(SECONDARY_CAPTURE, list(UNCOMPRESSED[:2]))]


def _fast_loop(assoc: Any) -> None:
    """Shorten the DUL reactor's idle sleep of an association that is about to stream instances."""
    with contextlib.suppress(AttributeError):
        assoc.dul._run_loop_delay = BUSY_LOOP_DELAY


def _calling(event: Any) -> str:
    try:
        req = event.assoc.requestor
        return f"{req.ae_title}@{req.address}:{req.port}"
    except Exception:
        return "?"


def parse_move_destination(text: str) -> tuple[str, tuple[str, int]]:
    """``AET=HOST:PORT`` (``[::1]:PORT`` for IPv6) → ``("AET", ("HOST", PORT))``; raises ValueError."""
    aet, sep, address = text.partition("=")
    aet = aet.strip()
    if not sep or not aet or len(aet) > 16:
        raise ValueError(f"--move-destination {text!r}: expected AET=HOST:PORT (AE title of 1-16 characters)")
    host, sep, port = address.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--move-destination {text!r}: expected AET=HOST:PORT")
    return aet, (host, int(port))


def identifier_text(ds: Dataset) -> str:
    """A DIMSE identifier as lines ``(gggg,eeee) Keyword VR: value`` (sequences by their item count)."""
    lines = []
    for elem in ds:
        value = f"{len(elem.value)} item(s)" if elem.VR == "SQ" else str(elem.value)
        lines.append(f"{elem.tag} {elem.keyword or '(private)'} {elem.VR}: {value}"[:512])
    return "\n".join(lines)


def _status_text(code: int, comment: str = "") -> str:
    return f"status 0x{code:04X}" + (f": {comment}" if comment else "")


def decode_bytes(data: bytes) -> Dataset:
    return dcmread(BytesIO(data))
