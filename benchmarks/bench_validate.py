"""Benchmark of the validation core (a benchmark, not a test; figures go to docs/benchmarks.md).

1. Median time to validate the Flux 1 example (a KOS entry and a report entry, inline base64) through every
   layer, in process (``validate_bytes``).
2. Throughput of a batch of N files: one ``xdsi validate DIR`` process against one ``xmllint --schema``
   process per file (the ITI-41 body against our XSD only), measured in the same run; and, as the floor any
   Python validator meets here, one process that only parses each file and checks it against the same XSD.

Usage: python benchmarks/bench_validate.py [--files 1000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

from xdsi import ROOT
from xdsi.messages import examples as ex
from xdsi.messages import iti41
from xdsi.validation.pipeline import validate_bytes


def flux1_envelope() -> bytes:
    return (ROOT / "examples" / "flux1-iti41-request-inline.xml").read_bytes()


def flux1_body(n: int) -> bytes:
    exam = ex.Exam(name=f"bench-{n}", accession_number=f"ACC{n:08d}")
    objects, docs = ex.flux1(exam)
    body, _ = iti41.encode_request(iti41.ProvideAndRegisterRequest(objects, docs), mtom=False)
    return etree.tostring(body, xml_declaration=True, encoding="UTF-8")


def median_validation(repeat: int) -> tuple[float, float]:
    data = flux1_envelope()
    result = validate_bytes(data)
    assert result.valid, [f.rule for f in result.findings if f.severity == "error"]
    for _ in range(10):
        validate_bytes(data)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        validate_bytes(data)
        times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.95)] * 1000


#: lxml parse + XSD only, over the machine's cores (forked workers): the fastest a Python batch can be here
XSD_ONLY = """
import os, sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from lxml import etree
schema = etree.XMLSchema(etree.parse("schemas/xsd/xds-b-repository.xsd"))
parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
def check(path):
    return schema.validate(etree.parse(str(path), parser))
files = sorted(Path(sys.argv[1]).glob("msg*.xml"))
with ProcessPoolExecutor(os.cpu_count()) as pool:
    assert all(pool.map(check, files, chunksize=64))
"""


def batch(files: int) -> dict[str, float]:
    xmllint = shutil.which("xmllint")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for n in range(files):
            (directory / f"msg{n:05d}.xml").write_bytes(flux1_body(n))
        t = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "xdsi.cli",
                "validate",
                str(directory),
                "--format",
                "json",
                "-o",
                str(directory / "r.json"),
            ],
            capture_output=True,
        )
        ours = time.perf_counter() - t
        assert proc.returncode == 0, proc.stderr.decode()[:2000]
        out = {"files": files, "xdsi_s": ours, "xdsi_files_per_s": files / ours}
        # The floor of any validator in Python here: one process that only parses each file and checks it
        # against the same XSD (no other layer, no report), spread over the same cores.
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", XSD_ONLY, str(directory)], capture_output=True, cwd=ROOT)
        floor = time.perf_counter() - t
        assert proc.returncode == 0, proc.stderr.decode()[:2000]
        out |= {"floor_s": floor, "floor_files_per_s": files / floor}
        if xmllint:
            schema = ROOT / "schemas" / "xsd" / "xds-b-repository.xsd"
            t = time.perf_counter()
            for path in sorted(directory.glob("msg*.xml")):
                subprocess.run(
                    [xmllint, "--noout", "--schema", str(schema), str(path)], capture_output=True, check=True
                )
            theirs = time.perf_counter() - t
            out |= {"xmllint_s": theirs, "xmllint_files_per_s": files / theirs, "ratio": theirs / ours}
            out |= {"floor_ratio": theirs / floor}
        return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, lxml {etree.__version__}")
    median, p95 = median_validation(args.repeat)
    print(
        f"flux1 (KOS + CR, inline) through every layer: median {median:.2f} ms, p95 {p95:.2f} ms ({args.repeat} runs)"
    )
    b = batch(args.files)
    print(f"batch of {b['files']} files, one xdsi process: {b['xdsi_s']:.2f} s ({b['xdsi_files_per_s']:.0f} files/s)")
    if "ratio" in b:
        print(
            f"xmllint --schema, one process per file: {b['xmllint_s']:.2f} s ({b['xmllint_files_per_s']:.0f} files/s); "
            f"xdsi / xmllint throughput ratio: {b['ratio']:.1f}x"
        )
        print(
            f"floor (one Python process, lxml parse + the same XSD only): {b['floor_s']:.2f} s "
            f"({b['floor_files_per_s']:.0f} files/s), {b['floor_ratio']:.1f}x xmllint"
        )
    else:
        print("xmllint not found (apt-get install libxml2-utils): no comparison")


if __name__ == "__main__":
    main()
