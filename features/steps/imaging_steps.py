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

from pathlib import Path

import pytest
from pytest_bdd import given, parsers, then, when

from features.steps.fixtures import ImagingEndpoints, ImagingExam, Scene, check_journal, new_exam
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
from xdsi.journal import Journal

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
def when_retrieve_images(scene: Scene, imaging_endpoints: ImagingEndpoints, journal: Journal, method: str) -> None:
    """Flux 9 → 10 by ``RAD-69``, ``C-GET``, ``C-MOVE`` or ``WADO-RS``: every instance of the KOS."""
    scene.imaging = _retrieve(method, _kos(scene), imaging_endpoints, journal)
    check_journal(scene, {method})


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
