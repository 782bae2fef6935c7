"""The producer and consumer clients: fault handling (mocked HTTP with ``responses``) and the happy paths
against the real registry server on a real socket."""

from __future__ import annotations

import base64
import dataclasses
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import responses
from lxml import etree

from simulators.consumer.client import ConsumerClient, adhoc_query, find_documents_query
from simulators.producer.client import ProducerClient
from simulators.producer.soapclient import TransportError, sibling_url
from simulators.registry.server import RunningServer, create_app, start_in_thread
from tests.registry.conftest_server import REPOSITORY_UID, fresh_exam, pnr_request, real_registry_class
from xdsi.ebrim import encode as ebencode
from xdsi.ebrim import query as ebquery
from xdsi.journal import Journal
from xdsi.messages import examples as ex
from xdsi.messages import iti18, iti43, soap
from xdsi.messages.wire import to_wire
from xdsi.model import metadata as md
from xdsi.model.responses import FAILURE, RegistryError, RegistryResponse
from xdsi.model.retrieve import DocumentRequest, RetrievedDocument, RetrieveResponse
from xdsi.model.storedquery import build_stored_query

URL = "http://registry.test/iti41"
QUERY_URL = "http://registry.test/iti18"


def fault_body(code: str = "Sender", reason: str = "bad request", subcode: str | None = None) -> bytes:
    env = soap.build_envelope(soap.build_fault(code, reason, subcode), soap.WSA_FAULT_ACTION, relates_to="urn:x")
    return etree.tostring(env)


# --------------------------------------------------------------------------------------------------- faults


def test_connection_refused_is_a_transport_error(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    journal = Journal(tmp_path / "j.sqlite")
    client = ProducerClient(f"http://127.0.0.1:{port}/iti41", timeout=5, journal=journal)
    with pytest.raises(TransportError, match="cannot reach") as info:
        client.provide_and_register(pnr_request())
    assert info.value.status is None and info.value.exchange is not None
    (recorded,) = journal.exchanges()
    assert recorded.direction == "sent" and recorded.actor == "producer"
    assert recorded.error and "cannot reach" in recorded.error
    assert recorded.http_status is None and recorded.request and not recorded.response


@responses.activate
def test_http_error_without_soap_is_a_transport_error() -> None:
    responses.post(URL, body=b"<html><body>Bad Gateway</body>", status=502, content_type="text/html")
    with pytest.raises(TransportError, match="HTTP 502") as info:
        ProducerClient(URL).provide_and_register(pnr_request())
    assert info.value.status == 502 and info.value.fault_code is None


@responses.activate
@pytest.mark.parametrize("status", [200, 400, 500])
def test_soap_fault_is_a_transport_error_with_code_and_reason(status: int) -> None:
    body = fault_body("Sender", "the action is wrong", f"{{{soap.WSA}}}ActionNotSupported")
    responses.post(URL, body=body, status=status, content_type="application/soap+xml")
    with pytest.raises(TransportError) as info:
        ProducerClient(URL).provide_and_register(pnr_request())
    err = info.value
    assert err.fault_code == "Sender"
    assert err.fault_subcodes == ("wsa:ActionNotSupported",)
    assert err.fault_reason == "the action is wrong"
    assert err.status == status
    assert "SOAP Fault Sender / wsa:ActionNotSupported: the action is wrong" in str(err)


@responses.activate
@pytest.mark.parametrize(
    ("body", "content_type", "match"),
    [
        (b"\x00\x01 not xml", "application/soap+xml", "unreadable response"),
        (b"<html>ok</html>", "text/html", "not a SOAP envelope"),
        (b"", "application/soap+xml", "unreadable response"),
        (
            b"--MIMEBoundary\r\nContent-Type: application/xop+xml\r\n\r\n<x",
            'multipart/related; boundary="MIMEBoundary"',
            "unreadable response",
        ),
    ],
    ids=["binary", "html", "empty", "truncated-multipart"],
)
def test_unreadable_response_is_a_transport_error(body: bytes, content_type: str, match: str) -> None:
    responses.post(URL, body=body, status=200, content_type=content_type)
    with pytest.raises(TransportError, match=match):
        ProducerClient(URL).provide_and_register(pnr_request())


@responses.activate
def test_wrong_response_body_is_a_transport_error() -> None:
    body = to_wire(ebquery.encode_response(ebquery.AdhocQueryResult()), iti18.RESPONSE_ACTION, relates_to="x").body
    responses.post(URL, body=body, status=200, content_type="application/soap+xml")
    with pytest.raises(TransportError, match="not a rs:RegistryResponse"):
        ProducerClient(URL).provide_and_register(pnr_request())


@responses.activate
@pytest.mark.parametrize(
    ("exc", "match"),
    [
        (requests.exceptions.ConnectTimeout("slow"), "no answer"),
        (requests.exceptions.ReadTimeout("slow"), "no answer"),
        (requests.exceptions.SSLError("certificate verify failed"), "TLS handshake"),
        (requests.exceptions.ConnectionError("reset by peer"), "cannot reach"),
    ],
)
def test_network_errors_are_transport_errors(exc: Exception, match: str) -> None:
    responses.post(QUERY_URL, body=exc)
    with pytest.raises(TransportError, match=match):
        ConsumerClient(QUERY_URL).find_documents(ex.Exam().patient_id)


@responses.activate
def test_failure_response_is_returned_not_raised() -> None:
    failure = RegistryResponse.failure(RegistryError("XDSRegistryMetadataError", "no"))
    body = to_wire(ebencode.registry_response(failure), "urn:x", relates_to="x").body
    responses.post(URL, body=body, status=200, content_type="application/soap+xml")
    response, exchange = ProducerClient(URL).provide_and_register(pnr_request())
    assert response.status == FAILURE and response.errors[0].code == "XDSRegistryMetadataError"
    assert any("RelatesTo" in n for n in exchange.notes)  # "x" is not our MessageID


@responses.activate
def test_retrieve_reads_inline_base64_responses() -> None:
    doc = RetrievedDocument(REPOSITORY_UID, "1.2.3", "application/dicom", b"\x00DICM\xff" * 10)
    body, _ = iti43.encode_response(RetrieveResponse(RegistryResponse(), [doc]), mtom=False)
    wire = to_wire(body, iti43.RESPONSE_ACTION, relates_to="x")
    assert base64.b64encode(doc.content) in wire.body
    responses.post("http://registry.test/iti43", body=wire.body, status=200, content_type=wire.content_type)
    got = ConsumerClient(QUERY_URL).retrieve([DocumentRequest(REPOSITORY_UID, "1.2.3")])
    assert [d.content for d in got.documents] == [doc.content]


@responses.activate
def test_the_request_sent_is_what_the_message_modules_build() -> None:
    responses.post(URL, body=to_wire(ebencode.registry_response(RegistryResponse()), "urn:x", relates_to="x").body)
    ProducerClient(URL).provide_and_register(pnr_request(), mtom=True)
    sent = responses.calls[0].request
    ctype = str(sent.headers["Content-Type"])
    assert ctype.startswith("multipart/related") and 'start-info="application/soap+xml"' in ctype
    assert 'action="urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"' in ctype
    assert isinstance(sent.body, bytes) and b"xop:Include" in sent.body


def test_sibling_urls() -> None:
    assert sibling_url("http://h:1/iti41", "/iti41", "/iti57") == "http://h:1/iti57"
    assert sibling_url("http://h:1/iti41/", "/iti41", "/iti57") == "http://h:1/iti57"
    assert sibling_url("http://h:1/", "/iti41", "/iti57") == "http://h:1/"
    assert ProducerClient("http://h/iti41").update_url == "http://h/iti57"
    assert ConsumerClient("http://h/iti18").retrieve_url == "http://h/iti43"
    assert ConsumerClient("http://h/xds", retrieve_url="http://other/r").retrieve_url == "http://other/r"


# --------------------------------------------------------------------------------------------------- queries


def test_find_documents_query_encodes_the_imaging_criteria() -> None:
    exam = ex.Exam()
    q = find_documents_query(exam.patient_id, modalities=["CT", "MR"], regions=["67734004"])
    assert q.query_id == iti18.FIND_DOCUMENTS
    adhoc = adhoc_query(q)
    slots = dict((name, values) for name, values in adhoc.slots if name != "$XDSDocumentEntryEventCodeList")
    assert slots["$XDSDocumentEntryPatientId"] == [f"'{exam.patient_id}'"]
    assert slots["$XDSDocumentEntryStatus"] == [f"('{md.APPROVED}')"]
    events = [values for name, values in adhoc.slots if name == "$XDSDocumentEntryEventCodeList"]
    assert events == [[f"('CT^^{md.DCM}','MR^^{md.DCM}')"], [f"('67734004^^{md.SNOMED_CT}')"]]
    by_ref = find_documents_query(exam.patient_id, study_uids=[exam.study_uid], service_start_from="20260101")
    assert by_ref.query_id == iti18.FIND_DOCUMENTS_BY_REFERENCE_ID
    adhoc = adhoc_query(by_ref)
    assert ("$XDSDocumentEntryServiceStartTimeFrom", ["20260101"]) in adhoc.slots
    # what we encode reads back to the same query
    again = build_stored_query(adhoc.query_id, adhoc.slots, adhoc.return_type)
    assert again.params == by_ref.params


# --------------------------------------------------------------------------------------------------- happy paths


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[RunningServer, Journal]]:
    registry = real_registry_class()(f"sqlite:///{tmp_path / 'registry.sqlite'}", repository_unique_id=REPOSITORY_UID)
    journal = Journal(tmp_path / "journal.sqlite")
    srv = start_in_thread(create_app(registry, journal=journal))
    yield srv, journal
    srv.stop()
    registry.close()


@pytest.mark.parametrize("mtom", [True, False], ids=["mtom", "inline"])
def test_publish_search_retrieve_update(live: tuple[RunningServer, Journal], mtom: bool) -> None:
    srv, journal = live
    exam = fresh_exam()
    request = pnr_request(exam)
    with (
        ProducerClient(srv.url + "/iti41", journal=journal) as producer,
        ConsumerClient(srv.url + "/iti18", journal=journal) as consumer,
    ):
        response, exchange = producer.provide_and_register(request, mtom=mtom)
        assert response.ok, response.errors
        assert exchange.http_status == 200 and exchange.request_flux == "flux1" and exchange.response_flux == "flux2"
        assert exchange.response_action == "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"
        assert exchange.notes == []  # RelatesTo matched, nothing odd

        found = consumer.find_documents(exam.patient_id, modalities=["CT"], regions=[exam.region.code])
        assert found.response.ok
        kos = next(e for e in found.objects.entries if e.unique_id == exam.kos_uid)
        assert kos.repository_unique_id == REPOSITORY_UID
        assert {
            e.unique_id for e in consumer.find_documents(exam.patient_id, modalities=["MR"]).objects.entries
        } == set()
        by_accession = consumer.find_documents(
            exam.patient_id, accession_numbers=[exam.accession_number], accession_issuer=exam.accession_issuer
        )
        assert {e.unique_id for e in by_accession.objects.entries} == {exam.kos_uid, exam.report_uid}
        adhoc = ebquery.AdhocQuery(iti18.FIND_DOCUMENTS, slots=ex.flux5_slots(exam))
        assert [e.unique_id for e in consumer.stored_query(adhoc).objects.entries] == [exam.kos_uid]

        got = consumer.retrieve([DocumentRequest(REPOSITORY_UID, exam.kos_uid)])
        assert got.response.ok
        assert [(d.mime_type, d.content) for d in got.documents] == [
            ("application/dicom", request.documents[0].content)
        ]

        update = ex.flux3_status(exam)
        update.associations[0] = dataclasses.replace(update.associations[0], target=kos.entry_uuid)
        assert producer.update(update).ok
        archived = consumer.find_documents(exam.patient_id, statuses=[md.ARCHIVED])
        assert [e.unique_id for e in archived.objects.entries] == [exam.kos_uid]

    recorded = list(journal.exchanges(actor="producer")) + list(journal.exchanges(actor="consumer"))
    assert {r.direction for r in recorded} == {"sent"}
    assert {r.transaction for r in recorded} == {"ITI-41", "ITI-57", "ITI-18", "ITI-43"}
    for r in recorded:
        assert [f for f in r.request_findings if f.severity == "error"] == [], (r.transaction, r.request_findings)
        assert [f for f in r.response_findings if f.severity == "error"] == [], (r.transaction, r.response_findings)
    assert len(list(journal.exchanges(actor="registry"))) == len(recorded)


def test_client_sees_the_server_faults(live: tuple[RunningServer, Journal]) -> None:
    srv, _ = live
    with pytest.raises(TransportError) as info, ProducerClient(srv.url + "/iti18") as wrong_endpoint:
        wrong_endpoint.provide_and_register(pnr_request())
    assert info.value.status == 400
    assert info.value.fault_code == "Sender" and info.value.fault_subcodes == ("wsa:ActionNotSupported",)


def test_consumer_gets_the_validation_failure(live: tuple[RunningServer, Journal]) -> None:
    srv, _ = live
    bad = ebquery.AdhocQuery(iti18.FIND_DOCUMENTS, slots=[("$XDSDocumentEntryStatus", [f"('{md.APPROVED}')"])])
    with ConsumerClient(srv.url + "/") as consumer:
        result = consumer.stored_query(bad)
    assert result.response.status == FAILURE
    assert [e.code for e in result.response.errors] == ["XDSStoredQueryMissingParam"]


def test_post_sends_a_captured_message_as_it_is(live: tuple[RunningServer, Journal]) -> None:
    srv, _ = live
    from simulators.producer.soapclient import SoapClient

    q = ebquery.AdhocQuery(iti18.FIND_DOCUMENTS, slots=ex.flux5_slots())
    wire = to_wire(iti18.encode_request(q), iti18.ACTION)
    client = SoapClient()
    reply = client.post(srv.url + "/", wire.body, wire.content_type)
    assert reply.exchange.transaction == "ITI-18" and reply.exchange.request == wire.body
    assert etree.QName(reply.body).localname == "AdhocQueryResponse"
    assert client.last_exchange is reply.exchange
