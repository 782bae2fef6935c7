"""Value sets (JDV) and code systems (TRE) used by the validation rules.

The files in ``valuesets/`` are generated from the official ANS files by
:mod:`xdsi.valuesets_import`; this module only reads them::

    from xdsi.validation import valuesets

    modality = valuesets.load("1.2.250.1.213.1.1.5.618")        # by OID ...
    modality = valuesets.load("jdv-modalite-acquisition-cisis")  # ... or by name
    modality.contains("CT", "1.2.840.10008.2.16.4")              # True
    modality.display("CT")                                       # 'Tomodensitométrie'

Lookups are exact (no case folding, no trimming of codes). When ``system`` is given it must match
the concept's system exactly; without it, a code matches in any of the value set's systems.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from xdsi import ROOT

VALUESETS_DIR = ROOT / "valuesets"
_OID_PREFIX = "urn:oid:"


@dataclass(frozen=True)
class Concept:
    code: str
    system: str
    display: str | None = None
    #: ISO timestamps (``YYYY-MM-DDThh:mm:ss``) from the source, when it gives them.
    valid_from: str | None = None
    valid_to: str | None = None


@dataclass(frozen=True)
class ValueSet:
    id: str
    name: str
    version: str | None
    source: Mapping[str, Any] = field(compare=False)
    concepts: tuple[Concept, ...]
    title: str | None = None
    #: For another snapshot of a value set (e.g. an SMT ValueSet re-publishing an SVS one): its name.
    variant_of: str | None = None
    notes: tuple[str, ...] = ()
    _pairs: Mapping[tuple[str, str], Concept] = field(init=False, repr=False, compare=False)
    _codes: Mapping[str, tuple[Concept, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pairs: dict[tuple[str, str], Concept] = {}
        codes: dict[str, list[Concept]] = {}
        for concept in self.concepts:
            pairs[(concept.code, concept.system)] = concept
            codes.setdefault(concept.code, []).append(concept)
        object.__setattr__(self, "_pairs", MappingProxyType(pairs))
        object.__setattr__(self, "_codes", MappingProxyType({k: tuple(v) for k, v in codes.items()}))

    @property
    def systems(self) -> frozenset[str]:
        """The code systems (OIDs, or the literal ``URN`` / ``ASTM`` NOS pseudo-systems) of the concepts."""
        return frozenset(system for _, system in self._pairs)

    @property
    def transcribed(self) -> bool:
        """True for the few value sets written by hand (no official file in the corpus)."""
        return self.source.get("kind") == "transcribed"

    def get(self, code: str, system: str | None = None) -> Concept | None:
        """The concept for ``code`` (in ``system`` when given), or None."""
        if system is not None:
            return self._pairs.get((code, system))
        matches = self._codes.get(code)
        return matches[0] if matches else None

    def contains(self, code: str, system: str | None = None) -> bool:
        """Whether ``code`` is in the value set (in exactly ``system`` when given)."""
        if system is not None:
            return (code, system) in self._pairs
        return code in self._codes

    def display(self, code: str, system: str | None = None) -> str | None:
        """The display name of ``code`` in the value set (None when absent or not given by the source)."""
        concept = self.get(code, system)
        return concept.display if concept else None

    def systems_of(self, code: str) -> frozenset[str]:
        """The systems in which ``code`` appears (empty when absent)."""
        return frozenset(c.system for c in self._codes.get(code, ()))

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.contains(code)

    def __iter__(self) -> Iterator[Concept]:
        return iter(self.concepts)

    def __len__(self) -> int:
        return len(self.concepts)


def _from_json(data: Mapping[str, Any]) -> ValueSet:
    return ValueSet(
        id=data["id"],
        name=data["name"],
        version=data.get("version"),
        source=MappingProxyType(dict(data["source"])),
        concepts=tuple(
            Concept(c["code"], c["system"], c.get("display"), c.get("valid_from"), c.get("valid_to"))
            for c in data["concepts"]
        ),
        title=data.get("title"),
        variant_of=data.get("variant_of"),
        notes=tuple(data.get("notes") or ()),
    )


@cache
def _read(path: Path) -> ValueSet:
    return _from_json(json.loads(path.read_text(encoding="utf-8")))


@cache
def _oid_index(directory: Path) -> Mapping[str, Path]:
    index: dict[str, Path] = {}
    for path in sorted(directory.glob("*.json")):
        vs = _read(path)
        if vs.variant_of is None:
            index.setdefault(vs.id, path)
    return MappingProxyType(index)


def _directory(directory: Path | None) -> Path:
    return (directory or VALUESETS_DIR).resolve()


@cache
def load(key: str, directory: Path | None = None) -> ValueSet:
    """The value set named ``key`` or whose OID is ``key`` (``urn:oid:`` prefix allowed). Cached.

    An OID shared by a value set and its variants (``variant_of``) resolves to the value set itself.
    Raises KeyError for an unknown key.
    """
    folder = _directory(directory)
    if key and "/" not in key and "\\" not in key and not key.startswith("."):
        by_name = folder / f"{key}.json"
        if by_name.is_file():
            return _read(by_name)
    oid = key[len(_OID_PREFIX) :] if key.startswith(_OID_PREFIX) else key
    path = _oid_index(folder).get(oid)
    if path is None:
        raise KeyError(
            f"unknown value set {key!r}: no value set with that name or OID in {folder} (see INDEX.md there)"
        )
    return _read(path)


def all_valuesets(directory: Path | None = None) -> list[ValueSet]:
    """Every value set of the folder, sorted by name."""
    folder = _directory(directory)
    return sorted((_read(p) for p in folder.glob("*.json")), key=lambda vs: vs.name)


def clear_cache() -> None:
    """Forget the loaded files (after regenerating ``valuesets/`` in the same process)."""
    load.cache_clear()
    _read.cache_clear()
    _oid_index.cache_clear()
