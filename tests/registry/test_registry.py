"""The registry/repository domain: ITI-41 (Flux 1→2), ITI-57 (Flux 3→4), ITI-43 (Flux 7→8), durability and
concurrency, on SQLite and (with XDSI_TEST_POSTGRES_URL) PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lxml import etree

from simulators.registry.registry import ALLOWED_TRANSITIONS, Registry
from tests.registry.conftest import (
    PATIENT_A,
    PATIENT_B,
    codes,
    entry_by_unique_id,
    exam,
    find_documents,
    kos_only,
    new_version,
    pid,
    pnr,
    q,
    ql,
    query,
    run,
    single_document,
    status_update,
    update_submission_set,
)
from xdsi.messages import examples as ex
from xdsi.messages import iti41, iti57
from xdsi.messages.iti41 import ProvideAndRegisterRequest
from xdsi.model import metadata as md
from xdsi.model.metadata import Association, Document, Folder, RegistryObjects
from xdsi.model.responses import FAILURE, PARTIAL_SUCCESS, SUCCESS
from xdsi.model.retrieve import DocumentRequest

REPO = "1.2.250.1.999.42.3.1"


def assert_refused(response, code: str) -> None:
    assert response.status == FAILURE, response
    assert code in codes(response), response
    for e in response.errors:
        assert e.context, e


# ==================================================================================================
# ITI-41


def test_pnr_registers_the_exam_as_the_registry_holds_it(registry: Registry) -> None:
    e = exam("reg-basic")
    request = pnr(e)
    response = registry.provide_and_register(request)
    assert response.status == SUCCESS and not response.errors
    kos = entry_by_unique_id(registry, e.kos_uid)
    assert len(kos) == 1
    de = kos[0]
    assert de.entry_uuid.startswith("urn:uuid:") and de.entry_uuid != "DocumentEntry-KOS"
    assert de.logical_id == de.entry_uuid
    assert de.status == md.APPROVED and de.version == "1"
    content = ex.kos_bytes(e)
    assert de.hash == hashlib.sha1(content).hexdigest()
    assert de.size == str(len(content))
    assert de.repository_unique_id == REPO
    assert de.mime_type == "application/dicom"
    assert {c.code for c in de.event_codes} == {"CT", "67734004", "ZBQK001"}
    assert de.reference_ids == pnr(e).objects.entries[0].reference_ids
    # the caller's request is left as it was
    assert request.objects.entries[0].entry_uuid == "DocumentEntry-KOS"
    assert request.objects.entries[0].hash is None


def test_pnr_rewrites_symbolic_ids_in_associations(registry: Registry) -> None:
    e = exam("reg-assoc")
    assert registry.provide_and_register(pnr(e)).ok
    response, objects, _ = run(
        registry,
        query("GetSubmissionSetAndContents", ("$XDSSubmissionSetUniqueId", q(ex.uid(e.name, "submission-set")))),
    )
    assert response.ok
    assert len(objects.submission_sets) == 1 and len(objects.entries) == 2 and len(objects.associations) == 2
    ss = objects.submission_sets[0]
    assert ss.status == md.APPROVED and ss.entry_uuid.startswith("urn:uuid:")
    entry_ids = {de.entry_uuid for de in objects.entries}
    for a in objects.associations:
        assert a.type == md.HAS_MEMBER and a.source == ss.entry_uuid and a.target in entry_ids
        assert a.id.startswith("urn:uuid:") and a.submission_set_status == "Original"


def test_pnr_keeps_submitter_uuids_and_refuses_registered_ones(registry: Registry) -> None:
    request = single_document("reg-uuid")
    given = "urn:uuid:0a2f7a52-6a19-4bd4-9a4e-5c1d1d0f0001"
    request.objects.entries[0].entry_uuid = given
    request.objects.associations[0].target = given
    request.documents[0].id = given
    assert registry.provide_and_register(request).ok
    assert entry_by_unique_id(registry, request.objects.entries[0].unique_id or "")[0].entry_uuid == given
    again = single_document("reg-uuid-2")
    again.objects.entries[0].entry_uuid = given
    again.objects.associations[0].target = given
    again.documents[0].id = given
    response = registry.provide_and_register(again)
    assert_refused(response, "XDSRegistryMetadataError")
    assert given in response.errors[0].context


def test_duplicate_unique_id_in_registry_is_refused_and_nothing_is_registered(registry: Registry) -> None:
    e = exam("reg-dup")
    assert registry.provide_and_register(pnr(e)).ok
    second = single_document("reg-dup-2", unique_id=e.kos_uid)
    response = registry.provide_and_register(second)
    assert_refused(response, "XDSDuplicateUniqueIdInRegistry")
    assert e.kos_uid in response.errors[0].context
    # the second submission set was not registered
    resp, objects, _ = run(
        registry,
        query(
            "GetSubmissionSetAndContents",
            ("$XDSSubmissionSetUniqueId", q(second.objects.submission_sets[0].unique_id or "")),
        ),
    )
    assert resp.ok and not objects.submission_sets


def test_same_document_resubmitted_is_refused_too(registry: Registry) -> None:
    e = exam("reg-resubmit")
    assert registry.provide_and_register(pnr(e)).ok
    again = pnr(e)
    again.objects.submission_sets[0].unique_id = ex.uid("another submission set")
    response = registry.provide_and_register(again)
    assert_refused(response, "XDSDuplicateUniqueIdInRegistry")
    assert "same content" in response.errors[0].context


def test_duplicate_unique_id_in_message(registry: Registry) -> None:
    request = pnr(exam("reg-dup-msg"))
    request.objects.entries[1].unique_id = request.objects.entries[0].unique_id
    response = registry.provide_and_register(request)
    assert_refused(response, "XDSRegistryDuplicateUniqueIdInMessage")
    assert "DocumentEntry-CR" in response.errors[0].context


def test_duplicate_submission_set_unique_id(registry: Registry) -> None:
    assert registry.provide_and_register(single_document("reg-ss-1")).ok
    second = single_document("reg-ss-2")
    second.objects.submission_sets[0].unique_id = single_document("reg-ss-1").objects.submission_sets[0].unique_id
    assert_refused(registry.provide_and_register(second), "XDSDuplicateUniqueIdInRegistry")


def test_missing_document(registry: Registry) -> None:
    request = pnr(exam("reg-missing"))
    request.documents = request.documents[:1]
    response = registry.provide_and_register(request)
    assert_refused(response, "XDSMissingDocument")
    assert "DocumentEntry-CR" in response.errors[0].context
    assert not entry_by_unique_id(registry, request.objects.entries[0].unique_id or "")  # atomic


def test_unresolvable_xop_content_counts_as_missing(registry: Registry) -> None:
    request = pnr(exam("reg-xop"))
    request.documents[1].occurrences["content"] = 0
    assert_refused(registry.provide_and_register(request), "XDSMissingDocument")


def test_document_without_metadata(registry: Registry) -> None:
    request = pnr(exam("reg-orphan"))
    request.documents.append(Document("Orphan", b"nobody points at me"))
    response = registry.provide_and_register(request)
    assert_refused(response, "XDSMissingDocumentMetadata")
    assert "Orphan" in response.errors[0].context


def test_document_given_twice(registry: Registry) -> None:
    request = pnr(exam("reg-twice"))
    request.documents.append(Document("DocumentEntry-CR", b"again"))
    assert_refused(registry.provide_and_register(request), "XDSRepositoryMetadataError")


def test_on_demand_entry_needs_no_document(registry: Registry) -> None:
    request = single_document("reg-on-demand")
    request.objects.entries[0].object_type = md.ON_DEMAND
    request.documents = []
    assert registry.provide_and_register(request).ok


def test_patient_id_does_not_match(registry: Registry) -> None:
    request = pnr(exam("reg-patient"))
    request.objects.entries[1].patient_id = pid(PATIENT_B)
    response = registry.provide_and_register(request)
    assert_refused(response, "XDSPatientIdDoesNotMatch")
    assert "DocumentEntry-CR" in response.errors[0].context and PATIENT_B in response.errors[0].context


def test_folder_patient_id_does_not_match(registry: Registry) -> None:
    request = pnr(exam("reg-folder-patient"), folder=True)
    request.objects.folders[0].patient_id = pid(PATIENT_B)
    response = registry.provide_and_register(request)
    assert_refused(response, "XDSPatientIdDoesNotMatch")
    assert "Folder01" in response.errors[0].context


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("hash", "0" * 40, "XDSNonIdenticalHash"),
        ("size", "1", "XDSNonIdenticalSize"),
    ],
)
def test_submitted_hash_and_size_must_match_the_document(registry: Registry, field: str, value: str, code: str) -> None:
    request = single_document(f"reg-{field}")
    setattr(request.objects.entries[0], field, value)
    response = registry.provide_and_register(request)
    assert_refused(response, code)
    assert "Doc" in response.errors[0].context


def test_submitted_hash_and_size_that_match_are_accepted(registry: Registry) -> None:
    request = single_document("reg-hash-ok")
    content = request.documents[0].content
    request.objects.entries[0].hash = hashlib.sha1(content).hexdigest().upper()
    request.objects.entries[0].size = str(len(content))
    assert registry.provide_and_register(request).ok


def test_one_submission_set_exactly(registry: Registry) -> None:
    request = single_document("reg-no-ss")
    request.objects.submission_sets = []
    assert_refused(registry.provide_and_register(request), "XDSRegistryMetadataError")


def test_update_associations_are_not_accepted_in_iti41(registry: Registry) -> None:
    extra = Association(
        "U1", md.UPDATE_AVAILABILITY_STATUS, "SS", "Doc", original_status=md.APPROVED, new_status=md.DEPRECATED
    )
    assert_refused(registry.provide_and_register(single_document("reg-uas", extra=[extra])), "XDSRegistryMetadataError")


def test_unresolved_symbolic_reference(registry: Registry) -> None:
    extra = Association("A9", md.HAS_MEMBER, "SS", "NoSuchObject", submission_set_status="Original")
    response = registry.provide_and_register(single_document("reg-unresolved", extra=[extra]))
    assert_refused(response, "UnresolvedReferenceException")
    assert response.errors[0].context == "NoSuchObject"


def _registered_report(registry: Registry, name: str, patient: str = PATIENT_A) -> md.DocumentEntry:
    request = single_document(name, patient)
    assert registry.provide_and_register(request).ok
    return entry_by_unique_id(registry, request.objects.entries[0].unique_id or "")[0]


def _relation(kind: str, target: str) -> Association:
    return Association("Rel", kind, "Doc", target)


def test_rplc_deprecates_the_replaced_document(registry: Registry) -> None:
    old = _registered_report(registry, "reg-rplc-old")
    request = single_document("reg-rplc-new", extra=[_relation(md.RPLC, old.entry_uuid)])
    assert registry.provide_and_register(request).ok
    assert entry_by_unique_id(registry, old.unique_id or "")[0].status == md.DEPRECATED
    new = entry_by_unique_id(registry, request.objects.entries[0].unique_id or "")[0]
    assert new.status == md.APPROVED
    response, objects, _ = run(
        registry,
        query(
            "GetRelatedDocuments",
            ("$XDSDocumentEntryEntryUUID", q(new.entry_uuid)),
            ("$AssociationTypes", ql(md.RPLC)),
        ),
    )
    assert response.ok
    assert {de.entry_uuid for de in objects.entries} == {old.entry_uuid, new.entry_uuid}
    assert [a.type for a in objects.associations] == [md.RPLC]


@pytest.mark.parametrize("kind", [md.RPLC, md.APND, md.XFRM, md.XFRM_RPLC])
def test_relation_to_unknown_document(registry: Registry, kind: str) -> None:
    missing = "urn:uuid:00000000-0000-4000-8000-00000000dead"
    response = registry.provide_and_register(single_document("reg-rel-unknown", extra=[_relation(kind, missing)]))
    assert_refused(response, "UnresolvedReferenceException")
    assert response.errors[0].context == missing


@pytest.mark.parametrize("kind", [md.RPLC, md.APND, md.XFRM, md.XFRM_RPLC])
def test_relation_to_deprecated_document(registry: Registry, kind: str) -> None:
    old = _registered_report(registry, f"reg-dep-old-{kind[-4:]}")
    assert registry.provide_and_register(
        single_document(f"reg-dep-mid-{kind[-4:]}", extra=[_relation(md.RPLC, old.entry_uuid)])
    ).ok
    response = registry.provide_and_register(
        single_document(f"reg-dep-new-{kind[-4:]}", extra=[_relation(kind, old.entry_uuid)])
    )
    assert_refused(response, "XDSRegistryDeprecatedDocumentError")
    assert old.entry_uuid in response.errors[0].context


@pytest.mark.parametrize("kind", [md.RPLC, md.APND, md.XFRM, md.XFRM_RPLC])
def test_relation_to_another_patients_document(registry: Registry, kind: str) -> None:
    other = _registered_report(registry, f"reg-other-{kind[-4:]}", PATIENT_B)
    response = registry.provide_and_register(
        single_document(f"reg-mine-{kind[-4:]}", extra=[_relation(kind, other.entry_uuid)])
    )
    assert_refused(response, "XDSPatientIdDoesNotMatch")
    assert other.entry_uuid in response.errors[0].context


@pytest.mark.parametrize(("kind", "deprecates"), [(md.APND, False), (md.XFRM, False), (md.XFRM_RPLC, True)])
def test_append_and_transform_are_recorded(registry: Registry, kind: str, deprecates: bool) -> None:
    old = _registered_report(registry, f"reg-rec-old-{kind[-4:]}")
    assert registry.provide_and_register(
        single_document(f"reg-rec-new-{kind[-4:]}", extra=[_relation(kind, old.entry_uuid)])
    ).ok
    assert entry_by_unique_id(registry, old.unique_id or "")[0].status == (md.DEPRECATED if deprecates else md.APPROVED)
    response, objects, _ = run(registry, query("GetAssociations", ("$uuid", ql(old.entry_uuid))))
    assert response.ok and sorted(a.type for a in objects.associations) == sorted([md.HAS_MEMBER, kind])


def test_two_replacements_of_one_document_in_one_message(registry: Registry) -> None:
    old = _registered_report(registry, "reg-double-rplc")
    request = single_document("reg-double-rplc-new", extra=[_relation(md.RPLC, old.entry_uuid)])
    request.objects.associations.append(Association("Rel2", md.RPLC, "Doc", old.entry_uuid))
    assert_refused(registry.provide_and_register(request), "XDSRegistryDeprecatedDocumentError")


def test_signs_association_is_recorded(registry: Registry) -> None:
    request = single_document("reg-signs", extra=[Association("Sig", md.SIGNS, "Doc", "SS")])
    assert registry.provide_and_register(request).ok
    de = entry_by_unique_id(registry, request.objects.entries[0].unique_id or "")[0]
    _response, objects, _ = run(registry, query("GetAssociations", ("$uuid", ql(de.entry_uuid))))
    assert sorted(a.type for a in objects.associations) == sorted([md.HAS_MEMBER, md.SIGNS])


def test_folder_membership(registry: Registry) -> None:
    e = exam("reg-folder")
    assert registry.provide_and_register(pnr(e, folder=True)).ok
    response, objects, _ = run(
        registry, query("GetFolderAndContents", ("$XDSFolderUniqueId", q(ex.uid(e.name, "folder"))))
    )
    assert response.ok
    assert len(objects.folders) == 1 and [de.unique_id for de in objects.entries] == [e.kos_uid]
    folder = objects.folders[0]
    assert folder.status == md.APPROVED and folder.version == "1" and folder.logical_id == folder.entry_uuid
    assert folder.last_update_time and len(folder.last_update_time) == 14
    # a later submission adds a new report to the existing Folder
    request = single_document("reg-folder-add", extra=[Association("F", md.HAS_MEMBER, folder.entry_uuid, "Doc")])
    assert registry.provide_and_register(request).ok
    response, objects, _ = run(registry, query("GetFolderAndContents", ("$XDSFolderEntryUUID", q(folder.entry_uuid))))
    assert len(objects.entries) == 2


def test_folder_of_another_patient_cannot_take_a_document(registry: Registry) -> None:
    e = exam("reg-folder-b", PATIENT_B)
    assert registry.provide_and_register(pnr(e, folder=True)).ok
    folder = run(registry, query("GetFolders", ("$XDSFolderUniqueId", ql(ex.uid(e.name, "folder")))))[1].folders[0]
    request = single_document("reg-folder-b-add", extra=[Association("F", md.HAS_MEMBER, folder.entry_uuid, "Doc")])
    assert_refused(registry.provide_and_register(request), "XDSPatientIdDoesNotMatch")


def test_rplc_puts_the_replacement_in_the_replaced_documents_folders(registry: Registry) -> None:
    e = exam("reg-folder-rplc")
    assert registry.provide_and_register(pnr(e, folder=True)).ok
    old = entry_by_unique_id(registry, e.kos_uid)[0]
    request = single_document("reg-folder-rplc-new", extra=[_relation(md.RPLC, old.entry_uuid)])
    assert registry.provide_and_register(request).ok
    new = entry_by_unique_id(registry, request.objects.entries[0].unique_id or "")[0]
    _response, objects, _ = run(
        registry, query("GetFoldersForDocument", ("$XDSDocumentEntryEntryUUID", q(new.entry_uuid)))
    )
    assert [f.unique_id for f in objects.folders] == [ex.uid(e.name, "folder")]


# ==================================================================================================
# Concurrency and durability


def _submit_all(registry: Registry, requests: list[ProvideAndRegisterRequest]) -> list:
    barrier = threading.Barrier(len(requests))

    def submit(request: ProvideAndRegisterRequest):
        barrier.wait()
        return registry.provide_and_register(request)

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(submit, requests))


@pytest.mark.parametrize("same_patient", [True, False])
def test_concurrent_submissions_of_one_unique_id(registry: Registry, same_patient: bool) -> None:
    requests = [
        single_document(
            f"race-{same_patient}-{n}", PATIENT_A if same_patient or n % 2 else PATIENT_B, unique_id="1.2.3.4.5.6.7.8.9"
        )
        for n in range(8)
    ]
    responses = _submit_all(registry, requests)
    assert sum(r.ok for r in responses) == 1, responses
    for r in responses:
        if not r.ok:
            assert codes(r) == ["XDSDuplicateUniqueIdInRegistry"], r
    assert len(entry_by_unique_id(registry, "1.2.3.4.5.6.7.8.9")) == 1


def test_concurrent_distinct_submissions_all_succeed(registry: Registry) -> None:
    requests = [pnr(exam(f"parallel-{n}", PATIENT_A if n % 2 else PATIENT_B)) for n in range(8)]
    responses = _submit_all(registry, requests)
    assert all(r.ok for r in responses), responses
    assert len(find_documents(registry, PATIENT_A)) + len(find_documents(registry, PATIENT_B)) == 16


def test_concurrent_new_versions_of_one_entry(registry: Registry) -> None:
    e = exam("race-version")
    assert registry.provide_and_register(pnr(e)).ok
    current = entry_by_unique_id(registry, e.kos_uid)[0]
    updates = [new_version(current, "1") for _ in range(6)]
    barrier = threading.Barrier(len(updates))

    def send(objects: RegistryObjects):
        barrier.wait()
        return registry.update(objects)

    with ThreadPoolExecutor(len(updates)) as pool:
        responses = list(pool.map(send, updates))
    assert sum(r.ok for r in responses) == 1, responses
    for r in responses:
        if not r.ok:
            assert codes(r) == ["XDSMetadataVersionError"], r
    versions = entry_by_unique_id(registry, e.kos_uid)
    assert [v.version for v in versions] == ["1", "2"]
    assert [v.status for v in versions] == [md.DEPRECATED, md.APPROVED]


def test_restart_keeps_everything_acknowledged(store_url: str) -> None:
    e = exam("durable")
    reg = Registry(store_url)
    try:
        assert reg.provide_and_register(pnr(e)).ok
        current = entry_by_unique_id(reg, e.kos_uid)[0]
        assert reg.update(status_update(current.entry_uuid, md.APPROVED, md.ARCHIVED)).ok
    finally:
        reg.close()
    reopened = Registry(store_url)
    try:
        entries = find_documents(reopened, PATIENT_A, statuses=(md.APPROVED, md.ARCHIVED))
        assert {de.unique_id: de.status for de in entries} == {e.kos_uid: md.ARCHIVED, e.report_uid: md.APPROVED}
        retrieved = reopened.retrieve([DocumentRequest(REPO, e.kos_uid)])
        assert retrieved.response.ok and retrieved.documents[0].content == ex.kos_bytes(e)
        assert reopened.store.schema_versions() == [1]
    finally:
        reopened.close()


def test_load_bulk(registry: Registry) -> None:
    requests = [pnr(exam(f"bulk-{n}", PATIENT_A if n % 3 else PATIENT_B)) for n in range(25)]
    requests.append(pnr(exam("bulk-3", PATIENT_A)))  # same uniqueIds as bulk-3: refused alone
    result = registry.load_bulk(requests, batch_size=10)
    assert result.registered == 25
    assert [index for index, _ in result.failures] == [25]
    assert codes(result.failures[0][1])[0] == "XDSDuplicateUniqueIdInRegistry"
    assert len(find_documents(registry, PATIENT_A)) + len(find_documents(registry, PATIENT_B)) == 50


# ==================================================================================================
# ITI-57


def _archived_setup(registry: Registry, name: str) -> md.DocumentEntry:
    e = exam(name)
    assert registry.provide_and_register(pnr(e)).ok
    return entry_by_unique_id(registry, e.kos_uid)[0]


def test_status_update_archives_the_kos(registry: Registry) -> None:
    e = ex.Exam()
    assert registry.provide_and_register(pnr(e)).ok
    kos = entry_by_unique_id(registry, e.kos_uid)[0]
    update = ex.flux3_status(e)
    update.associations[0].target = kos.entry_uuid
    assert registry.update(update).ok
    assert entry_by_unique_id(registry, e.kos_uid)[0].status == md.ARCHIVED
    assert [de.unique_id for de in find_documents(registry, PATIENT_A, statuses=(md.ARCHIVED,))] == [e.kos_uid]
    assert [de.unique_id for de in find_documents(registry, PATIENT_A)] == [e.report_uid]


@pytest.mark.parametrize(("original", "new"), sorted(ALLOWED_TRANSITIONS))
def test_allowed_status_transitions(registry: Registry, original: str, new: str) -> None:
    kos = _archived_setup(registry, "transition")
    if original != md.APPROVED:
        assert registry.update(status_update(kos.entry_uuid, md.APPROVED, original, name="first")).ok
    response = registry.update(status_update(kos.entry_uuid, original, new))
    assert response.ok, response
    assert entry_by_unique_id(registry, kos.unique_id or "")[0].status == new


@pytest.mark.parametrize(
    ("setup", "original", "new"),
    [
        ([md.DELETED], md.DELETED, md.APPROVED),
        ([md.DELETED], md.DELETED, md.ARCHIVED),
        ([md.ARCHIVED], md.ARCHIVED, md.DEPRECATED),
        ([], md.APPROVED, md.APPROVED),
        ([md.DEPRECATED], md.DEPRECATED, md.DELETED),
        ([], md.APPROVED, "urn:example:NoSuchStatus"),
    ],
)
def test_refused_status_transitions(registry: Registry, setup: list[str], original: str, new: str) -> None:
    kos = _archived_setup(registry, "refused-transition")
    current = md.APPROVED
    for n, status in enumerate(setup):
        assert registry.update(status_update(kos.entry_uuid, current, status, name=f"setup-{n}")).ok
        current = status
    response = registry.update(status_update(kos.entry_uuid, original, new))
    assert_refused(response, "XDSMetadataUpdateOperationError")
    assert kos.entry_uuid in response.errors[0].context
    assert entry_by_unique_id(registry, kos.unique_id or "")[0].status == current


def test_status_update_with_wrong_original_status(registry: Registry) -> None:
    kos = _archived_setup(registry, "wrong-original")
    response = registry.update(status_update(kos.entry_uuid, md.ARCHIVED, md.DELETED))
    assert_refused(response, "XDSMetadataUpdateError")
    assert kos.entry_uuid in response.errors[0].context


def test_status_update_of_unknown_object(registry: Registry) -> None:
    missing = "urn:uuid:00000000-0000-4000-8000-0000000000aa"
    response = registry.update(status_update(missing, md.APPROVED, md.ARCHIVED))
    assert_refused(response, "UnresolvedReferenceException")
    assert response.errors[0].context == missing


def test_status_update_of_another_patients_document(registry: Registry) -> None:
    kos = _archived_setup(registry, "other-patient-status")
    response = registry.update(status_update(kos.entry_uuid, md.APPROVED, md.ARCHIVED, patient=PATIENT_B))
    assert_refused(response, "XDSPatientIdDoesNotMatch")


def test_status_update_of_a_folder_and_of_an_association(registry: Registry) -> None:
    e = exam("status-folder")
    assert registry.provide_and_register(pnr(e, folder=True)).ok
    folder = run(registry, query("GetFolders", ("$XDSFolderUniqueId", ql(ex.uid(e.name, "folder")))))[1].folders[0]
    assert registry.update(status_update(folder.entry_uuid, md.APPROVED, md.DEPRECATED, name="f")).ok
    membership = run(registry, query("GetAssociations", ("$uuid", ql(folder.entry_uuid))))[1].associations
    assert registry.update(status_update(membership[0].id, md.APPROVED, md.DEPRECATED, name="a")).ok
    refused = registry.update(status_update(membership[0].id, md.DEPRECATED, md.ARCHIVED, name="b"))
    assert_refused(refused, "XDSMetadataUpdateOperationError")
    folder_after = run(registry, query("GetFolders", ("$XDSFolderEntryUUID", ql(folder.entry_uuid))))[1].folders[0]
    assert folder_after.status == md.DEPRECATED


def test_failed_update_changes_nothing(registry: Registry) -> None:
    kos = _archived_setup(registry, "atomic-update")
    report = find_documents(registry, PATIENT_A, ("$XDSDocumentEntryClassCode", ql("10^^1.2.250.1.213.1.1.4.1")))[0]
    update = status_update(kos.entry_uuid, md.APPROVED, md.ARCHIVED)
    update.associations.append(
        Association(
            "Upd02",
            md.UPDATE_AVAILABILITY_STATUS,
            update.submission_sets[0].entry_uuid,
            report.entry_uuid,
            original_status=md.ARCHIVED,
            new_status=md.DELETED,
        )
    )
    assert_refused(registry.update(update), "XDSMetadataUpdateError")
    assert entry_by_unique_id(registry, kos.unique_id or "")[0].status == md.APPROVED
    response, objects, _ = run(
        registry,
        query(
            "GetSubmissionSetAndContents", ("$XDSSubmissionSetUniqueId", q(update.submission_sets[0].unique_id or ""))
        ),
    )
    assert response.ok and not objects.submission_sets


def test_new_version_of_a_document_entry(registry: Registry) -> None:
    e = ex.Exam()
    assert registry.provide_and_register(pnr(e)).ok
    v1 = entry_by_unique_id(registry, e.kos_uid)[0]
    update = ex.flux3_new_version(e)
    update.entries[0].logical_id = v1.logical_id
    response = registry.update(update)
    assert response.ok, response
    v1_after, v2 = entry_by_unique_id(registry, e.kos_uid)
    assert v1_after.entry_uuid == v1.entry_uuid and v1_after.status == md.DEPRECATED
    assert v2.version == "2" and v2.status == md.APPROVED and v2.logical_id == v1.logical_id
    assert v2.entry_uuid != v1.entry_uuid and v2.entry_uuid.startswith("urn:uuid:")
    assert (v2.hash, v2.size, v2.repository_unique_id) == (v1.hash, v1.size, v1.repository_unique_id)
    assert "MASQUE_PS" in {c.code for c in v2.confidentiality_codes}
    masked = find_documents(
        registry, PATIENT_A, ("$XDSDocumentEntryConfidentialityCode", ql("MASQUE_PS^^1.2.250.1.213.1.1.4.13"))
    )
    assert [de.entry_uuid for de in masked] == [v2.entry_uuid]
    # the document itself did not change
    retrieved = registry.retrieve([DocumentRequest(REPO, e.kos_uid)])
    assert retrieved.documents[0].content == ex.kos_bytes(e)
    # all versions by logicalID
    response, objects, _ = run(registry, query("GetDocuments", ("$XDSDocumentEntryLogicalID", ql(v1.logical_id or ""))))
    assert sorted(de.version or "" for de in objects.entries) == ["1", "2"]


def test_new_version_of_an_archived_document_is_approved(registry: Registry) -> None:
    v1 = _archived_setup(registry, "archived-new-version")
    assert registry.update(status_update(v1.entry_uuid, md.APPROVED, md.ARCHIVED)).ok
    assert registry.update(new_version(v1, "1")).ok
    versions = entry_by_unique_id(registry, v1.unique_id or "")
    assert [v.status for v in versions] == [md.DEPRECATED, md.APPROVED]


def test_new_version_with_wrong_previous_version(registry: Registry) -> None:
    v1 = _archived_setup(registry, "wrong-previous")
    response = registry.update(new_version(v1, "2"))
    assert_refused(response, "XDSMetadataVersionError")
    assert "NewVersion" in response.errors[0].context and (v1.logical_id or "?") in response.errors[0].context
    assert registry.update(new_version(v1, "1")).ok
    assert_refused(registry.update(new_version(v1, "1")), "XDSMetadataVersionError")


def test_new_version_of_unknown_logical_id(registry: Registry) -> None:
    v1 = _archived_setup(registry, "unknown-lid")
    missing = "urn:uuid:00000000-0000-4000-8000-0000000000bb"
    update = new_version(dataclasses.replace(v1, logical_id=missing), "1")
    response = registry.update(update)
    assert_refused(response, "UnresolvedReferenceException")
    assert response.errors[0].context == missing


def test_new_version_cannot_change_the_patient(registry: Registry) -> None:
    v1 = _archived_setup(registry, "reconcile")
    assert_refused(registry.update(new_version(v1, "1", patient=pid(PATIENT_B))), "XDSPatientIDReconciliationError")


def test_new_version_keeps_the_unique_id(registry: Registry) -> None:
    v1 = _archived_setup(registry, "unique-id-change")
    assert_refused(
        registry.update(new_version(dataclasses.replace(v1, unique_id="1.2.3.999"), "1")), "XDSMetadataUpdateError"
    )


def test_new_version_of_a_deleted_document_is_refused(registry: Registry) -> None:
    v1 = _archived_setup(registry, "deleted-new-version")
    assert registry.update(status_update(v1.entry_uuid, md.APPROVED, md.DELETED)).ok
    assert_refused(registry.update(new_version(v1, "1")), "XDSMetadataUpdateOperationError")


def test_new_version_without_previous_version_slot(registry: Registry) -> None:
    v1 = _archived_setup(registry, "no-previous")
    update = new_version(v1, "1")
    update.associations[0].previous_version = None
    assert_refused(registry.update(update), "XDSMetadataUpdateError")


def test_iti57_registers_no_new_document(registry: Registry) -> None:
    e = exam("iti57-new-doc")
    objects = RegistryObjects(
        submission_sets=[update_submission_set("iti57-new-doc")],
        entries=[ex.report_entry(e, "Doc")],
        associations=[ex.has_member("SSU", "Doc", 1, submission_set_status="Original")],
    )
    assert_refused(registry.update(objects), "XDSMetadataUpdateOperationError")


def test_iti57_refuses_replacement_associations(registry: Registry) -> None:
    v1 = _archived_setup(registry, "iti57-rplc")
    update = status_update(v1.entry_uuid, md.APPROVED, md.ARCHIVED)
    update.associations = [Association("R", md.RPLC, v1.entry_uuid, v1.entry_uuid)]
    assert_refused(registry.update(update), "XDSMetadataUpdateOperationError")


def test_an_older_version_cannot_be_approved_again(registry: Registry) -> None:
    v1 = _archived_setup(registry, "older-version")
    assert registry.update(new_version(v1, "1")).ok
    assert_refused(
        registry.update(status_update(v1.entry_uuid, md.DEPRECATED, md.APPROVED)), "XDSMetadataUpdateOperationError"
    )


def test_new_version_stays_in_its_folders(registry: Registry) -> None:
    e = exam("nv-folder")
    assert registry.provide_and_register(pnr(e, folder=True)).ok
    v1 = entry_by_unique_id(registry, e.kos_uid)[0]
    assert registry.update(new_version(v1, "1")).ok
    v2 = entry_by_unique_id(registry, e.kos_uid)[1]
    folders = run(registry, query("GetFoldersForDocument", ("$XDSDocumentEntryEntryUUID", q(v2.entry_uuid))))[1].folders
    assert [f.unique_id for f in folders] == [ex.uid(e.name, "folder")]


def test_new_version_without_propagation(registry: Registry) -> None:
    e = exam("nv-no-propagation")
    assert registry.provide_and_register(pnr(e, folder=True)).ok
    v1 = entry_by_unique_id(registry, e.kos_uid)[0]
    assert registry.update(new_version(v1, "1", propagation="no")).ok
    v2 = entry_by_unique_id(registry, e.kos_uid)[1]
    assert not run(registry, query("GetFoldersForDocument", ("$XDSDocumentEntryEntryUUID", q(v2.entry_uuid))))[
        1
    ].folders


def test_submit_association(registry: Registry) -> None:
    a = _registered_report(registry, "submit-assoc-a")
    b = _registered_report(registry, "submit-assoc-b")
    ss = update_submission_set("submit-assoc")
    objects = RegistryObjects(
        submission_sets=[ss],
        associations=[
            Association("New", md.APND, b.entry_uuid, a.entry_uuid),
            Association("Sub", md.SUBMIT_ASSOCIATION, ss.entry_uuid, "New"),
        ],
    )
    # APND itself is refused in ITI-57 (documents relate through ITI-41); a HasMember between existing objects is fine
    assert_refused(registry.update(objects), "XDSMetadataUpdateOperationError")
    e = exam("submit-assoc-folder")
    assert registry.provide_and_register(pnr(e, folder=True)).ok
    folder = run(registry, query("GetFolders", ("$XDSFolderUniqueId", ql(ex.uid(e.name, "folder")))))[1].folders[0]
    objects.associations = [
        Association("New", md.HAS_MEMBER, folder.entry_uuid, b.entry_uuid),
        Association("Sub", md.SUBMIT_ASSOCIATION, ss.entry_uuid, "New"),
    ]
    assert registry.update(objects).ok
    contents = run(registry, query("GetFolderAndContents", ("$XDSFolderEntryUUID", q(folder.entry_uuid))))[1]
    assert b.entry_uuid in {de.entry_uuid for de in contents.entries}


def test_submit_association_to_unknown_object(registry: Registry) -> None:
    ss = update_submission_set("submit-unknown")
    missing = "urn:uuid:00000000-0000-4000-8000-0000000000cc"
    a = _registered_report(registry, "submit-unknown-a")
    objects = RegistryObjects(
        submission_sets=[ss],
        associations=[
            Association("New", md.HAS_MEMBER, missing, a.entry_uuid),
            Association("Sub", md.SUBMIT_ASSOCIATION, ss.entry_uuid, "New"),
        ],
    )
    response = registry.update(objects)
    assert_refused(response, "UnresolvedReferenceException")
    assert response.errors[0].context == missing


def test_update_needs_a_submission_set(registry: Registry) -> None:
    kos = _archived_setup(registry, "update-no-ss")
    update = status_update(kos.entry_uuid, md.APPROVED, md.ARCHIVED)
    update.submission_sets = []
    assert_refused(registry.update(update), "XDSRegistryMetadataError")


# ==================================================================================================
# ITI-43


def test_retrieve_documents(registry: Registry) -> None:
    e = exam("retrieve")
    assert registry.provide_and_register(pnr(e)).ok
    response = registry.retrieve([DocumentRequest(REPO, e.kos_uid), DocumentRequest(REPO, e.report_uid)])
    assert response.response.status == SUCCESS
    assert [(d.document_unique_id, d.mime_type) for d in response.documents] == [
        (e.kos_uid, "application/dicom"),
        (e.report_uid, "text/xml"),
    ]
    assert response.documents[0].content == ex.kos_bytes(e)
    assert response.documents[0].repository_unique_id == REPO


def test_retrieve_unknown_repository(registry: Registry) -> None:
    e = exam("retrieve-repo")
    assert registry.provide_and_register(pnr(e)).ok
    response = registry.retrieve([DocumentRequest("1.2.3.4", e.kos_uid)])
    assert response.response.status == FAILURE and not response.documents
    assert codes(response.response) == ["XDSUnknownRepositoryId"]
    assert response.response.errors[0].context == "1.2.3.4"


def test_retrieve_unknown_document(registry: Registry) -> None:
    response = registry.retrieve([DocumentRequest(REPO, "1.2.3.4.5")])
    assert response.response.status == FAILURE
    assert codes(response.response) == ["XDSMissingDocument"]
    assert response.response.errors[0].context == "1.2.3.4.5"


def test_retrieve_by_entry_uuid_is_a_unique_id_error(registry: Registry) -> None:
    e = exam("retrieve-uuid")
    assert registry.provide_and_register(pnr(e)).ok
    kos = entry_by_unique_id(registry, e.kos_uid)[0]
    response = registry.retrieve([DocumentRequest(REPO, kos.entry_uuid)])
    assert codes(response.response) == ["XDSDocumentUniqueIdError"]
    assert response.response.errors[0].context == kos.entry_uuid


def test_retrieve_partial_success(registry: Registry) -> None:
    e = exam("retrieve-partial")
    assert registry.provide_and_register(pnr(e)).ok
    response = registry.retrieve([DocumentRequest(REPO, e.kos_uid), DocumentRequest(REPO, "1.2.3.4.5")])
    assert response.response.status == PARTIAL_SUCCESS
    assert [d.document_unique_id for d in response.documents] == [e.kos_uid]
    assert codes(response.response) == ["XDSMissingDocument"]


def test_retrieve_mime_type_follows_the_latest_version(registry: Registry) -> None:
    request = kos_only(exam("retrieve-mime"))
    assert registry.provide_and_register(request).ok
    v1 = entry_by_unique_id(registry, request.objects.entries[0].unique_id or "")[0]
    update = new_version(dataclasses.replace(v1, mime_type="application/octet-stream"), "1")
    assert registry.update(update).ok
    response = registry.retrieve([DocumentRequest(REPO, v1.unique_id or "")])
    assert response.documents[0].mime_type == "application/octet-stream"


def test_home_community_id_is_written_on_registered_objects(store_url: str) -> None:
    reg = Registry(store_url, repository_unique_id="1.2.3.9", home_community_id="urn:oid:1.2.3.10")
    try:
        e = exam("home")
        assert reg.provide_and_register(pnr(e)).ok
        de = entry_by_unique_id(reg, e.kos_uid)[0]
        assert de.home == "urn:oid:1.2.3.10" and de.repository_unique_id == "1.2.3.9"
        retrieved = reg.retrieve([DocumentRequest("1.2.3.9", e.kos_uid)])
        assert retrieved.documents[0].home_community_id == "urn:oid:1.2.3.10"
    finally:
        reg.close()


def test_internal_failures_are_answered_as_registry_errors(registry: Registry) -> None:
    registry.store.close()
    response = registry.provide_and_register(pnr(exam("closed")))
    assert_refused(response, "XDSRegistryError")
    retrieved = registry.retrieve([DocumentRequest(REPO, "1.2.3")])
    assert codes(retrieved.response) == ["XDSRepositoryError"]
    element = registry.stored_query(query("GetDocuments", ("$XDSDocumentEntryUniqueId", ql("1.2.3"))))
    assert element.get("status") == FAILURE


def test_folder_model_is_reexported() -> None:
    assert Folder is md.Folder


def test_new_version_of_a_folder(registry: Registry) -> None:
    e = exam("folder-version")
    assert registry.provide_and_register(pnr(e, folder=True)).ok
    v1 = run(registry, query("GetFolders", ("$XDSFolderUniqueId", ql(ex.uid(e.name, "folder")))))[1].folders[0]
    ss = update_submission_set("folder-version")
    new = dataclasses.replace(v1, entry_uuid="NewFolder", status=None, version=None, title="Renamed")
    member = ex.has_member(ss.entry_uuid, "NewFolder", 1, submission_set_status="Original", previous_version="1")
    assert registry.update(RegistryObjects(submission_sets=[ss], folders=[new], associations=[member])).ok
    folders = run(registry, query("GetFolders", ("$XDSFolderLogicalID", ql(v1.logical_id or ""))))[1].folders
    assert sorted((f.version, f.status, f.title) for f in folders) == [
        ("1", md.DEPRECATED, v1.title),
        ("2", md.APPROVED, "Renamed"),
    ]
    stale = dataclasses.replace(v1, entry_uuid="Stale", status=None, version=None)
    member = ex.has_member(ss.entry_uuid, "Stale", 1, submission_set_status="Original", previous_version="1")
    ss2 = update_submission_set("folder-version-2")
    member.source = ss2.entry_uuid
    response = registry.update(RegistryObjects(submission_sets=[ss2], folders=[stale], associations=[member]))
    assert_refused(response, "XDSMetadataVersionError")


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "schematron"


def test_decoded_messages_end_to_end(registry: Registry) -> None:
    """The project's Flux 1 and Flux 3 fixtures, decoded as the server decodes them, then applied."""
    root = etree.parse(str(FIXTURES / "iti41-pnr.xml")).getroot()
    unresolved = iti41.decode_request(root)
    response = registry.provide_and_register(unresolved)
    assert_refused(response, "XDSMissingDocument")
    assert "unresolved XOP include" in response.errors[0].context
    assert response.errors[0].location and "ExtrinsicObject" in response.errors[0].location
    kos_bytes = b"KOS bytes"
    request = iti41.decode_request(root, {"kos-1@xdsi.test": kos_bytes})
    kos = request.objects.entries[0]
    lid = "urn:uuid:7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"  # the logicalID the ITI-57 fixture updates
    for a in request.objects.associations:
        a.target = lid if a.target == kos.entry_uuid else a.target
    request.documents[0].id = kos.entry_uuid = lid
    assert registry.provide_and_register(request).ok
    update = iti57.decode_request(etree.parse(str(FIXTURES / "iti57-new-version.xml")).getroot())
    assert registry.update(update).ok, registry.update(update)
    v1, v2 = entry_by_unique_id(registry, kos.unique_id or "")
    assert (v1.status, v2.status, v2.logical_id, v2.version) == (md.DEPRECATED, md.APPROVED, lid, "2")
    assert v2.hash == hashlib.sha1(kos_bytes).hexdigest()
    folder_contents = run(registry, query("GetFoldersForDocument", ("$XDSDocumentEntryEntryUUID", q(v2.entry_uuid))))
    assert len(folder_contents[1].folders) == 1
