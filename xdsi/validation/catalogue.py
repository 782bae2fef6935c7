"""Loads every rule layer so the catalogue is complete (``xdsi rules``)."""

from __future__ import annotations

from xdsi.validation.findings import CATALOGUE, Rule


def load_all() -> None:
    # Importing a layer registers its rules.
    from xdsi.validation import (  # noqa: F401
        cardinality,
        cda,
        codes,
        kos,
        schematron,
        storedquery,
        technical,
        transport,
        xsd,
    )


def all_rules() -> list[Rule]:
    load_all()
    return sorted(CATALOGUE.values(), key=lambda r: (r.layer, r.id))
