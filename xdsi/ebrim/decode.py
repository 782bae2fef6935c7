"""ebRIM 3.0 XML -> model. Tolerant: decodes whatever is there and counts what was repeated.

Nested Classification and ExternalIdentifier elements belong to their parent even when they omit
``classifiedObject`` / ``registryObject`` (the official DMP ITI-57 examples do).
"""

from __future__ import annotations

from collections import Counter

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
from xdsi.model.responses import RegistryError, RegistryResponse
from xdsi.xmlpaths import xpath_of

R = f"{{{v.RIM}}}"


def slots(el: etree._Element) -> list[tuple[str, list[str]]]:
    """The slots directly under ``el``, in order: (name, values)."""
    out = []
    for s in el.findall(f"{R}Slot"):
        values = [(val.text or "") for val in s.iterfind(f"{R}ValueList/{R}Value")]
        out.append((s.get("name", ""), values))
    return out


def _localized(el: etree._Element, tag: str) -> tuple[str | None, int]:
    found = el.findall(f"{R}{tag}")
    if not found:
        return None, 0
    ls = found[0].find(f"{R}LocalizedString")
    return (ls.get("value") if ls is not None else None), len(found)


def _code(cl: etree._Element) -> Code:
    scheme = next((vals[0] for name, vals in slots(cl) if name == "codingScheme" and vals), "")
    display, _ = _localized(cl, "Name")
    return Code(cl.get("nodeRepresentation", ""), scheme, display or "")


def _author(cl: etree._Element) -> Author:
    author = Author(location=xpath_of(cl))
    counts: Counter[str] = Counter()
    for name, values in slots(cl):
        for attr, slot_name in v.AUTHOR_SLOTS.items():
            if name == slot_name:
                counts[attr] += len(values)
                if attr == "person":
                    author.person = author.person or (values[0] if values else None)
                else:
                    getattr(author, attr).extend(values)
    author.occurrences = dict(counts)
    return author


def _classifications(el: etree._Element, scheme: str) -> list[etree._Element]:
    return [c for c in el.findall(f"{R}Classification") if c.get("classificationScheme") == scheme]


def _external_ids(el: etree._Element, scheme: str) -> list[str]:
    return [x.get("value", "") for x in el.findall(f"{R}ExternalIdentifier") if x.get("identificationScheme") == scheme]


def _version(el: etree._Element) -> str | None:
    vi = el.find(f"{R}VersionInfo")
    return vi.get("versionName") if vi is not None else None


def document_entry(el: etree._Element) -> DocumentEntry:
    counts: Counter[str] = Counter()
    de = DocumentEntry(
        entry_uuid=el.get("id", ""),
        mime_type=el.get("mimeType"),
        object_type=el.get("objectType", ""),
        logical_id=el.get("lid"),
        status=el.get("status"),
        home=el.get("home"),
        version=_version(el),
        location=xpath_of(el),
    )
    by_slot = {name: attr for attr, name in v.DE_SINGLE_SLOTS.items()}
    multi = {name: attr for attr, name in v.DE_MULTI_SLOTS.items()}
    for name, values in slots(el):
        if name in by_slot:
            attr = by_slot[name]
            counts[attr] += len(values)
            if getattr(de, attr) is None and values:
                setattr(de, attr, values[0])
        elif name in multi:
            counts[multi[name]] += len(values)
            getattr(de, multi[name]).extend(values)
        else:
            de.extra_slots.setdefault(name, []).extend(values)
    de.title, counts["title"] = _localized(el, "Name")
    de.comments, counts["comments"] = _localized(el, "Description")
    counts["version"] = len(el.findall(f"{R}VersionInfo"))
    de.authors = [_author(c) for c in _classifications(el, v.DE_AUTHOR)]
    for attr, scheme in v.DE_SINGLE_CODES.items():
        found = _classifications(el, scheme)
        counts[attr] = len(found)
        if found:
            setattr(de, attr, _code(found[0]))
    for attr, scheme in v.DE_MULTI_CODES.items():
        setattr(de, attr, [_code(c) for c in _classifications(el, scheme)])
    pids = _external_ids(el, v.DE_PATIENT_ID)
    uids = _external_ids(el, v.DE_UNIQUE_ID)
    counts["patient_id"], counts["unique_id"] = len(pids), len(uids)
    de.patient_id = pids[0] if pids else None
    de.unique_id = uids[0] if uids else None
    if v.REFERENCE_ID_LIST in dict(slots(el)):
        counts["reference_id_slots"] = sum(1 for n, _ in slots(el) if n == v.REFERENCE_ID_LIST)
    de.occurrences = dict(counts)
    return de


def _package_kind(el: etree._Element, nodes: dict[str, set[str]]) -> str | None:
    own = {c.get("classificationNode") for c in el.findall(f"{R}Classification")}
    own |= nodes.get(el.get("id", ""), set())
    if v.SS_NODE in own or _external_ids(el, v.SS_UNIQUE_ID):
        return "ss"
    if v.FOLDER_NODE in own or _external_ids(el, v.FOLDER_UNIQUE_ID):
        return "folder"
    return None


def submission_set(el: etree._Element) -> SubmissionSet:
    counts: Counter[str] = Counter()
    ss = SubmissionSet(entry_uuid=el.get("id", ""), status=el.get("status"), home=el.get("home"), location=xpath_of(el))
    for name, values in slots(el):
        if name == "submissionTime":
            counts["submission_time"] += len(values)
            ss.submission_time = ss.submission_time or (values[0] if values else None)
        elif name == "intendedRecipient":
            ss.intended_recipients.extend(values)
        else:
            ss.extra_slots.setdefault(name, []).extend(values)
    ss.title, counts["title"] = _localized(el, "Name")
    ss.comments, counts["comments"] = _localized(el, "Description")
    ss.authors = [_author(c) for c in _classifications(el, v.SS_AUTHOR)]
    ctc = _classifications(el, v.SS_CONTENT_TYPE_CODE)
    counts["content_type_code"] = len(ctc)
    ss.content_type_code = _code(ctc[0]) if ctc else None
    for attr, scheme in (
        ("unique_id", v.SS_UNIQUE_ID),
        ("source_id", v.SS_SOURCE_ID),
        ("patient_id", v.SS_PATIENT_ID),
    ):
        values = _external_ids(el, scheme)
        counts[attr] = len(values)
        setattr(ss, attr, values[0] if values else None)
    ss.occurrences = dict(counts)
    return ss


def folder(el: etree._Element) -> Folder:
    counts: Counter[str] = Counter()
    fd = Folder(
        entry_uuid=el.get("id", ""),
        status=el.get("status"),
        logical_id=el.get("lid"),
        home=el.get("home"),
        version=_version(el),
        location=xpath_of(el),
    )
    for name, values in slots(el):
        if name == "lastUpdateTime":
            counts["last_update_time"] += len(values)
            fd.last_update_time = fd.last_update_time or (values[0] if values else None)
        else:
            fd.extra_slots.setdefault(name, []).extend(values)
    fd.title, counts["title"] = _localized(el, "Name")
    fd.comments, counts["comments"] = _localized(el, "Description")
    fd.codes = [_code(c) for c in _classifications(el, v.FOLDER_CODE_LIST)]
    for attr, scheme in (("unique_id", v.FOLDER_UNIQUE_ID), ("patient_id", v.FOLDER_PATIENT_ID)):
        values = _external_ids(el, scheme)
        counts[attr] = len(values)
        setattr(fd, attr, values[0] if values else None)
    fd.occurrences = dict(counts)
    return fd


_ASSOC_SLOTS = {
    "SubmissionSetStatus": "submission_set_status",
    "PreviousVersion": "previous_version",
    "OriginalStatus": "original_status",
    "NewStatus": "new_status",
    "AssociationPropagation": "propagation",
}


def association(el: etree._Element) -> Association:
    counts: Counter[str] = Counter()
    a = Association(
        id=el.get("id", ""),
        type=el.get("associationType", ""),
        source=el.get("sourceObject", ""),
        target=el.get("targetObject", ""),
        status=el.get("status"),
        location=xpath_of(el),
    )
    for name, values in slots(el):
        attr = _ASSOC_SLOTS.get(name)
        if attr:
            counts[attr] += len(values)
            if getattr(a, attr) is None and values:
                setattr(a, attr, values[0])
        else:
            a.extra_slots.setdefault(name, []).extend(values)
    a.occurrences = dict(counts)
    return a


def registry_objects(rol: etree._Element | None) -> RegistryObjects:
    """Decode a ``rim:RegistryObjectList`` (``None`` gives an empty result)."""
    out = RegistryObjects()
    if rol is None:
        return out
    nodes: dict[str, set[str]] = {}
    for c in rol.findall(f"{R}Classification"):
        nodes.setdefault(c.get("classifiedObject", ""), set()).add(c.get("classificationNode", ""))
    for el in rol:
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname
        if local == "ExtrinsicObject":
            out.entries.append(document_entry(el))
        elif local == "RegistryPackage":
            kind = _package_kind(el, nodes)
            if kind == "folder":
                out.folders.append(folder(el))
            else:
                out.submission_sets.append(submission_set(el))
        elif local == "Association":
            out.associations.append(association(el))
        elif local == "ObjectRef":
            out.object_refs.append(el.get("id", ""))
    return out


def find_registry_object_list(root: etree._Element) -> etree._Element | None:
    if etree.QName(root).localname == "RegistryObjectList":
        return root
    return root.find(f".//{R}RegistryObjectList")


def registry_response(el: etree._Element) -> RegistryResponse:
    """Decode an ``rs:RegistryResponse`` or any element with ``@status`` and an ``rs:RegistryErrorList``."""
    errors = [
        RegistryError(
            code=e.get("errorCode", ""),
            context=e.get("codeContext", ""),
            severity=e.get("severity", "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"),
            location=e.get("location"),
        )
        for e in el.iterfind(f"{{{v.RS}}}RegistryErrorList/{{{v.RS}}}RegistryError")
    ]
    return RegistryResponse(el.get("status", ""), errors)
