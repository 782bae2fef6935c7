"""The XDS error code of each validation finding (ITI TF-3 4.2.4.1), as the registry simulator returns them."""

from __future__ import annotations

import pytest

from xdsi.model.responses import ERROR, WARNING
from xdsi.validation.findings import Finding
from xdsi.validation.storedquery import XDS_ERROR_CODE
from xdsi.validation.xdserrors import registry_error, registry_errors, xds_error_for


def f(rule: str, severity: str = "error", location: str = "/a/b[1]", message: str = "what is wrong") -> Finding:
    return Finding(rule, severity, location, message, "somewhere")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "kind", "code"),
    [
        ("SQ.QUERY.UNKNOWN", "flux5", "XDSUnknownStoredQuery"),
        ("SQ.PARAM.MISSING", "flux5", "XDSStoredQueryMissingParam"),
        ("SQ.QUERY.RETURNTYPE", "flux5", "XDSRegistryError"),
        ("ITI41.DOCUMENT.MISSING", "flux1", "XDSMissingDocument"),
        ("ITI41.DOCUMENT.METADATA_MISSING", "flux1", "XDSMissingDocumentMetadata"),
        ("META.PATIENT.MISMATCH", "flux1", "XDSPatientIdDoesNotMatch"),
        ("META.PATIENT.MISMATCH", "flux3", "XDSPatientIdDoesNotMatch"),
        ("META.FOLDER.PATIENT.MISMATCH", "flux1", "XDSPatientIdDoesNotMatch"),
        ("SUBMIT.UNIQUEID.DUPLICATE", "flux1", "XDSRegistryDuplicateUniqueIdInMessage"),
        ("SUBMIT.UNIQUEID.DUPLICATE", "flux3", "XDSRegistryDuplicateUniqueIdInMessage"),
        ("FLUX1.FICHE.MODALITE.CARD", "flux1", "XDSRepositoryMetadataError"),
        ("XSD.SCHEMAV_ELEMENT_CONTENT", "flux1", "XDSRepositoryMetadataError"),
        ("FLUX1.FICHE.MODALITE.CARD", "flux3", "XDSRegistryMetadataError"),
        ("WSA.MESSAGEID.MISSING", "flux5", "XDSRegistryError"),
        ("ITI43.DOCUMENTUNIQUEID.EMPTY", "flux7", "XDSRepositoryError"),
        ("ANY.RULE", "flux9", "XDSRegistryError"),
        ("ANY.RULE", None, "XDSRegistryError"),
    ],
)
def test_code_of_a_finding(rule: str, kind: str | None, code: str) -> None:
    assert xds_error_for(f(rule), kind) == code


def test_every_stored_query_rule_keeps_its_own_code() -> None:
    for rule, code in XDS_ERROR_CODE.items():
        assert xds_error_for(f(rule), "flux1") == code


def test_registry_error_carries_rule_message_and_location() -> None:
    err = registry_error(f("FLUX1.FICHE.MODALITE.CARD", location="/x/rim:ExtrinsicObject[1]"), "flux1")
    assert err.code == "XDSRepositoryMetadataError"
    assert err.context == "FLUX1.FICHE.MODALITE.CARD: what is wrong"
    assert err.location == "/x/rim:ExtrinsicObject[1]"
    assert err.severity == ERROR
    assert registry_error(f("SQ.PARAM.UNKNOWN", "warning"), "flux5").severity == WARNING


def test_only_error_findings_become_registry_errors() -> None:
    findings = [f("A.ERROR"), f("B.WARNING", "warning"), f("C.INFO", "info"), f("D.ERROR", location="")]
    errors = registry_errors(findings, "flux7")
    assert [(e.code, e.context.split(":")[0], e.location) for e in errors] == [
        ("XDSRepositoryError", "A.ERROR", "/a/b[1]"),
        ("XDSRepositoryError", "D.ERROR", None),
    ]
