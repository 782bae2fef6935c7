"""The HTTP side of the imaging-source simulator: RAD-69 (Flux 9 → 10) and WADO-RS (RAD-107), as one Starlette app.

``POST /rad69`` — Retrieve Imaging Document Set. The request is read (MTOM/XOP or plain SOAP 1.2), validated by
the pipeline as Flux 9, answered with an MTOM ``RetrieveDocumentSetResponse`` carrying one ``application/dicom``
part per instance; the response is validated as Flux 10 and both go to the journal. The errors are those NIST's
``ids_4812`` test cases expect:

====================================================  ==========================================================
request                                               RegistryError (status Failure, or PartialSuccess when
                                                      some instances are returned)
====================================================  ==========================================================
RepositoryUniqueId is not our Retrieve Location UID   ``XDSUnknownRepositoryId``
unknown SOP Instance UID, or not in the requested     ``XDSDocumentUniqueIdError`` ("No document matching
series / study                                        composite UID [study:series:instance]")
empty studyInstanceUID / seriesInstanceUID, no        ``XDSIRequestError`` (one per error finding of the Flux 9
TransferSyntaxUID, any other Flux 9 error finding     validation)
none of the requested transfer syntaxes possible      ``XDSRepositoryError`` ("IDS cannot encode the pixel data
                                                      using any of the requested transfer syntaxes"; dcm4chee
                                                      uses ``urn:dicom:wado:0007``: ``ts_error_code``)
unreadable body, not SOAP 1.2, wrong action, no       SOAP 1.2 Fault (as the registry simulator)
MessageID
====================================================  ==========================================================

An instance stored in another transfer syntax than those requested is transcoded when it is stored uncompressed
and Explicit or Implicit VR Little Endian was requested (dcm4chee's rule).

WADO-RS under ``/dicomweb``: ``GET studies/{study}``, ``studies/{study}/series/{series}``,
``studies/{study}/series/{series}/instances/{sop}`` (``multipart/related; type="application/dicom"``, the
``transfer-syntax`` parameter honoured: ``*`` = as stored; default Explicit VR Little Endian when the instance
is stored uncompressed) and the same with ``/metadata`` (``application/dicom+json``). 404 for unknown UIDs, 406
for an Accept we cannot produce, 400 for a malformed UID.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from lxml import etree
from pydicom import dcmread
from pydicom.uid import UID
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from simulators.imaging_source.index import ImagingIndex, IndexStoreError, InstanceRecord, is_uid
from simulators.soap_service import (
    Outcome,
    SoapError,
    action_not_supported,
    check_must_understand,
    fault_response,
    missing_header,
    read_request,
    record,
)
from xdsi.journal import Exchange, Journal
from xdsi.messages import iti43, mtom, rad69, soap
from xdsi.messages.capture import RawMessage, read_message
from xdsi.messages.xmlsafe import InputError
from xdsi.model.responses import FAILURE, PARTIAL_SUCCESS, SUCCESS, RegistryError, RegistryResponse
from xdsi.model.retrieve import ImagingRetrieveRequest, RetrievedDocument, RetrieveResponse
from xdsi.validation.pipeline import validate_message

#: the content type of the journaled WADO-RS exchanges (a readable summary, not the bytes streamed)
TEXT = "text/plain; charset=utf-8"

log = logging.getLogger("xdsi.imaging_source.http")

MiB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 16 * MiB
DEFAULT_READ_TIMEOUT = 60.0
DICOM = "application/dicom"

EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LE = "1.2.840.10008.1.2"
EXPLICIT_VR_BE = "1.2.840.10008.1.2.2"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
#: what pydicom can re-encode without a codec
TRANSCODABLE = (EXPLICIT_VR_LE, IMPLICIT_VR_LE, EXPLICIT_VR_BE, DEFLATED_LE)
#: what we transcode to on request (dcm4chee: Explicit/Implicit VR Little Endian)
TRANSCODE_TARGETS = (EXPLICIT_VR_LE, IMPLICIT_VR_LE)

XDSI_REQUEST_ERROR = "XDSIRequestError"
UNKNOWN_REPOSITORY = "XDSUnknownRepositoryId"
DOCUMENT_UNIQUE_ID_ERROR = "XDSDocumentUniqueIdError"
REPOSITORY_ERROR = "XDSRepositoryError"
DCM4CHEE_TS_ERROR = "urn:dicom:wado:0007"

RAD69 = next(t for t in soap.TRANSACTIONS if t.name == "RAD-69")


def transcode(data: bytes, target: str) -> bytes:
    """A Part 10 file re-encoded in another uncompressed transfer syntax."""
    ds = dcmread(BytesIO(data))
    ds.file_meta.TransferSyntaxUID = UID(target)
    buf = BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def choose_syntax(stored: str, requested: list[str]) -> str | None:
    """The transfer syntax to answer in: the stored one when requested, else a transcoding target, else None."""
    if stored in requested:
        return stored
    if stored in TRANSCODABLE:
        for ts in requested:
            if ts in TRANSCODE_TARGETS:
                return ts
    return None


# --------------------------------------------------------------------------------------------------- RAD-69


class ImagingHttpService:
    """The protocol logic of ``/rad69`` and ``/dicomweb`` (framework-free; RAD-69 runs in a worker thread)."""

    def __init__(
        self,
        index: ImagingIndex,
        *,
        profile: str = "cisis",
        journal: Journal | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        ts_error_code: str = REPOSITORY_ERROR,
        validate_response: bool = True,
    ) -> None:
        self.index = index
        self.profile = profile
        self.journal = journal
        self.max_body_bytes = max_body_bytes
        self.ts_error_code = ts_error_code
        self.validate_response = validate_response

    @property
    def repository_unique_id(self) -> str:
        return self.index.retrieve_location_uid

    def rad69(self, data: bytes, content_type: str | None, peer: str, path: str = "/rad69") -> Outcome:
        """Answer one POSTed RAD-69 body; never raises."""
        started = time.perf_counter()
        ex = Exchange(
            actor="imaging_source",
            direction="received",
            peer=peer,
            endpoint=path,
            request=data,
            request_content_type=content_type,
            transaction="RAD-69",
            request_flux="flux9",
            response_flux="flux10",
        )
        message_id: str | None = None
        try:
            raw = read_request(data, content_type, self.max_body_bytes)
            env = raw.envelope
            assert env is not None
            ex.request_action = env.action
            message_id = env.message_id
            self._check_headers(env)
            body, attachments = self._answer(raw, ex)
            ex.response_action = RAD69.response_action
            outcome = self._wire(body, attachments, message_id or "")
            if self.validate_response:
                self._validate_response(outcome, ex)
        except SoapError as err:
            outcome = fault_response(err, message_id)
            ex.error = err.describe()
            log.warning("RAD-69 from %s: %s", peer, ex.error)
        except Exception as exc:  # a bug of ours: a Receiver fault, never a crash
            log.exception("RAD-69 from %s: internal error", peer)
            outcome = fault_response(
                SoapError("Receiver", f"internal error of the imaging source ({type(exc).__name__})"), message_id
            )
            ex.error = f"SOAP Fault Receiver: {type(exc).__name__}: {exc}"
        ex.http_status = outcome.status
        ex.response = outcome.body
        ex.response_content_type = outcome.content_type
        ex.duration_ms = round((time.perf_counter() - started) * 1000, 3)
        self.record(ex)
        return outcome

    def record(self, ex: Exchange) -> None:
        record(self.journal, ex)

    def _check_headers(self, env: soap.SoapEnvelope) -> None:
        check_must_understand(env)
        if not env.action:
            raise missing_header("Action")
        if env.action != rad69.ACTION:
            raise action_not_supported(env.action, "/rad69", rad69.ACTION)
        if not env.message_id:
            raise missing_header("MessageID")
        if env.body is None:
            raise SoapError("Sender", "the SOAP Body is empty: no request to process")

    def _answer(self, raw: RawMessage, ex: Exchange) -> tuple[etree._Element, dict[str, bytes]]:
        result = validate_message(raw, "flux9", self.profile)
        ex.request_findings = result.findings
        ex.notes += result.notes
        if result.error:
            raise SoapError("Sender", result.error)
        body = raw.body
        assert body is not None
        q = etree.QName(body)
        if q.localname != "RetrieveImagingDocumentSetRequest":
            raise SoapError("Sender", f"the body is not a RetrieveImagingDocumentSetRequest: {q.localname}")
        errors = [
            RegistryError(XDSI_REQUEST_ERROR, f"{f.rule}: {f.message}", location=f.location or None)
            for f in result.findings
            if f.severity == "error"
        ]
        request = rad69.decode_request(body)
        if not errors:
            errors += self._request_errors(request)
        response = RetrieveResponse(RegistryResponse(FAILURE, errors)) if errors else self.retrieve(request)
        ex.notes.append(f"{len(response.documents)} instance(s) returned, {len(response.response.errors)} error(s)")
        return iti43.encode_response(response, mtom=True)

    @staticmethod
    def _request_errors(request: ImagingRetrieveRequest) -> list[RegistryError]:
        """What the Flux 9 rules may let through but makes the request unanswerable (NIST ids_4812 cases 5–8)."""
        errors = []
        if not request.studies:
            errors.append(RegistryError(XDSI_REQUEST_ERROR, "RetrieveImagingDocumentSetRequest: no StudyRequest"))
        for st in request.studies:
            if not st.study_instance_uid:
                errors.append(
                    RegistryError(
                        XDSI_REQUEST_ERROR,
                        "RetrieveImagingDocumentSetRequest StudyRequest element : must have studyInstanceUID attribute",
                    )
                )
            for se in st.series:
                if not se.series_instance_uid:
                    errors.append(
                        RegistryError(
                            XDSI_REQUEST_ERROR,
                            "RetrieveImagingDocumentSetRequest SeriesRequest element : must have seriesInstanceUID "
                            "attribute",
                        )
                    )
        if not [ts for ts in request.transfer_syntaxes if ts]:
            errors.append(RegistryError(XDSI_REQUEST_ERROR, "No valid Xfer Syntax"))
        return errors

    def retrieve(self, request: ImagingRetrieveRequest) -> RetrieveResponse:
        """The instances a well-formed request designates, and one RegistryError per one that cannot be sent."""
        ours = self.repository_unique_id
        requested_ts = [ts for ts in request.transfer_syntaxes if ts]
        errors: list[RegistryError] = []
        documents: list[RetrievedDocument] = []
        wanted = [d.document_unique_id for d in request.document_requests if d.repository_unique_id == ours]
        known = {i.sop_instance_uid: i for i in self.index.instances(sop_uids=wanted)} if wanted else {}
        for st in request.studies:
            for se in st.series:
                for d in se.documents:
                    if d.repository_unique_id != ours:
                        errors.append(
                            RegistryError(
                                UNKNOWN_REPOSITORY,
                                f"Unknown Repository UID [{d.repository_unique_id}]. Expected [{ours}]",
                                location=d.repository_unique_id or None,
                            )
                        )
                        continue
                    inst = known.get(d.document_unique_id)
                    if (
                        inst is None
                        or inst.series_instance_uid != se.series_instance_uid
                        or inst.study_instance_uid != st.study_instance_uid
                    ):
                        composite = f"{st.study_instance_uid}:{se.series_instance_uid}:{d.document_unique_id}"
                        errors.append(
                            RegistryError(
                                DOCUMENT_UNIQUE_ID_ERROR,
                                f"No document matching composite UID [{composite}]",
                                location=d.document_unique_id or None,
                            )
                        )
                        continue
                    try:
                        content = self._content(inst, requested_ts)
                    except IndexStoreError as exc:
                        errors.append(RegistryError(REPOSITORY_ERROR, str(exc), location=inst.sop_instance_uid))
                        continue
                    if content is None:
                        errors.append(
                            RegistryError(
                                self.ts_error_code,
                                "IDS cannot encode the pixel data using any of the requested transfer syntaxes "
                                f"({', '.join(requested_ts)}); stored in {inst.transfer_syntax_uid}",
                                location=inst.sop_instance_uid,
                            )
                        )
                        continue
                    documents.append(
                        RetrievedDocument(
                            ours, inst.sop_instance_uid, DICOM, content, home_community_id=d.home_community_id
                        )
                    )
        status = SUCCESS if not errors else (PARTIAL_SUCCESS if documents else FAILURE)
        return RetrieveResponse(RegistryResponse(status, errors), documents)

    def _content(self, inst: InstanceRecord, requested_ts: list[str]) -> bytes | None:
        target = choose_syntax(inst.transfer_syntax_uid, requested_ts)
        if target is None:
            return None
        data = self.index.read_bytes(inst)
        return data if target == inst.transfer_syntax_uid else transcode(data, target)

    def _wire(self, body: etree._Element, attachments: dict[str, bytes], relates_to: str) -> Outcome:
        env = soap.build_envelope(body, RAD69.response_action, relates_to=relates_to)
        xml = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
        data, content_type = mtom.encode(
            xml, {cid: (b, DICOM) for cid, b in attachments.items()}, RAD69.response_action
        )
        return Outcome(200, data, content_type)

    def _validate_response(self, outcome: Outcome, ex: Exchange) -> None:
        try:
            raw = read_message(
                outcome.body, outcome.content_type, max_bytes=max(len(outcome.body) + 1, mtom.MAX_MESSAGE_BYTES)
            )
        except InputError as exc:  # pragma: no cover - a bug of ours
            ex.notes.append(f"our response is unreadable: {exc}")
            return
        result = validate_message(raw, "flux10", self.profile)
        ex.response_findings = result.findings
        bad = [f.rule for f in result.findings if f.severity == "error"]
        if bad:
            log.error("RAD-69: our own flux10 response has error findings: %s", ", ".join(bad))

    # ----------------------------------------------------------------------------- WADO-RS
    def wado_instances(self, study: str, series: str | None, sop: str | None) -> list[InstanceRecord]:
        return self.index.instances(
            study_uids=[study], series_uids=[series] if series else None, sop_uids=[sop] if sop else None
        )


# --------------------------------------------------------------------------------------------------- WADO-RS


class NotAcceptable(Exception):
    pass


@dataclass(frozen=True)
class Accepted:
    """What a WADO-RS retrieve answers in: the transfer syntax (``*`` = as stored, None = the default)."""

    transfer_syntax: str | None


def negotiate_bulk(accept: str | None) -> Accepted:
    """Parse Accept for an instance retrieve (PS3.18 §8.7.3); raises :class:`NotAcceptable`."""
    if not accept or not accept.strip():
        return Accepted(None)
    refused: list[str] = []
    for item in _split_accept(accept):
        mediatype, params = mtom.parse_content_type(item)
        if mediatype in ("*/*", "multipart/*"):
            return Accepted(params.get("transfer-syntax"))
        if mediatype == "multipart/related":
            part_type = params.get("type", DICOM).strip().lower()
            if part_type in (DICOM, "*/*", "application/*"):
                return Accepted(params.get("transfer-syntax"))
        if mediatype == DICOM:  # a single-part request: answered as multipart anyway, as most servers do
            return Accepted(params.get("transfer-syntax"))
        refused.append(item.strip())
    raise NotAcceptable(
        f'cannot answer in {", ".join(refused)}: this resource is multipart/related; type="application/dicom"'
    )


def _split_accept(value: str) -> list[str]:
    """Split an Accept header on the commas outside quotes."""
    out, cur, quoted = [], "", False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [x for x in out if x.strip()]


def negotiate_metadata(accept: str | None) -> None:
    if not accept or not accept.strip():
        return
    for item in _split_accept(accept):
        mediatype, _ = mtom.parse_content_type(item)
        if mediatype in ("application/dicom+json", "application/json", "*/*", "application/*"):
            return
    raise NotAcceptable(f"cannot answer in {accept.strip()}: metadata is application/dicom+json")


def _part_syntax(inst: InstanceRecord, wanted: str | None) -> str:
    """The transfer syntax to send an instance in; raises :class:`NotAcceptable`."""
    stored = inst.transfer_syntax_uid
    if wanted is None:  # PS3.18 default: Explicit VR Little Endian, when we can; else as stored
        return EXPLICIT_VR_LE if stored in TRANSCODABLE else stored
    if wanted == "*" or wanted == stored:
        return stored
    if stored in TRANSCODABLE and wanted in TRANSCODABLE:
        return wanted
    raise NotAcceptable(f"instance {inst.sop_instance_uid} is stored in {stored} and cannot be sent in {wanted}")


def _multipart_stream(
    index: ImagingIndex, instances: list[InstanceRecord], syntaxes: list[str], boundary: str
) -> Iterator[bytes]:
    dash = b"--" + boundary.encode("ascii")
    for inst, ts in zip(instances, syntaxes, strict=True):
        try:
            data = index.read_bytes(inst)
        except IndexStoreError as exc:
            log.error("WADO-RS: %s", exc)
            continue
        if ts != inst.transfer_syntax_uid:
            data = transcode(data, ts)
        head = f"\r\nContent-Type: application/dicom; transfer-syntax={ts}\r\nContent-Length: {len(data)}\r\n\r\n"
        yield dash + head.encode("ascii") + data + b"\r\n"
    yield dash + b"--\r\n"


def metadata_json(index: ImagingIndex, instances: list[InstanceRecord], base_url: str) -> bytes:
    """DICOM JSON (PS3.18 F.2) of the instances, bulk data as BulkDataURIs."""
    out: list[dict[str, Any]] = []
    for inst in instances:
        try:
            ds = dcmread(inst.path, stop_before_pixels=True)
        except Exception as exc:
            log.error("WADO-RS metadata: cannot read %s: %s", inst.path, exc)
            continue
        uri = (
            f"{base_url}/studies/{inst.study_instance_uid}/series/{inst.series_instance_uid}"
            f"/instances/{inst.sop_instance_uid}"
        )

        def bulk(elem: Any, _uri: str = uri) -> str:
            return f"{_uri}/bulkdata/{elem.tag:08X}"

        item = ds.to_json_dict(bulk_data_threshold=1024, bulk_data_element_handler=bulk)
        if "Rows" in ds:  # an image: its Pixel Data (not read here) as bulk data
            item["7FE00010"] = {"vr": "OW", "BulkDataURI": f"{uri}/bulkdata/7FE00010"}
        out.append(item)
    return json.dumps(out).encode("utf-8")


# --------------------------------------------------------------------------------------------------- the app


class _TooLarge(Exception):
    pass


def status_text(service: ImagingHttpService, base_url: str) -> str:
    base = base_url.rstrip("/")
    studies, series, instances = service.index.counts()
    return (
        "xdsi imaging source (IHE XDS-I.b Imaging Document Source)\n"
        f"Retrieve Location UID (RAD-69 repositoryUniqueId): {service.repository_unique_id}\n"
        f"RAD-69 Retrieve Imaging Document Set: POST {base}/rad69  action {rad69.ACTION}\n"
        f"WADO-RS (RAD-107): GET {base}/dicomweb/studies/{{study}}[/series/{{series}}[/instances/{{sop}}]][/metadata]\n"
        f"index: {studies} studies, {series} series, {instances} instances\n"
    )


def create_app(
    index: ImagingIndex,
    *,
    profile: str = "cisis",
    journal: Journal | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    ts_error_code: str = REPOSITORY_ERROR,
) -> Starlette:
    """The ASGI app: ``POST /rad69``, ``GET /dicomweb/studies/...``, ``GET /`` (status)."""
    service = ImagingHttpService(
        index, profile=profile, journal=journal, max_body_bytes=max_body_bytes, ts_error_code=ts_error_code
    )

    async def read_body(request: Request) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def refuse(status: int, reason: str) -> Response:
        outcome = fault_response(SoapError("Sender", reason, status=status))
        return Response(outcome.body, status, headers={"content-type": outcome.content_type, "connection": "close"})

    async def rad69_endpoint(request: Request) -> Response:
        if request.method != "POST":
            return PlainTextResponse(
                "405 Method Not Allowed: /rad69 is a SOAP 1.2 endpoint, send a POST\n", 405, headers={"allow": "POST"}
            )
        length = request.headers.get("content-length")
        if length is not None:
            try:
                announced = int(length)
            except ValueError:
                return PlainTextResponse(f"400 Bad Request: invalid Content-Length {length!r}\n", 400)
            if announced > max_body_bytes:
                return refuse(413, f"request body of {announced} bytes is over the limit of {max_body_bytes}")
        try:
            data = await asyncio.wait_for(read_body(request), read_timeout)
        except _TooLarge:
            return refuse(413, f"request body is over the limit of {max_body_bytes} bytes")
        except TimeoutError:
            return refuse(408, f"request body not received within {read_timeout:g} s")
        except ClientDisconnect:
            return Response(b"", 400)
        outcome = await run_in_threadpool(service.rad69, data, request.headers.get("content-type"), _peer(request))
        return Response(outcome.body, outcome.status, headers={"content-type": outcome.content_type})

    def _uids(request: Request) -> tuple[str, str | None, str | None] | Response:
        p = request.path_params
        for name in ("study", "series", "sop"):
            value = p.get(name)
            if value is not None and not _UID_PATH.match(value):
                return _problem(400, f"{name} {value[:80]!r} is not a UID")
        return p["study"], p.get("series"), p.get("sop")

    def _base(request: Request) -> str:
        return str(request.base_url).rstrip("/") + "/dicomweb"

    async def wado(request: Request) -> Response:
        uids = _uids(request)
        if isinstance(uids, Response):
            return uids
        try:
            accepted = negotiate_bulk(request.headers.get("accept"))
        except NotAcceptable as exc:
            return _problem(406, str(exc))
        instances = await run_in_threadpool(service.wado_instances, *uids)
        if not instances:
            return _problem(404, f"no instance for {_what(*uids)}")
        try:
            syntaxes = [_part_syntax(i, accepted.transfer_syntax) for i in instances]
        except NotAcceptable as exc:
            return _problem(406, str(exc))
        boundary = f"xdsi-{time.time_ns():x}"
        content_type = f'multipart/related; type="{DICOM}"; boundary={boundary}'
        if request.method == "HEAD":
            return Response(b"", 200, headers={"content-type": content_type})
        response = StreamingResponse(
            _multipart_stream(index, instances, syntaxes, boundary), 200, headers={"content-type": content_type}
        )
        response.instances = instances  # type: ignore[attr-defined]  # for the journal (journaled)
        return response

    def journaled(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """Journal each WADO-RS request: the request line and Accept header, the status, and the instances
        answered (their bytes stream to the peer unrecorded)."""
        if journal is None:
            return handler

        async def handle(request: Request) -> Response:
            started = time.perf_counter()
            response = await handler(request)
            instances = getattr(response, "instances", None)
            answered = [f"HTTP {response.status_code} {response.headers.get('content-type', '')}"]
            if instances is not None:
                answered.append(f"{len(instances)} instance(s):")
                answered += [f"{i.sop_class_uid} {i.sop_instance_uid}" for i in instances]
            elif not isinstance(response, StreamingResponse):
                answered.append(bytes(response.body).decode("utf-8", "replace"))
            ex = Exchange(
                actor="imaging_source",
                direction="received",
                peer=_peer(request),
                endpoint=request.url.path,
                transaction="WADO-RS",
                request_flux="flux9",
                response_flux="flux10",
                request=f"{request.method} {request.url.path}\nAccept: {request.headers.get('accept', '')}".encode(),
                request_content_type=TEXT,
                response="\n".join(answered).encode("utf-8"),
                response_content_type=TEXT,
                http_status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
            )
            await run_in_threadpool(service.record, ex)
            return response

        return handle

    async def metadata(request: Request) -> Response:
        uids = _uids(request)
        if isinstance(uids, Response):
            return uids
        try:
            negotiate_metadata(request.headers.get("accept"))
        except NotAcceptable as exc:
            return _problem(406, str(exc))
        instances = await run_in_threadpool(service.wado_instances, *uids)
        if not instances:
            return _problem(404, f"no instance for {_what(*uids)}")
        body = await run_in_threadpool(metadata_json, index, instances, _base(request))
        response = Response(body, 200, headers={"content-type": "application/dicom+json"})
        response.instances = instances  # type: ignore[attr-defined]  # for the journal (journaled)
        return response

    async def root(request: Request) -> Response:
        return PlainTextResponse(status_text(service, str(request.base_url)))

    async def not_found(request: Request) -> Response:
        return PlainTextResponse(
            f"404 Not Found: {request.url.path} (endpoints: POST /rad69, GET /dicomweb/studies/...)\n", 404
        )

    study = "/dicomweb/studies/{study}"
    series = study + "/series/{series}"
    instance = series + "/instances/{sop}"
    routes = [
        Route("/", root, methods=["GET", "HEAD"]),
        Route("/rad69", rad69_endpoint, methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]),
        Route(study, journaled(wado), methods=["GET", "HEAD"]),
        Route(series, journaled(wado), methods=["GET", "HEAD"]),
        Route(instance, journaled(wado), methods=["GET", "HEAD"]),
        Route(study + "/metadata", journaled(metadata), methods=["GET"]),
        Route(series + "/metadata", journaled(metadata), methods=["GET"]),
        Route(instance + "/metadata", journaled(metadata), methods=["GET"]),
        Route("/{rest:path}", not_found, methods=None),
    ]
    app = Starlette(routes=routes)
    app.state.service = service
    return app


_UID_PATH = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def _what(study: str, series: str | None, sop: str | None) -> str:
    parts = [f"study {study}"]
    if series:
        parts.append(f"series {series}")
    if sop:
        parts.append(f"instance {sop}")
    return ", ".join(parts)


def _problem(status: int, message: str) -> Response:
    """An error answer of the DICOMweb endpoints (a JSON body as DICOMweb servers commonly send)."""
    return Response(
        json.dumps({"status": status, "message": message}).encode("utf-8"),
        status,
        headers={"content-type": "application/json"},
    )


def _peer(request: Request) -> str:
    c = request.client
    return f"{c.host}:{c.port}" if c is not None else ""


__all__ = [
    "ImagingHttpService",
    "choose_syntax",
    "create_app",
    "is_uid",
    "metadata_json",
    "negotiate_bulk",
    "transcode",
]
