"""Registry responses and errors (ebRS RegistryResponse, ITI TF-3 4.2.4)."""

from __future__ import annotations

from dataclasses import dataclass, field

SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
PARTIAL_SUCCESS = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
WARNING = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"


@dataclass
class RegistryError:
    code: str
    context: str
    severity: str = ERROR
    location: str | None = None


@dataclass
class RegistryResponse:
    status: str = SUCCESS
    errors: list[RegistryError] = field(default_factory=list)

    @classmethod
    def failure(cls, *errors: RegistryError) -> RegistryResponse:
        return cls(FAILURE, list(errors))

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS
