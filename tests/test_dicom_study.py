"""The synthetic study generator: determinism, modalities, the example exam, reading back, speed, dciodvfy."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pydicom
import pytest

from xdsi.dicom import vocab
from xdsi.dicom.study import StudyInfo, generate_study, nir_key, read_study
from xdsi.messages import examples
from xdsi.model import identifiers as ids

ALL_MODALITIES = ["CT", "MR", "CR", "DX", "MG", "US", "NM", "PT", "XA", "RF", "OT"]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.dcm"))}


def dciodvfy_errors(path: Path) -> list[str]:
    """The "Error" lines dciodvfy prints (its exit status is not meaningful: read the output)."""
    exe = shutil.which("dciodvfy")
    if exe is None:
        pytest.skip("dciodvfy is not installed (apt-get install dicom3tools)")
    out = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)
    return [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("Error")]


def test_same_seed_same_uids_and_bytes(tmp_path: Path) -> None:
    a = generate_study(tmp_path / "a", seed=7, series=2, instances=3)
    b = generate_study(tmp_path / "b", seed=7, series=2, instances=3)
    assert [i.sop_instance_uid for i in a.instances] == [i.sop_instance_uid for i in b.instances]
    assert a.study_instance_uid == b.study_instance_uid
    assert (a.ins, a.accession_number, a.patient_name) == (b.ins, b.accession_number, b.patient_name)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_another_seed_other_uids(tmp_path: Path) -> None:
    a = generate_study(tmp_path / "a", seed=1)
    b = generate_study(tmp_path / "b", seed=2)
    assert a.study_instance_uid != b.study_instance_uid
    assert not {i.sop_instance_uid for i in a.instances} & {i.sop_instance_uid for i in b.instances}


def test_layout_and_counts(tmp_path: Path) -> None:
    study = generate_study(tmp_path, series=3, instances=4)
    assert len(study.series) == 3 and all(len(s.instances) == 4 for s in study.series)
    for se in study.series:
        for inst in se.instances:
            assert inst.path == tmp_path / se.series_instance_uid / f"{inst.sop_instance_uid}.dcm"
            assert inst.transfer_syntax_uid == vocab.EXPLICIT_VR_LITTLE_ENDIAN
    assert len({i.sop_instance_uid for i in study.instances}) == 12


def test_identity_is_written(tmp_path: Path) -> None:
    study = generate_study(tmp_path, seed=3)
    ds = pydicom.dcmread(study.instances[0].path)
    assert ds.file_meta.TransferSyntaxUID == vocab.EXPLICIT_VR_LITTLE_ENDIAN
    assert ds.PatientID == study.patient_id
    other = ds.OtherPatientIDsSequence[0]
    assert other.PatientID == study.ins and other.IssuerOfPatientID == "ASIP-SANTE-INS-NIR"
    assert other.IssuerOfPatientIDQualifiersSequence[0].UniversalEntityID == ids.INS_NIR_TEST
    assert ds.AccessionNumber == study.accession_number
    assert ds.IssuerOfAccessionNumberSequence[0].UniversalEntityID == study.accession_issuer
    req = ds.RequestAttributesSequence[0]
    assert req.PlacerOrderNumberImagingServiceRequest == study.order_number
    assert req.OrderPlacerIdentifierSequence[0].UniversalEntityID == study.order_issuer
    assert ds.BodyPartExamined == study.body_part == "CHEST"
    assert ds.AnatomicRegionSequence[0].CodeValue == "67734004"
    # a valid test INS: 15 characters, right key
    assert len(study.ins) == 15 and nir_key(study.ins[:13]) == study.ins[13:]


def test_overrides(tmp_path: Path) -> None:
    study = generate_study(
        tmp_path, patient_id="IPP9", accession_number="ACC9", order_number="ORD9", ins="248039263001064",
        body_part="HEAD",
    )  # fmt: skip
    assert (study.patient_id, study.accession_number, study.order_number) == ("IPP9", "ACC9", "ORD9")
    assert study.ins == "248039263001064" and study.series[0].body_part == "HEAD"
    assert read_study(tmp_path).accession_number == "ACC9"


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="unknown overrides"):
        generate_study(tmp_path, colour="blue")
    with pytest.raises(ValueError, match="unknown modality"):
        generate_study(tmp_path, modality="XX")
    with pytest.raises(ValueError):
        generate_study(tmp_path, instances=0)


@pytest.mark.parametrize("modality", ALL_MODALITIES)
def test_modalities(tmp_path: Path, modality: str) -> None:
    study = generate_study(tmp_path, modality=modality, series=1, instances=2, rows=32, columns=48)
    info = vocab.MODALITIES[modality]
    assert study.modality == modality and study.modalities == [modality]
    assert all(i.sop_class_uid == info.sop_class_uid for i in study.instances)
    ds = pydicom.dcmread(study.instances[0].path)
    assert ds.Modality == modality and (ds.Rows, ds.Columns) == (32, 48)
    assert ds.pixel_array.shape[-2:] == (32, 48)
    assert read_study(tmp_path) == study


@pytest.mark.parametrize("modality", ALL_MODALITIES)
def test_images_pass_dciodvfy(tmp_path: Path, modality: str) -> None:
    study = generate_study(tmp_path, modality=modality, series=1, instances=1, rows=16, columns=16)
    assert dciodvfy_errors(study.instances[0].path) == []


def test_several_modalities(tmp_path: Path) -> None:
    study = generate_study(tmp_path, modality="PT,CT", series=4, instances=1)
    assert [s.modality for s in study.series] == ["PT", "CT", "PT", "CT"]
    assert study.modalities == ["PT", "CT"]
    assert study.body_parts == ["WHOLEBODY", "CHEST"]
    assert read_study(tmp_path).modalities == ["PT", "CT"]


def test_the_example_exam(tmp_path: Path) -> None:
    exam = examples.Exam()
    study = generate_study(tmp_path, exam=exam, series=5, instances=9)  # the exam's own counts win
    assert study.study_instance_uid == exam.study_uid
    assert [s.series_instance_uid for s in study.series] == [exam.series_uid(s) for s in range(exam.series)]
    assert [i.sop_instance_uid for i in study.series[1].instances] == [
        exam.instance_uid(1, i) for i in range(exam.instances_per_series)
    ]
    assert (study.ins, study.patient_id) == (exam.patient_ins, exam.patient_ipp)
    assert (study.accession_number, study.accession_issuer) == (exam.accession_number, exam.accession_issuer)
    assert (study.order_number, study.order_issuer) == (exam.order_number, exam.order_issuer)
    assert study.modality == exam.modality.code
    assert study.region_codes == [exam.region.code]
    assert study.procedure_code == exam.procedure
    assert study.study_datetime == exam.study_date
    # the RAD-69 example asks for exactly these instances
    requested = {d.document_unique_id for d in examples.flux9(exam).document_requests}
    assert requested == {i.sop_instance_uid for i in study.instances}
    assert read_study(tmp_path) == study


def test_read_study_skips_what_is_not_an_instance(tmp_path: Path) -> None:
    study = generate_study(tmp_path / "s", series=1, instances=2)
    (tmp_path / "s" / "notes.txt").write_text("not DICOM")
    (tmp_path / "s" / "cut.dcm").write_bytes(study.instances[0].path.read_bytes()[:100])
    back = read_study(tmp_path / "s")
    assert back.references == study.references


def test_read_study_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no DICOM instance"):
        read_study(tmp_path / "empty")
    generate_study(tmp_path / "two" / "a", seed=1, series=1, instances=1)
    generate_study(tmp_path / "two" / "b", seed=2, series=1, instances=1)
    with pytest.raises(ValueError, match="2 studies"):
        read_study(tmp_path / "two")


def test_a_200_instance_512_ct_study_is_fast(tmp_path: Path) -> None:
    start = time.perf_counter()
    study = generate_study(tmp_path, modality="CT", series=2, instances=100, rows=512, columns=512)
    elapsed = time.perf_counter() - start
    assert len(study.instances) == 200
    assert study.instances[-1].path.stat().st_size > 512 * 512 * 2
    assert elapsed < 20, f"{elapsed:.1f} s for 200 instances of 512x512 (about 1 s expected)"


def test_studyinfo_helpers(tmp_path: Path) -> None:
    study: StudyInfo = generate_study(tmp_path, series=2, instances=2)
    assert len(study.references) == 4
    assert study.region_codes == ["67734004"]
