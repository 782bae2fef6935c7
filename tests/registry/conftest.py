"""Fixtures and builders shared by the registry tests.

``store_url`` runs a test on SQLite (a temporary file) and on PostgreSQL when ``XDSI_TEST_POSTGRES_URL`` is
set (each test in its own schema, dropped afterwards; ``tools/start_test_postgres.sh`` starts a server and
prints the URL); without the variable the PostgreSQL case is skipped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from lxml import etree

from simulators.registry.registry import Registry
from xdsi.ebrim.query import decode_response
from xdsi.messages import examples as ex
from xdsi.messages.iti41 import ProvideAndRegisterRequest
from xdsi.model import metadata as md
from xdsi.model.identifiers import CX
from xdsi.model.metadata import Association, Code, Document, DocumentEntry, RegistryObjects, SubmissionSet
from xdsi.model.responses import RegistryResponse
from xdsi.model.storedquery import QUERY_IDS, StoredQuery, build_stored_query

POSTGRES_URL = os.environ.get("XDSI_TEST_POSTGRES_URL", "").strip()
STORES = ["sqlite", "postgresql"]

PATIENT_A = "248039263001064"
PATIENT_B = "163077512300442"
CT_DCM = Code("CT", md.DCM, "Tomodensitométrie")
MR_JDV = Code("MR", md.MODALITY_JDV, "IRM")
US_DCM = Code("US", md.DCM, "Échographie")
CHEST = Code("67734004", md.SNOMED_CT, "Segment thoracique")
HEAD_JDV = Code("774007", md.REGION_JDV, "Tête et/ou cou")
ABDOMEN = Code("63337009", md.SNOMED_CT, "Segment abdominopelvien")


@contextmanager
def make_store_url(kind: str, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'registry.sqlite'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL store: set XDSI_TEST_POSTGRES_URL (tools/start_test_postgres.sh prints one)")
    import psycopg

    schema = f"xdsi_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with make_store_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def registry(store_url: str) -> Iterator[Registry]:
    reg = Registry(store_url)
    try:
        yield reg
    finally:
        reg.close()


# --------------------------------------------------------------------------------------------------
# Builders


def exam(
    name: str,
    patient: str = PATIENT_A,
    modality: Code = CT_DCM,
    region: Code = CHEST,
    study_date: str = "20261123091500",
    accession: str | None = None,
) -> ex.Exam:
    return ex.Exam(
        name=name,
        patient_ins=patient,
        modality=modality,
        region=region,
        study_date=study_date,
        accession_number=accession or "A" + hashlib.sha1(name.encode()).hexdigest()[:12].upper(),  # SH: ≤ 16
    )


def pnr(e: ex.Exam | None = None, folder: bool = False) -> ProvideAndRegisterRequest:
    """Flux 1 for an exam: the KOS and its report in one SubmissionSet (optionally with a Folder)."""
    e = e or ex.Exam()
    objects, docs = ex.flux1_with_folder(e) if folder else ex.flux1(e)
    return ProvideAndRegisterRequest(objects, docs)


def kos_only(e: ex.Exam, ss_id: str = "SubmissionSet01") -> ProvideAndRegisterRequest:
    objects, docs = ex.flux1(e)
    objects.entries = objects.entries[:1]
    objects.associations = objects.associations[:1]
    return ProvideAndRegisterRequest(objects, docs[:1])


def single_document(
    name: str,
    patient: str = PATIENT_A,
    unique_id: str | None = None,
    content: bytes | None = None,
    extra: list[Association] | None = None,
) -> ProvideAndRegisterRequest:
    """A SubmissionSet with one report DocumentEntry (``Doc``), plus extra associations."""
    e = exam(name, patient)
    ss = ex.submission_set(e, "SS")
    de = ex.report_entry(e, "Doc")
    if unique_id:
        de.unique_id = unique_id
    assocs = [ex.has_member("SS", "Doc", 1, submission_set_status="Original"), *(extra or [])]
    objects = RegistryObjects(submission_sets=[ss], entries=[de], associations=assocs)
    return ProvideAndRegisterRequest(objects, [Document("Doc", content if content is not None else ex.report_bytes(e))])


def update_submission_set(name: str, patient: str = PATIENT_A, ss_id: str = "SSU") -> SubmissionSet:
    e = exam(name, patient)
    ss = ex.submission_set(e, ss_id)
    ss.unique_id = ex.uid(name, "update", uuid.uuid4().hex)
    return ss


def status_update(
    target: str, original: str, new: str, patient: str = PATIENT_A, name: str = "update"
) -> RegistryObjects:
    ss = update_submission_set(name, patient)
    a = Association(
        id="Upd01",
        type=md.UPDATE_AVAILABILITY_STATUS,
        source=ss.entry_uuid,
        target=target,
        original_status=original,
        new_status=new,
    )
    return RegistryObjects(submission_sets=[ss], associations=[a])


def new_version(
    current: DocumentEntry, previous_version: str, patient: str | None = None, propagation: str | None = None
) -> RegistryObjects:
    """ITI-57: a new version of ``current`` (as returned by a query) with MASQUE_PS added."""
    ss = update_submission_set("nv")
    ss.patient_id = current.patient_id
    de = dataclasses.replace(
        current,
        entry_uuid="NewVersion",
        status=None,
        version=None,
        hash=None,
        size=None,
        repository_unique_id=None,
        confidentiality_codes=[
            *current.confidentiality_codes,
            Code("MASQUE_PS", "1.2.250.1.213.1.1.4.13", "Masqué aux professionnels de santé"),
        ],
    )
    de.logical_id = current.logical_id
    if patient:
        de.patient_id = patient
        ss.patient_id = patient
    a = ex.has_member(
        ss.entry_uuid, "NewVersion", 1, submission_set_status="Original", previous_version=previous_version
    )
    a.propagation = propagation
    return RegistryObjects(submission_sets=[ss], entries=[de], associations=[a])


def pid(ins: str) -> str:
    """The CX patient id of a test INS."""
    return str(CX.ins(ins))


def query(name: str, *slots: tuple[str, str], return_type: str = "LeafClass") -> StoredQuery:
    """A stored query from (parameter, encoded value) pairs; a repeated parameter is one more AND-ed slot."""
    return build_stored_query(QUERY_IDS[name], [(n, [v]) for n, v in slots], return_type)


def q(value: str) -> str:
    return f"'{value}'"


def ql(*values: str) -> str:
    return "(" + ",".join(f"'{v}'" for v in values) + ")"


def run(registry: Registry, stored_query: StoredQuery) -> tuple[RegistryResponse, RegistryObjects, etree._Element]:
    el = registry.stored_query(stored_query)
    result = decode_response(el)
    return result.response, result.objects, el


def find_documents(
    registry: Registry, patient: str = PATIENT_A, *extra: tuple[str, str], statuses: tuple[str, ...] = (md.APPROVED,)
) -> list[DocumentEntry]:
    response, objects, _ = run(
        registry,
        query(
            "FindDocuments",
            ("$XDSDocumentEntryPatientId", q(pid(patient))),
            ("$XDSDocumentEntryStatus", ql(*statuses)),
            *extra,
        ),
    )
    assert response.ok, response
    return objects.entries


def entry_by_unique_id(registry: Registry, unique_id: str) -> list[DocumentEntry]:
    response, objects, _ = run(registry, query("GetDocuments", ("$XDSDocumentEntryUniqueId", ql(unique_id))))
    assert response.ok, response
    return sorted(objects.entries, key=lambda de: int(de.version or 0))


def codes(response: RegistryResponse) -> list[str]:
    return [e.code for e in response.errors]
