"""The journal (SQLite, WAL, shared by threads and processes) and its report (``xdsi report``)."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from xdsi.cli import main
from xdsi.journal import Exchange, Journal
from xdsi.messages import examples as ex
from xdsi.messages import iti41, iti43
from xdsi.messages.wire import to_wire
from xdsi.report.journal_report import describe_message, render_html, render_json, render_text, verdict
from xdsi.validation.findings import Finding

FINDING = Finding(
    "FLUX1.FICHE.MODALITE.CARD",
    "error",
    "/soap:Envelope/soap:Body/xdsb:ProvideAndRegisterDocumentSetRequest/rim:ExtrinsicObject[1]",
    "modaliteImagerie <absent> & required",
    "PEI §5.1.2 Tableau 12 listeCodesEvenements.modaliteImagerie [1..*]",
)
WARNING = Finding("SQ.PARAM.UNKNOWN", "warning", "/q", "unknown slot", "IHE ITI TF-2a 3.18.4.1.2.3.7")


def mtom_exchange(**changes: Any) -> Exchange:
    objects, docs = ex.flux1()
    body, att = iti41.encode_request(iti41.ProvideAndRegisterRequest(objects, docs))
    wire = to_wire(body, iti41.ACTION, att, "application/dicom")
    exchange = Exchange(
        transaction="ITI-41",
        direction="received",
        actor="registry",
        peer="127.0.0.1:50000",
        endpoint="/iti41",
        request_flux="flux1",
        response_flux="flux2",
        request_action=iti41.ACTION,
        response_action=iti41.RESPONSE_ACTION,
        http_status=200,
        request=wire.body,
        request_content_type=wire.content_type,
        response=b"<ok/>",
        response_content_type="application/soap+xml",
        request_findings=[FINDING],
        response_findings=[WARNING],
        duration_ms=12.5,
        notes=["a note"],
    )
    return dataclasses.replace(exchange, **changes)


def test_record_and_read_back_every_field(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "sub" / "journal.sqlite")
    original = mtom_exchange(request=b"\x00\x01binary\xff" + mtom_exchange().request)
    new_id = journal.record(original)
    assert new_id == original.id == 1
    (back,) = journal.exchanges()
    assert back == original
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", back.time)
    assert back.findings == [FINDING, WARNING]


def test_journal_is_wal_and_one_table(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    Journal(path).record(Exchange())
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert [t for t in tables if not t.startswith("sqlite_")] == ["exchanges"]
        assert conn.execute("SELECT typeof(request) FROM exchanges").fetchone()[0] == "blob"


def test_filters_and_positions(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    assert journal.last_id() == 0 and len(journal) == 0
    journal.record(Exchange(transaction="ITI-41", actor="registry"))
    mark = journal.last_id()
    journal.record(Exchange(transaction="ITI-18", actor="consumer", direction="sent"))
    journal.record(Exchange(transaction="ITI-41", actor="producer", direction="sent"))
    assert len(journal) == 3
    assert [e.actor for e in journal.exchanges(transaction="ITI-41")] == ["registry", "producer"]
    assert [e.transaction for e in journal.exchanges(actor="consumer")] == ["ITI-18"]
    assert [e.id for e in journal.exchanges(after_id=mark)] == [2, 3]
    # a second Journal object on the same file sees the same records
    assert len(list(Journal(tmp_path / "j.sqlite").exchanges())) == 3


def test_threads_append_concurrently(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                journal.record(Exchange(transaction=f"T{n}", request=bytes([n]) * (i + 1)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    recorded = list(journal.exchanges())
    assert len(recorded) == 200
    assert len({e.id for e in recorded}) == 200
    for n in range(8):
        assert sorted(len(e.request) for e in recorded if e.transaction == f"T{n}") == list(range(1, 26))


def _process_writer(path: str, n: int) -> None:
    journal = Journal(path)
    for _ in range(20):
        journal.record(Exchange(transaction=f"P{n}", request=b"x" * 1000))


def test_processes_append_to_one_file(tmp_path: Path) -> None:
    path = str(tmp_path / "j.sqlite")
    Journal(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_writer, args=(path, n)) for n in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    recorded = list(Journal(path).exchanges())
    assert len(recorded) == 60
    assert {e.transaction for e in recorded} == {"P0", "P1", "P2"}


# --------------------------------------------------------------------------------------------------- report


def test_html_report_is_self_contained_and_shows_findings_and_raw_messages() -> None:
    ok = mtom_exchange(id=1, request_findings=[], response_findings=[])
    bad = mtom_exchange(id=2)
    fault = mtom_exchange(id=3, error="SOAP Fault Sender: unreadable request", http_status=400)
    html = render_html([ok, bad, fault])
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script|<link|src=|url\(|@import", html, re.IGNORECASE)
    assert "3 exchange(s): 1 without error, 1 with error findings, 1 failed" in html
    assert "FLUX1.FICHE.MODALITE.CARD" in html and "SQ.PARAM.UNKNOWN" in html
    assert "PEI §5.1.2 Tableau 12" in html
    assert "modaliteImagerie &lt;absent&gt; &amp; required" in html  # escaped
    assert "rim:ExtrinsicObject[1]" in html
    assert html.count("<details>") == 6
    assert "&lt;soap:Envelope" in html  # the raw XML, escaped
    assert "[binary content, " in html  # the DICOM attachment is summarised
    assert "DICM" not in html
    assert "SOAP Fault Sender: unreadable request" in html


def test_describe_message_forms() -> None:
    assert describe_message(b"", None) == [("(empty)", "")]
    ((title, text),) = describe_message(b"<a><b>x</b></a>", "application/soap+xml")
    assert "<a>\n  <b>x</b>\n</a>" in text
    ((title, text),) = describe_message(b"\x00\x01\x02", "application/octet-stream")
    assert text == "[binary content, 3 bytes]"
    body, attachments = iti43.encode_response(ex.flux8())
    wire = to_wire(body, iti43.RESPONSE_ACTION, attachments, "application/dicom")
    sections = describe_message(wire.body, wire.content_type)
    assert sections[0][0].endswith("(root)") and "RetrieveDocumentSetResponse" in sections[0][1]
    assert "application/dicom" in sections[1][0] and sections[1][1].startswith("[binary content")
    ((title, text),) = describe_message(b"--b\r\nContent-Type: x\r\n\r\nno end", 'multipart/related; boundary="b"')
    assert title.startswith("undecodable multipart body")


def test_text_and_json_reports() -> None:
    exchanges = [mtom_exchange(id=1), mtom_exchange(id=2, request_findings=[], response_findings=[])]
    text = render_text(exchanges)
    assert "#1 " in text and "ITI-41 flux1→flux2" in text and "ERRORS" in text
    assert "FLUX1.FICHE.MODALITE.CARD  at /soap:Envelope" in text
    assert text.rstrip().endswith("2 exchange(s)")
    data = json.loads(render_json(exchanges))
    assert data["tool"] == "xdsi"
    first = data["exchanges"][0]
    assert first["verdict"] == "errors" and first["request_findings"][0]["rule"] == "FLUX1.FICHE.MODALITE.CARD"
    assert first["request_size"] > 0 and "request" not in first
    assert data["exchanges"][1]["verdict"] == "ok"
    assert "request" in json.loads(render_json(exchanges, with_bytes=True))["exchanges"][0]
    assert verdict(mtom_exchange(error="x")) == "fault"


def test_report_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "journal.sqlite"
    journal = Journal(path)
    journal.record(mtom_exchange())
    journal.record(mtom_exchange(request_findings=[], response_findings=[]))
    out = tmp_path / "report.html"
    assert main(["report", str(path), "-o", str(out)]) == 0
    assert "FLUX1.FICHE.MODALITE.CARD" in out.read_text(encoding="utf-8")
    assert main(["report", str(path), "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["exchanges"]) == 2
    assert main(["report", str(path), "--format", "text"]) == 0
    assert "2 exchange(s)" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "missing.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xdsi: ") and err.count("\n") == 1
    not_a_journal = tmp_path / "x.sqlite"
    not_a_journal.write_bytes(b"definitely not sqlite" * 100)
    assert main(["report", str(not_a_journal)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
