"""DICOM vocabulary shared by the study generator, the KOS builder and the KOS rules.

Modalities (DICOM CID 29, the CI-SIS JDV_ModaliteAcquisition-CISIS 1.2.250.1.213.1.1.5.618 holds the same codes),
their storage SOP classes, and the body parts (0018,0015) mapped onto the ten SNOMED CT codes of
JDV_RegionAnatomique-CISIS 1.2.250.1.213.1.1.5.695 (cisis-content.md §3.2, xds-facts.md §8.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsi.model import identifiers as ids

KOS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"

#: Our implementation class UID (under the examples' fictitious organisation root) and version name, written
#: in every file meta group so that the bytes we write do not depend on the pydicom version.
IMPLEMENTATION_CLASS_UID = "1.2.250.1.999.42.9.1"
IMPLEMENTATION_VERSION_NAME = "XDSI_0_1"

#: The OIDs of the INS assigning authorities (NIR, NIA, NIR de test, NIR de démonstration).
INS_OIDS = (ids.INS_NIR, ids.INS_NIA, ids.INS_NIR_TEST, ids.INS_NIR_DEMO)
#: Issuer of Patient ID (0010,0021) as the ANS examples and DRIMbox write it for the INS.
INS_ISSUER_TEXT = "ASIP-SANTE-INS-NIR"

#: Well-known code-system OIDs: an issuer of accession or order number should never be one of them.
CODE_SYSTEM_OIDS = {
    "2.16.840.1.113883.6.96": "SNOMED CT",
    "2.16.840.1.113883.6.1": "LOINC",
    "1.2.840.10008.2.16.4": "DICOM DCM",
    "1.2.840.10008.2.6.1": "DICOM UID registry",
    "1.2.250.1.213.2.5": "CCAM",
    "2.16.840.1.113883.6.3": "CIM-10",
}

#: Coding scheme designators in DICOM code sequences -> the OID XDS uses as codingScheme.
DESIGNATOR_OIDS = {
    "DCM": "1.2.840.10008.2.16.4",
    "SCT": "2.16.840.1.113883.6.96",
    "SRT": "2.16.840.1.113883.6.96",
    "LN": "2.16.840.1.113883.6.1",
    "CCAM": "1.2.250.1.213.2.5",
}
OID_DESIGNATORS = {
    "1.2.840.10008.2.16.4": "DCM",
    "2.16.840.1.113883.6.96": "SCT",
    "2.16.840.1.113883.6.1": "LN",
    "1.2.250.1.213.2.5": "CCAM",
}


@dataclass(frozen=True)
class ModalityInfo:
    code: str
    sop_class_uid: str
    label: str  # French display, as the examples use
    body_part: str  # default (0018,0015)
    bits_stored: int  # 8 -> 8-bit pixels, else 16-bit allocated


MODALITIES: dict[str, ModalityInfo] = {
    m.code: m
    for m in (
        ModalityInfo("CT", "1.2.840.10008.5.1.4.1.1.2", "Tomodensitométrie", "CHEST", 12),
        ModalityInfo("MR", "1.2.840.10008.5.1.4.1.1.4", "Imagerie par résonance magnétique", "HEAD", 12),
        ModalityInfo("CR", "1.2.840.10008.5.1.4.1.1.1", "Radiographie numérisée", "CHEST", 12),
        ModalityInfo("DX", "1.2.840.10008.5.1.4.1.1.1.1", "Radiographie numérique", "CHEST", 12),
        ModalityInfo("MG", "1.2.840.10008.5.1.4.1.1.1.2", "Mammographie", "BREAST", 12),
        ModalityInfo("US", "1.2.840.10008.5.1.4.1.1.6.1", "Échographie", "ABDOMEN", 8),
        ModalityInfo("NM", "1.2.840.10008.5.1.4.1.1.20", "Médecine nucléaire", "WHOLEBODY", 16),
        ModalityInfo("PT", "1.2.840.10008.5.1.4.1.1.128", "Tomographie par émission de positons", "WHOLEBODY", 16),
        ModalityInfo("XA", "1.2.840.10008.5.1.4.1.1.12.1", "Angiographie", "HEART", 12),
        ModalityInfo("RF", "1.2.840.10008.5.1.4.1.1.12.2", "Radiofluoroscopie", "ABDOMEN", 12),
        ModalityInfo("OT", "1.2.840.10008.5.1.4.1.1.7", "Autre", "WHOLEBODY", 8),
    )
}

#: Storage SOP class -> modality, for the SOP classes a referenced series may hold (used to derive the
#: modalities of a KOS when the study itself is not at hand).
SOP_CLASS_MODALITY: dict[str, str] = {m.sop_class_uid: m.code for m in MODALITIES.values()} | {
    "1.2.840.10008.5.1.4.1.1.2.1": "CT",  # Enhanced CT
    "1.2.840.10008.5.1.4.1.1.4.1": "MR",  # Enhanced MR
    "1.2.840.10008.5.1.4.1.1.1.1.1": "DX",  # DX for processing
    "1.2.840.10008.5.1.4.1.1.1.2.1": "MG",  # MG for processing
    "1.2.840.10008.5.1.4.1.1.1.3": "IO",
    "1.2.840.10008.5.1.4.1.1.3.1": "US",  # US multi-frame
    "1.2.840.10008.5.1.4.1.1.130": "PT",  # Enhanced PET
    "1.2.840.10008.5.1.4.1.1.13.1.3": "MG",  # breast tomosynthesis
}

#: SNOMED CT codes of JDV_RegionAnatomique-CISIS with their displays.
REGIONS: dict[str, str] = {
    "63337009": "Segment abdominopelvien",
    "38266002": "Corps entier",
    "53120007": "Membre supérieur",
    "61685007": "Membre inférieur",
    "67734004": "Segment thoracique",
    "774007": "Tête et/ou cou",
    "113257007": "Système cardiovasculaire",
    "80891009": "Cœur",
    "76752008": "Sein",
    "737561001": "Colonne vertébrale et/ou moelle épinière",
}

#: English code meanings of the same codes, for DICOM code sequences (ISO_IR 100 cannot encode "Cœur").
REGION_MEANINGS: dict[str, str] = {
    "63337009": "Abdomen and Pelvis",
    "38266002": "Entire body",
    "53120007": "Upper limb",
    "61685007": "Lower limb",
    "67734004": "Thorax",
    "774007": "Head and Neck",
    "113257007": "Cardiovascular system",
    "80891009": "Heart",
    "76752008": "Breast",
    "737561001": "Spine and spinal cord",
}

#: Body Part Examined (0018,0015) defined terms -> JDV region code.
BODY_PART_REGION: dict[str, str] = {
    "CHEST": "67734004",
    "THORAX": "67734004",
    "LUNG": "67734004",
    "HEAD": "774007",
    "BRAIN": "774007",
    "SKULL": "774007",
    "NECK": "774007",
    "HEADNECK": "774007",
    "FACE": "774007",
    "JAW": "774007",
    "ABDOMEN": "63337009",
    "PELVIS": "63337009",
    "ABDOMENPELVIS": "63337009",
    "LIVER": "63337009",
    "KIDNEY": "63337009",
    "WHOLEBODY": "38266002",
    "ARM": "53120007",
    "HAND": "53120007",
    "SHOULDER": "53120007",
    "ELBOW": "53120007",
    "WRIST": "53120007",
    "LEG": "61685007",
    "KNEE": "61685007",
    "HIP": "61685007",
    "FOOT": "61685007",
    "ANKLE": "61685007",
    "AORTA": "113257007",
    "HEART": "80891009",
    "BREAST": "76752008",
    "SPINE": "737561001",
    "CSPINE": "737561001",
    "TSPINE": "737561001",
    "LSPINE": "737561001",
}

#: JDV region code -> the body part the generator writes for it.
REGION_BODY_PART: dict[str, str] = {
    "63337009": "ABDOMEN",
    "38266002": "WHOLEBODY",
    "53120007": "ARM",
    "61685007": "LEG",
    "67734004": "CHEST",
    "774007": "HEAD",
    "113257007": "AORTA",
    "80891009": "HEART",
    "76752008": "BREAST",
    "737561001": "SPINE",
}


def modality_info(code: str) -> ModalityInfo:
    try:
        return MODALITIES[code.upper()]
    except KeyError:
        raise ValueError(f"unknown modality {code!r}; known: {', '.join(MODALITIES)}") from None


def region_of(body_part: str | None) -> str | None:
    """The JDV region code of a Body Part Examined value, or None when it maps to none."""
    return BODY_PART_REGION.get((body_part or "").strip().upper())


def is_image_sop_class(sop_class_uid: str) -> bool:
    """Whether a storage SOP class is an image (KOS content item IMAGE) rather than COMPOSITE/WAVEFORM."""
    non_image = (
        "1.2.840.10008.5.1.4.1.1.88.",  # SR, KOS
        "1.2.840.10008.5.1.4.1.1.11.",  # presentation states
        "1.2.840.10008.5.1.4.1.1.104.",  # encapsulated documents
        "1.2.840.10008.5.1.4.1.1.9.",  # waveforms
        "1.2.840.10008.5.1.4.1.1.66",  # raw data, registration, segmentation (66.4 is an image, rare)
        "1.2.840.10008.5.1.4.1.1.481.",  # RT (481.1 RT image aside)
    )
    if sop_class_uid == "1.2.840.10008.5.1.4.1.1.481.1":
        return True
    return not sop_class_uid.startswith(non_image)


def tag_str(tag: int) -> str:
    """``(gggg,eeee)`` as the findings locate DICOM attributes."""
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def tag_path(*steps: int | tuple[int, int]) -> str:
    """A DICOM tag path: each step a tag, or (sequence tag, 1-based item index).

    ``tag_path((0x0040A375, 1), (0x00081115, 2), 0x0020000E)`` -> ``(0040,A375)[1]/(0008,1115)[2]/(0020,000E)``.
    """
    parts = []
    for step in steps:
        if isinstance(step, tuple):
            parts.append(f"{tag_str(step[0])}[{step[1]}]")
        else:
            parts.append(tag_str(step))
    return "/".join(parts)
