"""Stored-query model (xdsi.model.storedquery) and the ITI-18 request rules (SQ.*)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from tests.rulecheck import assert_fires, assert_silent
from xdsi.model import storedquery as sq
from xdsi.validation.findings import CATALOGUE, Finding, has_errors
from xdsi.validation.storedquery import RULES, XDS_ERROR_CODE, check_query, read_stored_query

DMP_PID = "207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH"
IHE_PID = "c4d77e21d0dd487^^^&1.3.6.1.4.1.21367.2005.3.7&ISO"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
UUID1 = "urn:uuid:46278501-f648-4e54-a6d0-905c669790ee"
UUID2 = "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6"
STABLE = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
MODALITY = "1.2.250.1.213.1.1.5.618"
REGION = "1.2.250.1.213.1.1.5.695"
STUDY = "urn:ihe:iti:xds:2016:studyInstanceUID"

XDS_CODES = {
    "XDSUnknownStoredQuery",
    "XDSStoredQueryMissingParam",
    "XDSStoredQueryParamNumber",
    "XDSRegistryError",
}

# ---------------------------------------------------------------------------------------------- model: table


def test_query_table_ids() -> None:
    expected = {
        "FindDocuments": "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d",
        "FindDocumentsByReferenceId": "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492",
        "FindSubmissionSets": "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9",
        "FindFolders": "urn:uuid:958f3006-baad-4929-a4de-ff1114824431",
        "GetAll": "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3",
        "GetDocuments": "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4",
        "GetFolders": "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4",
        "GetAssociations": "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155",
        "GetDocumentsAndAssociations": "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a",
        "GetSubmissionSets": "urn:uuid:51224314-5390-4169-9b91-b1980040715a",
        "GetSubmissionSetAndContents": "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83",
        "GetFolderAndContents": "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7",
        "GetFoldersForDocument": "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578",
        "GetRelatedDocuments": "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6",
    }
    assert expected == sq.QUERY_IDS
    for name, qid in expected.items():
        q = sq.QUERIES[qid]
        assert q.name == name and q.reference.startswith("IHE ITI TF-2a 3.18.4.1.2.3.7.")
        assert q.param("$homeCommunityId") is not None
        assert sq.query_def(name) is q and sq.query_def(qid.upper()) is q
        for p in q.params:
            assert not (p.and_or and not p.multiple), p.name  # AND/OR only for lists
            assert not (p.required and p.group), p.name
    assert sq.query_def("urn:uuid:00000000-0000-0000-0000-000000000000") is None


def test_find_documents_parameters() -> None:
    q = sq.QUERIES[sq.FIND_DOCUMENTS]
    assert {p.name for p in q.required} == {"$XDSDocumentEntryPatientId", "$XDSDocumentEntryStatus"}
    patient = q.param("$XDSDocumentEntryPatientId")
    assert patient is not None and patient.kind == "cx" and not patient.multiple
    event = q.param("$XDSDocumentEntryEventCodeList")
    assert event is not None and event.kind == "code" and event.multiple and event.and_or
    assert {p.name for p in q.params if p.and_or} == {
        "$XDSDocumentEntryEventCodeList",
        "$XDSDocumentEntryConfidentialityCode",
    }
    times = [p.name for p in q.params if p.kind == "time"]
    assert len(times) == 6 and all(p.endswith(("From", "To")) for p in times)
    by_ref = sq.QUERIES[sq.FIND_DOCUMENTS_BY_REFERENCE_ID]
    assert set(q.names) < set(by_ref.names)
    ref = by_ref.param("$XDSDocumentEntryReferenceIdList")
    assert ref is not None and ref.required and ref.kind == "cxi"


def test_one_of_groups() -> None:
    get_docs = sq.QUERIES[sq.GET_DOCUMENTS]
    assert get_docs.groups == {
        "entry": ("$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId", "$XDSDocumentEntryLogicalID")
    }
    folder_contents = sq.QUERIES[sq.GET_FOLDER_AND_CONTENTS]
    entry = folder_contents.param("$XDSFolderEntryUUID")
    assert entry is not None and not entry.multiple  # single here, multiple in GetFolders
    get_folders = sq.QUERIES[sq.GET_FOLDERS].param("$XDSFolderEntryUUID")
    assert get_folders is not None and get_folders.multiple
    related = sq.QUERIES[sq.GET_RELATED_DOCUMENTS]
    assert related.param("$AssociationTypes") in related.required


def test_statuses_per_profile() -> None:
    assert sq.allowed_statuses("ihe") == {APPROVED, "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"}
    assert ARCHIVED in sq.allowed_statuses("cisis") and ARCHIVED in sq.allowed_statuses("dmp")


# --------------------------------------------------------------------------------------------- model: values


@pytest.mark.parametrize(
    ("text", "items", "is_list"),
    [
        ("'a'", ("a",), False),
        ("  'a'  ", ("a",), False),
        ("('a')", ("a",), True),
        ("('a','b')", ("a", "b"), True),
        ("( 'a' ,\n 'b' )", ("a", "b"), True),
        ("'it''s'", ("it's",), False),
        ("('x''y', 'z')", ("x'y", "z"), True),
        ("''", ("",), False),
        ("'a,b (c)'", ("a,b (c)",), False),
        ("20221016161616", ("20221016161616",), False),
        ("(1, 2)", ("1", "2"), True),
        (f"'{DMP_PID}'", (DMP_PID,), False),
    ],
)
def test_parse_value(text: str, items: tuple[str, ...], is_list: bool) -> None:
    parsed = sq.parse_value(text)
    assert parsed.items == items and parsed.is_list is is_list


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("()", "empty"),
        ("'a", "syntax"),
        ("('a'", "syntax"),
        ("('a',", "syntax"),
        ("('a'))", "syntax"),
        ("'a')", "syntax"),
        ("'a','b'", "syntax"),
        ("('a' 'b')", "syntax"),
        ("'a' x", "syntax"),
        ("(,'a')", "syntax"),
        ("'593603^^^&2.16.756.5.33.2.5.1.5.1&ISO''%20and%20611%3d611--%20", "syntax"),
    ],
)
def test_parse_value_errors(text: str, category: str) -> None:
    with pytest.raises(sq.SlotValueError) as exc:
        sq.parse_value(text)
    assert exc.value.category == category and exc.value.reason


def test_parse_slot_values() -> None:
    assert sq.parse_slot_values(["('a','b')", "('c')"]) == ["a", "b", "c"]
    assert sq.parse_slot_values(["20240101"], "time") == ["20240101"]
    assert sq.parse_slot_values(["1"], "metadatalevel") == ["1"]
    assert sq.parse_slot_values(["'2'"], "metadatalevel") == ["2"]
    assert sq.parse_slot_values(["x", "'y'"], None) == ["x", "y"]
    with pytest.raises(sq.SlotValueError) as exc:
        sq.parse_slot_values(["'20240101'"], "time")
    assert exc.value.category == "quoted-number"
    with pytest.raises(sq.SlotValueError) as exc:
        sq.parse_slot_values(["('a')", f"({APPROVED})"], "status")
    assert exc.value.category == "not-string" and exc.value.index == 1
    with pytest.raises(sq.SlotValueError) as exc:
        sq.parse_slot_values([], "string")
    assert exc.value.category == "empty"
    with pytest.raises(sq.SlotValueError) as exc:
        sq.parse_slot_values(["'a'", "('b'"], "string")
    assert exc.value.category == "syntax" and exc.value.index == 1


def test_parse_code() -> None:
    assert sq.parse_code("CT^^1.2.250.1.213.1.1.5.618") == ("CT", MODALITY)
    assert sq.parse_code("urn:connectathon:policy:full-access^^1.3.6.1.4.1.21367.2017.3")[0].startswith("urn:")
    for bad in ("value^^", "^^scheme", "CT", "CT^scheme", "CT^x^scheme", "CT^^s^x", ""):
        assert sq.check_code(bad), bad
        with pytest.raises(ValueError):
            sq.parse_code(bad)


def test_build_stored_query_and_accessors() -> None:
    q = sq.build_stored_query(
        sq.FIND_DOCUMENTS,
        [
            ("$XDSDocumentEntryPatientId", [f"'{DMP_PID}'"]),
            ("$XDSDocumentEntryStatus", [f"('{APPROVED}','{ARCHIVED}')"]),
            ("$XDSDocumentEntryEventCodeList", [f"('CT^^{MODALITY}','MR^^{MODALITY}')"]),
            ("$XDSDocumentEntryEventCodeList", [f"('67734004^^{REGION}')"]),
            ("$XDSDocumentEntryCreationTimeFrom", ["20240101"]),
            ("$XDSDocumentEntryCreationTimeTo", ["20250101"]),
            ("$XDSDocumentEntryAuthorPerson", ["('%MARTIN%')"]),
        ],
        "ObjectRef",
    )
    assert q.name == "FindDocuments" and q.return_type == "ObjectRef" and q.definition is not None
    assert q.value("$XDSDocumentEntryPatientId") == DMP_PID
    assert q.values("$XDSDocumentEntryStatus") == [APPROVED, ARCHIVED]
    assert q.and_or("$XDSDocumentEntryEventCodeList") == [
        [f"CT^^{MODALITY}", f"MR^^{MODALITY}"],
        [f"67734004^^{REGION}"],
    ]
    assert q.codes("$XDSDocumentEntryEventCodeList")[1] == [("67734004", REGION)]
    assert q.time_range("$XDSDocumentEntryCreationTime") == ("20240101", "20250101")
    assert q.time_range("$XDSDocumentEntryServiceStartTime") == (None, None)
    assert q.has("$XDSDocumentEntryAuthorPerson") and not q.has("$XDSDocumentEntryClassCode")
    assert q.value("$XDSDocumentEntryClassCode") is None and q.and_or("$XDSDocumentEntryClassCode") == []


def test_build_stored_query_errors_name_the_parameter() -> None:
    with pytest.raises(sq.SlotValueError) as exc:
        sq.build_stored_query(sq.FIND_DOCUMENTS, [("$XDSDocumentEntryStatus", [APPROVED])])
    assert exc.value.param == "$XDSDocumentEntryStatus" and exc.value.category == "not-string"
    unknown = sq.build_stored_query("urn:uuid:00000000-0000-0000-0000-000000000000", [("$x", ["1"])])
    assert unknown.name is None and unknown.params == {"$x": [["1"]]}


# ------------------------------------------------------------------------------------------------ XML helper

Slots = list[tuple[str, list[str]]]


def query_xml(query_id: str, slots: Slots, return_type: str = "LeafClass") -> etree._Element:
    body = "".join(
        f'<rim:Slot name="{escape(name)}"><rim:ValueList>'
        + "".join(f"<rim:Value>{escape(v)}</rim:Value>" for v in values)
        + "</rim:ValueList></rim:Slot>"
        for name, values in slots
    )
    xml = (
        '<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" '
        'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">'
        f'<query:ResponseOption returnComposedObjects="true" returnType="{return_type}"/>'
        f'<rim:AdhocQuery id="{query_id}">{body}</rim:AdhocQuery></query:AdhocQueryRequest>'
    )
    return etree.fromstring(xml.encode())


def find_documents(*extra: tuple[str, list[str]], pid: str = DMP_PID, status: str | None = None) -> Slots:
    slots: Slots = [("$XDSDocumentEntryPatientId", [f"'{pid}'"])]
    slots.append(("$XDSDocumentEntryStatus", [status if status is not None else f"('{APPROVED}')"]))
    return slots + list(extra)


def run(slots: Slots, profile: str = "cisis", query_id: str = sq.FIND_DOCUMENTS, **kw: str) -> list[Finding]:
    return check_query(query_xml(query_id, slots, **kw), profile)


SLOT = "/query:AdhocQueryRequest/rim:AdhocQuery/rim:Slot"

#: one valid request per stored query (profile cisis)
VALID_QUERIES: dict[str, Slots] = {
    "FindDocuments": find_documents(
        ("$XDSDocumentEntryClassCode", ["('31^^1.2.250.1.213.1.1.4.1')"]),
        ("$XDSDocumentEntryTypeCode", ["('IMG-KOS^^1.2.250.1.213.1.1.4.12')"]),
        ("$XDSDocumentEntryPracticeSettingCode", ["('ETABLISSEMENT^^1.2.250.1.213.1.1.4.9')"]),
        ("$XDSDocumentEntryCreationTimeFrom", ["20240101"]),
        ("$XDSDocumentEntryCreationTimeTo", ["20250101"]),
        ("$XDSDocumentEntryServiceStartTimeFrom", ["202401010000"]),
        ("$XDSDocumentEntryServiceStartTimeTo", ["202412312359"]),
        ("$XDSDocumentEntryServiceStopTimeFrom", ["2024"]),
        ("$XDSDocumentEntryServiceStopTimeTo", ["2025"]),
        ("$XDSDocumentEntryHealthcareFacilityTypeCode", ["('SA01^^1.2.250.1.71.4.2.4')"]),
        ("$XDSDocumentEntryEventCodeList", [f"('CT^^{MODALITY}','MR^^{MODALITY}')"]),
        ("$XDSDocumentEntryEventCodeList", [f"('67734004^^{REGION}')"]),
        ("$XDSDocumentEntryConfidentialityCode", ["('N^^2.16.840.1.113883.5.25')"]),
        ("$XDSDocumentEntryAuthorPerson", ["('%LIBRE%')"]),
        ("$XDSDocumentEntryFormatCode", ["('1.2.840.10008.5.1.4.1.1.88.59^^1.2.840.10008.2.6.1')"]),
        ("$XDSDocumentEntryType", [f"('{STABLE}')"]),
        ("$homeCommunityId", ["'urn:oid:1.2.250.1.213.4.1'"]),
        ("$MetadataLevel", ["1"]),
    ),
    "FindDocumentsByReferenceId": find_documents(
        ("$XDSDocumentEntryReferenceIdList", [f"('1.2.250.1.999.1.5.1^^^^{STUDY}')"]),
    ),
    "FindSubmissionSets": [
        ("$XDSSubmissionSetPatientId", [f"'{DMP_PID}'"]),
        ("$XDSSubmissionSetSourceId", ["('1.2.250.1.999.1.1.7898')"]),
        ("$XDSSubmissionSetSubmissionTimeFrom", ["20240101"]),
        ("$XDSSubmissionSetSubmissionTimeTo", ["20240201"]),
        ("$XDSSubmissionSetAuthorPerson", ["'%Dopplemeyer%'"]),
        ("$XDSSubmissionSetContentType", ["('04^^1.2.250.1.213.2.2')"]),
        ("$XDSSubmissionSetStatus", [f"('{APPROVED}')"]),
    ],
    "FindFolders": [
        ("$XDSFolderPatientId", [f"'{DMP_PID}'"]),
        ("$XDSFolderLastUpdateTimeFrom", ["20240101"]),
        ("$XDSFolderCodeList", ["('a^^1.2.3')"]),
        ("$XDSFolderCodeList", ["('b^^1.2.3')"]),
        ("$XDSFolderStatus", [f"('{APPROVED}')"]),
    ],
    "GetAll": [
        ("$patientId", [f"'{DMP_PID}'"]),
        ("$XDSDocumentEntryStatus", [f"('{APPROVED}','{ARCHIVED}')"]),
        ("$XDSSubmissionSetStatus", [f"('{APPROVED}')"]),
        ("$XDSFolderStatus", [f"('{APPROVED}')"]),
        ("$XDSDocumentEntryFormatCode", ["('f^^1.2.3')"]),
        ("$XDSDocumentEntryConfidentialityCode", ["('N^^2.16.840.1.113883.5.25')"]),
        ("$XDSDocumentEntryType", [f"('{STABLE}','urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248')"]),
    ],
    "GetDocuments": [("$XDSDocumentEntryUniqueId", ["('1.2.3.4','1.2.3.5')"]), ("$MetadataLevel", ["'2'"])],
    "GetFolders": [("$XDSFolderEntryUUID", [f"('{UUID1}','{UUID2}')"])],
    "GetAssociations": [("$uuid", [f"('{UUID1}')", f"('{UUID2}')"])],
    "GetDocumentsAndAssociations": [("$XDSDocumentEntryEntryUUID", [f"('{UUID1}')"])],
    "GetSubmissionSets": [("$uuid", [f"('{UUID1}','{UUID2}')"])],
    "GetSubmissionSetAndContents": [
        ("$XDSSubmissionSetUniqueId", ["'1.2.250.1.999.1.1.7898.1.1'"]),
        ("$XDSDocumentEntryConfidentialityCode", ["('N^^2.16.840.1.113883.5.25')"]),
        ("$XDSDocumentEntryConfidentialityCode", ["('MASQUE_PS^^1.2.250.1.213.1.1.4.13')"]),
    ],
    "GetFolderAndContents": [
        ("$XDSFolderEntryUUID", [f"'{UUID1}'"]),
        ("$XDSDocumentEntryType", [f"('{STABLE}')"]),
        ("$XDSAssociationStatus", [f"('{APPROVED}')"]),
    ],
    "GetFoldersForDocument": [("$XDSDocumentEntryUniqueId", ["'1.2.3.4'"])],
    "GetRelatedDocuments": [
        ("$XDSDocumentEntryEntryUUID", [f"'{UUID2}'"]),
        ("$AssociationTypes", [f"('urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember','{RPLC}')"]),
    ],
}


@pytest.mark.parametrize("name", sorted(VALID_QUERIES))
def test_valid_queries_are_silent(name: str) -> None:
    findings = run(VALID_QUERIES[name], query_id=sq.QUERY_IDS[name])
    assert findings == [], [(f.rule, f.location, f.message) for f in findings]
    for rule_id in RULES:
        assert_silent(findings, rule_id)
    stored = read_stored_query(query_xml(sq.QUERY_IDS[name], VALID_QUERIES[name]))
    assert stored is not None and stored.name == name
    assert set(stored.params) == {n for n, _ in VALID_QUERIES[name]}


def test_valid_queries_cover_every_query() -> None:
    assert set(VALID_QUERIES) == set(sq.QUERY_IDS)


@pytest.mark.parametrize("profile", ["dmp", "ihe"])
def test_valid_query_other_profiles(profile: str) -> None:
    pid = IHE_PID if profile == "ihe" else DMP_PID
    assert run(find_documents(pid=pid), profile) == []


# ------------------------------------------------------------------------------------------------ rules


def test_rule_table_and_error_codes() -> None:
    assert set(RULES) == set(XDS_ERROR_CODE)
    assert set(XDS_ERROR_CODE.values()) <= XDS_CODES
    assert XDS_ERROR_CODE["SQ.QUERY.UNKNOWN"] == "XDSUnknownStoredQuery"
    assert XDS_ERROR_CODE["SQ.PARAM.MISSING"] == "XDSStoredQueryMissingParam"
    assert XDS_ERROR_CODE["SQ.PARAM.SINGLE"] == "XDSStoredQueryParamNumber"
    for rule_id in RULES:
        rule = CATALOGUE[rule_id]
        assert rule.layer == "technical" and rule.kinds == ("flux5",) and rule.reference


def test_sq_query_unknown() -> None:
    hit = assert_fires(
        run(find_documents(), query_id="urn:uuid:00000000-0000-0000-0000-000000000000"),
        "SQ.QUERY.UNKNOWN",
        "/query:AdhocQueryRequest/rim:AdhocQuery/@id",
    )
    assert hit.severity == "error"
    no_adhoc = etree.fromstring(
        b'<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0">'
        b'<query:ResponseOption returnType="LeafClass"/></query:AdhocQueryRequest>'
    )
    assert_fires(check_query(no_adhoc), "SQ.QUERY.UNKNOWN", "/query:AdhocQueryRequest")
    assert read_stored_query(no_adhoc) is None


def test_sq_query_return_type() -> None:
    hit = assert_fires(
        run(find_documents(), return_type="LeafClassWithRepositoryItem"),
        "SQ.QUERY.RETURNTYPE",
        "/query:ResponseOption/@returnType",
    )
    assert "LeafClassWithRepositoryItem" in hit.message
    assert_silent(run(find_documents(), return_type="ObjectRef"), "SQ.QUERY.RETURNTYPE")


def test_sq_param_unknown() -> None:
    slots = find_documents(("$XDSDocumentEntryClassCodeScheme", ["('1.2.3')"]))
    hit = assert_fires(run(slots), "SQ.PARAM.UNKNOWN", f"{SLOT}[@name='$XDSDocumentEntryClassCodeScheme']")
    assert hit.severity == "warning"
    assert not has_errors(run(slots))


def test_sq_param_missing() -> None:
    slots = [("$XDSDocumentEntryStatus", [f"('{APPROVED}')"])]
    hit = assert_fires(run(slots), "SQ.PARAM.MISSING", "/query:AdhocQueryRequest/rim:AdhocQuery")
    assert "$XDSDocumentEntryPatientId" in hit.message
    assert_fires(run(VALID_QUERIES["FindDocuments"][:1]), "SQ.PARAM.MISSING")
    assert_fires(run(find_documents(), query_id=sq.FIND_DOCUMENTS_BY_REFERENCE_ID), "SQ.PARAM.MISSING")
    assert_fires(run([], query_id=sq.GET_RELATED_DOCUMENTS), "SQ.PARAM.MISSING")


def test_sq_param_one_of() -> None:
    assert_fires(run([], query_id=sq.GET_DOCUMENTS), "SQ.PARAM.ONEOF", "/query:AdhocQueryRequest/rim:AdhocQuery")
    both = [("$XDSDocumentEntryEntryUUID", [f"('{UUID1}')"]), ("$XDSDocumentEntryUniqueId", ["('1.2.3')"])]
    hit = assert_fires(
        run(both, query_id=sq.GET_DOCUMENTS), "SQ.PARAM.ONEOF", f"{SLOT}[@name='$XDSDocumentEntryUniqueId']"
    )
    assert "exactly one" in hit.message and hit.severity == "error"


def test_sq_param_single() -> None:
    two_values = find_documents(("$XDSDocumentEntryCreationTimeFrom", ["20240101", "20240102"]))
    assert_fires(
        run(two_values),
        "SQ.PARAM.SINGLE",
        f"{SLOT}[@name='$XDSDocumentEntryCreationTimeFrom']/rim:ValueList/rim:Value[2]",
    )
    two_slots = [*find_documents(), ("$XDSDocumentEntryPatientId", [f"'{DMP_PID}'"])]
    assert_fires(run(two_slots), "SQ.PARAM.SINGLE", f"{SLOT}[@name='$XDSDocumentEntryPatientId'][2]")
    as_list = [
        ("$XDSDocumentEntryPatientId", [f"('{DMP_PID}')"]),
        ("$XDSDocumentEntryStatus", [f"('{APPROVED}')"]),
    ]
    hit = assert_fires(run(as_list), "SQ.PARAM.SINGLE", "$XDSDocumentEntryPatientId")
    assert "list" in hit.message
    listed = [("$XDSFolderEntryUUID", [f"('{UUID1}','{UUID2}')"])]
    assert_fires(run(listed, query_id=sq.GET_FOLDER_AND_CONTENTS), "SQ.PARAM.SINGLE", "$XDSFolderEntryUUID")
    assert_silent(run(listed, query_id=sq.GET_FOLDERS), "SQ.PARAM.SINGLE")


def test_sq_param_and_or() -> None:
    slots = find_documents(
        ("$XDSDocumentEntryClassCode", ["('10^^1.2.250.1.213.1.1.4.1')"]),
        ("$XDSDocumentEntryClassCode", ["('31^^1.2.250.1.213.1.1.4.1')"]),
    )
    hit = assert_fires(run(slots), "SQ.PARAM.ANDOR", f"{SLOT}[@name='$XDSDocumentEntryClassCode'][2]")
    assert hit.severity == "error"
    assert_silent(run(VALID_QUERIES["FindDocuments"]), "SQ.PARAM.ANDOR")  # eventCodeList twice: allowed


def test_sq_value_syntax() -> None:
    for bad in ("('a^^1.2.3'", "'a^^1.2.3','b^^1.2.3'", "('a^^1.2.3' 'b^^1.2.3')", "()"):
        hit = assert_fires(
            run(find_documents(("$XDSDocumentEntryClassCode", [bad]))),
            "SQ.VALUE.SYNTAX",
            f"{SLOT}[@name='$XDSDocumentEntryClassCode']/rim:ValueList/rim:Value[1]",
        )
        assert hit.severity == "error"
    empty_slot = find_documents(("$XDSDocumentEntryClassCode", []))
    assert_fires(run(empty_slot), "SQ.VALUE.SYNTAX", f"{SLOT}[@name='$XDSDocumentEntryClassCode']")


def test_sq_value_not_string() -> None:
    hit = assert_fires(
        run(find_documents(status=f"({APPROVED})")),
        "SQ.VALUE.NOTSTRING",
        f"{SLOT}[@name='$XDSDocumentEntryStatus']/rim:ValueList/rim:Value[1]",
    )
    assert f"'{APPROVED}'" in hit.message
    assert_fires(run([("$XDSDocumentEntryPatientId", [DMP_PID]), *find_documents()[1:]]), "SQ.VALUE.NOTSTRING")


def test_sq_value_not_list() -> None:
    hit = assert_fires(run(find_documents(status=f"'{APPROVED}'")), "SQ.VALUE.NOTLIST", "$XDSDocumentEntryStatus")
    assert hit.severity == "warning" and f"('{APPROVED}')" in hit.message
    assert_silent(run(find_documents()), "SQ.VALUE.NOTLIST")


def test_sq_value_time() -> None:
    quoted = find_documents(("$XDSDocumentEntryCreationTimeFrom", ["'20221015151515'"]))
    assert_fires(
        run(quoted),
        "SQ.VALUE.TIME",
        f"{SLOT}[@name='$XDSDocumentEntryCreationTimeFrom']/rim:ValueList/rim:Value[1]",
    )
    for bad in ("2022-10-15", "20221315", "202210151", "20221015T1515"):
        assert_fires(run(find_documents(("$XDSDocumentEntryServiceStopTimeTo", [bad]))), "SQ.VALUE.TIME")


def test_sq_time_range() -> None:
    slots = find_documents(
        ("$XDSDocumentEntryCreationTimeFrom", ["20250101"]),
        ("$XDSDocumentEntryCreationTimeTo", ["2024"]),
    )
    hit = assert_fires(run(slots), "SQ.TIME.RANGE", f"{SLOT}[@name='$XDSDocumentEntryCreationTimeTo']")
    assert hit.severity == "warning"
    equal = find_documents(
        ("$XDSDocumentEntryServiceStartTimeFrom", ["2024"]),
        ("$XDSDocumentEntryServiceStartTimeTo", ["20240101000000"]),
    )
    assert_fires(run(equal), "SQ.TIME.RANGE")
    fine = find_documents(
        ("$XDSDocumentEntryServiceStartTimeFrom", ["2024"]),
        ("$XDSDocumentEntryServiceStartTimeTo", ["20240101000001"]),
    )
    assert_silent(run(fine), "SQ.TIME.RANGE")


def test_sq_value_code() -> None:
    hit = assert_fires(
        run(find_documents(("$XDSDocumentEntryClassCode", ["('value^^')"]))),
        "SQ.VALUE.CODE",
        f"{SLOT}[@name='$XDSDocumentEntryClassCode']/rim:ValueList/rim:Value[1]",
    )
    assert "coding scheme" in hit.message
    assert_fires(run(find_documents(("$XDSDocumentEntryEventCodeList", ["('CT')"]))), "SQ.VALUE.CODE")


def test_sq_value_status() -> None:
    bad = find_documents(status="('urn:oasis:names:tc:ebxml-regrep:StatusType:Approve')")
    assert_fires(run(bad), "SQ.VALUE.STATUS", f"{SLOT}[@name='$XDSDocumentEntryStatus']/rim:ValueList/rim:Value[1]")
    archived = find_documents(status=f"('{APPROVED}','{ARCHIVED}')", pid=IHE_PID)
    assert_silent(run(archived, "cisis"), "SQ.VALUE.STATUS")
    assert_silent(run(archived, "dmp"), "SQ.VALUE.STATUS")
    hit = assert_fires(run(archived, "ihe"), "SQ.VALUE.STATUS")
    assert "CI-SIS" in hit.message


def test_sq_value_cx() -> None:
    hit = assert_fires(run(find_documents(), "ihe"), "SQ.VALUE.CX", f"{SLOT}[@name='$XDSDocumentEntryPatientId']")
    assert "CX.5" in hit.message
    assert_silent(run(find_documents(), "cisis"), "SQ.VALUE.CX")
    assert_fires(run(find_documents(pid="207058575627097")), "SQ.VALUE.CX")
    assert_fires(run(find_documents(pid=f"{DMP_PID}^^20100907"), "cisis"), "SQ.VALUE.CX")
    assert_silent(run(find_documents(pid=f"{DMP_PID}^^20100907"), "dmp"), "SQ.VALUE.CX")


def test_sq_value_cxi() -> None:
    slots = find_documents(("$XDSDocumentEntryReferenceIdList", ["('A1^^^&1.2.3&ISO')"]))
    hit = assert_fires(
        run(slots, query_id=sq.FIND_DOCUMENTS_BY_REFERENCE_ID),
        "SQ.VALUE.CXI",
        f"{SLOT}[@name='$XDSDocumentEntryReferenceIdList']/rim:ValueList/rim:Value[1]",
    )
    assert "CXi.5" in hit.message


def test_sq_value_uuid() -> None:
    slots = [("$uuid", ["('$uuid1$','urn:uuid:1234')"])]
    hit = assert_fires(run(slots, query_id=sq.GET_ASSOCIATIONS), "SQ.VALUE.UUID", f"{SLOT}[@name='$uuid']")
    assert "$uuid1$" in hit.message
    assert_fires(run([("$XDSDocumentEntryLogicalID", ["('1.2.3')"])], query_id=sq.GET_DOCUMENTS), "SQ.VALUE.UUID")


def test_sq_value_object_type() -> None:
    slots = find_documents(("$XDSDocumentEntryType", ["('urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd')"]))
    assert_fires(run(slots), "SQ.VALUE.OBJECTTYPE", "$XDSDocumentEntryType")


def test_sq_value_association_type() -> None:
    slots = [("$XDSDocumentEntryEntryUUID", [f"'{UUID1}'"]), ("$AssociationTypes", ["('RPLC')"])]
    assert_fires(run(slots, query_id=sq.GET_RELATED_DOCUMENTS), "SQ.VALUE.ASSOCIATIONTYPE", "$AssociationTypes")


def test_sq_value_metadata_level() -> None:
    slots = [("$XDSDocumentEntryUniqueId", ["('1.2.3')"]), ("$MetadataLevel", ["3"])]
    assert_fires(run(slots, query_id=sq.GET_DOCUMENTS), "SQ.VALUE.METADATALEVEL", "$MetadataLevel")


def test_sq_eventcode_imaging() -> None:
    location = f"{SLOT}[@name='$XDSDocumentEntryEventCodeList']/rim:ValueList/rim:Value[1]"
    for bad in (
        f"('ct^^{MODALITY}')",
        "('CT^^DCM')",
        "('Scanner X^^1.2.840.10008.2.16.4')",
        f"('thorax^^{REGION}')",
    ):
        slots = find_documents(("$XDSDocumentEntryEventCodeList", [bad]))
        assert_fires(run(slots), "SQ.EVENTCODE.IMAGING", location)
        assert_fires(run(slots, "dmp"), "SQ.EVENTCODE.IMAGING")
        assert_silent(run(slots, "ihe"), "SQ.EVENTCODE.IMAGING")
    good = find_documents(
        (
            "$XDSDocumentEntryEventCodeList",
            [f"('CT^^{MODALITY}','MR^^1.2.840.10008.2.16.4','OPTBSV^^{MODALITY}')"],
        ),
        ("$XDSDocumentEntryEventCodeList", [f"('737561001^^{REGION}')"]),
        ("$XDSDocumentEntryEventCodeList", ["('ZZQK002^^1.2.250.1.213.2.5')"]),
    )
    assert run(good) == []


def test_query_inside_an_envelope() -> None:
    env = etree.fromstring(
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        + etree.tostring(query_xml(sq.FIND_DOCUMENTS, find_documents(pid="x")))
        + b"</s:Body></s:Envelope>"
    )
    hit = assert_fires(check_query(env), "SQ.VALUE.CX")
    assert hit.location.startswith("/soap:Envelope/soap:Body/query:AdhocQueryRequest/")
    assert check_query(etree.fromstring(b"<other/>")) == []
    assert read_stored_query(etree.fromstring(b"<other/>")) is None


# ------------------------------------------------------------------------------------------------ corpus

MESSAGES = "xds/messages"
QUERY_FILES = [
    "dmp-ans/TD3.1_ITI-18_FindDocuments_request.xml",
    "dmp-ans-kit/kit_ITI-18_FindDocuments_template.xml",
    "ipf/NEG_ITI-18_sql-injection-in-patientId.xml",
    "nist-imaging/IDC_ITI-18_FindDocuments_KOS.xml",
    "nist/ITI-18_FindDocumentsByReferenceId.xml",
    "nist/ITI-18_FindDocuments_eventCodeList_AND.xml",
    "nist/ITI-18_FindDocuments_eventCodeList_multi.xml",
    "nist/ITI-18_FindDocuments_request_body.xml",
    "nist/ITI-18_FindDocuments_request_soap.xml",
    "nist/ITI-18_FindFolders.xml",
    "nist/ITI-18_FindSubmissionSets_authorPerson-wildcard.xml",
    "nist/ITI-18_GetAll.xml",
    "nist/ITI-18_GetAssociations.xml",
    "nist/ITI-18_GetDocuments.xml",
    "nist/ITI-18_GetDocumentsAndAssociations.xml",
    "nist/ITI-18_GetFolderAndContents.xml",
    "nist/ITI-18_GetFolders.xml",
    "nist/ITI-18_GetFoldersForDocument.xml",
    "nist/ITI-18_GetRelatedDocuments.xml",
    "nist/ITI-18_GetSubmissionSetAndContents.xml",
    "nist/ITI-18_GetSubmissionSets.xml",
    "nist/NEG_ITI-18_bad-code-format.xml",
    "nist/NEG_ITI-18_bad-patientId-format.xml",
    "nist/NEG_ITI-18_bad-status-format1.xml",
    "nist/NEG_ITI-18_bad-status-format2.xml",
    "nist/NEG_ITI-18_missing-status.xml",
]
#: corpus queries with no placeholder and no defect: no error in profile cisis
CLEAN = {
    "dmp-ans/TD3.1_ITI-18_FindDocuments_request.xml",
    "dmp-ans-kit/kit_ITI-18_FindDocuments_template.xml",
    "nist-imaging/IDC_ITI-18_FindDocuments_KOS.xml",
    "nist/ITI-18_FindDocuments_request_body.xml",
    "nist/ITI-18_FindDocuments_request_soap.xml",
    "nist/ITI-18_GetFolderAndContents.xml",
    "nist/ITI-18_GetRelatedDocuments.xml",
}
#: NIST testkit templates whose $placeholder$ stands where a CX or a UUID is due
TEMPLATES_WITH_BAD_IDS = {
    "nist/ITI-18_FindDocumentsByReferenceId.xml",
    "nist/ITI-18_FindDocuments_eventCodeList_AND.xml",
    "nist/ITI-18_FindDocuments_eventCodeList_multi.xml",
    "nist/ITI-18_FindFolders.xml",
    "nist/ITI-18_FindSubmissionSets_authorPerson-wildcard.xml",
    "nist/ITI-18_GetAll.xml",
    "nist/ITI-18_GetAssociations.xml",
    "nist/ITI-18_GetFolders.xml",
    "nist/ITI-18_GetSubmissionSets.xml",
}
PID = f"{SLOT}[@name='$XDSDocumentEntryPatientId']/rim:ValueList/rim:Value[1]"
STATUS = f"{SLOT}[@name='$XDSDocumentEntryStatus']/rim:ValueList/rim:Value[1]"
#: expected verdicts of the negative corpus queries: (rule, location ending)
NEGATIVES: dict[str, list[tuple[str, str]]] = {
    "nist/NEG_ITI-18_bad-code-format.xml": [
        ("SQ.VALUE.CODE", f"{SLOT}[@name='$XDSDocumentEntryClassCode']/rim:ValueList/rim:Value[1]")
    ],
    "nist/NEG_ITI-18_bad-patientId-format.xml": [("SQ.VALUE.NOTSTRING", PID)],
    "nist/NEG_ITI-18_bad-status-format1.xml": [("SQ.VALUE.NOTSTRING", STATUS)],
    "nist/NEG_ITI-18_bad-status-format2.xml": [("SQ.VALUE.NOTSTRING", STATUS)],
    "nist/NEG_ITI-18_missing-status.xml": [("SQ.PARAM.MISSING", "/query:AdhocQueryRequest/rim:AdhocQuery")],
    "ipf/NEG_ITI-18_sql-injection-in-patientId.xml": [
        ("SQ.VALUE.CX", PID),
        ("SQ.VALUE.SYNTAX", PID),
        ("SQ.VALUE.TIME", f"{SLOT}[@name='$XDSDocumentEntryCreationTimeFrom']/rim:ValueList/rim:Value[1]"),
    ],
}


def _load(corpus: Path, name: str) -> etree._Element:
    return etree.parse(str(corpus / MESSAGES / name)).getroot()


@pytest.mark.corpus
@pytest.mark.parametrize("name", QUERY_FILES)
@pytest.mark.parametrize("profile", ["cisis", "dmp", "ihe"])
def test_corpus_queries(corpus: Path, name: str, profile: str) -> None:
    path = corpus / MESSAGES / name
    if not path.exists():
        pytest.skip(f"{name} is not in this corpus")
    root = _load(corpus, name)
    findings = check_query(root, profile)
    for f in findings:
        assert f.rule in RULES and f.location.startswith("/") and f.reference and f.message
    if name in CLEAN and not (profile == "ihe" and name.startswith("dmp")):
        assert not has_errors(findings), [(f.rule, f.message) for f in findings]
        stored = read_stored_query(root)
        assert stored is not None and stored.name is not None
    elif name in NEGATIVES or name in TEMPLATES_WITH_BAD_IDS:
        assert has_errors(findings)
    # the other templates carry $placeholders$ in free strings (uniqueIds): nothing to say, but no crash


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_corpus_negative_verdicts(corpus: Path, name: str) -> None:
    root = _load(corpus, name)
    for profile in ("cisis", "dmp", "ihe"):
        findings = check_query(root, profile)
        for rule_id, location in NEGATIVES[name]:
            hit = assert_fires(findings, rule_id, location)
            assert hit.location.endswith(location) and hit.severity == "error"


@pytest.mark.corpus
def test_corpus_official_dmp_query(corpus: Path) -> None:
    """The official DMP FindDocuments (INS with ^NH) passes cisis/dmp and is refused by the strict profile."""
    root = _load(corpus, "dmp-ans/TD3.1_ITI-18_FindDocuments_request.xml")
    assert check_query(root, "cisis") == [] and check_query(root, "dmp") == []
    assert_fires(check_query(root, "ihe"), "SQ.VALUE.CX", PID)
    stored = read_stored_query(root)
    assert stored is not None
    assert stored.value("$XDSDocumentEntryPatientId") == DMP_PID
    assert stored.values("$XDSDocumentEntryStatus") == [APPROVED]


@pytest.mark.corpus
def test_corpus_and_or_query(corpus: Path) -> None:
    stored = read_stored_query(_load(corpus, "nist/ITI-18_FindDocuments_eventCodeList_AND.xml"))
    assert stored is not None and stored.return_type == "ObjectRef"
    assert len(stored.and_or("$XDSDocumentEntryEventCodeList")) == 2
    assert_silent(check_query(_load(corpus, "nist/ITI-18_FindDocuments_eventCodeList_AND.xml")), "SQ.PARAM.ANDOR")
