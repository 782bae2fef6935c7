"""The network commands: ``xdsi serve registry`` (a real process), ``submit``, ``query``, ``retrieve``, ``report``."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.registry.conftest_server import REPOSITORY_UID, TlsFiles
from xdsi import ROOT
from xdsi.cli import main
from xdsi.journal import Journal
from xdsi.messages import examples as ex
from xdsi.messages.example_files import build_all

pytest_plugins = ["tests.registry.conftest_server"]  # its fixtures: servers, registries, journal, TLS


class Served:
    def __init__(self, proc: subprocess.Popen[str], banner: list[str]) -> None:
        self.proc = proc
        self.banner = banner
        m = re.search(r"ITI-41 (\S+)/iti41", "\n".join(banner))
        assert m, banner
        self.url = m.group(1)


def start_serve(tmp_path: Path, *extra: str) -> Served:
    cmd = [sys.executable, "-m", "xdsi.cli", "serve", "registry", "--port", "0", "--log-level", "warning", *extra]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env={**os.environ}
    )
    assert proc.stdout is not None
    banner: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        banner.append(line.rstrip("\n"))
        if "profile" in line:
            break
    if not any("repositoryUniqueId" in b for b in banner):
        proc.kill()
        raise AssertionError(f"no banner: {banner} {proc.stderr.read() if proc.stderr else ''}")
    served = Served(proc, banner)
    host, port = served.url.rsplit("/", 1)[-1].rsplit(":", 1)
    for _ in range(200):  # the socket is bound before the banner: connections queue until uvicorn accepts
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    return served


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    srv = start_serve(
        tmp_path,
        "--store",
        f"sqlite:///{tmp_path / 'store.sqlite'}",
        "--journal",
        str(tmp_path / "server-journal.sqlite"),
        "--repository-unique-id",
        REPOSITORY_UID,
    )
    yield srv
    srv.proc.send_signal(signal.SIGINT)
    try:
        srv.proc.wait(20)
    except subprocess.TimeoutExpired:  # pragma: no cover
        srv.proc.kill()
        srv.proc.wait(10)


def test_serve_prints_every_endpoint_then_serves(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "\n".join(served.banner)
    for path, name in (("/iti41", "ITI-41"), ("/iti57", "ITI-57"), ("/iti18", "ITI-18"), ("/iti43", "ITI-43")):
        assert f"xdsi registry: {name} {served.url}{path}" in text
    assert f"repositoryUniqueId {REPOSITORY_UID}" in text
    assert f"store sqlite:///{tmp_path / 'store.sqlite'}" in text
    assert re.match(r"http://127\.0\.0\.1:\d+$", served.url)

    journal = tmp_path / "client-journal.sqlite"
    assert main(["submit", served.url + "/iti41", "--example", "--journal", str(journal)]) == 0
    out = capsys.readouterr().out
    assert "Success" in out
    kos_uid = re.search(r"KOS uniqueId (\S+)", out)
    assert kos_uid
    patient = ex.Exam().patient_id
    assert main(["query", served.url + "/iti18", "--patient-id", patient, "--modality", "CT"]) == 0
    table = capsys.readouterr().out
    assert kos_uid.group(1) in table and "CT" in table and "2 document entries" in table
    assert main(["query", served.url + "/", "--patient-id", patient, "--status", "archived"]) == 0
    assert "0 document entries" in capsys.readouterr().out
    target = tmp_path / "kos.dcm"
    args = ["retrieve", served.url + "/iti43", "--repository-unique-id", REPOSITORY_UID, "--unique-id"]
    assert main([*args, kos_uid.group(1), "-o", str(target)]) == 0
    assert "application/dicom" in capsys.readouterr().out
    assert target.read_bytes()[128:132] == b"DICM"
    assert main(["submit", served.url + "/", "--example", "--inline"]) == 0
    capsys.readouterr()

    assert {e.actor for e in Journal(journal).exchanges()} == {"producer"}
    # `xdsi serve` validates its answers in another process after sending them: its journal follows shortly
    server_journal = Journal(tmp_path / "server-journal.sqlite")
    deadline = time.monotonic() + 20
    while len(server_journal) < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
    report = tmp_path / "report.html"
    assert main(["report", str(tmp_path / "server-journal.sqlite"), "-o", str(report)]) == 0
    html = report.read_text(encoding="utf-8")
    assert "ITI-41" in html and "ITI-18" in html and "ITI-43" in html


def test_submit_a_captured_message_as_it_is(served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    examples = build_all()
    capture = tmp_path / "flux1.http"
    capture.write_bytes(examples["flux1-iti41-request.http"])
    assert main(["submit", served.url + "/iti41", str(capture)]) == 0
    assert "Success" in capsys.readouterr().out
    assert main(["submit", served.url + "/iti41", str(capture)]) == 1  # the same uniqueIds again
    assert "XDSDuplicateUniqueIdInRegistry" in capsys.readouterr().out
    query = tmp_path / "flux5.xml"
    query.write_bytes(examples["flux5-iti18-request.xml"])
    assert main(["submit", served.url + "/", str(query)]) == 0
    assert "AdhocQueryResponse" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["query", "http://127.0.0.1:9/", "--patient-id", "x", "--timeout", "2"],
        ["submit", "http://127.0.0.1:9/iti41", "--example", "--timeout", "2"],
        ["submit", "http://127.0.0.1:9/iti41"],
        ["submit", "http://127.0.0.1:9/iti41", "/no/such/file.xml"],
        ["retrieve", "http://127.0.0.1:9/", "--repository-unique-id", "1.2", "--unique-id", "3", "--timeout", "2"],
        ["serve", "registry", "--tls-cert", "x.pem"],
        ["serve", "registry", "--tls-ca", "ca.pem"],
        ["serve", "registry", "--tls-cert", "/no/cert.pem", "--tls-key", "/no/key.pem"],
        ["query", "http://127.0.0.1:9/", "--patient-id", "x", "--cert", "/no/cert.pem"],
        ["serve", "registry", "--store", "sqlite:///:memory:", "--tls-cert", __file__, "--tls-key", __file__],
    ],
    ids=[
        "query-unreachable",
        "submit-unreachable",
        "submit-nothing",
        "submit-missing-file",
        "retrieve-unreachable",
        "tls-cert-alone",
        "tls-ca-alone",
        "tls-missing-files",
        "client-cert-missing",
        "tls-not-pem",
    ],
)
def test_errors_are_one_line_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("xdsi: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_serve_over_mutual_tls(tmp_path: Path, tls_files: TlsFiles, capsys: pytest.CaptureFixture[str]) -> None:
    srv = start_serve(
        tmp_path,
        "--store",
        f"sqlite:///{tmp_path / 'store.sqlite'}",
        "--tls-cert",
        str(tls_files.server_cert),
        "--tls-key",
        str(tls_files.server_key),
        "--tls-ca",
        str(tls_files.ca_cert),
    )
    try:
        assert srv.url.startswith("https://")
        tls = ["--ca", str(tls_files.ca_cert), "--cert", str(tls_files.client_cert), "--key", str(tls_files.client_key)]
        assert main(["submit", srv.url + "/iti41", "--example", *tls]) == 0
        assert "Success" in capsys.readouterr().out
        assert main(["submit", srv.url + "/iti41", "--example", "--ca", str(tls_files.ca_cert)]) == 2
        assert capsys.readouterr().err.startswith("xdsi: ")
    finally:
        srv.proc.send_signal(signal.SIGINT)
        srv.proc.wait(20)


def test_python_dash_m_entry_point_has_the_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "xdsi.cli", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    ).stdout
    for command in ("serve", "submit", "query", "retrieve", "report"):
        assert command in out
