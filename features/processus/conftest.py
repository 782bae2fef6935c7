"""Markers of the process scenarios (DESIGN §5 tags), declared so that ``--strict-markers`` holds.

pytest-bdd turns each Gherkin tag into a pytest marker of the same name: ``-m "process_3_5 and not negative"``,
``-m req_PEI_T12_MODALITE`` (the tag of a requirement is ``xdsi.coverage.tag_for(id)``). Until pyproject.toml
declares them, this hook does (``features/conftest.py`` imports it, so it holds whatever file is run).
"""

from __future__ import annotations

import pytest

from xdsi import ROOT
from xdsi.coverage import load_requirements, tag_for

#: requirement ids of requirements/requirements.csv: a tag may name any of them (xdsi coverage says which are verified)
REQUIREMENTS = tuple(r.id for r in load_requirements(ROOT / "requirements" / "requirements.csv"))

#: every tag the process features may carry, with its meaning
MARKERS: dict[str, str] = {
    **{f"flux_{n}": f"the scenario exchanges Flux {n} of the volet (Tableau 10)" for n in range(1, 11)},
    **{f"process_3_{n}": f"collaborative process 3.{n} of the volet" for n in range(1, 8)},
    **{
        f"actor_{a}": f"the scenario proves the conformance of the {a} actor"
        for a in ("producer", "registry", "consumer", "imaging_source")
    },
    "negative": "the scenario sends a faulty or unanswerable request and expects a refusal",
    **{tag_for(r): f"verifies requirement {r} (requirements/requirements.csv)" for r in REQUIREMENTS},
}


def pytest_configure(config: pytest.Config) -> None:
    declared = {line.split(":")[0].strip() for line in config.getini("markers")}
    for name, text in MARKERS.items():
        if name not in declared:
            config.addinivalue_line("markers", f"{name}: {text}")
