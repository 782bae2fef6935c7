"""XSD layer: validate SOAP 1.2 envelopes and XDS.b / XDS-I.b bodies against XML Schemas.

By default the harness's own schemas in ``schemas/xsd/`` are used (written from the standards'
structure, verdict-equivalent to the official files).  A user may point ``xsd_dir`` at a directory
of official XSDs instead (e.g. the IHE ``schema/v3`` tree or the DMP annex): the files are found by
their ``targetNamespace`` and their imports resolved relative to each file, never over the network.

MTOM/XOP: a base64 element (``xdsb:Document``, the only ``xs:base64Binary`` of these schemas) whose
only child is an ``xop:Include`` is validated on a copy where the include is replaced by empty base64
text (empty is a valid ``xs:base64Binary``); each replaced ``xop:Include`` is then validated on its
own against the XOP schema, so a missing ``href`` is still reported.  An ``xop:Include`` anywhere
else is left in place and the schema rejects it.

Every libxml2 error becomes a :class:`Finding` whose rule id is ``XSD.<libxml2 error type>`` when
that type is declared below, else ``XSD.OTHER`` (the libxml2 type is kept in the message).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from lxml import etree

from xdsi import ROOT
from xdsi.namespaces import LCM, QUERY, RIM, RS, SOAP11, SOAP12, WSA, XDSB, XDSI, XML_NS, XOP, XS, XSI
from xdsi.validation.findings import CATALOGUE, FLUX_KINDS, Finding, finding, register

OUR_XSD_DIR = ROOT / "schemas" / "xsd"


@dataclass(frozen=True)
class SchemaInfo:
    """Our file for a namespace and the standard it comes from (cited in findings)."""

    filename: str
    standard: str


SCHEMAS: dict[str, SchemaInfo] = {
    RIM: SchemaInfo("rim.xsd", "OASIS ebRIM 3.0 rim.xsd"),
    RS: SchemaInfo("rs.xsd", "OASIS ebRS 3.0 rs.xsd"),
    LCM: SchemaInfo("lcm.xsd", "OASIS ebRS 3.0 lcm.xsd"),
    QUERY: SchemaInfo("query.xsd", "OASIS ebRS 3.0 query.xsd"),
    XDSB: SchemaInfo("xds-b-repository.xsd", "IHE ITI TF-2b XDS.b_DocumentRepository.xsd"),
    XDSI: SchemaInfo("xdsi-b-imaging.xsd", "IHE RAD TF-3 XDSI.b_ImagingDocumentSource.xsd"),
    SOAP12: SchemaInfo("soap12-envelope.xsd", "W3C SOAP 1.2 Part 1"),
    WSA: SchemaInfo("ws-addressing.xsd", "W3C WS-Addressing 1.0 Core"),
    XOP: SchemaInfo("xop-include.xsd", "W3C XOP 1.0"),
    XML_NS: SchemaInfo("xml.xsd", "W3C XML namespace (xml:lang)"),
}

#: W3C infrastructure schemas: taken from our directory when a user directory lacks them.
INFRASTRUCTURE = (SOAP12, WSA, XOP, XML_NS)

#: Well-known remote locations of infrastructure schemas, served from local files instead.
KNOWN_URLS: dict[str, str] = {
    "http://www.w3.org/2001/xml.xsd": XML_NS,
    "http://www.w3.org/2001/03/xml.xsd": XML_NS,
    "http://www.w3.org/2009/01/xml.xsd": XML_NS,
    "http://www.w3.org/2003/05/soap-envelope": SOAP12,
    "http://www.w3.org/2003/05/soap-envelope/": SOAP12,
    "http://www.w3.org/2006/03/addressing/ws-addr.xsd": WSA,
    "http://www.w3.org/2005/08/addressing/ws-addr.xsd": WSA,
    "http://www.w3.org/2004/08/xop/include": XOP,
    "http://www.w3.org/2004/08/xop/include/": XOP,
}

#: Elements of type xs:base64Binary, where MTOM may put an xop:Include instead of the content.
BASE64_ELEMENTS = frozenset({f"{{{XDSB}}}Document"})

#: Prefixes used in finding locations.
PREFIXES: dict[str, str] = {
    SOAP12: "soap",
    SOAP11: "soap11",
    WSA: "wsa",
    XOP: "xop",
    RIM: "rim",
    RS: "rs",
    LCM: "lcm",
    QUERY: "query",
    XDSB: "xdsb",
    XDSI: "xdsi",
    XML_NS: "xml",
    XSI: "xsi",
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd": "wsse",
    "urn:oasis:names:tc:SAML:2.0:assertion": "saml2",
}

# ----------------------------------------------------------------------------------- rule catalogue

_XSD_SPEC = "W3C XML Schema 1.0 Part 1"
_RULES: dict[str, tuple[str, str]] = {
    "XSD.UNKNOWN_ROOT": (
        "The element to validate has no global declaration in the schema set (unknown namespace, "
        "unknown element, or no schema for its namespace in the chosen directory).",
        f"{_XSD_SPEC} cvc-elt.1; xdsi schema set",
    ),
    "XSD.SCHEMA_ERROR": (
        "The schema set could not be compiled (user-supplied XSD directory).",
        f"{_XSD_SPEC} §4 schema representation constraints",
    ),
    "XSD.OTHER": (
        "Another schema-validity error reported by libxml2 (its error type is given in the message).",
        _XSD_SPEC,
    ),
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_4": ("A required attribute is missing.", f"{_XSD_SPEC} cvc-complex-type.4"),
    "XSD.SCHEMAV_ELEMENT_CONTENT": (
        "A child element is missing, unexpected, repeated or out of order.",
        f"{_XSD_SPEC} cvc-complex-type.2.4",
    ),
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_1": (
        "An attribute is not allowed on this element.",
        f"{_XSD_SPEC} cvc-complex-type.3.2.1",
    ),
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_2": (
        "An attribute is not matched by the element's attribute wildcard (e.g. an unqualified or "
        "wsa-qualified mustUnderstand on a WS-Addressing header, where only other namespaces are allowed).",
        f"{_XSD_SPEC} cvc-complex-type.3.2.2",
    ),
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_1": (
        "Content (text or elements) in an element whose content type is empty.",
        f"{_XSD_SPEC} cvc-complex-type.2.1",
    ),
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_2": (
        "Child elements in an element whose content is a simple type (text with attributes).",
        f"{_XSD_SPEC} cvc-complex-type.2.2",
    ),
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_3": (
        "Text in an element whose content is element-only.",
        f"{_XSD_SPEC} cvc-complex-type.2.3",
    ),
    "XSD.SCHEMAV_CVC_TYPE_3_1_1": (
        "An attribute on an element of simple type (no attribute allowed).",
        f"{_XSD_SPEC} cvc-type.3.1.1",
    ),
    "XSD.SCHEMAV_CVC_TYPE_3_1_2": (
        "Child elements in an element of simple type.",
        f"{_XSD_SPEC} cvc-type.3.1.2",
    ),
    "XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_1": (
        "A value is not valid for its built-in type (boolean, integer, anyURI, dateTime, ...).",
        f"{_XSD_SPEC} cvc-datatype-valid.1.2.1",
    ),
    "XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_3": (
        "A value is not valid for any member of its union type (e.g. xml:lang).",
        f"{_XSD_SPEC} cvc-datatype-valid.1.2.3",
    ),
    "XSD.SCHEMAV_CVC_MAXLENGTH_VALID": (
        "A value exceeds its length limit (rim String16, ShortName 64, LongName 256, FreeFormText 1024).",
        f"{_XSD_SPEC} cvc-maxLength-valid",
    ),
    "XSD.SCHEMAV_CVC_ENUMERATION_VALID": (
        "A value is not in its enumeration (returnType, SOAP fault code, ...).",
        f"{_XSD_SPEC} cvc-enumeration-valid",
    ),
}


def _register_rules() -> None:
    for rule_id, (text, reference) in _RULES.items():
        register(rule_id, "error", FLUX_KINDS, reference, text, layer="xsd")


_register_rules()

# ------------------------------------------------------------------------------- schema directories

_STEP = re.compile(r"^(?P<name>[^\[\]/]+)(?:\[(?P<n>\d+)\])?$")
_ATTRIBUTE = re.compile(r"attribute '([^']+)'")
_CLARK = re.compile(r"^\{([^}]*)\}(.*)$")


class SchemaSetError(Exception):
    """A schema set that cannot be compiled (reported as ``XSD.SCHEMA_ERROR``)."""


def _target_namespace(path: Path) -> str | None:
    try:
        for _event, element in etree.iterparse(
            str(path), events=("start",), no_network=True, resolve_entities=False, load_dtd=False
        ):
            if element.tag == f"{{{XS}}}schema":
                return element.get("targetNamespace", "")
            return None
    except etree.XMLSyntaxError:
        return None
    return None


def _preference(path: Path) -> tuple[int, str]:
    """Among several files for one namespace prefer the plainest name (not the MTOM_CXF variant)."""
    return (len(path.name), str(path))


@lru_cache(maxsize=16)
def schema_index(xsd_dir: Path | None = None) -> dict[str, Path]:
    """Namespace -> schema file, for our directory or a user directory (scanned recursively)."""
    if xsd_dir is None:
        return {ns: OUR_XSD_DIR / info.filename for ns, info in SCHEMAS.items()}
    found: dict[str, list[Path]] = {}
    for path in sorted(Path(xsd_dir).rglob("*.xsd")):
        namespace = _target_namespace(path)
        if namespace is not None:
            found.setdefault(namespace, []).append(path)
    index = {ns: min(paths, key=_preference) for ns, paths in found.items()}
    for ns in INFRASTRUCTURE:
        index.setdefault(ns, OUR_XSD_DIR / SCHEMAS[ns].filename)
    return index


class _LocalResolver(etree.Resolver):
    """Serves remote schema locations from local files: known W3C URLs, else same file name."""

    def __init__(self, index: dict[str, Path]) -> None:
        super().__init__()
        self._index = index
        self._by_name = {path.name: path for path in index.values()}

    def resolve(self, system_url: str | None, public_id: str | None, context: object):  # type: ignore[override]
        if not system_url or not system_url.startswith(("http://", "https://", "ftp://")):
            return None
        namespace = KNOWN_URLS.get(system_url)
        local = self._index.get(namespace) if namespace else self._by_name.get(system_url.rsplit("/", 1)[-1])
        return self.resolve_filename(str(local), context) if local else None  # type: ignore[attr-defined]


def _safe_parser(index: dict[str, Path]) -> etree.XMLParser:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=False)
    parser.resolvers.add(_LocalResolver(index))
    return parser


@dataclass
class CompiledSchema:
    schema: etree.XMLSchema
    lock: threading.Lock


def _compile(document: etree._ElementTree, label: str) -> CompiledSchema:
    try:
        return CompiledSchema(etree.XMLSchema(document), threading.Lock())
    except etree.XMLSchemaParseError as exc:
        raise SchemaSetError(f"{label}: {exc}") from exc


@lru_cache(maxsize=64)
def _schema_for(xsd_dir: Path | None, namespace: str) -> CompiledSchema:
    index = schema_index(xsd_dir)
    path = index[namespace]
    try:
        document = etree.parse(str(path), _safe_parser(index))
    except (OSError, etree.XMLSyntaxError) as exc:
        raise SchemaSetError(f"{path}: {exc}") from exc
    return _compile(document, str(path))


@lru_cache(maxsize=16)
def _envelope_schema(xsd_dir: Path | None) -> CompiledSchema:
    """SOAP 1.2 envelope and WS-Addressing compiled together, so header blocks are checked."""
    index = schema_index(xsd_dir)
    imports = "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{index[ns].resolve().as_uri()}"/>' for ns in (SOAP12, WSA)
    )
    driver = f'<xs:schema xmlns:xs="{XS}">{imports}</xs:schema>'
    document = etree.ElementTree(etree.fromstring(driver, _safe_parser(index)))
    return _compile(document, "SOAP 1.2 envelope + WS-Addressing")


def _normalise_dir(xsd_dir: Path | str | None) -> Path | None:
    return None if xsd_dir is None else Path(xsd_dir).resolve()


# ------------------------------------------------------------------------------------------ XOP


def _xop_includes(element: etree._Element) -> list[etree._Element]:
    return [e for e in element.iter(f"{{{XOP}}}Include")]


def _is_sole_content(include: etree._Element) -> bool:
    """The include is the whole content of a base64 element (so it stands for that content)."""
    parent = include.getparent()
    if parent is None or parent.tag not in BASE64_ELEMENTS:
        return False
    elements = [c for c in parent if isinstance(c.tag, str)]
    texts = [parent.text, *(c.tail for c in parent)]
    return elements == [include] and not any(t and t.strip() for t in texts)


def _detached_copy(element: etree._Element) -> etree._Element:
    """A deep copy as a new document root, keeping every namespace in scope (QName values)."""
    nsmap: dict[str | None, str] = dict(element.nsmap)
    root = etree.Element(element.tag, nsmap=nsmap)  # type: ignore[arg-type]
    for name, value in element.attrib.items():
        root.set(name, value)
    root.text = element.text
    for child in element:
        root.append(deepcopy(child))
    return root


def strip_xop_for_validation(element: etree._Element) -> tuple[etree._Element, list[etree._Element]]:
    """Copy ``element`` with each ``xop:Include`` that is the whole content of an ``xdsb:Document``
    replaced by empty base64 text.

    Returns the copy and the original ``xop:Include`` elements that were replaced (to be validated
    on their own).  The copy has the same element structure apart from the removed includes.
    """
    replaced = [inc for inc in _xop_includes(element) if _is_sole_content(inc)]
    copy = _detached_copy(element)
    for include in _xop_includes(copy):
        parent = include.getparent()
        if parent is not None and _is_sole_content(include):
            parent.remove(include)
            parent.text = ""
    return copy, replaced


# ------------------------------------------------------------------------------------- locations


def _step(element: etree._Element) -> str:
    qname = etree.QName(element)
    if qname.namespace is None:
        name = qname.localname
    else:
        prefix = PREFIXES.get(qname.namespace) or element.prefix
        name = f"{prefix}:{qname.localname}" if prefix else f"{{{qname.namespace}}}{qname.localname}"
    parent = element.getparent()
    if parent is None:
        return name
    same = [c for c in parent if c.tag == element.tag]
    return f"{name}[{same.index(element) + 1}]" if len(same) > 1 else name


def readable_path(element: etree._Element) -> str:
    """``/soap:Envelope/soap:Body/lcm:SubmitObjectsRequest/rim:RegistryObjectList/rim:Slot[2]``."""
    steps = [_step(e) for e in (element, *element.iterancestors())]
    return "/" + "/".join(reversed(steps))


def _matches(step: str, element: etree._Element) -> bool:
    """Whether ``element`` is named by a libxml2 path step (``*`` = any element in a default namespace)."""
    if step == "*":
        return True
    prefix, _, local = step.rpartition(":")
    qname = etree.QName(element)
    if qname.localname != local:
        return False
    return element.prefix == prefix if prefix else qname.namespace is None


def _element_at(root: etree._Element, path: str | None) -> etree._Element | None:
    """The element a libxml2 error path names (``/p:a/*[2]/b[3]``), its first step being ``root``.

    libxml2 writes ``p:name`` with the node's own prefix, ``*`` for an element in a default
    namespace (counted among all element siblings) and ``[n]`` only when siblings share the name.
    """
    steps = (path or "").split("/")[1:]
    if not steps or _STEP.match(steps[0]) is None:
        return None
    element = root
    for step in steps[1:]:
        match = _STEP.match(step)
        if match is None:
            return None
        name, position = match.group("name"), int(match.group("n") or 1)
        candidates = [c for c in element if isinstance(c.tag, str) and _matches(name, c)]
        if len(candidates) < position:
            return None
        element = candidates[position - 1]
    return element


def _child_indexes(element: etree._Element, root: etree._Element) -> list[int]:
    indexes: list[int] = []
    parent = element.getparent()
    while element is not root and parent is not None:
        indexes.append(parent.index(element))
        element, parent = parent, parent.getparent()
    return indexes[::-1]


def _same_position(copy_element: etree._Element, copy_root: etree._Element, original: etree._Element) -> etree._Element:
    """The element of ``original`` at the position ``copy_element`` has in ``copy_root``."""
    target = original
    for index in _child_indexes(copy_element, copy_root):
        target = target[index]
    return target


def _attribute_suffix(message: str) -> str:
    match = _ATTRIBUTE.search(message)
    if match is None:
        return ""
    name = match.group(1)
    clark = _CLARK.match(name)
    if clark and clark.group(1) in PREFIXES:
        name = f"{PREFIXES[clark.group(1)]}:{clark.group(2)}"
    return f"/@{name}"


# -------------------------------------------------------------------------------------- findings


def _reference(namespace: str | None, xsd_dir: Path | None) -> str:
    info = SCHEMAS.get(namespace or "")
    path = schema_index(xsd_dir).get(namespace or "")
    standard = info.standard if info else "XML Schema"
    if path is None:
        return standard
    try:
        shown = str(path.relative_to(ROOT))
    except ValueError:
        shown = str(path)
    return f"{standard} [{shown}]"


def _rule_for(type_name: str, is_root: bool) -> str:
    if type_name == "SCHEMAV_CVC_ELT_1" and is_root:
        return "XSD.UNKNOWN_ROOT"
    rule_id = f"XSD.{type_name}"
    return rule_id if rule_id in CATALOGUE else "XSD.OTHER"


def _error_finding(
    error: etree._LogEntry, element: etree._Element | None, is_root: bool, xsd_dir: Path | None
) -> Finding:
    rule_id = _rule_for(error.type_name, is_root)
    message = error.message if rule_id != "XSD.OTHER" else f"[{error.type_name}] {error.message}"
    location = readable_path(element) + _attribute_suffix(error.message) if element is not None else error.path
    namespace = etree.QName(element).namespace if element is not None else None
    result = finding(rule_id, location or "/", message)
    return replace(result, reference=f"{_reference(namespace, xsd_dir)}; {result.reference}")


def _run(compiled: CompiledSchema, target: etree._Element) -> list[etree._LogEntry]:
    with compiled.lock:
        compiled.schema.validate(target)
        return list(compiled.schema.error_log.filter_from_errors())  # type: ignore[attr-defined]


def _validate_with(
    compiled: CompiledSchema,
    target: etree._Element,
    original: etree._Element,
    xsd_dir: Path | None,
    ignore: Callable[[etree._Element], bool] | None = None,
) -> Iterator[Finding]:
    """Validate ``target``; error elements are mapped back onto ``original`` when ``target`` is a copy.

    Errors on elements for which ``ignore`` is true are dropped.
    """
    for error in _run(compiled, target):
        hit = _element_at(target, error.path)
        if hit is not None and target is not original:
            hit = _same_position(hit, target, original)
        if hit is not None and ignore is not None and ignore(hit):
            continue
        yield _error_finding(error, hit, hit is original, xsd_dir)


def _in_foreign_block(element: etree._Element) -> bool:
    """True inside a Header block or Body child that is neither SOAP 1.2 nor WS-Addressing."""
    chain = [element, *element.iterancestors()]
    for block, container in pairwise(chain):
        if container.tag in (f"{{{SOAP12}}}Header", f"{{{SOAP12}}}Body"):
            return etree.QName(block).namespace not in (SOAP12, WSA)
    return False


def _unknown_root(element: etree._Element, message: str, xsd_dir: Path | None) -> Finding:
    result = finding("XSD.UNKNOWN_ROOT", readable_path(element), message)
    namespace = etree.QName(element).namespace
    return replace(result, reference=f"{_reference(namespace, xsd_dir)}; {result.reference}")


def _schema_error(element: etree._Element, exc: SchemaSetError) -> Finding:
    return finding("XSD.SCHEMA_ERROR", readable_path(element), str(exc))


# ----------------------------------------------------------------------------------------- API


def validate_body(element: etree._Element, xsd_dir: Path | str | None = None) -> list[Finding]:
    """Validate a SOAP Body child (or a bare body root) against the schema of its namespace."""
    directory = _normalise_dir(xsd_dir)
    if directory is not None and not directory.is_dir():
        return [_schema_error(element, SchemaSetError(f"{directory}: not a directory"))]
    namespace = etree.QName(element).namespace or ""
    index = schema_index(directory)
    if namespace not in index:
        where = f" in {directory}" if directory else ""
        shown = namespace or "(no namespace)"
        return [_unknown_root(element, f"no schema for namespace {shown}{where}", directory)]
    try:
        compiled = _schema_for(directory, namespace)
    except SchemaSetError as exc:
        return [_schema_error(element, exc)]
    if not _xop_includes(element):
        return list(_validate_with(compiled, element, element, directory))
    copy, includes = strip_xop_for_validation(element)
    findings = list(_validate_with(compiled, copy, element, directory))
    findings.extend(_validate_includes(includes, directory))
    return findings


def _validate_includes(includes: list[etree._Element], directory: Path | None) -> list[Finding]:
    if not includes:
        return []
    try:
        compiled = _schema_for(directory, XOP)
    except SchemaSetError as exc:
        return [_schema_error(includes[0], exc)]
    findings: list[Finding] = []
    for include in includes:
        findings.extend(_validate_with(compiled, include, include, directory))
    return findings


def validate_envelope(envelope: etree._Element, xsd_dir: Path | str | None = None) -> list[Finding]:
    """Validate a SOAP 1.2 envelope and its WS-Addressing headers (other header blocks: lax).

    Body content is not validated here (lax); use :func:`validate_body` on the Body child.
    """
    directory = _normalise_dir(xsd_dir)
    if envelope.tag != f"{{{SOAP12}}}Envelope":
        soap11 = envelope.tag == f"{{{SOAP11}}}Envelope"
        message = (
            "SOAP 1.1 envelope; XDS.b and XDS-I.b require SOAP 1.2 (" + SOAP12 + ")"
            if soap11
            else f"not a SOAP 1.2 Envelope: {envelope.tag}"
        )
        return [_unknown_root(envelope, message, directory)]
    try:
        compiled = _envelope_schema(directory)
    except SchemaSetError as exc:
        return [_schema_error(envelope, exc)]
    return list(_validate_with(compiled, envelope, envelope, directory, ignore=_in_foreign_block))


def body_children(envelope: etree._Element) -> list[etree._Element]:
    """The element children of the Body of a SOAP 1.2 (or 1.1) envelope."""
    for soap in (SOAP12, SOAP11):
        body = envelope.find(f"{{{soap}}}Body")
        if body is not None:
            return [c for c in body if isinstance(c.tag, str)]
    return []


def validate_message(root: etree._Element, xsd_dir: Path | str | None = None) -> list[Finding]:
    """Envelope (when ``root`` is one) and every Body child; a bare body root is validated alone."""
    if etree.QName(root).localname == "Envelope" and etree.QName(root).namespace in (SOAP12, SOAP11):
        findings = validate_envelope(root, xsd_dir)
        for child in body_children(root):
            findings.extend(validate_body(child, xsd_dir))
        return findings
    return validate_body(root, xsd_dir)
