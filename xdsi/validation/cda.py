"""CDA documents of the CI-SIS imaging models: IMG-DA-IMG (demande d'actes d'imagerie) and IMG-CR-IMG (compte
rendu d'imagerie).

* :func:`detect_cda_kind` tells the two models apart (templateId, then document code), and any other CDA from them;
* :func:`validate_cda` runs, on untrusted bytes: safe parse (:mod:`xdsi.messages.xmlsafe`) -> kind -> our CDA XSD
  (:mod:`xdsi.validation.cda_xsd`) -> the model's schematron (``schemas/schematron/img-*.sch``) -> the Python rules
  (:mod:`xdsi.validation.cda_rules`), and returns ``(kind, findings, error)``;
* :func:`report_keys` reads the keys that link a report to its exam and to the request it fulfils (processes 3.6
  and 3.7 of the imaging-sharing volet), and the Order Placer Number of a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from xdsi.messages.xmlsafe import MAX_XML_BYTES, InputError, ParsedXml, parse_xml_info
from xdsi.namespaces import HL7
from xdsi.validation import cda_rules, cda_xsd, schematron
from xdsi.validation.findings import PROFILES, Finding, finding, register
from xdsi.xmlpaths import xpath_of

IMG_DA_IMG = "img-da-img"
IMG_CR_IMG = "img-cr-img"
CDA_KINDS = (IMG_DA_IMG, IMG_CR_IMG)

PS3_20 = "urn:dicom-org:ps3-20"
LOINC = "2.16.840.1.113883.6.1"
NS = {"hl7": HL7, "ps3-20": PS3_20}

#: templateIds that name each model (CI-SIS model template first)
TEMPLATES: dict[str, tuple[str, ...]] = {
    IMG_DA_IMG: ("1.2.250.1.213.1.1.1.47",),
    IMG_CR_IMG: ("1.2.250.1.213.1.1.1.45", "1.2.840.10008.9.1"),
}
#: LOINC document codes of each model
DOCUMENT_CODES: dict[str, str] = {IMG_DA_IMG: "55115-0", IMG_CR_IMG: "18748-4"}

#: Size limit for one CDA document (bytes); larger input is refused before parsing.
MAX_CDA_BYTES = MAX_XML_BYTES

NOT_AN_IMAGING_DOCUMENT = "not an IMG-DA-IMG/IMG-CR-IMG document"

_ENCODING_RULES = {
    "CDA.ENCODAGE.BOM": (
        "info",
        "W3C XML 1.0 §4.3.3 (a UTF-8 byte-order mark is allowed but not needed)",
        "The document starts with a byte-order mark",
    ),
    "CDA.ENCODAGE.UTF8": (
        "warning",
        "CI-SIS Volet Structuration minimale des documents de santé (documents CDA encodés en UTF-8)",
        "A CI-SIS CDA document is encoded in UTF-8",
    ),
}
for _rule_id, (_severity, _reference, _text) in _ENCODING_RULES.items():
    register(_rule_id, _severity, CDA_KINDS, _reference, _text, "cda", PROFILES)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ kind


def is_clinical_document(root: etree._Element) -> bool:
    return isinstance(root.tag, str) and root.tag == f"{{{HL7}}}ClinicalDocument"


def _template_roots(root: etree._Element) -> list[str]:
    return [t.get("root", "") for t in root.findall(f"{{{HL7}}}templateId")]


def detect_cda_kind(root: etree._Element | etree._ElementTree) -> str | None:
    """``"img-da-img"``, ``"img-cr-img"`` or None (not a ClinicalDocument, or a CDA of another model).

    The model's templateId decides (IMG-DA-IMG 1.2.250.1.213.1.1.1.47; IMG-CR-IMG 1.2.250.1.213.1.1.1.45 or the
    DICOM imaging report 1.2.840.10008.9.1); without one, the LOINC document code (55115-0, 18748-4), which also
    recognises level-1 reports whose only templateId is the XDS-SD one.
    """
    if isinstance(root, etree._ElementTree):
        root = root.getroot()
    if not is_clinical_document(root):
        return None
    roots = set(_template_roots(root))
    for kind, templates in TEMPLATES.items():
        if roots & set(templates):
            return kind
    code = root.find(f"{{{HL7}}}code")
    if code is not None and code.get("codeSystem") == LOINC:
        for kind, value in DOCUMENT_CODES.items():
            if code.get("code") == value:
                return kind
    return None


def describe(root: etree._Element) -> str:
    """A short description of a CDA's identity (templateIds and code) for error messages."""
    code = root.find(f"{{{HL7}}}code")
    shown = f"code '{code.get('code')}' ({code.get('codeSystem')})" if code is not None else "no code"
    templates = ", ".join(_template_roots(root)) or "none"
    return f"templateIds {templates}; {shown}"


# ------------------------------------------------------------------------------------------ validation


def _encoding_findings(info: ParsedXml, root: etree._Element, profile: str) -> list[Finding]:
    out: list[Finding] = []
    if info.bom:
        out.append(
            finding(
                "CDA.ENCODAGE.BOM",
                xpath_of(root),
                f"The document starts with a byte-order mark: found {info.bom}",
                profile,
            )
        )
    encoding = (info.encoding or "UTF-8").replace("_", "-").upper()
    if encoding not in ("UTF-8", "UTF8"):
        message = f"A CI-SIS CDA document is encoded in UTF-8: found {info.encoding}"
        out.append(finding("CDA.ENCODAGE.UTF8", xpath_of(root), message, profile))
    return out


def validate_cda_root(
    root: etree._Element, kind: str, profile: str = "cisis", xsd_dir: Path | str | None = None
) -> list[Finding]:
    """XSD, schematron and Python rules of ``kind`` on a parsed ClinicalDocument."""
    if kind not in CDA_KINDS:
        raise ValueError(f"not a CDA kind: {kind!r}")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}")
    findings = cda_xsd.validate_cda_xsd(root, xsd_dir)
    findings += schematron.validate(root, kind, profile)
    findings += cda_rules.check(root, kind, profile)
    return findings


def validate_cda(
    data: bytes,
    kind: str | None = None,
    profile: str = "cisis",
    xsd_dir: Path | str | None = None,
    max_bytes: int = MAX_CDA_BYTES,
) -> tuple[str | None, list[Finding], str | None]:
    """Validate a CDA document given as bytes: ``(kind, findings, error)``.

    ``error`` is a one-line reason when the input cannot be validated at all (exit status 2): unreadable bytes
    (not XML, bad encoding, entities, too large ...), not a ClinicalDocument, or a CDA of another model than
    IMG-DA-IMG / IMG-CR-IMG (unless ``kind`` forces one). Never raises for bad input.
    """
    if kind is not None and kind not in CDA_KINDS:
        return kind, [], f"--as {kind}: not a CDA kind (expected one of {', '.join(CDA_KINDS)})"
    try:
        info = parse_xml_info(data, max_bytes)
    except InputError as exc:
        return kind, [], exc.reason
    root = info.root
    if not is_clinical_document(root):
        found = etree.QName(root)
        where = found.namespace or "no namespace"
        reason = f"not a CDA document: the root element is '{found.localname}' in {where}"
        return kind, [], f"{reason}, expected ClinicalDocument in {HL7}"
    detected = detect_cda_kind(root)
    if kind is None:
        kind = detected
    if kind is None:
        return None, [], f"{NOT_AN_IMAGING_DOCUMENT} ({describe(root)})"
    findings = _encoding_findings(info, root, profile)
    findings += validate_cda_root(root, kind, profile, xsd_dir)
    return kind, findings, None


# ------------------------------------------------------------------------------------------ link keys


@dataclass(frozen=True)
class OrderKey:
    """One request a report fulfils (``inFulfillmentOf/order``), or the request itself for an IMG-DA-IMG."""

    order_number: str | None
    order_issuer: str | None
    accession_number: str | None = None
    accession_issuer: str | None = None


@dataclass(frozen=True)
class ReportKeys:
    """The keys that link an imaging report to its exam and to its request (the first of each).

    For an IMG-CR-IMG: the accession number and its issuer (``inFulfillmentOf/order/ps3-20:accessionNumber``
    ``@extension`` / ``@root``), the Study Instance UID (``documentationOf/serviceEvent/id/@root``) and the Order
    Placer Number with its issuer (``inFulfillmentOf/order/id`` ``@extension`` / ``@root``). For an IMG-DA-IMG:
    its own Order Placer Number (``documentationOf/serviceEvent[code 55115-0]/id``); accession and study are None.
    A report fulfilling several requests or documenting several studies lists them all in ``orders`` and
    ``study_instance_uids``, in document order.
    """

    accession_number: str | None
    accession_issuer: str | None
    study_instance_uid: str | None
    order_number: str | None
    order_issuer: str | None
    orders: tuple[OrderKey, ...] = ()
    study_instance_uids: tuple[str, ...] = ()


def _attr(element: etree._Element | None, name: str) -> str | None:
    if element is None:
        return None
    value = (element.get(name) or "").strip()
    return value or None


def _all(root: etree._Element, path: str) -> list[etree._Element]:
    found = root.xpath(path, namespaces=NS)
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def _first(root: etree._Element, path: str) -> etree._Element | None:
    found = _all(root, path)
    return found[0] if found else None


def report_keys(root: etree._Element | etree._ElementTree) -> ReportKeys:
    """The link keys of an IMG-CR-IMG (or the Order Placer Number of an IMG-DA-IMG); None where absent."""
    if isinstance(root, etree._ElementTree):
        root = root.getroot()
    if detect_cda_kind(root) == IMG_DA_IMG:
        placer = _first(
            root,
            f"/hl7:ClinicalDocument/hl7:documentationOf/hl7:serviceEvent[hl7:code[@code='55115-0' and "
            f"@codeSystem='{LOINC}']]/hl7:id",
        )
        order = OrderKey(_attr(placer, "extension"), _attr(placer, "root"))
        has_order = order.order_number is not None or order.order_issuer is not None
        return ReportKeys(None, None, None, order.order_number, order.order_issuer, (order,) if has_order else ())
    orders: list[OrderKey] = []
    for element in _all(root, "/hl7:ClinicalDocument/hl7:inFulfillmentOf/hl7:order"):
        placer = element.find(f"{{{HL7}}}id")
        accession = element.find(f"{{{PS3_20}}}accessionNumber")
        orders.append(
            OrderKey(
                _attr(placer, "extension"),
                _attr(placer, "root"),
                _attr(accession, "extension"),
                _attr(accession, "root"),
            )
        )
    study_ids = _all(
        root, f"/hl7:ClinicalDocument/hl7:documentationOf/hl7:serviceEvent[hl7:code/@codeSystem='{LOINC}']/hl7:id"
    )
    studies = tuple(uid for uid in (_attr(el, "root") for el in study_ids) if uid)
    first = orders[0] if orders else OrderKey(None, None)
    return ReportKeys(
        first.accession_number,
        first.accession_issuer,
        studies[0] if studies else None,
        first.order_number,
        first.order_issuer,
        tuple(orders),
        studies,
    )


__all__ = [
    "CDA_KINDS",
    "IMG_CR_IMG",
    "IMG_DA_IMG",
    "MAX_CDA_BYTES",
    "NOT_AN_IMAGING_DOCUMENT",
    "OrderKey",
    "ReportKeys",
    "detect_cda_kind",
    "report_keys",
    "validate_cda",
    "validate_cda_root",
]
