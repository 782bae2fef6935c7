"""Real DICOM peers for the interop tests and the benchmark: dcmtk's command-line tools and an Orthanc server.

Both listen on every interface (no bind-address option): start them only inside a loopback-only network
namespace (``tools/netns.py``). dcmtk runs with ``TCP_NODELAY=1`` in its environment (else each PDU may wait
for a delayed ACK).

Beware: pynetdicom installs console scripts named like dcmtk's (``getscu``, ``storescp``…); :func:`dcmtk`
finds the real dcmtk binary (its ``--version`` names dcmtk).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import netns  # noqa: E402

DCMTK_DIRS = ("/usr/bin", "/usr/local/bin")
ORTHANC_PLUGIN_DIRS = ("/usr/share/orthanc/plugins", "/usr/lib/orthanc")


@cache
def dcmtk(tool: str) -> str | None:
    """The path of dcmtk's ``tool`` (not pynetdicom's namesake), or None."""
    candidates = [str(Path(d) / tool) for d in DCMTK_DIRS]
    found = shutil.which(tool)
    if found:
        candidates.append(found)
    for path in dict.fromkeys(candidates):
        if not os.access(path, os.X_OK):
            continue
        try:
            out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if "dcmtk" in (out.stdout + out.stderr).lower():
            return path
    return None


def dcmtk_env() -> dict[str, str]:
    return {**os.environ, "TCP_NODELAY": "1"}


def run_dcmtk(
    tool: str, *args: str, timeout: float = 120.0, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    path = dcmtk(tool)
    if path is None:
        raise RuntimeError(f"dcmtk {tool} is not installed")
    return subprocess.run([path, *args], capture_output=True, text=True, timeout=timeout, env=dcmtk_env(), cwd=cwd)


def orthanc_binary() -> str | None:
    return shutil.which("Orthanc") or (shutil.which("orthanc") if shutil.which("orthanc") else None)


def dicomweb_plugin() -> str | None:
    for d in ORTHANC_PLUGIN_DIRS:
        for name in ("libOrthancDicomWeb.so", "libOrthancDicomWeb.so.1.7"):
            p = Path(d) / name
            if p.exists():
                return str(p)
    return None


def why_no_interop(tools: Iterable[str] = (), orthanc: bool = False) -> str | None:
    """Why the interop tests cannot run here (None when they can)."""
    missing = [t for t in tools if dcmtk(t) is None]
    if missing:
        return f"dcmtk is not installed ({', '.join(missing)} missing): apt-get install dcmtk"
    if orthanc:
        if orthanc_binary() is None:
            return "Orthanc is not installed: apt-get install orthanc orthanc-dicomweb"
        if dicomweb_plugin() is None:
            return "the Orthanc DICOMweb plugin is not installed: apt-get install orthanc-dicomweb"
    return None


@dataclass
class Orthanc:
    """An Orthanc server of our own (its own storage directory and configuration), started in the namespace."""

    workdir: Path
    dicom_port: int
    http_port: int
    aet: str = "ORTHANC"
    #: AE title -> (host, port) of the peers Orthanc may talk to (C-GET/C-MOVE requestors, C-MOVE destinations)
    modalities: dict[str, tuple[str, int]] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.url}/dicom-web"

    def config(self) -> dict[str, object]:
        storage = self.workdir / "storage"
        return {
            "Name": "xdsi-orthanc",
            "StorageDirectory": str(storage),
            "IndexDirectory": str(storage),
            "StorageCompression": False,
            "Plugins": [p for p in [dicomweb_plugin()] if p],
            "HttpServerEnabled": True,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "HttpCompressionEnabled": False,
            "OrthancExplorerEnabled": False,
            "WebDavEnabled": False,
            "DicomServerEnabled": True,
            "DicomAet": self.aet,
            "DicomPort": self.dicom_port,
            "DicomCheckCalledAet": False,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomModalities": {
                aet.lower(): {
                    "AET": aet,
                    "Host": host,
                    "Port": port,
                    "AllowEcho": True,
                    "AllowFind": True,
                    "AllowGet": True,
                    "AllowMove": True,
                    "AllowStore": True,
                }
                for aet, (host, port) in self.modalities.items()
            },
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
            "SaveJobs": False,
            "StableAge": 1,
        }

    def start(self, timeout: float = 60.0) -> Orthanc:
        binary = orthanc_binary()
        if binary is None:
            raise RuntimeError("Orthanc is not installed")
        if not netns.in_loopback_netns():
            raise RuntimeError("Orthanc listens on every interface: start it only in a loopback-only namespace")
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "orthanc.json"
        conf.write_text(json.dumps(self.config(), indent=1))
        log = open(self.workdir / "orthanc.log", "wb")  # noqa: SIM115 - kept open while Orthanc runs
        self.process = subprocess.Popen([binary, str(conf)], stdout=log, stderr=subprocess.STDOUT, env=dcmtk_env())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited: {(self.workdir / 'orthanc.log').read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/system", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("Orthanc did not start")

    def upload(self, paths: Iterable[Path]) -> int:
        """Store files into Orthanc by its REST API; the number stored."""
        n = 0
        with requests.Session() as s:
            for p in paths:
                r = s.post(f"{self.url}/instances", data=Path(p).read_bytes(), timeout=60)
                r.raise_for_status()
                n += 1
        return n

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
