"""Value-set rules: each fires on an example with one code changed and stays silent on the valid example."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.rulecheck import assert_fires, assert_silent
from xdsi.messages import examples as ex
from xdsi.model import metadata as md
from xdsi.model.metadata import Code, DocumentEntry
from xdsi.validation import codes


def _kos() -> DocumentEntry:
    return ex.kos_entry(ex.Exam())


def _set(attr: str, value: object) -> Callable[[DocumentEntry], None]:
    return lambda de: setattr(de, attr, value)


def _replace_event(old: Callable[[DocumentEntry], list[Code]], new: Code) -> Callable[[DocumentEntry], None]:
    def mutate(de: DocumentEntry) -> None:
        drop = old(de)[0]
        de.event_codes = [new if c == drop else c for c in de.event_codes]

    return mutate


CASES = {
    "VS.DE.CLASSCODE": _set("class_code", Code("77", md.CLASS_CODE_SYSTEM)),
    "VS.DE.TYPECODE": _set("type_code", Code("IMG-XYZ", md.TYPE_DOC_COMPLEMENTAIRE)),
    "VS.DE.CONFIDENTIALITY": _set("confidentiality_codes", [Code("SECRET", "2.16.840.1.113883.5.25")]),
    "VS.DE.HCFT": _set("healthcare_facility_type_code", Code("SA99", "1.2.250.1.71.4.2.4")),
    "VS.DE.PRACTICE": _set("practice_setting_code", Code("HOPITAL", "1.2.250.1.213.1.1.4.9")),
    "VS.DE.FORMAT": _set("format_code", Code("1.2.840.10008.5.1.4.1.1.88.99", md.DICOM_UID_REGISTRY)),
    "VS.DE.MODALITY": _replace_event(lambda de: de.modality_codes, Code("XX", md.DCM)),
    "VS.DE.REGION": _replace_event(lambda de: de.region_codes, Code("12345678", md.SNOMED_CT)),
    "VS.DE.STATUS": _set("status", "urn:example:StatusType:Hidden"),
    "VS.DE.EVENTCODE.SYSTEM": _replace_event(lambda de: de.procedure_codes, Code("ZBQK001", "1.2.3.4")),
    "VS.DE.CCAM.SYNTAX": _replace_event(lambda de: de.procedure_codes, Code("ZBQ-K01", md.CCAM)),
    "VS.DE.AUTHORSPECIALTY": lambda de: setattr(de.authors[0], "specialties", ["XX^Inconnue^1.2.250.1.213.1.1.4.5"]),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_on_one_changed_code(rule: str) -> None:
    de = _kos()
    de.location = "/rim:ExtrinsicObject"
    assert_silent(codes.check(md.RegistryObjects(entries=[de]), "flux1"), rule)
    CASES[rule](de)
    assert_fires(codes.check(md.RegistryObjects(entries=[de]), "flux1"), rule)


def test_every_value_set_rule_has_a_case() -> None:
    declared = {b.rule for b in codes.BINDINGS} | {
        "VS.DE.EVENTCODE.SYSTEM",
        "VS.DE.CCAM.SYNTAX",
        "VS.DE.AUTHORSPECIALTY",
    }
    assert declared == set(CASES)


def test_modality_accepts_the_jdv_oid_as_scheme() -> None:
    """DRIMbox writes the JDV OID as codingScheme (reference xds-facts §10 Q2): both conventions pass."""
    de = _kos()
    de.event_codes = [Code("CT", md.MODALITY_JDV), Code("67734004", md.REGION_JDV)]
    found = codes.check(md.RegistryObjects(entries=[de]), "flux1")
    assert_silent(found, "VS.DE.MODALITY")
    assert_silent(found, "VS.DE.REGION")


def test_report_entry_is_valid() -> None:
    assert_silent(codes.check(md.RegistryObjects(entries=[ex.report_entry(ex.Exam())]), "flux1"))
