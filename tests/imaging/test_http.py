"""RAD-69 and WADO-RS of the imaging source over real HTTP: the NIST ids_4812 error cases, transcoding, partial
success, SOAP faults, and the WADO-RS resources with their errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
import requests
from lxml import etree
from pydicom import dcmread
from requests_toolbelt.multipart.decoder import MultipartDecoder

from simulators.imaging_source.server import RunningImagingSource, start_imaging_source
from xdsi.dicom.study import StudyInfo
from xdsi.journal import Journal
from xdsi.messages import rad69, soap
from xdsi.messages.capture import read_message
from xdsi.messages.iti43 import decode_response
from xdsi.messages.wire import to_wire
from xdsi.model.responses import FAILURE, PARTIAL_SUCCESS, SUCCESS
from xdsi.model.retrieve import DocumentRequest, ImagingRetrieveRequest, RetrieveResponse, SeriesRequest, StudyRequest
from xdsi.validation.pipeline import validate_message

EXPLICIT = "1.2.840.10008.1.2.1"
IMPLICIT = "1.2.840.10008.1.2"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"


def _request(
    study: StudyInfo,
    repo: str,
    *,
    series_index: int = 0,
    sops: list[str] | None = None,
    study_uid: str | None = None,
    series_uid: str | None = None,
    syntaxes: list[str] | None = None,
) -> ImagingRetrieveRequest:
    se = study.series[series_index]
    uids = sops if sops is not None else [i.sop_instance_uid for i in se.instances]
    return ImagingRetrieveRequest(
        [
            StudyRequest(
                study.study_instance_uid if study_uid is None else study_uid,
                [
                    SeriesRequest(
                        se.series_instance_uid if series_uid is None else series_uid,
                        [DocumentRequest(repo, u) for u in uids],
                    )
                ],
            )
        ],
        syntaxes if syntaxes is not None else [EXPLICIT, IMPLICIT],
    )


def _post(src: RunningImagingSource, req: ImagingRetrieveRequest) -> tuple[requests.Response, RetrieveResponse]:
    wire = to_wire(
        rad69.encode_request(req),
        rad69.ACTION,
        message_id="urn:uuid:6a1b0c1e-1111-4222-8333-444455556666",
        to=src.rad69_url,
    )
    resp = requests.post(src.rad69_url, data=wire.body, headers={"Content-Type": wire.content_type}, timeout=60)
    raw = read_message(resp.content, resp.headers["content-type"])
    assert raw.body is not None
    return resp, decode_response(raw.body, raw.attachments)


def _codes(r: RetrieveResponse) -> list[str]:
    return [e.code for e in r.response.errors]


def test_rad69_returns_every_instance(source: RunningImagingSource, study: StudyInfo) -> None:
    resp, r = _post(source, _request(study, source.retrieve_location_uid))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("multipart/related")
    assert r.response.status == SUCCESS
    se = study.series[0]
    assert [d.document_unique_id for d in r.documents] == [i.sop_instance_uid for i in se.instances]
    assert all(d.mime_type == "application/dicom" for d in r.documents)
    assert r.documents[0].content == se.instances[0].path.read_bytes()
    assert r.documents[0].repository_unique_id == source.retrieve_location_uid
    result = validate_message(read_message(resp.content, resp.headers["content-type"]), "flux10")
    assert result.kind == "flux10"
    assert not [f for f in result.findings if f.severity == "error"], result.findings


# The NIST ids_4812 cases (Imaging Document Source, RAD-69 exception cases).
def test_case1_unknown_repository(source: RunningImagingSource, study: StudyInfo) -> None:
    _, r = _post(source, _request(study, "1.3.6.1.4.1.21367.13.80.110.999"))
    assert r.response.status == FAILURE
    assert set(_codes(r)) == {"XDSUnknownRepositoryId"}
    assert source.retrieve_location_uid in r.response.errors[0].context
    assert r.documents == []


def test_case2_unknown_instance(source: RunningImagingSource, study: StudyInfo) -> None:
    _, r = _post(source, _request(study, source.retrieve_location_uid, sops=["1.2.3.4.999"]))
    assert r.response.status == FAILURE
    assert _codes(r) == ["XDSDocumentUniqueIdError"]
    assert "No document matching composite UID" in r.response.errors[0].context


def test_case3_instance_not_in_requested_series(source: RunningImagingSource, study: StudyInfo) -> None:
    other = study.series[1].instances[0].sop_instance_uid
    _, r = _post(source, _request(study, source.retrieve_location_uid, sops=[other]))
    assert r.response.status == FAILURE
    assert _codes(r) == ["XDSDocumentUniqueIdError"]


def test_case4_instance_not_in_requested_study(source: RunningImagingSource, study: StudyInfo) -> None:
    _, r = _post(source, _request(study, source.retrieve_location_uid, study_uid="1.2.3.4.5.6"))
    assert r.response.status == FAILURE
    assert set(_codes(r)) == {"XDSDocumentUniqueIdError"}


@pytest.mark.parametrize(("study_uid", "series_uid"), [("", None), (None, ""), ("", "")])
def test_cases5to7_empty_uids(
    source: RunningImagingSource, study: StudyInfo, study_uid: str | None, series_uid: str | None
) -> None:
    _, r = _post(source, _request(study, source.retrieve_location_uid, study_uid=study_uid, series_uid=series_uid))
    assert r.response.status == FAILURE
    assert set(_codes(r)) == {"XDSIRequestError"}
    assert r.documents == []


def test_case8_empty_transfer_syntax(source: RunningImagingSource, study: StudyInfo) -> None:
    _, r = _post(source, _request(study, source.retrieve_location_uid, syntaxes=[""]))
    assert r.response.status == FAILURE
    assert set(_codes(r)) == {"XDSIRequestError"}


def test_case9_unsupported_transfer_syntax(source: RunningImagingSource, study: StudyInfo) -> None:
    _, r = _post(source, _request(study, source.retrieve_location_uid, syntaxes=[JPEG_BASELINE]))
    assert r.response.status == FAILURE
    assert set(_codes(r)) == {"XDSRepositoryError"}
    assert {e.location for e in r.response.errors} == {i.sop_instance_uid for i in study.series[0].instances}


def test_transcoding_to_implicit(source: RunningImagingSource, study: StudyInfo) -> None:
    _, r = _post(source, _request(study, source.retrieve_location_uid, syntaxes=[JPEG_BASELINE, IMPLICIT]))
    assert r.response.status == SUCCESS
    ds = dcmread(BytesIO(r.documents[0].content))
    assert ds.file_meta.TransferSyntaxUID == IMPLICIT
    assert ds.PixelData == dcmread(study.series[0].instances[0].path).PixelData


def test_partial_success(source: RunningImagingSource, study: StudyInfo) -> None:
    known = study.series[0].instances[0].sop_instance_uid
    _, r = _post(source, _request(study, source.retrieve_location_uid, sops=[known, "1.2.3.4.998"]))
    assert r.response.status == PARTIAL_SUCCESS
    assert [d.document_unique_id for d in r.documents] == [known]
    assert _codes(r) == ["XDSDocumentUniqueIdError"]


# SOAP-level errors
def _fault(resp: requests.Response) -> str:
    raw = read_message(resp.content, resp.headers["content-type"])
    assert raw.envelope is not None and raw.envelope.fault is not None
    return str(raw.envelope.fault.code)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not xml at all", "application/soap+xml"),
        (b"<a><b></a>", "application/soap+xml"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>', "application/soap+xml"),
        (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>', "text/xml"),
        (b"--b\r\nContent-Type: text/plain\r\n\r\ntruncated", 'multipart/related; boundary="b"'),
    ],
)
def test_unreadable_requests_get_a_sender_fault(source: RunningImagingSource, body: bytes, content_type: str) -> None:
    resp = requests.post(source.rad69_url, data=body, headers={"Content-Type": content_type}, timeout=30)
    assert resp.status_code == 400
    assert "Sender" in _fault(resp)


def test_wrong_action_and_missing_message_id(source: RunningImagingSource, study: StudyInfo) -> None:
    body = rad69.encode_request(_request(study, source.retrieve_location_uid))
    wire = to_wire(body, "urn:ihe:iti:2007:RetrieveDocumentSet")
    resp = requests.post(source.rad69_url, data=wire.body, headers={"Content-Type": wire.content_type}, timeout=30)
    assert resp.status_code == 400 and b"ActionNotSupported" in resp.content
    wire = to_wire(body, rad69.ACTION)
    no_id = wire.body.replace(b"<wsa:MessageID>", b"<wsa:X>").replace(b"</wsa:MessageID>", b"</wsa:X>")
    resp = requests.post(source.rad69_url, data=no_id, headers={"Content-Type": wire.content_type}, timeout=30)
    assert resp.status_code == 400 and b"MessageAddressingHeaderRequired" in resp.content


def test_rad69_envelope_faults_are_those_of_the_registry(source: RunningImagingSource, study: StudyInfo) -> None:
    """The RAD-69 endpoint answers SOAP-level mistakes as the registry does (simulators.soap_service)."""
    wire = to_wire(rad69.encode_request(_request(study, source.retrieve_location_uid)), rad69.ACTION)
    headers = {"Content-Type": wire.content_type}
    # an unknown header the sender says we must understand: 500 MustUnderstand with NotUnderstood
    env = etree.fromstring(wire.body)
    header = env.find(f"{{{soap.SOAP12}}}Header")
    assert header is not None
    trace = etree.SubElement(header, "{urn:example:trace}Trace")
    trace.set(f"{{{soap.SOAP12}}}mustUnderstand", "true")
    body = etree.tostring(env)
    resp = requests.post(source.rad69_url, data=body, headers=headers, timeout=30)
    assert resp.status_code == 500 and "MustUnderstand" in _fault(resp), resp.content[:400]
    assert b"NotUnderstood" in resp.content
    # an envelope of another namespace: 500 VersionMismatch with an Upgrade header
    other = b'<e:Envelope xmlns:e="urn:example:envelope"><e:Body/></e:Envelope>'
    resp = requests.post(source.rad69_url, data=other, headers={"Content-Type": "application/soap+xml"}, timeout=30)
    assert resp.status_code == 500 and b"VersionMismatch" in resp.content and b"Upgrade" in resp.content
    # an HTTP capture posted as the body
    capture = b"POST /rad69 HTTP/1.1\r\nContent-Type: application/soap+xml\r\n\r\n" + wire.body
    resp = requests.post(source.rad69_url, data=capture, headers={"Content-Type": "application/soap+xml"}, timeout=30)
    assert resp.status_code == 400 and b"itself an HTTP message" in resp.content


def test_get_on_rad69_and_unknown_path(source: RunningImagingSource) -> None:
    assert requests.get(source.rad69_url, timeout=10).status_code == 405
    assert requests.get(source.http_url + "/nothing", timeout=10).status_code == 404
    status = requests.get(source.http_url + "/", timeout=10)
    assert source.retrieve_location_uid in status.text


def test_rad69_exchanges_are_journaled(tmp_path: Path, study: StudyInfo) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    assert study.directory is not None
    src = start_imaging_source(
        store=f"sqlite:///{tmp_path}/i.sqlite", studies=[study.directory], journal=journal, dicom_port=0
    )
    try:
        _post(src, _request(study, src.retrieve_location_uid))
        _post(src, _request(study, "9.9.9"))
    finally:
        src.stop()
    exchanges = list(journal.exchanges())
    assert [e.transaction for e in exchanges] == ["RAD-69", "RAD-69"]
    assert exchanges[0].actor == "imaging_source" and exchanges[0].http_status == 200
    assert exchanges[0].response_flux == "flux10" and exchanges[0].request_flux == "flux9"
    assert not [f for f in exchanges[0].request_findings if f.severity == "error"]
    assert b"XDSUnknownRepositoryId" in exchanges[1].response


# ------------------------------------------------------------------------------------------------ WADO-RS

MULTIPART = 'multipart/related; type="application/dicom"'


def _wado(src: RunningImagingSource, path: str, accept: str | None = MULTIPART) -> requests.Response:
    headers = {"Accept": accept} if accept is not None else {}
    return requests.get(src.wado_rs_url + path, headers=headers, timeout=30)


def _parts(resp: requests.Response) -> list[bytes]:
    assert resp.status_code == 200, resp.text
    return [p.content for p in MultipartDecoder(resp.content, resp.headers["content-type"]).parts]


@pytest.fixture(scope="module")
def paths(study: StudyInfo) -> Iterator[dict[str, str]]:
    se = study.series[0]
    st = f"/studies/{study.study_instance_uid}"
    yield {
        "study": st,
        "series": f"{st}/series/{se.series_instance_uid}",
        "instance": f"{st}/series/{se.series_instance_uid}/instances/{se.instances[1].sop_instance_uid}",
    }


@pytest.mark.parametrize(("what", "count"), [("study", 6), ("series", 3), ("instance", 1)])
def test_wado_rs_resources(source: RunningImagingSource, paths: dict[str, str], what: str, count: int) -> None:
    for accept in (MULTIPART, None, "*/*", f"{MULTIPART}; transfer-syntax=*"):
        parts = _parts(_wado(source, paths[what], accept))
        assert len(parts) == count
        assert all(dcmread(BytesIO(p)).file_meta.TransferSyntaxUID == EXPLICIT for p in parts)


def test_wado_rs_instance_bytes(source: RunningImagingSource, study: StudyInfo, paths: dict[str, str]) -> None:
    (part,) = _parts(_wado(source, paths["instance"]))
    assert part == study.series[0].instances[1].path.read_bytes()


def test_wado_rs_transcodes(source: RunningImagingSource, paths: dict[str, str]) -> None:
    parts = _parts(_wado(source, paths["series"], f"{MULTIPART}; transfer-syntax={IMPLICIT}"))
    assert {dcmread(BytesIO(p)).file_meta.TransferSyntaxUID for p in parts} == {IMPLICIT}


@pytest.mark.parametrize("what", ["study", "series", "instance"])
def test_wado_rs_metadata(source: RunningImagingSource, study: StudyInfo, paths: dict[str, str], what: str) -> None:
    resp = _wado(source, paths[what] + "/metadata", "application/dicom+json")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/dicom+json"
    items = json.loads(resp.content)
    assert all(i["0020000D"]["Value"] == [study.study_instance_uid] for i in items)
    assert all("BulkDataURI" in i["7FE00010"] for i in items)
    assert len(items) == {"study": 6, "series": 3, "instance": 1}[what]


@pytest.mark.parametrize(
    ("path", "accept", "status"),
    [
        ("/studies/1.2.3.999", MULTIPART, 404),
        ("/studies/1.2.3.999/metadata", "application/dicom+json", 404),
        ("/studies/not-a-uid", MULTIPART, 400),
        ("/studies/1.2/series/..%2F..%2Fetc", MULTIPART, 404),  # the decoded "/" matches no route
    ],
)
def test_wado_rs_errors(source: RunningImagingSource, path: str, accept: str, status: int) -> None:
    assert _wado(source, path, accept).status_code == status


def test_wado_rs_not_acceptable(source: RunningImagingSource, paths: dict[str, str]) -> None:
    assert _wado(source, paths["series"], "application/json").status_code == 406
    assert _wado(source, paths["series"], f"{MULTIPART}; transfer-syntax={JPEG_BASELINE}").status_code == 406
    assert _wado(source, paths["series"] + "/metadata", MULTIPART).status_code == 406


def test_wado_rs_exchanges_are_journaled(tmp_path: Path, study: StudyInfo) -> None:
    """Each WADO-RS request is journaled: its request line and Accept, the status and the instances answered (the
    bytes stream to the peer unrecorded), or the problem."""
    journal = Journal(tmp_path / "journal.sqlite")
    assert study.directory is not None
    src = start_imaging_source(store=f"sqlite:///{tmp_path}/i.sqlite", studies=[study.directory], journal=journal)
    try:
        assert len(_parts(_wado(src, f"/studies/{study.study_instance_uid}"))) == 6
        assert _wado(src, f"/studies/{study.study_instance_uid}/metadata", "application/dicom+json").ok
        assert _wado(src, "/studies/1.2.3.999").status_code == 404
    finally:
        src.stop()
    exchanges = list(journal.exchanges())
    assert [e.transaction for e in exchanges] == ["WADO-RS"] * 3
    bulk, meta, missing = exchanges
    assert bulk.http_status == 200 and bulk.request_flux == "flux9" and bulk.response_flux == "flux10"
    assert bulk.request.decode().startswith(f"GET /dicomweb/studies/{study.study_instance_uid}\nAccept: multipart")
    assert "6 instance(s):" in bulk.response.decode()
    assert all(i.sop_instance_uid in bulk.response.decode() for se in study.series for i in se.instances)
    assert meta.http_status == 200 and "6 instance(s):" in meta.response.decode()
    assert missing.http_status == 404 and b"no instance for study 1.2.3.999" in missing.response
