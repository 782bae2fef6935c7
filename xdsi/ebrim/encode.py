"""Model -> ebRIM 3.0 XML (SubmitObjectsRequest, RegistryObjectList, RegistryResponse, AdhocQuery)."""

from __future__ import annotations

import uuid

from lxml import etree

from xdsi.ebrim import vocabulary as v
from xdsi.model.metadata import (
    Association,
    Author,
    Code,
    DocumentEntry,
    Folder,
    RegistryObjects,
    SubmissionSet,
)
from xdsi.model.responses import RegistryResponse

_NS = uuid.UUID("6f1c1c55-5e0b-4a52-8a9c-1d1c0b5f3a77")


def _id(*parts: str) -> str:
    """A deterministic urn:uuid for a nested object, derived from its parent and role."""
    return f"urn:uuid:{uuid.uuid5(_NS, '/'.join(parts))}"


def rim(tag: str) -> str:
    return f"{{{v.RIM}}}{tag}"


def slot(parent: etree._Element, name: str, values: list[str]) -> etree._Element:
    el = etree.SubElement(parent, rim("Slot"), name=name)
    vl = etree.SubElement(el, rim("ValueList"))
    for value in values:
        etree.SubElement(vl, rim("Value")).text = value
    return el


def _localized(parent: etree._Element, tag: str, text: str) -> None:
    el = etree.SubElement(parent, rim(tag))
    etree.SubElement(el, rim("LocalizedString"), value=text)


def _classification(parent: etree._Element, scheme: str, owner: str, code: Code, n: int) -> None:
    el = etree.SubElement(
        parent,
        rim("Classification"),
        classificationScheme=scheme,
        classifiedObject=owner,
        id=_id(owner, scheme, str(n)),
        nodeRepresentation=code.code,
    )
    el.set("objectType", v.OBJECT_TYPE_CLASSIFICATION)
    slot(el, "codingScheme", [code.scheme])
    _localized(el, "Name", code.display or code.code)


def _author(parent: etree._Element, scheme: str, owner: str, author: Author, n: int) -> None:
    el = etree.SubElement(
        parent,
        rim("Classification"),
        classificationScheme=scheme,
        classifiedObject=owner,
        id=_id(owner, scheme, str(n)),
        nodeRepresentation="",
    )
    el.set("objectType", v.OBJECT_TYPE_CLASSIFICATION)
    for attr, name in v.AUTHOR_SLOTS.items():
        value = getattr(author, attr)
        values = [value] if isinstance(value, str) else list(value or [])
        if values:
            slot(el, name, values)


def _external_id(parent: etree._Element, scheme: str, owner: str, value: str, name: str) -> None:
    el = etree.SubElement(
        parent,
        rim("ExternalIdentifier"),
        id=_id(owner, scheme),
        identificationScheme=scheme,
        registryObject=owner,
        value=value,
    )
    el.set("objectType", v.OBJECT_TYPE_EXTERNAL_ID)
    _localized(el, "Name", name)


def _name_description_version(el: etree._Element, title: str | None, comments: str | None, version: str | None):
    if title is not None:
        _localized(el, "Name", title)
    if comments is not None:
        _localized(el, "Description", comments)
    if version is not None:
        etree.SubElement(el, rim("VersionInfo"), versionName=version)


def _extra(el: etree._Element, extra: dict[str, list[str]]) -> None:
    for name, values in extra.items():
        slot(el, name, values)


def document_entry(parent: etree._Element, de: DocumentEntry) -> etree._Element:
    el = etree.SubElement(parent, rim("ExtrinsicObject"), id=de.entry_uuid, objectType=de.object_type)
    if de.mime_type is not None:
        el.set("mimeType", de.mime_type)
    if de.status:
        el.set("status", de.status)
    if de.logical_id:
        el.set("lid", de.logical_id)
    if de.home:
        el.set("home", de.home)
    for attr, name in v.DE_SINGLE_SLOTS.items():
        value = getattr(de, attr)
        if value is not None and attr != "home":
            slot(el, name, [value])
    for attr, name in v.DE_MULTI_SLOTS.items():
        values = getattr(de, attr)
        if values:
            slot(el, name, list(values))
    _extra(el, de.extra_slots)
    _name_description_version(el, de.title, de.comments, de.version)
    for n, author in enumerate(de.authors):
        _author(el, v.DE_AUTHOR, de.entry_uuid, author, n)
    for attr, scheme in v.DE_SINGLE_CODES.items():
        code = getattr(de, attr)
        if code is not None:
            _classification(el, scheme, de.entry_uuid, code, 0)
    for attr, scheme in v.DE_MULTI_CODES.items():
        for n, code in enumerate(getattr(de, attr)):
            _classification(el, scheme, de.entry_uuid, code, n)
    if de.patient_id is not None:
        _external_id(el, v.DE_PATIENT_ID, de.entry_uuid, de.patient_id, "XDSDocumentEntry.patientId")
    if de.unique_id is not None:
        _external_id(el, v.DE_UNIQUE_ID, de.entry_uuid, de.unique_id, "XDSDocumentEntry.uniqueId")
    return el


def _package(parent: etree._Element, entry_uuid: str, status: str | None, lid: str | None) -> etree._Element:
    el = etree.SubElement(parent, rim("RegistryPackage"), id=entry_uuid)
    el.set("objectType", v.OBJECT_TYPE_PACKAGE)
    if status:
        el.set("status", status)
    if lid:
        el.set("lid", lid)
    return el


def _node(parent: etree._Element, node: str, owner: str) -> None:
    el = etree.SubElement(
        parent, rim("Classification"), classificationNode=node, classifiedObject=owner, id=_id(owner, node)
    )
    el.set("objectType", v.OBJECT_TYPE_CLASSIFICATION)


def submission_set(parent: etree._Element, ss: SubmissionSet) -> etree._Element:
    el = _package(parent, ss.entry_uuid, ss.status, None)
    if ss.submission_time is not None:
        slot(el, "submissionTime", [ss.submission_time])
    if ss.intended_recipients:
        slot(el, "intendedRecipient", ss.intended_recipients)
    _extra(el, ss.extra_slots)
    _name_description_version(el, ss.title, ss.comments, None)
    for n, author in enumerate(ss.authors):
        _author(el, v.SS_AUTHOR, ss.entry_uuid, author, n)
    if ss.content_type_code is not None:
        _classification(el, v.SS_CONTENT_TYPE_CODE, ss.entry_uuid, ss.content_type_code, 0)
    if ss.unique_id is not None:
        _external_id(el, v.SS_UNIQUE_ID, ss.entry_uuid, ss.unique_id, "XDSSubmissionSet.uniqueId")
    if ss.source_id is not None:
        _external_id(el, v.SS_SOURCE_ID, ss.entry_uuid, ss.source_id, "XDSSubmissionSet.sourceId")
    if ss.patient_id is not None:
        _external_id(el, v.SS_PATIENT_ID, ss.entry_uuid, ss.patient_id, "XDSSubmissionSet.patientId")
    _node(parent, v.SS_NODE, ss.entry_uuid)
    return el


def folder(parent: etree._Element, fd: Folder) -> etree._Element:
    el = _package(parent, fd.entry_uuid, fd.status, fd.logical_id)
    if fd.last_update_time is not None:
        slot(el, "lastUpdateTime", [fd.last_update_time])
    _extra(el, fd.extra_slots)
    _name_description_version(el, fd.title, fd.comments, fd.version)
    for n, code in enumerate(fd.codes):
        _classification(el, v.FOLDER_CODE_LIST, fd.entry_uuid, code, n)
    if fd.patient_id is not None:
        _external_id(el, v.FOLDER_PATIENT_ID, fd.entry_uuid, fd.patient_id, "XDSFolder.patientId")
    if fd.unique_id is not None:
        _external_id(el, v.FOLDER_UNIQUE_ID, fd.entry_uuid, fd.unique_id, "XDSFolder.uniqueId")
    _node(parent, v.FOLDER_NODE, fd.entry_uuid)
    return el


def association(parent: etree._Element, a: Association) -> etree._Element:
    el = etree.SubElement(
        parent,
        rim("Association"),
        associationType=a.type,
        sourceObject=a.source,
        targetObject=a.target,
        id=a.id,
    )
    el.set("objectType", v.OBJECT_TYPE_ASSOCIATION)
    if a.status:
        el.set("status", a.status)
    for name, value in (
        ("SubmissionSetStatus", a.submission_set_status),
        ("PreviousVersion", a.previous_version),
        ("OriginalStatus", a.original_status),
        ("NewStatus", a.new_status),
        ("AssociationPropagation", a.propagation),
    ):
        if value is not None:
            slot(el, name, [value])
    _extra(el, a.extra_slots)
    return el


def registry_object_list(objects: RegistryObjects, parent: etree._Element | None = None) -> etree._Element:
    rol = (
        etree.Element(rim("RegistryObjectList"))
        if parent is None
        else etree.SubElement(parent, rim("RegistryObjectList"))
    )
    for ss in objects.submission_sets:
        submission_set(rol, ss)
    for fd in objects.folders:
        folder(rol, fd)
    for de in objects.entries:
        document_entry(rol, de)
    for a in objects.associations:
        association(rol, a)
    for ref in objects.object_refs:
        etree.SubElement(rol, rim("ObjectRef"), id=ref)
    return rol


def submit_objects_request(objects: RegistryObjects, parent: etree._Element | None = None) -> etree._Element:
    tag = f"{{{v.LCM}}}SubmitObjectsRequest"
    nsmap = {"lcm": v.LCM, "rim": v.RIM}
    sor = etree.Element(tag, nsmap=nsmap) if parent is None else etree.SubElement(parent, tag, nsmap=nsmap)
    registry_object_list(objects, sor)
    return sor


def registry_error_list(parent: etree._Element, response: RegistryResponse) -> None:
    if not response.errors:
        return
    severities = {e.severity for e in response.errors}
    highest = next((s for s in severities if s.endswith("Error")), next(iter(severities)))
    rel = etree.SubElement(parent, f"{{{v.RS}}}RegistryErrorList", highestSeverity=highest)
    for e in response.errors:
        err = etree.SubElement(
            rel, f"{{{v.RS}}}RegistryError", errorCode=e.code, codeContext=e.context, severity=e.severity
        )
        if e.location:
            err.set("location", e.location)


def registry_response(response: RegistryResponse, parent: etree._Element | None = None) -> etree._Element:
    tag = f"{{{v.RS}}}RegistryResponse"
    nsmap = {"rs": v.RS}
    el = etree.Element(tag, nsmap=nsmap) if parent is None else etree.SubElement(parent, tag)
    el.set("status", response.status)
    registry_error_list(el, response)
    return el
