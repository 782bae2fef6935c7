"""One pipeline for every message: safe read -> kind -> transport -> XSD -> Schematron -> technical rules ->
model (cardinality tables, value sets) -> findings.

Unreadable input (not XML, truncated MTOM, entities, too large, unknown root) ends in a :class:`Result`
with ``error`` set, never an exception.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path

from lxml import etree

from xdsi.messages import dicommeta, iti41, iti57, soap
from xdsi.messages.capture import RawMessage, read_message
from xdsi.messages.xmlsafe import InputError
from xdsi.model.metadata import SUBMIT_ASSOCIATION, UPDATE_AVAILABILITY_STATUS
from xdsi.validation import cardinality, codes, schematron, storedquery, technical, tolerances, transport, xsd
from xdsi.validation.cardinality import Subjects
from xdsi.validation.findings import KINDS, Finding
from xdsi.validation.subjects import extract
from xdsi.xmlpaths import xpath_of

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass
class Result:
    path: str
    kind: str | None
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: why the input could not be validated at all (exit status 2)
    error: str | None = None
    #: the official schematron's verdict beside ours (``--official-schematron``), as ``SideBySide.as_dict()``
    official: dict[str, object] | None = None
    official_text: str = ""

    @property
    def valid(self) -> bool:
        return self.error is None and not any(f.severity == "error" for f in self.findings)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "path": self.path,
            "kind": self.kind,
            "valid": self.valid,
            "findings": [f.as_dict() for f in self.findings],
        }
        if self.error:
            out["error"] = self.error
        if self.notes:
            out["notes"] = self.notes
        if self.official is not None:
            out["official"] = self.official
        return out


_BODY_KINDS = {
    (soap.XDSB, "ProvideAndRegisterDocumentSetRequest"): "flux1",
    (soap.LCM, "SubmitObjectsRequest"): "flux3",
    (soap.QUERY, "AdhocQueryRequest"): "flux5",
    (soap.QUERY, "AdhocQueryResponse"): "flux6",
    (soap.XDSB, "RetrieveDocumentSetRequest"): "flux7",
    (soap.XDSB, "RetrieveDocumentSetResponse"): "flux8",
    (soap.XDSI, "RetrieveImagingDocumentSetRequest"): "flux9",
}
_ITI57_RESPONSE_ACTIONS = {iti57.RESPONSE_ACTION, iti57.DMP_RESPONSE_ACTION}
REQUEST_KINDS = {"flux1", "flux3", "flux5", "flux7", "flux9"}


def detect_kind(body: etree._Element, action: str | None, attachments: dict[str, bytes] | None = None) -> str | None:
    """The flux of a body: by its root element, then the action (Flux 2/4) or the documents (Flux 8/10)."""
    q = etree.QName(body)
    if (q.namespace, q.localname) == (soap.RS, "RegistryResponse"):
        return "flux4" if action in _ITI57_RESPONSE_ACTIONS else "flux2"
    kind = _BODY_KINDS.get((q.namespace or "", q.localname))
    if kind == "flux3" and action not in (iti57.ACTION,) and (action is not None or not _is_update(body)):
        return "flux1"
    if kind == "flux8" and _returns_images(body, attachments or {}):
        return "flux10"
    return kind


def _is_update(sor: etree._Element) -> bool:
    """Whether a bare SubmitObjectsRequest is an ITI-57 update (status change, new version) rather than the
    metadata of a submission (the ITI-42 form of Flux 1)."""
    r = f"{{{soap.RIM}}}"
    for el in sor.iter(f"{r}Association"):
        if el.get("associationType") in (UPDATE_AVAILABILITY_STATUS, SUBMIT_ASSOCIATION):
            return True
        if any(s.get("name") == "PreviousVersion" for s in el.findall(f"{r}Slot")):
            return True
    return any(
        el.get("lid") and el.get("lid") != el.get("id")
        for el in (*sor.iter(f"{r}ExtrinsicObject"), *sor.iter(f"{r}RegistryPackage"))
    )


def _returns_images(body: etree._Element, attachments: dict[str, bytes]) -> bool:
    """A retrieve response returns images (RAD-69, Flux 10) when its DICOM documents are not KOS manifests."""
    x = f"{{{soap.XDSB}}}"
    sop_classes = []
    for dr in body.iter(f"{x}DocumentResponse"):
        if (dr.findtext(f"{x}mimeType") or "").strip() != "application/dicom":
            return False
        doc = dr.find(f"{x}Document")
        content = iti41.document_content(doc, attachments) if doc is not None else None
        sop_classes.append(dicommeta.sop_class_of(content or b""))
    return bool(sop_classes) and all(c is not None and c != dicommeta.KOS_SOP_CLASS for c in sop_classes)


def validate_message(
    raw: RawMessage,
    kind: str | None = None,
    profile: str = "cisis",
    xsd_dir: Path | None = None,
    path: str = "",
) -> Result:
    body = raw.body
    if body is None:
        return Result(path, kind, notes=raw.notes, error="the SOAP Body is empty")
    if raw.envelope is not None and raw.envelope.fault is not None:
        f = raw.envelope.fault
        return Result(path, kind, notes=raw.notes, error=f"a SOAP Fault ({f.code}: {f.reason}), not a flux message")
    detected = detect_kind(body, raw.soap_action, raw.attachments)
    if kind is None:
        kind = detected
    if kind is None:
        q = etree.QName(body)
        return Result(
            path,
            None,
            notes=raw.notes,
            error=f"unknown root element {{{q.namespace}}}{q.localname}: not a Flux 1–10 message",
        )
    if kind not in KINDS or not kind.startswith("flux"):
        return Result(path, kind, notes=raw.notes, error=f"--as {kind}: not a message kind")
    findings: list[Finding] = []
    findings += transport.check_transport(raw, kind in REQUEST_KINDS, profile)
    if raw.envelope is not None and raw.envelope.envelope is not None:
        findings += xsd.validate_envelope(raw.envelope.envelope)
    findings += xsd.validate_body(body, xsd_dir)
    # The rules below read the body as a document of its own; their locations are rooted back in the message.
    doc_root = _as_document(body)
    body_rules: list[Finding] = []
    body_rules += schematron.validate(doc_root, kind, profile)
    body_rules += technical.check_metadata_formats(doc_root, kind, profile)
    if kind == "flux5":
        body_rules += storedquery.check_query(doc_root, profile)
    if kind in ("flux1", "flux8", "flux10"):
        body_rules += technical.check_inline_documents(doc_root, profile)
    subjects = extract(doc_root, kind, raw.attachments)
    if kind == "flux1":
        body_rules += _kos_consistency(subjects, profile)
    body_rules += cardinality.check(subjects, kind, profile)
    body_rules += codes.check(subjects.objects, kind, profile)
    findings += _rooted(body_rules, body)
    findings = tolerances.apply([f for f in findings if _in_profile(f, profile)], profile)
    return Result(path, kind, _dedupe(_sorted(findings)), raw.notes)


def _kos_consistency(subjects: Subjects, profile: str) -> list[Finding]:
    """A KOS submitted in Flux 1 agrees with its DocumentEntry (patient, study, accession, order, modalities)."""
    from xdsi.dicom.kos import KosError, parse_kos
    from xdsi.validation.kos import check_kos_against_entry

    contents = {d.id: d.content for d in subjects.documents}
    out: list[Finding] = []
    for de in subjects.objects.entries:
        content = contents.get(de.entry_uuid)
        if not de.is_kos or not content or not looks_like_dicom(content):
            continue
        try:
            kos = parse_kos(content, complete=False)  # the KOS's own rules read it all (--as kos)
        except KosError:
            continue  # not a KOS: the document rules of the KOS itself say why (xdsi validate --as kos)
        out += check_kos_against_entry(kos, de, profile=profile)
    return out


def _rooted(findings: list[Finding], body: etree._Element) -> list[Finding]:
    parent = body.getparent()
    if parent is None:
        return findings
    prefix = xpath_of(parent)
    return [replace(f, location=prefix + f.location) if f.location.startswith("/") else f for f in findings]


def _as_document(body: etree._Element) -> etree._Element:
    """The body as the root of its own document (locations then start at the body element)."""
    if body.getparent() is None:
        return body
    return copy.deepcopy(body)


def _in_profile(f: Finding, profile: str) -> bool:
    from xdsi.validation.findings import CATALOGUE

    rule = CATALOGUE.get(f.rule)
    return rule is None or profile in rule.profiles


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[Finding] = set()
    out = []
    for f in findings:
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out


def validate_bytes(
    data: bytes,
    kind: str | None = None,
    profile: str = "cisis",
    xsd_dir: Path | None = None,
    path: str = "",
    content_type: str | None = None,
) -> Result:
    if kind == "kos" or (kind is None and looks_like_dicom(data)):
        return _validate_kos(data, profile, path)
    if kind in CDA_KINDS or (kind is None and looks_like_cda(data)):
        return _validate_cda(data, kind, profile, xsd_dir, path)
    try:
        raw = read_message(data, content_type)
    except InputError as exc:
        return Result(path, kind, error=str(exc))
    return validate_message(raw, kind, profile, xsd_dir, path)


CDA_KINDS = ("img-da-img", "img-cr-img")


def looks_like_dicom(data: bytes) -> bool:
    """A DICOM Part 10 file: 128-byte preamble then ``DICM``."""
    return data[128:132] == b"DICM"


def looks_like_cda(data: bytes) -> bool:
    """An HL7 CDA document (root ``ClinicalDocument`` in ``urn:hl7-org:v3``), by a look at its first bytes."""
    head = data[:8192]
    return any(
        "ClinicalDocument".encode(codec) in head and "urn:hl7-org:v3".encode(codec) in head
        for codec in ("utf-8", "utf-16-le", "utf-16-be")
    )


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.location, f.rule))


def _validate_kos(data: bytes, profile: str, path: str) -> Result:
    from xdsi.validation.kos import validate_kos  # the DICOM layer loads only for DICOM input

    findings, error = validate_kos(data, profile)
    return Result(path, "kos", _sorted(findings), error=error)


def _validate_cda(data: bytes, kind: str | None, profile: str, xsd_dir: Path | None, path: str) -> Result:
    from xdsi.validation.cda import validate_cda  # the CDA layer loads only for CDA input

    detected, findings, error = validate_cda(data, kind, profile, xsd_dir)
    return Result(path, detected or kind, _sorted(findings), error=error)


def validate_path(path: Path, kind: str | None = None, profile: str = "cisis", xsd_dir: Path | None = None) -> Result:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Result(str(path), kind, error=f"cannot read {path}: {exc.strerror or exc}")
    return validate_bytes(data, kind, profile, xsd_dir, str(path))
