"""The ``xdsi`` command (DESIGN §4): validate, rules, examples."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from xml.sax.saxutils import quoteattr

from xdsi import ROOT, __version__
from xdsi.validation.findings import FLUX_KINDS, PROFILES

#: from this many files on, ``validate`` spreads them over the machine's cores unless --jobs says otherwise
PARALLEL_FROM = 64
MESSAGE_SUFFIXES = {".xml", ".mime", ".http", ".txt", ".msg", ".soap"}


class UsageError(Exception):
    pass


def _expand(paths: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in MESSAGE_SUFFIXES)
        else:
            out.append(p)
    return out


def _text_report(results: list) -> str:
    lines = []
    for r in results:
        if r.error:
            lines.append(f"{r.path}: UNREADABLE: {r.error}")
            continue
        counts = {s: sum(1 for f in r.findings if f.severity == s) for s in ("error", "warning", "info")}
        verdict = "VALID" if r.valid else "INVALID"
        lines.append(
            f"{r.path}: {r.kind} {verdict} ({counts['error']} error(s), {counts['warning']} warning(s), "
            f"{counts['info']} info)"
        )
        for f in r.findings:
            lines.append(f"  {f.severity:<7} {f.rule}  at {f.location}")
            lines.append(f"          {f.message}")
            lines.append(f"          ref: {f.reference}")
    return "\n".join(lines) + "\n"


def _json_report(results: list) -> str:
    return (
        json.dumps(
            {"tool": "xdsi", "version": __version__, "results": [r.as_dict() for r in results]},
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )


def _junit_report(results: list) -> str:
    failures = sum(1 for r in results if not r.valid and not r.error)
    errors = sum(1 for r in results if r.error)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name="xdsi validate" tests="{len(results)}" failures="{failures}" errors="{errors}">',
    ]
    for r in results:
        out.append(f"  <testcase classname={quoteattr(str(r.kind))} name={quoteattr(r.path)}>")
        if r.error:
            out.append(f"    <error message={quoteattr(r.error)}/>")
        elif not r.valid:
            errs = [f for f in r.findings if f.severity == "error"]
            body = "\n".join(f"{f.rule} at {f.location}: {f.message} ({f.reference})" for f in errs)
            out.append(f"    <failure message={quoteattr(f'{len(errs)} error finding(s)')}>{_escape(body)}</failure>")
        out.append("  </testcase>")
    out.append("</testsuite>")
    return "\n".join(out) + "\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cmd_validate(args: argparse.Namespace) -> int:
    from xdsi.validation.pipeline import validate_path

    if args.official_schematron:
        raise UsageError("--official-schematron applies to CDA documents (img-da-img, img-cr-img), not yet available")
    if args.xsd_dir and not Path(args.xsd_dir).is_dir():
        raise UsageError(f"--xsd-dir {args.xsd_dir}: not a directory")
    files = _expand(args.paths)
    if not files:
        raise UsageError("no message files found in " + " ".join(args.paths))
    xsd_dir = Path(args.xsd_dir) if args.xsd_dir else None
    jobs = args.jobs or (min(os.cpu_count() or 1, 8) if len(files) >= PARALLEL_FROM else 1)
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            task = partial(validate_path, kind=args.kind, profile=args.profile, xsd_dir=xsd_dir)
            results = list(pool.map(task, files, chunksize=max(1, len(files) // (jobs * 8))))
    else:
        results = [validate_path(f, args.kind, args.profile, xsd_dir) for f in files]
    report = {"text": _text_report, "json": _json_report, "junit": _junit_report}[args.format](results)
    if args.output:
        Path(args.output).write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    if any(r.error for r in results):
        return 2
    return 0 if all(r.valid for r in results) else 1


def rule_test_counts(directory: Path = ROOT / "reports" / "rule-tests.d") -> dict[str, int] | None:
    """How many tests made each rule fire, from the last test run (None when there was none)."""
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not files:
        return None
    fired: dict[str, set[str]] = {}
    for f in files:
        for rule, tests in json.loads(f.read_text()).items():
            fired.setdefault(rule, set()).update(tests)
    return {rule: len(tests) for rule, tests in fired.items()}


def cmd_rules(args: argparse.Namespace) -> int:
    from xdsi.validation.catalogue import all_rules

    rules = all_rules()
    counts = rule_test_counts()
    if args.check:
        if counts is None:
            raise UsageError("--check needs a test run first (reports/rule-tests.d is empty)")
        missing = [r.id for r in rules if counts.get(r.id, 0) == 0]
        if missing:
            sys.stderr.write(f"{len(missing)} rule(s) have no test that makes them fire: {' '.join(missing)}\n")
            return 1
        sys.stdout.write(f"every one of the {len(rules)} rules has a test that makes it fire\n")
        return 0
    if args.format == "json":
        data = [
            {
                "id": r.id,
                "severity": r.severity,
                "kinds": list(r.kinds),
                "profiles": list(r.profiles),
                "layer": r.layer,
                "reference": r.reference,
                "text": r.text,
                "firing_tests": None if counts is None else counts.get(r.id, 0),
            }
            for r in rules
        ]
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    else:
        for r in rules:
            n = "?" if counts is None else str(counts.get(r.id, 0))
            kinds = ",".join(r.kinds) if len(r.kinds) < 10 else "flux1-10"
            sys.stdout.write(f"{r.id:<42} {r.severity:<7} {r.layer:<11} tests={n:<3} {kinds}\n    {r.reference}\n")
        note = "" if counts is not None else " (run the tests to count the tests that make each fire)"
        sys.stdout.write(f"{len(rules)} rules{note}\n")
    return 0


def cmd_examples(args: argparse.Namespace) -> int:
    from xdsi.messages.example_files import write_examples

    for path in write_examples(Path(args.out)):
        sys.stdout.write(f"{path}\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xdsi", description="CI-SIS imaging-sharing conformance harness")
    parser.add_argument("--version", action="version", version=f"xdsi {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="validate captured messages (Flux 1–10)")
    v.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    v.add_argument("--as", dest="kind", choices=FLUX_KINDS, help="force the kind instead of detecting it")
    v.add_argument("--profile", choices=PROFILES, default="cisis")
    v.add_argument("--format", choices=("text", "json", "junit"), default="text")
    v.add_argument("-o", "--output", help="write the report to FILE")
    v.add_argument("--xsd-dir", help="validate with this directory of official XSDs instead of ours")
    v.add_argument(
        "-j", "--jobs", type=int, default=0, help="worker processes (default: one per core for large batches)"
    )
    v.add_argument("--official-schematron", help="run the official schematrons beside ours (CDA documents)")
    v.set_defaults(func=cmd_validate)

    r = sub.add_parser("rules", help="the rule catalogue")
    r.add_argument("--format", choices=("text", "json"), default="text")
    r.add_argument("--check", action="store_true", help="fail when a rule has no test that makes it fire")
    r.set_defaults(func=cmd_rules)

    e = sub.add_parser("examples", help="write a valid example message for each flux")
    e.add_argument("--out", default="examples")
    e.set_defaults(func=cmd_examples)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.func(args))
    except UsageError as exc:
        sys.stderr.write(f"xdsi: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
