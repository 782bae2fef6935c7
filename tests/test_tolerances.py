"""The dmp profile keeps, as warnings, the schema deviations that the official DMP examples make."""

from __future__ import annotations

from pathlib import Path

import pytest

from xdsi import ROOT
from xdsi.validation.pipeline import validate_bytes

EXAMPLE = (ROOT / "examples" / "flux3-iti57-status-request.xml").read_text()


def _severities(data: str, profile: str, rule: str) -> set[str]:
    return {f.severity for f in validate_bytes(data.encode(), profile=profile).findings if f.rule == rule}


def test_nested_objects_without_parent_reference() -> None:
    broken = EXAMPLE.replace('classifiedObject="SubmissionSet02"', "", 1)
    assert broken != EXAMPLE
    assert _severities(broken, "cisis", "XSD.SCHEMAV_CVC_COMPLEX_TYPE_4") == {"error"}
    assert _severities(broken, "dmp", "XSD.SCHEMAV_CVC_COMPLEX_TYPE_4") == {"warning"}
    assert validate_bytes(broken.encode(), profile="dmp").valid


def test_unqualified_must_understand_on_addressing_headers() -> None:
    broken = EXAMPLE.replace('<wsa:Action soap:mustUnderstand="true">', '<wsa:Action mustUnderstand="true">')
    assert broken != EXAMPLE
    assert _severities(broken, "cisis", "XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_2") == {"error"}
    assert _severities(broken, "dmp", "XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_2") == {"warning"}


def test_tolerance_is_narrow() -> None:
    """A required attribute missing elsewhere stays an error in the dmp profile."""
    broken = EXAMPLE.replace('associationType="urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"', "")
    assert _severities(broken, "dmp", "XSD.SCHEMAV_CVC_COMPLEX_TYPE_4") == {"error"}


@pytest.mark.corpus
def test_official_dmp_update_examples_pass_in_the_dmp_profile(corpus: Path) -> None:
    for name in (
        "TD3.3c_ITI-57_UpdateAvailabilityStatus_Archived-to-Deleted_request.xml",
        "TD3.3d_ITI-57_UpdateAvailabilityStatus_Approved-to-Archived_request.xml",
    ):
        data = (corpus / "xds/messages/dmp-ans" / name).read_bytes()
        assert validate_bytes(data, profile="dmp").valid
        assert not validate_bytes(data, profile="cisis").valid
