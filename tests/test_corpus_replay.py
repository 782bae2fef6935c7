"""Every real request of the corpus, posted over HTTP to our simulators, gets a protocol-correct answer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from xdsi import ROOT

pytestmark = pytest.mark.corpus
sys.path.insert(0, str(ROOT / "tools"))

from corpus_replay import replay  # noqa: E402


def test_every_corpus_request_gets_a_protocol_answer(corpus: Path) -> None:
    rows = replay(corpus)
    assert len(rows) >= 45
    for r in rows:
        if r.answer.startswith("SOAP Fault"):
            assert r.http_status in (400, 500), r
        else:
            assert r.http_status == 200 and r.answer.split(" ")[0] in ("Success", "Failure", "PartialSuccess"), r
        assert r.response_errors == [], r
    by_name = {r.name: r for r in rows}
    assert by_name["nist/NEG_ITI-18_missing-status.xml"].answer == "Failure (XDSStoredQueryMissingParam)"
    assert by_name["dmp-ans/TD2.1_ITI-41_ProvideAndRegister_request.mime"].answer.startswith("SOAP Fault Sender")


def test_dmp_profile_answers_the_official_examples_on_their_substance(corpus: Path) -> None:
    rows = {r.name: r for r in replay(corpus, "dmp")}
    assert rows["dmp-ans/TD3.1_ITI-18_FindDocuments_request.xml"].answer == "Success"
    assert (
        "UnresolvedReferenceException"
        in rows["dmp-ans/TD3.3d_ITI-57_UpdateAvailabilityStatus_Approved-to-Archived_request.xml"].answer
    )
