"""Model <-> ebRIM round trips, and decoding of the official corpus into the model."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from xdsi.ebrim import decode, encode
from xdsi.ebrim import query as ebquery
from xdsi.messages import examples as ex
from xdsi.messages import iti18, iti41, iti43, rad69
from xdsi.model import identifiers as ids
from xdsi.model import metadata as md


def _roundtrip_objects(objects: md.RegistryObjects) -> md.RegistryObjects:
    xml = etree.tostring(encode.submit_objects_request(objects))
    return decode.registry_objects(decode.find_registry_object_list(etree.fromstring(xml)))


def _strip(obj):
    obj.location = ""
    obj.occurrences = {}
    for a in getattr(obj, "authors", []):
        _strip(a)
    return obj


def test_submission_roundtrip_keeps_every_attribute() -> None:
    objects, _ = ex.flux1_with_folder()
    back = _roundtrip_objects(objects)
    assert [_strip(e) for e in back.entries] == objects.entries
    assert [_strip(s) for s in back.submission_sets] == objects.submission_sets
    assert [_strip(f) for f in back.folders] == objects.folders
    assert [_strip(a) for a in back.associations] == objects.associations


def test_decoded_objects_know_where_they_are() -> None:
    back = _roundtrip_objects(ex.flux1()[0])
    assert back.entries[1].location == "/lcm:SubmitObjectsRequest/rim:RegistryObjectList/rim:ExtrinsicObject[2]"
    assert back.entries[0].is_kos and not back.entries[1].is_kos


def test_imaging_view_of_an_entry() -> None:
    de = ex.kos_entry(ex.Exam())
    assert [c.code for c in de.modality_codes] == ["CT"]
    assert [c.code for c in de.region_codes] == ["67734004"]
    assert [c.code for c in de.procedure_codes] == ["ZBQK001"]
    assert len(de.study_instance_uids) == 1 and len(de.accession_numbers) == 1 and len(de.order_numbers) == 1
    acc = ids.ReferenceId.parse(de.accession_numbers[0])
    assert acc.type == ids.ACCESSION and acc.authority == ex.Exam().accession_issuer


def test_repeated_attributes_are_counted() -> None:
    objects, _ = ex.flux1()
    root = encode.submit_objects_request(objects)
    eo = root.find(".//{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}ExtrinsicObject")
    uid = next(x for x in eo if x.get("identificationScheme") == "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab")
    uid.addnext(etree.fromstring(etree.tostring(uid)))
    de = decode.registry_objects(decode.find_registry_object_list(root)).entries[0]
    assert de.count("unique_id") == 2


def test_iti41_mtom_and_inline_give_the_same_request() -> None:
    objects, docs = ex.flux1()
    req = iti41.ProvideAndRegisterRequest(objects, docs)
    body, att = iti41.encode_request(req, mtom=True)
    inline, _ = iti41.encode_request(req, mtom=False)
    a, b = iti41.decode_request(body, att), iti41.decode_request(inline)
    assert [d.content for d in a.documents] == [d.content for d in b.documents] == [d.content for d in docs]


def test_query_retrieve_and_rad69_roundtrip() -> None:
    q = ebquery.AdhocQuery(iti18.FIND_DOCUMENTS, slots=ex.flux5_slots())
    assert iti18.decode_request(iti18.encode_request(q)) == q
    result = ebquery.AdhocQueryResult(objects=ex.flux6())
    back = iti18.decode_response(iti18.encode_response(result))
    assert back.response.ok and back.objects.entries[0].status == md.APPROVED
    assert iti43.decode_request(iti43.encode_request(ex.flux7())) == ex.flux7()
    resp = ex.flux8()
    body, att = iti43.encode_response(resp)
    assert iti43.decode_response(body, att) == resp
    req = ex.flux9()
    assert rad69.decode_request(rad69.encode_request(req)) == req
    body, att = rad69.encode_response(ex.flux10())
    assert [d.content for d in rad69.decode_response(body, att).documents] == [d.content for d in ex.flux10().documents]


def test_identifiers_build_and_parse() -> None:
    cx = ids.CX.ins("248039263001064")
    assert str(cx) == "248039263001064^^^&1.2.250.1.213.1.4.10&ISO^NH"
    assert ids.CX.parse(str(cx)) == cx
    xcn = ids.XCN("810002909371", "MARTIN", "Claire")
    assert str(xcn) == "810002909371^MARTIN^Claire^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
    assert ids.XCN.parse(str(xcn)) == xcn
    xon = ids.XON("Cabinet", "10B0127189")
    assert ids.XON.parse(str(xon)) == xon
    ref = ids.ReferenceId("1.2.3", ids.STUDY_INSTANCE_UID)
    assert str(ref) == "1.2.3^^^^urn:ihe:iti:xds:2016:studyInstanceUID" and ids.ReferenceId.parse(str(ref)) == ref


def _bodies(corpus: Path):
    from xdsi.messages.capture import read_message
    from xdsi.messages.xmlsafe import InputError

    for path in sorted((corpus / "xds" / "messages").rglob("*")):
        if path.is_file():
            try:
                raw = read_message(path.read_bytes())
            except InputError:
                continue
            if raw.body is not None:
                yield path, raw


@pytest.mark.corpus
def test_every_corpus_message_decodes(corpus: Path) -> None:
    decoded = 0
    for path, raw in _bodies(corpus):
        rol = decode.find_registry_object_list(raw.body)
        objects = decode.registry_objects(rol)
        if rol is not None:
            decoded += 1
            for de in objects.entries:
                assert de.entry_uuid, path
    assert decoded >= 10


@pytest.mark.corpus
def test_official_dmp_iti57_examples_decode_without_parent_references(corpus: Path) -> None:
    path = corpus / "xds/messages/dmp-ans/TD3.3d_ITI-57_UpdateAvailabilityStatus_Approved-to-Archived_request.xml"
    from xdsi.messages.capture import read_message

    objects = decode.registry_objects(decode.find_registry_object_list(read_message(path.read_bytes()).body))
    ss = objects.submission_set
    assert ss is not None and ss.patient_id and "^NH" in ss.patient_id
    assoc = objects.associations[0]
    assert assoc.type == md.UPDATE_AVAILABILITY_STATUS and assoc.new_status == md.ARCHIVED
