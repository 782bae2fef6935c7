"""Cardinality rules, generated from the YAML tables: every row fires on a minimally broken message and stays
silent on the valid example. Messages go through the real encoder and decoder (model -> XML -> model)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from lxml import etree

from tests.rulecheck import assert_fires, assert_silent
from xdsi.ebrim import query as ebquery
from xdsi.messages import examples as ex
from xdsi.messages import iti18, iti41, iti57, rad69
from xdsi.model import identifiers as ids
from xdsi.model.metadata import RegistryObjects
from xdsi.validation import cardinality
from xdsi.validation.subjects import extract

NS = {
    "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
    "lcm": "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0",
    "query": "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0",
    "xdsb": "urn:ihe:iti:xds-b:2007",
    "xdsi": "urn:ihe:rad:xdsi-b:2009",
}


@dataclass
class Baseline:
    kind: str
    objects: Callable[[], RegistryObjects] | None
    encode: Callable[[RegistryObjects], etree._Element]


def _flux1_encode(objects: RegistryObjects) -> etree._Element:
    _, docs = ex.flux1()
    body, _ = iti41.encode_request(iti41.ProvideAndRegisterRequest(objects, docs), mtom=False)
    return body


def _flux6_encode(objects: RegistryObjects) -> etree._Element:
    return ebquery.encode_response(ebquery.AdhocQueryResult(objects=objects))


BASELINES = [
    Baseline("flux1", lambda: ex.flux1()[0], _flux1_encode),
    Baseline("flux1", lambda: ex.flux1_with_folder()[0], _flux1_encode),
    Baseline("flux3", ex.flux3_status, iti57.encode_request),
    Baseline("flux3", ex.flux3_new_version, iti57.encode_request),
    Baseline("flux6", ex.flux6, _flux6_encode),
]

# fields that are views over another model attribute: how to empty them, how to overfill them
_VIEWS = {
    "modality_codes": ("event_codes", lambda de: [c for c in de.event_codes if c not in de.modality_codes]),
    "region_codes": ("event_codes", lambda de: [c for c in de.event_codes if c not in de.region_codes]),
    "accession_numbers": (
        "reference_ids",
        lambda de: [r for r in de.reference_ids if ids.ACCESSION not in r],
    ),
    "study_instance_uids": (
        "reference_ids",
        lambda de: [r for r in de.reference_ids if ids.STUDY_INSTANCE_UID not in r],
    ),
    "order_numbers": ("reference_ids", lambda de: [r for r in de.reference_ids if ids.ORDER not in r]),
    "reference_id_slots": ("reference_ids", lambda de: []),
}


def _check(body: etree._Element, kind: str, profile: str):
    root = etree.fromstring(etree.tostring(body))
    return cardinality.check(extract(root, kind, {}), kind, profile)


def _target(row: cardinality.Row, objects: RegistryObjects, kind: str):
    subjects = cardinality.Subjects(objects)
    return next((o for o in subjects.of(row.model) if cardinality._applies(row, o, subjects)), None)


#: fields encoded as an XML attribute: they cannot occur twice
_ATTRIBUTES = {"entry_uuid", "mime_type", "status", "logical_id"}
#: a value for a [0..1] field the example leaves out
_FILL = {
    "comments": "Commentaire",
    "version": "1",
    "hash": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "size": "0",
    "title": "Titre",
    "service_stop_time": "20261123093000",
}


def _emptied(row, obj) -> None:
    if row.field in _ATTRIBUTES:
        setattr(obj, row.field, "")
    elif row.field in _VIEWS:
        attr, keep = _VIEWS[row.field]
        setattr(obj, attr, keep(obj))
    else:
        current = getattr(obj, row.field)
        setattr(obj, row.field, [] if isinstance(current, list) else None)


def _element_of(body: etree._Element, obj) -> etree._Element:
    el = body.getroottree().xpath(obj.location, namespaces=NS) if obj.location else []
    assert el, f"cannot find {obj.location}"
    return el[0]


def _doubled(row, baseline: Baseline, profile: str):
    """The baseline with the XML encoding the row's field written twice on its object."""
    objects = baseline.objects()
    target = _target(row, objects, baseline.kind)
    if not target.count(row.field):
        setattr(target, row.field, _FILL[row.field])
    full = baseline.encode(objects)
    decoded = extract(etree.fromstring(etree.tostring(full)), baseline.kind, {})
    obj = _target(row, decoded.objects, baseline.kind)
    stripped_objects = baseline.objects()
    _emptied(row, _target(row, stripped_objects, baseline.kind))
    stripped = baseline.encode(stripped_objects)
    full_el = _element_of(full, obj)
    stripped_el = _element_of(stripped, obj)
    kept = [etree.tostring(c) for c in stripped_el]
    extra = [c for c in full_el if etree.tostring(c) not in kept]
    assert extra, f"{row.id}: no XML element encodes {row.field}"
    for c in extra:
        c.addnext(copy.deepcopy(c))
    return full


def _rows():
    rows = []
    for row in cardinality.all_rows():
        base = next((b for b in BASELINES if b.kind in row.kinds and _target(row, b.objects(), b.kind)), None)
        rows.append(pytest.param(row, base, id=row.id))
    return rows


@pytest.mark.parametrize(("row", "baseline"), _rows())
def test_row_fires_and_stays_silent(row: cardinality.Row, baseline: Baseline | None) -> None:
    profile = row.profiles[0]
    if baseline is None:
        _special(row, profile)
        return
    assert_silent(_check(baseline.encode(baseline.objects()), baseline.kind, profile), row.id)
    if row.minimum > 0:
        objects = baseline.objects()
        _emptied(row, _target(row, objects, baseline.kind))
        assert_fires(_check(baseline.encode(objects), baseline.kind, profile), row.id)
    if row.maximum is not None and row.field not in _ATTRIBUTES and not row.count_present:
        if row.field == "study_instance_uids":
            objects = baseline.objects()
            de = _target(row, objects, baseline.kind)
            de.reference_ids.append(str(ids.ReferenceId("1.2.3.4.5", ids.STUDY_INSTANCE_UID)))
            body = baseline.encode(objects)
        else:
            body = _doubled(row, baseline, profile)
        assert_fires(_check(body, baseline.kind, profile), row.id)


def _special(row: cardinality.Row, profile: str) -> None:
    """Rows on classes without a model type: built from the example XML and broken in place."""
    exam = ex.Exam()
    if row.model == "StoredQuery":
        q = ebquery.AdhocQuery(iti18.FIND_DOCUMENTS, slots=ex.flux5_slots(exam))
        assert_silent(_check(iti18.encode_request(q), "flux5", profile), row.id)
        q.add(
            "$XDSDocumentEntryReferenceIdList",
            f"('1.2.3^^^^{ids.STUDY_INSTANCE_UID}','1.2.4^^^^{ids.STUDY_INSTANCE_UID}')",
        )
        assert_fires(_check(iti18.encode_request(q), "flux5", profile), row.id)
    elif row.model == "ImageRequest":
        body = rad69.encode_request(ex.flux9(exam))
        assert_silent(_check(body, "flux9", profile), row.id)
        body.find(".//xdsb:DocumentUniqueId", NS).text = ""
        assert_fires(_check(body, "flux9", profile), row.id, "DocumentRequest")
    elif row.model == "ImageResponse":
        body, _ = rad69.encode_response(ex.flux10(exam))
        assert_silent(_check(body, "flux10", profile), row.id)
        doc = body.find(".//xdsb:Document", NS)
        for child in list(doc):
            doc.remove(child)
        assert_fires(_check(body, "flux10", profile), row.id, "DocumentResponse")
    elif row.model == "Document":
        objects, docs = ex.flux1(exam)
        body, att = iti41.encode_request(iti41.ProvideAndRegisterRequest(objects, docs), mtom=True)
        root = etree.fromstring(etree.tostring(body))
        assert_silent(cardinality.check(extract(root, "flux1", att), "flux1", profile), row.id)
        att.pop(next(iter(att)))
        assert_fires(cardinality.check(extract(root, "flux1", att), "flux1", profile), row.id, "Document")
    else:
        pytest.fail(f"{row.id}: no baseline applies to {row.model} in {row.kinds}")


def test_tables_transcribe_the_volet() -> None:
    rows, unchecked = cardinality.load_tables()
    by_id = {r.id: r for r in rows}
    assert by_id["FLUX1.FICHE.REGION.CARD"].card == "1..*"
    assert "FLUX6.FICHE.REGION.CARD" in {u.id for u in unchecked}
    assert by_id["FLUX1.FICHE.STUDYUID.CARD"].card == "1..1"
    assert by_id["FLUX1.FICHE.MODALITE.CARD"].reference.startswith("PEI §5.1.2 Tableau 12")
    assert all(u.reason for u in unchecked)
    assert len({r.id for r in rows} | {u.id for u in unchecked}) == len(rows) + len(unchecked)
