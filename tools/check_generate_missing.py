"""Fail when pytest-bdd's ``--generate-missing`` finds a scenario not bound or a step not defined (run by
``tox -e conformance``): every scenario of ``features/`` is bound and every step has its definition."""

from __future__ import annotations

import subprocess
import sys

MARKS = ("is not bound", "is not defined", "@scenario(", "@given(", "@when(", "@then(")


def main() -> int:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "features",
            "--generate-missing",
            "--feature",
            "features",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    missing = [line for line in out.splitlines() if any(mark in line for mark in MARKS)]
    if missing:
        sys.stderr.write("pytest-bdd --generate-missing found gaps:\n" + "\n".join(missing) + "\n")
        return 1
    print("pytest-bdd --generate-missing: every scenario bound, every step defined")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
