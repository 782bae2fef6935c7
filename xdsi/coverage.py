"""Requirement coverage: which scenario verifies which requirement of the volet (``xdsi coverage``).

The requirements live in ``requirements/requirements.csv`` (columns ``id, section, text, actor, flux, level,
not_tested_reason``), each traced to a section or table of the volet. A scenario declares the requirements it
verifies with ``@req_<id>`` tags, the id with ``-`` and ``.`` replaced by ``_`` (:func:`tag_for`), because
pytest markers cannot reliably hold those characters. The raw form (``@req_PEI-3.1-FLUX1``) is accepted too,
with a note.

:func:`check_coverage` reads every ``.feature`` file under a folder (French or English Gherkin keywords; tags
on Feature, Rule, Scenario, Scenario Outline and Examples lines; Feature and Rule tags inherited by their
scenarios) and reports:

- a **gap**: a requirement with no not-tested reason that no scenario verifies;
- an **unknown tag**: a ``@req_…`` tag that names no requirement (a typo, or a requirement dropped).

    report = check_coverage(Path("features"), Path("requirements/requirements.csv"))
    print(report.render_text())
    sys.exit(0 if report.ok else 1)
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: the columns of requirements.csv, in order
COLUMNS = ("id", "section", "text", "actor", "flux", "level", "not_tested_reason")
LEVELS = ("SHALL", "SHOULD")
ACTORS = ("", "producer", "registry", "consumer", "imaging_source")
TAG_PREFIX = "req_"

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

# Gherkin keywords (English and French, as in gherkin-languages.json), each followed by ':'
_FEATURE = ("Feature", "Business Need", "Ability", "Fonctionnalité")
_RULE = ("Rule", "Règle")
_BACKGROUND = ("Background", "Contexte")
_SCENARIO = ("Scenario", "Example", "Scénario", "Exemple")
_OUTLINE = ("Scenario Outline", "Scenario Template", "Plan du scénario", "Plan du Scénario")
_EXAMPLES = ("Examples", "Scenarios", "Exemples")


class CoverageInputError(Exception):
    """The requirements table or a feature file cannot be read (``xdsi coverage`` exits 2)."""


def tag_for(req_id: str) -> str:
    """The tag (without ``@``) a scenario carries to verify ``req_id``: ``PEI-3.1-FLUX1`` → ``req_PEI_3_1_FLUX1``."""
    return TAG_PREFIX + req_id.replace("-", "_").replace(".", "_")


@dataclass(frozen=True)
class Requirement:
    id: str
    section: str
    text: str
    actor: str
    flux: str
    level: str
    not_tested_reason: str

    @property
    def tag(self) -> str:
        return tag_for(self.id)


@dataclass(frozen=True)
class Scenario:
    """A scenario (or scenario outline) of a feature file, with every tag that applies to it."""

    feature: str
    name: str
    path: str
    line: int
    tags: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class CoverageReport:
    requirements: list[Requirement]
    scenarios: list[Scenario]
    #: requirement id → the scenarios that verify it
    covered: dict[str, list[Scenario]] = field(default_factory=dict)
    #: requirements without a not-tested reason that no scenario verifies
    gaps: list[Requirement] = field(default_factory=list)
    #: (tag, file:line) of @req_ tags that name no requirement
    unknown_tags: list[tuple[str, str]] = field(default_factory=list)
    #: (tag, file:line) of tags naming a requirement by its raw id (``@req_PEI-3.1-FLUX1``): accepted, but the
    #: canonical form (:func:`tag_for`, ``@req_PEI_3_1_FLUX1``) is the one ``-m`` expressions can always select
    raw_form_tags: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.gaps and not self.unknown_tags

    def render_text(self) -> str:
        lines: list[str] = []
        for req in self.requirements:
            scenarios = self.covered.get(req.id, [])
            if scenarios:
                status = f"{len(scenarios)} scenario(s)"
            elif req.not_tested_reason:
                status = f"not tested: {req.not_tested_reason}"
            else:
                status = "GAP: no scenario"
            lines.append(f"{req.id} [{req.level}, {req.actor or '-'}] ({req.section}): {status}")
            for sc in scenarios:
                lines.append(f"    {sc.where}  {sc.feature} / {sc.name}")
        if self.raw_form_tags:
            tag, where = self.raw_form_tags[0]
            lines.append(
                f"note: {len(self.raw_form_tags)} tag(s) name a requirement by its raw id (first: @{tag} at {where}); "
                f"accepted, the canonical form is @{tag_for(tag.removeprefix(TAG_PREFIX))}"
            )
        for tag, where in self.unknown_tags:
            lines.append(f"UNKNOWN TAG @{tag} at {where}: no requirement has this tag")
        tested = sum(1 for r in self.requirements if self.covered.get(r.id))
        not_tested = sum(1 for r in self.requirements if not self.covered.get(r.id) and r.not_tested_reason)
        lines.append(
            f"{len(self.requirements)} requirement(s): {tested} verified by a scenario, {not_tested} not tested "
            f"(with a reason), {len(self.gaps)} gap(s); {len(self.scenarios)} scenario(s), "
            f"{len(self.unknown_tags)} unknown tag(s): {'OK' if self.ok else 'FAILED'}"
        )
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- requirements


def load_requirements(path: Path) -> list[Requirement]:
    """Read and check the requirements table; :class:`CoverageInputError` with a one-line reason when wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CoverageInputError(f"cannot read the requirements table {path}: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise CoverageInputError(f"{path}: the header must be {','.join(COLUMNS)}, found {reader.fieldnames}")
    out: list[Requirement] = []
    seen: dict[str, int] = {}
    tags: dict[str, str] = {}
    for n, row in enumerate(reader, start=2):
        if None in row or any(v is None for v in row.values()):
            raise CoverageInputError(f"{path}:{n}: expected {len(COLUMNS)} columns")
        values = {k: (row[k] or "").strip() for k in COLUMNS}
        req = Requirement(**values)
        if not _ID.match(req.id):
            raise CoverageInputError(f"{path}:{n}: bad requirement id {req.id!r}")
        if req.id in seen:
            raise CoverageInputError(f"{path}:{n}: requirement {req.id} already defined on line {seen[req.id]}")
        if req.tag in tags:
            raise CoverageInputError(f"{path}:{n}: {req.id} and {tags[req.tag]} have the same tag @{req.tag}")
        if req.level not in LEVELS:
            raise CoverageInputError(f"{path}:{n}: level of {req.id} must be SHALL or SHOULD, found {req.level!r}")
        if req.actor not in ACTORS:
            raise CoverageInputError(
                f"{path}:{n}: actor of {req.id} must be one of {', '.join(a for a in ACTORS if a)} or empty, "
                f"found {req.actor!r}"
            )
        if not req.section or not req.text:
            raise CoverageInputError(f"{path}:{n}: {req.id} needs a section and a text")
        seen[req.id] = n
        tags[req.tag] = req.id
        out.append(req)
    return out


# --------------------------------------------------------------------------------------------- features


def _keyword(line: str, keywords: tuple[str, ...]) -> str | None:
    """The title after ``keyword:`` when ``line`` starts with one of ``keywords`` (longest first)."""
    for kw in sorted(keywords, key=len, reverse=True):
        if line.startswith(kw):
            rest = line[len(kw) :].lstrip()
            if rest.startswith(":"):
                return rest[1:].strip()
    return None


def _tags_of(line: str) -> list[str]:
    out: list[str] = []
    for word in line.split():
        if word.startswith("#"):
            break
        if word.startswith("@") and len(word) > 1:
            out.append(word[1:])
    return out


def parse_feature(path: Path, root: Path | None = None) -> list[Scenario]:
    """The scenarios of one feature file with their effective tags (Feature + Rule + own + Examples)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CoverageInputError(f"cannot read the feature file {path}: {exc}") from exc
    shown = str(path.relative_to(root)) if root is not None and path.is_relative_to(root) else str(path)
    feature_name = ""
    feature_tags: list[str] = []
    rule_tags: list[str] = []
    pending: list[str] = []
    in_docstring: str | None = None
    # scenario under construction: (name, line, tags)
    current: tuple[str, int, list[str]] | None = None
    scenarios: list[Scenario] = []

    def close() -> None:
        nonlocal current
        if current is not None:
            name, line, tags = current
            unique = tuple(dict.fromkeys([*feature_tags, *rule_tags, *tags]))
            scenarios.append(Scenario(feature_name, name, shown, line, unique))
            current = None

    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if in_docstring is not None:
            if line.startswith(in_docstring):
                in_docstring = None
            continue
        if line.startswith(('"""', "```")):
            in_docstring = line[:3]
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            pending.extend(_tags_of(line))
            continue
        if (title := _keyword(line, _FEATURE)) is not None:
            close()
            feature_name, feature_tags, pending = title, pending, []
        elif (title := _keyword(line, _RULE)) is not None:
            close()
            rule_tags, pending = pending, []
        elif _keyword(line, _BACKGROUND) is not None:
            close()
            pending = []
        elif (title := _keyword(line, _OUTLINE)) is not None or (title := _keyword(line, _SCENARIO)) is not None:
            close()
            current, pending = (title, n, pending), []
        elif _keyword(line, _EXAMPLES) is not None:
            if current is not None:
                current[2].extend(pending)
            pending = []
    close()
    return scenarios


def parse_features(features_dir: Path) -> list[Scenario]:
    """Every scenario of every ``.feature`` file under ``features_dir`` (sorted by path)."""
    root = Path(features_dir)
    if not root.is_dir():
        raise CoverageInputError(f"no features folder {root}")
    out: list[Scenario] = []
    for path in sorted(root.rglob("*.feature")):
        out.extend(parse_feature(path, root))
    return out


# --------------------------------------------------------------------------------------------- check


def check_coverage(features_dir: Path, requirements_csv: Path) -> CoverageReport:
    """Match the scenarios' ``@req_`` tags against the requirements table.

    :class:`CoverageInputError` when the table or a feature file cannot be read."""
    requirements = load_requirements(Path(requirements_csv))
    scenarios = parse_features(Path(features_dir))
    by_tag = {r.tag: r for r in requirements}
    by_raw = {TAG_PREFIX + r.id: r for r in requirements}
    report = CoverageReport(requirements, scenarios)
    unknown: dict[tuple[str, str], None] = {}
    raw: dict[tuple[str, str], None] = {}
    for sc in scenarios:
        for tag in sc.tags:
            if not tag.startswith(TAG_PREFIX):
                continue
            req = by_tag.get(tag)
            if req is None and (req := by_raw.get(tag)) is not None and req.tag != tag:
                raw[(tag, sc.where)] = None
            if req is None:
                unknown[(tag, sc.where)] = None
            elif sc not in report.covered.setdefault(req.id, []):
                report.covered[req.id].append(sc)
    report.unknown_tags = list(unknown)
    report.raw_form_tags = list(raw)
    report.gaps = [r for r in requirements if not report.covered.get(r.id) and not r.not_tested_reason]
    return report


def main(features_dir: Path, requirements_csv: Path) -> int:
    """The ``xdsi coverage`` command: prints the report; 0 covered, 1 a gap or unknown tag, 2 unreadable input."""
    try:
        report = check_coverage(features_dir, requirements_csv)
    except CoverageInputError as exc:
        print(f"xdsi coverage: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(report.render_text())
    return 0 if report.ok else 1
