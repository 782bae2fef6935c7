"""The index of the imaging source: rows and files, reopening, sharing, refusals; PostgreSQL when
XDSI_TEST_POSTGRES_URL names a database (tools/start_test_postgres.sh)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pydicom import dcmread

from simulators.imaging_source.index import ImagingIndex, IndexStoreError, NotDicomError, StoreUrl
from simulators.imaging_source.server import banner, start_imaging_source
from xdsi.dicom.study import StudyInfo, generate_study

ROOT = Path(__file__).resolve().parents[2]


def test_import_and_query(tmp_store: str, study: StudyInfo) -> None:
    with ImagingIndex(tmp_store) as index:
        assert study.directory is not None
        added, skipped = index.import_directory(study.directory)
        assert len(added) == 6 and skipped == []
        assert index.counts() == (1, 2, 6)
        (st,) = index.studies()
        assert (st.study_instance_uid, st.patient_id, st.accession_number) == (
            study.study_instance_uid,
            study.patient_id,
            study.accession_number,
        )
        assert [s.series_instance_uid for s in index.series()] == [s.series_instance_uid for s in study.series]
        se = study.series[1]
        got = index.instances(series_uids=[se.series_instance_uid])
        assert [i.sop_instance_uid for i in got] == [i.sop_instance_uid for i in se.instances]
        assert index.instances(study_uids=["1.2.3"]) == [] and index.instances(sop_uids=[]) == []
        inst = got[0]
        assert index.read_bytes(inst) == se.instances[0].path.read_bytes()
        assert Path(inst.path).is_relative_to(index.files_dir)


def test_reopen_keeps_rows_and_retrieve_location_uid(tmp_store: str, study: StudyInfo) -> None:
    with ImagingIndex(tmp_store) as index:
        assert study.directory is not None
        index.import_directory(study.directory)
        uid = index.retrieve_location_uid
    assert uid.startswith("2.25.")
    with ImagingIndex(tmp_store) as again:
        assert again.retrieve_location_uid == uid
        assert again.counts() == (1, 2, 6)
    with ImagingIndex(tmp_store, retrieve_location_uid="1.2.250.1.999.69") as chosen:
        assert chosen.retrieve_location_uid == "1.2.250.1.999.69"
    with pytest.raises(IndexStoreError):
        ImagingIndex(tmp_store, retrieve_location_uid="not a uid")


def test_same_instance_twice_replaces_it(tmp_store: str, study: StudyInfo) -> None:
    with ImagingIndex(tmp_store) as index:
        index.add_file(study.instances[0].path)
        index.add_file(study.instances[0].path)
        assert index.counts() == (1, 1, 1)


def test_refusals(tmp_store: str, tmp_path: Path, study: StudyInfo) -> None:
    with ImagingIndex(tmp_store) as index:
        with pytest.raises(NotDicomError):
            index.add_bytes(b"plain text, not DICOM")
        ds = dcmread(study.instances[0].path)
        ds.SeriesInstanceUID = "../../etc"
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        with pytest.raises(NotDicomError):
            index.add_bytes(buf.getvalue())  # a UID that would escape the files directory
        with pytest.raises(NotDicomError):
            index.add_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\x04\x001.2\0")
        (tmp_path / "junk").mkdir()
        (tmp_path / "junk" / "notes.txt").write_text("hello")
        (tmp_path / "junk" / "DICOMDIR").write_bytes(b"x")
        added, skipped = index.import_directory(tmp_path / "junk")
        assert added == [] and len(skipped) == 2
        assert index.counts() == (0, 0, 0)


def test_bare_dataset_gets_a_file_meta(tmp_store: str, study: StudyInfo) -> None:
    ds = dcmread(study.instances[0].path)
    del ds.file_meta
    ds.preamble = None
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=False, implicit_vr=True, little_endian=True)
    raw = buf.getvalue()
    assert raw[128:132] != b"DICM"
    with ImagingIndex(tmp_store) as index:
        rec = index.add_bytes(raw)
        assert Path(rec.path).read_bytes()[128:132] == b"DICM"
        assert dcmread(rec.path).SOPInstanceUID == study.instances[0].sop_instance_uid


def test_store_url_parsing() -> None:
    assert StoreUrl.parse("sqlite:///rel/x.sqlite") == StoreUrl("sqlite", "rel/x.sqlite")
    assert StoreUrl.parse("sqlite:////abs/x.sqlite") == StoreUrl("sqlite", "/abs/x.sqlite")
    assert StoreUrl.parse("postgresql://u@h/db").dialect == "postgresql"
    for bad in ("sqlite://host/x", "sqlite:///:memory:", "mysql://x"):
        with pytest.raises(IndexStoreError):
            StoreUrl.parse(bad)


def test_two_processes_share_one_store(tmp_path: Path, tmp_store: str) -> None:
    """Another process adds a study to the same SQLite store while this one serves: the new instances are
    visible here at once (WAL)."""
    other = generate_study(tmp_path / "other", series=1, instances=2, seed=5)
    with ImagingIndex(tmp_store) as index:
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]);"
            "from simulators.imaging_source.index import ImagingIndex;"
            "i = ImagingIndex(sys.argv[2]); print(len(i.import_directory(sys.argv[3])[0])); i.close()"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(ROOT), tmp_store, str(other.directory)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert out.stdout.strip() == "2"
        assert index.counts() == (1, 1, 2)


def test_concurrent_writers(tmp_store: str, tmp_path: Path) -> None:
    studies = [generate_study(tmp_path / f"s{n}", series=1, instances=4, seed=100 + n) for n in range(4)]
    with ImagingIndex(tmp_store, durable=False) as index:
        errors: list[BaseException] = []

        def load(st: StudyInfo) -> None:
            try:
                for inst in st.instances:
                    index.add_file(inst.path)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=load, args=(st,)) for st in studies]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert index.counts() == (4, 4, 16)


def test_banner_names_every_endpoint(tmp_store: str, study: StudyInfo) -> None:
    assert study.directory is not None
    src = start_imaging_source(
        store=tmp_store, studies=[study.directory], aet="MY_SOURCE", move_destinations=["STORESCP=127.0.0.1:11113"]
    )
    try:
        text = src.banner()
        assert f"DICOM AE MY_SOURCE on 127.0.0.1:{src.dicom_port}" in text
        assert f"{src.http_url}/rad69" in text and f"{src.http_url}/dicomweb" in text
        assert f"Retrieve Location UID (RAD-69 repositoryUniqueId) {src.retrieve_location_uid}" in text
        assert "C-MOVE destination STORESCP = 127.0.0.1:11113" in text
        assert text == banner(
            src.index,
            "MY_SOURCE",
            "127.0.0.1",
            src.dicom_port,
            src.http_url,
            {"STORESCP": ("127.0.0.1", 11113)},
            src.loaded,
            src.skipped,
        )
    finally:
        src.stop()


def test_serve_imaging_source_prints_its_endpoints_and_stops_on_sigterm(tmp_path: Path) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from simulators.imaging_source.server import serve_imaging_source;"
        "serve_imaging_source(dicom_port=0, http_port=0, store=sys.argv[2], log_level='warning')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(ROOT), f"sqlite:///{tmp_path}/i.sqlite"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "instances" in line and "studies" in line:
                break
        text = "".join(lines)
        assert "RAD-69" in text and "WADO-RS" in text and "Retrieve Location UID" in text, text
        proc.terminate()
        assert proc.wait(30) in (0, -15)  # uvicorn re-raises SIGTERM once shut down
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.skipif(not os.environ.get("XDSI_TEST_POSTGRES_URL"), reason="XDSI_TEST_POSTGRES_URL is not set")
def test_postgresql_store(tmp_path: Path) -> None:
    url = os.environ["XDSI_TEST_POSTGRES_URL"]
    st = generate_study(tmp_path / "pg", series=1, instances=2, seed=int(time.time()) % 100000)
    with ImagingIndex(url, tmp_path / "files") as index:
        added, _ = index.import_directory(tmp_path / "pg")
        assert len(added) == 2
        assert [i.sop_instance_uid for i in index.instances(study_uids=[st.study_instance_uid])] == [
            i.sop_instance_uid for i in st.instances
        ]
        assert index.delete_study(st.study_instance_uid) == 2
        assert index.instances(study_uids=[st.study_instance_uid]) == []
