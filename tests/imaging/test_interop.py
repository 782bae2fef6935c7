"""Interop with real peers, in a network namespace holding only ``lo``: dcmtk's echoscu, findscu, getscu, movescu,
storescp and storescu against our simulator; our consumer against Orthanc (C-GET, C-MOVE, WADO-RS).

dcmtk's storescp and Orthanc listen on every interface, so these tests run inside ``tools/netns.py``: in a plain
pytest session, :func:`test_interop_suite_in_netns` re-runs this module there (and reports its output); inside,
the tests themselves run. They skip with the reason when dcmtk, Orthanc or unshare is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import dcmread

from simulators.imaging_consumer.client import StorageScp, retrieve_cget, retrieve_cmove, retrieve_wado
from simulators.imaging_source.server import RunningImagingSource, start_imaging_source
from tests.imaging.conftest import free_port
from tests.imaging.peers import Orthanc, dcmtk, dcmtk_env, netns, run_dcmtk, why_no_interop
from xdsi.dicom.kos import KosInfo, build_kos, kos_bytes, parse_kos
from xdsi.dicom.study import StudyInfo, generate_study

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]
INSIDE = os.environ.get(netns.ENV_FLAG) == "1" and netns.in_loopback_netns()
DCMTK_TOOLS = ("echoscu", "findscu", "getscu", "movescu", "storescp", "storescu")

inside_only = pytest.mark.skipif(
    not INSIDE, reason="runs inside a loopback-only network namespace (test_interop_suite_in_netns starts it)"
)


def test_interop_suite_in_netns() -> None:
    """Run this module's interop tests inside ``tools/netns.py`` and fail with their output if they fail."""
    if INSIDE:
        pytest.skip("already inside the namespace")
    ok, why = netns.netns_available()
    if not ok:
        pytest.skip(f"no loopback-only network namespace here: {why}")
    missing = why_no_interop(DCMTK_TOOLS, orthanc=True)
    if missing and why_no_interop(DCMTK_TOOLS) and why_no_interop((), orthanc=True):
        pytest.skip(missing)
    env = {**os.environ, "PYTEST_XDIST_WORKER": "netns"}  # the inner session keeps the outer one's reports
    argv = netns.netns_command(
        [
            sys.executable,
            "-m",
            "pytest",
            str(Path(__file__)),
            "-m",
            "interop",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
        ]
    )
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    output = proc.stdout[-12000:] + proc.stderr[-4000:]
    print(output)
    assert proc.returncode == 0, f"the interop tests failed inside the namespace:\n{output}"
    assert " passed" in proc.stdout, output


# ------------------------------------------------------------------------------------------------ fixtures


def _need(*tools: str, orthanc: bool = False) -> None:
    why = why_no_interop(tools, orthanc=orthanc)
    if why:
        pytest.skip(why)


@pytest.fixture(scope="module")
def storescp_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def sim(
    tmp_path_factory: pytest.TempPathFactory, study: StudyInfo, storescp_port: int
) -> Iterator[RunningImagingSource]:
    if not INSIDE:
        pytest.skip("runs inside the namespace")
    assert study.directory is not None
    src = start_imaging_source(
        store=f"sqlite:///{tmp_path_factory.mktemp('interop')}/index.sqlite",
        studies=[study.directory],
        move_destinations={"STORESCP": ("127.0.0.1", storescp_port)},
    )
    yield src
    src.stop()


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file())


# ------------------------------------------------------------------------------------------------ dcmtk → us


@inside_only
def test_echoscu(sim: RunningImagingSource) -> None:
    _need("echoscu")
    out = run_dcmtk("echoscu", "-aet", "DCMTK", "-aec", sim.ae_title, "127.0.0.1", str(sim.dicom_port))
    assert out.returncode == 0, out.stderr


@inside_only
def test_findscu(sim: RunningImagingSource, study: StudyInfo, tmp_path: Path) -> None:
    _need("findscu")
    out = run_dcmtk(
        "findscu",
        "-S",
        "-aet",
        "DCMTK",
        "-aec",
        sim.ae_title,
        "-X",
        "-k",
        "QueryRetrieveLevel=STUDY",
        "-k",
        "StudyInstanceUID",
        "-k",
        f"PatientID={study.patient_id}",
        "-k",
        "NumberOfStudyRelatedInstances",
        "-k",
        "ModalitiesInStudy",
        "127.0.0.1",
        str(sim.dicom_port),
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    (rsp,) = _files(tmp_path)
    ds = dcmread(rsp)
    assert ds.StudyInstanceUID == study.study_instance_uid
    assert ds.NumberOfStudyRelatedInstances == 6


@inside_only
def test_getscu(sim: RunningImagingSource, study: StudyInfo, tmp_path: Path) -> None:
    _need("getscu")
    out = run_dcmtk(
        "getscu",
        "-S",
        "-aet",
        "DCMTK",
        "-aec",
        sim.ae_title,
        "-k",
        "QueryRetrieveLevel=STUDY",
        "-k",
        f"StudyInstanceUID={study.study_instance_uid}",
        "-od",
        str(tmp_path),
        "127.0.0.1",
        str(sim.dicom_port),
    )
    assert out.returncode == 0, out.stderr
    got = {dcmread(p).SOPInstanceUID for p in _files(tmp_path)}
    assert got == {i.sop_instance_uid for i in study.instances}


@inside_only
def test_getscu_unknown_study_gets_a_failure(sim: RunningImagingSource, tmp_path: Path) -> None:
    _need("getscu")
    out = run_dcmtk(
        "getscu",
        "-S",
        "-aet",
        "DCMTK",
        "-aec",
        sim.ae_title,
        "-k",
        "QueryRetrieveLevel=STUDY",
        "-k",
        "StudyInstanceUID=1.2.3.999",
        "-od",
        str(tmp_path),
        "127.0.0.1",
        str(sim.dicom_port),
    )
    assert "UnableToProcess" in out.stderr or "Failed" in out.stderr, out.stderr
    assert _files(tmp_path) == []


@inside_only
def test_movescu_to_storescp(sim: RunningImagingSource, study: StudyInfo, storescp_port: int, tmp_path: Path) -> None:
    _need("movescu", "storescp")
    path = dcmtk("storescp")
    assert path is not None
    scp = subprocess.Popen(
        [path, "-aet", "STORESCP", "-od", str(tmp_path), str(storescp_port)],
        env=dcmtk_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(0.5)
        out = run_dcmtk(
            "movescu",
            "-S",
            "-aet",
            "DCMTK",
            "-aec",
            sim.ae_title,
            "-aem",
            "STORESCP",
            "-k",
            "QueryRetrieveLevel=SERIES",
            "-k",
            f"StudyInstanceUID={study.study_instance_uid}",
            "-k",
            f"SeriesInstanceUID={study.series[0].series_instance_uid}",
            "127.0.0.1",
            str(sim.dicom_port),
        )
        assert out.returncode == 0, out.stderr
        got = {dcmread(p).SOPInstanceUID for p in _files(tmp_path)}
        assert got == {i.sop_instance_uid for i in study.series[0].instances}
        unknown = run_dcmtk(
            "movescu",
            "-S",
            "-aet",
            "DCMTK",
            "-aec",
            sim.ae_title,
            "-aem",
            "NOWHERE",
            "-k",
            "QueryRetrieveLevel=STUDY",
            "-k",
            f"StudyInstanceUID={study.study_instance_uid}",
            "127.0.0.1",
            str(sim.dicom_port),
        )
        assert "MoveDestinationUnknown" in unknown.stderr or "A801" in unknown.stderr, unknown.stderr
    finally:
        scp.terminate()
        scp.wait(10)


@inside_only
def test_storescu_into_the_simulator(sim: RunningImagingSource, tmp_path: Path) -> None:
    _need("storescu")
    other = generate_study(tmp_path / "other", series=1, instances=3, seed=77)
    out = run_dcmtk(
        "storescu",
        "-aet",
        "DCMTK",
        "-aec",
        sim.ae_title,
        "127.0.0.1",
        str(sim.dicom_port),
        *[str(i.path) for i in other.instances],
    )
    assert out.returncode == 0, out.stderr
    assert {i.sop_instance_uid for i in sim.index.instances(study_uids=[other.study_instance_uid])} == {
        i.sop_instance_uid for i in other.instances
    }


@inside_only
def test_echoscu_unknown_calling_aet_is_rejected(tmp_path: Path) -> None:
    _need("echoscu")
    src = start_imaging_source(store=f"sqlite:///{tmp_path}/i.sqlite", http_port=None, accepted_calling_aets=["FRIEND"])
    try:
        refused = run_dcmtk("echoscu", "-aet", "STRANGER", "-aec", src.ae_title, "127.0.0.1", str(src.dicom_port))
        assert refused.returncode != 0 and "Rejected" in refused.stderr, refused.stderr
        accepted = run_dcmtk("echoscu", "-aet", "FRIEND", "-aec", src.ae_title, "127.0.0.1", str(src.dicom_port))
        assert accepted.returncode == 0, accepted.stderr
    finally:
        src.stop()


# ------------------------------------------------------------------------------------------------ us → Orthanc


@pytest.fixture(scope="module")
def consumer_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory, study: StudyInfo, consumer_port: int) -> Iterator[Orthanc]:
    if not INSIDE:
        pytest.skip("runs inside the namespace")
    _need(orthanc=True)
    server = Orthanc(
        tmp_path_factory.mktemp("orthanc"),
        free_port(),
        free_port(),
        modalities={"XDSI_CONSUMER": ("127.0.0.1", consumer_port)},
    ).start()
    try:
        assert server.upload(i.path for i in study.instances) == 6
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def orthanc_kos(study: StudyInfo, orthanc: Orthanc) -> KosInfo:
    ds = build_kos(
        study, retrieve_ae_title=orthanc.aet, retrieve_url=orthanc.dicomweb_url, retrieve_location_uid="1.2.250.1.999.1"
    )
    return parse_kos(kos_bytes(ds))


def _complete(result: object, study: StudyInfo) -> None:
    from simulators.imaging_consumer.client import RetrieveResult

    assert isinstance(result, RetrieveResult)
    assert result.errors == [], result.errors
    assert not [f for f in result.findings if f.severity == "error"], result.findings
    assert sorted(result.received) == sorted(study.references)


@inside_only
@pytest.mark.parametrize("level", ["SERIES", "STUDY", "IMAGE"])
def test_cget_from_orthanc(orthanc: Orthanc, orthanc_kos: KosInfo, study: StudyInfo, level: str) -> None:
    _complete(retrieve_cget("127.0.0.1", orthanc.dicom_port, None, orthanc_kos, level=level), study)


@inside_only
def test_cmove_from_orthanc(orthanc: Orthanc, orthanc_kos: KosInfo, study: StudyInfo, consumer_port: int) -> None:
    with StorageScp("XDSI_CONSUMER", port=consumer_port) as scp:
        _complete(retrieve_cmove("127.0.0.1", orthanc.dicom_port, None, orthanc_kos, store_scp=scp), study)


@inside_only
def test_wado_from_orthanc(orthanc: Orthanc, orthanc_kos: KosInfo, study: StudyInfo) -> None:
    _complete(retrieve_wado(orthanc.dicomweb_url, orthanc_kos), study)
    _complete(retrieve_wado(None, orthanc_kos), study)  # the KOS's per-series Retrieve URL


@inside_only
def test_orthanc_reports_what_it_lacks(orthanc: Orthanc, orthanc_kos: KosInfo) -> None:
    """A KOS naming a study Orthanc does not hold: the consumer reports every instance missing, no crash."""
    other = generate_study(Path(orthanc.workdir) / "absent", series=1, instances=2, seed=4242)
    kos = parse_kos(
        kos_bytes(
            build_kos(
                other,
                retrieve_ae_title=orthanc.aet,
                retrieve_url=orthanc.dicomweb_url,
                retrieve_location_uid="1.2.250.1.999.1",
            )
        )
    )
    for result in (retrieve_cget("127.0.0.1", orthanc.dicom_port, None, kos), retrieve_wado(None, kos)):
        assert not result.ok
        assert len([f for f in result.findings if f.rule == "RETRIEVE.INSTANCE.MISSING"]) == 2
