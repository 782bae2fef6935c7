"""The conformance report plugin (xdsi.report.pytest_plugin) on a tiny pytest-bdd project built by pytester."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from xdsi.journal import Exchange, Journal
from xdsi.report.conformance_report import ScenarioResult, StepResult, attribute, render_html

pytest_plugins = ["pytester"]

FEATURE = """# language: fr
@process_3_1 @actor_producer
Fonctionnalité: Ajout d'un lot de documents

  @req_PEI_3_1_FLUX1
  Scénario: Le producteur publie un KOS
    Soit un registre
    Quand le producteur publie le lot "ACC-1"
    Alors le registre accepte

  Scénario: Le registre refuse
    Soit un registre
    Quand le producteur publie le lot "ACC-2"
    Alors le registre refuse

  @skipme
  Scénario: Pas encore
    Soit un registre
"""

CONFTEST = """
import pytest


def pytest_bdd_apply_tag(tag, function):
    if tag == "skipme":
        return pytest.mark.skip(reason="not in this run")(function)
    return None
"""

STEPS = """
import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from xdsi.journal import Exchange, Journal
from xdsi.report.pytest_plugin import current_scenario, journal_path
from xdsi.validation.findings import Finding

scenarios("publish.feature")


@pytest.fixture
def journal(request):
    return Journal(journal_path(request.config))


@given("un registre")
def registry():
    pass


@when(parsers.parse('le producteur publie le lot "{accession}"'))
def publish(journal, accession):
    scenario = current_scenario()
    journal.record(Exchange(
        notes=[f"scenario={scenario}"] if scenario else [],
        transaction="ITI-41", direction="received", actor="registry", request_flux="flux1",
        response_flux="flux2", http_status=200, request=f"<lot>{accession}</lot>".encode(),
        request_content_type="application/soap+xml", response=b"<ok/>",
        request_findings=[Finding("FLUX1.FICHE.REGION.CARD", "error", "/Envelope/Body", "region missing",
                                  "PEI Tableau 12")] if accession == "ACC-2" else [],
    ))


@then("le registre accepte")
def accepted():
    pass


@then("le registre refuse")
def refused():
    raise AssertionError("the registry accepted ACC-2")
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("XDSI_JOURNAL", raising=False)  # an outer run's journal is not this project's
    pytester.makefile(".feature", publish=FEATURE)
    pytester.makepyfile(test_publish=STEPS)
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\nmarkers =\n    process_3_1\n    actor_producer\n    req_PEI_3_1_FLUX1\n    skipme\n")
    return pytester


def test_reports_are_written(project: pytest.Pytester) -> None:
    # the journal of an earlier run is replaced by a fresh one
    Journal(project.path / "reports" / "journal.sqlite").record(
        Exchange(transaction="ITI-18", request=b"<old/>", time="2000-01-01T00:00:00.000Z")
    )
    result = project.runpytest("-p", "xdsi.report.pytest_plugin", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.re_match_lines(
        [
            r"✔ 3\.1 Ajout d'un lot de documents › Le producteur publie un KOS \(\d+\.\d s\)",
            r"✘ 3\.1 Ajout d'un lot de documents › Le registre refuse \(\d+\.\d s\)",
            r"↷ 3\.1 Ajout d'un lot de documents › Pas encore \(\d+\.\d s\)",
        ],
        consecutive=False,
    )
    reports = project.path / "reports"
    assert len(Journal(reports / "journal.sqlite")) == 2
    assert "XDSI_JOURNAL" not in os.environ  # restored after the run
    doc = json.loads((reports / "report.json").read_text(encoding="utf-8"))
    assert doc["summary"] == {"pass": 1, "fail": 1, "error": 0, "skip": 1, "not run": 0}
    assert doc["actors"][0]["actor"] == "producer"
    assert doc["actors"][0]["processes"][0]["process"] == "3.1"
    by_name = {s["name"]: s for s in doc["scenarios"]}
    ok, bad, skipped = by_name["Le producteur publie un KOS"], by_name["Le registre refuse"], by_name["Pas encore"]
    assert ok["verdict"] == "pass" and ok["requirements"] == ["req_PEI_3_1_FLUX1"]
    assert [(s["keyword"], s["status"]) for s in ok["steps"]] == [("Soit", "passed"), ("Quand", "passed"),
                                                                   ("Alors", "passed")]  # fmt: skip
    assert len(ok["steps"][1]["exchanges"]) == 1
    assert bad["verdict"] == "fail" and "the registry accepted ACC-2" in bad["message"]
    assert bad["steps"][2]["status"] == "failed"
    assert skipped["verdict"] == "skip" and skipped["message"] == "not in this run"
    assert skipped["steps"][0]["status"] == "not run"
    assert [e["scenario"] for e in doc["exchanges"]] == [ok["id"], bad["id"]]  # not the old ITI-18
    assert doc["exchanges"][0]["notes"] == [f"scenario={ok['id']}"]

    page = (reports / "report.html").read_text(encoding="utf-8")
    assert "&lt;lot&gt;ACC-2&lt;/lot&gt;" in page  # the raw message, escaped
    assert "FLUX1.FICHE.REGION.CARD" in page and "PEI Tableau 12" in page
    assert "<details" in page and "Le registre refuse" in page and "Actor producer" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page  # self-contained
    assert "&lt;old/&gt;" not in page


def test_no_scenario_no_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "xdsi.report.pytest_plugin", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()


def test_options(project: pytest.Pytester) -> None:
    out = project.path / "elsewhere"
    result = project.runpytest("-p", "xdsi.report.pytest_plugin", "-p", "no:cacheprovider", f"--xdsi-reports={out}")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    assert (out / "report.html").is_file() and (out / "journal.sqlite").is_file()
    # a journal given explicitly is kept; its exchanges of an earlier run are not attributed to this one
    kept = project.path / "kept.sqlite"
    Journal(kept).record(Exchange(transaction="ITI-18", request=b"<old/>", time="2000-01-01T00:00:00.000Z"))
    result = project.runpytest("-p", "xdsi.report.pytest_plugin", "-p", "no:cacheprovider", f"--xdsi-journal={kept}")
    assert len(Journal(kept)) == 3
    doc = json.loads((project.path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert [e["transaction"] for e in doc["exchanges"]] == ["ITI-41", "ITI-41"]
    off = project.path / "off"
    result = project.runpytest(
        "-p", "xdsi.report.pytest_plugin", "-p", "no:cacheprovider", "--no-xdsi-report", f"--xdsi-reports={off}"
    )  # fmt: skip
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    assert not (off / "report.html").exists() and not (off / "report.json").exists()


def test_attribution_by_note_and_window(tmp_path: Path) -> None:
    a = ScenarioResult("a", "A", start="2026-01-01T10:00:00.000Z", end="2026-01-01T10:00:05.000Z")
    a.steps = [StepResult("Quand", "x", 3, "passed", "2026-01-01T10:00:01.000Z", "2026-01-01T10:00:02.000Z")]
    b = ScenarioResult("b", "B", start="2026-01-01T10:00:06.000Z", end="2026-01-01T10:00:09.000Z")
    journal = Journal(tmp_path / "j.sqlite")
    for t, notes in [
        ("2026-01-01T10:00:01.500Z", []),  # a, step x
        ("2026-01-01T10:00:04.000Z", []),  # a, outside steps
        ("2026-01-01T10:00:05.500Z", []),  # between scenarios: orphan
        ("2026-01-01T10:00:00.500Z", ["scenario=b"]),  # explicitly b
        ("2026-01-01T11:00:00.000Z", []),  # after the run: ignored
    ]:
        journal.record(Exchange(transaction="ITI-18", time=t, notes=notes))
    exchanges = list(journal.exchanges())
    orphans = attribute([a, b], exchanges)
    assert a.steps[0].exchanges == [1] and a.exchanges == [2]
    assert b.exchanges == [4]
    assert [o.id for o in orphans] == [3]
    page = render_html([a, b], exchanges, orphans)
    assert "Messages of no scenario (1)" in page
    assert "NOT RUN" in page  # a and b were never given a verdict: shown as not run, not as passed
