"""XSD layer for CDA R2 documents (IMG-DA-IMG, IMG-CR-IMG): validate a ClinicalDocument against a schema.

By default the harness's own CDA schema in ``schemas/xsd/cda/`` is used (written from the CDA R2 and HL7 V3
data-type structure, verdict-equivalent to the CI-SIS ``CDA_extended.xsd`` for what the imaging models use; see
``schemas/xsd/cda/README.md``).  ``xsd_dir`` may point at a directory holding an official CDA schema set instead
(e.g. the ``infrastructure/cda`` folder of the ANS TestContenuCDA kit): its entry point is found by name
(``CDA_extended.xsd``, ``CDA.xsd``) or as the file declaring the global ``ClinicalDocument`` element, and its
imports are resolved relative to each file, never over the network.

Every libxml2 error becomes a :class:`Finding` whose rule id is ``XSD.<libxml2 error type>`` (the rules of
:mod:`xdsi.validation.xsd`, plus the few error types only CDA documents produce, declared here), else
``XSD.OTHER``; locations are XPaths with the usual prefixes (``/hl7:ClinicalDocument/hl7:component/...``).
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache
from pathlib import Path

from lxml import etree

from xdsi import ROOT
from xdsi.namespaces import HL7, XS
from xdsi.validation import xsd
from xdsi.validation.findings import CATALOGUE, Finding, finding, register
from xdsi.xmlpaths import xpath_of

OUR_CDA_XSD = ROOT / "schemas" / "xsd" / "cda" / "cda.xsd"
CDA_KINDS = ("img-da-img", "img-cr-img")
#: Entry points of an official CDA schema set, in order of preference.
ENTRY_NAMES = ("CDA_extended.xsd", "CDA.xsd", "CDA_SDTC.xsd")

_XSD_SPEC = "W3C XML Schema 1.0 Part 1"
_CDA_STANDARD = "HL7 CDA R2 (POCD_MT000040) with the CI-SIS extensions"

#: libxml2 error types that the flux messages do not produce but CDA documents do (coded data types, xsi:type,
#: fixed structural attributes, HL7 lexical patterns).
CDA_XSD_RULES: dict[str, tuple[str, str]] = {
    "XSD.SCHEMAV_CVC_PATTERN_VALID": (
        "A value does not match its lexical pattern (HL7 ts date-time, oid, cs code without spaces ...).",
        f"{_XSD_SPEC} cvc-pattern-valid; HL7 V3 data types R1",
    ),
    "XSD.SCHEMAV_CVC_MINLENGTH_VALID": (
        "A value is shorter than allowed (an HL7 st string may not be empty).",
        f"{_XSD_SPEC} cvc-minLength-valid; HL7 V3 data types R1 (st)",
    ),
    "XSD.SCHEMAV_CVC_AU": (
        "An attribute does not have the value its declaration fixes (typeId/@root, structural classCode ...).",
        f"{_XSD_SPEC} cvc-au; HL7 CDA R2 structural attributes",
    ),
    "XSD.SCHEMAV_CVC_TYPE_2": (
        "An element is declared with an abstract data type (ANY) and names no concrete type with xsi:type.",
        f"{_XSD_SPEC} cvc-type.2; HL7 CDA R2 observation/value",
    ),
    "XSD.SCHEMAV_CVC_ELT_4_2": (
        "xsi:type names a type the schema does not define.",
        f"{_XSD_SPEC} cvc-elt.4.2",
    ),
    "XSD.SCHEMAV_CVC_ELT_4_3": (
        "xsi:type names a type that is not derived from the declared type of the element.",
        f"{_XSD_SPEC} cvc-elt.4.3",
    ),
}


#: The rules of xsd.py that CDA documents can break too (the others concern constructs the CDA schema does not
#: have: length limits, attribute wildcards, simple content).
SHARED_XSD_RULES = (
    "XSD.UNKNOWN_ROOT",
    "XSD.SCHEMA_ERROR",
    "XSD.OTHER",
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_4",
    "XSD.SCHEMAV_ELEMENT_CONTENT",
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_1",
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_1",
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_3",
    "XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_1",
    "XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_3",
    "XSD.SCHEMAV_CVC_ENUMERATION_VALID",
)


def _register_rules() -> None:
    for rule_id, (text, reference) in CDA_XSD_RULES.items():
        register(rule_id, "error", CDA_KINDS, reference, text, layer="xsd")
    # Those rules of xsd.py apply to CDA documents too: widen their kinds (a no-op once xsd.py declares them so).
    for rule_id in SHARED_XSD_RULES:
        rule = CATALOGUE[rule_id]
        missing = tuple(k for k in CDA_KINDS if k not in rule.kinds)
        if missing:
            CATALOGUE[rule_id] = dataclasses.replace(rule, kinds=(*rule.kinds, *missing))


_register_rules()


class CdaSchemaError(Exception):
    """No usable CDA schema in the chosen directory (reported as ``XSD.SCHEMA_ERROR``)."""


# ------------------------------------------------------------------------------------------ schema


def _declares_clinical_document(path: Path) -> bool:
    try:
        root = etree.parse(str(path), etree.XMLParser(no_network=True, resolve_entities=False)).getroot()
    except (OSError, etree.XMLSyntaxError):
        return False
    if root.tag != f"{{{XS}}}schema" or root.get("targetNamespace") != HL7:
        return False
    return any(el.get("name") == "ClinicalDocument" for el in root.iterchildren(f"{{{XS}}}element"))


def cda_schema_path(xsd_dir: Path | str | None = None) -> Path:
    """The entry point of the CDA schema set: ours, or the official one found in ``xsd_dir``."""
    if xsd_dir is None:
        return OUR_CDA_XSD
    directory = Path(xsd_dir)
    if not directory.is_dir():
        raise CdaSchemaError(f"{directory}: not a directory")
    for name in ENTRY_NAMES:
        hits = sorted(directory.rglob(name), key=lambda p: (len(p.parts), str(p)))
        if hits:
            return hits[0]
    for path in sorted(directory.rglob("*.xsd"), key=lambda p: (len(p.parts), str(p))):
        if _declares_clinical_document(path):
            return path
    raise CdaSchemaError(
        f"{directory}: no CDA schema (no {', '.join(ENTRY_NAMES)}, no file declaring ClinicalDocument)"
    )


@lru_cache(maxsize=8)
def _compiled(path: Path) -> xsd.CompiledSchema:
    index = xsd.schema_index(path.parent if path != OUR_CDA_XSD else None)
    try:
        document = etree.parse(str(path), xsd._safe_parser(index))
    except (OSError, etree.XMLSyntaxError) as exc:
        raise CdaSchemaError(f"{path}: {exc}") from exc
    try:
        return xsd._compile(document, str(path))
    except xsd.SchemaSetError as exc:
        raise CdaSchemaError(str(exc)) from exc


def warm() -> None:
    """Compile our CDA schema now rather than on first use."""
    _compiled(OUR_CDA_XSD)


# ------------------------------------------------------------------------------------------ findings


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


_ATTRIBUTE = re.compile(r"attribute '([^']+)'")


def _attribute_suffix(message: str) -> str:
    """``/@name`` for the attribute a libxml2 message is about (Clark names shortened to a prefix)."""
    match = _ATTRIBUTE.search(message)
    if match is None:
        return ""
    name = match.group(1)
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        prefix = {"http://www.w3.org/2001/XMLSchema-instance": "xsi", "urn:hl7-org:sdtc": "sdtc"}.get(namespace)
        name = f"{prefix}:{local}" if prefix else local
    return f"/@{name}"


def _error_finding(error: etree._LogEntry, element: etree._Element | None, is_root: bool, schema: Path) -> Finding:
    rule_id = xsd._rule_for(error.type_name, is_root)
    message = error.message if rule_id != "XSD.OTHER" else f"[{error.type_name}] {error.message}"
    location = xpath_of(element) + _attribute_suffix(error.message) if element is not None else (error.path or "/")
    result = finding(rule_id, location, message)
    return dataclasses.replace(result, reference=f"{_CDA_STANDARD} [{_shown(schema)}]; {result.reference}")


def validate_cda_xsd(root: etree._Element | etree._ElementTree, xsd_dir: Path | str | None = None) -> list[Finding]:
    """Validate a CDA document (its root element) against our CDA schema, or the official one in ``xsd_dir``."""
    if isinstance(root, etree._ElementTree):
        root = root.getroot()
    try:
        path = cda_schema_path(xsd_dir)
        compiled = _compiled(path.resolve())
    except CdaSchemaError as exc:
        return [finding("XSD.SCHEMA_ERROR", xpath_of(root), str(exc))]
    if root.tag != f"{{{HL7}}}ClinicalDocument":
        found = etree.QName(root)
        message = f"not a CDA document: the root element is {found.localname!r} in {found.namespace or 'no namespace'}"
        result = finding("XSD.UNKNOWN_ROOT", xpath_of(root), f"{message}, expected ClinicalDocument in {HL7}")
        return [dataclasses.replace(result, reference=f"{_CDA_STANDARD}; {result.reference}")]
    findings: list[Finding] = []
    for error in xsd._run(compiled, root):
        element = xsd._element_at(root, error.path)
        findings.append(_error_finding(error, element, element is root, path))
    return findings


__all__ = [
    "CDA_KINDS",
    "CDA_XSD_RULES",
    "OUR_CDA_XSD",
    "SHARED_XSD_RULES",
    "cda_schema_path",
    "validate_cda_xsd",
    "warm",
]
