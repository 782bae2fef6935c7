"""Data-type formats (xdsi.model.formats) and the technical metadata-format rules (MD.*)."""

from __future__ import annotations

import random
import re
import string
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from tests.rulecheck import assert_fires, assert_silent
from xdsi.model import formats as fmt
from xdsi.validation.findings import CATALOGUE, Finding, has_errors
from xdsi.validation.technical import RULES, check_document_unique_id, check_metadata_formats, element_xpath

DMP_PID = "207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH"
DMP_PID_DATED = "207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH^^20100907"
IHE_PID = "c4d77e21d0dd487^^^&1.3.6.1.4.1.21367.2005.3.7&ISO"

# ------------------------------------------------------------------------------------------------ DTM


@pytest.mark.parametrize("value", ["2024", "202402", "20240229", "2024022913", "202402291359", "20240229135959"])
def test_dtm_valid(value: str) -> None:
    assert fmt.check_dtm(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "20",
        "20240",
        "2024-01-01",
        "20240101T1200",
        "20240101120000+0100",
        "20240101120000.123",
        "202413",
        "20230229",
        "20240431",
        "2024010124",
        "202401012360",
        "20240101235960",
        "0000",
        " 2024",
    ],
)
def test_dtm_invalid(value: str) -> None:
    assert fmt.check_dtm(value)


def test_dtm_sort_key_pads_both_ways() -> None:
    assert fmt.dtm_sort_key("2024") == "20240101000000"
    assert fmt.dtm_sort_key("202402", upper=True) == "20240231235959"
    assert fmt.dtm_sort_key("20240229135959") == "20240229135959"
    assert fmt.dtm_sort_key("2024") < fmt.dtm_sort_key("2024", upper=True)


# ------------------------------------------------------------------------------------------------ OID, UUID


@pytest.mark.parametrize(
    "value",
    ["1.2.250.1.213.1.4.10", "2.16.840.1.113883.6.1", "0.0", "1.999888777.1.24", "1.2." + "3." * 29 + "4"],
)
def test_oid_valid(value: str) -> None:
    assert len(value) <= 64 and fmt.check_oid(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1",
        "3.4.5",
        "1.2.03",
        "1..2",
        "1.2.",
        ".1.2",
        "1.2.a",
        "urn:oid:1.2.3",
        "1.2 .3",
        "1." + "2." * 40 + "3",
    ],
)
def test_oid_invalid(value: str) -> None:
    assert fmt.check_oid(value)


def test_uuid_urn() -> None:
    assert fmt.check_uuid_urn("urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d") is None
    assert fmt.check_uuid_urn("URN:UUID:14D4DEBF-8F97-4251-9A74-A90016B0AF0D") is None
    for bad in (
        "",
        "14d4debf-8f97-4251-9a74-a90016b0af0d",
        "urn:uuid:14d4debf",
        "urn:uuid:$uuid1$",
        "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0g",
        "urn:oid:1.2.3",
    ):
        assert fmt.check_uuid_urn(bad), bad


# ------------------------------------------------------------------------------------------------ scalars


@pytest.mark.parametrize("value", ["fr-FR", "fr", "en-us", "art", "zh-Hant-TW", "x-private", "de-CH-1901"])
def test_language_valid(value: str) -> None:
    assert fmt.check_language(value) is None


@pytest.mark.parametrize("value", ["", "fr_FR", "f", "français", "fr-", "-FR", "fr FR", "fr-FRANCEFRANCE"])
def test_language_invalid(value: str) -> None:
    assert fmt.check_language(value)


def test_hash() -> None:
    assert fmt.check_hash("af326fb44feb720121d2c277ce10f87407818089") is None
    assert fmt.check_hash("AF326FB44FEB720121D2C277CE10F87407818089") is None
    assert (
        fmt.check_hash("af326fb44feb720121d2c277ce10f8740781808") == "39 characters, not 40 hexadecimal digits (SHA-1)"
    )
    for bad in ("", "zz326fb44feb720121d2c277ce10f87407818089", "af326fb44feb720121d2c277ce10f87407818089 "):
        assert fmt.check_hash(bad)


def test_int() -> None:
    assert fmt.check_int("0") is None and fmt.check_int("2768") is None
    for bad in ("", "-1", "1.5", "1e3", " 12", "+3", "douze"):
        assert fmt.check_int(bad), bad
    assert fmt.check_int("-1", allow_negative=True) is None


# ------------------------------------------------------------------------------------------------ CX


def test_official_dmp_patient_id_per_profile() -> None:
    """The official DMP patient id (INS, ^NH) is accepted in cisis/dmp and refused in ihe."""
    assert fmt.check_cx(DMP_PID, "cisis") is None
    assert fmt.check_cx(DMP_PID, "dmp") is None
    assert "CX.5" in (fmt.check_cx(DMP_PID, "ihe") or "")
    # the ANS examples' dated form (CX.7): DMP profile only
    assert fmt.check_cx(DMP_PID_DATED, "dmp") is None
    assert fmt.check_cx(DMP_PID_DATED, "cisis")
    assert fmt.check_cx(DMP_PID_DATED, "ihe")


@pytest.mark.parametrize("profile", ["cisis", "dmp", "ihe"])
def test_cx_plain_ihe_form_valid_everywhere(profile: str) -> None:
    assert fmt.check_cx(IHE_PID, profile) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "c4d77e21d0dd487",
        "^^^&1.2.3&ISO",
        "abc^^^1.2.3",
        "abc^^^&1.2.3",
        "abc^^^&1.2.3&DNS",
        "abc^^^NS&1.2.3&ISO",
        "abc^^^&3.4.5&ISO",
        "abc^x^^&1.2.3&ISO",
        "abc^^x^&1.2.3&ISO",
        "abc^^^&1.2.3&ISO^^x",
        "abc^^^&1.2.3&ISO^^^^x",
        "abc^^^&1.2.3&ISO\n",
        "$patient_id$",
        "593603^^^&2.16.756.5.33.2.5.1.5.1&ISO'%20and%20611%3d611--%20",
    ],
)
@pytest.mark.parametrize("profile", ["cisis", "dmp", "ihe"])
def test_cx_invalid_everywhere(value: str, profile: str) -> None:
    assert fmt.check_cx(value, profile)


def test_cx_type_codes() -> None:
    assert fmt.check_cx("1^^^&1.2.3&ISO^PI", "cisis")  # a patient id is the INS: NH only
    assert fmt.check_cx("1^^^&1.2.3&ISO^PI", "cisis", source=True) is None  # sourcePatientId: the IPP
    assert fmt.check_cx("1^^^&1.2.3&ISO^PI", "ihe", source=True)
    assert fmt.check_cx("1^^^&1.2.3&ISO^NH^^2010", "dmp") is None
    assert fmt.check_cx("1^^^&1.2.3&ISO^NH^^20101399", "dmp")  # CX.7 must be a date
    assert fmt.check_cx("1^^^&1.2.3&ISO^INS-C^^20100907", "dmp")  # obsolete INS-C


def test_cx_escapes() -> None:
    value = r"12\S\34\T\5^^^&1.2.3&ISO"
    assert fmt.check_cx(value, "ihe") is None
    assert fmt.parse_cx(value) == ("12^34&5", "1.2.3", None)
    assert fmt.unescape(r"a\F\b\R\c\E\d\X41\e") == "a|b~c\\d\\X41\\e"


def test_parse_cx() -> None:
    assert fmt.parse_cx(DMP_PID) == ("207058575627097", "1.2.250.1.213.1.4.10", "NH")
    assert fmt.parse_cx(IHE_PID) == ("c4d77e21d0dd487", "1.3.6.1.4.1.21367.2005.3.7", None)
    assert fmt.parse_cx("junk") == ("junk", "", None)
    assert fmt.parse_cx("") == ("", "", None)


# ------------------------------------------------------------------------------------------------ CXi


@pytest.mark.parametrize(
    "value",
    [
        "5347639127757044^^^&1.3.6.1.4.1.21367.13.202.2000&ISO^urn:ihe:iti:xds:2013:accession",
        "1.2.3.4.5^^^^urn:ihe:iti:xds:2016:studyInstanceUID",
        "1.2.3.4.5^^^&1.2.3.4.5.6&ISO^urn:ihe:iti:xds:2016:studyInstanceUID",
        "PO1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:order^&urn:oid:1.2.3&ISO",
    ],
)
def test_cxi_valid(value: str) -> None:
    assert fmt.check_cxi(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ACC1",
        "ACC1^^^&1.2.3&ISO",
        "^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession",
        "ACC1^^^&1.2.3&ISO^accession",
        "ACC1^^^1.2.3^urn:ihe:iti:xds:2013:accession",
        "ACC1^x^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession",
        "ACC1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession^^x",
    ],
)
def test_cxi_invalid(value: str) -> None:
    assert fmt.check_cxi(value)


def test_parse_cxi() -> None:
    assert fmt.parse_cxi("A1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession") == (
        "A1",
        "1.2.3",
        "urn:ihe:iti:xds:2013:accession",
    )
    assert fmt.parse_cxi("1.2.3^^^^urn:ihe:iti:xds:2016:studyInstanceUID") == (
        "1.2.3",
        None,
        "urn:ihe:iti:xds:2016:studyInstanceUID",
    )


# ------------------------------------------------------------------------------------------------ XCN / XON


@pytest.mark.parametrize(
    "value",
    [
        "899900063480^Kit^Editeur^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
        "00B2800585^OPTOLUNE0058^SEBASTIEN^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
        "^Dopplemeyer^Sherry^^^",
        "12345^Martin",
    ],
)
def test_xcn_valid(value: str) -> None:
    assert fmt.check_xcn(value) is None


@pytest.mark.parametrize(
    "value",
    ["", "Gerald Smitty", "12345", "^^Jean", "1^Nom^^^^^^^&1.2.3", "1^Nom^^^^^^^&3.4&ISO", "x" + "^" * 30],
)
def test_xcn_invalid(value: str) -> None:
    assert fmt.check_xcn(value)


def test_xon() -> None:
    cisis = "HOPITAL DES 3 VALLEES00771^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^10B0127189"
    assert fmt.check_xon(cisis) is None
    assert "XON.7" in (fmt.check_xon(cisis, "ihe") or "")
    assert fmt.check_xon("Cleveland Clinic", "ihe") is None
    assert fmt.check_xon("Some Hospital^^^^^^^^^1.2.3.4.5.6.7", "ihe") is None  # id is an OID: no authority needed
    for bad in ("", "^^^^^&1.2.3&ISO^IDNST^^^123", "Nom^^^^^^IDNST^^^123", "Nom^^^^^&1.2.3&ISO", "Nom^x"):
        assert fmt.check_xon(bad), bad


# ------------------------------------------------------------------------------------------------ robustness


def test_format_functions_never_raise() -> None:
    rng = random.Random(1234)
    alphabet = string.printable + "^&\\'éñ"
    checks = [
        fmt.check_dtm,
        fmt.check_oid,
        fmt.check_uuid_urn,
        fmt.check_language,
        fmt.check_hash,
        fmt.check_int,
        fmt.check_cxi,
        fmt.check_xcn,
        fmt.check_xon,
        lambda v: fmt.check_cx(v, "cisis"),
        lambda v: fmt.check_cx(v, "dmp", source=True),
        lambda v: fmt.check_cx(v, "ihe"),
    ]
    samples = [r"\S\\T\^^^&&&", "\\", "^" * 50, "&" * 10, "\x00", "é" * 100]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(400)]
    for value in samples:
        for check in checks:
            result = check(value)
            assert result is None or isinstance(result, str)
        fmt.parse_cx(value)
        fmt.parse_cxi(value)


# ================================================================================================ MD rules

NS_DECL = (
    'xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" '
    'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" '
    'xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"'
)
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
STABLE = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
DE_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
SS_AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
CLASS_CODE = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
DE_PID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
DE_UID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
SS_PID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
SS_UID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
SS_SRC = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
FD_PID = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a"
FD_UID = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a"
ACC = "urn:ihe:iti:xds:2013:accession"
STUDY = "urn:ihe:iti:xds:2016:studyInstanceUID"
ORDER = "urn:ihe:iti:xds:2013:order"

REFIDS = [
    f"A2024-1^^^&1.2.250.1.999.1.2.3&ISO^{ACC}",
    f"1.2.250.1.999.1.5.20240105.1^^^^{STUDY}",
    f"PO-77^^^&1.2.250.1.999.1.2.4&ISO^{ORDER}",
]
VALID: dict[str, object] = {
    "de_id": "DocumentKOS",
    "mime": "application/dicom",
    "creationTime": "20240105083512",
    "serviceStartTime": "202401050815",
    "serviceStopTime": "20240105",
    "languageCode": "fr-FR",
    "hash": "af326fb44feb720121d2c277ce10f87407818089",
    "size": "2768",
    "repositoryUniqueId": "1.2.250.1.213.4.1.1.1.2",
    "legalAuthenticator": "899900063480^MAX^LIBRE^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
    "sourcePatientId": "0456789999^^^&1.2.250.1.999.1.1.7898.2&ISO^PI",
    "refids": REFIDS,
    "authorPerson": "899900063480^MAX^LIBRE^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
    "authorInstitution": "CABINET DR LIBRE^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^499900063480001",
    "codingScheme": "1.2.250.1.213.1.1.4.1",
    "patientId": DMP_PID,
    "uniqueId": "1.2.250.1.999.1.5.20240105.1.99",
    "submissionTime": "20240105090000",
    "ss_uniqueId": "1.2.250.1.999.1.1.7898.1.1622814651504",
    "sourceId": "1.2.250.1.999.1.1.7898",
    "lastUpdateTime": "20240105090000",
    "folder_uniqueId": "1.2.250.1.999.1.1.7898.9.1",
    "assoc_id": ' id="as01"',
}
#: what changes to make the base message strictly IHE-valid
IHE_OVERRIDES: dict[str, object] = {
    "patientId": IHE_PID,
    "sourcePatientId": "0456789999^^^&1.2.250.1.999.1.1.7898.2&ISO",
    "authorInstitution": "CABINET DR LIBRE^^^^^&1.2.250.1.71.4.2.2&ISO^^^^499900063480001",
}


def _slot(name: str, *values: str) -> str:
    vals = "".join(f"<rim:Value>{escape(v)}</rim:Value>" for v in values)
    return f'<rim:Slot name="{escape(name)}"><rim:ValueList>{vals}</rim:ValueList></rim:Slot>'


def _ei(scheme: str, obj: str, value: str, n: int) -> str:
    return (
        f'<rim:ExternalIdentifier id="ei{n}" identificationScheme="{scheme}" registryObject="{obj}" '
        f'value="{escape(value, {chr(34): "&quot;"})}"/>'
    )


def submission(profile: str = "cisis", root: str = "lcm:SubmitObjectsRequest", **over: object) -> etree._Element:
    return etree.fromstring(submission_xml(profile, root, **over).encode())


def submission_xml(profile: str = "cisis", root: str = "lcm:SubmitObjectsRequest", **over: object) -> str:
    """A small ITI-41/ITI-57-like SubmitObjectsRequest: one KOS DocumentEntry, a SubmissionSet, a Folder
    and an Association, valid in ``profile``; keyword arguments replace one value (None drops a slot)."""
    v: dict[str, object] = {**VALID, **(IHE_OVERRIDES if profile == "ihe" else {}), **over}
    de_id = str(v["de_id"])

    def slot(name: str) -> str:
        value = v.get(name)
        return "" if value is None else _slot(name, str(value))

    refids = list(v["refids"])  # type: ignore[call-overload]
    de = (
        f'<rim:ExtrinsicObject id="{de_id}" mimeType="{v["mime"]}" objectType="{STABLE}">'
        + "".join(
            slot(n)
            for n in (
                "creationTime",
                "serviceStartTime",
                "serviceStopTime",
                "languageCode",
                "hash",
                "size",
                "repositoryUniqueId",
                "legalAuthenticator",
                "sourcePatientId",
            )
        )
        + (_slot("urn:ihe:iti:xds:2013:referenceIdList", *refids) if refids else "")
        + f'<rim:Classification classificationScheme="{DE_AUTHOR}" classifiedObject="{de_id}" id="cl01" '
        'nodeRepresentation="">' + slot("authorPerson") + slot("authorInstitution") + "</rim:Classification>"
        f'<rim:Classification classificationScheme="{CLASS_CODE}" classifiedObject="{de_id}" id="cl02" '
        'nodeRepresentation="31">'
        + slot("codingScheme")
        + '<rim:Name><rim:LocalizedString value="Imagerie médicale"/></rim:Name></rim:Classification>'
        + _ei(DE_PID, de_id, str(v["patientId"]), 1)
        + _ei(DE_UID, de_id, str(v["uniqueId"]), 2)
        + "</rim:ExtrinsicObject>"
    )
    ss = (
        '<rim:RegistryPackage id="SubmissionSet01">'
        + slot("submissionTime")
        + f'<rim:Classification classificationScheme="{SS_AUTHOR}" classifiedObject="SubmissionSet01" '
        'id="cl03" nodeRepresentation="">'
        + slot("authorPerson")
        + "</rim:Classification>"
        + _ei(SS_UID, "SubmissionSet01", str(v["ss_uniqueId"]), 3)
        + _ei(SS_SRC, "SubmissionSet01", str(v["sourceId"]), 4)
        + _ei(SS_PID, "SubmissionSet01", str(v["patientId"]), 5)
        + "</rim:RegistryPackage>"
    )
    folder = (
        '<rim:RegistryPackage id="Folder01">'
        + slot("lastUpdateTime")
        + _ei(FD_PID, "Folder01", str(v["patientId"]), 6)
        + _ei(FD_UID, "Folder01", str(v["folder_uniqueId"]), 7)
        + "</rim:RegistryPackage>"
    )
    assoc = (
        f'<rim:Association{v["assoc_id"]} associationType="{HAS_MEMBER}"'
        f' sourceObject="SubmissionSet01" targetObject="{de_id}">'
        + _slot("SubmissionSetStatus", "Original")
        + "</rim:Association>"
    )
    return f"<{root} {NS_DECL}><rim:RegistryObjectList>{de}{ss}{folder}{assoc}</rim:RegistryObjectList></{root}>"


def run(profile: str = "cisis", kind: str = "flux1", **over: object) -> list[Finding]:
    return check_metadata_formats(submission(profile, "lcm:SubmitObjectsRequest", **over), kind, profile)


DE = "/lcm:SubmitObjectsRequest/rim:RegistryObjectList/rim:ExtrinsicObject[1]"


@pytest.mark.parametrize("profile", ["cisis", "dmp", "ihe"])
def test_valid_submission_is_silent(profile: str) -> None:
    findings = run(profile)
    assert findings == []
    for rule_id in RULES:
        assert_silent(findings, rule_id)


def test_registry_response_with_uuids_is_silent() -> None:
    xml = submission_xml(
        "cisis", root="query:AdhocQueryResponse", de_id="urn:uuid:7953af1a-ba1c-11eb-816f-0050569e422e"
    )
    xml = xml.replace("SubmissionSet01", "urn:uuid:51224314-5390-4169-9b91-b1980040715a")
    xml = xml.replace("Folder01", "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4")
    xml = xml.replace('id="as01"', 'id="urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"')
    assert check_metadata_formats(etree.fromstring(xml.encode()), "flux6", "cisis") == []


def test_md_dtm() -> None:
    for bad in ("2024-01-05", "20240230", "2024010508351"):
        hit = assert_fires(run(creationTime=bad), "MD.DTM", f"{DE}/rim:Slot[@name='creationTime']")
        assert hit.location.endswith("/rim:ValueList/rim:Value[1]") and hit.severity == "error"
    assert_fires(run(submissionTime="2024010590"), "MD.DTM", "rim:RegistryPackage[1]/rim:Slot[@name='submissionTime']")
    assert_fires(run(lastUpdateTime="yesterday"), "MD.DTM", "rim:RegistryPackage[2]")
    assert_fires(run(serviceStopTime="20241"), "MD.DTM", "serviceStopTime")


def test_md_patient_id_profiles() -> None:
    hit = assert_fires(run("ihe", patientId=DMP_PID), "MD.PATIENTID.CX", f"{DE}/rim:ExternalIdentifier[1]/@value")
    assert "CX.5" in hit.message
    assert_silent(run("cisis", patientId=DMP_PID), "MD.PATIENTID.CX")
    assert_silent(run("dmp", patientId=DMP_PID_DATED), "MD.PATIENTID.CX")
    assert_fires(run("cisis", patientId=DMP_PID_DATED), "MD.PATIENTID.CX", "rim:RegistryPackage[1]")
    assert_fires(run("dmp", patientId="207058575627097"), "MD.PATIENTID.CX", "rim:RegistryPackage[2]")


def test_md_source_patient_id() -> None:
    assert_fires(run("cisis", sourcePatientId="0456789999"), "MD.SOURCEPATIENTID.CX", "sourcePatientId")
    assert_fires(run("ihe", sourcePatientId=VALID["sourcePatientId"]), "MD.SOURCEPATIENTID.CX")
    assert_silent(run("dmp", sourcePatientId=DMP_PID_DATED), "MD.SOURCEPATIENTID.CX")


def test_md_document_unique_id() -> None:
    assert_fires(run(uniqueId="1.2.03"), "MD.UNIQUEID.DOC", f"{DE}/rim:ExternalIdentifier[2]/@value")
    assert_fires(run(uniqueId="1.2.3^" + "x" * 130), "MD.UNIQUEID.DOC")
    assert_fires(run(uniqueId="1.2.3^"), "MD.UNIQUEID.DOC")
    assert_silent(run("cisis", uniqueId="1.2.3^ext1"), "MD.UNIQUEID.DOC")
    assert check_document_unique_id("1.2.3^a b") and check_document_unique_id("1.2.3^a^b")


def test_md_document_unique_id_dmp() -> None:
    assert_fires(run("dmp", uniqueId="1.2.3^ext1"), "MD.UNIQUEID.DOC.DMP", f"{DE}/rim:ExternalIdentifier[2]")
    assert_silent(run("cisis", uniqueId="1.2.3^ext1"), "MD.UNIQUEID.DOC.DMP")
    assert_silent(run("dmp"), "MD.UNIQUEID.DOC.DMP")


def test_md_oid_ids() -> None:
    assert_fires(run(sourceId="3670984664"), "MD.UNIQUEID.OID", "rim:RegistryPackage[1]/rim:ExternalIdentifier[2]")
    assert_fires(run(ss_uniqueId="SubmissionSet01"), "MD.UNIQUEID.OID", "rim:RegistryPackage[1]")
    assert_fires(run(folder_uniqueId="1.2.3.04"), "MD.UNIQUEID.OID", "rim:RegistryPackage[2]")


def test_md_xcn() -> None:
    assert_fires(run(legalAuthenticator="12345"), "MD.XCN", f"{DE}/rim:Slot[@name='legalAuthenticator']")
    hit = assert_fires(run(authorPerson="^^Jean"), "MD.XCN", "rim:Classification[1]/rim:Slot[@name='authorPerson']")
    assert "family name" in hit.message
    assert_fires(run(authorPerson="1^N^P^^^^^^&1.2.250&DNS"), "MD.XCN", "rim:RegistryPackage[1]/rim:Classification[1]")


def test_md_xon() -> None:
    assert_fires(run(authorInstitution="^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1"), "MD.XON", "authorInstitution")
    assert_fires(run("ihe", authorInstitution=VALID["authorInstitution"]), "MD.XON", "authorInstitution")
    assert_silent(run("dmp"), "MD.XON")


def test_md_language_hash_size_repository() -> None:
    assert_fires(run(languageCode="fr_FR"), "MD.LANGUAGE", "languageCode")
    assert_fires(run(hash="af326fb4"), "MD.HASH", f"{DE}/rim:Slot[@name='hash']/rim:ValueList/rim:Value[1]")
    assert_fires(run(size="2 768"), "MD.SIZE", "size")
    assert_fires(run(repositoryUniqueId="repository-1"), "MD.REPOSITORYUNIQUEID", "repositoryUniqueId")


def test_md_coding_scheme() -> None:
    hit = assert_fires(run(codingScheme="Connect-a-thon classCodes"), "MD.CODINGSCHEME", "rim:Classification[2]")
    assert hit.severity == "warning"
    assert run("ihe", codingScheme="Connect-a-thon classCodes")[0].severity == "info"
    for symbolic in ("URN", "ASTM", "DCM"):
        assert_silent(run(codingScheme=symbolic), "MD.CODINGSCHEME")


REFLIST = f"{DE}/rim:Slot[@name='urn:ihe:iti:xds:2013:referenceIdList']"


def test_md_refid_cxi() -> None:
    refids = [*REFIDS, "A2024-1^^^&1.2.250.1.999.1.2.3&ISO"]
    hit = assert_fires(run(refids=refids), "MD.REFID.CXI", f"{REFLIST}/rim:ValueList/rim:Value[4]")
    assert "CXi.5" in hit.message


def test_md_refid_type() -> None:
    referral = "R1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:referral"
    refids = [*REFIDS, referral]
    assert_fires(run("dmp", refids=refids), "MD.REFID.TYPE", f"{REFLIST}/rim:ValueList/rim:Value[4]")
    assert_silent(run("cisis", refids=refids), "MD.REFID.TYPE")
    other = [*REFIDS, "X^^^&1.2.3&ISO^urn:example:other"]
    assert assert_fires(run("cisis", refids=other), "MD.REFID.TYPE").severity == "error"
    assert assert_fires(run("ihe", refids=other), "MD.REFID.TYPE").severity == "warning"


def test_md_refid_accession_authority() -> None:
    refids = [f"A2024-1^^^^{ACC}", f"1.2.3.4^^^^{STUDY}"]
    hit = assert_fires(run(refids=refids), "MD.REFID.ACCESSION.AA", f"{REFLIST}/rim:ValueList/rim:Value[1]")
    assert hit.severity == "warning"


def test_md_refid_study_uid() -> None:
    bad = [f"A1^^^&1.2.3&ISO^{ACC}", f"1.2.840.10008.x^^^^{STUDY}"]
    assert_fires(run(refids=bad), "MD.REFID.STUDYUID.FORMAT", f"{REFLIST}/rim:ValueList/rim:Value[2]")
    long_uid = "1.2." + "3" * 70
    assert_fires(run(refids=[f"{long_uid}^^^^{STUDY}"]), "MD.REFID.STUDYUID.FORMAT")


def test_md_entry_uuid() -> None:
    hit = assert_fires(run(kind="flux6"), "MD.ENTRYUUID", f"{DE}/@id")
    assert "urn:uuid" in hit.message
    assert_silent(run(kind="flux1"), "MD.ENTRYUUID")
    assert_silent(run(kind="flux3"), "MD.ENTRYUUID")
    assert_fires(run(de_id="urn:uuid:1234"), "MD.ENTRYUUID", f"{DE}/@id")
    assert_fires(run(de_id="Document 01"), "MD.ENTRYUUID", "@id")


def test_md_association_id() -> None:
    hit = assert_fires(run(assoc_id=""), "MD.ASSOCIATION.ID", "/rim:Association[1]")
    assert hit.severity == "error"
    assert_silent(run(), "MD.ASSOCIATION.ID")


def test_every_md_rule_is_registered_as_technical() -> None:
    for rule_id in RULES:
        rule = CATALOGUE[rule_id]
        assert rule.layer == "technical" and rule.reference and set(rule.kinds) <= {"flux1", "flux3", "flux6"}


def test_element_xpath_from_a_nested_body() -> None:
    env = etree.fromstring(
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        + etree.tostring(submission())
        + b"</s:Body></s:Envelope>"
    )
    body = env[0][0]
    value = body.find(".//{*}Slot[@name='hash']/{*}ValueList/{*}Value")
    assert value is not None
    assert element_xpath(value, body) == f"{DE}/rim:Slot[@name='hash']/rim:ValueList/rim:Value[1]"
    assert element_xpath(value).startswith("/soap:Envelope/soap:Body/lcm:SubmitObjectsRequest/")
    # the path is a real XPath
    ns = {
        "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
        "lcm": "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0",
    }
    assert etree.ElementTree(submission()).xpath(element_xpath(value, body), namespaces=ns)


# ------------------------------------------------------------------------------------------------ corpus


def _corpus_body(path: Path) -> etree._Element:
    data = path.read_bytes()
    if path.suffix == ".mime":
        m = re.search(rb"<(\w+:)?Envelope.*?</(\w+:)?Envelope>", data, re.S)
        assert m
        data = m.group(0)
    return etree.fromstring(data)


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name",
    [
        "dmp-ans/TD2.1_ITI-41_ProvideAndRegister_request.mime",
        "dmp-ans/TD3.1_ITI-18_FindDocuments_response.xml",
        "dmp-ans/TD3.3c_ITI-57_UpdateAvailabilityStatus_Archived-to-Deleted_request.xml",
        "dmp-ans/TD3.3d_ITI-57_UpdateAvailabilityStatus_Approved-to-Archived_request.xml",
        "dmp-ans-kit/kit_ITI-57_UpdateAvailabilityStatus_depublication.xml",
    ],
)
def test_corpus_official_dmp_metadata_is_clean_in_dmp(corpus: Path, name: str) -> None:
    root = _corpus_body(corpus / "xds/messages" / name)
    kind = "flux6" if "ITI-18" in name else "flux1"
    assert check_metadata_formats(root, kind, "dmp") == []
    # the same messages carry the dated INS (CX.7), which the strict profile refuses
    assert_fires(check_metadata_formats(root, kind, "ihe"), "MD.PATIENTID.CX")


@pytest.mark.corpus
def test_corpus_nist_kos_metadata(corpus: Path) -> None:
    root = _corpus_body(corpus / "xds/messages/nist-imaging/RAD-68_KOS_SubmitObjectsRequest_metadata.xml")
    for profile in ("cisis", "dmp", "ihe"):
        assert not has_errors(check_metadata_formats(root, "flux1", profile))


@pytest.mark.corpus
def test_corpus_every_message_runs(corpus: Path) -> None:
    for path in sorted((corpus / "xds/messages").glob("*/*")):
        if path.suffix not in (".xml", ".mime"):
            continue
        try:
            root = _corpus_body(path)
        except (etree.XMLSyntaxError, AssertionError):
            continue
        for profile in ("cisis", "dmp", "ihe"):
            for f in check_metadata_formats(root, "flux1", profile):
                assert f.rule in RULES and f.location.startswith("/") and f.reference


def test_inline_document_must_be_base64() -> None:
    from lxml import etree

    from xdsi.validation.technical import check_inline_documents

    body = etree.fromstring(
        '<RetrieveDocumentSetResponse xmlns="urn:ihe:iti:xds-b:2007"><DocumentResponse>'
        "<Document>SGVsbG8=</Document></DocumentResponse></RetrieveDocumentSetResponse>"
    )
    assert_silent(check_inline_documents(body), "XDSB.DOCUMENT.BASE64")
    body.find(".//{urn:ihe:iti:xds-b:2007}Document").text = "..."
    assert_fires(check_inline_documents(body), "XDSB.DOCUMENT.BASE64", "Document")
