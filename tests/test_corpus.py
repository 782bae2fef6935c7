"""Every message of the shared corpus through the whole pipeline: no crash, and the known verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from xdsi.validation.pipeline import validate_path

pytestmark = pytest.mark.corpus

#: negative samples and known defects of published examples -> a rule the pipeline must report
EXPECTED = {
    "nist/NEG_RegistryResponse_success-with-error.xml": "RESP.SUCCESS.HAS_ERROR",
    "nist/NEG_RegistryResponse_failure-without-error.xml": "RESP.FAILURE.NO_ERROR",
    "nist/NEG_ITI-41_PnR_association-to-self.xml": "META.ASSOC.SELF",
    "nist/NEG_ITI-18_response_ObjectRef_no-status.xml": "RESP.STATUS.MISSING",
    "nist/NEG_ITI-18_response_LeafClass_no-status.xml": "FLUX6.FICHE.STATUT.CARD",
    "nist/NEG_ITI-18_bad-code-format.xml": "SQ.VALUE.CODE",
    "nist/NEG_ITI-18_bad-patientId-format.xml": "SQ.VALUE.NOTSTRING",
    "nist/NEG_ITI-18_bad-status-format1.xml": "SQ.VALUE.NOTSTRING",
    "nist/NEG_ITI-18_bad-status-format2.xml": "SQ.VALUE.NOTSTRING",
    "nist/NEG_ITI-18_missing-status.xml": "SQ.PARAM.MISSING",
    "ipf/NEG_ITI-18_sql-injection-in-patientId.xml": "SQ.VALUE.CX",
    # as published: xdsb:Document/@id "documentME2" vs ExtrinsicObject/@id "DocumentME2", SOAP 1.1 envelope
    "dmp-ans/TD2.1_ITI-41_ProvideAndRegister_request.mime": "ITI41.DOCUMENT.MISSING",
    # the NIST XDS-I.b gold metadata codes the modality in the DICOM UID registry scheme and has no order
    "nist-imaging/RAD-68_KOS_PnR_gold-standard_metadata.xml": "FLUX1.FICHE.ORDER.CARD",
}

#: official examples valid in the dmp profile
VALID_IN_DMP = [
    "dmp-ans/TD2.1_ITI-41_ProvideAndRegister_response.xml",
    "dmp-ans/TD3.3c_ITI-57_UpdateAvailabilityStatus_Archived-to-Deleted_request.xml",
    "dmp-ans/TD3.3d_ITI-57_UpdateAvailabilityStatus_Approved-to-Archived_request.xml",
    "dmp-ans/TD3.3c_ITI-57_response.xml",
    "dmp-ans/TD3.3d_ITI-57_response.xml",
    "dmp-ans/TD3.1_ITI-18_FindDocuments_request.xml",
    "dmp-ans/TD3.2_ITI-43_Retrieve_request.xml",
]


def _files(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / "xds" / "messages").rglob("*") if p.is_file())


def test_every_corpus_file_runs_without_a_crash(corpus: Path) -> None:
    files = _files(corpus)
    assert len(files) >= 60
    for path in files:
        for profile in ("cisis", "dmp", "ihe"):
            result = validate_path(path, profile=profile)
            assert result.error or result.kind, path
            for f in result.findings:
                assert f.rule and f.location and f.reference, (path, f)


@pytest.mark.parametrize(("name", "rule"), sorted(EXPECTED.items()))
def test_known_defects_are_reported(corpus: Path, name: str, rule: str) -> None:
    result = validate_path(corpus / "xds" / "messages" / name)
    assert not result.valid
    assert rule in {f.rule for f in result.findings}, [f.rule for f in result.findings]


@pytest.mark.parametrize("name", VALID_IN_DMP)
def test_official_examples_valid_in_the_dmp_profile(corpus: Path, name: str) -> None:
    result = validate_path(corpus / "xds" / "messages" / name, profile="dmp")
    assert result.valid, [(f.rule, f.location) for f in result.findings if f.severity == "error"]


def test_not_well_formed_sample_is_unreadable(corpus: Path) -> None:
    result = validate_path(corpus / "xds/messages/dcm4chee/NEG_RAD-69_response_soap_as-published-not-well-formed.xml")
    assert result.error and "not well-formed" in result.error
