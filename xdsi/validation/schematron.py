"""ISO Schematron technical rules (XPath 1, ``queryBinding="xslt"``), run by :mod:`lxml.isoschematron`.

The rules live only in ``schemas/schematron/*.sch``: each ``sch:assert``/``sch:report`` carries its ``id``
(the rule id), ``role`` (the severity), ``see`` (the specification reference) and, optionally,
``xdsi:profiles`` (the profiles it applies in). At import time this module reads the files and registers
every assert in the rule catalogue (:func:`xdsi.validation.findings.register`, layer ``"schematron"``); the
catalogue text is the expected behaviour, i.e. the message up to ``: found`` (every message reads
``<what is expected>: found <what was found>``, the found part built with ``sch:value-of``).

One top-level schematron per message shape; shared pattern libraries are pulled in with ISO ``sch:extends``
(expanded by lxml's ISO include step)::

    common-declarations.sch   namespaces, XDS constants ($SS_NODE …), xsl:key definitions
    common-metadata.sch       ebRIM metadata patterns (flux 1, 3, 6)
    common-submission.sch     submission-level patterns (flux 1, 3)
    common-errors.sch         response status / RegistryError patterns (flux 2, 4, 6, 8, 10)
    img-common.sch            namespaces and constants of the CDA schematrons (img-da-img.sch, img-cr-img.sch)

The CDA documents (kinds ``img-da-img``, ``img-cr-img``) have their own top-level schematrons, run on the
ClinicalDocument by :func:`xdsi.validation.cda.validate_cda`.

:func:`validate` takes the SOAP Body's child element (the lead's pipeline passes a bare body root) and returns
one :class:`~xdsi.validation.findings.Finding` per SVRL ``failed-assert`` / ``successful-report``.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import cast

import lxml.isoschematron as isoschematron
from lxml import etree

from xdsi import ROOT
from xdsi.validation.findings import (
    FLUX_KINDS,
    KINDS,
    PROFILES,
    SEVERITIES,
    Finding,
    Severity,
    finding,
    register,
)

SCHEMATRON_DIR = ROOT / "schemas" / "schematron"

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
XSL_NS = "http://www.w3.org/1999/XSL/Transform"
#: Namespace of the project's own attributes on schematron elements (``xdsi:profiles``).
XDSI_NS = "urn:xdsi:schematron"

#: kind -> the top-level schematron files run for it, in order (each file is one compiled validator).
SCHEMATRONS: dict[str, list[Path]] = {
    kind: [SCHEMATRON_DIR / name for name in names]
    for kind, names in {
        "flux1": ["flux1-iti41.sch"],
        "flux2": ["registry-response.sch"],
        "flux3": ["flux3-iti57.sch"],
        "flux4": ["registry-response.sch"],
        "flux5": ["flux5-iti18-request.sch"],
        "flux6": ["flux6-iti18-response.sch"],
        "flux7": ["flux7-iti43-request.sch"],
        "flux8": ["retrieve-response.sch"],
        "flux9": ["flux9-rad69-request.sch"],
        "flux10": ["retrieve-response.sch", "flux10-rad69-response.sch"],
        # CDA documents (rules of the IMG-DA-IMG / IMG-CR-IMG models, with img-common.sch)
        "img-da-img": ["img-da-img.sch"],
        "img-cr-img": ["img-cr-img.sch"],
    }.items()
}

#: Prefixes used to make SVRL locations readable (the usual ones of the specifications).
PREFIXES: dict[str, str] = {
    "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0": "rim",
    "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0": "rs",
    "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0": "lcm",
    "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0": "query",
    "urn:ihe:iti:xds-b:2007": "xdsb",
    "urn:ihe:rad:xdsi-b:2009": "xdsiB",
    "http://www.w3.org/2004/08/xop/include": "xop",
    "http://www.w3.org/2003/05/soap-envelope": "soap",
    "urn:hl7-org:v3": "hl7",
    "urn:dicom-org:ps3-20": "ps3-20",
    "urn:hl7-org:sdtc": "sdtc",
}

_SCH_RULE_TAGS = (f"{{{SCH_NS}}}assert", f"{{{SCH_NS}}}report")
_SVRL_RESULT_TAGS = (f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report")
_SVRL_TEXT = f"{{{SVRL_NS}}}text"
_STEP = re.compile(r"\*\[local-name\(\)='([^']*)' and namespace-uri\(\)='([^']*)'\]")
_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)


class SchematronError(ValueError):
    """A schematron file breaks the project's conventions or the ISO grammar."""


@dataclass(frozen=True)
class SchematronRule:
    """One assert/report as written in a .sch file."""

    id: str
    severity: Severity
    reference: str
    text: str
    profiles: tuple[str, ...]
    file: Path
    test: str


def _parse(path: Path) -> etree._ElementTree:
    return etree.parse(str(path), _SAFE_PARSER)


def schematron_parts(path: Path) -> list[Path]:
    """``path`` and, depth first, every file it pulls in by ``sch:extends``/``sch:include`` (no repeats)."""
    seen: list[Path] = []

    def walk(p: Path) -> None:
        p = p.resolve()
        if p in seen:
            return
        seen.append(p)
        for el in _parse(p).iter(f"{{{SCH_NS}}}extends", f"{{{SCH_NS}}}include"):
            href = el.get("href")
            if href:
                walk(p.parent / href.split("#", 1)[0])

    walk(path)
    return seen


def _static_text(el: etree._Element) -> str:
    """The rule's catalogue text: the message up to ": found" (messages read "<expected>: found <what>")."""
    head = " ".join((el.text or "").split())
    return head.split(": found", 1)[0].rstrip(" :;,(-") if ": found" in head else ""


def read_rules(path: Path) -> list[SchematronRule]:
    """Every assert/report of one .sch file (not following extends), checked against the conventions."""
    rules: list[SchematronRule] = []
    for el in _parse(path).iter(*_SCH_RULE_TAGS):
        rule_id, role, see = el.get("id"), el.get("role"), el.get("see")
        where = f"{path.name}:{el.sourceline}"
        if not rule_id:
            raise SchematronError(f"{where}: assert/report without @id")
        if role not in SEVERITIES:
            raise SchematronError(f"{where}: {rule_id}: @role must be one of {SEVERITIES}, got {role!r}")
        if not see or not see.strip():
            raise SchematronError(f"{where}: {rule_id}: @see (the specification reference) is missing")
        text = _static_text(el)
        if not text:
            raise SchematronError(f"{where}: {rule_id}: the message must read '<expected>: found <what>'")
        profiles = tuple((el.get(f"{{{XDSI_NS}}}profiles") or " ".join(PROFILES)).split())
        if set(profiles) - set(PROFILES):
            raise SchematronError(f"{where}: {rule_id}: unknown profiles {sorted(set(profiles) - set(PROFILES))}")
        rules.append(
            SchematronRule(
                rule_id, cast(Severity, role), " ".join(see.split()), text, profiles, path, el.get("test", "")
            )
        )
    return rules


def _load_catalogue() -> dict[str, SchematronRule]:
    """Read every schematron reachable from :data:`SCHEMATRONS` and register its asserts."""
    kinds_of_file: dict[Path, set[str]] = {}
    for kind, files in SCHEMATRONS.items():
        for top in files:
            for part in schematron_parts(top):
                kinds_of_file.setdefault(part, set()).add(kind)
    rules: dict[str, SchematronRule] = {}
    kinds_of_rule: dict[str, set[str]] = {}
    for part, kinds in kinds_of_file.items():
        for rule in read_rules(part):
            other = rules.get(rule.id)
            if other is not None and (other.file, other.test) != (rule.file, rule.test):
                raise SchematronError(f"rule id {rule.id} used twice ({other.file.name}, {rule.file.name})")
            rules[rule.id] = rule
            kinds_of_rule.setdefault(rule.id, set()).update(kinds)
    for rule_id, rule in rules.items():
        ordered = sorted(kinds_of_rule[rule_id], key=KINDS.index)
        register(rule_id, rule.severity, ordered, rule.reference, rule.text, "schematron", profiles=rule.profiles)
    return rules


#: rule id -> the assert as written (file, test, profiles); filled at import.
RULES: dict[str, SchematronRule] = _load_catalogue()


@dataclass
class _Compiled:
    #: the validator: the ISO skeleton's output for the schematron, compiled by libxslt
    xslt: etree.XSLT
    lock: threading.Lock


_KEY_SELECT = re.compile(r"key\('M','(M\d+)'\)")


@cache
def compiled(path: Path) -> _Compiled:
    """Compile one top-level schematron (ISO extends/include, abstract patterns, then XSLT), once.

    The skeleton's ``select-contexts='key'`` mode is used: each pattern visits only the nodes its rule contexts
    match (an ``xsl:key``) instead of traversing the whole document, three times faster. The skeleton declares
    every pattern's contexts under one key name ``M``; libxslt then misses nodes that several patterns' contexts
    match (measured: rules of the later patterns never fired), so each pattern's key is renamed after its mode
    (``M12`` …) before the validator is compiled.
    """
    tree = _parse(path)
    expanded = isoschematron.iso_abstract_expand(isoschematron.iso_dsdl_include(tree))
    # The ISO grammar types @see as anyURI and libxml2 rejects references such as "IHE ITI TF-3 … urn:uuid:…":
    # check the structure on a copy whose @see are neutral, then compile without re-validating.
    probe = etree.ElementTree(etree.fromstring(etree.tostring(expanded)))
    for el in probe.iter(f"{{{SCH_NS}}}*"):
        if el.get("see") is not None:
            el.set("see", "urn:x")
    if not isoschematron.schematron_schema_valid(probe):
        log = isoschematron.schematron_schema_valid.error_log
        raise SchematronError(f"{path.name}: not a valid ISO schematron after expansion: {log}")
    schematron = isoschematron.Schematron(
        expanded,
        include=False,
        expand=False,
        validate_schema=False,
        store_xslt=True,
        compile_params={"select-contexts": "key"},
    )
    validator = schematron.validator_xslt
    assert validator is not None
    for key in validator.getroot().iterchildren(f"{{{XSL_NS}}}key"):
        if key.get("name") == "M":
            key.set("name", (key.get("use") or "").strip("'"))
    for apply in validator.getroot().iter(f"{{{XSL_NS}}}apply-templates"):
        m = _KEY_SELECT.fullmatch(apply.get("select") or "")
        if m:
            apply.set("select", f"key('{m.group(1)}','{m.group(1)}')")
    return _Compiled(etree.XSLT(validator), threading.Lock())


def warm(kinds: Iterable[str] = FLUX_KINDS) -> None:
    """Compile the schematrons of ``kinds`` now rather than on first use."""
    for kind in kinds:
        for path in SCHEMATRONS.get(kind, []):
            compiled(path)


def readable_location(svrl_location: str) -> str:
    """``/*[local-name()='X' and namespace-uri()='ns'][2]`` -> ``/rim:X[2]`` (prefixes: :data:`PREFIXES`)."""

    def step(m: re.Match[str]) -> str:
        prefix = PREFIXES.get(m.group(2))
        return f"{prefix}:{m.group(1)}" if prefix else m.group(0)

    return _STEP.sub(step, svrl_location) or "/"


def validate(body_root: etree._Element | etree._ElementTree, kind: str, profile: str = "cisis") -> list[Finding]:
    """Run the schematron(s) of ``kind`` on a message body; one finding per failed assert / successful report.

    ``body_root`` is the SOAP Body's child element (any element: it is treated as the root of its own
    document; for a CDA kind, the ClinicalDocument). Kinds without schematron (``kos``) give no finding. Rules whose
    ``xdsi:profiles`` exclude ``profile`` are not reported.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}")
    root = body_root.getroot() if isinstance(body_root, etree._ElementTree) else body_root
    if root.getparent() is not None:
        # xsl:key needs a real document (lxml's "fake root" documents have no key tables): detach a copy.
        root = copy.deepcopy(root)
    findings: list[Finding] = []
    for path in SCHEMATRONS.get(kind, []):
        comp = compiled(path)
        with comp.lock:
            report = comp.xslt(root)
        for result in report.getroot().iter(*_SVRL_RESULT_TAGS):
            rule_id = result.get("id", "")
            if profile not in RULES[rule_id].profiles:
                continue
            message = " ".join(result.findtext(_SVRL_TEXT, "").split())
            findings.append(finding(rule_id, readable_location(result.get("location", "")), message, profile))
    return findings
