"""Fixtures of the imaging-source / imaging-consumer tests: a generated study, its KOS, a running simulator."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.imaging_source.server import RunningImagingSource, start_imaging_source
from xdsi.dicom.kos import KosInfo, build_kos, kos_bytes, parse_kos
from xdsi.dicom.study import StudyInfo, generate_study


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> StudyInfo:
    return generate_study(tmp_path_factory.mktemp("study"), series=2, instances=3, seed=11)


@pytest.fixture(scope="module")
def move_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def source(
    tmp_path_factory: pytest.TempPathFactory, study: StudyInfo, move_port: int
) -> Iterator[RunningImagingSource]:
    store = tmp_path_factory.mktemp("store")
    assert study.directory is not None
    src = start_imaging_source(
        store=f"sqlite:///{store}/index.sqlite",
        studies=[study.directory],
        move_destinations={"XDSI_CONSUMER": ("127.0.0.1", move_port)},
    )
    try:
        yield src
    finally:
        src.stop()


def make_kos(study: StudyInfo, src: RunningImagingSource) -> KosInfo:
    ds = build_kos(
        study,
        retrieve_ae_title=src.ae_title,
        retrieve_url=src.wado_rs_url,
        retrieve_location_uid=src.retrieve_location_uid,
    )
    return parse_kos(kos_bytes(ds))


@pytest.fixture(scope="module")
def kos(study: StudyInfo, source: RunningImagingSource) -> KosInfo:
    return make_kos(study, source)


@pytest.fixture
def tmp_store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/index.sqlite"
