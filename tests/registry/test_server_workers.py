"""`xdsi serve registry --workers 2`: two processes share the port and the store."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from xdsi.messages import examples as ex
from xdsi.messages import iti41
from xdsi.messages.wire import to_wire


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_workers_serve_one_store(tmp_path: Path) -> None:
    port = _free_port()
    store = f"sqlite:///{tmp_path / 'r.sqlite'}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xdsi.cli",
            "serve",
            "registry",
            "--port",
            str(port),
            "--store",
            store,
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not any("worker processes" in line for line in lines):  # the banner ends with it
            line = proc.stdout.readline()
            assert line, f"the server stopped: {lines}"
            lines.append(line)
        assert "2 worker processes" in lines[-1]
        url = f"http://127.0.0.1:{port}/iti41"
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        for n in range(6):
            objects, docs = ex.flux1(ex.Exam(name=f"workers-{n}-{tmp_path.name}"))
            body, _ = iti41.encode_request(iti41.ProvideAndRegisterRequest(objects, docs), mtom=False)
            msg = to_wire(body, iti41.ACTION)
            resp = requests.post(url, data=msg.body, headers={"Content-Type": msg.content_type}, timeout=30)
            assert b"ResponseStatusType:Success" in resp.content, resp.text[:500]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
