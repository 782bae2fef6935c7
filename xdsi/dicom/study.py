"""Synthetic imaging studies written with pydicom: deterministic with a seed, fast enough for benchmarks.

``generate_study(out_dir, modality="CT", series=2, instances=3, seed=0)`` writes ``<series UID>/<SOP UID>.dcm``
files (DICOM Part 10, explicit VR little endian, small deterministic pixel data) and returns a
:class:`StudyInfo`; ``read_study(directory)`` rebuilds the same :class:`StudyInfo` from the files.

Identity conventions (what the KOS builder and the consistency rules rely on):

* the images carry the local identifier (IPP) in Patient ID (0010,0020) with its issuer OID in
  Issuer of Patient ID Qualifiers, and the INS in Other Patient IDs Sequence (0010,1002) with Issuer of Patient
  ID ``ASIP-SANTE-INS-NIR`` and the INS OID (``1.2.250.1.213.1.4.10`` for test INS) as Universal Entity ID;
* the accession number (0008,0050) has its Issuer of Accession Number Sequence (0008,0051);
* the placer order number and its issuer sit in Request Attributes Sequence (0040,0275) of every series;
* Body Part Examined (0018,0015) and Anatomic Region Sequence (0008,2218, SNOMED CT) give the region.

``generate_study(out_dir, exam=examples.Exam())`` produces exactly the example exam of
:mod:`xdsi.messages.examples` (its UIDs, patient, accession, order, modality, region, procedure, date); with an
exam, its ``series`` and ``instances_per_series`` decide the counts.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from xdsi.dicom import vocab
from xdsi.messages import examples
from xdsi.model import identifiers as ids
from xdsi.model import metadata as md
from xdsi.model.metadata import Code

_NS = uuid.UUID("5f0c3a7e-8a1d-4c52-9b8e-2f4d6a1c9e33")
ORG_ROOT = examples.ORG_ROOT
CHARSET = "ISO_IR 100"


# --------------------------------------------------------------------------------------------------------------
# The description of a study
# --------------------------------------------------------------------------------------------------------------
@dataclass
class InstanceInfo:
    sop_class_uid: str
    sop_instance_uid: str
    path: Path
    transfer_syntax_uid: str = vocab.EXPLICIT_VR_LITTLE_ENDIAN
    instance_number: int = 0


@dataclass
class SeriesInfo:
    series_instance_uid: str
    modality: str
    body_part: str
    instances: list[InstanceInfo] = field(default_factory=list)
    series_number: int = 0
    series_description: str = ""
    frame_of_reference_uid: str = ""


@dataclass
class StudyInfo:
    """One study: the identifiers the XDS-I.b metadata derives from, and every instance written."""

    patient_id: str  # local identifier (IPP), Patient ID (0010,0020) of the images
    patient_name: str
    ins: str  # INS matricule (15 characters)
    ins_issuer: str  # INS OID
    accession_number: str
    accession_issuer: str  # OID
    order_number: str  # placer order number
    order_issuer: str  # OID
    study_instance_uid: str
    study_date: str  # DA
    modality: str  # the first series' modality
    body_part: str
    series: list[SeriesInfo] = field(default_factory=list)
    study_time: str = ""  # TM
    patient_id_issuer: str = ""  # OID of the IPP domain
    patient_birth_date: str = ""
    patient_sex: str = ""
    study_id: str = ""
    study_description: str = ""
    procedure_code: Code | None = None  # XDS-style code (code, scheme OID, display)
    referring_physician_name: str = ""
    institution_name: str = ""
    directory: Path | None = None

    @property
    def modalities(self) -> list[str]:
        """The distinct modalities of the series, in series order."""
        return list(dict.fromkeys(s.modality for s in self.series))

    @property
    def body_parts(self) -> list[str]:
        return list(dict.fromkeys(s.body_part for s in self.series if s.body_part))

    @property
    def region_codes(self) -> list[str]:
        """The JDV_RegionAnatomique-CISIS SNOMED CT codes of the series' body parts."""
        return list(dict.fromkeys(r for r in (vocab.region_of(b) for b in self.body_parts) if r))

    @property
    def instances(self) -> list[InstanceInfo]:
        return [i for s in self.series for i in s.instances]

    @property
    def references(self) -> list[tuple[str, str]]:
        """(SOP class UID, SOP instance UID) of every instance, in series order."""
        return [(i.sop_class_uid, i.sop_instance_uid) for i in self.instances]

    @property
    def study_datetime(self) -> str:
        return f"{self.study_date}{self.study_time[:6]}" if self.study_time else self.study_date


# --------------------------------------------------------------------------------------------------------------
# Deterministic values
# --------------------------------------------------------------------------------------------------------------
def seeded_uid(seed: int, *parts: str) -> str:
    """A deterministic DICOM UID (2.25 form) from a seed and a name."""
    return f"2.25.{uuid.uuid5(_NS, '/'.join((str(seed), *parts))).int}"


def nir_key(first13: str) -> str:
    """The 2-digit key of a NIR (97 - n mod 97; Corsica 2A/2B counted as 19/18)."""
    digits = first13.upper().replace("2A", "19").replace("2B", "18")
    return f"{97 - int(digits) % 97:02d}"


def _test_ins(rng: random.Random) -> str:
    sex = rng.choice("12")
    body = f"{sex}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 95):02d}{rng.randint(1, 999):03d}"
    body += f"{rng.randint(1, 999):03d}"
    return body + nir_key(body)


_FAMILY = ("DUPONT", "MARTIN", "BERNARD", "PETIT", "DURAND", "LEROY", "MOREAU", "SIMON", "LAURENT", "MICHEL")
_GIVEN_F = ("Marie", "Claire", "Julie", "Sophie", "Anne")
_GIVEN_M = ("Pierre", "Jean", "Louis", "Paul", "Marc")

_OVERRIDABLE = {
    "patient_id",
    "patient_name",
    "ins",
    "ins_issuer",
    "accession_number",
    "accession_issuer",
    "order_number",
    "order_issuer",
    "study_instance_uid",
    "study_date",
    "study_time",
    "body_part",
    "patient_id_issuer",
    "patient_birth_date",
    "patient_sex",
    "study_id",
    "study_description",
    "procedure_code",
    "referring_physician_name",
    "institution_name",
}


def _defaults(modality: str, seed: int) -> dict[str, Any]:
    rng = random.Random(f"xdsi-study-{seed}")
    ins = _test_ins(rng)
    female = ins[0] == "2"
    given = rng.choice(_GIVEN_F if female else _GIVEN_M)
    date = f"2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return {
        "patient_id": f"IPP{seed:06d}",
        "patient_name": f"{rng.choice(_FAMILY)}^{given}",
        "ins": ins,
        "ins_issuer": ids.INS_NIR_TEST,
        "accession_number": f"ACC{date}{seed % 1000:03d}",
        "accession_issuer": f"{ORG_ROOT}.1.1",
        "order_number": f"CMD-{date[:4]}-{seed:04d}",
        "order_issuer": f"{ORG_ROOT}.1.2",
        "study_instance_uid": seeded_uid(seed, "study"),
        "study_date": date,
        "study_time": f"{rng.randint(8, 17):02d}{rng.randint(0, 59):02d}00",
        "body_part": vocab.modality_info(modality).body_part,
        "patient_id_issuer": f"{ORG_ROOT}.5",
        "patient_birth_date": f"19{ins[1:3]}{ins[3:5]}{rng.randint(1, 28):02d}",
        "patient_sex": "F" if female else "M",
        "study_id": f"S{seed % 100000:05d}",
        "study_description": f"Examen {modality}",
        "procedure_code": None,
        "referring_physician_name": "MARTIN^Claire",
        "institution_name": "Cabinet de radiologie du Parc",
    }


def _from_exam(exam: examples.Exam) -> dict[str, Any]:
    region = exam.region.code
    return {
        "patient_id": exam.patient_ipp,
        "patient_name": "DUPONT^Marie",
        "ins": exam.patient_ins,
        "ins_issuer": ids.INS_NIR_TEST,
        "accession_number": exam.accession_number,
        "accession_issuer": exam.accession_issuer,
        "order_number": exam.order_number,
        "order_issuer": exam.order_issuer,
        "study_instance_uid": exam.study_uid,
        "study_date": exam.study_date[:8],
        "study_time": exam.study_date[8:14] or "000000",
        "body_part": vocab.REGION_BODY_PART.get(region, vocab.modality_info(exam.modality.code).body_part),
        "patient_id_issuer": f"{ORG_ROOT}.5",
        "patient_birth_date": "19800315",
        "patient_sex": "F",
        "study_id": "1",
        "study_description": exam.procedure.display or "Examen",
        "procedure_code": exam.procedure,
        "referring_physician_name": "MARTIN^Claire",
        "institution_name": examples.CLINIC.name,
    }


# --------------------------------------------------------------------------------------------------------------
# Pixel data
# --------------------------------------------------------------------------------------------------------------
def _base_image(rows: int, columns: int, bits: int, seed: int) -> np.ndarray:
    """A phantom: a disc on a gradient with a little seeded noise; computed once per series shape."""
    y, x = np.mgrid[0:rows, 0:columns]
    cy, cx = rows / 2, columns / 2
    r = np.hypot((y - cy) / max(rows, 1), (x - cx) / max(columns, 1))
    maxval = (1 << min(bits, 12)) - 1
    img = (x * (maxval // 4) // max(columns, 1)).astype(np.int32)
    img += np.where(r < 0.35, maxval // 2, 0)
    noise = np.random.default_rng(seed).integers(0, 16, size=(rows, columns), dtype=np.int32)
    img += noise
    return np.clip(img, 0, maxval)


def _pixels(base: np.ndarray, index: int, bits: int) -> bytes:
    maxval = (1 << min(bits, 12)) - 1
    shifted = base + (index * 37) % 64
    np.clip(shifted, 0, maxval, out=shifted)
    return shifted.astype(np.uint8 if bits <= 8 else "<u2").tobytes()


# --------------------------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------------------------
def _issuer_seq(oid: str) -> Sequence:
    it = Dataset()
    it.UniversalEntityID = oid
    it.UniversalEntityIDType = "ISO"
    return Sequence([it])


def code_item(code: Code) -> Dataset:
    """A DICOM code sequence item from an XDS-style code (scheme OID -> designator, Coding Scheme UID if local)."""
    it = Dataset()
    it.CodeValue = code.code
    designator = vocab.OID_DESIGNATORS.get(code.scheme, code.scheme if len(code.scheme) <= 16 else "99XDSI")
    it.CodingSchemeDesignator = designator
    if designator not in ("DCM", "SCT", "LN"):
        it.CodingSchemeUID = code.scheme
    it.CodeMeaning = (code.display or code.code)[:64]
    return it


def patient_module(ds: Dataset, info: StudyInfo) -> None:
    ds.PatientName = info.patient_name
    ds.PatientID = info.patient_id
    if info.patient_id_issuer:
        ds.IssuerOfPatientIDQualifiersSequence = _issuer_seq(info.patient_id_issuer)
    ds.PatientBirthDate = info.patient_birth_date
    ds.PatientSex = info.patient_sex
    other = Dataset()
    other.PatientID = info.ins
    other.IssuerOfPatientID = vocab.INS_ISSUER_TEXT
    other.TypeOfPatientID = "TEXT"
    other.IssuerOfPatientIDQualifiersSequence = _issuer_seq(info.ins_issuer)
    ds.OtherPatientIDsSequence = Sequence([other])


def _request_attributes(info: StudyInfo) -> Dataset:
    it = Dataset()
    it.AccessionNumber = info.accession_number
    it.IssuerOfAccessionNumberSequence = _issuer_seq(info.accession_issuer)
    it.StudyInstanceUID = info.study_instance_uid
    it.RequestedProcedureID = info.accession_number[-16:]
    it.ScheduledProcedureStepID = info.accession_number[-16:]
    it.PlacerOrderNumberImagingServiceRequest = info.order_number
    it.OrderPlacerIdentifierSequence = _issuer_seq(info.order_issuer)
    if info.procedure_code is not None:
        it.RequestedProcedureCodeSequence = Sequence([code_item(info.procedure_code)])
    return it


def _modality_module(ds: Dataset, modality: str, series: SeriesInfo, index: int, rows: int, columns: int) -> None:
    """The modality-specific attributes (CT, MR, CR, DX, MG, US, NM, PT, XA, RF, SC)."""
    cross_sectional = modality in ("CT", "MR", "PT", "NM")
    if cross_sectional:
        if modality in ("CT", "MR"):
            ds.PatientPosition = "HFS"
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-(columns / 2), -(rows / 2), -5.0 * index]
        ds.PixelSpacing = [0.7, 0.7]
        ds.SliceThickness = 5.0
        ds.SliceLocation = -5.0 * index
        ds.PositionReferenceIndicator = ""
    else:
        ds.PatientOrientation = ["L", "F"] if modality not in ("US",) else ""
    if modality == "CT":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        ds.RescaleType = "HU"
        ds.KVP = 120
        ds.WindowCenter = 40
        ds.WindowWidth = 400
    elif modality == "MR":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
        ds.ScanningSequence = "SE"
        ds.SequenceVariant = "NONE"
        ds.ScanOptions = ""
        ds.MRAcquisitionType = "2D"
        ds.RepetitionTime = 500.0
        ds.EchoTime = 15.0
        ds.EchoTrainLength = 1
        ds.MagneticFieldStrength = 1.5
    elif modality == "CR":
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.ViewPosition = "PA"
        ds.ImagerPixelSpacing = [0.15, 0.15]
    elif modality in ("DX", "MG"):
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.ImageLaterality = "L" if modality == "MG" else "U"
        ds.PixelIntensityRelationship = "LIN"
        ds.PixelIntensityRelationshipSign = 1
        ds.RescaleIntercept = 0
        ds.RescaleSlope = 1
        ds.RescaleType = "US"
        ds.PresentationLUTShape = "IDENTITY"
        ds.LossyImageCompression = "00"
        ds.BurnedInAnnotation = "NO"
        ds.DetectorType = "DIRECT"
        ds.ImagerPixelSpacing = [0.1, 0.1]
        ds.PixelSpacing = [0.1, 0.1]
        ds.AcquisitionContextSequence = Sequence([])
        ds.WindowCenter = 2048
        ds.WindowWidth = 4096
        view = Dataset()
        view.CodingSchemeDesignator = "SCT"
        view.ViewModifierCodeSequence = Sequence([])
        ds.ViewCodeSequence = Sequence([view])
        if modality == "DX":
            ds.ViewPosition = "PA"
            ds.PositionerType = "COLUMN"
            view.CodeValue = "399348003"
            view.CodeMeaning = "postero-anterior"
        else:
            ds.PositionerType = "MAMMOGRAPHIC"
            ds.BreastImplantPresent = "NO"
            ds.OrganExposed = "BREAST"
            view.CodeValue = "399162004"
            view.CodeMeaning = "cranio-caudal"
            ds.PartialView = "NO"
            ds.DistanceSourceToDetector = 650.0
            ds.DistanceSourceToPatient = 630.0
            ds.BodyPartThickness = 50.0
            ds.CompressionForce = 100.0
            ds.EstimatedRadiographicMagnificationFactor = round(650.0 / 630.0, 4)
            ds.PixelPaddingValue = 0
    elif modality == "US":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "ABDOMINAL"]
        ds.LossyImageCompression = "00"
    elif modality == "PT":
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.Units = "BQML"
        ds.CountsSource = "EMISSION"
        ds.SeriesType = ["STATIC", "IMAGE"]
        ds.CorrectedImage = ["ATTN", "DECY"]
        ds.DecayCorrection = "START"
        ds.RandomsCorrectionMethod = "NONE"
        ds.CollimatorType = "NONE"
        ds.NumberOfSlices = len(series.instances) or 1
        ds.ImageIndex = index + 1
        ds.FrameReferenceTime = 0.0
        ds.ActualFrameDuration = 300000
        ds.RescaleIntercept = 0
        ds.RescaleSlope = 1
        ds.DecayFactor = 1.0
        ds.AcquisitionDate = ds.SeriesDate
        ds.AcquisitionTime = ds.SeriesTime
        ds.RadiopharmaceuticalInformationSequence = Sequence([])
        ds.PatientOrientationCodeSequence = Sequence([])
        ds.PatientGantryRelationshipCodeSequence = Sequence([])
    elif modality == "NM":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "STATIC", "EMISSION"]
        ds.NumberOfFrames = 1
        ds.FrameIncrementPointer = [0x00540010, 0x00540020]
        ds.PatientOrientationCodeSequence = Sequence([])
        ds.PatientGantryRelationshipCodeSequence = Sequence([])
        ds.CountsAccumulated = None
        ds.ActualFrameDuration = 300000
        ds.EnergyWindowVector = [1]
        ds.NumberOfEnergyWindows = 1
        ds.EnergyWindowInformationSequence = Sequence([])
        ds.RadiopharmaceuticalInformationSequence = Sequence([])
        det = Dataset()
        det.ImagePositionPatient = [-(columns / 2), -(rows / 2), 0.0]
        det.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        det.FocalDistance = 0
        det.CollimatorType = "PARA"
        ds.DetectorVector = [1]
        ds.NumberOfDetectors = 1
        ds.DetectorInformationSequence = Sequence([det])
        for key in ("ImagePositionPatient", "ImageOrientationPatient", "SliceLocation", "SliceThickness"):
            del ds[key]
    elif modality in ("XA", "RF"):
        ds.ImageType = ["ORIGINAL", "PRIMARY", "SINGLE PLANE"]
        ds.PixelIntensityRelationship = "LIN"
        ds.KVP = 80
        ds.XRayTubeCurrent = 10
        ds.ExposureTime = 100
        ds.Exposure = 1
        if modality == "XA":
            ds.PositionerMotion = "STATIC"
            ds.PositionerPrimaryAngle = 0
            ds.PositionerSecondaryAngle = 0
        ds.RadiationSetting = "GR"
        ds.LossyImageCompression = "00"
    else:  # SC
        ds.ConversionType = "WSD"


def _instance_dataset(
    info: StudyInfo, series: SeriesInfo, inst: InstanceInfo, index: int, rows: int, columns: int, bits: int
) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = CHARSET
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.InstanceCreationDate = info.study_date
    ds.InstanceCreationTime = info.study_time
    ds.SOPClassUID = inst.sop_class_uid
    ds.SOPInstanceUID = inst.sop_instance_uid
    ds.StudyDate = info.study_date
    ds.SeriesDate = info.study_date
    ds.ContentDate = info.study_date
    ds.StudyTime = info.study_time
    ds.SeriesTime = info.study_time
    ds.ContentTime = info.study_time
    ds.AccessionNumber = info.accession_number
    ds.IssuerOfAccessionNumberSequence = _issuer_seq(info.accession_issuer)
    ds.Modality = series.modality
    ds.Manufacturer = "XDSI"
    ds.InstitutionName = info.institution_name
    ds.ReferringPhysicianName = info.referring_physician_name
    ds.StationName = "XDSI-SIM"
    ds.StudyDescription = info.study_description
    if info.procedure_code is not None:
        ds.ProcedureCodeSequence = Sequence([code_item(info.procedure_code)])
    ds.SeriesDescription = series.series_description
    ds.ManufacturerModelName = "xdsi study generator"
    patient_module(ds, info)
    ds.BodyPartExamined = series.body_part
    region = vocab.region_of(series.body_part)
    if region:
        ds.AnatomicRegionSequence = Sequence([code_item(Code(region, md.SNOMED_CT, vocab.REGION_MEANINGS[region]))])
    ds.DeviceSerialNumber = "0001"
    ds.SoftwareVersions = "xdsi"
    ds.StudyInstanceUID = info.study_instance_uid
    ds.SeriesInstanceUID = series.series_instance_uid
    ds.StudyID = info.study_id
    ds.SeriesNumber = series.series_number
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = inst.instance_number
    if series.modality in ("CT", "MR", "PT", "NM") and series.frame_of_reference_uid:
        ds.FrameOfReferenceUID = series.frame_of_reference_uid
    ds.RequestAttributesSequence = Sequence([_request_attributes(info)])
    _modality_module(ds, series.modality, series, index, rows, columns)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = 8 if bits <= 8 else 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    return ds


def _file_meta(sop_class: str, sop_instance: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance)
    meta.TransferSyntaxUID = UID(vocab.EXPLICIT_VR_LITTLE_ENDIAN)
    meta.ImplementationClassUID = UID(vocab.IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = vocab.IMPLEMENTATION_VERSION_NAME
    return meta


def _split_modalities(modality: str) -> list[str]:
    mods = [m.strip().upper() for m in modality.replace("+", ",").split(",") if m.strip()]
    if not mods:
        raise ValueError("no modality given")
    for m in mods:
        vocab.modality_info(m)
    return mods


# --------------------------------------------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------------------------------------------
def generate_study(
    out_dir: Path,
    *,
    modality: str = "CT",
    series: int = 2,
    instances: int = 3,
    rows: int = 64,
    columns: int = 64,
    seed: int = 0,
    exam: examples.Exam | None = None,
    write: bool = True,
    **overrides: Any,
) -> StudyInfo:
    """Write a synthetic study under ``out_dir`` and describe it (``write=False``: describe it only).

    ``modality`` may list several modalities (``"PT,CT"``): the series take them in turn. ``overrides`` set any
    of the identity fields of :class:`StudyInfo` (``patient_id``, ``patient_name``, ``ins``, ``accession_number``,
    ``order_number``, ``study_instance_uid``, ``study_date``, ``body_part``, ``procedure_code`` …). With ``exam``,
    the study is that example exam (its UIDs, counts, identifiers); overrides still apply on top.
    Same arguments -> same UIDs and same bytes.
    """
    unknown = set(overrides) - _OVERRIDABLE
    if unknown:
        raise TypeError(f"generate_study: unknown overrides {sorted(unknown)}")
    if rows < 1 or columns < 1 or series < 1 or instances < 1:
        raise ValueError("rows, columns, series and instances must be at least 1")
    out_dir = Path(out_dir)
    if exam is not None:
        modality = exam.modality.code
        series, instances = exam.series, exam.instances_per_series
        values = _from_exam(exam)
    else:
        values = _defaults(_split_modalities(modality)[0], seed)
    values.update(overrides)
    mods = _split_modalities(modality)
    info = StudyInfo(
        modality=mods[0],
        **{k: v for k, v in values.items() if k in {f.name for f in fields(StudyInfo)}},
    )
    info.directory = out_dir
    if write:
        out_dir.mkdir(parents=True, exist_ok=True)
    bases: dict[tuple[int, int, int], np.ndarray] = {}
    for s in range(series):
        mod = mods[s % len(mods)]
        minfo = vocab.modality_info(mod)
        series_uid = exam.series_uid(s) if exam is not None else seeded_uid(seed, "series", str(s))
        body_part = values["body_part"] if mod == mods[0] or "body_part" in overrides or exam else minfo.body_part
        frame = seeded_uid(seed, "frame", series_uid) if mod in ("CT", "MR", "PT", "NM") else ""
        se = SeriesInfo(
            series_uid,
            mod,
            body_part,
            series_number=s + 1,
            series_description=f"{mod} série {s + 1}",
            frame_of_reference_uid=frame,
        )
        info.series.append(se)
        sdir = out_dir / series_uid
        if write:
            sdir.mkdir(parents=True, exist_ok=True)
        for i in range(instances):
            sop_uid = exam.instance_uid(s, i) if exam is not None else seeded_uid(seed, "instance", str(s), str(i))
            se.instances.append(
                InstanceInfo(minfo.sop_class_uid, sop_uid, sdir / f"{sop_uid}.dcm", instance_number=i + 1)
            )
        if not write:
            continue
        bits = minfo.bits_stored
        key = (rows, columns, bits)
        if key not in bases:
            bases[key] = _base_image(rows, columns, bits, seed)
        for i, inst in enumerate(se.instances):
            ds = _instance_dataset(info, se, inst, i, rows, columns, bits)
            ds.PixelData = _pixels(bases[key], s * instances + i, bits)
            ds.file_meta = _file_meta(inst.sop_class_uid, inst.sop_instance_uid)
            ds.preamble = b"\0" * 128
            pydicom.dcmwrite(inst.path, ds, enforce_file_format=True)
    return info


def _code_from_item(item: Dataset) -> Code | None:
    value = str(item.get("CodeValue", "") or "")
    if not value:
        return None
    designator = str(item.get("CodingSchemeDesignator", "") or "")
    scheme = str(item.get("CodingSchemeUID", "") or "") or vocab.DESIGNATOR_OIDS.get(designator, designator)
    return Code(value, scheme, str(item.get("CodeMeaning", "") or ""))


def _first_oid(ds: Dataset, keyword: str) -> str:
    seq = ds.get(keyword)
    if seq:
        return str(seq[0].get("UniversalEntityID", "") or "")
    return ""


def read_study(directory: Path | str) -> StudyInfo:
    """Rebuild a :class:`StudyInfo` from the DICOM files under ``directory`` (any layout; pixel data not read).

    Files that are not DICOM are skipped; a directory holding no instance, or instances of several studies,
    raises ``ValueError``.
    """
    directory = Path(directory)
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    datasets: list[tuple[Path, Dataset]] = []
    for p in files:
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True)
        except Exception:
            continue
        if "SOPInstanceUID" not in ds or "StudyInstanceUID" not in ds:
            continue
        if str(ds.get("SOPClassUID", "")) == vocab.KOS_SOP_CLASS:
            continue  # a manifest lying beside the study is not one of its instances
        datasets.append((p, ds))
    if not datasets:
        raise ValueError(f"{directory}: no DICOM instance found")
    studies = {str(ds.StudyInstanceUID) for _, ds in datasets}
    if len(studies) > 1:
        raise ValueError(f"{directory}: instances of {len(studies)} studies ({', '.join(sorted(studies))})")
    first = datasets[0][1]
    ins, ins_issuer = "", ""
    for other in first.get("OtherPatientIDsSequence", []):
        oid = _first_oid(other, "IssuerOfPatientIDQualifiersSequence")
        if oid in vocab.INS_OIDS or str(other.get("IssuerOfPatientID", "")) == vocab.INS_ISSUER_TEXT:
            ins, ins_issuer = str(other.get("PatientID", "")), oid
            break
    pid_issuer = _first_oid(first, "IssuerOfPatientIDQualifiersSequence")
    if not ins and pid_issuer in vocab.INS_OIDS:
        ins, ins_issuer = str(first.get("PatientID", "")), pid_issuer
    req = first.get("RequestAttributesSequence")
    req0 = req[0] if req else Dataset()
    procedure = None
    for seq in (first.get("ProcedureCodeSequence"), req0.get("RequestedProcedureCodeSequence")):
        if seq:
            procedure = _code_from_item(seq[0])
            break
    series_map: dict[str, SeriesInfo] = {}
    for p, inst_ds in datasets:
        suid = str(inst_ds.get("SeriesInstanceUID", ""))
        se = series_map.get(suid)
        if se is None:
            se = SeriesInfo(
                suid,
                str(inst_ds.get("Modality", "")),
                str(inst_ds.get("BodyPartExamined", "") or ""),
                series_number=int(inst_ds.get("SeriesNumber") or 0),
                series_description=str(inst_ds.get("SeriesDescription", "") or ""),
                frame_of_reference_uid=str(inst_ds.get("FrameOfReferenceUID", "") or ""),
            )
            series_map[suid] = se
        ts = str(inst_ds.file_meta.get("TransferSyntaxUID", "")) if getattr(inst_ds, "file_meta", None) else ""
        se.instances.append(
            InstanceInfo(
                str(inst_ds.SOPClassUID),
                str(inst_ds.SOPInstanceUID),
                p,
                ts or vocab.IMPLICIT_VR_LITTLE_ENDIAN,
                int(inst_ds.get("InstanceNumber") or 0),
            )
        )
    series_list = sorted(series_map.values(), key=lambda s: (s.series_number, s.series_instance_uid))
    for se in series_list:
        se.instances.sort(key=lambda i: (i.instance_number, i.sop_instance_uid))
    return StudyInfo(
        patient_id=str(first.get("PatientID", "") or ""),
        patient_name=str(first.get("PatientName", "") or ""),
        ins=ins,
        ins_issuer=ins_issuer,
        accession_number=str(first.get("AccessionNumber", "") or req0.get("AccessionNumber", "") or ""),
        accession_issuer=_first_oid(first, "IssuerOfAccessionNumberSequence")
        or _first_oid(req0, "IssuerOfAccessionNumberSequence"),
        order_number=str(req0.get("PlacerOrderNumberImagingServiceRequest", "") or ""),
        order_issuer=_first_oid(req0, "OrderPlacerIdentifierSequence"),
        study_instance_uid=str(first.StudyInstanceUID),
        study_date=str(first.get("StudyDate", "") or ""),
        modality=series_list[0].modality,
        body_part=series_list[0].body_part,
        series=series_list,
        study_time=str(first.get("StudyTime", "") or ""),
        patient_id_issuer=pid_issuer,
        patient_birth_date=str(first.get("PatientBirthDate", "") or ""),
        patient_sex=str(first.get("PatientSex", "") or ""),
        study_id=str(first.get("StudyID", "") or ""),
        study_description=str(first.get("StudyDescription", "") or ""),
        procedure_code=procedure,
        referring_physician_name=str(first.get("ReferringPhysicianName", "") or ""),
        institution_name=str(first.get("InstitutionName", "") or ""),
        directory=directory,
    )
