"""Binds the CDA features (features/cda/*.feature) and checks them against the mutation table."""

from __future__ import annotations

import re
from pathlib import Path

from pytest_bdd import scenarios

from tests.fixtures.cda import document_names, mutations

scenarios("cda")

CDA_FEATURES = Path(__file__).parent / "cda"
_ROW = re.compile(r"^\s*\|\s*([a-z0-9-]+)\s*\|\s*([a-z0-9]+)\s*\|\s*([A-Z0-9_.]+)\s*\|")


def _rows() -> list[tuple[str, str, str]]:
    rows = []
    for feature in CDA_FEATURES.glob("*.feature"):
        for line in feature.read_text(encoding="utf-8").splitlines():
            match = _ROW.match(line)
            if match and match.group(1) in mutations():
                rows.append((match.group(1), match.group(2), match.group(3)))
    return rows


def test_feature_examples_follow_the_mutation_table() -> None:
    """Every (mutation, document, rule) row of the features is in the table, and every mutation has a row."""
    rows = _rows()
    for name, document, rule in rows:
        assert document in document_names() and document in mutations()[name].bases, (name, document)
        assert rule in mutations()[name].rules, (name, rule)
    assert {name for name, _, _ in rows} == set(mutations())
