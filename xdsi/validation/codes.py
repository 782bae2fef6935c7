"""Value-set rules: the coded metadata of a Fiche, a LotSoumission and a Classeur against the CI-SIS JDV/TRE.

A code outside its value set is a finding. Value sets come from ``valuesets/`` (imported from the official
files). Where the CI-SIS publishes no complete list (formatCode, CCAM), the rule says so and checks what it can.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from xdsi.model import metadata as md
from xdsi.model.metadata import Code, DocumentEntry, RegistryObjects
from xdsi.validation.findings import Finding, Severity, finding, register
from xdsi.validation.valuesets import load

_KINDS = ("flux1", "flux3", "flux6")


@dataclass(frozen=True)
class Binding:
    rule: str
    attribute: str
    valuesets: tuple[str, ...]
    reference: str
    severity: Severity = "error"
    kos_only: bool = False
    #: extra code systems also accepted as the scheme of a code of these value sets (see docs/decisions.md)
    scheme_aliases: tuple[str, ...] = ()


BINDINGS = (
    Binding(
        "VS.DE.CLASSCODE",
        "class_code",
        ("JDV_J06_XdsClassCode_CISIS",),
        "CI-SIS JDV_J06_XdsClassCode_CISIS (1.2.250.1.213.1.1.5.462); PEI §5.1.2 Tableau 12 classeDocument",
    ),
    Binding(
        "VS.DE.TYPECODE",
        "type_code",
        ("JDV_J07_XdsTypeCode_CISIS",),
        "CI-SIS JDV_J07_XdsTypeCode_CISIS (1.2.250.1.213.1.1.5.471); PEI §5.1.2 Tableau 12 typeDocument",
    ),
    Binding(
        "VS.DE.CONFIDENTIALITY",
        "confidentiality_codes",
        ("JDV_J08_XdsConfidentialityCode_CISIS",),
        "CI-SIS JDV_J08_XdsConfidentialityCode_CISIS; PEI §5.1.2 Tableau 12 niveauConfidentialite",
    ),
    Binding(
        "VS.DE.HCFT",
        "healthcare_facility_type_code",
        ("JDV_J02_XdsHealthcareFacilityTypeCode_CISIS",),
        "CI-SIS JDV_J02_XdsHealthcareFacilityTypeCode_CISIS; PEI §5.1.2 Tableau 12 secteurActivite",
    ),
    Binding(
        "VS.DE.PRACTICE",
        "practice_setting_code",
        ("JDV_J04_XdsPracticeSettingCode_CISIS",),
        "CI-SIS JDV_J04_XdsPracticeSettingCode_CISIS; PEI §5.1.2 Tableau 12 cadreExercice",
    ),
    Binding(
        "VS.DE.FORMAT",
        "format_code",
        ("TRE_A06-FormatCodeComplementaire", "TRE_A09-DICOMuidRegistry", "TRE_A11-IheFormatCode"),
        "PEI §5.1.2 Tableau 12 formatDocument: TRE_A06, TRE_A09, TRE_A10, TRE_A11",
        severity="warning",
    ),
    Binding(
        "VS.DE.MODALITY",
        "modality_codes",
        ("jdv-modalite-acquisition-cisis",),
        "PEI §5.1.2 Tableau 12 modaliteImagerie; CI-SIS jdv-modalite-acquisition-cisis (1.2.250.1.213.1.1.5.618)",
        scheme_aliases=(md.MODALITY_JDV,),
    ),
    Binding(
        "VS.DE.REGION",
        "region_codes",
        ("jdv-region-anatomique-cisis",),
        "PEI §5.1.2 Tableau 12 regionAnatomique; CI-SIS jdv-region-anatomique-cisis (1.2.250.1.213.1.1.5.695)",
        scheme_aliases=(md.REGION_JDV,),
    ),
    Binding(
        "VS.DE.STATUS",
        "status",
        ("JDV_J52_AvailabilityStatus_CISIS",),
        "PEI §5.6.2 Tableau 14 statut: TRE_R269, TRE_R270 (JDV_J52_AvailabilityStatus_CISIS)",
    ),
)

for _b in BINDINGS:
    register(
        _b.rule,
        _b.severity,
        _KINDS,
        _b.reference,
        f"{_b.attribute} must come from {', '.join(_b.valuesets)}",
        "valuesets",
    )  # type: ignore[arg-type]

register(
    "VS.DE.EVENTCODE.SYSTEM",
    "warning",
    _KINDS,
    "PEI §5.1.2 Tableau 12 listeCodesEvenements: actePathologie (CCAM 1.2.250.1.213.2.5, CIM-10 "
    "2.16.840.1.113883.6.3, TRE_A00), modaliteImagerie, regionAnatomique",
    "an eventCodeList code of a KOS Fiche is a modality, an anatomic region, a CCAM act or a CIM-10 code",
    "valuesets",
)
register(
    "VS.DE.CCAM.SYNTAX",
    "error",
    _KINDS,
    "PEI §5.1.2 Tableau 12 actePathologie: CCAM (OID 1.2.250.1.213.2.5) — code of 4 letters and 3 digits",
    "a CCAM act code has 4 capital letters and 3 digits",
    "valuesets",
)
register(
    "VS.DE.AUTHORSPECIALTY",
    "error",
    _KINDS,
    "CI-SIS JDV_J01_XdsAuthorSpecialty_CISIS (authorSpecialty = code^display^system)",
    "authorSpecialty must be code^display^system from JDV_J01",
    "valuesets",
)

_CCAM = re.compile(r"^[A-Z]{4}[0-9]{3}$")
_KNOWN_EVENT_SYSTEMS = {md.CCAM, md.CIM10, "1.2.250.1.213.1.1.4.6"}


def _codes(de: DocumentEntry, attribute: str) -> list[Code]:
    value = getattr(de, attribute)
    if value is None:
        return []
    if isinstance(value, str):
        return [Code(value, "")]
    return list(value) if isinstance(value, list) else [value]


def _in(binding: Binding, code: Code) -> bool:
    for name in binding.valuesets:
        vs = load(name)
        if vs.contains(code.code, code.scheme) or (code.scheme in binding.scheme_aliases and vs.contains(code.code)):
            return True
        if not code.scheme and vs.contains(code.code):
            return True
    return False


def _check_entry(de: DocumentEntry, profile: str) -> Iterator[Finding]:
    for b in BINDINGS:
        if b.kos_only and not de.is_kos:
            continue
        for code in _codes(de, b.attribute):
            if not _in(b, code):
                yield finding(
                    b.rule,
                    de.location or "/",
                    f"{b.attribute} {code.code!r} (scheme {code.scheme!r}) is not in {', '.join(b.valuesets)}",
                    profile,
                )
    if de.is_kos:
        imaging = set(map(id, de.modality_codes + de.region_codes))
        for code in de.event_codes:
            if id(code) in imaging:
                continue
            if code.scheme not in _KNOWN_EVENT_SYSTEMS:
                yield finding(
                    "VS.DE.EVENTCODE.SYSTEM",
                    de.location or "/",
                    f"eventCode {code}: scheme {code.scheme!r} is none of modality, region, CCAM, CIM-10",
                    profile,
                )
    for code in de.event_codes:
        if code.scheme == md.CCAM and not _CCAM.match(code.code):
            yield finding("VS.DE.CCAM.SYNTAX", de.location or "/", f"CCAM code {code.code!r} is not AAAA999", profile)
    specialties = load("JDV_J01_XdsAuthorSpecialty_CISIS")
    for author in de.authors:
        for value in author.specialties:
            comps = value.split("^")
            specialty, system = comps[0], comps[2] if len(comps) > 2 else ""
            if not specialties.contains(specialty, system or None):
                yield finding(
                    "VS.DE.AUTHORSPECIALTY",
                    author.location or de.location or "/",
                    f"authorSpecialty {value!r} is not in JDV_J01_XdsAuthorSpecialty_CISIS",
                    profile,
                )


def check(objects: RegistryObjects, kind: str, profile: str = "cisis") -> list[Finding]:
    return [f for de in objects.entries for f in _check_entry(de, profile)]
