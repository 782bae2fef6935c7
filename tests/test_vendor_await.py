"""An initiator under test without a trigger command is awaited, bounded by ``wait_seconds`` (sut.toml).

Each test runs one process scenario in a pytest subprocess with a ``sut.toml`` naming a producer or a consumer
without trigger and our registry simulator on a fixed free port: with the vendor played in the background by
``tools/vendor_producer.py --every`` / ``tools/vendor_consumer.py --every`` the scenario passes; with nobody
sending, it fails once ``wait_seconds`` have passed, saying what it waited for.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATIENT = "248039263001064"  # the scenarios' test patient (xdsi.messages.examples.Exam)
PATIENT_CX = f"{PATIENT}^^^&1.2.250.1.213.1.4.10&ISO^NH"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sut(tmp_path: Path, actor: str, port: int, wait: float, extra: str = "") -> Path:
    path = tmp_path / "sut.toml"
    harness = f'host = "127.0.0.1"\nregistry_port = {port}\n{extra}'
    path.write_text(f"[{actor}]\nwait_seconds = {wait}\n\n[harness]\n{harness}")
    return path


def _scenario(tmp_path: Path, sut: Path, marker: str, select: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "pytest", "features", "-m", marker, "-k", select, "-p", "no:cacheprovider"]
    argv += ["--xdsi-reports", str(tmp_path / "reports"), "-o", "addopts="]
    env = {**_environ(), "XDSI_SUT": str(sut)}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("XDSI_", "PYTEST_"))}


@contextmanager
def _vendor(argv: list[str]) -> Iterator[None]:
    proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


PRODUCER_SCENARIO = "lot_contenant_un_kos and MTOM"
CONSUMER_SCENARIO = "récupère_un_document and KOS"


def test_producer_awaited_publishes(tmp_path: Path) -> None:
    port = _free_port()
    sut = _sut(tmp_path, "producer", port, 30)
    url = f"http://127.0.0.1:{port}/iti41"
    with _vendor(["tools/vendor_producer.py", url, PATIENT, "ACCT", "--every", "0.5", "--for", "120"]):
        run = _scenario(tmp_path, sut, "actor_producer", PRODUCER_SCENARIO)
    assert run.returncode == 0, run.stdout[-4000:]
    assert "1 passed" in run.stdout
    assert "⏳ waiting up to 30 s for the producer under test to send a lot" in run.stdout


@pytest.mark.parametrize("vendor", [False, True], ids=["nobody", "another-modality"])
def test_producer_awaited_in_vain_fails_in_bounded_time(tmp_path: Path, vendor: bool) -> None:
    """Nobody publishes, or a producer publishes CT exams where the scenario asks for an MR one."""
    port = _free_port()
    sut = _sut(tmp_path, "producer", port, 2)
    argv = ["tools/vendor_producer.py", f"http://127.0.0.1:{port}/iti41", PATIENT, "ACCT", "--every", "0.3"]
    with _vendor([*argv, "--for", "120", "--modality", "CT"]) if vendor else nullcontext():
        run = _scenario(tmp_path, sut, "actor_producer", "chaque_modalité and MR")
    assert run.returncode == 1, run.stdout[-4000:]
    assert "received no ITI-41 with a KOS Fiche of modality MR from the producer (no trigger: awaited 2 s" in run.stdout
    if vendor:
        assert "ITI-41 received: 0" not in run.stdout  # the CT lots did arrive


def test_consumer_awaited_searches_and_retrieves(tmp_path: Path) -> None:
    port = _free_port()
    sut = _sut(tmp_path, "consumer", port, 30)
    with _vendor(
        ["tools/vendor_consumer.py", f"http://127.0.0.1:{port}", PATIENT_CX, "--every", "0.5", "--for", "120"]
    ):
        run = _scenario(tmp_path, sut, "actor_consumer", CONSUMER_SCENARIO)
    assert run.returncode == 0, run.stdout[-4000:]
    assert "1 passed" in run.stdout
    assert "⏳ waiting up to 30 s for the consumer under test to search the documents of patient" in run.stdout


@pytest.mark.parametrize("vendor", [False, True], ids=["nobody", "another-patient"])
def test_consumer_awaited_in_vain_fails_in_bounded_time(tmp_path: Path, vendor: bool) -> None:
    """Nobody searches, or a consumer searches another patient: the exam's Fiches are never asked for."""
    port = _free_port()
    sut = _sut(tmp_path, "consumer", port, 2)
    other = "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"
    argv = ["tools/vendor_consumer.py", f"http://127.0.0.1:{port}", other, "--every", "0.3", "--for", "120"]
    with _vendor(argv) if vendor else nullcontext():
        run = _scenario(tmp_path, sut, "actor_consumer", CONSUMER_SCENARIO)
    assert run.returncode == 1, run.stdout[-4000:]
    assert "our registry received no search (ITI-18) answered with the Fiches of accession number" in run.stdout
    if vendor:
        assert "ITI-18 #" in run.stdout  # what was received is listed


@pytest.mark.parametrize("method", ["RAD-69", "C-GET", "C-MOVE", "WADO-RS"])
def test_imaging_consumer_awaited_retrieves_the_images(tmp_path: Path, method: str) -> None:
    """3.5 with a viewer under test without trigger: it finds and retrieves the exam's KOS, then the images the
    KOS references from our imaging source; the scenario reads what our source served back from the journal."""
    port, dicom, http, scp = _free_port(), _free_port(), _free_port(), _free_port()
    sut = _sut(tmp_path, "consumer", port, 30, f"dicom_port = {dicom}\nhttp_port = {http}\n")
    text = sut.read_text().replace(
        "[consumer]\n", f'[consumer]\nmove_aet = "VIEWER"\nmove_host = "127.0.0.1"\nmove_port = {scp}\n'
    )
    sut.write_text(text)
    argv = ["tools/vendor_consumer.py", f"http://127.0.0.1:{port}", PATIENT_CX, "--every", "0.5", "--for", "120"]
    argv += ["--images", "--rad69-url", f"http://127.0.0.1:{http}/rad69", "--dicom", f"XDSI_SOURCE@127.0.0.1:{dicom}"]
    argv += ["--move", f"VIEWER@127.0.0.1:{scp}"]
    with _vendor(argv):
        run = _scenario(tmp_path, sut, "actor_consumer", f"récupère_les_images_dun_examen and {method}")
    assert run.returncode == 0, run.stdout[-4000:]
    assert "1 passed" in run.stdout
    assert "images of study" in run.stdout and f"by {method}" in run.stdout


def test_imaging_consumer_awaited_in_vain_fails_in_bounded_time(tmp_path: Path) -> None:
    """The viewer retrieves the KOS but never asks for the images: the scenario fails once wait_seconds pass."""
    port, dicom, http = _free_port(), _free_port(), _free_port()
    sut = _sut(tmp_path, "consumer", port, 3, f"dicom_port = {dicom}\nhttp_port = {http}\n")
    argv = ["tools/vendor_consumer.py", f"http://127.0.0.1:{port}", PATIENT_CX, "--every", "0.3", "--for", "120"]
    with _vendor(argv):
        run = _scenario(tmp_path, sut, "actor_consumer", "récupère_les_images_dun_examen and RAD-69")
    assert run.returncode == 1, run.stdout[-4000:]
    assert "our imaging source did not serve the 6 instances of the KOS by RAD-69" in run.stdout
