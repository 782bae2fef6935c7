"""The DICOM side of the imaging source over real sockets: C-ECHO, C-FIND, C-GET, C-MOVE, C-STORE, association
acceptance, and bad input (malformed PDUs, stalled peers, unknown UIDs and destinations)."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import build_role, evt
from pynetdicom.sop_class import CTImageStorage, Verification  # type: ignore[attr-defined]

from simulators.imaging_consumer.client import StorageScp
from simulators.imaging_source.dimse import (
    PATIENT_ROOT_FIND,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
    DicomSource,
    dataset_offset,
    make_ae,
    parse_move_destination,
)
from simulators.imaging_source.index import ImagingIndex
from simulators.imaging_source.server import RunningImagingSource, start_imaging_source
from xdsi.dicom.study import StudyInfo, generate_study
from xdsi.journal import Journal


def _assoc(
    src: RunningImagingSource,
    *contexts: str,
    calling: str = "TESTSCU",
    roles: bool = False,
    handlers: list[Any] | None = None,
) -> Any:
    ae = make_ae(calling)
    for cx in contexts:
        ae.add_requested_context(cx)
    ext = [build_role(CTImageStorage, scp_role=True)] if roles else []
    assoc = ae.associate("127.0.0.1", src.dicom_port, ae_title=src.ae_title, ext_neg=ext, evt_handlers=handlers or [])
    assert assoc.is_established
    return assoc


def _find(src: RunningImagingSource, query: Dataset, model: str = STUDY_ROOT_FIND) -> list[tuple[int, Dataset | None]]:
    assoc = _assoc(src, model)
    try:
        return [(int(s.Status), i) for s, i in assoc.send_c_find(query, model)]
    finally:
        assoc.release()


def _q(level: str, **keys: Any) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for k, v in keys.items():
        setattr(ds, k, v)
    return ds


@pytest.fixture
def get_assoc(source: RunningImagingSource) -> Iterator[tuple[Any, list[Dataset]]]:
    got: list[Dataset] = []

    def on_store(event: Any) -> int:
        got.append(event.dataset)
        return 0

    assoc = _assoc(source, STUDY_ROOT_GET, CTImageStorage, roles=True, handlers=[(evt.EVT_C_STORE, on_store)])
    yield assoc, got
    if assoc.is_established:
        assoc.release()


def _final(responses: Iterator[tuple[Dataset, Dataset | None]]) -> tuple[Dataset, Dataset | None]:
    last: tuple[Dataset, Dataset | None] | None = None
    for status, ident in responses:
        last = (status, ident)
    assert last is not None
    return last


# ------------------------------------------------------------------------------------------------ echo / find


def test_echo(source: RunningImagingSource) -> None:
    assoc = _assoc(source, Verification)
    assert assoc.send_c_echo().Status == 0
    assoc.release()


def test_find_study_level_returns_requested_keys(source: RunningImagingSource, study: StudyInfo) -> None:
    q = _q(
        "STUDY",
        StudyInstanceUID="",
        PatientID=study.patient_id,
        ModalitiesInStudy="",
        NumberOfStudyRelatedInstances="",
        NumberOfStudyRelatedSeries="",
        AccessionNumber="",
        RetrieveAETitle="",
    )
    results = _find(source, q)
    pending = [i for s, i in results if s == 0xFF00]
    assert results[-1][0] == 0
    assert len(pending) == 1
    ident = pending[0]
    assert ident is not None
    assert ident.StudyInstanceUID == study.study_instance_uid
    assert ident.AccessionNumber == study.accession_number
    assert ident.NumberOfStudyRelatedInstances == 6
    assert ident.NumberOfStudyRelatedSeries == 2
    assert "CT" in ident.ModalitiesInStudy
    assert ident.RetrieveAETitle == source.ae_title
    assert "PatientName" not in ident  # only what was asked


@pytest.mark.parametrize(
    ("keys", "matches"),
    [
        ({"PatientName": "*"}, 1),
        ({"StudyDate": "19000101-20991231"}, 1),
        ({"StudyDate": "-19000101"}, 0),
        ({"PatientID": "NOBODY"}, 0),
        ({"StudyInstanceUID": "1.2.3.4.5.6.7"}, 0),
        ({"ModalitiesInStudy": "CT"}, 1),
        ({"ModalitiesInStudy": "MR"}, 0),
    ],
)
def test_find_matching(source: RunningImagingSource, keys: dict[str, str], matches: int) -> None:
    results = _find(source, _q("STUDY", **{"StudyInstanceUID": "", **keys}))
    assert results[-1][0] == 0
    assert sum(1 for s, _ in results if s == 0xFF00) == matches


def test_find_series_and_image_levels(source: RunningImagingSource, study: StudyInfo) -> None:
    series = _find(
        source,
        _q(
            "SERIES",
            StudyInstanceUID=study.study_instance_uid,
            SeriesInstanceUID="",
            Modality="",
            NumberOfSeriesRelatedInstances="",
        ),
    )
    found = {i.SeriesInstanceUID: i for s, i in series if s == 0xFF00 and i is not None}
    assert set(found) == {s.series_instance_uid for s in study.series}
    assert all(int(i.NumberOfSeriesRelatedInstances) == 3 for i in found.values())
    se = study.series[0]
    images = _find(
        source,
        _q(
            "IMAGE",
            StudyInstanceUID=study.study_instance_uid,
            SeriesInstanceUID=se.series_instance_uid,
            SOPInstanceUID="",
            SOPClassUID="",
        ),
    )
    uids = {i.SOPInstanceUID for s, i in images if s == 0xFF00 and i is not None}
    assert uids == {i.sop_instance_uid for i in se.instances}


def test_find_patient_root(source: RunningImagingSource, study: StudyInfo) -> None:
    results = _find(
        source, _q("PATIENT", PatientID="", PatientName="", NumberOfPatientRelatedStudies=""), PATIENT_ROOT_FIND
    )
    ids = [i.PatientID for s, i in results if s == 0xFF00 and i is not None]
    assert study.patient_id in ids


@pytest.mark.parametrize("level", ["", "WHATEVER", "PATIENT"])
def test_find_bad_level_is_refused(source: RunningImagingSource, level: str) -> None:
    results = _find(source, _q(level, StudyInstanceUID=""))  # PATIENT is not a Study Root level
    assert results[-1][0] == 0xA900


# ------------------------------------------------------------------------------------------------ get


def test_get_series(get_assoc: tuple[Any, list[Dataset]], study: StudyInfo) -> None:
    assoc, got = get_assoc
    se = study.series[1]
    status, _ = _final(
        assoc.send_c_get(
            _q("SERIES", StudyInstanceUID=study.study_instance_uid, SeriesInstanceUID=se.series_instance_uid),
            STUDY_ROOT_GET,
        )
    )
    assert status.Status == 0
    assert status.NumberOfCompletedSuboperations == 3
    assert {d.SOPInstanceUID for d in got} == {i.sop_instance_uid for i in se.instances}
    on_disk = dcmread(se.instances[0].path)
    first = next(d for d in got if d.SOPInstanceUID == se.instances[0].sop_instance_uid)
    assert first.PixelData == on_disk.PixelData
    assert first.PatientID == on_disk.PatientID


def test_get_study(get_assoc: tuple[Any, list[Dataset]], study: StudyInfo) -> None:
    assoc, got = get_assoc
    status, _ = _final(assoc.send_c_get(_q("STUDY", StudyInstanceUID=study.study_instance_uid), STUDY_ROOT_GET))
    assert status.Status == 0
    assert len(got) == 6


def test_get_images_some_unknown_is_a_warning(get_assoc: tuple[Any, list[Dataset]], study: StudyInfo) -> None:
    assoc, got = get_assoc
    known = study.series[0].instances[0].sop_instance_uid
    status, ident = _final(
        assoc.send_c_get(
            _q("IMAGE", StudyInstanceUID=study.study_instance_uid, SOPInstanceUID=[known, "1.2.3.999"]), STUDY_ROOT_GET
        )
    )
    assert status.Status == 0xB000
    assert status.NumberOfCompletedSuboperations == 1
    assert status.NumberOfFailedSuboperations == 1
    assert ident is not None and "1.2.3.999" in ident.FailedSOPInstanceUIDList
    assert [d.SOPInstanceUID for d in got] == [known]


@pytest.mark.parametrize(
    ("identifier", "code"),
    [
        ({"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": "1.2.3.999"}, 0xC000),
        ({"QueryRetrieveLevel": "SERIES", "SeriesInstanceUID": "1.2.3.998"}, 0xC000),
        ({"QueryRetrieveLevel": "STUDY"}, 0xA900),
        ({"QueryRetrieveLevel": "NOPE", "StudyInstanceUID": "1.2"}, 0xA900),
    ],
)
def test_get_failures(get_assoc: tuple[Any, list[Dataset]], identifier: dict[str, str], code: int) -> None:
    assoc, got = get_assoc
    ds = Dataset()
    for k, v in identifier.items():
        setattr(ds, k, v)
    status, _ = _final(assoc.send_c_get(ds, STUDY_ROOT_GET))
    assert status.Status == code
    assert "ErrorComment" in status
    assert got == []
    assert assoc.is_established  # a failure status, not an abort


# ------------------------------------------------------------------------------------------------ move


def test_move_to_known_destination(source: RunningImagingSource, study: StudyInfo, move_port: int) -> None:
    with StorageScp("XDSI_CONSUMER", port=move_port) as scp:
        assoc = _assoc(source, STUDY_ROOT_MOVE)
        status, _ = _final(
            assoc.send_c_move(_q("STUDY", StudyInstanceUID=study.study_instance_uid), "XDSI_CONSUMER", STUDY_ROOT_MOVE)
        )
        assoc.release()
        received, size = scp.take()
    assert status.Status == 0
    assert len(received) == 6
    assert size > 6 * 64 * 64


def test_move_to_unknown_destination(source: RunningImagingSource, study: StudyInfo) -> None:
    assoc = _assoc(source, STUDY_ROOT_MOVE)
    status, _ = _final(
        assoc.send_c_move(_q("STUDY", StudyInstanceUID=study.study_instance_uid), "NOBODY", STUDY_ROOT_MOVE)
    )
    assert status.Status == 0xA801
    assert assoc.is_established
    assoc.release()


def test_move_unknown_study(source: RunningImagingSource, move_port: int) -> None:
    with StorageScp("XDSI_CONSUMER", port=move_port):
        assoc = _assoc(source, STUDY_ROOT_MOVE)
        status, _ = _final(
            assoc.send_c_move(_q("STUDY", StudyInstanceUID="1.2.3.999"), "XDSI_CONSUMER", STUDY_ROOT_MOVE)
        )
        assoc.release()
    assert status.Status == 0xC000


def test_move_destination_down(source: RunningImagingSource, study: StudyInfo) -> None:
    """The destination is configured but nothing listens there: a failure status, not a hang."""
    assoc = _assoc(source, STUDY_ROOT_MOVE)
    status, _ = _final(
        assoc.send_c_move(_q("STUDY", StudyInstanceUID=study.study_instance_uid), "XDSI_CONSUMER", STUDY_ROOT_MOVE)
    )
    assoc.release()
    assert status.Status not in (0x0000, 0xFF00)


# ------------------------------------------------------------------------------------------------ store


def test_store_then_find_and_get(tmp_path: Path, tmp_store: str) -> None:
    other = generate_study(tmp_path / "other", series=1, instances=2, seed=99)
    with_source = start_imaging_source(store=tmp_store, http_port=None)
    try:
        ae = make_ae("STORESCU")
        ae.add_requested_context(CTImageStorage)
        assoc = ae.associate("127.0.0.1", with_source.dicom_port, ae_title=with_source.ae_title)
        assert assoc.is_established
        for inst in other.instances:
            assert assoc.send_c_store(inst.path).Status == 0
        assoc.release()
        results = _find(
            with_source, _q("STUDY", StudyInstanceUID=other.study_instance_uid, NumberOfStudyRelatedInstances="")
        )
        pending = [i for s, i in results if s == 0xFF00]
        assert len(pending) == 1 and pending[0] is not None
        assert pending[0].NumberOfStudyRelatedInstances == 2
        stored = with_source.index.instance(other.instances[0].sop_instance_uid)
        assert stored is not None and Path(stored.path).read_bytes()[128:132] == b"DICM"
    finally:
        with_source.stop()


def test_store_without_uids_is_refused(source: RunningImagingSource) -> None:
    ds = Dataset()
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = "1.2.3.4.77"
    ds.PatientID = "X"  # no Study/Series Instance UID: not indexable
    ds.file_meta = Dataset()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ae = make_ae("STORESCU")
    ae.add_requested_context(CTImageStorage)
    assoc = ae.associate("127.0.0.1", source.dicom_port, ae_title=source.ae_title)
    status = assoc.send_c_store(ds)
    assoc.release()
    assert status.Status == 0xC000
    assert source.index.instance("1.2.3.4.77") is None


# ------------------------------------------------------------------------------------------------ association


def test_unknown_calling_aet_is_rejected(tmp_store: str) -> None:
    src = start_imaging_source(store=tmp_store, http_port=None, accepted_calling_aets=["FRIEND"])
    try:
        ae = make_ae("STRANGER")
        ae.add_requested_context(Verification)
        assoc = ae.associate("127.0.0.1", src.dicom_port, ae_title=src.ae_title)
        assert assoc.is_rejected
        rj = assoc.acceptor.primitive
        assert (rj.result, rj.result_source, rj.diagnostic) == (0x01, 0x01, 0x03)  # calling AE not recognised
        ae2 = make_ae("FRIEND")
        ae2.add_requested_context(Verification)
        ok = ae2.associate("127.0.0.1", src.dicom_port, ae_title=src.ae_title)
        assert ok.is_established
        ok.release()
    finally:
        src.stop()


def test_wrong_called_aet_is_rejected_when_required(tmp_store: str) -> None:
    src = start_imaging_source(store=tmp_store, http_port=None, require_called_aet=True)
    try:
        ae = make_ae("SCU")
        ae.add_requested_context(Verification)
        assoc = ae.associate("127.0.0.1", src.dicom_port, ae_title="SOMEONE_ELSE")
        assert assoc.is_rejected
    finally:
        src.stop()


def _raw_exchange(port: int, payload: bytes, wait: float = 2.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


def _echo_ok(src: RunningImagingSource) -> bool:
    assoc = _assoc(src, Verification)
    ok = assoc.send_c_echo().Status == 0
    assoc.release()
    return bool(ok)


@pytest.mark.parametrize(
    "payload",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # not DICOM at all
        b"\x01\x00\x00\x00\x00\x10" + b"\x00" * 16,  # A-ASSOCIATE-RQ far too short for its fields
        b"\x01\x00\xff\xff\xff\xff" + b"\x00" * 64,  # announces 4 GiB, sends 64 bytes, closes
        b"\x07\x00\x00\x00\x00\x04\x00\x00\x00\x00",  # an A-ABORT before any association
        b"\x04\x00\x00\x00\x00\x0a" + b"\x00" * 10,  # a P-DATA-TF before any association
        b"\x99" * 100,  # an unknown PDU type
    ],
)
def test_malformed_pdus_do_not_crash_the_server(source: RunningImagingSource, payload: bytes) -> None:
    _raw_exchange(source.dicom_port, payload)
    assert _echo_ok(source)


def test_stalled_peer_is_dropped(tmp_store: str) -> None:
    """A peer that announces a PDU and never sends it loses its association after the network timeout; the
    server answers others meanwhile."""
    index = ImagingIndex(tmp_store)
    src = DicomSource(index, network_timeout=1.0).start("127.0.0.1", 0)
    try:
        s = socket.create_connection(("127.0.0.1", src.port), timeout=10)
        s.sendall(struct.pack(">BBI", 1, 0, 1000) + b"\x00" * 10)
        ae = make_ae("SCU")
        ae.add_requested_context(Verification)
        assoc = ae.associate("127.0.0.1", src.port, ae_title=src.ae_title)
        assert assoc.is_established and assoc.send_c_echo().Status == 0
        assoc.release()
        started = time.monotonic()
        try:
            data = s.recv(100)  # the server closes (after an A-ABORT) once its timeout expires
        except (ConnectionResetError, TimeoutError):
            data = b""
        assert time.monotonic() - started < 9
        assert data == b"" or data[:1] == b"\x07"
        s.close()
    finally:
        src.stop()
        index.close()


# ------------------------------------------------------------------------------------------------ helpers


def test_parse_move_destination() -> None:
    assert parse_move_destination("STORESCP=127.0.0.1:11113") == ("STORESCP", ("127.0.0.1", 11113))
    assert parse_move_destination("X=[::1]:104") == ("X", ("::1", 104))
    for bad in ("NOEQUALS", "=h:1", "A=host", "A=host:0", "A=host:x", "WAYTOOLONGAETITLE1=h:1"):
        with pytest.raises(ValueError):
            parse_move_destination(bad)


def test_dataset_offset(study: StudyInfo) -> None:
    data = study.instances[0].path.read_bytes()
    offset = dataset_offset(data)
    assert data[offset : offset + 2] == b"\x08\x00"  # the first element of the data set, group 0008
    with pytest.raises(ValueError):
        dataset_offset(b"not dicom")


# ------------------------------------------------------------------------------------------------ journal


def test_dimse_exchanges_are_journaled(tmp_path: Path, tmp_store: str, study: StudyInfo) -> None:
    """C-FIND, C-GET, C-MOVE and C-STORE received go to the journal: the identifier, the final status, how
    many matches or sub-operations (DESIGN §6: every exchange is recorded)."""
    assert study.directory is not None
    journal = Journal(tmp_path / "journal.sqlite")
    src = start_imaging_source(store=tmp_store, studies=[study.directory], journal=journal, http_port=None)
    try:
        _find(src, _q("STUDY", StudyInstanceUID=study.study_instance_uid, StudyDate=""))
        got: list[Dataset] = []
        assoc = _assoc(
            src,
            STUDY_ROOT_GET,
            CTImageStorage,
            roles=True,
            handlers=[(evt.EVT_C_STORE, lambda e: got.append(e.dataset) or 0)],
        )
        _final(assoc.send_c_get(_q("STUDY", StudyInstanceUID=study.study_instance_uid), STUDY_ROOT_GET))
        _final(assoc.send_c_get(_q("STUDY", StudyInstanceUID="1.2.3.999"), STUDY_ROOT_GET))
        assoc.release()
        assoc = _assoc(src, STUDY_ROOT_MOVE)
        _final(assoc.send_c_move(_q("STUDY", StudyInstanceUID=study.study_instance_uid), "NOBODY", STUDY_ROOT_MOVE))
        assoc.release()
    finally:
        src.stop()
    exchanges = list(journal.exchanges())
    assert [e.transaction for e in exchanges] == ["C-FIND", "C-GET", "C-GET", "C-MOVE"]
    assert all(e.actor == "imaging_source" and e.direction == "received" for e in exchanges)
    find, get, get_unknown, move = exchanges
    assert study.study_instance_uid in find.request.decode() and find.response.decode().startswith("status 0x0000")
    assert "1 match(es)" in find.response.decode() and find.request_flux is None
    assert get.request_flux == "flux9" and get.response_flux == "flux10" and len(got) == 6
    assert get.response.decode().startswith("status 0x0000\n6 C-STORE sub-operation(s) offered\n")
    offered = {line.split()[1] for line in get.response.decode().splitlines()[2:]}
    assert offered == {i.sop_instance_uid for se in study.series for i in se.instances}
    assert get_unknown.response.decode().startswith("status 0xC000: no instance matches")
    assert "Move Destination: NOBODY" in move.request.decode() and move.response.decode().startswith("status 0xA801")
    assert get.peer.startswith("TESTSCU@127.0.0.1:") and get.endpoint == f"DIMSE {src.ae_title}"
