"""Fixtures shared by the harness's own tests."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from xdsi import ROOT

CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus of real messages; tests that need it skip cleanly when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    return CORPUS


def pytest_sessionstart(session: pytest.Session) -> None:
    """Forget the previous run's record (the controller does it, before any worker writes)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        shutil.rmtree(ROOT / "reports" / "rule-tests.d", ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write which tests made which rule fire (read by ``xdsi rules``)."""
    from tests.rulecheck import FIRED

    out = ROOT / "reports" / "rule-tests.d"
    out.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (out / f"{worker}.json").write_text(
        json.dumps({rule: sorted(tests) for rule, tests in FIRED.items()}, indent=1, sort_keys=True)
    )
