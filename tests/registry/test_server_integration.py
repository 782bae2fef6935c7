"""The registry server end to end with the real :class:`Registry` on SQLite, over a real socket.

ITI-41 (MTOM and inline) → ITI-18 finds it → ITI-43 returns the same bytes; ITI-57 archives and the search
by status sees it; duplicates; concurrent submissions (8 threads; two racing on one uniqueId).
"""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from lxml import etree

from simulators.registry.server import RunningServer
from tests.registry.conftest_server import (
    REPOSITORY_UID,
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
from xdsi.messages import iti18, iti41, iti43, iti57, soap
from xdsi.messages.capture import read_message
from xdsi.model import metadata as md
from xdsi.model.metadata import DocumentEntry, RegistryObjects
from xdsi.model.responses import FAILURE, SUCCESS, RegistryResponse
from xdsi.model.retrieve import DocumentRequest

pytest_plugins = ["tests.registry.conftest_server"]  # its fixtures: servers, registries, journal, TLS


def body_of(resp: requests.Response) -> tuple[etree._Element, dict[str, bytes]]:
    raw = read_message(resp.content, resp.headers.get("content-type"))
    assert raw.envelope is not None and raw.envelope.fault is None, resp.text[:500]
    assert raw.body is not None
    return raw.body, raw.attachments


def submit(srv: RunningServer, request: iti41.ProvideAndRegisterRequest, mtom: bool = True) -> RegistryResponse:
    wire = pnr_wire(request, mtom=mtom)
    resp = post(srv.url + "/iti41", wire.body, wire.content_type)
    assert resp.status_code == 200
    body, _ = body_of(resp)
    return decode.registry_response(body)


def find(srv: RunningServer, exam: ex.Exam, statuses: tuple[str, ...] = (md.APPROVED,)) -> list[DocumentEntry]:
    slots = [
        ("$XDSDocumentEntryPatientId", [f"'{exam.patient_id}'"]),
        ("$XDSDocumentEntryStatus", ["(" + ",".join(f"'{s}'" for s in statuses) + ")"]),
    ]
    data = soap_xml(iti18.encode_request(ebquery.AdhocQuery(iti18.FIND_DOCUMENTS, slots=slots)), iti18.ACTION)
    resp = post(srv.url + "/iti18", data, soap_content_type(iti18.ACTION))
    body, _ = body_of(resp)
    result = iti18.decode_response(body)
    assert result.response.status == SUCCESS, result.response.errors
    return result.objects.entries


def retrieve(srv: RunningServer, *unique_ids: str) -> dict[str, tuple[str, bytes]]:
    body = iti43.encode_request([DocumentRequest(REPOSITORY_UID, u) for u in unique_ids])
    resp = post(srv.url + "/iti43", soap_xml(body, iti43.ACTION), soap_content_type(iti43.ACTION))
    assert resp.headers["content-type"].startswith("multipart/related")
    root, attachments = body_of(resp)
    got = iti43.decode_response(root, attachments)
    assert got.response.status == SUCCESS, got.response.errors
    return {d.document_unique_id: (d.mime_type, d.content) for d in got.documents}


@pytest.mark.parametrize("mtom", [True, False], ids=["mtom", "inline"])
def test_submit_find_retrieve_the_same_bytes(real_server: RunningServer, journal: Journal, mtom: bool) -> None:
    exam = fresh_exam()
    request = pnr_request(exam)
    response = submit(real_server, request, mtom)
    assert response.status == SUCCESS, response.errors
    entries = find(real_server, exam)
    assert sorted(e.unique_id or "" for e in entries) == sorted([exam.kos_uid, exam.report_uid])
    assert all(e.repository_unique_id == REPOSITORY_UID for e in entries)
    docs = retrieve(real_server, exam.kos_uid, exam.report_uid)
    assert docs[exam.kos_uid] == ("application/dicom", request.documents[0].content)
    assert docs[exam.report_uid] == ("text/xml", request.documents[1].content)
    recorded = list(journal.exchanges())
    assert [r.transaction for r in recorded] == ["ITI-41", "ITI-18", "ITI-43"]
    for r in recorded:  # our responses are valid Flux 2/6/8 messages
        assert [f for f in r.response_findings if f.severity == "error"] == [], (r.transaction, r.response_findings)


def test_update_archives_then_search_by_status(real_server: RunningServer) -> None:
    exam = fresh_exam()
    assert submit(real_server, pnr_request(exam)).status == SUCCESS
    kos = next(e for e in find(real_server, exam) if e.unique_id == exam.kos_uid)
    update = ex.flux3_status(exam)
    update.submission_sets[0].unique_id = ex.uid(exam.name, "update", "1")
    update.associations[0] = dataclasses.replace(update.associations[0], target=kos.entry_uuid)
    data = soap_xml(iti57.encode_request(update), iti57.ACTION)
    resp = post(real_server.url + "/iti57", data, soap_content_type(iti57.ACTION))
    env = read_message(resp.content, resp.headers["content-type"]).envelope
    assert env is not None and env.action == iti57.RESPONSE_ACTION
    body, _ = body_of(resp)
    assert decode.registry_response(body).status == SUCCESS
    assert [e.unique_id for e in find(real_server, exam, (md.ARCHIVED,))] == [exam.kos_uid]
    assert [e.unique_id for e in find(real_server, exam)] == [exam.report_uid]


def test_update_in_dmp_profile_answers_with_the_dmp_action(server_factory, real_registry: Any) -> None:
    srv = server_factory(real_registry, profile="dmp")
    exam = fresh_exam()
    assert submit(srv, pnr_request(exam)).status == SUCCESS
    kos = next(e for e in find(srv, exam) if e.unique_id == exam.kos_uid)
    update = ex.flux3_status(exam)
    update.associations[0] = dataclasses.replace(update.associations[0], target=kos.entry_uuid)
    resp = post(srv.url + "/iti57", soap_xml(iti57.encode_request(update), iti57.ACTION), soap_content_type(""))
    env = read_message(resp.content, resp.headers["content-type"]).envelope
    assert env is not None and env.action == iti57.DMP_RESPONSE_ACTION
    body, _ = body_of(resp)
    assert decode.registry_response(body).status == SUCCESS


def test_the_same_submission_twice_is_a_duplicate(real_server: RunningServer) -> None:
    request = pnr_request()
    assert submit(real_server, request).status == SUCCESS
    again = submit(real_server, request)
    assert again.status == FAILURE
    assert "XDSDuplicateUniqueIdInRegistry" in {e.code for e in again.errors}


def test_validation_failure_never_reaches_the_store(real_server: RunningServer) -> None:
    exam = fresh_exam()
    request = pnr_request(exam)
    request.objects.entries[0].event_codes = [exam.region]
    response = submit(real_server, request)
    assert response.status == FAILURE
    assert {e.code for e in response.errors} == {"XDSRepositoryMetadataError"}
    assert find(real_server, exam) == []


def test_retrieve_of_an_unknown_document(real_server: RunningServer) -> None:
    body = iti43.encode_request([DocumentRequest(REPOSITORY_UID, "1.2.3.4.5.404")])
    resp = post(real_server.url + "/iti43", soap_xml(body, iti43.ACTION), soap_content_type(iti43.ACTION))
    assert resp.status_code == 200
    root, attachments = body_of(resp)
    got = iti43.decode_response(root, attachments)
    assert got.response.status == FAILURE and got.documents == []
    assert len(got.response.errors) == 1  # its code is the registry's choice (tests/registry of the domain)


def test_eight_threads_submitting_at_once(real_server: RunningServer, journal: Journal) -> None:
    exams = [fresh_exam() for _ in range(8)]
    barrier = threading.Barrier(len(exams))

    def one(exam: ex.Exam) -> RegistryResponse:
        request = pnr_request(exam)
        barrier.wait(10)
        return submit(real_server, request)

    with ThreadPoolExecutor(len(exams)) as pool:
        results = list(pool.map(one, exams))
    assert [r.status for r in results] == [SUCCESS] * len(exams), [r.errors for r in results if not r.ok]
    found = {e.unique_id for e in find(real_server, exams[0])}  # the example exams share one patient
    assert found == {u for exam in exams for u in (exam.kos_uid, exam.report_uid)}
    assert len([r for r in journal.exchanges(transaction="ITI-41")]) == len(exams)


@pytest.mark.parametrize("attempt", range(3))
def test_two_racing_on_one_unique_id_one_wins(real_server: RunningServer, attempt: int) -> None:
    exam = fresh_exam()
    first, second = pnr_request(exam), pnr_request(exam)
    second.objects.submission_sets[0].unique_id = ex.uid(exam.name, "other-submission-set")
    barrier = threading.Barrier(2)

    def one(request: iti41.ProvideAndRegisterRequest) -> RegistryResponse:
        wire = pnr_wire(request)
        barrier.wait(10)
        resp = post(real_server.url + "/iti41", wire.body, wire.content_type)
        return decode.registry_response(body_of(resp)[0])

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(one, [first, second]))
    statuses = sorted(r.status for r in results)
    assert statuses == sorted([SUCCESS, FAILURE]), [r.errors for r in results]
    loser = next(r for r in results if r.status == FAILURE)
    assert {e.code for e in loser.errors} == {"XDSDuplicateUniqueIdInRegistry"}
    assert len(find(real_server, exam)) == 2


def test_root_endpoint_serves_every_transaction(real_server: RunningServer) -> None:
    exam = fresh_exam()
    wire = pnr_wire(pnr_request(exam))
    resp = post(real_server.url + "/", wire.body, wire.content_type)
    assert decode.registry_response(body_of(resp)[0]).status == SUCCESS
    body = iti43.encode_request([DocumentRequest(REPOSITORY_UID, exam.kos_uid)])
    resp = post(real_server.url + "/", soap_xml(body, iti43.ACTION), soap_content_type(iti43.ACTION))
    root, attachments = body_of(resp)
    assert [d.document_unique_id for d in iti43.decode_response(root, attachments).documents] == [exam.kos_uid]
    objects = RegistryObjects()
    resp = post(real_server.url + "/", soap_xml(iti57.encode_request(objects), iti57.ACTION), soap_content_type(""))
    env = read_message(resp.content, resp.headers["content-type"]).envelope
    assert env is not None and env.action == iti57.RESPONSE_ACTION
    assert env.body is not None and env.body.tag == f"{{{soap.RS}}}RegistryResponse"
