"""The Finding type and the rule catalogue every validation layer registers into.

A rule is declared once (id, severity, kinds, reference, text); layers emit findings through
:func:`finding`, which copies the severity and reference from the catalogue so they never drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

#: Every kind of input the pipeline knows.
FLUX_KINDS = tuple(f"flux{n}" for n in range(1, 11))
KINDS = (*FLUX_KINDS, "kos", "img-da-img", "img-cr-img")
PROFILES = ("cisis", "dmp", "ihe")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    location: str
    message: str
    reference: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    kinds: tuple[str, ...]
    reference: str
    text: str
    layer: str
    #: Profiles in which the rule applies; a profile may also change the severity (see ``profile_severity``).
    profiles: tuple[str, ...] = PROFILES
    profile_severity: dict[str, Severity] = field(default_factory=dict)

    def severity_in(self, profile: str) -> Severity:
        return self.profile_severity.get(profile, self.severity)


class DuplicateRuleError(ValueError):
    pass


CATALOGUE: dict[str, Rule] = {}


def register(
    rule_id: str,
    severity: Severity,
    kinds: Iterable[str],
    reference: str,
    text: str,
    layer: str,
    profiles: Iterable[str] = PROFILES,
    profile_severity: dict[str, Severity] | None = None,
) -> Rule:
    """Declare a rule. Declaring the same id twice with different content is an error."""
    kinds = tuple(kinds)
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"rule {rule_id}: unknown kinds {sorted(unknown)}")
    if severity not in SEVERITIES:
        raise ValueError(f"rule {rule_id}: bad severity {severity!r}")
    rule = Rule(rule_id, severity, kinds, reference, text, layer, tuple(profiles), dict(profile_severity or {}))
    existing = CATALOGUE.get(rule_id)
    if existing is not None and existing != rule:
        raise DuplicateRuleError(f"rule {rule_id} declared twice with different content")
    CATALOGUE[rule_id] = rule
    return rule


def finding(rule_id: str, location: str, message: str, profile: str = "cisis") -> Finding:
    """Build a finding for a declared rule (severity and reference come from the catalogue)."""
    rule = CATALOGUE[rule_id]
    return Finding(rule_id, rule.severity_in(profile), location, message, rule.reference)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)
