"""Retrieve throughput of the imaging-source simulator against Orthanc, with the same clients, in one run.

    python benchmarks/bench_imaging.py [--instances 200] [--size 512] [--rounds 3] [--json out.json]

A synthetic CT study (200 instances of 512×512, 16 bits: ≈ 105 MB) is loaded into our simulator and into an
Orthanc server (Debian ``orthanc`` + ``orthanc-dicomweb``); each is then retrieved, rounds alternating between the
two servers, by

* our consumer's C-GET (pynetdicom, ``simulators.imaging_consumer.client.retrieve_cget``),
* our consumer's WADO-RS (requests, ``retrieve_wado``),
* dcmtk's ``getscu`` (a C client: the server side alone), when installed,
* our consumer's RAD-69 (our simulator only: Orthanc has no RAD-69),

every retrieve checked complete against the KOS. MB/s = study bytes / seconds, best round; ratio = ours / Orthanc
(target ≥ 0.5). Orthanc listens on every interface: the script re-runs itself in a loopback-only network
namespace (``tools/netns.py``); without one (or without Orthanc) it measures our simulator alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import netns  # noqa: E402

from simulators.imaging_consumer.client import RetrieveResult, retrieve_cget, retrieve_rad69, retrieve_wado  # noqa: E402
from simulators.imaging_source.server import start_imaging_source  # noqa: E402
from tests.imaging.conftest import free_port  # noqa: E402
from tests.imaging.peers import Orthanc, dcmtk, dcmtk_env, why_no_interop  # noqa: E402
from xdsi.dicom.kos import build_kos, kos_bytes, parse_kos  # noqa: E402
from xdsi.dicom.study import generate_study  # noqa: E402


def _timed(fn: Callable[[], RetrieveResult], expected: int) -> float:
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    if not result.ok or len(result.datasets) != expected:
        raise RuntimeError(f"{result.method}: incomplete retrieve: {result.errors[:3]} {result.findings[:3]}")
    return seconds


def _getscu(port: int, aet: str, study_uid: str, expected: int) -> float:
    tool = dcmtk("getscu")
    assert tool is not None
    with tempfile.TemporaryDirectory(prefix="xdsi-bench-") as out:
        started = time.perf_counter()
        proc = subprocess.run(
            [
                tool,
                "-S",
                "-aet",
                "BENCH",
                "-aec",
                aet,
                "-k",
                "QueryRetrieveLevel=STUDY",
                "-k",
                f"StudyInstanceUID={study_uid}",
                "-od",
                out,
                "127.0.0.1",
                str(port),
            ],
            capture_output=True,
            text=True,
            env=dcmtk_env(),
            timeout=600,
        )
        seconds = time.perf_counter() - started
        got = len(os.listdir(out))
    if proc.returncode != 0 or got != expected:
        raise RuntimeError(f"getscu: {got}/{expected} instances, {proc.stderr[-500:]}")
    return seconds


def run(instances: int, size: int, rounds: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="xdsi-bench-imaging-"))
    try:
        study = generate_study(work / "study", series=1, instances=instances, rows=size, columns=size, seed=1)
        study_bytes = sum(i.path.stat().st_size for i in study.instances)
        src = start_imaging_source(store=f"sqlite:///{work}/index.sqlite", studies=[work / "study"])
        orthanc: Orthanc | None = None
        why_not = why_no_interop((), orthanc=True) or (None if netns.in_loopback_netns() else "not in a netns")
        if why_not is None:
            # C-GET requestors must be known modalities of Orthanc
            peers = {"XDSI_CONSUMER": ("127.0.0.1", free_port()), "BENCH": ("127.0.0.1", free_port())}
            orthanc = Orthanc(work / "orthanc", free_port(), free_port(), modalities=peers).start()
            orthanc.upload(i.path for i in study.instances)
        try:
            ours_kos = parse_kos(
                kos_bytes(
                    build_kos(
                        study,
                        retrieve_ae_title=src.ae_title,
                        retrieve_url=src.wado_rs_url,
                        retrieve_location_uid=src.retrieve_location_uid,
                    )
                )
            )
            servers: dict[str, dict[str, Callable[[], float]]] = {
                "ours": {
                    "C-GET (our consumer)": lambda: _timed(
                        lambda: retrieve_cget("127.0.0.1", src.dicom_port, None, ours_kos), instances
                    ),
                    "WADO-RS (our consumer)": lambda: _timed(
                        lambda: retrieve_wado(src.wado_rs_url, ours_kos), instances
                    ),
                    "RAD-69 (our consumer)": lambda: _timed(lambda: retrieve_rad69(src.rad69_url, ours_kos), instances),
                }
            }
            if dcmtk("getscu"):
                servers["ours"]["C-GET (dcmtk getscu)"] = lambda: _getscu(
                    src.dicom_port, src.ae_title, study.study_instance_uid, instances
                )
            if orthanc is not None:
                o = orthanc
                o_kos = parse_kos(
                    kos_bytes(
                        build_kos(
                            study,
                            retrieve_ae_title=o.aet,
                            retrieve_url=o.dicomweb_url,
                            retrieve_location_uid="1.2.250.1.999.1",
                        )
                    )
                )
                servers["orthanc"] = {
                    "C-GET (our consumer)": lambda: _timed(
                        lambda: retrieve_cget("127.0.0.1", o.dicom_port, None, o_kos), instances
                    ),
                    "WADO-RS (our consumer)": lambda: _timed(lambda: retrieve_wado(o.dicomweb_url, o_kos), instances),
                }
                if dcmtk("getscu"):
                    servers["orthanc"]["C-GET (dcmtk getscu)"] = lambda: _getscu(
                        o.dicom_port, o.aet, study.study_instance_uid, instances
                    )
            times: dict[str, dict[str, list[float]]] = {s: {m: [] for m in ms} for s, ms in servers.items()}
            for methods in servers.values():  # one warm-up each (caches, first association)
                for fn in methods.values():
                    fn()
            for _ in range(rounds):
                for method in servers["ours"]:
                    for name, methods in servers.items():
                        if method in methods:
                            times[name][method].append(methods[method]())
        finally:
            if orthanc is not None:
                orthanc.stop()
            src.stop()
        rows = []
        for method in servers["ours"]:
            row: dict[str, Any] = {"method": method}
            for name in servers:
                ts = times[name].get(method)
                if ts:
                    row[name] = {
                        "best_s": round(min(ts), 3),
                        "median_s": round(statistics.median(ts), 3),
                        "mb_per_s": round(study_bytes / 1e6 / min(ts), 1),
                    }
            if "orthanc" in row:
                row["ratio"] = round(row["ours"]["mb_per_s"] / row["orthanc"]["mb_per_s"], 2)
            rows.append(row)
        return {
            "study": {"instances": instances, "rows": size, "columns": size, "bytes": study_bytes},
            "rounds": rounds,
            "orthanc": "1.10.1 + DICOMweb plugin" if orthanc is not None else f"not measured ({why_not})",
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "results": rows,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(data: dict[str, Any]) -> str:
    st = data["study"]
    lines = [
        f"study: {st['instances']} instances {st['rows']}x{st['columns']}, {st['bytes'] / 1e6:.1f} MB; "
        f"best of {data['rounds']} rounds; Orthanc: {data['orthanc']}; load average {data['load_average'][0]:.2f}",
        f"{'method':28} {'ours MB/s':>10} {'Orthanc MB/s':>13} {'ratio':>6}",
    ]
    for r in data["results"]:
        ours = r["ours"]["mb_per_s"]
        orth = r.get("orthanc", {}).get("mb_per_s")
        ratio = r.get("ratio")
        lines.append(
            f"{r['method']:28} {ours:>10.1f} {orth if orth is not None else '-':>13} "
            f"{ratio if ratio is not None else '-':>6}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--size", type=int, default=512, help="rows = columns")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--no-netns", action="store_true", help="do not re-run in a network namespace")
    args = parser.parse_args(argv)
    if not args.no_netns and not netns.in_loopback_netns():
        ok, why = netns.netns_available()
        if ok:
            return subprocess.call(netns.netns_command([sys.executable, *sys.argv]))
        print(f"no network namespace ({why}): measuring our simulator alone", file=sys.stderr)
    data = run(args.instances, args.size, args.rounds)
    print(report(data))
    if args.json:
        args.json.write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
