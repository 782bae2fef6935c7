"""The ``xdsi`` command end to end: examples validate, bad input exits 2 with one line, reports are well formed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from xdsi import ROOT
from xdsi.cli import main
from xdsi.messages.example_files import build_all

EXAMPLES = ROOT / "examples"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xdsi.cli", *args], capture_output=True, text=True, timeout=120)


def test_committed_examples_are_up_to_date() -> None:
    parser = etree.XMLParser(remove_blank_text=True)
    for name, data in build_all().items():
        committed = (EXAMPLES / name).read_bytes()
        if name.endswith(".xml"):
            assert etree.tostring(etree.fromstring(committed, parser)) == etree.tostring(
                etree.fromstring(data, parser)
            ), name
        else:
            assert committed == data, name


def test_every_example_is_valid_and_detected(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLES), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    kinds = {Path(r["path"]).name.split("-")[0]: r["kind"] for r in report["results"]}
    assert kinds == {f"flux{n}": f"flux{n}" for n in range(1, 11)}
    assert all(r["valid"] for r in report["results"]), [
        (r["path"], [f["rule"] for f in r["findings"] if f["severity"] == "error"]) for r in report["results"]
    ]


def test_examples_in_the_profiles(tmp_path: Path) -> None:
    """Valid in cisis and dmp; strict IHE refuses only the French identifier conventions (^NH, ^PI, IDNST)."""
    for profile in ("cisis", "dmp"):
        assert main(["validate", str(EXAMPLES), "--profile", profile, "--format", "json", "-o", "/dev/null"]) == 0
    out = tmp_path / "ihe.json"
    assert main(["validate", str(EXAMPLES), "--profile", "ihe", "--format", "json", "-o", str(out)]) == 1
    errors = {
        f["rule"] for r in json.loads(out.read_text())["results"] for f in r["findings"] if f["severity"] == "error"
    }
    assert errors <= {"MD.XON", "MD.PATIENTID.CX", "MD.SOURCEPATIENTID.CX", "SQ.VALUE.CX"}, errors


def test_broken_message_exits_1_with_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (EXAMPLES / "flux1-iti41-request-inline.xml").read_text()
    broken = text.replace(
        "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4", "urn:uuid:00000000-0000-0000-0000-000000000000"
    )
    path = tmp_path / "broken.xml"
    path.write_text(broken)
    assert main(["validate", str(path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    rules = {f["rule"] for f in report["results"][0]["findings"]}
    assert "FLUX1.FICHE.MODALITE.CARD" in rules
    for f in report["results"][0]["findings"]:
        assert f["location"] and f["reference"] and f["severity"] in ("error", "warning", "info")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"%PDF-1.4 binary", "PDF"),
        (b"", "empty"),
        (b"<a><b></a>", "XML"),
        (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', "entit"),
        (b"<unknown xmlns='urn:example'/>", "unknown root element"),
        (b"--MIMEBoundary\r\nContent-Type: application/xop+xml\r\n\r\n<a/>", ""),
    ],
)
def test_unreadable_input_exits_2_with_one_line(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_bytes(content)
    proc = run("validate", str(path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    line = [ln for ln in proc.stdout.splitlines() if "UNREADABLE" in ln]
    assert len(line) == 1 and reason.lower() in line[0].lower()


def test_billion_laughs_and_external_entities_are_refused_fast(tmp_path: Path) -> None:
    lol = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9))
        + b"]><l>&j;</l>"
    )
    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    for name, data in (("lol.xml", lol), ("xxe.xml", xxe)):
        path = tmp_path / name
        path.write_bytes(data)
        start = time.perf_counter()
        proc = run("validate", str(path))
        assert proc.returncode == 2 and time.perf_counter() - start < 20
        assert "root:" not in proc.stdout


def test_large_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    with path.open("wb") as f:
        f.write(b"<a>")
        f.write(b"x" * (70 * 1024 * 1024))
        f.write(b"</a>")
    proc = run("validate", str(path))
    assert proc.returncode == 2 and "large" in proc.stdout.lower()


def test_missing_file_and_usage_errors_exit_2(tmp_path: Path) -> None:
    proc = run("validate", str(tmp_path / "nope.xml"))
    assert proc.returncode == 2 and "cannot read" in proc.stdout
    assert run("validate").returncode == 2
    assert run("validate", str(EXAMPLES), "--xsd-dir", str(tmp_path / "nope")).returncode == 2


def test_junit_report_is_well_formed(tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    assert main(["validate", str(EXAMPLES), "--format", "junit", "-o", str(out)]) == 0
    suite = etree.parse(str(out)).getroot()
    assert suite.tag == "testsuite" and suite.get("tests") == str(len(list(EXAMPLES.iterdir())))


def test_as_forces_the_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLES / "flux2-iti41-response.xml"), "--as", "flux4", "--format", "json"]) in (0, 1)
    assert json.loads(capsys.readouterr().out)["results"][0]["kind"] == "flux4"


def test_rules_lists_at_least_80_rules_with_references(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert len(rules) >= 80
    assert all(r["reference"] and r["severity"] in ("error", "warning", "info") for r in rules)
    assert len({r["id"] for r in rules}) == len(rules)
