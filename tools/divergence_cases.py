"""Invalid IMG-DA-IMG / IMG-CR-IMG documents derived from the official ANS examples, for docs/divergences.md.

Each :class:`Case` takes one example of ``../shared/corpus/cda`` (TestContenuCDA ``ExemplesCDA``), changes one
thing with lxml, and says what the CI-SIS content (the table of the volet, the DOCCORE profiles, the
examples' cardinality comments: ``docs``/``../shared/reference/cisis-content.md``) expects and what the
official schematron is known to do. ``python tools/divergences.py`` runs our rules and the official schematron
on every case and on the unmodified examples and tabulates where the verdicts differ.

Every edit fails loudly (``LookupError``) when its target is not in the example, so a case never silently
turns into a copy of the example.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS = {"h": HL7, "xsi": XSI, "ps3-20": "urn:dicom-org:ps3-20"}

#: the requested-act observation of the DA (IHE PCC Procedure Entry, FR-Demande-d-examen-ou-de-suivi-IMG-DA)
ACTE = "//h:observation[h:templateId/@root='1.3.6.1.4.1.19376.1.5.3.1.1.20.3.1']"
FONCTION = "h:entryRelationship[h:observation/h:templateId/@root='1.2.250.1.213.1.1.3.48.36']"
COMMENTAIRE = "h:entryRelationship[h:act/h:templateId/@root='1.2.250.1.213.1.1.3.32']"
CONTRE_INDICATION = "//h:observation[h:templateId/@root='1.2.250.1.213.1.1.3.150' and h:code/@code='64100-1']"

Edit = Callable[[etree._Element], None]

DA_TEP = "IMG-DA-IMG_2024.01_TEP_Thorax.xml"
DA_IRM = "IMG-DA-IMG_2024.01_Radiographie_IRM_Genou.xml"
DA_SCANNER = "IMG-DA-IMG_2024.01_Scanner_Crane_ThoraxAbdomenPelvis.xml"
CR = "IMG_CR_IMG_2024.01.xml"

EXAMPLES: dict[str, str] = {
    "IMG-DA-IMG_2024.01_Mammo-Echo-Seins.xml": "img-da-img",
    "IMG-DA-IMG_2024.01_Radiographie_ChevilleGenou.xml": "img-da-img",
    "IMG-DA-IMG_2024.01_Radiographie_Echographie_SeinThorax.xml": "img-da-img",
    "IMG-DA-IMG_2024.01_Radiographie_IRM_Genou.xml": "img-da-img",
    "IMG-DA-IMG_2024.01_Radiographie_Scanner_Genou.xml": "img-da-img",
    "IMG-DA-IMG_2024.01_Scanner_Crane_ThoraxAbdomenPelvis.xml": "img-da-img",
    "IMG-DA-IMG_2024.01_TEP_Thorax.xml": "img-da-img",
    "IMG_CR_IMG_2024.01.xml": "img-cr-img",
    "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml": "img-cr-img",
}


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    base: str
    #: what was changed
    change: str
    #: what the CI-SIS content says (the table, DOCCORE, the examples' cardinality comments) and its source
    spec: str
    #: what the official schematron is known to do with it
    official: str
    edit: Edit | None = None

    def build(self, cda_dir: Path) -> bytes:
        data = (cda_dir / self.base).read_bytes()
        if self.edit is None:
            return data
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
        root = deepcopy(root)
        self.edit(root)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# ------------------------------------------------------------------------------------------ edits


def _one(root: etree._Element, xpath: str) -> etree._Element:
    found = root.xpath(xpath, namespaces=NS)
    if not isinstance(found, list) or not found or not isinstance(found[0], etree._Element):
        raise LookupError(f"no target for {xpath}")
    return found[0]


def _remove(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        raise LookupError("cannot remove the root")
    parent.remove(el)


def set_attrs(xpath: str, **attrs: str) -> Edit:
    def edit(root: etree._Element) -> None:
        el = _one(root, xpath)
        for name, value in attrs.items():
            el.set(name, value)

    return edit


def remove(xpath: str) -> Edit:
    def edit(root: etree._Element) -> None:
        _remove(_one(root, xpath))

    return edit


def duplicate(xpath: str) -> Edit:
    def edit(root: etree._Element) -> None:
        el = _one(root, xpath)
        el.addnext(deepcopy(el))

    return edit


def chain(*edits: Edit) -> Edit:
    def edit(root: etree._Element) -> None:
        for e in edits:
            e(root)

    return edit


def modality(code: str, system: str, display: str, *, drop_comment: bool) -> Edit:
    """Set the first requested act's modality; optionally drop its FR-Commentaire-ER."""

    def edit(root: etree._Element) -> None:
        acte = _one(root, ACTE)
        code_el = _one(acte, "h:code")
        code_el.set("code", code)
        code_el.set("codeSystem", system)
        code_el.set("displayName", display)
        if "codeSystemName" in code_el.attrib:
            del code_el.attrib["codeSystemName"]
        if drop_comment:
            _remove(_one(acte, COMMENTAIRE))

    return edit


def add_fonction(value: str, display: str) -> Edit:
    """Give the first requested act a FR-Fonction-etudiee observation (as in the TEP example)."""

    def edit(root: etree._Element) -> None:
        acte = _one(root, ACTE)
        er = etree.SubElement(acte, f"{{{HL7}}}entryRelationship", typeCode="COMP", inversionInd="false")
        obs = etree.SubElement(er, f"{{{HL7}}}observation", classCode="OBS", moodCode="EVN")
        for root_oid in ("1.3.6.1.4.1.19376.1.5.3.1.4.13", "1.2.250.1.213.1.1.3.48", "1.2.250.1.213.1.1.3.48.36"):
            etree.SubElement(obs, f"{{{HL7}}}templateId", root=root_oid)
        etree.SubElement(obs, f"{{{HL7}}}id", root="4693E61A-7DE6-11EC-90D6-0242AC120099")
        etree.SubElement(
            obs,
            f"{{{HL7}}}code",
            code="MED-1133",
            displayName="Fonction étudiée",
            codeSystem="1.2.250.1.213.1.1.4.322",
            codeSystemName="TerminologieCISIS",
        )
        etree.SubElement(obs, f"{{{HL7}}}statusCode", code="completed")
        etree.SubElement(obs, f"{{{HL7}}}effectiveTime", nullFlavor="NA")
        val = etree.SubElement(
            obs, f"{{{HL7}}}value", code=value, displayName=display, codeSystem="1.2.250.1.213.1.1.4.322"
        )
        val.set(f"{{{XSI}}}type", "CD")

    return edit


# ------------------------------------------------------------------------------------------ cases

CASES: tuple[Case, ...] = (
    # --- IMG-DA-IMG: conditional rules the volet describes and the schematron does not encode
    Case(
        "da-autre-sans-commentaire",
        "img-da-img",
        DA_IRM,
        "first requested act: modality MR → OT (Autre technique d'imagerie), its FR-Commentaire-ER removed",
        "Commentaire sur la modalité mandatory when the modality is 'Autre' (volet table; cisis-content §1.3, §7.4e)",
        "no rule: the modality comment is only limited to ≤ 1 (S_PlanDeSoins)",
        modality("OT", "1.2.840.10008.2.16.4", "Autre technique d'imagerie", drop_comment=True),
    ),
    Case(
        "da-interventionnel-sans-commentaire",
        "img-da-img",
        DA_IRM,
        "first requested act: modality → C63334 (Radiologie interventionnelle, NCIt), its comment removed",
        "Commentaire mandatory for interventional imaging (volet table; cisis-content §1.3, §7.2, §7.4e)",
        "no rule (C63334 is in JDV 660, so the JDV pattern passes)",
        modality("C63334", "2.16.840.1.113883.3.26.1.1", "Radiologie interventionnelle", drop_comment=True),
    ),
    Case(
        "da-tep-fdg-sans-injection",
        "img-da-img",
        DA_TEP,
        "TEP act (fonction MED-1133 FDG Oncologie): the injection qualifier (code/qualifier) removed",
        "Injection de PDC required when TEP and fonction ∈ {Autre, FDG Onco/Infectieux/inflammatoire, F-DOPA "
        "oncologie} (DOCCORE FR-Demande-d-examen-ou-de-suivi-IMG-DA description; cisis-content §1.3)",
        "no rule: the injection is only checked against JDV 670 when present",
        remove(ACTE + "/h:code/h:qualifier"),
    ),
    Case(
        "da-tep-sans-fonction",
        "img-da-img",
        DA_TEP,
        "TEP act: its FR-Fonction-etudiee entryRelationship removed",
        "Fonction(s) étudiée(s) required for TEP/scintigraphy (volet table; cisis-content §1.3)",
        "fails: S_PlanDeSoins 'fonction étudiée present iff modality PT or NM'",
        remove(ACTE + "/" + FONCTION),
    ),
    Case(
        "da-fonction-sur-irm",
        "img-da-img",
        DA_IRM,
        "first requested act (MR): a FR-Fonction-etudiee (value MED-1133) added",
        "Fonction étudiée only for TEP/scintigraphy (volet table; S_PlanDeSoins)",
        "fails: S_PlanDeSoins 'fonction étudiée present iff modality PT or NM'",
        add_fonction("MED-1133", "FDG Oncologie /Infectieux/inflammatoire"),
    ),
    Case(
        "da-fonction-tep-hors-jdv",
        "img-da-img",
        DA_TEP,
        "TEP act: fonction étudiée value MED-1133 → MED-1141 (a scintigraphy function, JDV 669)",
        "Fonction TEP from JDV_FonctionEtudieeTEP-CISIS 1.2.250.1.213.1.1.5.668",
        "fails: JDV_FonctionEtudieeTEP-CISIS",
        set_attrs(
            ACTE + "/" + FONCTION + "/h:observation/h:value", code="MED-1141", displayName="Scintigraphie osseuse"
        ),
    ),
    # --- IMG-DA-IMG: value sets
    Case(
        "da-localisation-hors-jdv",
        "img-da-img",
        DA_TEP,
        "TEP act: targetSiteCode 302551006 → 999999999 (not a SNOMED CT code of JDV 694)",
        "Localisation anatomique from JDV_LocalisationAnatomique-CISIS 1.2.250.1.213.1.1.5.694 (volet table)",
        "no failure: the JDV pattern targets observation[templateId=1.2.250.1.213.1.1.3.27.2] "
        "(FR-Acte-biologie-prescrit), never the imaging act (cisis-content §1.4, §1.6)",
        set_attrs(ACTE + "/h:targetSiteCode", code="999999999", displayName="inconnu"),
    ),
    Case(
        "da-modalite-hors-jdv",
        "img-da-img",
        DA_IRM,
        "first requested act: modality MR → XX (DCM, not in JDV 660)",
        "Modalité from JDV_Modalite-demandeActeImagerie-CISIS 1.2.250.1.213.1.1.5.660",
        "fails: JDV_Modalite-demandeActeImagerie-CISIS",
        modality("XX", "1.2.840.10008.2.16.4", "Inconnue", drop_comment=False),
    ),
    Case(
        "da-injection-hors-jdv",
        "img-da-img",
        DA_TEP,
        "TEP act: injection qualifier value MED-1153 → MED-9999",
        "Injection de PDC from JDV_InjectionPDC_TEP-CISIS 1.2.250.1.213.1.1.5.670",
        "fails: JDV_InjectionPDC_TEP-CISIS",
        set_attrs(ACTE + "/h:code/h:qualifier/h:value", code="MED-9999"),
    ),
    Case(
        "da-contre-indication-hors-jdv",
        "img-da-img",
        DA_IRM,
        "first contra-indication (64100-1) value 77386006 → MED-9999 (TerminologieCISIS, not in JDV 659)",
        "Contre-indication from JDV_Contre-indications-CISIS 1.2.250.1.213.1.1.5.659",
        "fails: JDV_Contre-indications-CISIS",
        set_attrs(CONTRE_INDICATION + "/h:value", code="MED-9999", codeSystem="1.2.250.1.213.1.1.4.322"),
    ),
    Case(
        "da-modalite-displayname-faux",
        "img-da-img",
        DA_IRM,
        "first requested act: modality MR kept, displayName 'IRM' → 'Radiographie'",
        "the code's label should be the JDV's (displayName of JDV 660)",
        "no rule: the displayName assert of dansJeuDeValeurs is commented out",
        set_attrs(ACTE + "/h:code", displayName="Radiographie"),
    ),
    # --- IMG-DA-IMG: cardinalities
    Case(
        "da-deux-qualificatifs",
        "img-da-img",
        DA_IRM,
        "first requested act: its targetSiteCode/qualifier (106233006 → 7771000 gauche) duplicated",
        "Précision topographique [0..*] (volet table; the example comment says 0..*)",
        "fails: S_PlanDeSoins asserts count(targetSiteCode/qualifier/value) = 1 (cisis-content §1.4, §7.4b)",
        duplicate(ACTE + "/h:targetSiteCode/h:qualifier"),
    ),
    Case(
        "da-urgence-sans-justification",
        "img-da-img",
        DA_TEP,
        "TEP act: priorityCode UR kept, its originalText (justification) removed",
        "Urgence: justification required when UR (volet table; S_PlanDeSoins)",
        "fails: S_PlanDeSoins 'UR ⇔ originalText/reference'",
        remove(ACTE + "/h:priorityCode/h:originalText"),
    ),
    Case(
        "da-date-souhaitee-absente",
        "img-da-img",
        DA_TEP,
        "TEP act: effectiveTime (date souhaitée) removed",
        "DOCCORE FR-Demande-d-examen-ou-de-suivi-IMG-DA: effectiveTime 1..1; the examples' comment says [0..1] "
        "(cisis-content §1.3, §7.5)",
        "no rule",
        remove(ACTE + "/h:effectiveTime"),
    ),
    Case(
        "da-deux-commentaires",
        "img-da-img",
        DA_TEP,
        "TEP act: its FR-Commentaire-ER duplicated",
        "Commentaire sur la modalité [0..1]",
        "no failure: the S_PlanDeSoins '≤ 1 FR-Commentaire-ER' assert counts observation[templateId="
        "1.2.250.1.213.1.1.3.32], but FR-Commentaire-ER is an act, so it never counts anything",
        duplicate(ACTE + "/" + COMMENTAIRE),
    ),
    Case(
        "da-deux-localisations-lateralisees",
        "img-da-img",
        DA_IRM,
        "first requested act: its targetSiteCode (with its qualifier 106233006 → gauche) duplicated",
        "Localisation anatomique [1..*], each with Précision topographique [0..*] (volet table)",
        "fails: S_PlanDeSoins count(targetSiteCode/qualifier/value) = 1 counts across all targetSiteCodes",
        duplicate(ACTE + "/h:targetSiteCode"),
    ),
    Case(
        "da-sans-plan-de-soins",
        "img-da-img",
        DA_SCANNER,
        "section FR-Plan-de-soins-IMG-DA (1.2.250.1.213.1.1.2.158.3) removed",
        "Actes d'imagerie demandés [1..1] with ≥ 1 acte",
        "fails: principal (section 158.3 exactly once)",
        remove("//h:component[h:section/h:templateId/@root='1.2.250.1.213.1.1.2.158.3']"),
    ),
    Case(
        "da-patient-informe-absent",
        "img-da-img",
        DA_SCANNER,
        "section Information du patient: the MED-1130 observation (patient informé des risques) removed",
        "Patient informé des risques [1..1]",
        "fails: S_EducationDuPatient (an entry with MED-1130)",
        remove("//h:entry[h:observation/h:code/@code='MED-1130']"),
    ),
    # --- IMG-CR-IMG
    Case(
        "cr-deux-series",
        "img-cr-img",
        CR,
        "first FR-DICOM-Examen-imagerie: its FR-DICOM-Serie-imagerie entryRelationship duplicated",
        "Série [1..*] per examen (the assert's own message says 1..*)",
        "fails: E_ExamenImagerie asserts count(series) = 1 (cisis-content §2.2, §7.4c)",
        duplicate(
            "//h:act[h:templateId/@root='1.2.840.10008.9.16']/h:entryRelationship"
            "[h:act/h:templateId/@root='1.2.840.10008.9.17']"
        ),
    ),
    Case(
        "cr-region-hors-jdv",
        "img-cr-img",
        CR,
        "first serviceEvent: the anatomic-region translation (qualifier 39111-0) 774007 → 999999999",
        "Région anatomique from JDV_RegionAnatomique-CISIS 1.2.250.1.213.1.1.5.695 (also the XDS eventCode)",
        "no failure: JDV_RegionAnatomique-CISIS.sch exists but is not included/active (cisis-content §2.2, §7.4d)",
        set_attrs("//h:serviceEvent/h:code/h:translation[h:qualifier/h:name/@code='39111-0']", code="999999999"),
    ),
    Case(
        "cr-modalite-entete-hors-jdv",
        "img-cr-img",
        CR,
        "first serviceEvent: the modality translation (qualifier 121139) CT → XX",
        "Modalité from JDV_ModaliteAcquisition-CISIS 1.2.250.1.213.1.1.5.618",
        "fails: JDV_ModaliteImagerieDocumentationOf-CISIS",
        set_attrs("//h:serviceEvent/h:code/h:translation[h:qualifier/h:name/@code='121139']", code="XX"),
    ),
    Case(
        "cr-accession-absent",
        "img-cr-img",
        CR,
        "first inFulfillmentOf/order: ps3-20:accessionNumber removed",
        "Accession number required in each order (cisis-content §2.1)",
        "fails: Entete_IMG-CR-IMG (inFulfillmentOf rule)",
        remove("//h:inFulfillmentOf/h:order/ps3-20:accessionNumber"),
    ),
    Case(
        "cr-localisation-technique-hors-jdv",
        "img-cr-img",
        CR,
        "first FR-DICOM-Technique-imagerie: targetSiteCode → 999999999",
        "Localisation anatomique from JDV 694",
        "fails: JDV_LocalisationAnatomiqueTechniqueImg-CISIS",
        set_attrs("//h:procedure[h:templateId/@root='1.2.250.1.213.1.1.3.153']/h:targetSiteCode", code="999999999"),
    ),
    Case(
        "cr-sans-conclusion",
        "img-cr-img",
        CR,
        "section FR-DICOM-Conclusion (1.2.250.1.213.1.1.2.209) removed",
        "Conclusion [1..1]",
        "fails: principal (section 209 exactly once)",
        remove("//h:component[h:section/h:templateId/@root='1.2.250.1.213.1.1.2.209']"),
    ),
)


def example_cases() -> tuple[Case, ...]:
    """The 9 official examples, unmodified."""
    return tuple(
        Case(f"example:{name}", kind, name, "none (the official example)", "valid", "see the table", None)
        for name, kind in EXAMPLES.items()
    )
