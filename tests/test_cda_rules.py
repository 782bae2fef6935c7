"""Every rule of the CDA models fires on a minimally broken document and stays silent on the valid one.

The broken documents come from the documented mutation table ``features/cda/mutations.yaml`` (shared with the
scenarios of ``features/cda``), applied in memory to our own valid documents (``tests/fixtures/cda``, always
available) and to the official examples (``../shared/corpus/cda``; those cases are skipped when it is absent).
"""

from __future__ import annotations

import pytest

from tests.fixtures.cda import (
    MutationError,
    apply_mutation,
    base_document,
    build_cr,
    build_da,
    document_names,
    mutations,
)
from tests.rulecheck import assert_fires, assert_silent
from xdsi.validation import cda_rules, cda_xsd, schematron
from xdsi.validation.cda import CDA_KINDS, detect_cda_kind, validate_cda
from xdsi.validation.findings import CATALOGUE

CASES = [(m.name, base) for m in mutations().values() for base in m.bases]

#: Warnings the official examples give, by example (what they show is documented in docs/cda-decisions.md).
KNOWN_ON_OFFICIAL = {"CDA.TEXTE.REFERENCE", "CDA.TEXTE.REFERENCE.FRAGMENT", "CDA.ENCODAGE.BOM"}


def cda_rule_ids(kind: str | None = None) -> list[str]:
    kinds = {kind} if kind else set(CDA_KINDS)
    return sorted(r.id for r in CATALOGUE.values() if kinds & set(r.kinds))


def _document(base: str) -> bytes:
    data = base_document(base)
    if data is None:
        pytest.skip(f"official example '{base}' absent (../shared/corpus)")
    return data


@pytest.mark.parametrize(("name", "base"), CASES, ids=[f"{n}@{b}" for n, b in CASES])
def test_rule_fires_on_mutation(name: str, base: str) -> None:
    mutation = mutations()[name]
    kind, findings, error = validate_cda(apply_mutation(mutation, _document(base)))
    assert error is None, error
    assert kind in CDA_KINDS
    for rule_id in mutation.rules:
        hit = assert_fires(findings, rule_id)
        assert hit.location.startswith("/hl7:ClinicalDocument"), hit.location
        assert hit.reference == CATALOGUE[rule_id].reference or hit.reference.endswith(CATALOGUE[rule_id].reference)
    # minimally broken: no other error than the ones the mutation names
    others = sorted({f.rule for f in findings if f.severity == "error"} - set(mutation.rules))
    assert not others, [(f.rule, f.location, f.message) for f in findings if f.rule in others]


@pytest.mark.parametrize("base", document_names())
def test_rules_silent_on_valid_document(base: str) -> None:
    data = _document(base)
    kind, findings, error = validate_cda(data)
    assert error is None and kind is not None
    assert_silent(findings)  # no error at all
    official = base not in ("da", "cr")
    for rule_id in cda_rule_ids(kind):
        if official and rule_id in KNOWN_ON_OFFICIAL:
            continue
        assert_silent(findings, rule_id)


@pytest.mark.parametrize("kind", CDA_KINDS)
def test_every_rule_has_a_mutation(kind: str) -> None:
    covered = {rule for m in mutations().values() for rule in m.rules}
    tested_elsewhere = {"XSD.UNKNOWN_ROOT", "XSD.SCHEMA_ERROR"}  # tests/test_cda_xsd.py
    assert set(cda_rule_ids(kind)) - covered - tested_elsewhere == set()


@pytest.mark.parametrize("kind", CDA_KINDS)
def test_every_rule_fires_without_the_corpus(kind: str) -> None:
    """Our own documents are enough to make every rule fire (the official examples may be absent)."""
    covered = {rule for m in mutations().values() if {"da", "cr"} & set(m.bases) for rule in m.rules}
    assert set(cda_rule_ids(kind)) - covered - {"XSD.UNKNOWN_ROOT", "XSD.SCHEMA_ERROR"} == set()


def test_mutation_table_is_consistent() -> None:
    names = document_names()
    for mutation in mutations().values():
        assert mutation.bases and set(mutation.bases) <= set(names), mutation.name
        assert mutation.title and mutation.family, mutation.name
        for rule_id in mutation.rules:
            assert rule_id in CATALOGUE, f"{mutation.name}: unknown rule {rule_id}"
    for base in ("da", "cr"):  # our own documents: every mutation aimed at them applies
        for mutation in mutations().values():
            if base in mutation.bases:
                apply_mutation(mutation, base_document(base) or b"")
    with pytest.raises(MutationError):
        apply_mutation("injection-hors-tep", build_cr())


def test_da_rules_cite_the_data_table() -> None:
    for rule_id in cda_rule_ids("img-da-img"):
        if rule_id.startswith("IMGDA."):
            assert CATALOGUE[rule_id].reference.startswith("IMG-DA-IMG §3.4."), rule_id
            assert CATALOGUE[rule_id].kinds == ("img-da-img",), rule_id


def test_rules_are_declared_by_their_layer() -> None:
    for rule_id in cda_rule_ids():
        rule = CATALOGUE[rule_id]
        if rule_id.startswith(("IMGDA.", "IMGCR.")) and rule_id in schematron.RULES:
            assert rule.layer == "schematron"
        elif rule_id.startswith("XSD."):
            assert rule.layer == "xsd"
        else:
            assert rule.layer == "cda", rule_id
    python_rules = {r.id for r in cda_rules.VALUESET_RULES} | set(cda_rules.OTHER_RULES)
    assert not python_rules & set(schematron.RULES)
    assert set(cda_xsd.CDA_XSD_RULES) <= set(cda_rule_ids())


def test_interventional_imaging_codes_of_both_value_set_versions() -> None:
    """JDV 660: the SVS file has NCIt C63334, the SMT version SNOMED 258174001; both are accepted."""
    for code, system in (("C63334", "2.16.840.1.113883.3.26.1.1"), ("258174001", "2.16.840.1.113883.6.96")):
        data = build_da(modality=code, modality_system=system)
        _, findings, _ = validate_cda(data)
        assert_silent(findings, "IMGDA.ACTE.MODALITE.VS")
        assert_silent(findings, "IMGDA.ACTE.COMMENTAIRE.REQUIS")  # the fixture's first act has a comment


def test_scintigraphy_functions_are_checked_against_jdv_669() -> None:
    findings = validate_cda(build_da(modality="NM", function="MED-1143"))[1]  # Osseuse
    assert_silent(findings, "IMGDA.ACTE.FONCTION.VS")
    assert_fires(findings, "IMGDA.ACTE.INJECTION.HORS_TEP")  # the fixture's act keeps its TEP injection answer
    findings = validate_cda(build_da(modality="NM", function="MED-1133"))[1]  # a TEP function on a scintigraphy
    assert_fires(findings, "IMGDA.ACTE.FONCTION.VS", "hl7:value")


def test_two_topographic_qualifiers_are_allowed() -> None:
    """[0..*]: unlike the official schematron (count = 1), two precisions on one location are accepted."""
    data = apply_mutation("lateralite-contradictoire", build_da())
    findings = validate_cda(data)[1]
    assert_silent(findings, "IMGDA.ACTE.TOPOGRAPHIE.CD")
    assert_fires(findings, "IMGDA.ACTE.LATERALITE")


def test_kind_of_our_documents() -> None:
    from lxml import etree

    assert detect_cda_kind(etree.fromstring(build_da())) == "img-da-img"
    assert detect_cda_kind(etree.fromstring(build_cr())) == "img-cr-img"
