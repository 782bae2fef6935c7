"""Steps of the imaging processes (volet §3.5, §3.7): retrieve the images a KOS references (Flux 9 → 10).

Our imaging consumer retrieves from the imaging source (``imaging_endpoints``: our simulator, the session's
study loaded, or the vendor's system of ``sut.toml``) by each method a KOS offers: RAD-69 (SOAP, validated like
the XDS fluxes), C-GET and C-MOVE (DICOM), WADO-RS (DICOMweb). Every retrieve is journaled by our consumer (the
SOAP messages of RAD-69; a readable summary of the others) and, when it is ours, by the imaging source. Whatever
the method, the instances received are checked against the KOS (``check_retrieved``).

    Étant donné un examen d'imagerie dont les images sont disponibles auprès de la source d'images
    Et le producteur a publié le KOS et le compte rendu de l'examen
    Et le consommateur a obtenu le KOS de l'examen auprès du gestionnaire
    Quand le consommateur d'images récupère les images référencées par le KOS par « RAD-69 »
    Alors toutes les instances référencées par le KOS sont reçues
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pytest_bdd import given, parsers, then, when

from features.steps.fixtures import (
    ImagingEndpoints,
    ImagingExam,
    RegistryEndpoints,
    Scene,
    await_found,
    check_exchanges,
    check_journal,
    drive,
    new_exam,
    vendor_consumer,
)
from simulators.imaging_consumer.client import (
    RetrieveResult,
    record_retrieve,
    retrieve_cget,
    retrieve_cmove,
    retrieve_rad69,
    retrieve_wado,
)
from xdsi.dicom.kos import KosInfo, build_kos, kos_bytes, parse_kos
from xdsi.dicom.study import generate_study
from xdsi.journal import Exchange, Journal
from xdsi.messages import dicommeta, iti43
from xdsi.messages.wire import from_wire
from xdsi.validation.kos import check_retrieved

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")

#: the retrieve methods of the volet (§3.5), by the name a scenario gives them
METHODS = ("RAD-69", "C-GET", "C-MOVE", "WADO-RS")
#: what sut.toml [imaging_source] must give for each method
NEEDS = {"RAD-69": "rad69_url", "C-GET": "aet/host/port", "C-MOVE": "aet/host/port", "WADO-RS": "wado_rs_url"}


def _retrieve(
    method: str, kos: KosInfo, source: ImagingEndpoints, journal: Journal, move_destination: str | None = None
) -> RetrieveResult:
    needs = {"RAD-69": source.rad69_url, "C-GET": source.port, "C-MOVE": source.port, "WADO-RS": source.wado_rs_url}
    if not needs.get(method, True):
        given = f"sut.toml [imaging_source] gives no {NEEDS[method]}"
        pytest.skip(f"the imaging source under test offers no {method} access ({given})")
    if method == "RAD-69":
        assert source.rad69_url is not None
        return retrieve_rad69(source.rad69_url, kos, journal=journal, timeout=60)
    host, port = source.host or "127.0.0.1", source.port or 0
    if method == "C-GET":
        result = retrieve_cget(host, port, source.aet, kos, calling_aet=source.move_aet, timeout=30)
    elif method == "C-MOVE":
        result = retrieve_cmove(
            host,
            port,
            source.aet,
            kos,
            calling_aet=source.move_aet,
            move_destination=move_destination or source.move_aet,
            store_port=source.move_port,
            timeout=30,
        )
    elif method == "WADO-RS":
        result = retrieve_wado(source.wado_rs_url, kos, timeout=60)
    else:
        raise AssertionError(f"unknown retrieve method {method!r}; known: {', '.join(METHODS)}")
    peer = source.wado_rs_url if method == "WADO-RS" else f"{source.aet}@{host}:{port}"
    record_retrieve(journal, result, kos, peer or "")
    return result


def _result(scene: Scene) -> RetrieveResult:
    assert isinstance(scene.imaging, RetrieveResult), "no images retrieved"
    return scene.imaging


def _kos(scene: Scene) -> KosInfo:
    assert scene.kos is not None, "no KOS: use « le consommateur a obtenu le KOS de l'examen auprès du gestionnaire »"
    return scene.kos


# --------------------------------------------------------------------------------------------------- given


@given("un examen d'imagerie dont les images sont disponibles auprès de la source d'images")
def given_imaging_exam(scene: Scene, imaging_exam: ImagingExam, imaging_endpoints: ImagingEndpoints) -> None:
    """The session's exam (a chest CT, 2 series × 3 instances) whose images the imaging source holds; the KOS
    published for it carries the source's AE title, Retrieve Location UID and WADO-RS URL."""
    scene.exam, scene.study, scene.source = imaging_exam.exam, imaging_exam.study, imaging_endpoints


@given("un KOS qui référence des instances inconnues de la source d'images")
def given_unknown_kos(scene: Scene, imaging_endpoints: ImagingEndpoints) -> None:
    """The KOS of another exam (never loaded in the imaging source), with the source's retrieve information."""
    exam = new_exam()
    study = generate_study(Path("."), exam=exam, write=False)
    ds = build_kos(
        study,
        exam=exam,
        retrieve_ae_title=imaging_endpoints.aet,
        retrieve_url=imaging_endpoints.wado_rs_url,
        retrieve_location_uid=imaging_endpoints.retrieve_location_uid,
    )
    scene.exam, scene.source, scene.kos = exam, imaging_endpoints, parse_kos(kos_bytes(ds))


# ---------------------------------------------------------------------------------------------------- when


@when(parsers.parse("le consommateur d'images récupère les images référencées par le KOS par « {method} »"))
def when_retrieve_images(
    scene: Scene,
    imaging_endpoints: ImagingEndpoints,
    journal: Journal,
    sut: Any | None,
    registry_endpoints: RegistryEndpoints,
    request: Any,
    method: str,
) -> None:
    """Flux 9 → 10 by ``RAD-69``, ``C-GET``, ``C-MOVE`` or ``WADO-RS``: every instance of the KOS. With a consumer
    under test, what it retrieves from our imaging source is read back from the journal (:func:`_vendor_images`)."""
    initiator = vendor_consumer(sut)
    if initiator is not None:
        scene.imaging = _vendor_images(request, scene, initiator, imaging_endpoints, registry_endpoints, method)
        return
    scene.imaging = _retrieve(method, _kos(scene), imaging_endpoints, journal)
    check_journal(scene, {method})


def _vendor_images(
    request: Any,
    scene: Scene,
    initiator: Any,
    source: ImagingEndpoints,
    registry: RegistryEndpoints,
    method: str,
) -> RetrieveResult:
    """Flux 9 → 10 by the consumer under test: its ``images_trigger`` is run with the exam's keys, the method and
    our imaging source's endpoints; without any trigger, the scenario awaits (``wait_seconds``) its requests.
    Either way, the ``method`` requests our imaging source answered since the scenario began are read back from
    the journal, and the instances it served (RAD-69 documents, WADO-RS instances, C-GET sub-operations) are the
    result the next steps check against the KOS."""
    what = f"{method} by a consumer under test"
    if not source.simulated:
        pytest.skip(f"{what}: its requests are read back from our imaging source's journal")
    if method == "C-MOVE" and initiator.move_destination is None:
        pytest.skip(f"{what}: sut.toml [consumer] gives no move_aet/move_host/move_port (its storage SCP)")
    kos, exam = _kos(scene), scene.need_exam()
    endpoints = {
        "rad69_url": source.rad69_url or "",
        "wado_rs_url": source.wado_rs_url or "",
        "dicom_aet": source.aet or "",
        "dicom_host": source.host or "",
        "dicom_port": str(source.port or ""),
        "move_aet": initiator.move_destination[0] if initiator.move_destination else "",
    }
    if initiator.trigger and not initiator.images_trigger:
        pytest.skip(f"{what}: sut.toml [consumer] has no images_trigger to ask it to retrieve images")
    where = {"RAD-69": endpoints["rad69_url"], "WADO-RS": endpoints["wado_rs_url"]}.get(
        method, f"{endpoints['dicom_aet']}@{endpoints['dicom_host']}:{endpoints['dicom_port']}"
    )
    _result, said, timeout = drive(
        request,
        initiator.images() if initiator.trigger else initiator,
        "consumer",
        f"retrieve the images of study {kos.study_instance_uid} (accession number {exam.accession_number}) by "
        f"{method} from {where}",
        registry_url=registry.iti18_url.removesuffix("/iti18"),
        patient_id=exam.patient_id,
        accession_number=exam.accession_number,
        study_uid=kos.study_instance_uid,
        method=method,
        **endpoints,
    )
    wanted = kos.instance_uids

    def served() -> dict[str, str] | None:
        got = _served(scene, method)
        return got if wanted <= set(got) else None

    got = await_found(served, timeout)
    if got is None:
        got = _served(scene, method)
        missing = sorted(wanted - set(got))
        raise AssertionError(
            f"our imaging source did not serve the {len(wanted)} instances of the KOS by {method} to the consumer "
            f"under test ({said}): {len(missing)} missing, e.g. {missing[:3]}"
        )
    check_journal(scene, {method}, required=False)  # what came since the last check, kept for the report
    check_exchanges(_method_exchanges(scene, method))  # the consumer's requests and our answers, rules kept
    out = RetrieveResult(method, status=f"served by our imaging source ({len(got)} instance(s))")
    for uid, cls in got.items():
        ds = Dataset()
        ds.SOPClassUID, ds.SOPInstanceUID = cls, uid
        out.datasets.append(ds)
    out.findings = check_retrieved(kos, out.received)
    return out


def _method_exchanges(scene: Scene, method: str) -> list[Exchange]:
    """The ``method`` requests our imaging source answered since the scenario began."""
    return [
        e
        for e in scene.journal.exchanges(after_id=scene.start)
        if e.transaction == method and e.direction == "received" and e.actor == "imaging_source"
    ]


def _served(scene: Scene, method: str) -> dict[str, str]:
    """SOP instance UID → SOP class UID of every instance our imaging source served by ``method`` since the
    scenario began (read back from its journal)."""
    out: dict[str, str] = {}
    for e in _method_exchanges(scene, method):
        if method == "RAD-69":
            try:
                raw = from_wire(e.response, e.response_content_type)
                docs = iti43.decode_response(raw.body, raw.attachments).documents if raw.body is not None else []
            except Exception:  # an unreadable answer served nothing: the journal's findings say why
                continue
            for d in docs:
                out[d.document_unique_id] = dicommeta.sop_class_of(d.content) or ""
            continue
        for line in e.response.decode("utf-8", "replace").splitlines():  # "SOP class UID SOP instance UID"
            parts = line.split()
            if len(parts) == 2 and all(_UID.match(p) for p in parts):
                out[parts[1]] = parts[0]
    return out


@when(parsers.parse("le consommateur d'images demande un C-MOVE vers la destination inconnue « {aet} »"))
def when_move_unknown(scene: Scene, imaging_endpoints: ImagingEndpoints, journal: Journal, aet: str) -> None:
    """Flux 9 by C-MOVE to an AE title the imaging source does not know."""
    scene.imaging = _retrieve("C-MOVE", _kos(scene), imaging_endpoints, journal, move_destination=aet)
    check_journal(scene, {"C-MOVE"})


# ---------------------------------------------------------------------------------------------------- then


@then("toutes les instances référencées par le KOS sont reçues")
def then_all_instances(scene: Scene) -> None:
    """Every instance of the KOS came back, nothing else, no error (protocol status or finding)."""
    result, kos = _result(scene), _kos(scene)
    assert result.ok, (result.errors, [(f.rule, f.message) for f in result.findings if f.severity == "error"])
    assert {uid for _cls, uid in result.received} == kos.instance_uids
    assert len(result.received) == len(kos.instances)


@then("aucune instance n'est reçue")
def then_no_instance(scene: Scene) -> None:
    """The retrieve brought no instance back."""
    assert _result(scene).datasets == []


@then(parsers.parse("la source d'images répond par l'échec « {status} »"))
def then_source_failure(scene: Scene, status: str) -> None:
    """The retrieve failed with ``status``: a RegistryResponse status / XDS error code (RAD-69), a DIMSE status
    (``0xA801``…) or an HTTP status (WADO-RS), read in the result's status or its errors."""
    result = _result(scene)
    assert not result.ok
    assert status in result.status or any(status in e for e in result.errors), (result.status, result.errors)


@then(parsers.parse("le consommateur d'images signale la règle « {rule} »"))
def then_consumer_rule(scene: Scene, rule: str) -> None:
    """The check of what came back against the KOS reports ``rule``."""
    assert any(f.rule == rule for f in _result(scene).findings), sorted({f.rule for f in _result(scene).findings})
