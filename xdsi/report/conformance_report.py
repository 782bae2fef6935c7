"""The conformance report of a run of the scenarios: JSON and one self-contained HTML file (DESIGN §6).

Grouped by actor → process → scenario → step → messages. Each scenario has a verdict (``pass``, ``fail``,
``skip``, ``error``, or ``not run``: never shown as passed); each step its status and the exchanges of the
journal recorded while it ran; each exchange its findings (rule, severity, location, message, reference) and
its raw messages in ``<details>`` (rendered by :mod:`xdsi.report.journal_report`).

Exchanges are attributed to scenarios by time window (the scenario's start and end, UTC, the journal's own
clock format), or explicitly when an exchange carries a note ``scenario=<id>`` (:data:`SCENARIO_NOTE`).
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from xdsi import __version__
from xdsi.journal import Exchange
from xdsi.report.journal_report import _CSS as _JOURNAL_CSS
from xdsi.report.journal_report import _findings_table, describe_message, verdict

#: characters of one part of a raw message shown in the report (the full message: ``xdsi report JOURNAL``)
MAX_SHOWN = 16_000
#: the note prefix that ties an exchange to a scenario id regardless of time
SCENARIO_NOTE = "scenario="
VERDICTS = ("pass", "fail", "error", "skip", "not run")
SYMBOLS = {"pass": "✔", "fail": "✘", "error": "⚠", "skip": "↷", "not run": "·"}
NO_ACTOR = "(no actor tag)"
NO_PROCESS = "(no process tag)"


@dataclass
class StepResult:
    keyword: str
    name: str
    line: int | None = None
    #: passed, failed, undefined, not run
    status: str = "not run"
    start: str | None = None
    end: str | None = None
    error: str | None = None
    exchanges: list[int] = field(default_factory=list)


@dataclass
class ScenarioResult:
    id: str
    name: str
    feature: str = ""
    file: str = ""
    line: int | None = None
    tags: list[str] = field(default_factory=list)
    verdict: str = "not run"
    message: str | None = None
    start: str | None = None
    end: str | None = None
    duration_s: float = 0.0
    steps: list[StepResult] = field(default_factory=list)
    #: exchanges of the scenario recorded outside any step (fixtures, setup, teardown)
    exchanges: list[int] = field(default_factory=list)

    @property
    def actors(self) -> list[str]:
        return [t.removeprefix("actor_") for t in self.tags if t.startswith("actor_")] or [NO_ACTOR]

    @property
    def process(self) -> str:
        for tag in self.tags:
            if tag.startswith("process_"):
                return tag.removeprefix("process_").replace("_", ".").replace("img.da", "IMG-DA")
        return NO_PROCESS

    @property
    def requirements(self) -> list[str]:
        return [t for t in self.tags if t.startswith("req_")]

    def all_exchanges(self) -> list[int]:
        return [*self.exchanges, *(i for s in self.steps for i in s.exchanges)]

    def progress_line(self) -> str:
        process = "" if self.process == NO_PROCESS or self.feature.startswith(self.process) else f"{self.process} "
        feature = f"{self.feature} › " if self.feature else ""
        return f"{SYMBOLS.get(self.verdict, '?')} {process}{feature}{self.name} ({self.duration_s:.1f} s)"


def _within(time: str, start: str | None, end: str | None) -> bool:
    return start is not None and end is not None and start <= time <= end


def attribute(scenarios: list[ScenarioResult], exchanges: Iterable[Exchange]) -> list[Exchange]:
    """Attach each exchange to its scenario and step (in place); returns the exchanges of no scenario that
    happened during the run (between the first start and the last end)."""
    by_id = {s.id: s for s in scenarios}
    starts = [s.start for s in scenarios if s.start]
    ends = [s.end for s in scenarios if s.end]
    run_start, run_end = (min(starts), max(ends)) if starts and ends else (None, None)
    orphans: list[Exchange] = []
    for ex in exchanges:
        if ex.id is None:
            continue
        target: ScenarioResult | None = None
        for note in ex.notes:
            if note.startswith(SCENARIO_NOTE):
                target = by_id.get(note.removeprefix(SCENARIO_NOTE).strip())
        if target is None:
            target = next((s for s in scenarios if _within(ex.time, s.start, s.end)), None)
        if target is None:
            if _within(ex.time, run_start, run_end):
                orphans.append(ex)
            continue
        step = next((st for st in target.steps if _within(ex.time, st.start, st.end)), None)
        (step.exchanges if step is not None else target.exchanges).append(ex.id)
    return orphans


def summary(scenarios: Iterable[ScenarioResult]) -> dict[str, int]:
    counts = Counter(s.verdict for s in scenarios)
    return {v: counts.get(v, 0) for v in VERDICTS}


def group(scenarios: Iterable[ScenarioResult]) -> dict[str, dict[str, list[ScenarioResult]]]:
    """actor → process → scenarios (a scenario with several actor tags is listed under each)."""
    out: dict[str, dict[str, list[ScenarioResult]]] = {}
    for sc in scenarios:
        for actor in sc.actors:
            out.setdefault(actor, {}).setdefault(sc.process, []).append(sc)
    return {a: dict(sorted(p.items())) for a, p in sorted(out.items())}


def _exchange_index(exchanges: Iterable[Exchange]) -> dict[int, Exchange]:
    return {ex.id: ex for ex in exchanges if ex.id is not None}


# --------------------------------------------------------------------------------------------------- JSON


def render_json(
    scenarios: list[ScenarioResult],
    exchanges: Iterable[Exchange],
    orphans: Iterable[Exchange] = (),
    meta: dict[str, Any] | None = None,
) -> str:
    index = _exchange_index(exchanges)
    used = {i for s in scenarios for i in s.all_exchanges()} | {ex.id for ex in orphans if ex.id is not None}
    owner: dict[int, str] = {i: s.id for s in scenarios for i in s.all_exchanges()}

    def scenario_dict(sc: ScenarioResult) -> dict[str, Any]:
        return {
            "id": sc.id,
            "feature": sc.feature,
            "name": sc.name,
            "file": sc.file,
            "line": sc.line,
            "tags": sc.tags,
            "requirements": sc.requirements,
            "verdict": sc.verdict,
            "message": sc.message,
            "start": sc.start,
            "end": sc.end,
            "duration_s": round(sc.duration_s, 3),
            "exchanges": sc.exchanges,
            "steps": [st.__dict__ for st in sc.steps],
        }

    actors = [
        {
            "actor": actor,
            "processes": [
                {"process": process, "scenarios": [sc.id for sc in items]} for process, items in processes.items()
            ],
        }
        for actor, processes in group(scenarios).items()
    ]
    doc = {
        "tool": "xdsi",
        "version": __version__,
        **(meta or {}),
        "summary": summary(scenarios),
        "actors": actors,
        "scenarios": [scenario_dict(sc) for sc in scenarios],
        "exchanges": [
            index[i].as_dict() | {"verdict": verdict(index[i]), "scenario": owner.get(i)}
            for i in sorted(used)
            if i in index
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


# --------------------------------------------------------------------------------------------------- HTML

_CSS = (
    _JOURNAL_CSS
    + """
.v-pass{color:#176f2c;font-weight:600}.v-fail{color:#b00020;font-weight:600}.v-error{color:#8a1c7c;font-weight:600}
.v-skip,.v-not-run{color:#666;font-weight:600}
details.actor>summary{font-size:1.2em;font-weight:600;margin-top:.8em}
details.process{margin-left:1em}details.process>summary{font-weight:600}
details.scenario{margin:.4em 0 .4em 1.5em;border-left:3px solid #ccc;padding-left:.6em}
details.scenario.v-fail,details.scenario.v-error{border-left-color:#b00020}
details.scenario.v-pass{border-left-color:#176f2c}
ol.steps{margin:.3em 0}ol.steps li{margin:.2em 0}
.st-failed,.st-undefined{color:#b00020}.st-passed{color:#176f2c}.st-not-run{color:#888}
.ex{margin-left:1em}.tag{background:#eef;border-radius:3px;padding:0 .3em;margin-right:.3em;font-size:.8em}
"""
)


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _css_class(value: str) -> str:
    return value.replace(" ", "-")


def _raw_block(title: str, data: bytes, content_type: str | None) -> str:
    sections = []
    for part_title, text in describe_message(data, content_type):
        if len(text) > MAX_SHOWN:
            text = text[:MAX_SHOWN] + f"\n[… {len(text) - MAX_SHOWN} more characters: see `xdsi report` on the journal]"
        sections.append(f'<p class="muted">{_e(part_title)}</p><pre>{_e(text)}</pre>')
    return (
        f"<details><summary>{_e(title)} ({len(data)} bytes, Content-Type <code>{_e(content_type or '?')}</code>)"
        f"</summary>{''.join(sections)}</details>"
    )


def _exchange_html(ex: Exchange) -> str:
    v = verdict(ex)
    css = {"ok": "ok", "errors": "bad", "fault": "bad"}[v]
    counts = Counter(f.severity for f in ex.findings)
    parts = [
        f'<details class="ex" id="ex{_e(ex.id)}"><summary>#{_e(ex.id)} {_e(ex.time)} {_e(ex.actor)} '
        f"{_e(ex.direction)} <b>{_e(ex.transaction or '?')}</b> {_e(ex.request_flux or '?')} → "
        f"{_e(ex.response_flux or '?')} HTTP {_e(ex.http_status)} "
        f'<span class="{css}">{_e(v)}</span> ({counts["error"]} error(s), {counts["warning"]} warning(s))</summary>',
        f'<p class="muted">peer {_e(ex.peer)} · endpoint {_e(ex.endpoint)} · {_e(ex.duration_ms)} ms</p>',
    ]
    if ex.error:
        parts.append(f'<p class="bad">{_e(ex.error)}</p>')
    if ex.notes:
        parts.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in ex.notes) + "</ul>")
    parts.append(_findings_table(ex))
    parts.append(_raw_block("Request", ex.request, ex.request_content_type))
    parts.append(_raw_block("Response", ex.response, ex.response_content_type))
    parts.append("</details>")
    return "".join(parts)


def _exchanges_html(ids: list[int], index: dict[int, Exchange]) -> str:
    return "".join(_exchange_html(index[i]) for i in ids if i in index)


def _scenario_html(sc: ScenarioResult, index: dict[int, Exchange]) -> str:
    v = _css_class(sc.verdict)
    open_ = " open" if sc.verdict in ("fail", "error") else ""
    out = [
        f'<details class="scenario v-{v}"{open_}><summary><span class="v-{v}">{_e(sc.verdict.upper())}</span> '
        f"{_e(sc.feature)} › <b>{_e(sc.name)}</b> ({sc.duration_s:.1f} s, {len(sc.all_exchanges())} message(s))"
        "</summary>",
        f'<p class="muted"><code>{_e(sc.id)}</code> · {_e(sc.file)}:{_e(sc.line)} · {_e(sc.start)} → {_e(sc.end)}</p>',
        "<p>" + "".join(f'<span class="tag">@{_e(t)}</span>' for t in sc.tags) + "</p>",
    ]
    if sc.message:
        out.append(f'<pre class="bad">{_e(sc.message)}</pre>')
    if sc.exchanges:
        out.append('<p class="muted">Messages outside the steps (setup, teardown):</p>')
        out.append(_exchanges_html(sc.exchanges, index))
    if sc.steps:
        out.append('<ol class="steps">')
        for st in sc.steps:
            css = _css_class(st.status)
            out.append(
                f'<li><span class="st-{css}">[{_e(st.status)}]</span> <b>{_e(st.keyword)}</b> {_e(st.name)}'
                + (f'<pre class="bad">{_e(st.error)}</pre>' if st.error else "")
                + _exchanges_html(st.exchanges, index)
                + "</li>"
            )
        out.append("</ol>")
    out.append("</details>")
    return "".join(out)


def render_html(
    scenarios: list[ScenarioResult],
    exchanges: Iterable[Exchange],
    orphans: Iterable[Exchange] = (),
    title: str = "xdsi conformance report",
    meta: dict[str, Any] | None = None,
) -> str:
    index = _exchange_index(exchanges)
    orphans = list(orphans)
    counts = summary(scenarios)
    body = [
        f"<h1>{_e(title)}</h1>",
        "<p>"
        + ", ".join(f'<span class="v-{_css_class(v)}">{n} {_e(v)}</span>' for v, n in counts.items())
        + f" — {len(scenarios)} scenario(s). Generated by xdsi {_e(__version__)}"
        + "".join(f" · {_e(k)}: {_e(val)}" for k, val in (meta or {}).items())
        + ".</p>",
        "<table><tr><th>actor</th><th>process</th>" + "".join(f"<th>{_e(v)}</th>" for v in VERDICTS) + "</tr>",
    ]
    grouped = group(scenarios)
    for actor, processes in grouped.items():
        for process, items in processes.items():
            c = summary(items)
            body.append(
                f"<tr><td>{_e(actor)}</td><td>{_e(process)}</td>"
                + "".join(f'<td class="{"v-" + _css_class(v) if c[v] else ""}">{c[v]}</td>' for v in VERDICTS)
                + "</tr>"
            )
    body.append("</table>")
    for actor, processes in grouped.items():
        c = summary(s for items in processes.values() for s in items)
        body.append(
            f'<details class="actor" open><summary>Actor {_e(actor)} — {c["pass"]} pass, {c["fail"]} fail, '
            f"{c['error']} error, {c['skip']} skip, {c['not run']} not run</summary>"
        )
        for process, items in processes.items():
            pc = summary(items)
            bad = pc["fail"] + pc["error"]
            body.append(
                f'<details class="process"{" open" if bad else ""}><summary>Process {_e(process)} — '
                f"{len(items)} scenario(s), {pc['pass']} pass, {bad} fail/error</summary>"
            )
            body.extend(_scenario_html(sc, index) for sc in items)
            body.append("</details>")
        body.append("</details>")
    if orphans:
        body.append(f"<h2>Messages of no scenario ({len(orphans)})</h2>")
        body.extend(_exchange_html(ex) for ex in orphans)
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
