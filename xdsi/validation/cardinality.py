"""Cardinality tables: YAML transcriptions of the volet's class tables, applied to the decoded model.

Each file in ``schemas/cardinality`` describes one class in some fluxes; each checkable row becomes a
rule whose id is the row id. The engine counts the row's ``field`` on every object of the table's model
in the message and reports a count outside ``min..max``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from xdsi import ROOT
from xdsi.model.metadata import (
    HAS_MEMBER,
    UPDATE_AVAILABILITY_STATUS,
    Association,
    RegistryObjects,
)
from xdsi.validation.findings import PROFILES, Finding, finding, register

TABLES_DIR = ROOT / "schemas" / "cardinality"


@dataclass(frozen=True)
class Row:
    id: str
    model: str
    attribute: str
    xds: str
    card: str
    field: str
    minimum: int
    maximum: int | None
    kinds: tuple[str, ...]
    profiles: tuple[str, ...]
    reference: str
    scope: str = "all"
    when: str | None = None
    count_present: bool = False
    table_file: str = ""


@dataclass(frozen=True)
class Unchecked:
    """A transcribed row that no rule checks here, and why."""

    id: str
    attribute: str
    card: str
    reason: str
    table_file: str


@dataclass
class Record:
    """A located object with counts, for classes the model has no dedicated type for."""

    location: str
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, attr: str) -> int:
        return self.counts.get(attr, 0)


def parse_card(card: str) -> tuple[int, int | None]:
    low, _, high = card.partition("..")
    return int(low), None if high == "*" else int(high)


#: libyaml's safe loader when PyYAML was built with it (ten times faster at start-up), else the pure-Python one
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def load_tables(directory: Path = TABLES_DIR) -> tuple[tuple[Row, ...], tuple[Unchecked, ...]]:
    rows: list[Row] = []
    unchecked: list[Unchecked] = []
    for path in sorted(directory.glob("*.yaml")):
        table = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        for raw in table["rows"]:
            if raw.get("check") == "none":
                unchecked.append(Unchecked(raw["id"], raw["attribute"], raw["card"], raw["reason"], path.name))
                continue
            low, high = parse_card(raw["card"])
            reference = raw.get("reference", table["reference"])
            rows.append(
                Row(
                    id=raw["id"],
                    model=table["model"],
                    attribute=raw["attribute"],
                    xds=raw["xds"],
                    card=raw["card"],
                    field=raw["field"],
                    minimum=low,
                    maximum=high,
                    kinds=tuple(raw.get("kinds", table["kinds"])),
                    profiles=tuple(raw.get("profiles", table.get("profiles", PROFILES))),
                    reference=f"{reference} {raw['attribute']} [{raw['card']}]",
                    scope=raw.get("scope", "all"),
                    when=raw.get("when"),
                    count_present=raw.get("count") == "present",
                    table_file=path.name,
                )
            )
    return tuple(rows), tuple(unchecked)


def _register_all() -> None:
    for row in load_tables()[0]:
        what = f"{row.attribute} ({row.xds}) must occur [{row.card}]"
        if row.scope == "kos":
            what += " in the Fiche of a KOS"
        register(row.id, "error", row.kinds, row.reference, what, "cardinality", row.profiles)


_register_all()


@dataclass
class Subjects:
    """The objects of one message, by the model names the tables use."""

    objects: RegistryObjects = field(default_factory=RegistryObjects)
    documents: list[Any] = field(default_factory=list)
    records: dict[str, list[Record]] = field(default_factory=dict)

    def of(self, model: str) -> list[Any]:
        match model:
            case "DocumentEntry":
                return list(self.objects.entries)
            case "SubmissionSet":
                return list(self.objects.submission_sets)
            case "Folder":
                return list(self.objects.folders)
            case "Association":
                return list(self.objects.associations)
            case "Document":
                return list(self.documents)
            case _:
                return list(self.records.get(model, []))


def _applies(row: Row, obj: Any, subjects: Subjects) -> bool:
    if row.scope == "kos" and not getattr(obj, "is_kos", False):
        return False
    if row.when is None:
        return True
    assert isinstance(obj, Association)
    ss_ids = {ss.entry_uuid for ss in subjects.objects.submission_sets}
    members = {de.entry_uuid: de for de in subjects.objects.entries}
    members_f = {fd.entry_uuid for fd in subjects.objects.folders}
    match row.when:
        case "submission_set_member":
            return (
                obj.type == HAS_MEMBER and obj.source in ss_ids and (obj.target in members or obj.target in members_f)
            )
        case "status_update":
            return obj.type == UPDATE_AVAILABILITY_STATUS
        case "new_version_member":
            de = members.get(obj.target)
            return (
                obj.type == HAS_MEMBER
                and obj.source in ss_ids
                and de is not None
                and de.logical_id is not None
                and de.logical_id != de.entry_uuid
            )
    raise ValueError(f"{row.id}: unknown condition {row.when!r}")


def _count(row: Row, obj: Any) -> int:
    n = obj.count(row.field)
    return min(n, 1) if row.count_present else n


def check(subjects: Subjects, kind: str, profile: str = "cisis") -> list[Finding]:
    out: list[Finding] = []
    for row in rows_for(kind, profile):
        for obj in subjects.of(row.model):
            if not _applies(row, obj, subjects):
                continue
            n = _count(row, obj)
            if n < row.minimum or (row.maximum is not None and n > row.maximum):
                out.append(
                    finding(
                        row.id,
                        obj.location or "/",
                        f"{row.attribute} ({row.xds}) occurs {n} time(s); expected [{row.card}]",
                        profile,
                    )
                )
    return out


def rows_for(kind: str, profile: str) -> Iterator[Row]:
    return (r for r in load_tables()[0] if kind in r.kinds and profile in r.profiles)


def all_rows() -> Iterable[Row]:
    return load_tables()[0]
