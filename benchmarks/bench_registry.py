"""Benchmark of the registry/repository simulator (a benchmark, not a test; figures go to docs/benchmarks.md).

1. ITI-41 submissions/s: 8 concurrent clients, each posting Flux 1 messages (a KOS entry and a report entry,
   MTOM) over HTTP to `xdsi serve registry` running in its own process.
2. ITI-18 FindDocuments latency (p50/p95, over HTTP, LeafClass) with 10,000 and 100,000 registered entries: the
   store is filled with `Registry.load_bulk`, then the server is started on it and queried by patient + status
   (+ modality), the queries encoded before the clock starts.
Both on SQLite, and on PostgreSQL when XDSI_TEST_POSTGRES_URL is set (tools/start_test_postgres.sh).

Usage: python benchmarks/bench_registry.py [--sizes 10000 100000] [--submissions 400] [--queries 300]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import requests

from simulators.consumer.client import adhoc_query, find_documents_query
from simulators.registry.registry import Registry
from xdsi.messages import examples as ex
from xdsi.messages import iti18, iti41
from xdsi.messages.iti41 import ProvideAndRegisterRequest
from xdsi.messages.wire import WireMessage, to_wire
from xdsi.model import metadata as md
from xdsi.model.metadata import Code, Document, RegistryObjects

MODALITIES = [Code("CT", md.DCM), Code("MR", md.DCM), Code("US", md.DCM), Code("CR", md.DCM), Code("MG", md.DCM)]
PATIENTS = 5000
#: server processes: validation is CPU-bound Python, one process per core
WORKERS = os.cpu_count() or 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def exam(n: int, patient: int) -> ex.Exam:
    return ex.Exam(
        name=f"bench-{uuid.uuid4().hex}-{n}",
        patient_ins=f"{2_000_000_000_000 + patient:015d}",
        accession_number=f"ACC{n:09d}",
        modality=MODALITIES[n % len(MODALITIES)],
        study_date=f"2026{1 + n % 12:02d}{1 + n % 28:02d}091500",
    )


def submission(n: int, patient: int) -> ProvideAndRegisterRequest:
    """A Flux 1 submission (KOS + report) whose documents are small stand-ins (the registry stores any bytes)."""
    e = exam(n, patient)
    kos, cr = ex.kos_entry(e), ex.report_entry(e)
    ss = ex.submission_set(e)
    assocs = [
        ex.has_member(ss.entry_uuid, kos.entry_uuid, 1, submission_set_status="Original"),
        ex.has_member(ss.entry_uuid, cr.entry_uuid, 2, submission_set_status="Original"),
    ]
    objects = RegistryObjects(submission_sets=[ss], entries=[kos, cr], associations=assocs)
    docs = [Document(kos.entry_uuid, f"KOS {n}".encode() * 20), Document(cr.entry_uuid, ex.report_bytes(e))]
    return ProvideAndRegisterRequest(objects, docs)


def stream(count: int) -> Iterator[ProvideAndRegisterRequest]:
    for n in range(count):
        yield submission(n, n % PATIENTS)


class Server:
    def __init__(self, store: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "xdsi.cli",
                "serve",
                "registry",
                "--port",
                str(self.port),
                "--store",
                store,
                "--log-level",
                "warning",
                "--workers",
                str(WORKERS),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if "ITI-43" in line:
                break
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def wire(req: ProvideAndRegisterRequest) -> WireMessage:
    body, attachments = iti41.encode_request(req, mtom=True)
    types = {iti41.content_id(de.entry_uuid): de.mime_type or "" for de in req.objects.entries}
    return to_wire(body, iti41.ACTION, attachments, types)


def bench_submissions(store: str, total: int, clients: int = 8) -> float:
    """The server's throughput: the messages are encoded before the clock starts, and each client thread posts
    them on its own keep-alive connection (the server validates, registers durably and answers each)."""
    server = Server(store)
    try:
        messages = [wire(submission(n, n % PATIENTS)) for n in range(total)]
        chunks = [messages[i::clients] for i in range(clients)]
        failures: list[str] = []

        def run(chunk: list[WireMessage]) -> None:
            with requests.Session() as session:
                for msg in chunk:
                    resp = session.post(
                        server.url + "/iti41", data=msg.body, headers={"Content-Type": msg.content_type}
                    )
                    if resp.status_code != 200 or b"ResponseStatusType:Success" not in resp.content:
                        failures.append(resp.text[:300])

        threads = [threading.Thread(target=run, args=(c,)) for c in chunks]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        assert not failures, failures[:5]
        return total / elapsed
    finally:
        server.stop()


def bench_queries(store: str, entries: int, queries: int) -> tuple[float, float, float, int]:
    registry = Registry(store)
    start = time.perf_counter()
    result = registry.load_bulk(stream(entries // 2), batch_size=1000)
    load_s = time.perf_counter() - start
    registry.close()
    assert not result.failures, result.failures[:3]
    server = Server(store)
    try:
        rng = random.Random(7)
        messages = []
        for i in range(queries + 20):
            patient = exam(0, rng.randrange(PATIENTS)).patient_id
            criteria = {"modalities": ["CT"]} if i % 2 else {}
            body = iti18.encode_request(adhoc_query(find_documents_query(patient, **criteria)))  # type: ignore[arg-type]
            messages.append(to_wire(body, iti18.ACTION))
        times, found = [], 0
        with requests.Session() as session:
            for i, msg in enumerate(messages):
                t = time.perf_counter()
                resp = session.post(server.url + "/iti18", data=msg.body, headers={"Content-Type": msg.content_type})
                elapsed = time.perf_counter() - t
                assert b"ResponseStatusType:Success" in resp.content, resp.text[:300]
                if i >= 20:
                    times.append(elapsed)
                    found += resp.content.count(b"<rim:ExtrinsicObject")
        times.sort()
        return statistics.median(times) * 1000, times[int(len(times) * 0.95)] * 1000, load_s, found // queries
    finally:
        server.stop()


def fresh_postgres(url: str) -> str:
    """A new empty database next to the one named by ``url``."""
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--submissions", type=int, default=400)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    stores = ["sqlite"] + (["postgresql"] if os.environ.get("XDSI_TEST_POSTGRES_URL") else [])
    with tempfile.TemporaryDirectory() as tmp:

        def new_store(kind: str) -> str:
            if kind == "sqlite":
                return f"sqlite:///{Path(tmp) / (uuid.uuid4().hex + '.sqlite')}"
            return fresh_postgres(os.environ["XDSI_TEST_POSTGRES_URL"])

        for kind in stores:
            rate = bench_submissions(new_store(kind), args.submissions)
            print(
                f"{kind}: ITI-41 with 8 concurrent clients: {rate:.1f} submissions/s ({args.submissions} submissions)"
            )
            for size in args.sizes:
                p50, p95, load_s, per = bench_queries(new_store(kind), size, args.queries)
                print(
                    f"{kind}: ITI-18 FindDocuments with {size} entries: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
                    f"({args.queries} queries, ~{per} entries per answer; bulk load {load_s:.0f} s)"
                )


if __name__ == "__main__":
    main()
