"""Assertions for rule tests, recording which tests make which rule fire.

``xdsi rules`` shows, per rule, how many tests make it fire; ``xdsi rules --check`` fails when a
rule has none. The record is written by ``tests/conftest.py`` at the end of the session.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable

from xdsi.validation.findings import CATALOGUE, Finding

#: rule id -> set of test node ids that made it fire
FIRED: dict[str, set[str]] = defaultdict(set)


def _current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]


def assert_fires(findings: Iterable[Finding], rule_id: str, location_contains: str | None = None) -> Finding:
    """Assert that ``rule_id`` is among ``findings`` (optionally at a location) and record it."""
    findings = list(findings)
    assert rule_id in CATALOGUE, f"{rule_id} is not a declared rule"
    hits = [f for f in findings if f.rule == rule_id]
    if location_contains is not None:
        hits = [f for f in hits if location_contains in f.location]
    assert hits, f"expected {rule_id} to fire; got {[(f.rule, f.location) for f in findings]}"
    hit = hits[0]
    assert hit.location, f"{rule_id} fired without a location"
    assert hit.reference, f"{rule_id} fired without a reference"
    assert hit.severity == CATALOGUE[rule_id].severity or hit.severity in ("error", "warning", "info")
    FIRED[rule_id].add(_current_test())
    return hit


def assert_silent(findings: Iterable[Finding], rule_id: str | None = None) -> None:
    """Assert that ``rule_id`` did not fire (or, without an id, that no error fired)."""
    findings = list(findings)
    if rule_id is None:
        errors = [f for f in findings if f.severity == "error"]
        assert not errors, f"expected no error; got {[(f.rule, f.location, f.message) for f in errors]}"
    else:
        hits = [f for f in findings if f.rule == rule_id]
        assert not hits, f"expected {rule_id} silent; got {[(f.location, f.message) for f in hits]}"
