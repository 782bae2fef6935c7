"""Benchmark: our IMG-DA-IMG / IMG-CR-IMG validation against the official ANS schematron under SaxonC-HE.

Same run, same documents (the 9 official examples of ``../shared/corpus/cda``): per document, the median of N
runs after a warm-up, for

* ours: ``xdsi.validation.cda.validate_cda(data, kind=…)`` (every layer of our CDA validation);
* official: ``OfficialSchematron.run(data)`` (safe parse with lxml, Saxon transform of the compiled TestContenuCDA
  volet schematron, SVRL read back), the schematron compiled once beforehand.

Also measured: the official compile, cold (include + abstract expansion + skeleton + Saxon compile, no disk cache)
and from the disk cache (cached skeleton output + Saxon compile). A benchmark, not a test; the figures go to
docs/benchmarks.md.

Usage: python benchmarks/bench_cda.py [--repeat 20] [--warmup 3] [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import importlib
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from xdsi import ROOT
from xdsi.validation.official import clear_memory_cache, compile_official, official_dir_for

KIND_OF = {"IMG-DA-IMG": "img-da-img", "IMG_CR_IMG": "img-cr-img"}


def kind_of(name: str) -> str:
    for prefix, kind in KIND_OF.items():
        if name.startswith(prefix):
            return kind
    raise ValueError(name)


def median_ms(fn: Callable[[], object], repeat: int, warmup: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)

    official_dir = args.corpus / "official-schematron" / "testcontenucda"
    jdv_dir = args.corpus / "valuesets" / "svs"
    docs = sorted((args.corpus / "cda").glob("*.xml"))
    if not docs:
        raise SystemExit(f"no CDA examples under {args.corpus / 'cda'}")

    print(
        f"Python {platform.python_version()}, {platform.machine()}, {len(docs)} documents, "
        f"median of {args.repeat} runs after {args.warmup} warm-up runs\n"
    )

    # compile: cold (no disk cache) then from a fresh disk cache, each in a clean memory cache
    compiled = {}
    print("| official compile | cold (skeleton + Saxon) | from disk cache (Saxon only) |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("img-da-img", "img-cr-img"):
            sch = official_dir_for(kind, official_dir)
            clear_memory_cache()
            t = time.perf_counter()
            compile_official(sch, jdv_dir=jdv_dir, cache_dir=Path(tmp))
            cold = time.perf_counter() - t
            clear_memory_cache()
            t = time.perf_counter()
            compiled[kind] = compile_official(sch, jdv_dir=jdv_dir, cache_dir=Path(tmp))
            warm = time.perf_counter() - t
            assert compiled[kind].from_cache
            print(f"| {sch.name} | {cold * 1000:.0f} ms | {warm * 1000:.0f} ms |")

    try:
        validate_cda = importlib.import_module("xdsi.validation.cda").validate_cda
    except (ImportError, AttributeError) as exc:
        validate_cda = None
        print(f"\nours: not measured ({exc})")

    print("\n| document | KB | ours (ms) | official (ms) | official / ours | ours errors | official failures |")
    print("|---|---|---|---|---|---|---|")
    total_ours, total_off = [], []
    for doc in docs:
        data = doc.read_bytes()
        kind = kind_of(doc.name)
        official = compiled[kind]
        n_off = len(official.run(data))
        t_off = median_ms(partial(official.run, data), args.repeat, args.warmup)
        total_off.append(t_off)
        if validate_cda is not None:
            _k, findings, _err = validate_cda(data, kind=kind)
            n_ours = str(sum(f.severity == "error" for f in findings))
            t_ours = median_ms(partial(validate_cda, data, kind=kind), args.repeat, args.warmup)
            total_ours.append(t_ours)
            ours_cell, ratio = f"{t_ours:.1f}", f"{t_off / t_ours:.1f}×"
        else:
            n_ours, ours_cell, ratio = "n/a", "n/a", "n/a"
        print(f"| {doc.name} | {len(data) / 1024:.0f} | {ours_cell} | {t_off:.1f} | {ratio} | {n_ours} | {n_off} |")
    med_off = statistics.median(total_off)
    if total_ours:
        med_ours = statistics.median(total_ours)
        print(f"| **median of the medians** | | {med_ours:.1f} | {med_off:.1f} | {med_off / med_ours:.1f}× | | |")
    else:
        print(f"| **median of the medians** | | n/a | {med_off:.1f} | n/a | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
