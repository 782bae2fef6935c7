"""pytest plugin: the conformance report of a run of the scenarios (DESIGN §6).

Loaded from the root conftest (``pytest_plugins = ["xdsi.report.pytest_plugin"]``). When the run executes at
least one pytest-bdd scenario, it

- prints one progress line per scenario (``✔ 3.1 Ajout d'un lot … › Le producteur publie (1.2 s)``);
- records each scenario's and each step's start and end (UTC, the journal's clock format), the step statuses
  and the scenario's verdict (pass, fail, error, skip; a scenario that did not run is never a pass);
- at the end of the session reads the journal (``reports/journal.sqlite`` by default: :func:`journal_path`),
  attributes its exchanges to scenarios and steps by time window, or by a note ``scenario=<id>`` that a step
  may add (the id is :func:`current_scenario`), and writes ``reports/report.json`` and one self-contained
  ``reports/report.html``.

JUnit XML and Cucumber JSON come from pytest and pytest-bdd (``--junitxml``, ``--cucumberjson``). Options:
``--xdsi-reports DIR`` (default ``reports`` under the rootdir), ``--xdsi-journal FILE``, ``--no-xdsi-report``.
Under pytest-xdist the workers hold the scenarios: the plugin then writes nothing (run the scenarios without
``-n`` for the conformance report).
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from xdsi.journal import Journal, now_utc
from xdsi.report.conformance_report import ScenarioResult, StepResult, attribute, render_html, render_json

#: the environment variable the scenario fixtures read for the journal's path (set here when unset)
JOURNAL_ENV = "XDSI_JOURNAL"
_KEY = pytest.StashKey["_Recorder"]()
_current: ScenarioResult | None = None


def current_scenario() -> str | None:
    """The id (pytest node id) of the scenario running now, None outside one. A step that records exchanges
    outside the time window may add the note ``f"scenario={current_scenario()}"`` to tie them to it."""
    return _current.id if _current is not None else None


def journal_path(config: pytest.Config) -> Path:
    """The journal the scenario fixtures share and this plugin reads: ``--xdsi-journal``, else
    ``$XDSI_JOURNAL``, else ``journal.sqlite`` in the reports folder."""
    value = config.getoption("xdsi_journal", None) or os.environ.get(JOURNAL_ENV)
    return Path(value) if value else reports_dir(config) / "journal.sqlite"


def reports_dir(config: pytest.Config) -> Path:
    value = config.getoption("xdsi_reports", None)
    return Path(value) if value else config.rootpath / "reports"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xdsi", "xdsi conformance report")
    group.addoption("--xdsi-reports", dest="xdsi_reports", default=None, help="folder of report.json/.html")
    group.addoption("--xdsi-journal", dest="xdsi_journal", default=None, help="journal of the scenarios' messages")
    group.addoption("--no-xdsi-report", dest="xdsi_no_report", action="store_true", help="write no report")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("xdsi_no_report", False) or hasattr(config, "workerinput"):
        return
    if config.pluginmanager.has_plugin("xdist") and getattr(config.option, "numprocesses", None):
        return  # the controller: the scenarios run in the workers
    recorder = _Recorder(config)
    config.stash[_KEY] = recorder
    config.pluginmanager.register(recorder, "xdsi-conformance-report")
    if not config.getoption("xdsi_journal", None) and not os.environ.get(JOURNAL_ENV):
        # the default journal: a fresh one per run
        path = journal_path(config)
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
    # the scenario fixtures find the journal through $XDSI_JOURNAL; restored at the end of the run
    recorder.previous_env = os.environ.get(JOURNAL_ENV)
    os.environ[JOURNAL_ENV] = str(journal_path(config))


def pytest_unconfigure(config: pytest.Config) -> None:
    recorder = config.stash.get(_KEY, None)
    if recorder is None:
        return
    if recorder.previous_env is None:
        os.environ.pop(JOURNAL_ENV, None)
    else:
        os.environ[JOURNAL_ENV] = recorder.previous_env


def _scenario_template(item: pytest.Item) -> Any:
    """The pytest-bdd ScenarioTemplate behind ``item``, or None when ``item`` is not a scenario."""
    try:
        from pytest_bdd.scenario import scenario_wrapper_template_registry
    except ImportError:
        return None
    try:
        return scenario_wrapper_template_registry.get(getattr(item, "obj", None))  # type: ignore[arg-type]
    except TypeError:
        return None


class _Recorder:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.scenarios: dict[str, ScenarioResult] = {}
        #: $XDSI_JOURNAL before the run (restored by pytest_unconfigure)
        self.previous_env: str | None = None

    # ---------------------------------------------------------------------------------------- per item

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
        global _current
        template = _scenario_template(item)
        if template is None:
            return (yield)
        feature = getattr(template, "feature", None)
        sc = ScenarioResult(
            id=item.nodeid,
            name=str(getattr(template, "name", item.name)),
            feature=str(getattr(feature, "name", "")),
            file=str(getattr(feature, "rel_filename", "")),
            line=getattr(template, "line_number", None),
            tags=sorted({m.name for m in item.iter_markers()} - {"usefixtures", "parametrize"}),
        )
        try:
            sc.steps = [StepResult(s.keyword, s.name, s.line_number) for s in template.steps]
        except Exception:  # a template whose steps cannot be listed still gets its verdict
            sc.steps = []
        self.scenarios[sc.id] = sc
        sc.start = now_utc()
        start = time.monotonic()
        _current = sc
        try:
            return (yield)
        finally:
            _current = None
            sc.end = now_utc()
            sc.duration_s = time.monotonic() - start
            self._progress(sc)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        sc = self.scenarios.get(report.nodeid)
        if sc is None:
            return
        wasxfail = hasattr(report, "wasxfail")
        if report.when == "setup":
            if report.skipped:
                sc.verdict, sc.message = "skip", _skip_reason(report)
            elif report.failed:
                sc.verdict, sc.message = "error", report.longreprtext
        elif report.when == "call":
            if report.skipped:
                sc.verdict = "skip"
                sc.message = f"xfail: {report.wasxfail}" if wasxfail else _skip_reason(report)
            elif report.failed:
                sc.verdict, sc.message = "fail", report.longreprtext
            elif report.passed:
                sc.verdict = "pass"
        elif report.when == "teardown" and report.failed and sc.verdict in ("pass", "not run", "skip"):
            sc.verdict, sc.message = "error", report.longreprtext

    def _progress(self, sc: ScenarioResult) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(sc.progress_line())

    # ---------------------------------------------------------------------------------------- steps

    def _step(self, request: pytest.FixtureRequest, step: Any) -> StepResult | None:
        sc = self.scenarios.get(request.node.nodeid)
        if sc is None:
            return None
        line = getattr(step, "line_number", None)
        for st in sc.steps:
            if st.line == line and st.name == step.name and st.status == "not run":
                return st
        st = StepResult(getattr(step, "keyword", ""), step.name, line)
        sc.steps.append(st)
        return st

    @pytest.hookimpl(optionalhook=True)
    def pytest_bdd_before_scenario(self, request: pytest.FixtureRequest, scenario: Any, **_: Any) -> None:
        sc = self.scenarios.get(request.node.nodeid)
        if sc is not None:  # the steps as rendered (an outline's <placeholders> replaced by the example's values)
            sc.steps = [StepResult(s.keyword, s.name, s.line_number) for s in scenario.steps]

    @pytest.hookimpl(optionalhook=True)
    def pytest_bdd_before_step(self, request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
        st = self._step(request, step)
        if st is not None:
            st.status, st.start = "running", now_utc()

    @pytest.hookimpl(optionalhook=True)
    def pytest_bdd_after_step(self, request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
        self._end_step(request, step, "passed")

    @pytest.hookimpl(optionalhook=True)
    def pytest_bdd_step_error(self, request: pytest.FixtureRequest, step: Any, exception: Exception, **_: Any) -> None:
        self._end_step(request, step, "failed", f"{type(exception).__name__}: {exception}")

    @pytest.hookimpl(optionalhook=True)
    def pytest_bdd_step_func_lookup_error(
        self, request: pytest.FixtureRequest, step: Any, exception: Exception, **_: Any
    ) -> None:
        self._end_step(request, step, "undefined", str(exception))

    def _end_step(self, request: pytest.FixtureRequest, step: Any, status: str, error: str | None = None) -> None:
        sc = self.scenarios.get(request.node.nodeid)
        if sc is None:
            return
        line = getattr(step, "line_number", None)
        st = next((s for s in sc.steps if s.line == line and s.name == step.name and s.status == "running"), None)
        if st is None:
            st = self._step(request, step)
            if st is None:
                return
            st.start = now_utc()
        st.status, st.end, st.error = status, now_utc(), error

    # ---------------------------------------------------------------------------------------- session end

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.scenarios:
            return
        scenarios = list(self.scenarios.values())
        for sc in scenarios:
            for st in sc.steps:
                if st.status == "running":  # interrupted
                    st.status, st.end = "failed", sc.end
        exchanges = []
        path = journal_path(self.config)
        note = ""
        if path.exists():
            try:
                exchanges = list(Journal(path).exchanges())
            except Exception as exc:  # a broken journal must not hide the verdicts
                note = f"journal {path} unreadable: {exc}"
        orphans = attribute(scenarios, exchanges)
        out = reports_dir(self.config)
        out.mkdir(parents=True, exist_ok=True)
        meta = {"journal": str(path), "exit status": int(session.exitstatus)}
        if note:
            meta["note"] = note
        (out / "report.json").write_text(render_json(scenarios, exchanges, orphans, meta), encoding="utf-8")
        (out / "report.html").write_text(render_html(scenarios, exchanges, orphans, meta=meta), encoding="utf-8")
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("-", f"conformance report: {out / 'report.html'} ({len(scenarios)} scenario(s))")


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")
