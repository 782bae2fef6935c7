"""The pipeline's own joins: the KOS carried by a Flux 1 message checked against its DocumentEntry."""

from __future__ import annotations

from tests.rulecheck import assert_fires, assert_silent
from xdsi.messages import examples as ex
from xdsi.messages import iti41
from xdsi.messages.wire import to_wire
from xdsi.validation.pipeline import validate_bytes


def _flux1(exam: ex.Exam, entry_exam: ex.Exam) -> bytes:
    """A Flux 1 message whose KOS is built from ``exam`` and whose KOS entry describes ``entry_exam``."""
    objects, docs = ex.flux1(entry_exam)
    docs[0].content = ex.kos_bytes(exam)
    objects.entries[0].unique_id = exam.kos_uid
    body, _ = iti41.encode_request(iti41.ProvideAndRegisterRequest(objects, docs), mtom=False)
    return to_wire(body, iti41.ACTION).body


def test_kos_in_flux1_agrees_with_its_entry() -> None:
    exam = ex.Exam()
    assert_silent(validate_bytes(_flux1(exam, exam)).findings)
    other = ex.Exam(accession_number="ACC-OTHER")
    assert_fires(validate_bytes(_flux1(exam, other)).findings, "KOSDE.ACCESSION.MISMATCH")


def test_document_kinds_are_detected() -> None:
    kos = ex.kos_bytes(ex.Exam())
    result = validate_bytes(kos)
    assert result.kind == "kos" and result.valid, [f.rule for f in result.findings if f.severity == "error"]
    assert validate_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00").error
