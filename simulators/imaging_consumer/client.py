"""Retrieve the images a KOS references, by each method the KOS offers, and check what arrived.

    kos = parse_kos(Path("kos.dcm"))
    result = retrieve_rad69("http://127.0.0.1:8081/rad69", kos)        # Flux 9 → 10 (MTOM)
    result = retrieve_cget("127.0.0.1", 11112, "XDSI_SOURCE", kos)      # DICOM C-GET
    result = retrieve_cmove("127.0.0.1", 11112, "XDSI_SOURCE", kos,      # DICOM C-MOVE to a storage SCP of ours
                            move_destination="XDSI_CONSUMER", store_port=11113)
    result = retrieve_wado("http://127.0.0.1:8081/dicomweb", kos)       # WADO-RS (RAD-107)
    result.datasets, result.findings, result.errors, result.mb_per_s

Every function returns a :class:`RetrieveResult`: the datasets received, the findings of
:func:`xdsi.validation.kos.check_retrieved` (every instance of the KOS received, nothing else, no duplicate),
for RAD-69 also the findings of validating our request (Flux 9) and the response (Flux 10), and the protocol
errors (SOAP fault, RegistryErrors, DIMSE failure statuses, HTTP errors) as text. They never raise for what a
peer answers; they raise ``ValueError`` for a KOS they cannot use (no series, no address for the method).

With no address given, each method takes it from the KOS: Retrieve AE Title (0008,0054) for C-GET/C-MOVE (the
host and port still have to be given), Retrieve Location UID (0040,E011) as the RAD-69 repositoryUniqueId,
Retrieve URL (0008,1190) of each series for WADO-RS.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import requests
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pynetdicom import build_context, build_role, evt
from pynetdicom.presentation import StoragePresentationContexts

from simulators.imaging_source.dimse import DEFAULT_MAX_PDU, _fast_loop, make_ae
from xdsi.dicom.kos import KosInfo, ReferencedSeries, kos_info_from_dataset, parse_kos
from xdsi.journal import Exchange, Journal
from xdsi.messages import mtom, rad69
from xdsi.messages.capture import read_message
from xdsi.messages.iti43 import decode_response
from xdsi.messages.soap import new_message_id
from xdsi.messages.wire import to_wire
from xdsi.messages.xmlsafe import InputError
from xdsi.model.retrieve import DocumentRequest, ImagingRetrieveRequest, SeriesRequest, StudyRequest
from xdsi.validation.findings import Finding
from xdsi.validation.kos import check_retrieved
from xdsi.validation.pipeline import validate_message

EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LE = "1.2.840.10008.1.2"
DEFAULT_CALLING_AET = "XDSI_CONSUMER"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
STUDY_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
VERIFICATION = "1.2.840.10008.1.1"
#: what our storage contexts propose, best first
STORE_SYNTAXES = [EXPLICIT_VR_LE, IMPLICIT_VR_LE]
KosLike = KosInfo | Dataset | bytes | str | Path


@dataclass
class RetrieveResult:
    """What one retrieve brought back and what is wrong with it."""

    method: str  # "RAD-69", "C-GET", "C-MOVE", "WADO-RS"
    datasets: list[Dataset] = field(default_factory=list)
    #: check_retrieved findings, then (RAD-69) those of our request and of the response
    findings: list[Finding] = field(default_factory=list)
    #: protocol-level errors: SOAP Fault, RegistryError, DIMSE failure/warning status, HTTP error
    errors: list[str] = field(default_factory=list)
    #: RAD-69 RegistryResponse status, DIMSE final status (0x....), HTTP status
    status: str = ""
    bytes_received: int = 0
    seconds: float = 0.0
    request_findings: list[Finding] = field(default_factory=list)
    response_findings: list[Finding] = field(default_factory=list)

    @property
    def received(self) -> list[tuple[str, str]]:
        return [(str(ds.get("SOPClassUID", "")), str(ds.get("SOPInstanceUID", ""))) for ds in self.datasets]

    @property
    def ok(self) -> bool:
        return not self.errors and not any(f.severity == "error" for f in self.findings)

    @property
    def mb_per_s(self) -> float:
        return self.bytes_received / 1e6 / self.seconds if self.seconds > 0 else 0.0


def as_kos(kos: KosLike) -> KosInfo:
    """A KOS given as parsed info, a pydicom dataset, Part 10 bytes or a path."""
    if isinstance(kos, KosInfo):
        return kos
    if isinstance(kos, Dataset):
        return kos_info_from_dataset(kos)
    if isinstance(kos, str):
        kos = Path(kos)
    return parse_kos(kos)


def _series_of(kos: KosInfo) -> list[ReferencedSeries]:
    series = [s for s in kos.referenced if s.instances]
    if not series:
        raise ValueError("the KOS references no instance")
    return series


def _study_of(kos: KosInfo, s: ReferencedSeries) -> str:
    return s.study_instance_uid or kos.study_instance_uid


def _finish(result: RetrieveResult, kos: KosInfo, started: float) -> RetrieveResult:
    result.seconds = time.perf_counter() - started
    result.findings = check_retrieved(kos, result.received) + result.request_findings + result.response_findings
    return result


# --------------------------------------------------------------------------------------------------- RAD-69


def build_rad69_request(
    kos: KosLike,
    transfer_syntaxes: Sequence[str] = (EXPLICIT_VR_LE, IMPLICIT_VR_LE),
    repository_unique_id: str | None = None,
    home_community_id: str | None = None,
) -> ImagingRetrieveRequest:
    """The RAD-69 request for every instance of the KOS (repositoryUniqueId: the series' Retrieve Location UID
    unless given)."""
    info = as_kos(kos)
    studies: dict[str, StudyRequest] = {}
    for s in _series_of(info):
        repo = repository_unique_id or s.retrieve_location_uid or ""
        if not repo:
            raise ValueError(
                f"series {s.series_instance_uid} of the KOS has no Retrieve Location UID: give repository_unique_id"
            )
        study_uid = _study_of(info, s)
        st = studies.setdefault(study_uid, StudyRequest(study_uid))
        docs = [DocumentRequest(repo, inst, home_community_id) for _cls, inst in s.instances]
        st.series.append(SeriesRequest(s.series_instance_uid, docs))
    return ImagingRetrieveRequest(list(studies.values()), list(transfer_syntaxes))


def retrieve_rad69(
    url: str,
    kos: KosLike,
    *,
    transfer_syntaxes: Sequence[str] = (EXPLICIT_VR_LE, IMPLICIT_VR_LE),
    repository_unique_id: str | None = None,
    home_community_id: str | None = None,
    timeout: float = 300.0,
    profile: str = "cisis",
    session: requests.Session | None = None,
    journal: Journal | None = None,
    verify: bool | str = True,
    cert: str | tuple[str, str] | None = None,
) -> RetrieveResult:
    """RAD-69 Retrieve Imaging Document Set of every instance of the KOS, validated both ways."""
    info = as_kos(kos)
    request = build_rad69_request(info, transfer_syntaxes, repository_unique_id, home_community_id)
    wire = to_wire(rad69.encode_request(request), rad69.ACTION, message_id=new_message_id(), to=url)
    result = RetrieveResult("RAD-69")
    started = time.perf_counter()
    try:
        sent = read_message(wire.body, wire.content_type)
        result.request_findings = validate_message(sent, "flux9", profile).findings
    except InputError as exc:  # pragma: no cover - a bug of ours
        result.errors.append(f"our request is unreadable: {exc}")
    ex = Exchange(
        actor="imaging_consumer",
        direction="sent",
        peer=url,
        endpoint=url,
        transaction="RAD-69",
        request_flux="flux9",
        response_flux="flux10",
        request=wire.body,
        request_content_type=wire.content_type,
        request_action=rad69.ACTION,
        request_findings=result.request_findings,
    )
    http = session or requests
    try:
        resp = http.post(
            url, data=wire.body, headers={"Content-Type": wire.content_type}, timeout=timeout, verify=verify, cert=cert
        )
    except requests.RequestException as exc:
        result.errors.append(f"RAD-69 POST {url}: {exc}")
        ex.error = str(exc)
        _record(journal, ex)
        return _finish(result, info, started)
    body = resp.content
    content_type = resp.headers.get("content-type")
    result.status = str(resp.status_code)
    result.bytes_received = len(body)
    ex.http_status = resp.status_code
    ex.response = body
    ex.response_content_type = content_type
    try:
        raw = read_message(body, content_type, max_bytes=max(len(body) + 1, mtom.MAX_MESSAGE_BYTES))
    except InputError as exc:
        result.errors.append(f"RAD-69 response (HTTP {resp.status_code}) is unreadable: {exc}")
        ex.error = str(exc)
        _record(journal, ex)
        return _finish(result, info, started)
    env = raw.envelope
    if env is not None and env.fault is not None:
        result.errors.append(f"SOAP Fault {env.fault.code}: {env.fault.reason} (HTTP {resp.status_code})")
        ex.error = result.errors[-1]
        _record(journal, ex)
        return _finish(result, info, started)
    ex.response_action = raw.soap_action
    validation = validate_message(raw, "flux10", profile)
    result.response_findings = validation.findings
    ex.response_findings = validation.findings
    if validation.error:
        result.errors.append(f"RAD-69 response: {validation.error}")
    if raw.body is None:
        result.errors.append("RAD-69 response: empty SOAP Body")
        _record(journal, ex)
        return _finish(result, info, started)
    response = decode_response(raw.body, raw.attachments)
    result.status = response.response.status.rsplit(":", 1)[-1]
    for err in response.response.errors:
        result.errors.append(f"{err.code}: {err.context}" + (f" [{err.location}]" if err.location else ""))
    for doc in response.documents:
        try:
            result.datasets.append(dcmread(BytesIO(doc.content)))
        except Exception as exc:
            result.errors.append(f"document {doc.document_unique_id}: not readable DICOM ({exc})")
    _record(journal, ex)
    return _finish(result, info, started)


def record_retrieve(journal: Journal | None, result: RetrieveResult, kos: KosLike, peer: str) -> None:
    """Journal a C-GET, C-MOVE or WADO-RS retrieve as one exchange our imaging consumer sent (RAD-69 journals its
    SOAP messages itself): what was asked (the KOS's series and instances) and what came back (status, instances
    received, errors), as text."""
    info = as_kos(kos)
    asked = [f"{result.method} of the {len(info.instances)} instance(s) of KOS {info.sop_instance_uid}"]
    asked += [f"series {se.series_instance_uid}: {len(se.instances)} instance(s)" for se in info.referenced]
    got = [
        f"status {result.status or '-'}",
        f"{len(result.datasets)} instance(s) received, {result.bytes_received} bytes",
    ]
    got += [f"error: {e}" for e in result.errors]
    _record(
        journal,
        Exchange(
            actor="imaging_consumer",
            direction="sent",
            peer=peer,
            endpoint=peer,
            transaction=result.method,
            request_flux="flux9",
            response_flux="flux10",
            request="\n".join(asked).encode("utf-8"),
            request_content_type="text/plain; charset=utf-8",
            response="\n".join(got).encode("utf-8"),
            response_content_type="text/plain; charset=utf-8",
            error="; ".join(result.errors)[:2000] or None,
            duration_ms=round(result.seconds * 1000, 3),
        ),
    )


def _record(journal: Journal | None, ex: Exchange) -> None:
    if journal is not None:
        with contextlib.suppress(Exception):  # the journal never breaks a retrieve
            journal.record(ex)


# --------------------------------------------------------------------------------------------------- DIMSE


def _storage_contexts(sop_classes: Iterable[str], limit: int = 127) -> list[Any]:
    classes = list(dict.fromkeys(c for c in sop_classes if c))[:limit]
    return [build_context(c, STORE_SYNTAXES) for c in classes]


def _identifier(level: str, study: str, s: ReferencedSeries) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    ds.StudyInstanceUID = study
    if level in ("SERIES", "IMAGE"):
        ds.SeriesInstanceUID = s.series_instance_uid
    if level == "IMAGE":
        ds.SOPInstanceUID = [inst for _cls, inst in s.instances]
    return ds


def _groups(kos: KosInfo, level: str) -> list[tuple[str, ReferencedSeries]]:
    """One retrieve per series (SERIES, IMAGE) or per study (STUDY)."""
    if level not in ("STUDY", "SERIES", "IMAGE"):
        raise ValueError(f"level must be STUDY, SERIES or IMAGE, not {level!r}")
    groups = [(_study_of(kos, s), s) for s in _series_of(kos)]
    if level == "STUDY":
        seen: dict[str, tuple[str, ReferencedSeries]] = {}
        for study, s in groups:
            seen.setdefault(study, (study, s))
        return list(seen.values())
    return groups


def _aet_of(kos: KosInfo, aet: str | None) -> str:
    if aet:
        return aet
    for s in kos.referenced:
        if s.retrieve_ae_title:
            return s.retrieve_ae_title
    raise ValueError("the KOS has no Retrieve AE Title: give the called AE title")


def _status_text(status: Dataset | None, op: str) -> tuple[int | None, str | None]:
    """(status code, error text or None) of a DIMSE response."""
    if status is None or "Status" not in status:
        return None, f"{op}: no response (association aborted or timed out)"
    code = int(status.Status)
    if code in (0x0000, 0xFF00, 0xFF01):
        return code, None
    comment = str(status.get("ErrorComment", "") or "")
    failed = status.get("NumberOfFailedSuboperations")
    extra = f", {failed} failed sub-operation(s)" if failed else ""
    return code, f"{op} status 0x{code:04X}{extra}" + (f": {comment}" if comment else "")


def retrieve_cget(
    host: str,
    port: int,
    aet: str | None,
    kos: KosLike,
    *,
    calling_aet: str = DEFAULT_CALLING_AET,
    level: str = "SERIES",
    max_pdu: int = DEFAULT_MAX_PDU,
    timeout: float = 60.0,
    tls_args: tuple[Any, str] | None = None,
) -> RetrieveResult:
    """C-GET (Study Root) of the KOS's series (``level`` SERIES, IMAGE with the SOP Instance UIDs, or STUDY),
    the instances coming back on the same association."""
    info = as_kos(kos)
    called = _aet_of(info, aet)
    result = RetrieveResult("C-GET")
    received: list[Dataset] = []
    lock = threading.Lock()

    def on_store(event: Any) -> int:
        try:
            ds = event.dataset
            ds.file_meta = event.file_meta
        except Exception:
            return 0xC210  # cannot understand
        with lock:
            received.append(ds)
            result.bytes_received += len(event.request.DataSet.getbuffer())
        return 0x0000

    ae = make_ae(
        calling_aet, acse_timeout=timeout, dimse_timeout=timeout, network_timeout=timeout, maximum_pdu_size=max_pdu
    )
    ae.add_requested_context(STUDY_ROOT_GET)
    classes = info.sop_classes
    for cx in _storage_contexts(classes):
        ae.add_requested_context(cx.abstract_syntax, cx.transfer_syntax)
    roles: list[Any] = [build_role(c, scp_role=True) for c in list(dict.fromkeys(classes))[:127]]
    started = time.perf_counter()
    assoc = ae.associate(
        host,
        port,
        ae_title=called,
        ext_neg=roles,
        evt_handlers=[(evt.EVT_C_STORE, on_store)],
        max_pdu=max_pdu,
        tls_args=tls_args,
    )
    if not assoc.is_established:
        result.errors.append(_refused(assoc, host, port, called))
        result.status = "association refused"
        return _finish(result, info, started)
    _fast_loop(assoc)
    try:
        for study, s in _groups(info, level):
            last: Dataset | None = None
            for status, _ident in assoc.send_c_get(_identifier(level, study, s), STUDY_ROOT_GET):
                last = status if status is not None else last
                if status is None:
                    break
            code, error = _status_text(last, f"C-GET of {_what(level, study, s)}")
            _set_status(result, code)
            if error:
                result.errors.append(error)
            if not assoc.is_established:
                break
    finally:
        if assoc.is_established:
            assoc.release()
    result.datasets = received
    return _finish(result, info, started)


def _set_status(result: RetrieveResult, code: int | None) -> None:
    """The status of the last retrieve, unless an earlier one was not a success (that one is kept)."""
    if result.status in ("", "0x0000"):
        result.status = f"0x{code:04X}" if code is not None else "no response"


def _what(level: str, study: str, s: ReferencedSeries) -> str:
    return f"study {study}" if level == "STUDY" else f"series {s.series_instance_uid}"


def _refused(assoc: Any, host: str, port: int, called: str) -> str:
    if assoc.is_rejected:
        rsp = assoc.acceptor.primitive
        reason = getattr(rsp, "reason_str", "") if rsp is not None else ""
        return f"association to {called}@{host}:{port} rejected" + (f": {reason}" if reason else "")
    if assoc.is_aborted:
        return f"association to {called}@{host}:{port} aborted"
    return f"no association with {called}@{host}:{port} (connection refused or timed out)"


class StorageScp:
    """A storage SCP of ours on ``host:port`` (127.0.0.1 by default): the C-MOVE destination."""

    def __init__(
        self,
        ae_title: str = DEFAULT_CALLING_AET,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_pdu: int = DEFAULT_MAX_PDU,
        timeout: float = 60.0,
    ) -> None:
        self.ae_title = ae_title
        self.host = host
        self.requested_port = port
        self.max_pdu = max_pdu
        self.timeout = timeout
        self.received: list[Dataset] = []
        self.bytes_received = 0
        self._lock = threading.Lock()
        self._server: Any = None
        self._ae: Any = None

    def _on_store(self, event: Any) -> int:
        try:
            ds = event.dataset
            ds.file_meta = event.file_meta
        except Exception:
            return 0xC210
        with self._lock:
            self.received.append(ds)
            self.bytes_received += len(event.request.DataSet.getbuffer())
        return 0x0000

    def _on_open(self, event: Any) -> None:
        _fast_loop(event.assoc)

    def start(self) -> StorageScp:
        ae = make_ae(
            self.ae_title,
            maximum_pdu_size=self.max_pdu,
            network_timeout=self.timeout,
            dimse_timeout=self.timeout,
            acse_timeout=self.timeout,
        )
        ae.add_supported_context(VERIFICATION, STORE_SYNTAXES)
        for cx in StoragePresentationContexts:
            ae.add_supported_context(str(cx.abstract_syntax), [*STORE_SYNTAXES, *_OTHER_SYNTAXES])
        self._ae = ae
        self._server = ae.start_server(
            (self.host, self.requested_port),
            block=False,
            evt_handlers=[(evt.EVT_C_STORE, self._on_store), (evt.EVT_ESTABLISHED, self._on_open)],
        )
        return self

    @property
    def port(self) -> int:
        return int(self._server.server_address[1]) if self._server is not None else self.requested_port

    def take(self) -> tuple[list[Dataset], int]:
        """The datasets received since the last call, and their size."""
        with self._lock:
            out, size = self.received, self.bytes_received
            self.received, self.bytes_received = [], 0
        return out, size

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._ae is not None:
            self._ae.shutdown()
            self._ae = None

    def __enter__(self) -> StorageScp:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_OTHER_SYNTAXES = [
    "1.2.840.10008.1.2.1.99",  # deflated
    "1.2.840.10008.1.2.2",  # explicit big endian
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.81",
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.5",
]


def retrieve_cmove(
    host: str,
    port: int,
    aet: str | None,
    kos: KosLike,
    *,
    calling_aet: str = DEFAULT_CALLING_AET,
    move_destination: str | None = None,
    store_scp: StorageScp | None = None,
    store_host: str = "127.0.0.1",
    store_port: int = 0,
    level: str = "SERIES",
    max_pdu: int = DEFAULT_MAX_PDU,
    timeout: float = 60.0,
    tls_args: tuple[Any, str] | None = None,
) -> RetrieveResult:
    """C-MOVE (Study Root) of the KOS's series to ``move_destination`` (default: ``calling_aet``), received by a
    storage SCP of ours: ``store_scp`` if given (kept running), else one started on ``store_host:store_port``
    for the call. The peer must know the destination AE title at that address."""
    info = as_kos(kos)
    called = _aet_of(info, aet)
    destination = move_destination or (store_scp.ae_title if store_scp is not None else calling_aet)
    result = RetrieveResult("C-MOVE")
    own = store_scp is None
    scp = store_scp or StorageScp(destination, store_host, store_port, max_pdu=max_pdu, timeout=timeout).start()
    scp.take()
    started = time.perf_counter()
    try:
        ae = make_ae(
            calling_aet, acse_timeout=timeout, dimse_timeout=timeout, network_timeout=timeout, maximum_pdu_size=max_pdu
        )
        ae.add_requested_context(STUDY_ROOT_MOVE)
        assoc = ae.associate(host, port, ae_title=called, max_pdu=max_pdu, tls_args=tls_args)
        if not assoc.is_established:
            result.errors.append(_refused(assoc, host, port, called))
            result.status = "association refused"
            return _finish(result, info, started)
        try:
            for study, s in _groups(info, level):
                last: Dataset | None = None
                for status, _ident in assoc.send_c_move(_identifier(level, study, s), destination, STUDY_ROOT_MOVE):
                    last = status if status is not None else last
                    if status is None:
                        break
                code, error = _status_text(last, f"C-MOVE of {_what(level, study, s)} to {destination}")
                _set_status(result, code)
                if error:
                    result.errors.append(error)
                if not assoc.is_established:
                    break
        finally:
            if assoc.is_established:
                assoc.release()
        result.datasets, result.bytes_received = scp.take()
    finally:
        if own:
            scp.stop()
    return _finish(result, info, started)


# --------------------------------------------------------------------------------------------------- WADO-RS


def series_url(base: str, study: str, series: str) -> str:
    return f"{base.rstrip('/')}/studies/{study}/series/{series}"


def retrieve_wado(
    url: str | None,
    kos: KosLike,
    *,
    transfer_syntax: str | None = None,
    timeout: float = 300.0,
    session: requests.Session | None = None,
    verify: bool | str = True,
    cert: str | tuple[str, str] | None = None,
) -> RetrieveResult:
    """WADO-RS retrieve of each series of the KOS: ``GET {url}/studies/{study}/series/{series}`` (``url`` = the
    DICOMweb base), or each series' Retrieve URL from the KOS when ``url`` is None. ``transfer_syntax``: the
    ``transfer-syntax`` Accept parameter (``*`` = as stored)."""
    info = as_kos(kos)
    result = RetrieveResult("WADO-RS")
    accept = 'multipart/related; type="application/dicom"'
    if transfer_syntax:
        accept += f"; transfer-syntax={transfer_syntax}"
    http = session or requests
    started = time.perf_counter()
    for s in _series_of(info):
        study = _study_of(info, s)
        if url:
            target = series_url(url, study, s.series_instance_uid)
        elif s.retrieve_url:
            target = s.retrieve_url
        else:
            result.errors.append(f"series {s.series_instance_uid}: no Retrieve URL in the KOS and no base URL given")
            continue
        try:
            resp = http.get(target, headers={"Accept": accept}, timeout=timeout, verify=verify, cert=cert)
        except requests.RequestException as exc:
            result.errors.append(f"GET {target}: {exc}")
            continue
        result.status = str(resp.status_code)
        if resp.status_code != 200:
            result.errors.append(f"GET {target}: HTTP {resp.status_code} {resp.text[:300]!r}")
            continue
        result.bytes_received += len(resp.content)
        for n, part in enumerate(_parts(resp.content, resp.headers.get("content-type", ""), target, result.errors)):
            try:
                result.datasets.append(dcmread(BytesIO(part)))
            except Exception as exc:
                result.errors.append(f"GET {target}: part {n + 1} is not readable DICOM ({exc})")
    return _finish(result, info, started)


def _parts(body: bytes, content_type: str, where: str, errors: list[str]) -> list[bytes]:
    mediatype, params = mtom.parse_content_type(content_type)
    if mediatype == "application/dicom":
        return [body]
    if not mediatype.startswith("multipart/") or "boundary" not in params:
        errors.append(f"GET {where}: answer is {content_type or 'without Content-Type'}, not multipart/related")
        return []
    from requests_toolbelt.multipart.decoder import MultipartDecoder

    try:
        decoder = MultipartDecoder(body, content_type)
    except Exception as exc:
        errors.append(f"GET {where}: unreadable multipart body ({exc})")
        return []
    return [p.content for p in decoder.parts]


def with_meta(ds: Dataset) -> Dataset:
    """``ds`` with a file meta header (as received by C-GET/C-MOVE, to write it as a Part 10 file)."""
    if not getattr(ds, "file_meta", None):
        ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


__all__ = [
    "RetrieveResult",
    "StorageScp",
    "as_kos",
    "build_rad69_request",
    "retrieve_cget",
    "retrieve_cmove",
    "retrieve_rad69",
    "retrieve_wado",
]
