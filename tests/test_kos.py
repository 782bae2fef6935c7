"""The KOS: what build_kos writes, dciodvfy on it, parse_kos, the KOS rules (each fires on a minimally broken KOS
and is silent on the valid one), the KOS/DocumentEntry, KOS/study and retrieve consistency rules, the corpus
KOS files, and bad input."""

from __future__ import annotations

import argparse
import copy
import json
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence

from tests.rulecheck import assert_fires, assert_silent
from tests.test_dicom_study import dciodvfy_errors
from xdsi.dicom import vocab
from xdsi.dicom.commands import add_commands
from xdsi.dicom.kos import KosError, build_kos, example_kos_bytes, kos_bytes, kos_entry_metadata, parse_kos, write_kos
from xdsi.dicom.study import StudyInfo, generate_study
from xdsi.messages import examples
from xdsi.model import metadata as md
from xdsi.model.metadata import Code, DocumentEntry
from xdsi.validation.findings import CATALOGUE, Finding
from xdsi.validation.kos import (
    check_kos_against_entry,
    check_kos_against_study,
    check_retrieved,
    validate_kos,
    validate_kos_file,
)

EXAM = examples.Exam()
WADO = "http://127.0.0.1:8042/dicom-web"
SOURCE_UID = examples.IMAGING_SOURCE_UID
KOS_RULES = sorted(r for r, rule in CATALOGUE.items() if rule.layer == "kos")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> StudyInfo:
    """The example exam (a chest CT, 2 series x 3 instances) written in a temporary directory."""
    return generate_study(tmp_path_factory.mktemp("exam"), exam=EXAM)


def fresh(study: StudyInfo, **kwargs: object) -> Dataset:
    """A valid KOS of the example exam, with every retrieve attribute set."""
    args: dict[str, object] = {"exam": EXAM, "retrieve_url": WADO, "retrieve_location_uid": SOURCE_UID}
    args.update(kwargs)
    return build_kos(study, **args)  # type: ignore[arg-type]


def findings_of(ds: Dataset, profile: str = "cisis") -> list[Finding]:
    findings, error = validate_kos(kos_bytes(ds), profile)
    assert error is None
    return findings


# ---------------------------------------------------------------------------------------------------------------
# What build_kos writes
# ---------------------------------------------------------------------------------------------------------------
def test_kos_content(study: StudyInfo) -> None:
    ds = fresh(study)
    assert ds.SOPClassUID == vocab.KOS_SOP_CLASS and ds.Modality == "KO"
    assert ds.SOPInstanceUID == EXAM.kos_uid
    assert ds.SeriesInstanceUID not in {s.series_instance_uid for s in study.series}
    title = ds.ConceptNameCodeSequence[0]
    assert (title.CodeValue, title.CodingSchemeDesignator, title.CodeMeaning) == ("113030", "DCM", "Manifest")
    assert ds.ValueType == "CONTAINER" and ds.ContinuityOfContent == "SEPARATE"
    assert ds.ContentTemplateSequence[0].TemplateIdentifier == "2010"
    # evidence: every instance, grouped by series, with the retrieve information
    [st] = ds.CurrentRequestedProcedureEvidenceSequence
    assert st.StudyInstanceUID == study.study_instance_uid
    for se_item, se in zip(st.ReferencedSeriesSequence, study.series, strict=True):
        assert se_item.SeriesInstanceUID == se.series_instance_uid
        assert se_item.RetrieveAETitle == "XDSI_SOURCE"
        assert se_item.RetrieveLocationUID == SOURCE_UID
        assert se_item.RetrieveURL == f"{WADO}/studies/{study.study_instance_uid}/series/{se.series_instance_uid}"
        assert [(r.ReferencedSOPClassUID, r.ReferencedSOPInstanceUID) for r in se_item.ReferencedSOPSequence] == [
            (i.sop_class_uid, i.sop_instance_uid) for i in se.instances
        ]
    images = [it for it in ds.ContentSequence if it.ValueType == "IMAGE"]
    assert len(images) == len(study.instances)
    assert all(it.RelationshipType == "CONTAINS" for it in ds.ContentSequence)
    # request: accession + issuer, order + issuer, procedure
    [req] = ds.ReferencedRequestSequence
    assert req.AccessionNumber == EXAM.accession_number
    assert req.IssuerOfAccessionNumberSequence[0].UniversalEntityID == EXAM.accession_issuer
    assert req.IssuerOfAccessionNumberSequence[0].UniversalEntityIDType == "ISO"
    assert req.PlacerOrderNumberImagingServiceRequest == EXAM.order_number
    assert req.OrderPlacerIdentifierSequence[0].UniversalEntityID == EXAM.order_issuer
    assert req.StudyInstanceUID == study.study_instance_uid
    assert req.RequestedProcedureCodeSequence[0].CodeValue == EXAM.procedure.code
    assert ds.AccessionNumber == EXAM.accession_number
    # patient: the INS with its issuer, the IPP beside it
    assert ds.PatientID == EXAM.patient_ins and ds.IssuerOfPatientID == "ASIP-SANTE-INS-NIR"
    assert ds.IssuerOfPatientIDQualifiersSequence[0].UniversalEntityID == "1.2.250.1.213.1.4.10"
    assert ds.OtherPatientIDsSequence[0].PatientID == EXAM.patient_ipp
    # dates: one hour after the study, the example entry's creationTime
    assert f"{ds.ContentDate}{ds.ContentTime}" == examples.kos_entry(EXAM).creation_time


def test_example_kos_bytes(study: StudyInfo, tmp_path: Path) -> None:
    data = example_kos_bytes(retrieve_url=WADO)
    assert data == kos_bytes(fresh(study))  # the same KOS as from the written study
    assert parse_kos(data).sop_instance_uid == examples.kos_entry(EXAM).unique_id
    assert validate_kos(data) == ([], None)
    assert not list(Path(".").glob("2.25.*"))  # nothing written


def test_retrieve_options(study: StudyInfo) -> None:
    ds = build_kos(study, retrieve_ae_title=None, retrieve_url="http://h/wado/{study}/{series}")
    se = ds.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    assert "RetrieveAETitle" not in se and "RetrieveLocationUID" not in se
    assert se.RetrieveURL == f"http://h/wado/{study.study_instance_uid}/{study.series[0].series_instance_uid}"


def test_kos_is_deterministic(study: StudyInfo) -> None:
    assert kos_bytes(fresh(study)) == kos_bytes(fresh(study))
    a = kos_bytes(build_kos(study, seed=1))
    assert a == kos_bytes(build_kos(study, seed=1))
    assert parse_kos(a).sop_instance_uid != parse_kos(kos_bytes(build_kos(study, seed=2))).sop_instance_uid


def test_content_datetime(study: StudyInfo) -> None:
    ds = build_kos(study, content_datetime=datetime(2027, 2, 3, 4, 5, 6))
    assert (str(ds.ContentDate), str(ds.ContentTime), str(ds.InstanceCreationDate)) == (
        "20270203",
        "040506",
        "20270203",
    )


def test_incomplete_study_is_a_clear_error(study: StudyInfo) -> None:
    with pytest.raises(ValueError, match="no patient identifier"):
        build_kos(replace(study, ins="", patient_id=""))
    with pytest.raises(ValueError, match="no study_instance_uid"):
        build_kos(replace(study, study_instance_uid=""))
    with pytest.raises(ValueError, match="no instance"):
        build_kos(replace(study, series=[]))


def test_a_study_without_ins_or_issuers(study: StudyInfo, tmp_path: Path) -> None:
    bare = replace(study, ins="", ins_issuer="", accession_issuer="", order_issuer="")
    path = write_kos(build_kos(bare, retrieve_url=WADO, retrieve_location_uid=SOURCE_UID), tmp_path / "kos.dcm")
    assert dciodvfy_errors(path) == []
    kos = parse_kos(path)
    assert kos.patient.id == study.patient_id and kos.patient.ins is None
    findings, _error = validate_kos(path.read_bytes())
    assert {f.rule for f in findings if f.severity == "error"} == {
        "KOS.PATIENT.INS_ISSUER",
        "KOS.REQUEST.ACCESSION_ISSUER",
        "KOS.REQUEST.ORDER_ISSUER",
    }
    ihe_findings, _error = validate_kos(path.read_bytes(), "ihe")
    assert not any(f.severity == "error" for f in ihe_findings)  # IHE needs neither the INS nor the issuers


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"retrieve_url": WADO, "retrieve_location_uid": SOURCE_UID},
        {"retrieve_ae_title": None, "retrieve_url": WADO},
    ],
    ids=["ae-only", "all-retrieve", "url-only"],
)
def test_our_kos_passes_dciodvfy(study: StudyInfo, tmp_path: Path, kwargs: dict[str, object]) -> None:
    path = write_kos(build_kos(study, **kwargs), tmp_path / "kos.dcm")  # type: ignore[arg-type]
    assert dciodvfy_errors(path) == []


@pytest.mark.parametrize("modality", ["MR", "US", "PT,CT", "MG", "NM"])
def test_our_kos_passes_dciodvfy_other_modalities(tmp_path: Path, modality: str) -> None:
    st = generate_study(tmp_path / "s", modality=modality, series=2, instances=2, rows=8, columns=8, seed=4)
    path = write_kos(build_kos(st, retrieve_url=WADO, retrieve_location_uid=SOURCE_UID), tmp_path / "kos.dcm")
    assert dciodvfy_errors(path) == []
    findings, error = validate_kos(path.read_bytes())
    assert error is None and findings == []


def test_a_large_kos(tmp_path: Path) -> None:
    st = generate_study(tmp_path / "s", series=4, instances=50, rows=4, columns=4)
    ds = build_kos(st, retrieve_url=WADO, retrieve_location_uid=SOURCE_UID)
    kos = parse_kos(kos_bytes(ds))
    assert len(kos.instances) == 200 and len(kos.referenced) == 4
    assert findings_of(ds) == []
    assert dciodvfy_errors(write_kos(ds, tmp_path / "kos.dcm")) == []


# ---------------------------------------------------------------------------------------------------------------
# parse_kos and the DocumentEntry derived from a KOS
# ---------------------------------------------------------------------------------------------------------------
def test_parse_round_trip(study: StudyInfo, tmp_path: Path) -> None:
    path = write_kos(fresh(study), tmp_path / "kos.dcm")
    kos = parse_kos(path)
    assert kos == parse_kos(path.read_bytes())
    assert kos.sop_instance_uid == EXAM.kos_uid and kos.sop_class_uid == vocab.KOS_SOP_CLASS
    assert kos.title is not None and (kos.title.value, kos.title.scheme) == ("113030", "DCM")
    assert kos.patient.id == EXAM.patient_ins and kos.patient.ins == EXAM.patient_ins
    assert kos.patient.universal_entity_id == "1.2.250.1.213.1.4.10" and kos.patient.is_ins
    assert (kos.accession_number, kos.accession_issuer) == (EXAM.accession_number, EXAM.accession_issuer)
    assert (kos.order_number, kos.order_issuer) == (EXAM.order_number, EXAM.order_issuer)
    assert kos.study_instance_uid == EXAM.study_uid
    assert kos.instances == study.references
    assert kos.content_references == study.references
    assert [s.retrieve_ae_title for s in kos.referenced] == ["XDSI_SOURCE"] * 2
    assert {s.retrieve_location_uid for s in kos.referenced} == {SOURCE_UID}
    assert kos.modalities == ["CT"]
    assert "Série-" in kos.description
    assert (kos.content_date, kos.content_time) == ("20261123", "101500")


def test_entry_metadata_is_the_example_entry(study: StudyInfo) -> None:
    kos = parse_kos(kos_bytes(fresh(study)))
    derived = kos_entry_metadata(kos, study)
    expected = examples.kos_entry(EXAM)
    for name in (
        "unique_id",
        "mime_type",
        "class_code",
        "type_code",
        "format_code",
        "patient_id",
        "source_patient_id",
        "source_patient_info",
        "creation_time",
        "service_start_time",
        "event_codes",
        "reference_ids",
        "language_code",
        "confidentiality_codes",
    ):
        assert getattr(derived, name) == getattr(expected, name), name
    assert derived.is_kos
    assert check_kos_against_entry(kos, derived, study) == []


def test_entry_metadata_without_the_study(study: StudyInfo) -> None:
    kos = parse_kos(kos_bytes(fresh(study)))
    derived = kos_entry_metadata(kos)
    assert [c.code for c in derived.modality_codes] == ["CT"]  # from the SOP classes
    assert derived.region_codes == []
    assert derived.unique_id == kos.sop_instance_uid
    assert derived.accession_numbers == examples.kos_entry(EXAM).accession_numbers


# ---------------------------------------------------------------------------------------------------------------
# The KOS rules: the valid KOS, then each rule on a minimally broken one
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("profile", ["cisis", "dmp", "ihe"])
def test_valid_kos_is_silent(study: StudyInfo, profile: str) -> None:
    findings = findings_of(fresh(study), profile)
    assert findings == []
    for rule in KOS_RULES:
        assert_silent(findings, rule)


def _first_series(ds: Dataset) -> Dataset:
    return ds.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]


def _images(ds: Dataset) -> list[Dataset]:
    return [it for it in ds.ContentSequence if it.ValueType == "IMAGE"]


def _request(ds: Dataset) -> Dataset:
    return ds.ReferencedRequestSequence[0]


def _set(obj_of: Callable[[Dataset], Dataset], keyword: str, value: object) -> Callable[[Dataset], None]:
    def mutate(ds: Dataset) -> None:
        setattr(obj_of(ds), keyword, value)

    return mutate


def _del(obj_of: Callable[[Dataset], Dataset], keyword: str) -> Callable[[Dataset], None]:
    def mutate(ds: Dataset) -> None:
        delattr(obj_of(ds), keyword)

    return mutate


def _top(ds: Dataset) -> Dataset:
    return ds


def _second_study(ds: Dataset) -> None:
    other = copy.deepcopy(ds.CurrentRequestedProcedureEvidenceSequence[0])
    other.StudyInstanceUID = "1.2.3.4"
    ds.CurrentRequestedProcedureEvidenceSequence.append(other)


def _duplicate_sop(ds: Dataset) -> None:
    se = _first_series(ds)
    se.ReferencedSOPSequence.append(copy.deepcopy(se.ReferencedSOPSequence[0]))


def _drop_image_item(ds: Dataset) -> None:
    first = _images(ds)[0]
    ds.ContentSequence = Sequence([it for it in ds.ContentSequence if it is not first])


def _drop_evidence_sop(ds: Dataset) -> None:
    del _first_series(ds).ReferencedSOPSequence[0]


def _drop_all_images(ds: Dataset) -> None:
    ds.ContentSequence = Sequence([it for it in ds.ContentSequence if it.ValueType != "IMAGE"])


def _no_charset(ds: Dataset) -> None:
    del ds.SpecificCharacterSet
    ds.PatientName = "DUPONT^Hélène"


def _empty_series(ds: Dataset) -> None:
    _first_series(ds).ReferencedSOPSequence = []


def _share_series(ds: Dataset) -> None:
    ds.SeriesInstanceUID = _first_series(ds).SeriesInstanceUID


def _content_class(ds: Dataset) -> None:
    _images(ds)[0].ReferencedSOPSequence[0].ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"


def _bad_relationship(ds: Dataset) -> None:
    _images(ds)[0].RelationshipType = "HAS PROPERTIES"


def _image_without_ref(ds: Dataset) -> None:
    del _images(ds)[0].ReferencedSOPSequence


def _retrieve_none(ds: Dataset) -> None:
    se = _first_series(ds)
    for kw in ("RetrieveAETitle", "RetrieveLocationUID", "RetrieveURL"):
        delattr(se, kw)


def _ins_oid(ds: Dataset) -> None:
    ds.IssuerOfPatientIDQualifiersSequence[0].UniversalEntityID = "1.2.250.1.999.42.5"


def _acc_issuer(ds: Dataset) -> Dataset:
    return _request(ds).IssuerOfAccessionNumberSequence[0]


def _order_issuer(ds: Dataset) -> Dataset:
    return _request(ds).OrderPlacerIdentifierSequence[0]


# (rule, mutation, where the finding points)
MUTATIONS: list[tuple[str, Callable[[Dataset], None], str]] = [
    ("KOS.MODALITY", _set(_top, "Modality", "SR"), "(0008,0060)"),
    ("KOS.IOD.TYPE1", _del(_top, "InstanceNumber"), "(0020,0013)"),
    ("KOS.IOD.TYPE2", _del(_top, "StudyID"), "(0020,0010)"),
    ("KOS.IOD.TYPE2", _del(_request, "FillerOrderNumberImagingServiceRequest"), "(0040,A370)[1]/(0040,2017)"),
    ("KOS.VR", _set(_top, "SeriesTime", "20221209"), "(0008,0031)"),
    ("KOS.VR", _set(_first_series, "RetrieveLocationUID", "1.2.03"), "(0040,A375)[1]/(0008,1115)[1]/(0040,E011)"),
    ("KOS.CHARSET", _no_charset, "(0008,103E)"),
    ("KOS.SERIES.OWN", _share_series, "(0020,000E)"),
    ("KOS.TITLE", _set(lambda ds: ds.ConceptNameCodeSequence[0], "CodeValue", "113000"), "(0040,A043)[1]"),
    ("KOS.ROOT", _set(_top, "ValueType", "TEXT"), "(0040,A040)"),
    ("KOS.ROOT", _set(_top, "TextValue", "a text on the root"), "(0040,A160)"),
    ("KOS.TEMPLATE", _del(_top, "ContentTemplateSequence"), "(0040,A504)"),
    ("KOS.EVIDENCE.MISSING", _del(_top, "CurrentRequestedProcedureEvidenceSequence"), "(0040,A375)"),
    (
        "KOS.EVIDENCE.STUDYUID",
        _set(lambda ds: ds.CurrentRequestedProcedureEvidenceSequence[0], "StudyInstanceUID", "1.2.3"),
        "(0040,A375)[1]/(0020,000D)",
    ),
    ("KOS.EVIDENCE.MULTISTUDY", _second_study, "(0040,A375)"),
    ("KOS.EVIDENCE.SERIES", _empty_series, "(0040,A375)[1]/(0008,1115)[1]/(0008,1199)"),
    ("KOS.EVIDENCE.SERIES", _del(_first_series, "SeriesInstanceUID"), "(0040,A375)[1]/(0008,1115)[1]/(0020,000E)"),
    (
        "KOS.EVIDENCE.SOP",
        _del(lambda ds: _first_series(ds).ReferencedSOPSequence[1], "ReferencedSOPClassUID"),
        "(0040,A375)[1]/(0008,1115)[1]/(0008,1199)[2]/(0008,1150)",
    ),
    ("KOS.EVIDENCE.DUPLICATE", _duplicate_sop, "(0040,A375)[1]/(0008,1115)[1]/(0008,1199)[4]/(0008,1155)"),
    ("KOS.EVIDENCE.UNREFERENCED", _drop_image_item, "(0040,A375)[1]/(0008,1115)[1]/(0008,1199)[1]/(0008,1155)"),
    ("KOS.CONTENT.UNLISTED", _drop_evidence_sop, "(0040,A730)["),
    ("KOS.CONTENT.EMPTY", _drop_all_images, "(0040,A730)"),
    ("KOS.CONTENT.SOPCLASS", _content_class, "/(0008,1199)[1]/(0008,1150)"),
    ("KOS.CONTENT.RELATIONSHIP", _bad_relationship, "/(0040,A010)"),
    ("KOS.CONTENT.ITEM", _image_without_ref, "/(0008,1199)"),
    ("KOS.SERIES.NORETRIEVE", _retrieve_none, "(0040,A375)[1]/(0008,1115)[1]"),
    ("KOS.SERIES.RETRIEVEAE", _del(_first_series, "RetrieveAETitle"), "(0008,1115)[1]/(0008,0054)"),
    ("KOS.SERIES.RETRIEVEAE", _set(_first_series, "RetrieveAETitle", ""), "(0008,1115)[1]/(0008,0054)"),
    ("KOS.SERIES.RETRIEVELOCATION", _del(_first_series, "RetrieveLocationUID"), "(0008,1115)[1]/(0040,E011)"),
    ("KOS.SERIES.RETRIEVEURL", _del(_first_series, "RetrieveURL"), "(0008,1115)[1]/(0008,1190)"),
    ("KOS.SERIES.RETRIEVEURL.SYNTAX", _set(_first_series, "RetrieveURL", "wado/studies/1"), "(0008,1190)"),
    ("KOS.SERIES.RETRIEVEURL.SERIES", _set(_first_series, "RetrieveURL", "http://h/wado/studies/1"), "(0008,1190)"),
    ("KOS.RETRIEVEURL.TOPLEVEL", _set(_top, "RetrieveURL", WADO), "(0008,1190)"),
    ("KOS.REQUEST.MISSING", _del(_top, "ReferencedRequestSequence"), "(0040,A370)"),
    ("KOS.REQUEST.ACCESSION", _set(_request, "AccessionNumber", ""), "(0040,A370)[1]/(0008,0050)"),
    (
        "KOS.REQUEST.ACCESSION_ISSUER",
        _del(_request, "IssuerOfAccessionNumberSequence"),
        "(0040,A370)[1]/(0008,0051)",
    ),
    (
        "KOS.REQUEST.ACCESSION_ISSUER",
        _set(_acc_issuer, "UniversalEntityIDType", "DNS"),
        "(0040,A370)[1]/(0008,0051)[1]/(0040,0033)",
    ),
    ("KOS.REQUEST.ORDER", _set(_request, "PlacerOrderNumberImagingServiceRequest", ""), "(0040,A370)[1]/(0040,2016)"),
    ("KOS.REQUEST.ORDER_ISSUER", _del(_request, "OrderPlacerIdentifierSequence"), "(0040,A370)[1]/(0040,0026)"),
    ("KOS.REQUEST.STUDYUID", _set(_request, "StudyInstanceUID", "1.2.3"), "(0040,A370)[1]/(0020,000D)"),
    ("KOS.ISSUER.OID", _set(_acc_issuer, "UniversalEntityID", "urn:acme"), "(0008,0051)[1]/(0040,0032)"),
    (
        "KOS.ISSUER.CODESYSTEM",
        _set(_order_issuer, "UniversalEntityID", "2.16.840.1.113883.6.96"),
        "(0040,0026)[1]/(0040,0032)",
    ),
    ("KOS.STUDY.ACCESSION_EMPTY", _set(_top, "AccessionNumber", ""), "(0008,0050)"),
    ("KOS.STUDY.ACCESSION_MISMATCH", _set(_top, "AccessionNumber", "OTHER"), "(0008,0050)"),
    ("KOS.PATIENT.ID", _set(_top, "PatientID", ""), "(0010,0020)"),
    ("KOS.PATIENT.INS_ISSUER", _ins_oid, "(0010,0024)[1]/(0040,0032)"),
    ("KOS.PATIENT.INS_ISSUER", _del(_top, "IssuerOfPatientIDQualifiersSequence"), "(0010,0024)"),
    ("KOS.PATIENT.INS_FORMAT", _set(_top, "PatientID", "248039263001065"), "(0010,0020)"),
    ("KOS.PATIENT.INS_FORMAT", _set(_top, "PatientID", "24803926300"), "(0010,0020)"),
    ("KOS.PATIENT.ISSUER_TEXT", _set(_top, "IssuerOfPatientID", "INS-NIR"), "(0010,0021)"),
]


@pytest.mark.parametrize(
    ("rule", "mutate", "where"), MUTATIONS, ids=[f"{r}-{i}" for i, (r, _m, _w) in enumerate(MUTATIONS)]
)
def test_rule_fires_on_a_broken_kos(study: StudyInfo, rule: str, mutate: Callable[[Dataset], None], where: str) -> None:
    ds = fresh(study)
    assert_silent(findings_of(ds), rule)
    mutate(ds)
    hit = assert_fires(findings_of(ds), rule, where)
    assert hit.location.startswith("(")


def test_every_kos_rule_has_a_test() -> None:
    tested = {r for r, _m, _w in MUTATIONS} | {"KOS.PART10", "KOS.SOPCLASS", "KOS.META.MISMATCH"}
    kos_only = {r for r in KOS_RULES if CATALOGUE[r].kinds == ("kos",) and r.startswith("KOS.")}
    assert kos_only <= tested, sorted(kos_only - tested)


def test_meta_mismatch(study: StudyInfo) -> None:
    data = kos_bytes(fresh(study))
    uid = EXAM.kos_uid.encode()
    other = uid[:-1] + (b"1" if uid[-1:] != b"1" else b"2")
    head = data[: 132 + 300].replace(uid, other, 1)  # the file meta group comes first
    findings, error = validate_kos(head + data[132 + 300 :])
    assert error is None
    assert_fires(findings, "KOS.META.MISMATCH", "(0002,0003)")


def test_part10_header(study: StudyInfo) -> None:
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, fresh(study))
    findings, error = validate_kos(buf.getvalue())
    assert error is None
    assert_fires(findings, "KOS.PART10", "(0002,0000)")


def test_an_image_is_not_a_kos(study: StudyInfo) -> None:
    findings, error = validate_kos(study.instances[0].path.read_bytes())
    assert error is None
    hit = assert_fires(findings, "KOS.SOPCLASS", "(0008,0016)")
    assert "CT Image Storage" in hit.message
    assert [f.rule for f in findings] == ["KOS.SOPCLASS"]
    with pytest.raises(KosError, match="not a Key Object Selection Document"):
        parse_kos(study.instances[0].path)


def test_profile_severities(study: StudyInfo) -> None:
    ds = fresh(study, retrieve_ae_title=None, retrieve_location_uid=None)
    by_profile = {p: {f.rule: f.severity for f in findings_of(ds, p)} for p in ("cisis", "dmp", "ihe")}
    assert by_profile["cisis"]["KOS.SERIES.RETRIEVEAE"] == "warning"
    assert by_profile["ihe"]["KOS.SERIES.RETRIEVEAE"] == "error"
    assert by_profile["ihe"]["KOS.SERIES.RETRIEVELOCATION"] == "error"
    assert by_profile["dmp"]["KOS.SERIES.RETRIEVELOCATION"] == "warning"
    broken = fresh(study)
    broken.IssuerOfPatientIDQualifiersSequence[0].UniversalEntityID = "1.2.3"
    assert "KOS.PATIENT.INS_ISSUER" in {f.rule for f in findings_of(broken, "cisis")}
    assert "KOS.PATIENT.INS_ISSUER" not in {f.rule for f in findings_of(broken, "ihe")}
    assert validate_kos(kos_bytes(ds), "nope")[1] is not None


# ---------------------------------------------------------------------------------------------------------------
# KOS vs DocumentEntry
# ---------------------------------------------------------------------------------------------------------------
def _entry() -> DocumentEntry:
    return examples.kos_entry(EXAM)


def test_entry_consistency_silent(study: StudyInfo) -> None:
    kos = parse_kos(kos_bytes(fresh(study)))
    assert check_kos_against_entry(kos, _entry(), study) == []
    assert check_kos_against_entry(kos, _entry()) == []


def _with_refs(entry: DocumentEntry, old: str, new: str) -> DocumentEntry:
    entry.reference_ids = [v.replace(old, new) for v in entry.reference_ids]
    return entry


ENTRY_MUTATIONS: list[tuple[str, Callable[[DocumentEntry], DocumentEntry], bool]] = [
    ("KOSDE.UNIQUEID.MISMATCH", lambda e: replace(e, unique_id="1.2.3"), False),
    ("KOSDE.PATIENT.MISMATCH", lambda e: replace(e, patient_id="1800315000000^^^&1.2.250.1.213.1.4.10&ISO^NH"), False),
    (
        "KOSDE.PATIENT.MISMATCH",
        lambda e: replace(e, patient_id=f"{EXAM.patient_ins}^^^&1.2.250.1.213.1.4.8&ISO^NH"),
        False,
    ),
    ("KOSDE.STUDYUID.MISMATCH", lambda e: _with_refs(e, EXAM.study_uid, "1.2.3.4"), False),
    ("KOSDE.ACCESSION.MISMATCH", lambda e: _with_refs(e, EXAM.accession_number, "ACC-OTHER"), False),
    ("KOSDE.ACCESSION.MISMATCH", lambda e: _with_refs(e, EXAM.accession_issuer + "&", "1.2.3.4&"), False),
    ("KOSDE.ORDER.MISMATCH", lambda e: _with_refs(e, EXAM.order_number, "ORD-OTHER"), False),
    ("KOSDE.ORDER.MISMATCH", lambda e: _with_refs(e, EXAM.order_issuer + "&", "1.2.3.5&"), False),
    ("KOSDE.MODALITY.MISSING", lambda e: replace(e, event_codes=[c for c in e.event_codes if c.code != "CT"]), False),
    ("KOSDE.MODALITY.EXTRA", lambda e: replace(e, event_codes=[*e.event_codes, Code("MR", md.DCM)]), False),
    (
        "KOSDE.MODALITY.EXTRA",
        lambda e: replace(e, event_codes=[*e.event_codes, Code("US", md.MODALITY_JDV)]),
        False,
    ),
    (
        "KOSDE.REGION.MISSING",
        lambda e: replace(e, event_codes=[c for c in e.event_codes if c.code != EXAM.region.code]),
        True,
    ),
    ("KOSDE.REGION.EXTRA", lambda e: replace(e, event_codes=[*e.event_codes, Code("774007", md.REGION_JDV)]), True),
    ("KOSDE.CREATIONTIME", lambda e: replace(e, creation_time="20261124101500"), False),
    ("KOSDE.SERVICESTART", lambda e: replace(e, service_start_time="20251123091500"), False),
]


@pytest.mark.parametrize(
    ("rule", "mutate", "needs_study"),
    ENTRY_MUTATIONS,
    ids=[f"{r}-{i}" for i, (r, _m, _s) in enumerate(ENTRY_MUTATIONS)],
)
def test_entry_rule_fires(
    study: StudyInfo, rule: str, mutate: Callable[[DocumentEntry], DocumentEntry], needs_study: bool
) -> None:
    kos = parse_kos(kos_bytes(fresh(study)))
    assert_silent(check_kos_against_entry(kos, _entry(), study), rule)
    findings = check_kos_against_entry(kos, mutate(_entry()), study)
    hit = assert_fires(findings, rule, "DocumentEntry")
    assert CATALOGUE[rule].kinds == ("kos", "flux1", "flux8")
    assert hit.location
    if needs_study:
        assert_silent(check_kos_against_entry(kos, mutate(_entry())), rule)


def test_entry_location_uses_the_decoded_xpath(study: StudyInfo) -> None:
    kos = parse_kos(kos_bytes(fresh(study)))
    entry = replace(_entry(), unique_id="1.2.3", location="/rim:ExtrinsicObject[1]")
    [hit] = check_kos_against_entry(kos, entry)
    assert hit.location == "/rim:ExtrinsicObject[1]/uniqueId"


def test_times_with_a_time_zone(study: StudyInfo) -> None:
    ds = fresh(study)
    ds.TimezoneOffsetFromUTC = "+0100"
    kos = parse_kos(kos_bytes(ds))
    utc = replace(_entry(), creation_time="20261123091500", service_start_time="20261123081500")
    assert check_kos_against_entry(kos, utc) == []
    assert_fires(check_kos_against_entry(kos, _entry()), "KOSDE.CREATIONTIME")
    assert kos_entry_metadata(kos).creation_time == "20261123091500"


# ---------------------------------------------------------------------------------------------------------------
# KOS vs study
# ---------------------------------------------------------------------------------------------------------------
def test_study_consistency(study: StudyInfo, tmp_path: Path) -> None:
    kos = parse_kos(kos_bytes(fresh(study)))
    assert check_kos_against_study(kos, study) == []
    assert_fires(check_kos_against_study(kos, replace(study, study_instance_uid="1.2.3")), "KOSSTUDY.STUDYUID.MISMATCH")
    assert_fires(check_kos_against_study(kos, replace(study, ins="180031500000042")), "KOSSTUDY.PATIENT.MISMATCH")
    assert_fires(
        check_kos_against_study(kos, replace(study, accession_number="ACC2")),
        "KOSSTUDY.ACCESSION.MISMATCH",
        "(0040,A370)[1]/(0008,0050)",
    )
    other = generate_study(tmp_path, exam=EXAM)
    other.series[1].instances.pop()
    assert_fires(check_kos_against_study(kos, other), "KOSSTUDY.INSTANCE.UNKNOWN", "(0008,1115)[2]/(0008,1199)[3]")
    smaller = parse_kos(kos_bytes(build_kos(other, exam=EXAM)))
    assert_fires(check_kos_against_study(smaller, study), "KOSSTUDY.INSTANCE.UNREFERENCED", "(0040,A375)")


def test_study_consistency_without_ins(study: StudyInfo) -> None:
    ds = fresh(study)
    ds.PatientID = "IPP0042"
    del ds.IssuerOfPatientIDQualifiersSequence
    del ds.OtherPatientIDsSequence
    kos = parse_kos(kos_bytes(ds))
    assert check_kos_against_study(kos, study) == []
    assert_fires(check_kos_against_study(kos, replace(study, patient_id="IPP1")), "KOSSTUDY.PATIENT.MISMATCH")


# ---------------------------------------------------------------------------------------------------------------
# Flux 10: what a retrieve returned
# ---------------------------------------------------------------------------------------------------------------
def test_retrieved_everything(study: StudyInfo) -> None:
    kos = parse_kos(kos_bytes(fresh(study)))
    assert check_retrieved(kos, study.references) == []
    assert check_retrieved(kos, list(reversed(study.references))) == []


def test_retrieved_missing_extra_duplicate_class(study: StudyInfo) -> None:
    kos = parse_kos(kos_bytes(fresh(study)))
    refs = study.references
    hit = assert_fires(check_retrieved(kos, refs[:-1]), "RETRIEVE.INSTANCE.MISSING")
    assert hit.location == "(0040,A375)[1]/(0008,1115)[2]/(0008,1199)[3]/(0008,1155)"
    assert refs[-1][1] in hit.message
    assert_fires(check_retrieved(kos, [*refs, ("1.2.840.10008.5.1.4.1.1.2", "1.2.3.4")]), "RETRIEVE.INSTANCE.EXTRA")
    assert_fires(check_retrieved(kos, [*refs, refs[0]]), "RETRIEVE.INSTANCE.DUPLICATE", "received[7]")
    wrong = [("1.2.840.10008.5.1.4.1.1.4", refs[0][1]), *refs[1:]]
    assert_fires(check_retrieved(kos, wrong), "RETRIEVE.SOPCLASS.MISMATCH", "received[1]")
    ours = [r for r in CATALOGUE if r.startswith("RETRIEVE.") and CATALOGUE[r].layer == "kos"]
    assert len(ours) == 4 and all(CATALOGUE[r].kinds == ("flux10",) for r in ours)


def test_retrieved_a_requested_subset(study: StudyInfo) -> None:
    kos = parse_kos(kos_bytes(fresh(study)))
    asked = [uid for _c, uid in study.references[:2]]
    assert check_retrieved(kos, study.references[:2], requested=asked) == []
    assert_fires(check_retrieved(kos, study.references[:3], requested=asked), "RETRIEVE.INSTANCE.EXTRA")
    named = check_retrieved(kos, study.references[:3], requested=asked, location=lambda n: f"DocumentResponse[{n}]")
    assert named[0].location == "DocumentResponse[3]"


# ---------------------------------------------------------------------------------------------------------------
# The corpus KOS files
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.corpus
def test_corpus_publication_kos(corpus: Path) -> None:
    path = corpus / "kos" / "drim-m_informatif_xds_publication_kos.dcm"
    kos = parse_kos(path)
    assert kos.sop_instance_uid == "1.3.2.751468943.3.1234.56838.231114144457.1.1.1"
    assert len(kos.instances) == 20 and len(kos.referenced) == 2
    assert kos.modalities == ["MR"]
    assert all(s.retrieve_url and s.retrieve_ae_title is None for s in kos.referenced)
    assert (kos.accession_number, kos.accession_issuer) == ("7252295367250016", "1.2.840.113619.6.196")
    assert kos.patient.ins == "162018885045327"
    findings, error = validate_kos(path.read_bytes())
    assert error is None
    assert_silent(findings)  # no error in the cisis profile
    rules = {f.rule for f in findings}
    assert rules == {
        "KOS.TEMPLATE",
        "KOS.SERIES.RETRIEVEAE",
        "KOS.SERIES.RETRIEVELOCATION",
        "KOS.ISSUER.CODESYSTEM",
        "KOS.STUDY.ACCESSION_EMPTY",
    }
    ihe = {f.rule for f in validate_kos(path.read_bytes(), "ihe")[0] if f.severity == "error"}
    assert ihe == {"KOS.SERIES.RETRIEVEAE", "KOS.SERIES.RETRIEVELOCATION"}
    # against the ITI-41 DocumentEntry it was published with
    entries = json.loads((corpus / "kos" / "xds_kos_documententry_examples.derived.json").read_text())
    de = entries[0]["DocumentEntry"]
    entry = DocumentEntry(
        entry_uuid="DocumentKOS",
        unique_id=de["uniqueId"].split()[0],
        patient_id=de["patientId"],
        mime_type=de["mimeType"],
        creation_time=de["creationTime"],
        service_start_time=de["serviceStartTime"],
        event_codes=[Code(c["code"], c["scheme"], c.get("display", "")) for c in de["eventCodeList"]],
        reference_ids=de["referenceIdList"],
    )
    consistency = {f.rule for f in check_kos_against_entry(kos, entry)}
    assert consistency == {"KOSDE.CREATIONTIME", "KOSDE.SERVICESTART"}
    derived = kos_entry_metadata(kos)
    assert derived.reference_ids[0] == de["referenceIdList"][0]
    assert derived.reference_ids[2] == de["referenceIdList"][2]


@pytest.mark.corpus
def test_corpus_drimbox_kos(corpus: Path) -> None:
    path = corpus / "kos" / "drimbox_test_kos.dcm"
    kos = parse_kos(path)
    assert kos.title is not None and kos.title.meaning == "Manifest"
    assert len(kos.instances) == 1 and kos.modalities == ["CT"]
    findings, error = validate_kos(path.read_bytes())
    assert error is None
    errors = {(f.rule, f.location) for f in findings if f.severity == "error"}
    assert ("KOS.IOD.TYPE2", "(0008,0050)") in errors
    assert ("KOS.VR", "(0008,0031)") in errors
    assert ("KOS.ROOT", "(0040,A160)") in errors
    assert ("KOS.IOD.TYPE1", "(0010,1002)[1]/(0010,0022)") in errors
    assert "KOS.RETRIEVEURL.TOPLEVEL" in {f.rule for f in findings}


# ---------------------------------------------------------------------------------------------------------------
# Bad input: a reason or a finding, never an exception
# ---------------------------------------------------------------------------------------------------------------
def test_truncated_kos(study: StudyInfo) -> None:
    data = kos_bytes(fresh(study))
    for n in (0, 1, 100, 131, 132, 140, 200, len(data) // 3, len(data) // 2, len(data) - 7, len(data) - 1):
        findings, error = validate_kos(data[:n])
        assert error is not None or any(f.severity == "error" for f in findings), n
        if error is not None:
            assert "DICOM" in error or "empty" in error
            with pytest.raises(KosError):
                parse_kos(data[:n])


def test_every_truncation_is_noticed(study: StudyInfo) -> None:
    data = kos_bytes(build_kos(study, exam=EXAM, retrieve_url=WADO, retrieve_location_uid=SOURCE_UID))
    for n in range(0, len(data), 7):
        findings, error = validate_kos(data[:n])
        assert error is not None or any(f.severity == "error" for f in findings), n


def test_random_bytes() -> None:
    rng = random.Random(42)
    for _ in range(100):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
        for data in (junk, b"\0" * 128 + b"DICM" + junk):
            findings, error = validate_kos(data)
            assert error is not None or findings, data[:16]


def test_not_dicom_at_all(tmp_path: Path) -> None:
    for data in (b"<?xml version='1.0'?><ClinicalDocument/>", b"hello", "Référence".encode()):
        findings, error = validate_kos(data)
        assert findings == [] and error is not None and "not a DICOM file" in error
        with pytest.raises(KosError):
            parse_kos(data)
    findings, error = validate_kos_file(str(tmp_path / "absent.dcm"))
    assert error is not None and "cannot read" in error
    with pytest.raises(KosError):
        parse_kos(tmp_path / "absent.dcm")


def test_malformed_values_do_not_crash(study: StudyInfo) -> None:
    data = kos_bytes(fresh(study))
    element = b"\x20\x00\x13\x00IS\x02\x001 "  # Instance Number "1"
    assert element in data
    findings, error = validate_kos(data.replace(element, b"\x20\x00\x13\x00IS\x02\x00X "))
    assert error is None
    assert_fires(findings, "KOS.VR", "(0020,0013)")
    assert parse_kos(data.replace(element, b"\x20\x00\x13\x00IS\x02\x00X ")).sop_instance_uid == EXAM.kos_uid


# ---------------------------------------------------------------------------------------------------------------
# The commands the lead wires into xdsi
# ---------------------------------------------------------------------------------------------------------------
def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="xdsi")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "study"
    assert _run(["study", "generate", "--out", str(out), "--modality", "MR", "--instances", "2",
                 "--patient-id", "IPP7", "--accession", "ACC7"]) == 0  # fmt: skip
    assert _run(["study", "show", str(out)]) == 0
    kos_path = tmp_path / "kos.dcm"
    assert _run(["kos", "build", str(out), "-o", str(kos_path), "--retrieve-url", WADO,
                 "--retrieve-location-uid", SOURCE_UID]) == 0  # fmt: skip
    capsys.readouterr()
    assert _run(["kos", "show", str(kos_path)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["kos"]["accession_number"] == "ACC7"
    assert shown["document_entry"]["mime_type"] == "application/dicom"
    assert validate_kos(kos_path.read_bytes()) == ([], None)
    assert dciodvfy_errors(kos_path) == []
    assert _run(["kos", "show", str(tmp_path / "nothing.dcm")]) == 2
    assert _run(["kos", "build", str(tmp_path / "nowhere"), "-o", str(kos_path)]) == 2
    assert _run(["study", "generate", "--out", str(out), "--modality", "XX"]) == 2
