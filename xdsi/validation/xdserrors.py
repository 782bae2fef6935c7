"""Which XDS error code a registry/repository returns for a validation finding (ITI TF-3 4.2.4.1, xds-facts §4).

The registry simulator answers a request whose validation found errors with a Failure response: one
``rs:RegistryError`` per error finding, its ``errorCode`` from :func:`xds_error_for`, its ``codeContext``
``"<rule>: <message>"`` and its ``location`` the finding's location.

Order of precedence: the stored-query rules (their own table, :data:`xdsi.validation.storedquery.XDS_ERROR_CODE`),
then the rules that have a dedicated code (:data:`RULE_CODES`), then the generic code of the kind of message
(:data:`KIND_CODES`).
"""

from __future__ import annotations

from collections.abc import Iterable

from xdsi.model.responses import ERROR, WARNING, RegistryError
from xdsi.validation.findings import Finding
from xdsi.validation.storedquery import XDS_ERROR_CODE

XDS_REGISTRY_ERROR = "XDSRegistryError"

#: Rules with a dedicated XDS error code (ITI TF-3 Table 4.2.4.1-2).
RULE_CODES: dict[str, str] = {
    "ITI41.DOCUMENT.MISSING": "XDSMissingDocument",
    "ITI41.DOCUMENT.METADATA_MISSING": "XDSMissingDocumentMetadata",
    "META.PATIENT.MISMATCH": "XDSPatientIdDoesNotMatch",
    "META.FOLDER.PATIENT.MISMATCH": "XDSPatientIdDoesNotMatch",
    "SUBMIT.UNIQUEID.DUPLICATE": "XDSRegistryDuplicateUniqueIdInMessage",
}

#: The generic code by kind of request: the actor that refuses it is a repository (Flux 1, 7) or a registry.
KIND_CODES: dict[str, str] = {
    "flux1": "XDSRepositoryMetadataError",
    "flux3": "XDSRegistryMetadataError",
    "flux5": "XDSRegistryError",
    "flux7": "XDSRepositoryError",
}


def xds_error_for(finding: Finding, kind: str | None) -> str:
    """The XDS error code for ``finding`` found in a message of ``kind`` (``flux1``…)."""
    code = XDS_ERROR_CODE.get(finding.rule) or RULE_CODES.get(finding.rule)
    if code:
        return code
    return KIND_CODES.get(kind or "", XDS_REGISTRY_ERROR)


def code_context(finding: Finding) -> str:
    return f"{finding.rule}: {finding.message}"


def registry_error(finding: Finding, kind: str | None) -> RegistryError:
    """One ``rs:RegistryError`` for a finding (severity Error for error findings, Warning otherwise)."""
    severity = ERROR if finding.severity == "error" else WARNING
    return RegistryError(xds_error_for(finding, kind), code_context(finding), severity, finding.location or None)


def registry_errors(findings: Iterable[Finding], kind: str | None) -> list[RegistryError]:
    """The RegistryErrors of the error findings (warnings and info are left to the journal)."""
    return [registry_error(f, kind) for f in findings if f.severity == "error"]
