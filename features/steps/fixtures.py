"""Fixtures of the process scenarios (features/processus): the actors, the journal, the scenario's scene.

By default every actor is simulated on loopback, started once per session: our registry (SQLite in a temporary
directory) and our imaging source (a generated study loaded), driven by our producer and consumer clients.
When ``XDSI_SUT`` names a ``sut.toml`` and :mod:`xdsi.config` is available, each actor section present there
replaces the matching simulator (DESIGN §5): ``[registry]`` gives the ITI-41/57/18/43 endpoints our clients call,
``[imaging_source]`` the AE title, host, port and RAD-69 / WADO-RS URLs our imaging consumer calls (the session's
study is C-STOREd into it when it gives aet/host/port, else the vendor preloads the study written under the
session's temporary directory, named in the log; C-GET and C-MOVE call it as ``[harness] aet``, C-MOVE to our
storage SCP on ``[harness] dicom_port``). ``[producer]`` and ``[consumer]`` are initiators: the steps run their
trigger (``trigger``, and a consumer's ``images_trigger``) or, without one, await their messages up to
``wait_seconds`` (``await_found``, ``announce``), then read what reached our simulators back from the journal
(``xds_steps._vendor_publish``, ``xds_steps._vendor_consume``, ``imaging_steps._vendor_images``). Our simulators
listen on ``[harness] host`` and its ports (free ones by default), where such an initiator is configured to send.

Every exchange goes to one journal (:class:`xdsi.journal.Journal`, fixture ``journal``; its file is
``journal.path``): the steps read back what they produced from it, check it, and keep it in the scene for
the report.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from simulators.consumer.client import ConsumerClient
from simulators.producer.client import ProducerClient
from xdsi.dicom.kos import KosInfo, build_kos, kos_bytes, modality_code, parse_kos
from xdsi.dicom.study import StudyInfo, generate_study
from xdsi.journal import Exchange, Journal
from xdsi.messages import examples as ex
from xdsi.messages import iti41
from xdsi.model import metadata as md
from xdsi.model.metadata import Document, DocumentEntry
from xdsi.model.retrieve import RetrieveResponse

log = logging.getLogger("xdsi.features")

#: the repository uniqueId of our registry simulator
REPOSITORY_UID = "1.2.250.1.999.42.3.1"


def new_uid() -> str:
    """A fresh DICOM UID (2.25 form)."""
    return f"2.25.{uuid.uuid4().int}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------------------------------- the SUT


def load_sut() -> Any | None:
    """The systems under test of ``$XDSI_SUT`` (``xdsi.config.load_sut``), or None: everything simulated."""
    path = os.environ.get("XDSI_SUT")
    if not path:
        return None
    try:
        from xdsi import config
    except ImportError:  # pragma: no cover - the configuration module has not landed
        log.warning("XDSI_SUT=%s ignored: xdsi.config is not available, every actor is simulated", path)
        return None
    return config.load_sut(Path(path))


@dataclass(frozen=True)
class RegistryEndpoints:
    """Where our producer and consumer reach the document sharing manager (gestionnaire de partage)."""

    iti41_url: str
    #: None: the ITI-41 URL with ``/iti41`` replaced by ``/iti57``
    iti57_url: str | None
    iti18_url: str
    iti43_url: str
    simulated: bool


@dataclass(frozen=True)
class ImagingEndpoints:
    """Where our imaging consumer reaches the imaging source (producteur d'examens d'imagerie)."""

    #: None where the system under test does not offer that access (the scenarios of that method are skipped)
    aet: str | None
    host: str | None
    port: int | None
    rad69_url: str | None
    wado_rs_url: str | None
    retrieve_location_uid: str
    #: the AE title the source moves to (C-MOVE) and the port our storage SCP listens on
    move_aet: str
    move_port: int
    simulated: bool


@dataclass(frozen=True)
class ImagingExam:
    """The exam whose images the imaging source holds, for the whole session."""

    exam: ex.Exam
    study: StudyInfo


# --------------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def sut() -> Any | None:
    """The vendor systems of ``$XDSI_SUT``; None when every actor is simulated."""
    return load_sut()


@pytest.fixture(scope="session")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Journal:
    """The journal of every exchange of the session (``$XDSI_JOURNAL``, ``-gwN`` appended under xdist, or a
    temporary file); its file is ``journal.path``."""
    given = os.environ.get("XDSI_JOURNAL")
    if not given:
        return Journal(tmp_path_factory.mktemp("journal") / "journal.sqlite")
    path = Path(given)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:  # one journal per xdist worker: a scenario reads back only its own exchanges
        path = path.with_name(f"{path.stem}-{worker}{path.suffix}")
    return Journal(path)


@pytest.fixture(scope="session")
def registry_endpoints(
    sut: Any | None, journal: Journal, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RegistryEndpoints]:
    """The registry under test, or our simulator (started once) on ``[harness] host`` and ``registry_port`` (a free
    loopback port by default: an initiator under test without a trigger is configured with a fixed one), its
    store ``[harness] store`` (a fresh SQLite file by default)."""
    vendor = getattr(sut, "registry", None) if sut is not None else None
    if vendor is not None:
        yield RegistryEndpoints(vendor.iti41_url, vendor.iti57_url, vendor.iti18_url, vendor.iti43_url, False)
        return
    from simulators.registry.registry import Registry
    from simulators.registry.server import create_app, start_in_thread

    harness = getattr(sut, "harness", None)
    store = getattr(harness, "store", None) or f"sqlite:///{tmp_path_factory.mktemp('registry') / 'registry.sqlite'}"
    registry = Registry(store, repository_unique_id=REPOSITORY_UID)
    host, port = getattr(harness, "host", "127.0.0.1"), int(getattr(harness, "registry_port", 0) or 0)
    server = start_in_thread(create_app(registry, journal=journal), host=host, port=port)
    try:
        url = server.url
        yield RegistryEndpoints(f"{url}/iti41", f"{url}/iti57", f"{url}/iti18", f"{url}/iti43", True)
    finally:
        server.stop()
        registry.close()


@pytest.fixture(scope="session")
def imaging_exam(tmp_path_factory: pytest.TempPathFactory) -> ImagingExam:
    """A chest CT (2 series × 3 instances) written as DICOM files, the exam the imaging source holds."""
    short = uuid.uuid4().hex[:8].upper()
    exam = ex.Exam(name=f"processus-imagerie-{short}", accession_number=f"ACCIMG{short}", order_number=f"CMD-{short}")
    directory = tmp_path_factory.mktemp("study")
    study = generate_study(directory, exam=exam)
    log.info("study of the imaging scenarios: %s", directory)
    return ImagingExam(exam, study)


@pytest.fixture(scope="session")
def imaging_endpoints(
    sut: Any | None, journal: Journal, imaging_exam: ImagingExam, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ImagingEndpoints]:
    """The imaging source under test, or our simulator with the session's study loaded (started once), on
    ``[harness] host``, ``dicom_port`` and ``http_port`` (free loopback ports by default: a consumer under test
    without a trigger is configured with fixed ones)."""
    vendor = getattr(sut, "imaging_source", None) if sut is not None else None
    if vendor is not None:
        harness = sut.harness
        move_aet, move_port = harness.aet, int(harness.dicom_port or 0) or free_port()
        if vendor.has_dimse:
            stored = store_study(imaging_exam.study, vendor.host, int(vendor.port), vendor.aet, move_aet)
            log.info("study %s stored into %s@%s:%s (%d instances)", imaging_exam.study.study_instance_uid,
                     vendor.aet, vendor.host, vendor.port, stored)  # fmt: skip
        else:  # no DICOM access: the vendor preloads the study written under the session's temporary directory
            log.warning("imaging source without DICOM: load the study %s into it", imaging_exam.study.directory)
        yield ImagingEndpoints(
            vendor.aet,
            vendor.host,
            int(vendor.port) if vendor.port else None,
            vendor.rad69_url,
            vendor.wado_rs_url,
            getattr(vendor, "retrieve_location_uid", "") or ex.IMAGING_SOURCE_UID,
            move_aet,
            move_port,
            False,
        )
        return
    move_port = free_port()
    from simulators.imaging_source.server import start_imaging_source

    store = tmp_path_factory.mktemp("imaging-source")
    assert imaging_exam.study.directory is not None
    harness = getattr(sut, "harness", None)
    destinations = {"XDSI_CONSUMER": ("127.0.0.1", move_port)}
    viewer = getattr(getattr(sut, "consumer", None), "move_destination", None)
    if viewer is not None:  # a consumer under test's storage SCP: its C-MOVE destination
        destinations[viewer[0]] = (viewer[1], viewer[2])
    source = start_imaging_source(
        host=getattr(harness, "host", "127.0.0.1"),
        dicom_port=int(getattr(harness, "dicom_port", 0) or 0),
        http_port=int(getattr(harness, "http_port", 0) or 0),
        store=f"sqlite:///{store}/index.sqlite",
        studies=[imaging_exam.study.directory],
        move_destinations=destinations,
        journal=journal,
    )
    try:
        yield ImagingEndpoints(
            source.ae_title,
            source.host,
            source.dicom_port,
            source.rad69_url,
            source.wado_rs_url,
            source.retrieve_location_uid,
            "XDSI_CONSUMER",
            move_port,
            True,
        )
    finally:
        source.stop()


def store_study(study: StudyInfo, host: str, port: int, called_aet: str | None, calling_aet: str) -> int:
    """C-STORE every instance of ``study`` to the imaging source under test (pynetdicom); the number stored.
    RuntimeError when the association is refused or an instance is not stored (status other than 0x0000)."""
    from pynetdicom import AE

    ae = AE(ae_title=calling_aet)
    for sop_class in sorted({i.sop_class_uid for i in study.instances}):
        ae.add_requested_context(sop_class, sorted({i.transfer_syntax_uid for i in study.instances}))
    assoc = ae.associate(host, port, ae_title=called_aet or "ANY-SCP")
    if not assoc.is_established:
        raise RuntimeError(f"the imaging source {called_aet}@{host}:{port} refused the C-STORE association")
    try:
        for inst in study.instances:
            status = assoc.send_c_store(inst.path)
            code = getattr(status, "Status", None)
            if code != 0:
                raise RuntimeError(f"C-STORE of {inst.sop_instance_uid} to {called_aet}@{host}:{port}: status {code!r}")
    finally:
        assoc.release()
    return len(study.instances)


@pytest.fixture(scope="session")
def producer(registry_endpoints: RegistryEndpoints, journal: Journal) -> Iterator[ProducerClient]:
    """Our document producer (Flux 1 and 3), talking to the registry under test."""
    client = ProducerClient(registry_endpoints.iti41_url, update_url=registry_endpoints.iti57_url, journal=journal)
    yield client
    client.close()


@pytest.fixture(scope="session")
def consumer(registry_endpoints: RegistryEndpoints, journal: Journal) -> Iterator[ConsumerClient]:
    """Our document consumer (Flux 5 and 7), talking to the registry under test."""
    client = ConsumerClient(registry_endpoints.iti18_url, retrieve_url=registry_endpoints.iti43_url, journal=journal)
    yield client
    client.close()


# --------------------------------------------------------------------------------------------------- the scene


@dataclass
class Publication:
    """What a producer submits for one exam: the KOS and its report, their uniqueIds and bytes."""

    exam: ex.Exam
    kos_uid: str
    report_uid: str
    kos: bytes
    report: bytes
    request: iti41.ProvideAndRegisterRequest

    @property
    def kos_entry(self) -> DocumentEntry:
        return self.request.objects.entries[0]

    @property
    def report_entry(self) -> DocumentEntry:
        return self.request.objects.entries[1]


@dataclass
class Scene:
    """What a process scenario carries from step to step."""

    journal: Journal
    #: the id of the last journal record already checked
    mark: int = 0
    #: the id of the last journal record before the scenario began
    start: int = 0
    exam: ex.Exam | None = None
    #: the study of the exam when the imaging source holds its images
    study: StudyInfo | None = None
    #: the imaging source holding the study (its retrieve information goes into the KOS)
    source: ImagingEndpoints | None = None
    publication: Publication | None = None
    #: the scenario broke the message on purpose: its request findings may hold errors
    faulty_request: bool = False
    response: Any = None
    entries: list[DocumentEntry] = field(default_factory=list)
    retrieved: RetrieveResponse | None = None
    kos: KosInfo | None = None
    report: bytes | None = None
    imaging: Any = None
    #: every exchange of the scenario, read back from the journal (for the report)
    exchanges: list[Exchange] = field(default_factory=list)

    def need_exam(self) -> ex.Exam:
        assert self.exam is not None, "no exam: start with « un examen d'imagerie … »"
        return self.exam

    def need_publication(self) -> Publication:
        assert self.publication is not None, "nothing published: use « le producteur a publié … »"
        return self.publication


@pytest.fixture
def scene(journal: Journal) -> Scene:
    """The scene of one scenario; the journal records before it are not its own."""
    last = journal.last_id()
    return Scene(journal, mark=last, start=last)


def new_exam(modality: str = "CT") -> ex.Exam:
    """An exam of the test patient with its own accession number, order number and UIDs."""
    short = uuid.uuid4().hex[:8].upper()
    return ex.Exam(
        name=f"processus-{short}",
        accession_number=f"ACC{short}",
        order_number=f"CMD-{short}",
        modality=modality_code(modality),
    )


def report_for(exam: ex.Exam, report_uid: str) -> bytes:
    """Our valid IMG-CR-IMG of ``exam``: its patient, order, accession number and study."""
    from tests.fixtures.cda import build_cr

    return build_cr(
        document_id=report_uid,
        patient_ins=exam.patient_ins,
        order_issuer=exam.order_issuer,
        order_number=exam.order_number,
        accession_issuer=exam.accession_issuer,
        accession_number=exam.accession_number,
        study_uid=exam.study_uid,
        modality=exam.modality.code,
    )


def publication(exam: ex.Exam, study: StudyInfo | None = None, source: ImagingEndpoints | None = None) -> Publication:
    """Flux 1 of ``exam``: a KOS (of ``study``, pointing at ``source``) and its report in one submission set,
    with fresh uniqueIds (the same exam may be published by several scenarios)."""
    if study is None:
        study = generate_study(Path("."), exam=exam, write=False)
    kos_uid, report_uid = new_uid(), new_uid()
    kos = kos_bytes(
        build_kos(
            study,
            exam=exam,
            sop_instance_uid=kos_uid,
            retrieve_ae_title=source.aet if source else "XDSI_SOURCE",
            retrieve_url=source.wado_rs_url if source else None,
            retrieve_location_uid=source.retrieve_location_uid if source else ex.IMAGING_SOURCE_UID,
        )
    )
    report = report_for(exam, report_uid)
    kos_de, cr_de = ex.kos_entry(exam), ex.report_entry(exam)
    kos_de.unique_id, cr_de.unique_id = kos_uid, report_uid
    ss = ex.submission_set(exam)
    ss.unique_id = new_uid()
    assocs = [
        ex.has_member(ss.entry_uuid, kos_de.entry_uuid, 1, submission_set_status="Original"),
        ex.has_member(ss.entry_uuid, cr_de.entry_uuid, 2, submission_set_status="Original"),
    ]
    objects = md.RegistryObjects(submission_sets=[ss], entries=[kos_de, cr_de], associations=assocs)
    docs = [Document(kos_de.entry_uuid, kos), Document(cr_de.entry_uuid, report)]
    return Publication(exam, kos_uid, report_uid, kos, report, iti41.ProvideAndRegisterRequest(objects, docs))


def parsed_kos(data: bytes) -> KosInfo:
    return parse_kos(data)


def check_journal(
    scene: Scene, transactions: set[str], faulty_request: bool = False, required: bool = True
) -> list[Exchange]:
    """The journal records since the last check: at least one of ``transactions`` (unless not ``required``); no
    error finding in any response, nor in any request unless the scenario broke it on purpose. Kept in the
    scene."""
    new = list(scene.journal.exchanges(after_id=scene.mark))
    if new:
        scene.mark = max(e.id or 0 for e in new)
    scene.exchanges += new
    mine = [e for e in new if e.transaction in transactions]
    assert mine or not required, f"no {'/'.join(sorted(transactions))} exchange in the journal {scene.journal.path}"
    return check_exchanges(mine, faulty_request)


def check_exchanges(exchanges: list[Exchange], faulty_request: bool = False) -> list[Exchange]:
    """No error finding in the responses of ``exchanges``, nor in their requests unless broken on purpose."""
    for e in exchanges:
        where = f"{e.actor} {e.direction} {e.transaction} (journal #{e.id})"
        bad = [(f.rule, f.location, f.message) for f in e.response_findings if f.severity == "error"]
        assert not bad, f"{where}: the response {e.response_flux} breaks the rules: {bad}"
        if not faulty_request:
            bad = [(f.rule, f.location, f.message) for f in e.request_findings if f.severity == "error"]
            assert not bad, f"{where}: the request {e.request_flux} breaks the rules: {bad}"
    return exchanges


# --------------------------------------------------------------------------------------- initiators under test

#: seconds our simulators are given to journal what a triggered initiator sent, once its trigger has finished
JOURNAL_WAIT = 15.0

T = TypeVar("T")


def vendor_producer(sut: Any | None) -> Any | None:
    """The producer under test of ``sut.toml`` (an :class:`xdsi.config.Initiator`), or None: our client plays it."""
    return getattr(sut, "producer", None) if sut is not None else None


def vendor_consumer(sut: Any | None) -> Any | None:
    """The consumer under test of ``sut.toml`` (an :class:`xdsi.config.Initiator`), or None: our client plays it."""
    return getattr(sut, "consumer", None) if sut is not None else None


def await_found(find: Callable[[], T | None], timeout: float) -> T | None:
    """Poll ``find`` until it gives something, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = find()
        if found is not None or time.monotonic() >= deadline:
            return found
        time.sleep(0.2)


def drive(
    request: pytest.FixtureRequest, initiator: Any, section: str, awaited: str, **values: object
) -> tuple[Any | None, str, float]:
    """Make an initiator under test act: run its trigger with ``values`` (then our simulators are given
    :data:`JOURNAL_WAIT` to journal what it sent), or, without a trigger, tell the person running the suite what
    to do (``awaited``) and give it ``wait_seconds``. Returns the trigger's result (None when awaited), a
    description for failure messages, and how long to wait for its messages."""
    if initiator.trigger:
        result = initiator.run(check=False, **values)
        return result, result.describe(), JOURNAL_WAIT
    wait = initiator.wait_seconds
    announce(request, f"waiting up to {wait:g} s for the {section} under test to {awaited}")
    return None, f"no trigger: awaited {wait:g} s (sut.toml [{section}] wait_seconds)", wait


def announce(request: pytest.FixtureRequest, text: str) -> None:
    """Tell the person running the suite what the scenario waits for (an initiator under test without trigger)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        reporter.ensure_newline()
        reporter.write_line(f"⏳ {text}", yellow=True)


#: the fixtures ``features/conftest.py`` puts in scope (the helpers are imported by name)
__all__ = [
    "consumer",
    "imaging_endpoints",
    "imaging_exam",
    "journal",
    "producer",
    "registry_endpoints",
    "scene",
    "sut",
]
