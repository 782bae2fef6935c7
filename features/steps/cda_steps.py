"""Steps for the CDA documents of the imaging models (IMG-DA-IMG requests, IMG-CR-IMG reports).

The documents are our own valid documents (``da``, ``cr``: tests/fixtures/cda) or the official examples (the
names of ``features/cda/mutations.yaml``: ``tep``, ``mammo``, ``cr3`` ...; a scenario that needs one is skipped when
../shared/corpus is absent), broken by the documented mutations of that table. They are validated by
:func:`xdsi.validation.cda.validate_cda`, the entry point of ``xdsi validate`` for CDA documents.

    Étant donné la demande d'actes d'imagerie « da »
    Quand on lui applique la mutation « modalite-hors-jdv »
    Et le harnais la valide
    Alors la règle « IMGDA.ACTE.MODALITE.VS » est signalée
    Et aucune autre erreur n'est signalée
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from lxml import etree
from pytest_bdd import given, parsers, then, when

from tests.fixtures.cda import apply_mutation, base_document, build_da
from xdsi.validation.cda import ReportKeys, report_keys, validate_cda
from xdsi.validation.findings import Finding


@dataclass
class CdaContext:
    """What a CDA scenario carries from step to step."""

    data: bytes = b""
    mutations: list[str] = field(default_factory=list)
    kind: str | None = None
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    validated: bool = False

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def show(self) -> list[tuple[str, str, str]]:
        return [(f.rule, f.severity, f.location) for f in self.findings]


#: Inputs of the bad-input scenarios, by the name a scenario gives them.
BAD_INPUTS: dict[str, bytes] = {
    "vide": b"",
    "un PDF": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    "du texte": b"Demande d'examen : scanner thoracique",
    "un XML qui n'est pas un CDA": b'<?xml version="1.0"?><Demande xmlns="urn:exemple"><acte/></Demande>',
    "un CDA d'un autre modèle": build_da()
    .replace(b'root="1.2.250.1.213.1.1.1.47"', b'root="1.2.250.1.213.1.1.1.4"')
    .replace(b'"55115-0"', b'"11488-4"'),
    "un CDA tronqué": build_da()[: build_da().index(b"</recordTarget>")],
    "un CDA mal encodé": build_da().replace("prémédication".encode(), "prémédication".encode("latin-1")),
    "un CDA qui déclare des entités": (
        b'<?xml version="1.0"?><!DOCTYPE ClinicalDocument [<!ENTITY a "aaaa">]>'
        b'<ClinicalDocument xmlns="urn:hl7-org:v3">&a;</ClinicalDocument>'
    ),
}


@pytest.fixture
def cda() -> CdaContext:
    return CdaContext()


def _load(cda: CdaContext, name: str) -> None:
    data = base_document(name)
    if data is None:
        pytest.skip(f"official example « {name} » absent (../shared/corpus)")
    cda.data = data


# --------------------------------------------------------------------------------------------------- given


@given(parsers.parse("la demande d'actes d'imagerie « {document} »"))
def given_request(cda: CdaContext, document: str) -> None:
    _load(cda, document)


@given(parsers.parse("le compte rendu d'imagerie « {document} »"))
def given_report(cda: CdaContext, document: str) -> None:
    _load(cda, document)


@given(parsers.parse("le contenu « {name} » présenté comme un document CDA"))
def given_bad_input(cda: CdaContext, name: str) -> None:
    cda.data = BAD_INPUTS[name]


# ---------------------------------------------------------------------------------------------------- when


@when(parsers.parse("on lui applique la mutation « {mutation} »"))
def when_mutation(cda: CdaContext, mutation: str) -> None:
    cda.data = apply_mutation(mutation, cda.data)
    cda.mutations.append(mutation)


@when(parsers.re(r"le harnais l[ae] valide"))
def when_validate(cda: CdaContext) -> None:
    cda.kind, cda.findings, cda.error = validate_cda(cda.data)
    cda.validated = True


# ---------------------------------------------------------------------------------------------------- then


@then(parsers.parse("il est reconnu comme « {kind} »"))
def then_kind(cda: CdaContext, kind: str) -> None:
    assert cda.error is None, cda.error
    assert cda.kind == kind


@then("aucune erreur n'est signalée")
def then_no_error(cda: CdaContext) -> None:
    assert cda.error is None, cda.error
    assert cda.errors() == [], cda.show()


@then(parsers.parse("la règle « {rule} » est signalée"))
def then_rule(cda: CdaContext, rule: str) -> None:
    assert cda.error is None, cda.error
    hits = [f for f in cda.findings if f.rule == rule]
    assert hits, f"{rule} not reported; got {cda.show()}"
    assert all(f.location.startswith("/hl7:ClinicalDocument") and f.reference for f in hits)


@then("aucune autre erreur n'est signalée")
def then_no_other_error(cda: CdaContext) -> None:
    from tests.fixtures.cda import mutations

    expected = {rule for name in cda.mutations for rule in mutations()[name].rules}
    others = [f for f in cda.errors() if f.rule not in expected]
    assert not others, [(f.rule, f.location, f.message) for f in others]


@then(parsers.parse("la validation est refusée : « {reason} »"))
def then_refused(cda: CdaContext, reason: str) -> None:
    assert cda.kind is None and cda.findings == []
    assert cda.error is not None and reason in cda.error, cda.error


def _keys(cda: CdaContext) -> ReportKeys:
    return report_keys(etree.fromstring(cda.data))


@then(parsers.parse("le numéro de la demande (Order Placer Number) est « {number} » émis par « {issuer} »"))
def then_order(cda: CdaContext, number: str, issuer: str) -> None:
    keys = _keys(cda)
    assert (keys.order_number, keys.order_issuer) == (number, issuer)


@then(parsers.parse("l'accession number est « {number} » émis par « {issuer} »"))
def then_accession(cda: CdaContext, number: str, issuer: str) -> None:
    keys = _keys(cda)
    assert (keys.accession_number, keys.accession_issuer) == (number, issuer)


@then(parsers.parse("l'examen a le Study Instance UID « {uid} »"))
def then_study(cda: CdaContext, uid: str) -> None:
    assert _keys(cda).study_instance_uid == uid


@then(parsers.parse("le compte rendu satisfait {count:d} demande(s) et documente {studies:d} examen(s)"))
def then_counts(cda: CdaContext, count: int, studies: int) -> None:
    keys = _keys(cda)
    assert (len(keys.orders), len(keys.study_instance_uids)) == (count, studies)


@then("la demande n'a ni accession number ni Study Instance UID")
def then_request_keys(cda: CdaContext) -> None:
    keys = _keys(cda)
    assert (keys.accession_number, keys.accession_issuer, keys.study_instance_uid) == (None, None, None)
