"""Python rules of the CDA models IMG-DA-IMG and IMG-CR-IMG: what XPath 1 schematron cannot say.

* value-set membership (JDV files in ``valuesets/``, read with :func:`xdsi.validation.valuesets.load`): one rule per
  coded row of the functional data table (IMG-DA-IMG §3.4.2) and per coded element of the IMG-CR-IMG technical
  model. A code is checked when it has both ``@code`` and ``@codeSystem`` (the schematron ``*.CD`` rules report a
  missing code or code system, so a broken code is reported once);
* checks across the document: narrative references (``text/reference/@value="#id"`` must point to an ``ID`` of
  the document), laterality contradictions, contra-indications that depend on the patient's sex.

Rules are declared in the catalogue at import (layer ``"cda"``); :func:`check` returns the findings for a
document and a kind. Locations are XPaths (``/hl7:ClinicalDocument/hl7:component/...``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from lxml import etree

from xdsi.namespaces import HL7
from xdsi.validation import valuesets
from xdsi.validation.findings import PROFILES, Finding, Severity, finding, register
from xdsi.xmlpaths import xpath_of

NS = {"hl7": HL7, "ps3-20": "urn:dicom-org:ps3-20"}
DA = ("img-da-img",)
CR = ("img-cr-img",)
BOTH = ("img-da-img", "img-cr-img")

LOINC = "2.16.840.1.113883.6.1"
SNOMED = "2.16.840.1.113883.6.96"
DCM = "1.2.840.10008.2.16.4"
CISIS = "1.2.250.1.213.1.1.4.322"

#: the requested act of IMG-DA-IMG (FR-Demande-d-examen-ou-de-suivi-IMG-DA)
ACTE = "hl7:observation[hl7:templateId/@root='1.3.6.1.4.1.19376.1.5.3.1.1.20.3.1']"
FONCTION = (
    "hl7:entryRelationship/hl7:observation[hl7:templateId/@root='1.2.250.1.213.1.1.3.48.36'"
    " or (hl7:templateId/@root='1.2.250.1.213.1.1.3.48' and hl7:code/@code='MED-1133')]"
)
DICOM_OBS = "hl7:observation[hl7:templateId/@root='1.2.250.1.213.1.1.3.150']"
TECHNIQUE = "hl7:procedure[hl7:templateId/@root='1.2.840.10008.9.14' or hl7:templateId/@root='1.2.250.1.213.1.1.3.153']"

LAYER = "cda"


# --------------------------------------------------------------------------------------- value-set rules


@dataclass(frozen=True)
class ValueSetRule:
    """The coded elements selected by ``xpath`` (from the document root) must be in one of ``valuesets``."""

    id: str
    kinds: tuple[str, ...]
    xpath: str
    valuesets: tuple[str, ...]
    what: str
    reference: str
    severity: Severity = "error"
    #: optional: choose the value sets from the matched element (e.g. TEP vs scintigraphy functions)
    select: Callable[[etree._Element], tuple[str, ...] | None] | None = None

    @property
    def text(self) -> str:
        names = " or ".join(self.valuesets) if self.valuesets else "the value set of its context"
        return f"{self.what} must be a code of {names}"


def _fonction_valuesets(value: etree._Element) -> tuple[str, ...] | None:
    """TEP functions for a PT request, scintigraphy functions for NM; None (no check) for another modality."""
    acte: etree._Element | None = value
    for _ in range(3):  # value / observation / entryRelationship / acte
        acte = acte.getparent() if acte is not None else None
    code = acte.find(f"{{{HL7}}}code") if acte is not None else None
    if code is None or code.get("codeSystem") != DCM:
        return None
    return {
        "PT": ("jdv-fonction-etudiee-tep-cisis",),
        "NM": ("jdv-fonction-etudiee-scintigraphie-cisis",),
    }.get(code.get("code", ""))


_DA = "IMG-DA-IMG §3.4.2"
_CR = "CI-SIS IMG-CR-IMG 2024.01 modèle technique"

VALUESET_RULES: tuple[ValueSetRule, ...] = (
    # ---- IMG-DA-IMG (rows of the functional data table)
    ValueSetRule(
        "IMGDA.ACTE.MODALITE.VS",
        DA,
        f"//{ACTE}/hl7:code",
        ("jdv-modalite-demande-acte-imagerie-cisis", "SMT-jdv-modalite-demande-acte-imagerie-cisis"),
        "The modality of a requested act",
        f"{_DA} Modalité d'imagerie demandée [1..1] CD JDV_modalite-demandeActeImagerie-CISIS "
        "(1.2.250.1.213.1.1.5.660; SVS file and SMT version: interventional imaging NCIt C63334 or SNOMED 258174001)",
    ),
    ValueSetRule(
        "IMGDA.ACTE.INJECTION.VS",
        DA,
        f"//{ACTE}/hl7:code/hl7:qualifier/hl7:value",
        ("jdv-injection-pdc-tep-cisis",),
        "The contrast-injection answer",
        f"{_DA} Injection de produit de contraste iodé souhaitée [0..1] CD JDV_InjectionPDC_TEP-CISIS "
        "(1.2.250.1.213.1.1.5.670)",
    ),
    ValueSetRule(
        "IMGDA.ACTE.LOCALISATION.VS",
        DA,
        f"//{ACTE}/hl7:targetSiteCode",
        ("jdv-localisation-anatomique-cisis",),
        "An anatomical location",
        f"{_DA} Localisation anatomique [1..1] CD JDV_LocalisationAnatomique-CISIS (1.2.250.1.213.1.1.5.694)",
    ),
    ValueSetRule(
        "IMGDA.ACTE.TOPOGRAPHIE.VS",
        DA,
        f"//{ACTE}/hl7:targetSiteCode/hl7:qualifier/hl7:value",
        ("jdv-modificateur-topographique-cisis",),
        "A topographic precision",
        f"{_DA} Précision topographique [0..*] CD JDV_ModificateurTopographique-CISIS (1.2.250.1.213.1.1.5.688)",
    ),
    ValueSetRule(
        "IMGDA.ACTE.FONCTION.VS",
        DA,
        f"//{ACTE}/{FONCTION}/hl7:value",
        (),
        "A studied function (TEP: JDV 668, scintigraphy: JDV 669)",
        f"{_DA} Fonction étudiée [1..1] CD: si TEP JDV_FonctionEtudieeTEP-CISIS (1.2.250.1.213.1.1.5.668), "
        "si Scintigraphie JDV_FonctionEtudieeScintigraphie-CISIS (1.2.250.1.213.1.1.5.669)",
        select=_fonction_valuesets,
    ),
    ValueSetRule(
        "IMGDA.CONTRE_INDICATION.VS",
        DA,
        f"//{DICOM_OBS}[hl7:code[@code='64100-1' and @codeSystem='{LOINC}']]/hl7:value",
        ("jdv-contre-indication-cisis",),
        "A contra-indication",
        f"{_DA} Contre-indication [1..*] CD JDV_contre-indications-CISIS (1.2.250.1.213.1.1.5.659)",
    ),
    ValueSetRule(
        "IMGDA.PRISE_EN_CHARGE.VS",
        DA,
        f"//{DICOM_OBS}[hl7:code[@code='ORG-192' and @codeSystem='{CISIS}']]/hl7:value",
        ("jdv-info-prise-en-charge-cisis",),
        "An information for the care of the patient",
        f"{_DA} Informations pour la prise en charge [1..*] CD JDV_infoPriseEnCharge-CISIS (1.2.250.1.213.1.1.5.685)",
    ),
    ValueSetRule(
        "IMGDA.ACTE.URGENCE.VS",
        DA,
        f"//{ACTE}/hl7:priorityCode",
        ("jdv-hl7-v3-ActPriority-cisis",),
        "The priority of a requested act",
        "IMG-DA-IMG §3.4.1 Demande d'exécution en urgence; modèle technique 2024.01: priorityCode "
        "(HL7 ActPriority 2.16.840.1.113883.5.7, jdv-hl7-v3-ActPriority-cisis 2.16.840.1.113883.1.11.16866)",
    ),
    # ---- IMG-CR-IMG (technical model)
    ValueSetRule(
        "IMGCR.ENTETE.CODE_EXAMEN.VS",
        CR,
        f"/hl7:ClinicalDocument/hl7:code/hl7:translation[@codeSystem='{LOINC}']"
        f" | /hl7:ClinicalDocument/hl7:documentationOf/hl7:serviceEvent/hl7:code[@codeSystem='{LOINC}']",
        ("jdv-code-document-imagerie-cisis",),
        "The LOINC code of an exam (document code translation, serviceEvent/code)",
        f"{_CR}: code/translation and documentationOf/serviceEvent/code, JDV_CodesDocumentImagerie-CISIS "
        "(1.2.250.1.213.1.1.5.687)",
    ),
    ValueSetRule(
        "IMGCR.ENTETE.MODALITE.VS",
        CR,
        f"/hl7:ClinicalDocument/hl7:documentationOf/hl7:serviceEvent/hl7:code/hl7:translation[@codeSystem='{DCM}']",
        ("jdv-modalite-acquisition-cisis",),
        "The modality of a documented exam",
        f"{_CR}: serviceEvent/code/translation (qualifier DCM 121139) JDV_ModaliteAcquisition-CISIS "
        "(1.2.250.1.213.1.1.5.618)",
    ),
    ValueSetRule(
        "IMGCR.ENTETE.REGION.VS",
        CR,
        "/hl7:ClinicalDocument/hl7:documentationOf/hl7:serviceEvent/hl7:code/hl7:translation"
        "[hl7:qualifier/hl7:name/@code='39111-0']",
        ("jdv-region-anatomique-cisis",),
        "The anatomical region of a documented exam",
        f"{_CR}: serviceEvent/code/translation (qualifier LOINC 39111-0) JDV_RegionAnatomique-CISIS "
        "(1.2.250.1.213.1.1.5.695; XDS-I eventCodeList region)",
    ),
    ValueSetRule(
        "IMGCR.TECHNIQUE.LOCALISATION.VS",
        CR,
        f"//{TECHNIQUE}/hl7:targetSiteCode"
        " | //hl7:observation[hl7:templateId/@root='1.2.250.1.213.1.1.3.154']/hl7:targetSiteCode",
        ("jdv-localisation-anatomique-cisis",),
        "An anatomical location of the technique or of a dose quantity",
        f"{_CR}: FR-DICOM-Technique-imagerie and FR-DICOM-Quantite targetSiteCode, "
        "JDV_LocalisationAnatomique-CISIS (1.2.250.1.213.1.1.5.694)",
    ),
    ValueSetRule(
        "IMGCR.TECHNIQUE.LATERALITE.VS",
        CR,
        f"//{TECHNIQUE}/hl7:targetSiteCode/hl7:qualifier/hl7:value",
        ("jdv-lateralite-technique-imagerie-cisis",),
        "The laterality of an imaging technique",
        f"{_CR}: FR-DICOM-Technique-imagerie targetSiteCode/qualifier, JDV_LateraliteTechniqueImagerie-CISIS "
        "(1.2.250.1.213.1.1.5.617)",
    ),
    ValueSetRule(
        "IMGCR.SERIE.MODALITE.VS",
        CR,
        "//hl7:act[hl7:templateId/@root='1.2.840.10008.9.17']/hl7:code[@code='113015']/hl7:qualifier/hl7:value",
        ("jdv-modalite-acquisition-cisis",),
        "The modality of a series",
        f"{_CR}: FR-DICOM-Serie-imagerie code 113015 qualifier, JDV_ModaliteAcquisition-CISIS "
        "(1.2.250.1.213.1.1.5.618)",
    ),
    ValueSetRule(
        "IMGCR.SOP_CLASS.VS",
        CR,
        "//hl7:observation[hl7:templateId/@root='1.2.840.10008.9.18']/hl7:code",
        ("jdv-sop-class-cisis",),
        "The SOP class of a referenced instance",
        f"{_CR}: FR-DICOM-SOP-instance-observation code, JDV_SOPClass-CISIS (1.2.250.1.213.1.1.5.689)",
    ),
    ValueSetRule(
        "IMGCR.GROSSESSE.VS",
        CR,
        f"//{DICOM_OBS}[hl7:code[@code='364320009' and @codeSystem='{SNOMED}']]/hl7:value",
        ("jdv-statut-grossesse-cisis",),
        "The pregnancy status",
        f"{_CR}: FR-DICOM-Observation statut de grossesse (SNOMED 364320009), JDV_StatutGrossesse-CISIS "
        "(1.2.250.1.213.1.1.5.671)",
    ),
    ValueSetRule(
        "IMGCR.CONTRE_INDICATION.VS",
        CR,
        f"//{DICOM_OBS}[hl7:code[@code='64100-1' and @codeSystem='{LOINC}']]/hl7:value",
        ("jdv-contre-indication-cisis",),
        "A contra-indication",
        f"{_CR}: FR-DICOM-Observation contre-indication (LOINC 64100-1), JDV_contre-indications-CISIS "
        "(1.2.250.1.213.1.1.5.659)",
    ),
)


# ------------------------------------------------------------------------------------------ other rules

#: rule id -> (severity, kinds, reference, text)
OTHER_RULES: dict[str, tuple[Severity, tuple[str, ...], str, str]] = {
    "IMGDA.ACTE.LATERALITE": (
        "warning",
        DA,
        f"{_DA} Précision topographique [0..*] CD JDV_ModificateurTopographique-CISIS: gauche (7771000), "
        "droit (24028007), bilatéral (51440002)",
        "An anatomical location is not both left and right (use bilatéral)",
    ),
    "IMGDA.CONTRE_INDICATION.SEXE": (
        "warning",
        DA,
        f"{_DA} Contre-indication [1..*] CD: « Les contre-indications sont conditionnées à la modalité d'acte "
        "demandée et au sexe du patient »",
        "Pregnancy (77386006) and breastfeeding (1260078007) contra-indications do not apply to a male patient",
    ),
    "CDA.TEXTE.REFERENCE": (
        "warning",
        BOTH,
        "HL7 CDA R2 §4.3.5.1 (text/reference and originalText/reference point into the narrative block: "
        "'#' followed by the ID of an element of the section text)",
        "A reference '#id' to the narrative must point to an element of the document with that ID",
    ),
    "CDA.TEXTE.REFERENCE.FRAGMENT": (
        "warning",
        BOTH,
        "HL7 CDA R2 §4.3.5.1 (a reference into the narrative block is a fragment '#id')",
        "A reference to the narrative is written '#id' (a local fragment), or is an absolute URL",
    ),
}


def _register() -> None:
    for rule in VALUESET_RULES:
        register(rule.id, rule.severity, rule.kinds, rule.reference, rule.text, LAYER, PROFILES)
    for rule_id, (severity, kinds, reference, text) in OTHER_RULES.items():
        register(rule_id, severity, kinds, reference, text, LAYER, PROFILES)


_register()


# ------------------------------------------------------------------------------------------ checks


def _xpath(root: etree._Element, path: str) -> list[etree._Element]:
    result = root.xpath(path, namespaces=NS)
    return [e for e in result if isinstance(e, etree._Element)] if isinstance(result, list) else []


def _in_any(code: str, system: str, names: Sequence[str]) -> bool:
    return any(valuesets.load(name).contains(code, system) for name in names)


def _valueset_label(names: Sequence[str]) -> str:
    labels = []
    for name in names:
        vs = valuesets.load(name)
        labels.append(f"{vs.title or vs.name} ({vs.id}, version {vs.version})")
    return " or ".join(dict.fromkeys(labels))


def _check_valuesets(root: etree._Element, kind: str, profile: str) -> Iterator[Finding]:
    for rule in VALUESET_RULES:
        if kind not in rule.kinds:
            continue
        for element in _xpath(root, rule.xpath):
            code, system = element.get("code"), element.get("codeSystem")
            if element.get("nullFlavor") is not None or not code or not system:
                continue
            names = rule.select(element) if rule.select is not None else rule.valuesets
            if not names or _in_any(code, system, names):
                continue
            display = element.get("displayName")
            shown = f"'{code}' in '{system}'" + (f" ({display})" if display else "")
            message = f"{rule.what} must be a code of {_valueset_label(names)}: found {shown}"
            yield finding(rule.id, xpath_of(element), message, profile)


_GAUCHE, _DROIT = "7771000", "24028007"


def _check_laterality(root: etree._Element, profile: str) -> Iterator[Finding]:
    for site in _xpath(root, f"//{ACTE}/hl7:targetSiteCode"):
        values = {
            v.get("code")
            for v in _xpath(site, "hl7:qualifier/hl7:value")
            if v.get("codeSystem") == SNOMED and v.get("code") in (_GAUCHE, _DROIT)
        }
        if len(values) == 2:
            message = (
                "An anatomical location is not both left and right (use bilatéral 51440002): found qualifiers "
                f"gauche (7771000) and droit (24028007) on '{site.get('code')}' ({site.get('displayName') or ''})"
            )
            yield finding("IMGDA.ACTE.LATERALITE", xpath_of(site), message, profile)


_FEMININE_CI = {"77386006": "enceinte", "1260078007": "allaitement"}


def _check_sex(root: etree._Element, profile: str) -> Iterator[Finding]:
    gender = _xpath(
        root, "/hl7:ClinicalDocument/hl7:recordTarget/hl7:patientRole/hl7:patient/hl7:administrativeGenderCode"
    )
    if not gender or gender[0].get("code") != "M":
        return
    path = f"//{DICOM_OBS}[hl7:code[@code='64100-1' and @codeSystem='{LOINC}']]/hl7:value[@codeSystem='{SNOMED}']"
    for value in _xpath(root, path):
        label = _FEMININE_CI.get(value.get("code", ""))
        if label:
            message = (
                "Pregnancy and breastfeeding contra-indications do not apply to a male patient: found "
                f"'{value.get('code')}' ({label}) for administrativeGenderCode 'M'"
            )
            yield finding("IMGDA.CONTRE_INDICATION.SEXE", xpath_of(value), message, profile)


def _check_references(root: etree._Element, profile: str) -> Iterator[Finding]:
    ids = {el.get("ID") for el in root.iter() if isinstance(el.tag, str) and el.get("ID")}
    for ref in root.iter(f"{{{HL7}}}reference"):
        parent = ref.getparent()
        if parent is None or etree.QName(parent).localname not in ("text", "originalText"):
            continue
        value = (ref.get("value") or "").strip()
        if not value:
            continue
        if value.startswith("#"):
            if value[1:] not in ids:
                message = (
                    "A reference '#id' to the narrative must point to an element of the document with that ID: "
                    f"found '{value}', no element has ID '{value[1:]}'"
                )
                yield finding("CDA.TEXTE.REFERENCE", xpath_of(ref) + "/@value", message, profile)
        elif ":" not in value.split("/", 1)[0]:
            hint = f" (did you mean '#{value}'?)" if value in ids else ""
            message = (
                "A reference to the narrative is written '#id' (a local fragment), or is an absolute URL: "
                f"found '{value}'{hint}"
            )
            yield finding("CDA.TEXTE.REFERENCE.FRAGMENT", xpath_of(ref) + "/@value", message, profile)


def check(root: etree._Element, kind: str, profile: str = "cisis") -> list[Finding]:
    """The Python rules of ``kind`` (``img-da-img`` or ``img-cr-img``) on a ClinicalDocument."""
    if kind not in BOTH:
        raise ValueError(f"not a CDA kind: {kind!r}")
    findings = list(_check_valuesets(root, kind, profile))
    if kind == "img-da-img":
        findings += _check_laterality(root, profile)
        findings += _check_sex(root, profile)
    findings += _check_references(root, profile)
    return findings


__all__ = ["OTHER_RULES", "VALUESET_RULES", "ValueSetRule", "check"]
