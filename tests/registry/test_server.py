"""The registry server at the transport level, over a real socket, with a fake registry behind it.

SOAP 1.2 / WS-Addressing behaviour, MTOM in and out, the validation-driven Failures with their XDS codes,
every kind of bad input with its exact HTTP status and SOAP fault, and the journal of the server.
"""

from __future__ import annotations

import base64
import copy
import logging
import re
import socket
import time
from pathlib import Path

import pytest
import requests
from lxml import etree

from simulators.registry.server import RunningServer
from simulators.soap_service import WSA_UNSPECIFIED
from tests.registry.conftest_server import (
    REPOSITORY_UID,
    FakeRegistry,
    fresh_exam,
    pnr_request,
    pnr_wire,
    post,
    soap_content_type,
    soap_xml,
)
from xdsi.ebrim import decode
from xdsi.ebrim import query as ebquery
from xdsi.journal import Journal
from xdsi.messages import examples as ex
from xdsi.messages import iti18, iti41, iti43, iti57, mtom, soap
from xdsi.messages.capture import read_message
from xdsi.messages.soap import SoapEnvelope
from xdsi.messages.wire import to_wire
from xdsi.model.responses import ERROR, FAILURE, SUCCESS, RegistryError
from xdsi.model.retrieve import DocumentRequest

WSA_ACTION_NOT_SUPPORTED = "wsa:ActionNotSupported"
WSA_HEADER_REQUIRED = "wsa:MessageAddressingHeaderRequired"

pytest_plugins = ["tests.registry.conftest_server"]  # its fixtures: servers, registries, journal, TLS


def envelope_of(resp: requests.Response) -> tuple[SoapEnvelope, dict[str, bytes]]:
    raw = read_message(resp.content, resp.headers.get("content-type"))
    assert raw.envelope is not None
    return raw.envelope, raw.attachments


def fault_of(resp: requests.Response) -> soap.SoapFault:
    env, _ = envelope_of(resp)
    assert env.fault is not None, resp.text[:500]
    assert env.action == soap.WSA_FAULT_ACTION
    assert resp.headers["content-type"].startswith("application/soap+xml")
    assert "Traceback" not in resp.text
    return env.fault


def registry_errors_of(resp: requests.Response) -> tuple[str, list[RegistryError]]:
    env, _ = envelope_of(resp)
    assert env.body is not None
    rr = env.body if env.body.tag.endswith("Response") and env.body.get("status") else None
    if rr is None:  # RetrieveDocumentSetResponse wraps it
        rr = env.body.find(f"{{{soap.RS}}}RegistryResponse")
    assert rr is not None
    response = decode.registry_response(rr)
    return response.status, response.errors


# --------------------------------------------------------------------------------------------------- status


def test_get_root_lists_endpoints_and_repository(fake_server: RunningServer) -> None:
    resp = requests.get(fake_server.url + "/", timeout=10)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    for path in ("/iti41", "/iti57", "/iti18", "/iti43"):
        assert f"{fake_server.url}{path}" in resp.text
    assert REPOSITORY_UID in resp.text


# --------------------------------------------------------------------------------------------------- success


@pytest.mark.parametrize("mtom_in", [True, False], ids=["mtom", "inline"])
def test_iti41_success_with_response_addressing(
    fake_server: RunningServer, fake_registry: FakeRegistry, mtom_in: bool
) -> None:
    request = pnr_request()
    wire = pnr_wire(request, mtom=mtom_in)
    sent = read_message(wire.body, wire.content_type).envelope
    assert sent is not None and sent.message_id
    resp = post(fake_server.url + "/iti41", wire.body, wire.content_type)
    assert resp.status_code == 200
    ctype = resp.headers["content-type"]
    assert ctype.startswith("application/soap+xml")
    assert "charset=UTF-8" in ctype
    assert f'action="{iti41.RESPONSE_ACTION}"' in ctype
    env, _ = envelope_of(resp)
    assert env.soap_version == "1.2"
    assert env.action == iti41.RESPONSE_ACTION
    assert env.relates_to == sent.message_id
    assert env.message_id and env.message_id.startswith("urn:uuid:") and env.message_id != sent.message_id
    status, errors = registry_errors_of(resp)
    assert status == SUCCESS and errors == []
    received = {v[0]: v[1] for v in fake_registry.documents.values()}
    assert sorted(received.values()) == sorted(d.content for d in request.documents)


def test_root_dispatches_on_the_action(fake_server: RunningServer) -> None:
    wire = pnr_wire(pnr_request())
    resp = post(fake_server.url + "/", wire.body, wire.content_type)
    assert envelope_of(resp)[0].action == iti41.RESPONSE_ACTION
    q = ebquery.AdhocQuery(iti18.FIND_DOCUMENTS, slots=ex.flux5_slots())
    resp = post(fake_server.url + "/", soap_xml(iti18.encode_request(q), iti18.ACTION), soap_content_type(iti18.ACTION))
    env, _ = envelope_of(resp)
    assert env.action == iti18.RESPONSE_ACTION
    assert env.body is not None and etree.QName(env.body).localname == "AdhocQueryResponse"


@pytest.mark.parametrize(
    ("profile", "expected"),
    [("cisis", iti57.RESPONSE_ACTION), ("ihe", iti57.RESPONSE_ACTION), ("dmp", iti57.DMP_RESPONSE_ACTION)],
)
def test_iti57_response_action_per_profile(
    server_factory, fake_registry: FakeRegistry, profile: str, expected: str
) -> None:
    srv = server_factory(fake_registry, profile=profile)
    body = iti57.encode_request(ex.flux3_status())
    resp = post(srv.url + "/iti57", soap_xml(body, iti57.ACTION), soap_content_type(iti57.ACTION))
    assert resp.status_code == 200
    assert envelope_of(resp)[0].action == expected
    assert f'action="{expected}"' in resp.headers["content-type"]


def test_iti43_response_is_mtom_with_the_documents_types(
    fake_server: RunningServer, fake_registry: FakeRegistry
) -> None:
    exam = fresh_exam()
    request = pnr_request(exam)
    wire = pnr_wire(request)
    assert registry_errors_of(post(fake_server.url + "/iti41", wire.body, wire.content_type))[0] == SUCCESS
    asked = [DocumentRequest(REPOSITORY_UID, exam.kos_uid), DocumentRequest(REPOSITORY_UID, exam.report_uid)]
    body = iti43.encode_request(asked)
    resp = post(fake_server.url + "/iti43", soap_xml(body, iti43.ACTION), soap_content_type(iti43.ACTION))
    assert resp.status_code == 200
    ctype = resp.headers["content-type"]
    assert ctype.startswith("multipart/related")
    decoded = mtom.decode(resp.content, ctype)
    types = sorted(p.content_type for p in decoded.attachments.values())
    assert types == ["application/dicom", "text/xml"]
    env, attachments = envelope_of(resp)
    assert env.action == iti43.RESPONSE_ACTION
    assert env.body is not None
    got = iti43.decode_response(env.body, attachments)
    contents = {d.document_unique_id: d.content for d in got.documents}
    assert contents == {exam.kos_uid: request.documents[0].content, exam.report_uid: request.documents[1].content}


# --------------------------------------------------------------------------------------------------- failures


def test_kos_without_modality_is_a_repository_metadata_error(
    fake_server: RunningServer, fake_registry: FakeRegistry
) -> None:
    exam = fresh_exam()
    request = pnr_request(exam)
    request.objects.entries[0].event_codes = [exam.region, exam.procedure]
    wire = pnr_wire(request)
    resp = post(fake_server.url + "/iti41", wire.body, wire.content_type)
    assert resp.status_code == 200
    status, errors = registry_errors_of(resp)
    assert status == FAILURE
    # the table row, and the KOS sent with the entry lists a CT series the entry no longer names
    assert {e.code for e in errors} == {"XDSRepositoryMetadataError"}
    by_rule = {e.context.split(":")[0]: e for e in errors}
    assert set(by_rule) == {"FLUX1.FICHE.MODALITE.CARD", "KOSDE.MODALITY.MISSING"}
    card = by_rule["FLUX1.FICHE.MODALITE.CARD"]
    assert card.severity == ERROR
    assert card.location and "ExtrinsicObject" in card.location
    assert fake_registry.calls == []


def test_missing_document_is_xds_missing_document(fake_server: RunningServer) -> None:
    request = pnr_request()
    body, _ = iti41.encode_request(request, mtom=False)
    body.remove(body.findall(f"{{{soap.XDSB}}}Document")[1])
    wire = to_wire(body, iti41.ACTION)
    status, errors = registry_errors_of(post(fake_server.url + "/iti41", wire.body, wire.content_type))
    assert status == FAILURE
    assert "XDSMissingDocument" in [e.code for e in errors]


def test_patient_mismatch_is_xds_patient_id_does_not_match(fake_server: RunningServer) -> None:
    request = pnr_request()
    request.objects.entries[1].patient_id = "1^^^&1.2.250.1.213.1.4.10&ISO^NH"
    wire = pnr_wire(request)
    status, errors = registry_errors_of(post(fake_server.url + "/iti41", wire.body, wire.content_type))
    assert status == FAILURE
    assert "XDSPatientIdDoesNotMatch" in [e.code for e in errors]


def _query(slots: list[tuple[str, list[str]]], query_id: str = iti18.FIND_DOCUMENTS) -> bytes:
    return soap_xml(iti18.encode_request(ebquery.AdhocQuery(query_id, slots=slots)), iti18.ACTION)


def test_search_without_patient_is_missing_param(fake_server: RunningServer, fake_registry: FakeRegistry) -> None:
    slots = [s for s in ex.flux5_slots() if s[0] != "$XDSDocumentEntryPatientId"]
    resp = post(fake_server.url + "/iti18", _query(slots), soap_content_type(iti18.ACTION))
    assert resp.status_code == 200
    env, _ = envelope_of(resp)
    assert env.body is not None and etree.QName(env.body).localname == "AdhocQueryResponse"
    status, errors = registry_errors_of(resp)
    assert status == FAILURE
    assert [e.code for e in errors] == ["XDSStoredQueryMissingParam"]
    assert errors[0].context.startswith("SQ.PARAM.MISSING: ")
    assert fake_registry.calls == []


def test_unknown_query_id_is_unknown_stored_query(fake_server: RunningServer) -> None:
    data = _query(ex.flux5_slots(), "urn:uuid:00000000-0000-0000-0000-000000000000")
    status, errors = registry_errors_of(post(fake_server.url + "/iti18", data, soap_content_type(iti18.ACTION)))
    assert status == FAILURE
    assert [e.code for e in errors] == ["XDSUnknownStoredQuery"]


def test_bad_retrieve_request_is_a_repository_error_in_mtom(fake_server: RunningServer) -> None:
    body = iti43.encode_request([DocumentRequest(REPOSITORY_UID, "")])
    resp = post(fake_server.url + "/iti43", soap_xml(body, iti43.ACTION), soap_content_type(iti43.ACTION))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("multipart/related")
    status, errors = registry_errors_of(resp)
    assert status == FAILURE
    assert errors and all(e.code == "XDSRepositoryError" for e in errors)


def test_registry_refusal_exception_becomes_a_failure(fake_server: RunningServer, fake_registry: FakeRegistry) -> None:
    class Refused(Exception):
        def __init__(self) -> None:
            super().__init__("duplicate")
            self.errors = [RegistryError("XDSDuplicateUniqueIdInRegistry", "already there")]

    fake_registry.fail_with = Refused()
    wire = pnr_wire(pnr_request())
    status, errors = registry_errors_of(post(fake_server.url + "/iti41", wire.body, wire.content_type))
    assert status == FAILURE
    assert [(e.code, e.context) for e in errors] == [("XDSDuplicateUniqueIdInRegistry", "already there")]


def test_a_crash_inside_is_a_receiver_fault_logged_never_a_traceback(
    fake_server: RunningServer, fake_registry: FakeRegistry, journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    fake_registry.fail_with = ZeroDivisionError("secret internal detail")
    wire = pnr_wire(pnr_request())
    with caplog.at_level(logging.ERROR, logger="xdsi.registry"):
        resp = post(fake_server.url + "/iti41", wire.body, wire.content_type)
    assert resp.status_code == 500
    fault = fault_of(resp)
    assert fault.code == "Receiver"
    assert "secret internal detail" not in resp.text
    assert any("internal error" in r.getMessage() and r.exc_info for r in caplog.records)
    env = read_message(wire.body, wire.content_type).envelope
    assert env is not None and envelope_of(resp)[0].relates_to == env.message_id
    (recorded,) = journal.exchanges()
    assert recorded.http_status == 500 and recorded.error and "ZeroDivisionError" in recorded.error


# --------------------------------------------------------------------------------------------------- bad input

SOAP11_ENVELOPE = (
    b'<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<s:Header><a:Action xmlns:a="http://www.w3.org/2005/08/addressing">urn:ihe:iti:2007:RegistryStoredQuery'
    b"</a:Action></s:Header><s:Body><x/></s:Body></s:Envelope>"
)
UNKNOWN_ENVELOPE = b'<e:Envelope xmlns:e="urn:example:not-soap"><e:Body/></e:Envelope>'
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>&lol3;</soap:Body>'
    b"</soap:Envelope>"
)


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code", "reason"),
    [
        (b"this is not XML at all", "application/soap+xml", 400, "Sender", "unreadable request"),
        (b"\x00\x01\x02\xff\xfe binary", "application/octet-stream", 400, "Sender", "unreadable request"),
        (b"", "application/soap+xml", 400, "Sender", "empty"),
        (
            b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>',
            "application/soap+xml",
            400,
            "Sender",
            "unreadable request",
        ),
        (SOAP11_ENVELOPE, "text/xml", 400, "Sender", "SOAP 1.1"),
        (UNKNOWN_ENVELOPE, "application/soap+xml", 500, "VersionMismatch", "unknown SOAP envelope namespace"),
        (b"<a:Query xmlns:a='urn:x'/>", "application/soap+xml", 400, "Sender", "not a SOAP envelope"),
        (BILLION_LAUGHS, "application/soap+xml", 400, "Sender", "unreadable request"),
        (b"POST /iti41 HTTP/1.1\r\nHost: x\r\n\r\n<x/>", "application/soap+xml", 400, "Sender", "HTTP message"),
    ],
    ids=[
        "not-xml",
        "binary",
        "empty",
        "malformed",
        "soap11",
        "unknown-envelope",
        "not-envelope",
        "entities",
        "http-in-body",
    ],
)
def test_unreadable_requests_get_a_soap_fault(
    fake_server: RunningServer,
    journal: Journal,
    data: bytes,
    content_type: str,
    status: int,
    code: str,
    reason: str,
) -> None:
    resp = post(fake_server.url + "/iti18", data, content_type)
    assert resp.status_code == status
    fault = fault_of(resp)
    assert fault.code == code
    assert reason in fault.reason
    env, _ = envelope_of(resp)
    assert env.relates_to == WSA_UNSPECIFIED
    if code == "VersionMismatch":
        assert env.header is not None and env.header.find(f"{{{soap.SOAP12}}}Upgrade") is not None
    (recorded,) = journal.exchanges()
    assert recorded.http_status == status and recorded.error and code in recorded.error
    assert recorded.request == data


def test_truncated_multipart_is_a_sender_fault(fake_server: RunningServer) -> None:
    wire = pnr_wire(pnr_request())
    resp = post(fake_server.url + "/iti41", wire.body[: len(wire.body) // 2], wire.content_type)
    assert resp.status_code == 400
    fault = fault_of(resp)
    assert fault.code == "Sender" and "truncated multipart" in fault.reason


def test_missing_action_is_message_addressing_header_required(fake_server: RunningServer) -> None:
    data = soap_xml(iti43.encode_request(ex.flux7()), None, message_id="urn:uuid:1b4e2f1c-0000-4000-8000-000000000001")
    resp = post(fake_server.url + "/iti43", data, "application/soap+xml; charset=UTF-8")
    assert resp.status_code == 400
    fault = fault_of(resp)
    assert fault.code == "Sender" and fault.subcodes == [WSA_HEADER_REQUIRED]
    assert fault.detail is not None
    assert fault.detail.findtext(f"{{{soap.WSA}}}ProblemHeaderQName") == "wsa:Action"
    assert envelope_of(resp)[0].relates_to == "urn:uuid:1b4e2f1c-0000-4000-8000-000000000001"


def test_missing_message_id_is_message_addressing_header_required(fake_server: RunningServer) -> None:
    data = soap_xml(iti43.encode_request(ex.flux7()), iti43.ACTION, message_id=None)
    resp = post(fake_server.url + "/iti43", data, soap_content_type(iti43.ACTION))
    assert resp.status_code == 400
    fault = fault_of(resp)
    assert fault.subcodes == [WSA_HEADER_REQUIRED]
    assert fault.detail is not None
    assert fault.detail.findtext(f"{{{soap.WSA}}}ProblemHeaderQName") == "wsa:MessageID"


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ("/iti41", iti18.ACTION),
        ("/iti18", iti41.ACTION),
        ("/iti43", iti57.ACTION),
        ("/", "urn:example:unknown-action"),
        ("/", "urn:ihe:rad:2009:RetrieveImagingDocumentSet"),
    ],
)
def test_action_not_served_is_action_not_supported(fake_server: RunningServer, path: str, action: str) -> None:
    q = ebquery.AdhocQuery(iti18.FIND_DOCUMENTS, slots=ex.flux5_slots())
    resp = post(fake_server.url + path, soap_xml(iti18.encode_request(q), action), soap_content_type(action))
    assert resp.status_code == 400
    fault = fault_of(resp)
    assert fault.code == "Sender" and fault.subcodes == [WSA_ACTION_NOT_SUPPORTED]
    assert fault.detail is not None
    assert fault.detail.findtext(f"{{{soap.WSA}}}ProblemAction/{{{soap.WSA}}}Action") == action


def test_content_type_action_differing_from_wsa_action_is_action_mismatch(
    fake_server: RunningServer, journal: Journal
) -> None:
    q = ebquery.AdhocQuery(iti18.FIND_DOCUMENTS, slots=ex.flux5_slots())
    resp = post(
        fake_server.url + "/iti18", soap_xml(iti18.encode_request(q), iti18.ACTION), soap_content_type(iti43.ACTION)
    )
    assert resp.status_code == 400
    fault = fault_of(resp)
    assert fault.subcodes == ["wsa:ActionMismatch"] and iti43.ACTION in fault.reason
    (recorded,) = journal.exchanges()
    assert "WSA.ACTION.MISMATCH" in [f.rule for f in recorded.request_findings]
    assert (recorded.transaction, recorded.request_flux, recorded.response_flux) == ("ITI-18", "flux5", None)
    assert recorded.response_action == soap.WSA_FAULT_ACTION


def test_unknown_must_understand_header_is_a_must_understand_fault(fake_server: RunningServer) -> None:
    data = soap_xml(iti43.encode_request(ex.flux7()), iti43.ACTION)
    root = etree.fromstring(data)
    header = root.find(f"{{{soap.SOAP12}}}Header")
    assert header is not None
    extra = etree.SubElement(header, "{urn:example:ext}Secret")
    extra.set(f"{{{soap.SOAP12}}}mustUnderstand", "true")
    resp = post(fake_server.url + "/iti43", etree.tostring(root), soap_content_type(iti43.ACTION))
    assert resp.status_code == 500
    assert fault_of(resp).code == "MustUnderstand"
    env, _ = envelope_of(resp)
    assert env.header is not None
    nu = env.header.find(f"{{{soap.SOAP12}}}NotUnderstood")
    assert nu is not None and nu.get("qname", "").endswith(":Secret")


def test_wsse_security_with_must_understand_is_accepted(fake_server: RunningServer) -> None:
    root = etree.fromstring(soap_xml(iti43.encode_request(ex.flux7()), iti43.ACTION))
    header = root.find(f"{{{soap.SOAP12}}}Header")
    assert header is not None
    sec = etree.SubElement(header, f"{{{soap.WSSE}}}Security")
    sec.set(f"{{{soap.SOAP12}}}mustUnderstand", "true")
    resp = post(fake_server.url + "/iti43", etree.tostring(root), soap_content_type(iti43.ACTION))
    assert resp.status_code == 200


def test_empty_body_element_is_a_sender_fault(fake_server: RunningServer) -> None:
    data = (
        f'<soap:Envelope xmlns:soap="{soap.SOAP12}" xmlns:wsa="{soap.WSA}"><soap:Header>'
        f"<wsa:Action>{iti43.ACTION}</wsa:Action><wsa:MessageID>urn:uuid:1</wsa:MessageID></soap:Header>"
        "<soap:Body/></soap:Envelope>"
    ).encode()
    resp = post(fake_server.url + "/iti43", data, soap_content_type(iti43.ACTION))
    assert resp.status_code == 400
    assert "Body is empty" in fault_of(resp).reason


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_on_a_soap_endpoint_are_405(fake_server: RunningServer, method: str) -> None:
    resp = requests.request(method, fake_server.url + "/iti41", timeout=10)
    assert resp.status_code == 405
    assert resp.headers["allow"] == "POST"
    assert "POST" in resp.text and len(resp.text) < 200


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_path_is_404_with_a_short_text(fake_server: RunningServer, method: str) -> None:
    resp = requests.request(method, fake_server.url + "/iti99", data=b"<x/>", timeout=10)
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/plain")
    assert "/iti99" in resp.text and len(resp.text) < 200


# --------------------------------------------------------------------------------------------------- limits


def _raw_http(srv: RunningServer, head: bytes, body: bytes = b"", wait: float = 10.0) -> bytes:
    """Send raw bytes and read what comes back until the server closes or ``wait`` passes."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=wait) as s:
        s.sendall(head + body)
        out = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                headers, _, rest = out.partition(b"\r\n\r\n")
                m = re.search(rb"(?i)content-length: *(\d+)", headers)
                if m and len(rest) >= int(m.group(1)):
                    break
        return out


def test_announced_body_over_the_limit_is_413_without_reading_it(
    server_factory, fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    srv = server_factory(fake_registry, max_body_bytes=1000, journal=journal)
    head = (
        b"POST /iti41 HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml\r\nContent-Length: 1000000000\r\n\r\n"
    )
    started = time.monotonic()
    out = _raw_http(srv, head, b"<x/>")
    assert out.startswith(b"HTTP/1.1 413"), out[:200]
    assert time.monotonic() - started < 5
    assert b"Fault" in out
    (recorded,) = journal.exchanges()
    assert recorded.http_status == 413 and recorded.error and "1000000000 bytes" in recorded.error


def test_streamed_body_over_the_limit_is_413(server_factory, fake_registry: FakeRegistry) -> None:
    srv = server_factory(fake_registry, max_body_bytes=10_000)

    def chunks():  # no Content-Length: chunked transfer coding, counted while read
        for _ in range(100):
            yield b"x" * 1000

    resp = requests.post(
        srv.url + "/iti41", data=chunks(), headers={"Content-Type": "application/soap+xml"}, timeout=10
    )
    assert resp.status_code == 413
    assert fault_of(resp).code == "Sender"


def test_body_under_the_limit_passes(server_factory, fake_registry: FakeRegistry) -> None:
    wire = pnr_wire(pnr_request())
    srv = server_factory(fake_registry, max_body_bytes=len(wire.body))
    assert post(srv.url + "/iti41", wire.body, wire.content_type).status_code == 200


def test_stalled_body_is_408_not_a_hang(server_factory, fake_registry: FakeRegistry) -> None:
    srv = server_factory(fake_registry, read_timeout=0.5)
    head = b"POST /iti18 HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml\r\nContent-Length: 100\r\n\r\n"
    started = time.monotonic()
    out = _raw_http(srv, head, b"<soap:Env", wait=10)
    assert out.startswith(b"HTTP/1.1 408"), out[:200]
    assert time.monotonic() - started < 5


def test_slow_but_steady_body_is_not_cut(server_factory, fake_registry: FakeRegistry) -> None:
    srv = server_factory(fake_registry, read_timeout=0.5)
    q = ebquery.AdhocQuery(iti18.FIND_DOCUMENTS, slots=ex.flux5_slots())
    data = soap_xml(iti18.encode_request(q), iti18.ACTION)
    head = (
        f"POST /iti18 HTTP/1.1\r\nHost: x\r\nContent-Type: {soap_content_type(iti18.ACTION)}\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(head)
        step = len(data) // 4 + 1
        for i in range(0, len(data), step):  # 4 pieces, 0.3 s apart: 0.9 s in all, never 0.5 s idle
            time.sleep(0.3)
            s.sendall(data[i : i + step])
        assert s.recv(12) == b"HTTP/1.1 200"


def test_invalid_content_length_is_400(fake_server: RunningServer) -> None:
    head = b"POST /iti18 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"
    out = _raw_http(fake_server, head)
    assert out.startswith(b"HTTP/1.1 400")


# --------------------------------------------------------------------------------------------------- journal


def test_journal_records_both_messages_and_their_findings(fake_server: RunningServer, journal: Journal) -> None:
    wire = pnr_wire(pnr_request())
    resp = post(fake_server.url + "/iti41", wire.body, wire.content_type)
    request = pnr_request()
    request.objects.entries[0].event_codes = []
    bad = pnr_wire(request, mtom=False)
    post(fake_server.url + "/iti41", bad.body, bad.content_type)
    first, second = journal.exchanges()
    assert first.actor == "registry" and first.direction == "received"
    assert first.transaction == "ITI-41"
    assert (first.request_flux, first.response_flux) == ("flux1", "flux2")
    assert first.request_action == iti41.ACTION and first.response_action == iti41.RESPONSE_ACTION
    assert re.fullmatch(r"127\.0\.0\.1:\d+", first.peer)
    assert first.endpoint == "/iti41"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first.time)
    assert first.request == wire.body and first.request_content_type == wire.content_type
    assert first.response == resp.content and first.response_content_type == resp.headers["content-type"]
    assert first.http_status == 200 and first.error is None
    assert [f for f in first.findings if f.severity == "error"] == []
    assert first.duration_ms is not None and first.duration_ms > 0
    assert "FLUX1.FICHE.MODALITE.CARD" in [f.rule for f in second.request_findings]
    assert [f for f in second.response_findings if f.severity == "error"] == []


def test_our_own_bad_response_shows_in_the_journal(
    fake_server: RunningServer, fake_registry: FakeRegistry, journal: Journal
) -> None:
    def broken(query: object) -> etree._Element:  # no @status: a bug of the registry
        el = ebquery.encode_response(ebquery.AdhocQueryResult())
        del el.attrib["status"]
        return el

    fake_registry.stored_query = broken  # type: ignore[method-assign]
    q = ebquery.AdhocQuery(iti18.FIND_DOCUMENTS, slots=ex.flux5_slots())
    resp = post(fake_server.url + "/iti18", soap_xml(iti18.encode_request(q), iti18.ACTION), soap_content_type(""))
    assert resp.status_code == 200
    (recorded,) = journal.exchanges()
    assert recorded.response_flux == "flux6"
    assert any(f.severity == "error" for f in recorded.response_findings)


def test_request_findings_that_are_warnings_keep_the_response_clean(
    fake_server: RunningServer, journal: Journal
) -> None:
    slots = [*ex.flux5_slots(), ("$XDSDocumentEntryUnknownThing", ["'x'"])]  # SQ.PARAM.UNKNOWN is a warning
    resp = post(fake_server.url + "/iti18", _query(slots), soap_content_type(iti18.ACTION))
    status, errors = registry_errors_of(resp)
    assert status == SUCCESS and errors == []
    (recorded,) = journal.exchanges()
    assert "SQ.PARAM.UNKNOWN" in [f.rule for f in recorded.request_findings]


def test_percent_encoded_xop_href_is_resolved(fake_server: RunningServer, fake_registry: FakeRegistry) -> None:
    request = pnr_request()
    wire = pnr_wire(request)
    cid = iti41.content_id(request.documents[0].id)
    assert b"@" in cid.encode()
    body = wire.body.replace(f'href="cid:{cid}"'.encode(), f'href="cid:{cid.replace("@", "%40")}"'.encode())
    assert body != wire.body
    status, _ = registry_errors_of(post(fake_server.url + "/iti41", body, wire.content_type))
    assert status == SUCCESS
    assert request.documents[0].content in [v[1] for v in fake_registry.documents.values()]


def test_inline_base64_and_mtom_reach_the_registry_byte_exact(
    fake_server: RunningServer, fake_registry: FakeRegistry
) -> None:
    request = pnr_request()
    payload = bytes(range(256)) * 64
    request.documents[1].content = payload
    for use_mtom in (True, False):
        fake_registry.documents.clear()
        wire = pnr_wire(copy.deepcopy(request), mtom=use_mtom)
        assert registry_errors_of(post(fake_server.url + "/iti41", wire.body, wire.content_type))[0] == SUCCESS
        assert payload in [v[1] for v in fake_registry.documents.values()]
    assert base64.b64encode(payload)  # the inline form carried it in base64
