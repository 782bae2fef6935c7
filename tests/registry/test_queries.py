"""ITI-18 stored queries (Flux 5 → 6) against a small corpus of registered imaging exams, on every store.

The corpus (built once per store):

===========  ========  ==========================  =============  ===============================================
exam         patient   modality / region           study date     afterwards
===========  ========  ==========================  =============  ===============================================
ct-thorax    A         CT (DCM) / chest (SNOMED)   2024-01-10     in a Folder; its report replaced (RPLC)
ct-rplc      A         CT (DCM) / chest (SNOMED)   2026-11-23     the replacing report only
mr-head      A         MR (JDV 618) / head (695)   2025-03-15     KOS author DURAND
us-abdo      A         US (DCM) / abdomen          2026-06-01     KOS Archived, report Deleted (ITI-57)
on-demand    A         –                           –              one on-demand entry
b-ct-abdo    B         CT (DCM) / abdomen          2025-01-01     –
===========  ========  ==========================  =============  ===============================================
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree

from simulators.registry.registry import Registry
from tests.registry.conftest import (
    ABDOMEN,
    CHEST,
    CT_DCM,
    HEAD_JDV,
    MR_JDV,
    PATIENT_A,
    PATIENT_B,
    STORES,
    US_DCM,
    codes,
    exam,
    make_store_url,
    pid,
    pnr,
    q,
    ql,
    query,
    run,
    single_document,
    status_update,
)
from xdsi.ebrim import vocabulary as v
from xdsi.messages import examples as ex
from xdsi.model import identifiers as ids
from xdsi.model import metadata as md
from xdsi.model.identifiers import XCN
from xdsi.model.metadata import Association, DocumentEntry, RegistryObjects
from xdsi.model.responses import FAILURE
from xdsi.model.storedquery import QUERY_IDS, StoredQuery, build_stored_query
from xdsi.validation.pipeline import validate_bytes

DE = "$XDSDocumentEntry"
ALL_STATUSES = (md.APPROVED, md.DEPRECATED, md.ARCHIVED, md.DELETED)
DURAND = str(XCN("810000000002", "DURAND", "Paul"))


@dataclass
class Corpus:
    registry: Registry
    url: str
    exams: dict[str, ex.Exam] = field(default_factory=dict)
    uuids: dict[str, str] = field(default_factory=dict)  # label → entryUUID
    unique_ids: dict[str, str] = field(default_factory=dict)  # label → uniqueId

    def label_of(self, entry_uuid: str) -> str:
        return next(k for k, u in self.uuids.items() if u == entry_uuid)

    def labels(self, entries: list[DocumentEntry]) -> set[str]:
        return {self.label_of(de.entry_uuid) for de in entries}


def _dated(request, creation_time: str):
    for de in request.objects.entries:
        de.creation_time = creation_time
    return request


def _build(registry: Registry, url: str) -> Corpus:
    c = Corpus(registry, url)
    plan = [
        ("ct-thorax", PATIENT_A, CT_DCM, CHEST, "20240110083000", "20240110120000", "20240110130000", True),
        ("mr-head", PATIENT_A, MR_JDV, HEAD_JDV, "20250315140000", "20250315150000", "20250315160000", False),
        ("us-abdo", PATIENT_A, US_DCM, ABDOMEN, "20260601100000", "20260601110000", "20260601120000", False),
        ("b-ct-abdo", PATIENT_B, CT_DCM, ABDOMEN, "20250101090000", "20250101100000", "20250101110000", False),
    ]
    for name, patient, modality, region, study, created, submitted, folder in plan:
        e = exam(name, patient, modality, region, study)
        c.exams[name] = e
        request = _dated(pnr(e, folder=folder), created)
        request.objects.submission_sets[0].submission_time = submitted
        if name == "mr-head":
            request.objects.entries[0].authors[0].person = DURAND
            request.objects.submission_sets[0].source_id = "1.2.250.1.999.42.4.2"
        assert registry.provide_and_register(request).ok
        c.unique_ids[f"{name}/kos"] = e.kos_uid
        c.unique_ids[f"{name}/cr"] = e.report_uid
    c.unique_ids["ct-thorax/ss"] = ex.uid("ct-thorax", "submission-set")
    c.unique_ids["ct-thorax/folder"] = ex.uid("ct-thorax", "folder")
    # resolve the entryUUIDs
    response, objects, _ = run(
        registry, query("GetDocuments", ("$XDSDocumentEntryUniqueId", ql(*c.unique_ids.values())))
    )
    assert response.ok
    by_uid = {de.unique_id: de.entry_uuid for de in objects.entries}
    for label, uid in c.unique_ids.items():
        if uid in by_uid:
            c.uuids[label] = by_uid[uid]
    # the report of ct-thorax replaced
    rplc = _dated(
        single_document("ct-rplc", extra=[Association("R", md.RPLC, "Doc", c.uuids["ct-thorax/cr"])]),
        "20261123120000",
    )
    assert registry.provide_and_register(rplc).ok
    c.unique_ids["ct-rplc/cr"] = rplc.objects.entries[0].unique_id or ""
    # an on-demand entry
    on_demand = single_document("on-demand")
    on_demand.objects.entries[0].object_type = md.ON_DEMAND
    on_demand.documents = []
    assert registry.provide_and_register(on_demand).ok
    c.unique_ids["on-demand"] = on_demand.objects.entries[0].unique_id or ""
    response, objects, _ = run(
        registry,
        query("GetDocuments", ("$XDSDocumentEntryUniqueId", ql(c.unique_ids["ct-rplc/cr"], c.unique_ids["on-demand"]))),
    )
    for de in objects.entries:
        c.uuids["ct-rplc/cr" if de.unique_id == c.unique_ids["ct-rplc/cr"] else "on-demand"] = de.entry_uuid
    # ITI-57: us-abdo KOS archived, its report deleted
    assert registry.update(status_update(c.uuids["us-abdo/kos"], md.APPROVED, md.ARCHIVED, name="archive")).ok
    assert registry.update(status_update(c.uuids["us-abdo/cr"], md.APPROVED, md.DELETED, name="delete")).ok
    return c


@pytest.fixture(scope="module", params=STORES)
def corpus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    directory: Path = tmp_path_factory.mktemp("corpus")
    with make_store_url(request.param, directory) as url:
        registry = Registry(url)
        try:
            yield _build(registry, url)
        finally:
            registry.close()


def find(
    c: Corpus, *slots: tuple[str, str], patient: str = PATIENT_A, statuses=(md.APPROVED,), name="FindDocuments"
) -> set[str]:
    response, objects, _ = run(
        c.registry,
        query(name, (f"{DE}PatientId", q(pid(patient))), (f"{DE}Status", ql(*statuses)), *slots),
    )
    assert response.ok, response
    return c.labels(objects.entries)


def failure_codes(c: Corpus, stored_query: StoredQuery) -> list[str]:
    response, objects, el = run(c.registry, stored_query)
    assert response.status == FAILURE
    assert el.find(f"{{{v.RIM}}}RegistryObjectList") is not None
    assert not (objects.entries or objects.submission_sets or objects.folders or objects.associations)
    return codes(response)


# ==================================================================================================
# FindDocuments


def test_find_documents_by_patient_and_status(corpus: Corpus) -> None:
    assert find(corpus) == {"ct-thorax/kos", "ct-rplc/cr", "mr-head/kos", "mr-head/cr"}
    assert find(corpus, patient=PATIENT_B) == {"b-ct-abdo/kos", "b-ct-abdo/cr"}
    assert find(corpus, statuses=(md.DEPRECATED,)) == {"ct-thorax/cr"}
    assert find(corpus, statuses=(md.ARCHIVED,)) == {"us-abdo/kos"}
    assert find(corpus, statuses=(md.DELETED,)) == {"us-abdo/cr"}
    assert len(find(corpus, statuses=ALL_STATUSES)) == 7
    assert find(corpus, patient="999999999999999") == set()


def test_find_documents_leaf_class_is_the_registered_metadata(corpus: Corpus) -> None:
    _response, objects, el = run(
        corpus.registry,
        query(
            "FindDocuments",
            (f"{DE}PatientId", q(pid(PATIENT_A))),
            (f"{DE}Status", ql(md.ARCHIVED)),
        ),
    )
    (de,) = objects.entries
    assert de.status == md.ARCHIVED and de.version == "1" and de.logical_id == de.entry_uuid
    assert de.hash and de.size and de.repository_unique_id == corpus.registry.repository_unique_id
    assert de.mime_type == "application/dicom" and de.object_type == md.STABLE
    assert de.unique_id == corpus.exams["us-abdo"].kos_uid
    result = validate_bytes(etree.tostring(el), kind="flux6")
    assert result.valid, [f.as_dict() for f in result.findings if f.severity == "error"]


def test_find_documents_object_ref(corpus: Corpus) -> None:
    response, objects, el = run(
        corpus.registry,
        query(
            "FindDocuments",
            (f"{DE}PatientId", q(pid(PATIENT_B))),
            (f"{DE}Status", ql(md.APPROVED)),
            return_type="ObjectRef",
        ),
    )
    assert response.ok and not objects.entries
    assert set(objects.object_refs) == {corpus.uuids["b-ct-abdo/kos"], corpus.uuids["b-ct-abdo/cr"]}
    object_list = el.find(f"{{{v.RIM}}}RegistryObjectList")
    assert object_list is not None
    assert all(etree.QName(child).localname == "ObjectRef" for child in object_list)


def test_find_documents_entry_type(corpus: Corpus) -> None:
    assert "on-demand" not in find(corpus)
    assert find(corpus, (f"{DE}Type", ql(md.ON_DEMAND))) == {"on-demand"}
    assert "on-demand" in find(corpus, (f"{DE}Type", ql(md.STABLE, md.ON_DEMAND)))


@pytest.mark.parametrize(
    ("param", "values", "expected"),
    [
        ("ClassCode", ["31^^1.2.250.1.213.1.1.4.1"], {"ct-thorax/kos", "mr-head/kos"}),
        ("ClassCode", ["31^^1.2.250.1.213.1.1.4.1", "10^^1.2.250.1.213.1.1.4.1"], None),
        ("ClassCode", ["31^^9.9.9"], set()),
        ("TypeCode", ["IMG-KOS^^1.2.250.1.213.1.1.4.12"], {"ct-thorax/kos", "mr-head/kos"}),
        ("FormatCode", [f"{md.KOS_SOP_CLASS}^^{md.DICOM_UID_REGISTRY}"], {"ct-thorax/kos", "mr-head/kos"}),
        ("PracticeSettingCode", ["AMBULATOIRE^^1.2.250.1.213.1.1.4.9"], None),
        ("PracticeSettingCode", ["ETABLISSEMENT^^1.2.250.1.213.1.1.4.9"], set()),
        ("HealthcareFacilityTypeCode", ["SA07^^1.2.250.1.71.4.2.4"], None),
        ("HealthcareFacilityTypeCode", ["SA01^^1.2.250.1.71.4.2.4"], set()),
        ("ConfidentialityCode", ["N^^2.16.840.1.113883.5.25"], None),
        ("ConfidentialityCode", ["MASQUE_PS^^1.2.250.1.213.1.1.4.13"], set()),
    ],
)
def test_find_documents_codes(corpus: Corpus, param: str, values: list[str], expected: set[str] | None) -> None:
    everything = find(corpus)
    assert find(corpus, (f"{DE}{param}", ql(*values))) == (everything if expected is None else expected)


def test_find_documents_event_codes_or_within_a_slot_and_across_slots(corpus: Corpus) -> None:
    kos = (f"{DE}ClassCode", ql("31^^1.2.250.1.213.1.1.4.1"))
    ev = f"{DE}EventCodeList"
    assert find(corpus, kos, (ev, ql(f"CT^^{md.DCM}"))) == {"ct-thorax/kos"}
    assert find(corpus, kos, (ev, ql(f"CT^^{md.DCM}", f"MR^^{md.MODALITY_JDV}"))) == {"ct-thorax/kos", "mr-head/kos"}
    assert find(corpus, kos, (ev, ql(f"CT^^{md.DCM}", f"MR^^{md.DCM}")), (ev, ql(f"774007^^{md.SNOMED_CT}"))) == {
        "mr-head/kos"
    }
    assert find(corpus, kos, (ev, ql(f"CT^^{md.DCM}")), (ev, ql(f"774007^^{md.SNOMED_CT}"))) == set()
    assert find(corpus, (ev, ql(f"ZBQK001^^{md.CCAM}"))) >= {"ct-thorax/kos", "ct-rplc/cr"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"CT^^{md.MODALITY_JDV}", {"ct-thorax/kos", "ct-rplc/cr"}),  # JDV OID query, DCM-coded entry
        (f"MR^^{md.DCM}", {"mr-head/kos", "mr-head/cr"}),  # DCM query, JDV-coded entry
        (f"MR^^{md.MODALITY_JDV}", {"mr-head/kos", "mr-head/cr"}),
        (f"67734004^^{md.REGION_JDV}", {"ct-thorax/kos", "ct-rplc/cr"}),
        (f"774007^^{md.SNOMED_CT}", {"mr-head/kos", "mr-head/cr"}),
        ("CT^^1.2.840.10008.2.6.1", set()),  # other code systems are not folded
    ],
)
def test_modality_and_region_coding_schemes_are_equivalent(corpus: Corpus, value: str, expected: set[str]) -> None:
    assert find(corpus, (f"{DE}EventCodeList", ql(value))) == expected


def test_find_documents_confidentiality_and_of_ors(corpus: Corpus) -> None:
    conf = f"{DE}ConfidentialityCode"
    everything = find(corpus)
    assert find(corpus, (conf, ql("N^^2.16.840.1.113883.5.25", "R^^2.16.840.1.113883.5.25"))) == everything
    assert find(corpus, (conf, ql("N^^2.16.840.1.113883.5.25")), (conf, ql("R^^2.16.840.1.113883.5.25"))) == set()


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (["%DURAND%"], {"mr-head/kos"}),
        (["%durand%"], {"mr-head/kos"}),  # case-insensitive
        (["810000000002^%"], {"mr-head/kos"}),
        (["8_0000000002%"], {"mr-head/kos"}),
        (["%MARTIN%"], {"ct-thorax/kos", "ct-rplc/cr", "mr-head/cr"}),
        (["%DURAND%", "%MARTIN%"], None),
        (["DURAND"], set()),  # no wildcard: the whole XCN must match
        (["%NOBODY%"], set()),
    ],
)
def test_find_documents_author_person(corpus: Corpus, patterns: list[str], expected: set[str] | None) -> None:
    everything = find(corpus)
    assert find(corpus, (f"{DE}AuthorPerson", ql(*patterns))) == (everything if expected is None else expected)


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"From": "20240110120000"}, {"ct-thorax/kos", "ct-rplc/cr", "mr-head/kos", "mr-head/cr"}),  # inclusive
        ({"From": "20240110120001"}, {"ct-rplc/cr", "mr-head/kos", "mr-head/cr"}),
        ({"To": "20240110120000"}, set()),  # exclusive
        ({"To": "20240110120001"}, {"ct-thorax/kos"}),
        ({"From": "2025", "To": "2026"}, {"mr-head/kos", "mr-head/cr"}),  # DTM prefixes
        ({"From": "202503", "To": "20250316"}, {"mr-head/kos", "mr-head/cr"}),
        ({"From": "2024", "To": "2025"}, {"ct-thorax/kos"}),
        ({"From": "2027"}, set()),
    ],
)
def test_find_documents_creation_time(corpus: Corpus, bounds: dict[str, str], expected: set[str]) -> None:
    slots = [(f"{DE}CreationTime{k}", value) for k, value in bounds.items()]
    assert find(corpus, *slots) == expected


def test_find_documents_service_times(corpus: Corpus) -> None:
    assert find(corpus, (f"{DE}ServiceStartTimeFrom", "2025"), (f"{DE}ServiceStartTimeTo", "2026")) == {
        "mr-head/kos",
        "mr-head/cr",
    }
    # every example entry stops at 20261123093000
    assert find(corpus, (f"{DE}ServiceStopTimeFrom", "20261123093000")) == find(corpus)
    assert find(corpus, (f"{DE}ServiceStopTimeTo", "20261123093000")) == set()


def test_find_documents_all_criteria_together(corpus: Corpus) -> None:
    slots = [(n, vals[0]) for n, vals in ex.flux5_slots(corpus.exams["ct-thorax"])]
    response, objects, _ = run(corpus.registry, query("FindDocuments", *slots))
    assert response.ok and not objects.entries  # the example asks for exams since 2026
    slots = [(n, "2024" if n.endswith("TimeFrom") else value) for n, value in slots]
    response, objects, _ = run(corpus.registry, query("FindDocuments", *slots))
    assert corpus.labels(objects.entries) == {"ct-thorax/kos"}


# ==================================================================================================
# FindDocumentsByReferenceId


def _ref(e: ex.Exam, kind: str, authority: bool = True) -> str:
    if kind == "accession":
        return str(ids.ReferenceId(e.accession_number, ids.ACCESSION, e.accession_issuer if authority else None))
    if kind == "study":
        return str(ids.ReferenceId(e.study_uid, ids.STUDY_INSTANCE_UID))
    return str(ids.ReferenceId(e.order_number, ids.ORDER, e.order_issuer if authority else None))


def test_find_documents_by_reference_id(corpus: Corpus) -> None:
    ct, mr = corpus.exams["ct-thorax"], corpus.exams["mr-head"]
    by_ref = "FindDocumentsByReferenceId"
    refs = f"{DE}ReferenceIdList"
    assert find(corpus, (refs, ql(_ref(ct, "accession"))), name=by_ref) == {"ct-thorax/kos"}
    assert find(corpus, (refs, ql(_ref(ct, "accession"))), name=by_ref, statuses=ALL_STATUSES) == {
        "ct-thorax/kos",
        "ct-thorax/cr",
    }
    assert find(corpus, (refs, ql(_ref(mr, "study"))), name=by_ref) == {"mr-head/kos", "mr-head/cr"}
    # without the assigning authority: any authority
    assert find(corpus, (refs, ql(_ref(mr, "accession", authority=False))), name=by_ref) == {
        "mr-head/kos",
        "mr-head/cr",
    }
    # the example exams share one order number
    assert find(corpus, (refs, ql(_ref(mr, "order", authority=False))), name=by_ref) == find(corpus)
    # another authority, or another type, matches nothing
    wrong_authority = str(ids.ReferenceId(mr.accession_number, ids.ACCESSION, "1.2.3.4"))
    assert find(corpus, (refs, ql(wrong_authority)), name=by_ref) == set()
    wrong_type = str(ids.ReferenceId(mr.accession_number, ids.ORDER, mr.accession_issuer))
    assert find(corpus, (refs, ql(wrong_type)), name=by_ref) == set()
    # several values ORed, several slots ANDed
    assert find(corpus, (refs, ql(_ref(ct, "accession"), _ref(mr, "study"))), name=by_ref) == {
        "ct-thorax/kos",
        "mr-head/kos",
        "mr-head/cr",
    }
    assert find(corpus, (refs, ql(_ref(mr, "study"))), (refs, ql(_ref(mr, "accession"))), name=by_ref) == {
        "mr-head/kos",
        "mr-head/cr",
    }
    assert find(corpus, (refs, ql(_ref(mr, "study"))), (refs, ql(_ref(ct, "accession"))), name=by_ref) == set()
    # the other FindDocuments parameters still apply
    assert find(
        corpus, (refs, ql(_ref(mr, "study"))), (f"{DE}ClassCode", ql("31^^1.2.250.1.213.1.1.4.1")), name=by_ref
    ) == {"mr-head/kos"}


def test_find_documents_by_reference_id_requires_the_list(corpus: Corpus) -> None:
    stored = query(
        "FindDocumentsByReferenceId", (f"{DE}PatientId", q(pid(PATIENT_A))), (f"{DE}Status", ql(md.APPROVED))
    )
    assert failure_codes(corpus, stored) == ["XDSStoredQueryMissingParam"]


# ==================================================================================================
# FindSubmissionSets, FindFolders, GetAll


def find_submission_sets(c: Corpus, *slots: tuple[str, str], patient: str = PATIENT_A) -> list:
    response, objects, _ = run(
        c.registry,
        query(
            "FindSubmissionSets",
            ("$XDSSubmissionSetPatientId", q(pid(patient))),
            ("$XDSSubmissionSetStatus", ql(md.APPROVED)),
            *slots,
        ),
    )
    assert response.ok, response
    return objects.submission_sets


def test_find_submission_sets(corpus: Corpus) -> None:
    everything = find_submission_sets(corpus)
    # ct-thorax, mr-head, us-abdo, ct-rplc, on-demand and the two ITI-57 updates
    assert len(everything) == 7 and all(ss.status == md.APPROVED for ss in everything)
    assert len(find_submission_sets(corpus, patient=PATIENT_B)) == 1
    mr = find_submission_sets(corpus, ("$XDSSubmissionSetSourceId", ql("1.2.250.1.999.42.4.2")))
    assert [ss.unique_id for ss in mr] == [ex.uid("mr-head", "submission-set")]
    dated = find_submission_sets(
        corpus, ("$XDSSubmissionSetSubmissionTimeFrom", "2025"), ("$XDSSubmissionSetSubmissionTimeTo", "2026")
    )
    assert [ss.unique_id for ss in dated] == [ex.uid("mr-head", "submission-set")]
    assert len(find_submission_sets(corpus, ("$XDSSubmissionSetAuthorPerson", q("%MARTIN%")))) == 7
    assert find_submission_sets(corpus, ("$XDSSubmissionSetAuthorPerson", q("%DURAND%"))) == []
    assert len(find_submission_sets(corpus, ("$XDSSubmissionSetContentType", ql("04^^1.2.250.1.213.2.2")))) == 7
    assert find_submission_sets(corpus, ("$XDSSubmissionSetContentType", ql("05^^1.2.250.1.213.2.2"))) == []


def test_find_folders(corpus: Corpus) -> None:
    def folders(*slots: tuple[str, str], patient: str = PATIENT_A, status: str = md.APPROVED) -> list:
        response, objects, _ = run(
            corpus.registry,
            query("FindFolders", ("$XDSFolderPatientId", q(pid(patient))), ("$XDSFolderStatus", ql(status)), *slots),
        )
        assert response.ok, response
        return [f.unique_id for f in objects.folders]

    folder = corpus.unique_ids["ct-thorax/folder"]
    assert folders() == [folder]
    assert folders(patient=PATIENT_B) == []
    assert folders(status=md.DEPRECATED) == []
    assert folders(("$XDSFolderCodeList", ql(f"ZBQK001^^{md.CCAM}"))) == [folder]
    assert folders(("$XDSFolderCodeList", ql(f"ZBQK001^^{md.CCAM}")), ("$XDSFolderCodeList", ql("X^^1.2"))) == []
    assert folders(("$XDSFolderLastUpdateTimeFrom", "2000")) == [folder]
    assert folders(("$XDSFolderLastUpdateTimeTo", "2000")) == []


def test_get_all(corpus: Corpus) -> None:
    statuses = ql(*ALL_STATUSES)
    response, objects, el = run(
        corpus.registry,
        query(
            "GetAll",
            ("$patientId", q(pid(PATIENT_B))),
            (f"{DE}Status", statuses),
            ("$XDSSubmissionSetStatus", statuses),
            ("$XDSFolderStatus", statuses),
        ),
    )
    assert response.ok
    assert corpus.labels(objects.entries) == {"b-ct-abdo/kos", "b-ct-abdo/cr"}
    assert len(objects.submission_sets) == 1 and not objects.folders
    ss = objects.submission_sets[0].entry_uuid
    assert {(a.source, a.target) for a in objects.associations} == {
        (ss, corpus.uuids["b-ct-abdo/kos"]),
        (ss, corpus.uuids["b-ct-abdo/cr"]),
    }
    assert validate_bytes(etree.tostring(el), kind="flux6").valid
    # patient A: the Folder and its membership come too; filters apply to the entries
    response, objects, _ = run(
        corpus.registry,
        query(
            "GetAll",
            ("$patientId", q(pid(PATIENT_A))),
            (f"{DE}Status", ql(md.APPROVED)),
            ("$XDSSubmissionSetStatus", statuses),
            ("$XDSFolderStatus", statuses),
            (f"{DE}FormatCode", ql(f"{md.KOS_SOP_CLASS}^^{md.DICOM_UID_REGISTRY}")),
        ),
    )
    assert corpus.labels(objects.entries) == {"ct-thorax/kos", "mr-head/kos"}
    assert [f.unique_id for f in objects.folders] == [corpus.unique_ids["ct-thorax/folder"]]
    folder_uuid = objects.folders[0].entry_uuid
    assert (folder_uuid, corpus.uuids["ct-thorax/kos"]) in {(a.source, a.target) for a in objects.associations}
    assert len(objects.submission_sets) == 7


# ==================================================================================================
# Get* queries


def test_get_documents(corpus: Corpus) -> None:
    kos, cr = corpus.uuids["ct-thorax/kos"], corpus.uuids["ct-thorax/cr"]
    for slot in (
        (f"{DE}EntryUUID", ql(kos, cr)),
        (f"{DE}UniqueId", ql(corpus.unique_ids["ct-thorax/kos"], corpus.unique_ids["ct-thorax/cr"])),
        (f"{DE}LogicalID", ql(kos, cr)),
    ):
        response, objects, _ = run(corpus.registry, query("GetDocuments", slot))
        assert response.ok
        assert corpus.labels(objects.entries) == {"ct-thorax/kos", "ct-thorax/cr"}
    response, objects, _ = run(
        corpus.registry, query("GetDocuments", (f"{DE}EntryUUID", ql(kos)), return_type="ObjectRef")
    )
    assert objects.object_refs == [kos]
    response, objects, _ = run(
        corpus.registry, query("GetDocuments", (f"{DE}EntryUUID", ql("urn:uuid:00000000-0000-4000-8000-000000000000")))
    )
    assert response.ok and not objects.entries


def test_get_folders(corpus: Corpus) -> None:
    uid = corpus.unique_ids["ct-thorax/folder"]
    _response, objects, _ = run(corpus.registry, query("GetFolders", ("$XDSFolderUniqueId", ql(uid))))
    (folder,) = objects.folders
    assert folder.status == md.APPROVED and folder.codes[0].code == "ZBQK001"
    for slot in (("$XDSFolderEntryUUID", ql(folder.entry_uuid)), ("$XDSFolderLogicalID", ql(folder.entry_uuid))):
        assert [f.unique_id for f in run(corpus.registry, query("GetFolders", slot))[1].folders] == [uid]


def test_get_associations(corpus: Corpus) -> None:
    kos = corpus.uuids["ct-thorax/kos"]
    response, objects, _ = run(corpus.registry, query("GetAssociations", ("$uuid", ql(kos))))
    assert response.ok and not objects.entries
    assert sorted(a.type for a in objects.associations) == [md.HAS_MEMBER, md.HAS_MEMBER]  # SS→KOS, Folder→KOS
    assert all(a.target == kos for a in objects.associations)


def test_get_documents_and_associations(corpus: Corpus) -> None:
    old = corpus.unique_ids["ct-thorax/cr"]
    _response, objects, _ = run(corpus.registry, query("GetDocumentsAndAssociations", (f"{DE}UniqueId", ql(old))))
    assert corpus.labels(objects.entries) == {"ct-thorax/cr"}
    assert sorted(a.type for a in objects.associations) == sorted([md.HAS_MEMBER, md.RPLC])


def test_get_submission_sets(corpus: Corpus) -> None:
    _response, objects, _ = run(
        corpus.registry,
        query("GetSubmissionSets", ("$uuid", ql(corpus.uuids["ct-thorax/kos"], corpus.uuids["mr-head/kos"]))),
    )
    assert sorted(ss.unique_id or "" for ss in objects.submission_sets) == sorted(
        [ex.uid("ct-thorax", "submission-set"), ex.uid("mr-head", "submission-set")]
    )
    assert len(objects.associations) == 2 and all(a.type == md.HAS_MEMBER for a in objects.associations)


def test_get_submission_set_and_contents(corpus: Corpus) -> None:
    uid = corpus.unique_ids["ct-thorax/ss"]
    response, objects, el = run(
        corpus.registry, query("GetSubmissionSetAndContents", ("$XDSSubmissionSetUniqueId", q(uid)))
    )
    assert response.ok
    assert [ss.unique_id for ss in objects.submission_sets] == [uid]
    assert corpus.labels(objects.entries) == {"ct-thorax/kos", "ct-thorax/cr"}
    assert [f.unique_id for f in objects.folders] == [corpus.unique_ids["ct-thorax/folder"]]
    assert len(objects.associations) == 4  # SS→KOS, SS→CR, SS→Folder, Folder→KOS
    assert validate_bytes(etree.tostring(el), kind="flux6").valid
    ss_uuid = objects.submission_sets[0].entry_uuid
    response, objects, _ = run(
        corpus.registry,
        query(
            "GetSubmissionSetAndContents",
            ("$XDSSubmissionSetEntryUUID", q(ss_uuid)),
            (f"{DE}FormatCode", ql(f"{md.KOS_SOP_CLASS}^^{md.DICOM_UID_REGISTRY}")),
        ),
    )
    assert corpus.labels(objects.entries) == {"ct-thorax/kos"}
    assert (ss_uuid, corpus.uuids["ct-thorax/cr"]) not in {(a.source, a.target) for a in objects.associations}
    response, objects, _ = run(
        corpus.registry,
        query("GetSubmissionSetAndContents", ("$XDSSubmissionSetUniqueId", q(uid)), return_type="ObjectRef"),
    )
    assert len(objects.object_refs) == 1 + 2 + 1 + 4
    response, objects, _ = run(
        corpus.registry, query("GetSubmissionSetAndContents", ("$XDSSubmissionSetUniqueId", q("1.2.3")))
    )
    assert response.ok and not objects.submission_sets


def test_get_folder_and_contents(corpus: Corpus) -> None:
    uid = corpus.unique_ids["ct-thorax/folder"]
    _, objects, _ = run(corpus.registry, query("GetFolderAndContents", ("$XDSFolderUniqueId", q(uid))))
    assert [f.unique_id for f in objects.folders] == [uid]
    assert corpus.labels(objects.entries) == {"ct-thorax/kos"}
    assert [(a.source, a.target) for a in objects.associations] == [
        (objects.folders[0].entry_uuid, corpus.uuids["ct-thorax/kos"])
    ]
    _, objects, _ = run(
        corpus.registry,
        query("GetFolderAndContents", ("$XDSFolderUniqueId", q(uid)), ("$XDSAssociationStatus", ql(md.DEPRECATED))),
    )
    assert [f.unique_id for f in objects.folders] == [uid] and not objects.entries and not objects.associations
    _response, objects, _ = run(
        corpus.registry,
        query("GetFolderAndContents", ("$XDSFolderUniqueId", q(uid)), (f"{DE}Type", ql(md.ON_DEMAND))),
    )
    assert not objects.entries


def test_get_folders_for_document(corpus: Corpus) -> None:
    for slot in (
        (f"{DE}UniqueId", q(corpus.unique_ids["ct-thorax/kos"])),
        (f"{DE}EntryUUID", q(corpus.uuids["ct-thorax/kos"])),
    ):
        response, objects, _ = run(corpus.registry, query("GetFoldersForDocument", slot))
        assert [f.unique_id for f in objects.folders] == [corpus.unique_ids["ct-thorax/folder"]]
    response, objects, _ = run(
        corpus.registry, query("GetFoldersForDocument", (f"{DE}UniqueId", q(corpus.unique_ids["mr-head/kos"])))
    )
    assert response.ok and not objects.folders


def test_get_related_documents(corpus: Corpus) -> None:
    response, objects, _ = run(
        corpus.registry,
        query(
            "GetRelatedDocuments",
            (f"{DE}UniqueId", q(corpus.unique_ids["ct-thorax/cr"])),
            ("$AssociationTypes", ql(md.RPLC)),
        ),
    )
    assert corpus.labels(objects.entries) == {"ct-thorax/cr", "ct-rplc/cr"}
    assert [a.type for a in objects.associations] == [md.RPLC]
    response, objects, _ = run(
        corpus.registry,
        query(
            "GetRelatedDocuments",
            (f"{DE}EntryUUID", q(corpus.uuids["ct-thorax/cr"])),
            ("$AssociationTypes", ql(md.APND, md.XFRM)),
        ),
    )
    assert response.ok and not objects.entries and not objects.associations


# ==================================================================================================
# Errors


def test_unknown_stored_query(corpus: Corpus) -> None:
    stored = StoredQuery("urn:uuid:00000000-0000-4000-8000-000000000001", None, "LeafClass", {})
    assert failure_codes(corpus, stored) == ["XDSUnknownStoredQuery"]


def test_missing_required_parameter(corpus: Corpus) -> None:
    assert failure_codes(corpus, query("FindDocuments", (f"{DE}PatientId", q(pid(PATIENT_A))))) == [
        "XDSStoredQueryMissingParam"
    ]
    assert failure_codes(corpus, query("GetDocuments")) == ["XDSStoredQueryMissingParam"]


def test_parameter_number(corpus: Corpus) -> None:
    both = query("GetDocuments", (f"{DE}EntryUUID", ql(corpus.uuids["mr-head/kos"])), (f"{DE}UniqueId", ql("1.2.3")))
    assert failure_codes(corpus, both) == ["XDSStoredQueryParamNumber"]
    two_patients = query(
        "FindDocuments", (f"{DE}PatientId", ql(pid(PATIENT_A), pid(PATIENT_B))), (f"{DE}Status", ql(md.APPROVED))
    )
    assert failure_codes(corpus, two_patients) == ["XDSStoredQueryParamNumber"]
    two_slots = query(
        "FindDocuments",
        (f"{DE}PatientId", q(pid(PATIENT_A))),
        (f"{DE}Status", ql(md.APPROVED)),
        (f"{DE}ClassCode", ql("31^^1.2.250.1.213.1.1.4.1")),
        (f"{DE}ClassCode", ql("10^^1.2.250.1.213.1.1.4.1")),
    )
    assert failure_codes(corpus, two_slots) == ["XDSStoredQueryParamNumber"]


@pytest.mark.parametrize(
    ("slot", "value"),
    [
        (f"{DE}ClassCode", "('31^^')"),
        (f"{DE}EventCodeList", "('CT')"),
        (f"{DE}CreationTimeFrom", "2024ab"),
        (f"{DE}CreationTimeFrom", "20"),
    ],
)
def test_unreadable_values_are_registry_errors(corpus: Corpus, slot: str, value: str) -> None:
    stored = query(
        "FindDocuments", (f"{DE}PatientId", q(pid(PATIENT_A))), (f"{DE}Status", ql(md.APPROVED)), (slot, value)
    )
    assert failure_codes(corpus, stored) == ["XDSRegistryError"]


def test_return_type(corpus: Corpus) -> None:
    stored = build_stored_query(
        QUERY_IDS["GetDocuments"], [(f"{DE}UniqueId", ["('1.2.3')"])], "LeafClassWithRepositoryItem"
    )
    assert failure_codes(corpus, stored) == ["XDSRegistryError"]


def test_too_many_results(corpus: Corpus) -> None:
    small = Registry(corpus.url, max_results=3)
    try:
        response, objects, _ = run(
            small, query("FindDocuments", (f"{DE}PatientId", q(pid(PATIENT_A))), (f"{DE}Status", ql(md.APPROVED)))
        )
        assert codes(response) == ["XDSTooManyResults"] and not objects.entries
        response, _, _ = run(
            small, query("FindDocuments", (f"{DE}PatientId", q(pid(PATIENT_B))), (f"{DE}Status", ql(md.APPROVED)))
        )
        assert response.ok
        statuses = ql(*ALL_STATUSES)
        response, _, _ = run(
            small,
            query(
                "GetAll",
                ("$patientId", q(pid(PATIENT_B))),
                (f"{DE}Status", statuses),
                ("$XDSSubmissionSetStatus", statuses),
                ("$XDSFolderStatus", statuses),
            ),
        )
        assert codes(response) == ["XDSTooManyResults"]
    finally:
        small.close()


def test_query_by_name_is_accepted(corpus: Corpus) -> None:
    stored = StoredQuery(
        "FindDocuments", None, "ObjectRef", {f"{DE}PatientId": [[pid(PATIENT_B)]], f"{DE}Status": [[md.APPROVED]]}
    )
    response, objects, _ = run(corpus.registry, stored)
    assert response.ok and len(objects.object_refs) == 2


def test_update_objects_are_not_in_document_queries(corpus: Corpus) -> None:
    """The ITI-57 SubmissionSets are registered (FindSubmissionSets sees them), their status associations too."""
    _response, objects, _ = run(corpus.registry, query("GetAssociations", ("$uuid", ql(corpus.uuids["us-abdo/kos"]))))
    assert md.UPDATE_AVAILABILITY_STATUS in {a.type for a in objects.associations}
    assert RegistryObjects is not None
