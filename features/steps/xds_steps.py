"""Steps of the XDS processes (volet §3.1 – §3.4, §3.6, §3.7): publish, update, search and retrieve documents.

Our producer and consumer clients talk to the document sharing manager (``registry_endpoints``: our
simulator or the vendor's system of ``sut.toml``). Every step that exchanges a message reads the exchange
back from the journal and checks it: no error finding in the response, nor in the request unless the
scenario broke it on purpose (« la fiche du KOS est altérée … »).

    Étant donné un examen d'imagerie « CT » du patient de test
    Et un lot de documents contenant le KOS et le compte rendu de l'examen
    Quand le producteur soumet le lot au gestionnaire de partage
    Alors le gestionnaire accepte le lot
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree
from pytest_bdd import given, parsers, then, when

from features.steps.fixtures import (
    JOURNAL_WAIT,
    REPOSITORY_UID,
    Publication,
    RegistryEndpoints,
    Scene,
    await_found,
    check_exchanges,
    check_journal,
    drive,
    new_exam,
    new_uid,
    parsed_kos,
    publication,
    vendor_consumer,
    vendor_producer,
)
from simulators.consumer.client import ConsumerClient
from simulators.producer.client import ProducerClient
from xdsi.ebrim import decode as ebdecode
from xdsi.ebrim import query as ebquery
from xdsi.journal import Exchange
from xdsi.messages import examples as ex
from xdsi.messages import iti18, iti41, iti43
from xdsi.messages.wire import from_wire
from xdsi.model import metadata as md
from xdsi.model.identifiers import CX, ORDER, ReferenceId
from xdsi.model.metadata import Code, Document, DocumentEntry
from xdsi.model.responses import RegistryResponse
from xdsi.model.retrieve import DocumentRequest
from xdsi.validation.cda import ReportKeys, report_keys

#: the statuses of a Fiche, by the short name a scenario gives them
STATUSES = {"Approved": md.APPROVED, "Deprecated": md.DEPRECATED, "Archived": md.ARCHIVED, "Deleted": md.DELETED}

#: another patient than the test patient (a valid test INS)
OTHER_PATIENT_INS = "279035121518989"


def _drop_scheme(scheme: str) -> Callable[[DocumentEntry, Publication], None]:
    def alter(de: DocumentEntry, pub: Publication) -> None:
        de.event_codes = [c for c in de.event_codes if c.scheme != scheme]

    return alter


def _other_study(de: DocumentEntry, pub: Publication) -> None:
    de.reference_ids = [r.replace(pub.exam.study_uid, new_uid()) for r in de.reference_ids]


def _other_patient(de: DocumentEntry, pub: Publication) -> None:
    de.patient_id = str(CX.ins(OTHER_PATIENT_INS))


def _unknown_modality(de: DocumentEntry, pub: Publication) -> None:
    de.event_codes = [Code("XX", md.DCM, "Modalité inconnue") if c.scheme == md.DCM else c for c in de.event_codes]


def _wrong_hash(de: DocumentEntry, pub: Publication) -> None:
    de.hash = "0" * 40


def _wrong_mime(de: DocumentEntry, pub: Publication) -> None:
    de.mime_type = "text/plain"


def _no_type(de: DocumentEntry, pub: Publication) -> None:
    de.type_code = None


#: the alterations of the KOS Fiche a negative scenario names (each breaks one rule of the volet)
ALTERATIONS: dict[str, Callable[[DocumentEntry, Publication], None]] = {
    "sans modalité": _drop_scheme(md.DCM),
    "sans région anatomique": _drop_scheme(md.SNOMED_CT),
    "modalité hors jeu de valeurs": _unknown_modality,
    "Study Instance UID différent de celui du KOS": _other_study,
    "patient différent de celui du lot": _other_patient,
    "empreinte SHA-1 fausse": _wrong_hash,
    "type MIME text/plain": _wrong_mime,
    "sans typeCode": _no_type,
}


# --------------------------------------------------------------------------------------------------- helpers


def _ensure_publication(scene: Scene) -> Publication:
    if scene.publication is None:
        scene.publication = publication(scene.need_exam(), scene.study, scene.source)
    return scene.publication


def _submit(scene: Scene, producer: ProducerClient, mtom: bool = True) -> RegistryResponse:
    pub = scene.need_publication()
    response, _ = producer.provide_and_register(pub.request, mtom=mtom)
    scene.response = response
    check_journal(scene, {"ITI-41"}, scene.faulty_request)
    return response


def _find(scene: Scene, consumer: ConsumerClient, **criteria: object) -> list[DocumentEntry]:
    result = consumer.find_documents(scene.need_exam().patient_id, **criteria)
    scene.response = result.response
    scene.entries = list(result.objects.entries)
    check_journal(scene, {"ITI-18"}, scene.faulty_request)
    return scene.entries


def _found(scene: Scene) -> set[str]:
    return {e.unique_id or "" for e in scene.entries}


def _study_uid(pub: Publication) -> str:
    """The Study Instance UID of the published KOS Fiche's referenceIdList (that of the exam, or the one a
    producer under test chose)."""
    uids = pub.kos_entry.study_instance_uids
    return ReferenceId.parse(uids[0]).id if uids else pub.exam.study_uid


def _registered_kos(scene: Scene, consumer: ConsumerClient, statuses: list[str] | None = None) -> DocumentEntry:
    """The published KOS Fiche, found by its Study Instance UID (:func:`_study_uid`)."""
    pub = scene.need_publication()
    entries = _find(scene, consumer, statuses=statuses or [md.APPROVED], study_uids=[_study_uid(pub)])
    matches = [e for e in entries if e.unique_id == pub.kos_uid]
    assert matches, f"the KOS {pub.kos_uid} is not registered"
    return matches[0]


def _retrieve(scene: Scene, consumer: ConsumerClient, unique_id: str) -> bytes | None:
    entry = next((e for e in scene.entries if e.unique_id == unique_id), None)
    assert entry is not None, f"document {unique_id} not found by the previous search"
    repository = entry.repository_unique_id or ""
    scene.retrieved = consumer.retrieve([DocumentRequest(repository, unique_id)])
    scene.response = scene.retrieved.response
    check_journal(scene, {"ITI-43"}, scene.faulty_request)
    docs = [d for d in scene.retrieved.documents if d.document_unique_id == unique_id]
    return docs[0].content if docs else None


def _report_keys(scene: Scene) -> ReportKeys:
    assert scene.report is not None, "no report retrieved"
    return report_keys(etree.fromstring(scene.report))


# ------------------------------------------------------------------------------------ a vendor's producer

#: why the metadata update scenarios cannot run against a producer under test
FLUX3_SKIP = "its metadata updates (Flux 3) are driven by an update_trigger only, and it has none"


def _skip_for_vendor_producer(sut: Any | None, what: str) -> None:
    if vendor_producer(sut) is not None:
        pytest.skip(f"producer under test (sut.toml [producer]): {what}")


def _received(scene: Scene, transaction: str) -> list[Exchange]:
    """The ``transaction`` requests our simulators received since the scenario began, oldest first."""
    return [
        e
        for e in scene.journal.exchanges(after_id=scene.start)
        if e.transaction == transaction and e.direction == "received"
    ]


def _answer(exchange: Exchange, who: str, said: str) -> Any:
    """The journaled answer of a request ``who`` sent us, read back from the wire."""
    raw = from_wire(exchange.response, exchange.response_content_type)
    assert raw.body is not None, f"no answer journaled for the {who}'s {exchange.transaction} ({said})"
    return raw


def _kos_fiche(exchange: Exchange) -> tuple[str, ReferenceId, set[str]] | None:
    """The patient id, the accession number and the modalities (DICOM codes) of the KOS Fiche of a received
    ITI-41 (None if it has no KOS Fiche with an accession number)."""
    try:
        raw = from_wire(exchange.request, exchange.request_content_type)
        objects = iti41.decode_request(raw.body if raw.body is not None else raw.xml_root, raw.attachments).objects
    except Exception:  # an unreadable lot has no accession number: the journal's findings say why
        return None
    for de in objects.entries:
        if de.mime_type != "application/dicom":
            continue
        accession = next((r for r in map(ReferenceId.parse, de.accession_numbers) if r.id), None)
        if accession is not None and de.patient_id:
            return de.patient_id, accession, {c.code for c in de.event_codes if c.scheme == md.DCM}
    return None


def _vendor_publish(
    request: pytest.FixtureRequest,
    scene: Scene,
    initiator: Any,
    registry: RegistryEndpoints,
    consumer: ConsumerClient,
) -> RegistryResponse:
    """Flux 1 by the producer under test. With a trigger, it is run with our registry's ITI-41 URL and the exam's
    patient and accession number (and modality), and the scenario looks for the ITI-41 of that accession number.
    Without one, the scenario awaits (``wait_seconds``) the first lot the producer sends our registry simulator
    with a KOS Fiche of the exam's modality, and takes the exam's patient and accession number from that Fiche.
    The ITI-41 is read back from the journal and checked (no error finding in the vendor's request nor in our
    answer); the entries it registered are then found (ITI-18 by accession number) and retrieved (ITI-43), and
    kept as the scene's publication."""
    if not registry.simulated:
        pytest.skip("producer under test: its messages are read back from our registry simulator's journal")
    exam = scene.need_exam()
    _result, said, timeout = drive(
        request,
        initiator,
        "producer",
        f"send a lot with the KOS of an exam of modality {exam.modality.code} and its report (ITI-41) to "
        f"{registry.iti41_url}",
        registry_url=registry.iti41_url,
        patient_id=exam.patient_id,
        accession_number=exam.accession_number,
        modality=exam.modality.code,
    )
    wanted = exam.accession_number if initiator.trigger else None

    def lot() -> tuple[Exchange, str, ReferenceId, set[str]] | None:
        for e in _received(scene, "ITI-41"):
            fiche = _kos_fiche(e)
            if fiche is None:
                continue
            if (wanted is not None and fiche[1].id == wanted) or (wanted is None and exam.modality.code in fiche[2]):
                return e, *fiche
        return None

    got = await_found(lot, timeout)
    assert got is not None, (
        f"our registry at {registry.iti41_url} received no ITI-41 with a KOS Fiche"
        + (f" of accession number {wanted}" if wanted else f" of modality {exam.modality.code}")
        + f" from the producer ({said}); ITI-41 received: {len(_received(scene, 'ITI-41'))}"
    )
    exchange, patient_id, accession, _modalities = got
    check_journal(scene, {"ITI-41"}, required=False)  # what came since the last check, kept for the report
    check_exchanges([exchange])
    response = ebdecode.registry_response(_answer(exchange, "producer", said).body)
    if not initiator.trigger:  # the exam is the one the producer chose
        exam = dataclasses.replace(
            exam,
            patient_ins=CX.parse(patient_id).id,
            accession_number=accession.id,
            accession_issuer=accession.authority or exam.accession_issuer,
        )
        scene.exam = exam
    scene.response = response
    if not response.ok:
        return response
    found = consumer.find_documents(
        patient_id, accession_numbers=[accession.id], accession_issuer=accession.authority or exam.accession_issuer
    )
    check_journal(scene, {"ITI-18"})
    entries = list(found.objects.entries)
    kos = [e for e in entries if e.mime_type == "application/dicom"]
    reports = [e for e in entries if e.mime_type in ("text/xml", "application/xml")]
    assert kos and reports, (
        f"the producer's lot for accession {accession.id} is not registered as a KOS and a report: "
        f"{[(e.unique_id, e.mime_type) for e in entries]}"
    )
    kos_de, cr_de = kos[-1], reports[-1]
    if initiator.trigger and "modality" in initiator.placeholders():
        codes = {c.code for c in kos_de.event_codes if c.scheme == md.DCM}
        assert exam.modality.code in codes, f"the KOS Fiche's modalities {codes}, not {exam.modality.code}"
    retrieved = consumer.retrieve(
        [DocumentRequest(de.repository_unique_id or REPOSITORY_UID, de.unique_id or "") for de in (kos_de, cr_de)]
    )
    check_journal(scene, {"ITI-43"})
    content = {d.document_unique_id: d.content for d in retrieved.documents}
    assert kos_de.unique_id in content and cr_de.unique_id in content, "the producer's documents cannot be retrieved"
    kos_bytes, cr_bytes = content[kos_de.unique_id or ""], content[cr_de.unique_id or ""]
    request_ = iti41.ProvideAndRegisterRequest(
        md.RegistryObjects(entries=[kos_de, cr_de]),
        [Document(kos_de.entry_uuid, kos_bytes), Document(cr_de.entry_uuid, cr_bytes)],
    )
    scene.publication = Publication(exam, kos_de.unique_id or "", cr_de.unique_id or "", kos_bytes, cr_bytes, request_)
    return response


# ------------------------------------------------------------------------------------ a vendor's consumer

#: why a scenario's query cannot be made by a consumer under test
QUERY_SKIP = "it searches the patient and retrieves an exam (triggered or awaited) only: it cannot be asked for {what}"

#: the 3.3 criteria a consumer under test's trigger covers (it searches the patient, keeps the accession number's)
VENDOR_CRITERIA = ("patient seul", "accession number de l'examen")


def _skip_for_vendor_consumer(sut: Any | None, what: str) -> None:
    if vendor_consumer(sut) is not None:
        pytest.skip("consumer under test (sut.toml [consumer]): " + QUERY_SKIP.format(what=what))


def _search_and_retrieve(scene: Scene, accession_number: str) -> tuple[Exchange, Exchange] | None:
    """The first ITI-18 our registry received since the scenario began whose answer lists a Fiche of
    ``accession_number``, with the first ITI-43 received after it that asks for one of the documents found."""
    retrieves = _received(scene, "ITI-43")
    for search in _received(scene, "ITI-18"):
        try:
            found = ebquery.decode_response(from_wire(search.response, search.response_content_type).body)
        except Exception:  # an unreadable answer lists nothing: the journal's findings say why
            continue
        ids = {e.unique_id for e in found.objects.entries if carries_accession(e, accession_number)}
        for retrieve in (r for r in retrieves if (r.id or 0) > (search.id or 0)):
            try:
                asked = iti43.decode_request(from_wire(retrieve.request, retrieve.request_content_type).body)
            except Exception:  # an unreadable request asks for nothing
                continue
            if ids & {d.document_unique_id for d in asked}:
                return search, retrieve
    return None


def carries_accession(entry: DocumentEntry, accession_number: str) -> bool:
    """The Fiche's referenceIdList carries ``accession_number`` typed as an accession number."""
    return any(ReferenceId.parse(value).id == accession_number for value in entry.accession_numbers)


def _received_summary(scene: Scene) -> str:
    parts = []
    for e in _received(scene, "ITI-18") + _received(scene, "ITI-43"):
        status = "no answer" if e.error else f"HTTP {e.http_status}"
        parts.append(f"{e.transaction} #{e.id} {status}{': ' + e.error if e.error else ''}")
    return "; ".join(parts) or "nothing"


def _vendor_consume(request: pytest.FixtureRequest, scene: Scene, initiator: Any, registry: RegistryEndpoints) -> None:
    """Flux 5 → 6 and 7 → 8 by the consumer under test: it searches the patient's documents then retrieves the
    exam's. With a trigger, it is run with our registry's base URL and the exam's patient and accession number;
    without one, the scenario awaits (``wait_seconds``) the consumer's requests. The scenario looks for an ITI-18
    whose answer lists the exam's Fiches followed by an ITI-43 asking for one of them; the requests our registry
    simulator received are read back from the journal and checked (no error finding in the vendor's requests
    nor in our answers, both Success). The scene keeps the search's entries and the retrieved documents, as our
    client's steps do."""
    if not registry.simulated:
        pytest.skip("consumer under test: its messages are read back from our registry simulator's journal")
    exam = scene.need_exam()
    base = registry.iti18_url.removesuffix("/iti18")
    result, said, timeout = drive(
        request,
        initiator,
        "consumer",
        f"search the documents of patient {exam.patient_id} ({registry.iti18_url}) and retrieve those of "
        f"accession number {exam.accession_number} ({base}/iti43)",
        registry_url=base,
        patient_id=exam.patient_id,
        accession_number=exam.accession_number,
    )
    got = await_found(lambda: _search_and_retrieve(scene, exam.accession_number), timeout)
    assert got is not None, (
        f"our registry received no search (ITI-18) answered with the Fiches of accession number "
        f"{exam.accession_number} followed by a retrieve (ITI-43) of one of them ({said}); received: "
        + _received_summary(scene)
    )
    search, retrieve = got
    check_journal(scene, {"ITI-18", "ITI-43"}, required=False)  # what came since the last check, for the report
    check_exchanges([search, retrieve])
    found = ebquery.decode_response(_answer(search, "consumer", said).body)
    assert found.response.ok, f"ITI-18: {[(e.code, e.context) for e in found.response.errors]} ({said})"
    raw = _answer(retrieve, "consumer", said)
    retrieved = iti43.decode_response(raw.body, raw.attachments)
    assert retrieved.response.ok, f"ITI-43: {[(e.code, e.context) for e in retrieved.response.errors]} ({said})"
    assert result is None or result.ok, said
    scene.entries = list(found.objects.entries)
    scene.retrieved = retrieved
    scene.response = found.response


# --------------------------------------------------------------------------------------------------- given


@given(parsers.parse("un examen d'imagerie « {modality} » du patient de test"))
def given_exam(scene: Scene, modality: str) -> None:
    """A new exam of the test patient in ``modality`` (DICOM code: CT, MR, US…), with its own accession
    number, order number and Study Instance UID."""
    scene.exam = new_exam(modality)
    scene.study = scene.source = scene.publication = None
    scene.faulty_request = False


@given("un lot de documents contenant le KOS et le compte rendu de l'examen")
def given_lot(scene: Scene, sut: Any | None) -> None:
    """Flux 1 of the exam, not yet sent: its KOS and its IMG-CR-IMG report in one submission set (with a producer
    under test, the lot is its own: sent when its trigger runs, or awaited)."""
    if vendor_producer(sut) is None:
        _ensure_publication(scene)


@given(parsers.parse("la fiche du KOS est altérée : « {alteration} »"))
def given_alteration(scene: Scene, sut: Any | None, alteration: str) -> None:
    """Break the KOS Fiche (DocumentEntry) of the lot (the scenario expects the request to break rules):
    « sans modalité », « sans région anatomique », « modalité hors jeu de valeurs », « Study Instance UID
    différent de celui du KOS », « patient différent de celui du lot », « empreinte SHA-1 fausse »,
    « type MIME text/plain », « sans typeCode » (``ALTERATIONS``). Skipped with a producer under test."""
    _skip_for_vendor_producer(sut, "a vendor's producer cannot be asked to send a broken lot")
    pub = scene.need_publication()
    ALTERATIONS[alteration](pub.kos_entry, pub)
    scene.faulty_request = True


@given("le producteur a publié le KOS et le compte rendu de l'examen")
def given_published(
    scene: Scene, sut: Any | None, registry_endpoints: RegistryEndpoints, consumer: ConsumerClient, request: Any
) -> None:
    """Flux 1 → 2 of the exam, accepted by the document sharing manager (by the producer under test when
    ``sut.toml`` has a ``[producer]``: see :func:`_vendor_publish`)."""
    initiator = vendor_producer(sut)
    if initiator is not None:
        response = _vendor_publish(request, scene, initiator, registry_endpoints, consumer)
        assert response.ok, [(e.code, e.context) for e in response.errors]
        return
    producer: ProducerClient = request.getfixturevalue("producer")
    _ensure_publication(scene)
    response = _submit(scene, producer)
    assert response.ok, [(e.code, e.context) for e in response.errors]


@given("le consommateur a obtenu le KOS de l'examen auprès du gestionnaire")
def given_kos_obtained(
    scene: Scene, sut: Any | None, consumer: ConsumerClient, registry_endpoints: RegistryEndpoints, request: Any
) -> None:
    """Flux 5 → 6 (search by the exam's Study Instance UID) then 7 → 8 (retrieve the KOS), parsed. With a consumer
    under test, in 3.5: it searches the patient and retrieves the exam's KOS, triggered or awaited
    (:func:`_vendor_consume`), and the KOS it was sent is parsed; elsewhere (3.6, 3.7) skipped."""
    initiator = vendor_consumer(sut)
    if initiator is not None:
        if request.node.get_closest_marker("process_3_5") is None:
            _skip_for_vendor_consumer(sut, "the KOS by a search by Study Instance UID (3.6, 3.7)")
        _vendor_consume(request, scene, initiator, registry_endpoints)
        pub = scene.need_publication()
        assert scene.retrieved is not None
        sent = [d.content for d in scene.retrieved.documents if d.document_unique_id == pub.kos_uid]
        assert sent, f"the consumer under test retrieved the exam's documents but not its KOS {pub.kos_uid}"
        scene.kos = parsed_kos(sent[0])
        return
    pub = scene.need_publication()
    _registered_kos(scene, consumer)
    data = _retrieve(scene, consumer, pub.kos_uid)
    assert data is not None, "the KOS was not returned"
    scene.kos = parsed_kos(data)


# ---------------------------------------------------------------------------------------------------- when


@when("le producteur soumet le lot au gestionnaire de partage")
def when_submit(
    scene: Scene, sut: Any | None, registry_endpoints: RegistryEndpoints, consumer: ConsumerClient, request: Any
) -> None:
    """Flux 1 (ITI-41, MTOM/XOP) → Flux 2 (by the producer under test when ``sut.toml`` has one: triggered or
    awaited, see :func:`_vendor_publish`)."""
    initiator = vendor_producer(sut)
    if initiator is not None:
        _vendor_publish(request, scene, initiator, registry_endpoints, consumer)
        return
    _submit(scene, request.getfixturevalue("producer"))


@when(parsers.parse("le producteur soumet le lot au gestionnaire de partage en « {encoding} »"))
def when_submit_encoding(
    scene: Scene,
    sut: Any | None,
    registry_endpoints: RegistryEndpoints,
    consumer: ConsumerClient,
    request: Any,
    encoding: str,
) -> None:
    """Flux 1 with the documents as ``MTOM`` parts or ``base64`` inline (a producer under test chooses its own
    encoding: it is triggered or awaited the same way for both)."""
    assert encoding in ("MTOM", "base64"), encoding
    initiator = vendor_producer(sut)
    if initiator is not None:
        _vendor_publish(request, scene, initiator, registry_endpoints, consumer)
        return
    _submit(scene, request.getfixturevalue("producer"), mtom=encoding == "MTOM")


@when("le producteur soumet à nouveau le même lot")
def when_submit_again(scene: Scene, sut: Any | None, request: Any) -> None:
    """Flux 1 of a lot already registered (same uniqueIds). Skipped with a producer under test."""
    _skip_for_vendor_producer(sut, "a vendor's producer cannot be asked to send the same lot twice")
    _submit(scene, request.getfixturevalue("producer"))


def _vendor_update(
    request: Any,
    scene: Scene,
    initiator: Any,
    registry: RegistryEndpoints,
    consumer: ConsumerClient,
    operation: str,
    old: str = "",
    new: str = "",
) -> None:
    """Flux 3 by the producer under test: its ``update_trigger`` is run with our registry's ITI-57 URL, the exam's
    keys, the ``operation`` (``status`` with ``{original_status}`` and ``{new_status}``, or ``new-version``) and
    the KOS Fiche it published (``{entry_uuid}``, ``{logical_id}``, ``{document_uid}``); the ITI-57 our registry
    received is read back from the journal and checked, and its answer is the scene's response. Skipped without
    an update_trigger (a producer that only publishes, or one awaited: its updates are not awaited)."""
    if not initiator.update_trigger:
        pytest.skip(f"producer under test (sut.toml [producer]): {FLUX3_SKIP}")
    exam = scene.need_exam()
    kos = _registered_kos(scene, consumer, list(STATUSES.values()))
    before = scene.journal.last_id()
    result = initiator.updates().run(
        check=False,
        registry_url=registry.iti57_url,
        patient_id=exam.patient_id,
        accession_number=exam.accession_number,
        modality=exam.modality.code,
        operation=operation,
        entry_uuid=kos.entry_uuid,
        logical_id=kos.logical_id or kos.entry_uuid,
        document_uid=kos.unique_id or "",
        original_status=old,
        new_status=new,
    )
    said = result.describe()

    def received() -> Exchange | None:
        new_ones = scene.journal.exchanges(after_id=before)
        return next((e for e in new_ones if e.transaction == "ITI-57" and e.direction == "received"), None)

    exchange = await_found(received, JOURNAL_WAIT)
    assert exchange is not None, f"our registry at {registry.iti57_url} received no ITI-57 from the producer ({said})"
    check_journal(scene, {"ITI-57"}, required=False)  # what came since the last check, kept for the report
    check_exchanges([exchange])
    scene.response = ebdecode.registry_response(_answer(exchange, "producer", said).body)


@when(parsers.parse("le producteur fait passer la fiche du KOS du statut « {old} » au statut « {new} »"))
def when_status(
    scene: Scene,
    sut: Any | None,
    request: Any,
    consumer: ConsumerClient,
    registry_endpoints: RegistryEndpoints,
    old: str,
    new: str,
) -> None:
    """Flux 3 (ITI-57 UpdateAvailabilityStatus) → Flux 4; statuses: Approved, Archived, Deleted, Deprecated. With a
    producer under test, by its update_trigger (:func:`_vendor_update`)."""
    initiator = vendor_producer(sut)
    if initiator is not None:
        _vendor_update(request, scene, initiator, registry_endpoints, consumer, "status", old, new)
        return
    producer: ProducerClient = request.getfixturevalue("producer")
    kos = _registered_kos(scene, consumer, list(STATUSES.values()))
    objects = ex.flux3_status(
        scene.need_exam(),
        target=kos.entry_uuid,
        original=STATUSES[old],
        new=STATUSES[new],
        submission_set_uid=new_uid(),
    )
    scene.response = producer.update(objects)
    check_journal(scene, {"ITI-57"}, scene.faulty_request)


def _new_version(scene: Scene, producer: ProducerClient, logical_id: str) -> None:
    pub = scene.need_publication()
    objects = ex.flux3_new_version(pub.exam, logical_id=logical_id, unique_id=pub.kos_uid, submission_set_uid=new_uid())
    scene.response = producer.update(objects)
    check_journal(scene, {"ITI-57"}, scene.faulty_request)


@when("le producteur publie une nouvelle version de la fiche du KOS")
def when_new_version(
    scene: Scene, sut: Any | None, request: Any, consumer: ConsumerClient, registry_endpoints: RegistryEndpoints
) -> None:
    """Flux 3 (ITI-57): a new version of the KOS Fiche (masked to professionals), previous version 1. With a
    producer under test, by its update_trigger (:func:`_vendor_update`)."""
    initiator = vendor_producer(sut)
    if initiator is not None:
        _vendor_update(request, scene, initiator, registry_endpoints, consumer, "new-version")
        return
    producer: ProducerClient = request.getfixturevalue("producer")
    kos = _registered_kos(scene, consumer)
    _new_version(scene, producer, kos.logical_id or kos.entry_uuid)


@when("le producteur publie une nouvelle version d'une fiche inconnue du gestionnaire")
def when_new_version_unknown(scene: Scene, sut: Any | None, request: Any) -> None:
    """Flux 3 (ITI-57): a new version whose logicalID the manager does not know. Skipped with a producer under
    test (it cannot be asked to update a Fiche nobody registered)."""
    _skip_for_vendor_producer(sut, "it cannot be asked to update a Fiche the manager does not know")
    _new_version(scene, request.getfixturevalue("producer"), ex.entry_uuid("inconnue", new_uid()))


@when("le consommateur recherche les documents du patient")
def when_search_patient(
    scene: Scene, sut: Any | None, registry_endpoints: RegistryEndpoints, consumer: ConsumerClient, request: Any
) -> None:
    """Flux 5 (ITI-18 FindDocuments) → Flux 6: the patient's approved documents (by the consumer under test's
    when ``sut.toml`` has one: see :func:`_vendor_consume`)."""
    initiator = vendor_consumer(sut)
    if initiator is not None:
        _vendor_consume(request, scene, initiator, registry_endpoints)
        return
    _find(scene, consumer)


#: search criteria (volet Tableau 13), by the name a scenario gives them, from the scene's exam
def _criteria(criterion: str, exam: ex.Exam) -> dict[str, object]:
    order = str(ReferenceId(exam.order_number, ORDER, exam.order_issuer))
    other = new_exam()
    table: dict[str, dict[str, object]] = {
        "patient seul": {},
        "période de l'examen": {"service_start_from": exam.study_date[:8], "service_start_to": "20261124"},
        "période antérieure à l'examen": {"service_start_from": "20200101", "service_start_to": "20201231"},
        "modalité de l'examen": {"modalities": [exam.modality]},
        "autre modalité": {"modalities": ["MR" if exam.modality.code != "MR" else "CT"]},
        "région anatomique de l'examen": {"regions": [exam.region]},
        "autre région anatomique": {"regions": ["76752008"]},
        "accession number de l'examen": {
            "accession_numbers": [exam.accession_number],
            "accession_issuer": exam.accession_issuer,
        },
        "accession number d'un autre examen": {
            "accession_numbers": [other.accession_number],
            "accession_issuer": other.accession_issuer,
        },
        "Study Instance UID de l'examen": {"study_uids": [exam.study_uid]},
        "numéro de demande de l'examen": {"reference_ids": [order]},
    }
    return table[criterion]


@given(parsers.parse("le consommateur recherche les documents du patient avec le critère « {criterion} »"))
def given_search_criterion(scene: Scene, sut: Any | None, consumer: ConsumerClient, criterion: str) -> None:
    """Flux 5 → 6 with one criterion of Tableau 13 (see :func:`when_search_criterion`), before a retrieve. With a
    consumer under test, nothing is sent here: it searches then retrieves (triggered or awaited) at the retrieve
    step."""
    if vendor_consumer(sut) is not None:
        return
    _find(scene, consumer, **_criteria(criterion, scene.need_exam()))


@when(parsers.parse("le consommateur recherche les documents du patient avec le critère « {criterion} »"))
def when_search_criterion(
    scene: Scene,
    sut: Any | None,
    registry_endpoints: RegistryEndpoints,
    consumer: ConsumerClient,
    request: Any,
    criterion: str,
) -> None:
    """Flux 5 → 6 with one criterion of Tableau 13, taken from the scene's exam: « patient seul », « période de
    l'examen », « modalité de l'examen », « région anatomique de l'examen », « accession number de l'examen »,
    « Study Instance UID de l'examen », « numéro de demande de l'examen »; and criteria the exam does not meet:
    « période antérieure à l'examen », « autre modalité », « autre région anatomique », « accession number
    d'un autre examen ». With a consumer under test, it searches (triggered or awaited) for « patient seul » and
    « accession number de l'examen » (:func:`_vendor_consume`); the other criteria are skipped."""
    initiator = vendor_consumer(sut)
    if initiator is not None:
        if criterion not in VENDOR_CRITERIA:
            _skip_for_vendor_consumer(sut, f"the criterion « {criterion} »")
        _vendor_consume(request, scene, initiator, registry_endpoints)
        return
    _find(scene, consumer, **_criteria(criterion, scene.need_exam()))


@when(parsers.parse("le consommateur recherche les documents de la modalité « {modality} »"))
def when_search_modality(scene: Scene, sut: Any | None, consumer: ConsumerClient, modality: str) -> None:
    """Flux 5 → 6: the patient's documents of one modality (DICOM code). Skipped with a consumer under test."""
    _skip_for_vendor_consumer(sut, "a search by modality")
    _find(scene, consumer, modalities=[modality])


@when(parsers.parse("le consommateur recherche les documents du patient au statut « {status} »"))
def when_search_status(scene: Scene, sut: Any | None, consumer: ConsumerClient, status: str) -> None:
    """Flux 5 → 6: the patient's documents of one status (Approved, Archived, Deleted, Deprecated). Skipped with a
    consumer under test."""
    _skip_for_vendor_consumer(sut, "a search by status")
    _find(scene, consumer, statuses=[STATUSES[status]])


@when("le consommateur envoie une recherche sans identifiant de patient")
def when_search_without_patient(scene: Scene, sut: Any | None, consumer: ConsumerClient) -> None:
    """Flux 5 without $XDSDocumentEntryPatientId (a required parameter). Skipped with a consumer under test."""
    _skip_for_vendor_consumer(sut, "a search without patient identifier")
    query = ebquery.AdhocQuery(iti18.FIND_DOCUMENTS, slots=[("$XDSDocumentEntryStatus", [f"('{md.APPROVED}')"])])
    result = consumer.stored_query(query)
    scene.response = result.response
    scene.entries = list(result.objects.entries)
    check_journal(scene, {"ITI-18"}, faulty_request=True)


def _retrieve_document(scene: Scene, consumer: ConsumerClient, document: str) -> None:
    pub = scene.need_publication()
    unique_id = {"KOS": pub.kos_uid, "compte rendu": pub.report_uid}[document]
    data = _retrieve(scene, consumer, unique_id)
    if document == "KOS" and data is not None:
        scene.kos = parsed_kos(data)
    if document == "compte rendu":
        scene.report = data


@given(parsers.parse("le consommateur récupère le {document} de l'examen"))
def given_retrieve(scene: Scene, sut: Any | None, consumer: ConsumerClient, document: str) -> None:
    """Flux 7 (ITI-43) → Flux 8 before a search by a key read in the document (3.7). Skipped with a consumer
    under test."""
    _skip_for_vendor_consumer(sut, "a search by a key read in the retrieved document")
    _retrieve_document(scene, consumer, document)


@when(parsers.parse("le consommateur récupère le {document} de l'examen"))
def when_retrieve(
    scene: Scene,
    sut: Any | None,
    registry_endpoints: RegistryEndpoints,
    consumer: ConsumerClient,
    request: Any,
    document: str,
) -> None:
    """Flux 7 (ITI-43) → Flux 8: the ``KOS`` or the ``compte rendu`` found by the previous search. With a consumer
    under test, it searches the patient then retrieves the exam's documents, triggered or awaited
    (:func:`_vendor_consume`); the last response is then its retrieve's."""
    initiator = vendor_consumer(sut)
    if initiator is None:
        _retrieve_document(scene, consumer, document)
        return
    if scene.entries or scene.kos is not None or scene.report is not None:
        _skip_for_vendor_consumer(sut, "a search by a key read in the retrieved documents")
    _vendor_consume(request, scene, initiator, registry_endpoints)
    assert scene.retrieved is not None
    scene.response = scene.retrieved.response


@when("le consommateur demande un document inconnu du gestionnaire")
def when_retrieve_unknown(scene: Scene, sut: Any | None, consumer: ConsumerClient) -> None:
    """Flux 7 for a uniqueId nobody registered (to the repository of the last search, else ours). Skipped with a
    consumer under test."""
    _skip_for_vendor_consumer(sut, "a retrieve of an unknown document")
    repository = next((e.repository_unique_id for e in scene.entries if e.repository_unique_id), REPOSITORY_UID)
    scene.retrieved = consumer.retrieve([DocumentRequest(repository, new_uid())])
    scene.response = scene.retrieved.response
    check_journal(scene, {"ITI-43"})


def _search_by_key(scene: Scene, consumer: ConsumerClient, key: str, keys: ReportKeys) -> None:
    if key == "accession number":
        assert keys.accession_number, "no accession number"
        _find(scene, consumer, accession_numbers=[keys.accession_number], accession_issuer=keys.accession_issuer)
    elif key == "Study Instance UID":
        assert keys.study_instance_uid, "no Study Instance UID"
        _find(scene, consumer, study_uids=[keys.study_instance_uid])
    elif key == "numéro de demande":
        assert keys.order_number, "no order number"
        ref = str(ReferenceId(keys.order_number, ORDER, keys.order_issuer))
        _find(scene, consumer, reference_ids=[ref])
    else:  # pragma: no cover - a typo in a feature
        raise AssertionError(f"unknown key {key!r}")


@when(parsers.parse("le consommateur recherche les documents de l'examen par « {key} » lu dans le KOS"))
def when_search_from_kos(scene: Scene, sut: Any | None, consumer: ConsumerClient, key: str) -> None:
    """Flux 5 → 6 by a key read in the KOS: ``accession number``, ``Study Instance UID``, ``numéro de demande``.
    Skipped with a consumer under test."""
    _skip_for_vendor_consumer(sut, "a search by a key read in the KOS")
    kos = scene.kos
    assert kos is not None, "no KOS retrieved"
    accession, issuer = kos.accession_numbers[0] if kos.accession_numbers else ("", "")
    order, order_issuer = kos.order_numbers[0] if kos.order_numbers else ("", "")
    keys = ReportKeys(
        accession or None, issuer or None, kos.study_instance_uid or None, order or None, order_issuer or None
    )
    _search_by_key(scene, consumer, key, keys)


@when(parsers.parse("le consommateur recherche les documents de l'examen par « {key} » lu dans le compte rendu"))
def when_search_from_report(scene: Scene, sut: Any | None, consumer: ConsumerClient, key: str) -> None:
    """Flux 5 → 6 by a key read in the IMG-CR-IMG (``report_keys``): ``accession number``,
    ``Study Instance UID``, ``numéro de demande``. Skipped with a consumer under test."""
    _skip_for_vendor_consumer(sut, "a search by a key read in the report")
    _search_by_key(scene, consumer, key, _report_keys(scene))


# ---------------------------------------------------------------------------------------------------- then


@then("le gestionnaire accepte le lot")
@then("le gestionnaire accepte la demande")
def then_success(scene: Scene) -> None:
    """The last RegistryResponse (Flux 2, 4, 6 or 8) is a Success."""
    response = scene.response
    assert response is not None and response.ok, [(e.code, e.context) for e in response.errors]


@then(parsers.parse("le gestionnaire répond en échec avec l'erreur « {code} »"))
def then_failure(scene: Scene, code: str) -> None:
    """The last RegistryResponse is a Failure holding ``code`` (an XDS error code)."""
    response = scene.response
    assert response is not None and not response.ok, "the manager accepted it"
    codes = [e.code for e in response.errors]
    assert code in codes, codes


@then(parsers.parse("le gestionnaire répond en échec avec l'une des erreurs « {codes} »"))
def then_failure_any(scene: Scene, codes: str) -> None:
    """The last RegistryResponse is a Failure holding one of ``codes`` (comma-separated)."""
    response = scene.response
    assert response is not None and not response.ok, "the manager accepted it"
    expected = {c.strip() for c in codes.split(",")}
    assert expected & {e.code for e in response.errors}, [e.code for e in response.errors]


@then(parsers.parse("la règle « {rule} » est signalée dans le flux {flux:d}"))
def then_rule_in_flux(scene: Scene, rule: str, flux: int) -> None:
    """A journal record of the scenario reports ``rule`` in its Flux ``flux`` request (validation findings)."""
    hits = [
        f
        for e in scene.exchanges
        if e.request_flux == f"flux{flux}"
        for f in e.request_findings
        if f.rule == rule and f.severity == "error"
    ]
    assert hits, sorted({f.rule for e in scene.exchanges for f in e.request_findings})


@then("le KOS et le compte rendu de l'examen figurent dans le résultat")
def then_both_found(scene: Scene) -> None:
    """The last search (Flux 6) returned both Fiches of the exam."""
    pub = scene.need_publication()
    assert {pub.kos_uid, pub.report_uid} <= _found(scene), _found(scene)


@then(parsers.parse("le {document} de l'examen figure dans le résultat"))
def then_one_found(scene: Scene, document: str) -> None:
    """The last search returned the ``KOS`` or the ``compte rendu`` of the exam."""
    pub = scene.need_publication()
    unique_id = {"KOS": pub.kos_uid, "compte rendu": pub.report_uid}[document]
    assert unique_id in _found(scene), _found(scene)


@then(parsers.parse("le {document} de l'examen ne figure pas dans le résultat"))
def then_one_not_found(scene: Scene, document: str) -> None:
    """The last search did not return the ``KOS`` or the ``compte rendu`` of the exam."""
    pub = scene.need_publication()
    unique_id = {"KOS": pub.kos_uid, "compte rendu": pub.report_uid}[document]
    assert unique_id not in _found(scene), _found(scene)


@then("aucun document de l'examen ne figure dans le résultat")
def then_none_found(scene: Scene) -> None:
    """The last search returned neither Fiche of the exam."""
    pub = scene.need_publication()
    assert not {pub.kos_uid, pub.report_uid} & _found(scene), _found(scene)


@then("aucun document de l'examen n'est enregistré")
def then_nothing_registered(scene: Scene, consumer: ConsumerClient) -> None:
    """A search of every status finds neither Fiche of the exam (the lot was refused whole)."""
    pub = scene.need_publication()
    result = consumer.find_documents(pub.exam.patient_id, statuses=list(STATUSES.values()))
    check_journal(scene, {"ITI-18"})
    assert not {pub.kos_uid, pub.report_uid} & {e.unique_id for e in result.objects.entries}


@then(parsers.parse("la fiche du KOS a le statut « {status} »"))
def then_status(scene: Scene, consumer: ConsumerClient, status: str) -> None:
    """A search of every status finds the KOS Fiche with ``status``."""
    entry = _registered_kos(scene, consumer, list(STATUSES.values()))
    assert entry.status == STATUSES[status], entry.status


@then("la nouvelle version de la fiche du KOS est approuvée et l'ancienne est dépréciée")
def then_new_version(scene: Scene, consumer: ConsumerClient) -> None:
    """Version 2 of the KOS Fiche is Approved, version 1 Deprecated, same logicalID."""
    pub = scene.need_publication()
    _find(scene, consumer, statuses=[md.APPROVED, md.DEPRECATED], study_uids=[_study_uid(pub)])
    versions = {(e.version, e.status) for e in scene.entries if e.unique_id == pub.kos_uid}
    assert versions == {("1", md.DEPRECATED), ("2", md.APPROVED)}, versions
    assert len({e.logical_id for e in scene.entries if e.unique_id == pub.kos_uid}) == 1


@then(parsers.parse("le document reçu est identique au {document} publié"))
def then_same_document(scene: Scene, document: str) -> None:
    """The last retrieve (Flux 8) returned the bytes submitted in Flux 1, with the Fiche's MIME type."""
    pub = scene.need_publication()
    unique_id, content, mime = {
        "KOS": (pub.kos_uid, pub.kos, "application/dicom"),
        "compte rendu": (pub.report_uid, pub.report, "text/xml"),
    }[document]
    assert scene.retrieved is not None and scene.retrieved.response.ok
    docs = [d for d in scene.retrieved.documents if d.document_unique_id == unique_id]
    assert [(d.mime_type, d.content) for d in docs] == [(mime, content)]


@then("aucun document n'est reçu")
def then_no_document(scene: Scene) -> None:
    """The last retrieve returned no document."""
    assert scene.retrieved is not None and scene.retrieved.documents == []


@then(parsers.parse("le compte rendu reçu porte « {key} » du KOS"))
def then_report_matches_kos(scene: Scene, key: str) -> None:
    """The report's ``accession number`` / ``Study Instance UID`` / ``numéro de demande`` equals the KOS's."""
    keys, kos = _report_keys(scene), scene.kos
    assert kos is not None, "no KOS retrieved"
    if key == "accession number":
        assert (keys.accession_number, keys.accession_issuer) in kos.accession_numbers, kos.accession_numbers
    elif key == "Study Instance UID":
        assert keys.study_instance_uid == kos.study_instance_uid
    else:
        assert (keys.order_number, keys.order_issuer) in kos.order_numbers, kos.order_numbers


@then("le KOS reçu décrit l'examen du compte rendu")
def then_kos_matches_report(scene: Scene) -> None:
    """The KOS's Study Instance UID and accession number are the report's."""
    keys, kos = _report_keys(scene), scene.kos
    assert kos is not None, "no KOS retrieved"
    assert kos.study_instance_uid == keys.study_instance_uid
    assert (keys.accession_number, keys.accession_issuer) in kos.accession_numbers
