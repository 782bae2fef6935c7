"""The imaging consumer against our simulator over real sockets: each retrieve method, and what it reports when
the source lacks instances, refuses, or is not there."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from simulators.imaging_consumer.client import (
    RetrieveResult,
    StorageScp,
    as_kos,
    build_rad69_request,
    retrieve_cget,
    retrieve_cmove,
    retrieve_rad69,
    retrieve_wado,
)
from simulators.imaging_source.server import RunningImagingSource
from tests.imaging.conftest import free_port
from xdsi.dicom.kos import KosInfo, ReferencedSeries, build_kos, kos_bytes
from xdsi.dicom.study import StudyInfo
from xdsi.journal import Journal


def _check_complete(result: RetrieveResult, study: StudyInfo) -> None:
    assert result.errors == [], result.errors
    assert not [f for f in result.findings if f.severity == "error"], result.findings
    assert sorted(result.received) == sorted(study.references)
    assert result.bytes_received > 0 and result.seconds > 0 and result.ok


def test_rad69(source: RunningImagingSource, kos: KosInfo, study: StudyInfo, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    result = retrieve_rad69(source.rad69_url, kos, journal=journal)
    _check_complete(result, study)
    assert result.status == "Success"
    assert not [f for f in result.request_findings if f.severity == "error"]
    (ex,) = list(journal.exchanges())
    assert ex.direction == "sent" and ex.transaction == "RAD-69" and ex.http_status == 200


def test_cget_each_level(source: RunningImagingSource, kos: KosInfo, study: StudyInfo) -> None:
    for level in ("SERIES", "IMAGE", "STUDY"):
        result = retrieve_cget("127.0.0.1", source.dicom_port, None, kos, level=level)
        _check_complete(result, study)
        assert result.status == "0x0000"


def test_cmove(source: RunningImagingSource, kos: KosInfo, study: StudyInfo, move_port: int) -> None:
    _check_complete(retrieve_cmove("127.0.0.1", source.dicom_port, None, kos, store_port=move_port), study)
    with StorageScp("XDSI_CONSUMER", port=move_port) as scp:  # a long-running destination, reused
        for _ in range(2):
            _check_complete(retrieve_cmove("127.0.0.1", source.dicom_port, None, kos, store_scp=scp), study)


def test_wado(source: RunningImagingSource, kos: KosInfo, study: StudyInfo) -> None:
    _check_complete(retrieve_wado(source.wado_rs_url, kos), study)
    _check_complete(retrieve_wado(None, kos), study)  # the KOS's Retrieve URL
    implicit = retrieve_wado(None, kos, transfer_syntax="1.2.840.10008.1.2")
    _check_complete(implicit, study)
    assert {d.file_meta.TransferSyntaxUID for d in implicit.datasets} == {"1.2.840.10008.1.2"}


def test_kos_as_bytes_path_and_dataset(source: RunningImagingSource, study: StudyInfo, tmp_path: Path) -> None:
    ds = build_kos(
        study,
        retrieve_ae_title=source.ae_title,
        retrieve_url=source.wado_rs_url,
        retrieve_location_uid=source.retrieve_location_uid,
    )
    data = kos_bytes(ds)
    path = tmp_path / "kos.dcm"
    path.write_bytes(data)
    for k in (ds, data, path, str(path)):
        assert as_kos(k).instance_uids == {i.sop_instance_uid for i in study.instances}


def _with_ghost(kos: KosInfo) -> KosInfo:
    """The KOS plus an instance the source does not hold."""
    first = kos.referenced[0]
    ghost = dataclasses.replace(first, instances=[*first.instances, (first.instances[0][0], "1.2.3.4.5.6.7.8.9")])
    return dataclasses.replace(kos, referenced=[ghost, *kos.referenced[1:]])


def test_missing_instance_is_reported_by_every_method(
    source: RunningImagingSource, kos: KosInfo, move_port: int
) -> None:
    ghost = _with_ghost(kos)
    results = [
        retrieve_rad69(source.rad69_url, ghost),
        retrieve_cget("127.0.0.1", source.dicom_port, None, ghost, level="IMAGE"),
        retrieve_cmove("127.0.0.1", source.dicom_port, None, ghost, store_port=move_port, level="IMAGE"),
        retrieve_wado(source.wado_rs_url, ghost),
    ]
    for r in results:
        assert not r.ok, r.method
        missing = [f for f in r.findings if f.rule == "RETRIEVE.INSTANCE.MISSING"]
        assert len(missing) == 1 and "1.2.3.4.5.6.7.8.9" in missing[0].message, (r.method, r.findings)
        assert len(r.datasets) == 6, r.method
    assert results[0].status == "PartialSuccess"
    assert any("XDSDocumentUniqueIdError" in e for e in results[0].errors)
    assert results[1].status == "0xB000" and results[2].status == "0xB000"


def test_errors_are_reported_not_raised(source: RunningImagingSource, kos: KosInfo) -> None:
    wrong_repo = retrieve_rad69(source.rad69_url, kos, repository_unique_id="1.2.3.4")
    assert wrong_repo.status == "Failure" and any("XDSUnknownRepositoryId" in e for e in wrong_repo.errors)
    assert len([f for f in wrong_repo.findings if f.rule == "RETRIEVE.INSTANCE.MISSING"]) == 6
    nobody = free_port()
    for r in (
        retrieve_rad69(f"http://127.0.0.1:{nobody}/rad69", kos, timeout=5),
        retrieve_cget("127.0.0.1", nobody, None, kos, timeout=5),
        retrieve_wado(f"http://127.0.0.1:{nobody}/dicomweb", kos, timeout=5),
    ):
        assert r.errors and not r.ok and r.datasets == []
    refused = retrieve_cmove(
        "127.0.0.1", source.dicom_port, None, kos, move_destination="NOBODY", store_port=free_port()
    )
    assert refused.status == "0xA801"


def test_rad69_request_groups_by_study_and_series(kos: KosInfo, study: StudyInfo) -> None:
    req = build_rad69_request(kos)
    assert [s.study_instance_uid for s in req.studies] == [study.study_instance_uid]
    assert [se.series_instance_uid for se in req.studies[0].series] == [s.series_instance_uid for s in study.series]
    no_location = dataclasses.replace(kos, referenced=[ReferencedSeries("1.2.3", instances=[("1.2", "1.2.4")])])
    with pytest.raises(ValueError):
        build_rad69_request(no_location)
    assert (
        build_rad69_request(no_location, repository_unique_id="1.9").document_requests[0].repository_unique_id == "1.9"
    )
