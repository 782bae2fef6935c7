"""Tests of the XSD layer: each rule fires on a minimally broken message and stays silent on a
valid one; our schemas give the same verdicts as the official ones on the corpus and on mutations;
the ``xsd_dir`` option works with the official schema directories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from tests.mutations import MUTATIONS, mutants
from tests.rulecheck import assert_fires, assert_silent
from xdsi.validation import xsd
from xdsi.validation.findings import CATALOGUE, Finding

RIM = xsd.RIM
SOAP = xsd.SOAP12
WSA = xsd.WSA
NSDECL = (
    f'xmlns:rim="{RIM}" xmlns:rs="{xsd.RS}" xmlns:lcm="{xsd.LCM}" xmlns:query="{xsd.QUERY}" '
    f'xmlns:xdsb="{xsd.XDSB}" xmlns:xdsi="{xsd.XDSI}" xmlns:xop="{xsd.XOP}"'
)


def parse(text: str) -> etree._Element:
    return etree.fromstring(text.encode())


# ------------------------------------------------------------------------------- valid messages

EXTRINSIC = """
<rim:ExtrinsicObject id="Document01" mimeType="application/dicom" isOpaque="false"
    objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
  <rim:Slot name="creationTime">
    <rim:ValueList><rim:Value>20240102030405</rim:Value></rim:ValueList>
  </rim:Slot>
  <rim:Slot name="languageCode"><rim:ValueList><rim:Value>fr-FR</rim:Value></rim:ValueList></rim:Slot>
  <rim:Name><rim:LocalizedString xml:lang="fr-FR" value="Examen d'imagerie"/></rim:Name>
  <rim:VersionInfo versionName="1"/>
  <rim:Classification id="cl01" classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
      classifiedObject="Document01" nodeRepresentation="18748-4">
    <rim:Slot name="codingScheme">
      <rim:ValueList><rim:Value>2.16.840.1.113883.6.1</rim:Value></rim:ValueList>
    </rim:Slot>
  </rim:Classification>
  <rim:ExternalIdentifier id="ei01" registryObject="Document01" value="1.2.3.4.5"
      identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"/>
</rim:ExtrinsicObject>"""

SUBMIT = f"""<lcm:SubmitObjectsRequest {NSDECL}>
<rim:RegistryObjectList>{EXTRINSIC}
  <rim:RegistryPackage id="SubmissionSet01"/>
  <rim:Association id="as01" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
      sourceObject="SubmissionSet01" targetObject="Document01"/>
</rim:RegistryObjectList>
</lcm:SubmitObjectsRequest>"""

QUERY_REQUEST = f"""<query:AdhocQueryRequest {NSDECL} maxResults="10">
  <query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>
  <rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">
    <rim:Slot name="$XDSDocumentEntryPatientId">
      <rim:ValueList><rim:Value>'1^^^&amp;1.2.3&amp;ISO'</rim:Value></rim:ValueList>
    </rim:Slot>
  </rim:AdhocQuery>
</query:AdhocQueryRequest>"""

REGISTRY_RESPONSE = f"""<rs:RegistryResponse {NSDECL}
    status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure">
  <rs:RegistryErrorList highestSeverity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error">
    <rs:RegistryError codeContext="unknown patient" errorCode="XDSUnknownPatientId"
        severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"/>
  </rs:RegistryErrorList>
</rs:RegistryResponse>"""

RETRIEVE_RESPONSE = f"""<xdsb:RetrieveDocumentSetResponse {NSDECL}>
  <rs:RegistryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>
  <xdsb:DocumentResponse>
    <xdsb:RepositoryUniqueId>1.2.3</xdsb:RepositoryUniqueId>
    <xdsb:DocumentUniqueId>1.2.3.4</xdsb:DocumentUniqueId>
    <xdsb:NewDocumentUniqueId>1.2.3.5</xdsb:NewDocumentUniqueId>
    <xdsb:mimeType>application/dicom</xdsb:mimeType>
    <xdsb:Document><xop:Include href="cid:part1@example.org"/></xdsb:Document>
  </xdsb:DocumentResponse>
</xdsb:RetrieveDocumentSetResponse>"""

PNR = f"""<xdsb:ProvideAndRegisterDocumentSetRequest {NSDECL}>
{SUBMIT}
  <xdsb:Document id="Document01">SGVsbG8=</xdsb:Document>
  <xdsb:Document id="Document02"><xop:Include href="cid:doc2@example.org"/></xdsb:Document>
</xdsb:ProvideAndRegisterDocumentSetRequest>"""

RAD69 = f"""<xdsi:RetrieveImagingDocumentSetRequest {NSDECL}>
  <xdsi:StudyRequest studyInstanceUID="1.2.3">
    <xdsi:SeriesRequest seriesInstanceUID="1.2.3.4">
      <xdsb:DocumentRequest>
        <xdsb:RepositoryUniqueId>1.2.5</xdsb:RepositoryUniqueId>
        <xdsb:DocumentUniqueId>1.2.3.4.5</xdsb:DocumentUniqueId>
      </xdsb:DocumentRequest>
    </xdsi:SeriesRequest>
  </xdsi:StudyRequest>
  <xdsi:TransferSyntaxUIDList><xdsi:TransferSyntaxUID>1.2.840.10008.1.2.1</xdsi:TransferSyntaxUID></xdsi:TransferSyntaxUIDList>
</xdsi:RetrieveImagingDocumentSetRequest>"""


def envelope(headers: str = "", body: str = "") -> str:
    default_headers = """
    <wsa:Action soap:mustUnderstand="true">urn:ihe:iti:2007:RegistryStoredQuery</wsa:Action>
    <wsa:MessageID>urn:uuid:0b7e2c7a-4f37-4c2b-9a52-0f1c7c3a1e01</wsa:MessageID>
    <wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>
    <wsa:To soap:mustUnderstand="true">http://registry.example.org/xds</wsa:To>
    <wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
      <Role xmlns="urn:hl7-org:v3" xsi:type="CE" code="10"/>
    </wsse:Security>"""
    return (
        f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:wsa="{WSA}">'
        f"<soap:Header>{headers or default_headers}</soap:Header>"
        f"<soap:Body>{body or QUERY_REQUEST}</soap:Body></soap:Envelope>"
    )


FAULT = f"""<soap:Fault xmlns:soap="{SOAP}" xmlns:wsa="{WSA}">
  <soap:Code><soap:Value>soap:Sender</soap:Value>
    <soap:Subcode><soap:Value>wsa:ActionNotSupported</soap:Value></soap:Subcode></soap:Code>
  <soap:Reason><soap:Text xml:lang="en">unknown action</soap:Text></soap:Reason>
</soap:Fault>"""

VALID_BODIES = {
    "SubmitObjectsRequest": SUBMIT,
    "AdhocQueryRequest": QUERY_REQUEST,
    "RegistryResponse": REGISTRY_RESPONSE,
    "RetrieveDocumentSetResponse (xop)": RETRIEVE_RESPONSE,
    "ProvideAndRegister (inline + xop)": PNR,
    "RAD-69 request": RAD69,
    "SOAP Fault": FAULT,
}


@pytest.mark.parametrize("name", sorted(VALID_BODIES))
def test_valid_bodies_are_silent(name: str) -> None:
    assert_silent(xsd.validate_body(parse(VALID_BODIES[name])))


def test_valid_envelope_is_silent_and_foreign_header_blocks_are_lax() -> None:
    root = parse(envelope())
    assert_silent(xsd.validate_envelope(root))
    assert_silent(xsd.validate_message(root))


# ---------------------------------------------------------------------- one broken message per rule


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


BROKEN_BODIES: dict[str, tuple[str, str]] = {
    # rule id -> (broken message, location fragment)
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_4": (
        _replace(SUBMIT, 'classifiedObject="Document01" ', ""),
        "rim:Classification/@classifiedObject",
    ),
    "XSD.SCHEMAV_ELEMENT_CONTENT": (
        _replace(QUERY_REQUEST, '<query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>', ""),
        "/query:AdhocQueryRequest",
    ),
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_1": (
        _replace(SUBMIT, 'isOpaque="false"', 'isOpaque="false" foo="bar"'),
        "rim:ExtrinsicObject/@foo",
    ),
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_1": (
        _replace(
            QUERY_REQUEST,
            'returnComposedObjects="true"/>',
            'returnComposedObjects="true">x</query:ResponseOption>',
        ),
        "query:ResponseOption",
    ),
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_2": (
        _replace(
            REGISTRY_RESPONSE,
            'ErrorSeverityType:Error"/>',
            'ErrorSeverityType:Error"><rs:Detail/></rs:RegistryError>',
        ),
        "rs:RegistryError",
    ),
    "XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_3": (
        _replace(SUBMIT, "<rim:ValueList>", "<rim:ValueList>stray text"),
        "rim:Slot[1]/rim:ValueList",
    ),
    "XSD.SCHEMAV_CVC_TYPE_3_1_1": (
        _replace(SUBMIT, "<rim:Value>20240102030405", '<rim:Value lang="fr">20240102030405'),
        "rim:Value/@lang",
    ),
    "XSD.SCHEMAV_CVC_TYPE_3_1_2": (
        _replace(SUBMIT, "<rim:Value>20240102030405", "<rim:Value><rim:Value/>20240102030405"),
        "rim:ValueList/rim:Value",
    ),
    "XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_1": (
        _replace(SUBMIT, 'isOpaque="false"', 'isOpaque="maybe"'),
        "rim:ExtrinsicObject/@isOpaque",
    ),
    "XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_3": (
        _replace(SUBMIT, 'xml:lang="fr-FR"', 'xml:lang="not a language"'),
        "rim:LocalizedString/@xml:lang",
    ),
    "XSD.SCHEMAV_CVC_MAXLENGTH_VALID": (
        _replace(SUBMIT, "<rim:Value>fr-FR</rim:Value>", f"<rim:Value>{'x' * 257}</rim:Value>"),
        "rim:Slot[2]/rim:ValueList/rim:Value",
    ),
    "XSD.SCHEMAV_CVC_ENUMERATION_VALID": (
        _replace(QUERY_REQUEST, 'returnType="LeafClass"', 'returnType="Leaf"'),
        "query:ResponseOption/@returnType",
    ),
    "XSD.UNKNOWN_ROOT": (f'<rim:Foo xmlns:rim="{RIM}"/>', "/rim:Foo"),
    # an abstract element: libxml2 SCHEMAV_CVC_ELT_2, not declared on its own
    "XSD.OTHER": (f'<query:Filter xmlns:query="{xsd.QUERY}"/>', "/query:Filter"),
}


@pytest.mark.parametrize("rule_id", sorted(BROKEN_BODIES))
def test_rule_fires_on_broken_body(rule_id: str) -> None:
    broken, location = BROKEN_BODIES[rule_id]
    hit = assert_fires(xsd.validate_body(parse(broken)), rule_id, location)
    assert hit.severity == "error"
    assert "W3C XML Schema" in hit.reference or "schema set" in hit.reference


def test_finding_cites_schema_file_and_standard() -> None:
    broken, _ = BROKEN_BODIES["XSD.SCHEMAV_CVC_COMPLEX_TYPE_4"]
    hit = assert_fires(xsd.validate_body(parse(broken)), "XSD.SCHEMAV_CVC_COMPLEX_TYPE_4")
    assert "OASIS ebRIM 3.0 rim.xsd" in hit.reference
    assert "schemas/xsd/rim.xsd" in hit.reference
    assert "cvc-complex-type.4" in hit.reference


def test_other_keeps_the_libxml2_type() -> None:
    broken, _ = BROKEN_BODIES["XSD.OTHER"]
    hit = assert_fires(xsd.validate_body(parse(broken)), "XSD.OTHER")
    assert "SCHEMAV_CVC_ELT_2" in hit.message


def test_unknown_namespace_is_unknown_root() -> None:
    hit = assert_fires(xsd.validate_body(parse('<x:Foo xmlns:x="urn:other"/>')), "XSD.UNKNOWN_ROOT")
    assert "urn:other" in hit.message


def test_unknown_root_silent_on_valid() -> None:
    assert_silent(xsd.validate_body(parse(SUBMIT)), "XSD.UNKNOWN_ROOT")


def test_schema_error_on_broken_user_schema(tmp_path: Path) -> None:
    (tmp_path / "rim.xsd").write_text(
        f'<xs:schema xmlns:xs="{xsd.XS}" targetNamespace="{RIM}">'
        '<xs:element name="Slot" type="missing:Type" xmlns:missing="urn:missing"/></xs:schema>'
    )
    hit = assert_fires(xsd.validate_body(parse(f'<Slot xmlns="{RIM}"/>'), tmp_path), "XSD.SCHEMA_ERROR")
    assert "rim.xsd" in hit.message
    missing = assert_fires(xsd.validate_body(parse(SUBMIT), tmp_path / "absent"), "XSD.SCHEMA_ERROR")
    assert "not a directory" in missing.message
    assert_silent(xsd.validate_body(parse(SUBMIT)), "XSD.SCHEMA_ERROR")


# ----------------------------------------------------------------------------------- envelope


def test_envelope_mustunderstand_not_qualified_fires() -> None:
    headers = f'<Action xmlns="{WSA}" mustUnderstand="true">urn:ihe:iti:2007:RegistryStoredQuery</Action>'
    findings = xsd.validate_envelope(parse(envelope(headers)))
    assert_fires(
        findings,
        "XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_2",
        "/soap:Envelope/soap:Header/wsa:Action/@mustUnderstand",
    )
    assert_silent(xsd.validate_envelope(parse(envelope())), "XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_2")


def test_envelope_bad_mustunderstand_value_fires() -> None:
    headers = '<wsa:Action soap:mustUnderstand="yes">urn:ihe:iti:2007:RegistryStoredQuery</wsa:Action>'
    findings = xsd.validate_envelope(parse(envelope(headers)))
    assert_fires(findings, "XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_1", "wsa:Action/@soap:mustUnderstand")


def test_envelope_reply_to_without_address_fires() -> None:
    headers = "<wsa:ReplyTo><wsa:Metadata/></wsa:ReplyTo>"
    assert_fires(xsd.validate_envelope(parse(envelope(headers))), "XSD.SCHEMAV_ELEMENT_CONTENT", "wsa:ReplyTo")


def test_envelope_body_before_header_fires() -> None:
    text = f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body/><soap:Header/></soap:Envelope>'
    assert_fires(xsd.validate_envelope(parse(text)), "XSD.SCHEMAV_ELEMENT_CONTENT", "soap:Header")


def test_soap11_envelope_is_unknown_root() -> None:
    text = f'<s:Envelope xmlns:s="{xsd.SOAP11}"><s:Body>{QUERY_REQUEST}</s:Body></s:Envelope>'
    findings = xsd.validate_message(parse(text))
    hit = assert_fires(findings, "XSD.UNKNOWN_ROOT", "/soap11:Envelope")
    assert "SOAP 1.1" in hit.message
    assert [f.rule for f in findings] == ["XSD.UNKNOWN_ROOT"], "the body itself is valid"


def test_fault_code_enumeration_and_reason_lang() -> None:
    bad_code = _replace(FAULT, "<soap:Value>soap:Sender", "<soap:Value>soap:Client")
    assert_fires(xsd.validate_body(parse(bad_code)), "XSD.SCHEMAV_CVC_ENUMERATION_VALID", "soap:Code/soap:Value")
    no_lang = _replace(FAULT, ' xml:lang="en"', "")
    assert_fires(xsd.validate_body(parse(no_lang)), "XSD.SCHEMAV_CVC_COMPLEX_TYPE_4", "soap:Text/@xml:lang")
    in_envelope = parse(envelope(body=bad_code))
    assert_fires(xsd.validate_envelope(in_envelope), "XSD.SCHEMAV_CVC_ENUMERATION_VALID", "/soap:Envelope/soap:Body")


def test_body_location_includes_the_envelope() -> None:
    broken, _ = BROKEN_BODIES["XSD.SCHEMAV_CVC_COMPLEX_TYPE_4"]
    findings = xsd.validate_message(parse(envelope(body=broken)))
    assert_fires(
        findings,
        "XSD.SCHEMAV_CVC_COMPLEX_TYPE_4",
        "/soap:Envelope/soap:Body/lcm:SubmitObjectsRequest/rim:RegistryObjectList/rim:ExtrinsicObject/rim:Classification",
    )


def test_locations_with_default_namespaces_and_rebound_prefixes() -> None:
    text = f"""<SubmitObjectsRequest xmlns="{xsd.LCM}">
      <RegistryObjectList xmlns="{RIM}">
        <ExtrinsicObject id="a"/>
        <a:ExtrinsicObject xmlns:a="{RIM}" id="b">
          <a:Classification id="c" classifiedObject="b"/>
          <a:Classification xmlns:a="{RIM}" id="d"/>
        </a:ExtrinsicObject>
        <Classification xmlns="" id="e"/>
      </RegistryObjectList>
    </SubmitObjectsRequest>"""
    findings = xsd.validate_body(parse(text))
    assert_fires(
        findings,
        "XSD.SCHEMAV_CVC_COMPLEX_TYPE_4",
        "/lcm:SubmitObjectsRequest/rim:RegistryObjectList/rim:ExtrinsicObject[2]/rim:Classification[2]/@classifiedObject",
    )
    assert_fires(findings, "XSD.SCHEMAV_ELEMENT_CONTENT", "/rim:RegistryObjectList/Classification")


# --------------------------------------------------------------------------------------- XOP


def test_strip_xop_replaces_only_sole_includes() -> None:
    root = parse(PNR)
    copy, includes = xsd.strip_xop_for_validation(root)
    assert len(includes) == 1 and includes[0].getroottree().getroot() is root
    assert not copy.findall(f".//{{{xsd.XOP}}}Include")
    assert root.findall(f".//{{{xsd.XOP}}}Include"), "the original is untouched"


def test_xop_include_without_href_fires() -> None:
    broken = _replace(PNR, '<xop:Include href="cid:doc2@example.org"/>', "<xop:Include/>")
    assert_fires(
        xsd.validate_body(parse(broken)),
        "XSD.SCHEMAV_CVC_COMPLEX_TYPE_4",
        "xdsb:Document[2]/xop:Include/@href",
    )


def test_xop_include_outside_base64_content_fires() -> None:
    broken = _replace(SUBMIT, "<rim:Value>fr-FR</rim:Value>", '<rim:Value><xop:Include href="cid:a"/></rim:Value>')
    assert_fires(xsd.validate_body(parse(broken)), "XSD.SCHEMAV_CVC_TYPE_3_1_2", "rim:Slot[2]/rim:ValueList/rim:Value")


def test_xop_errors_map_back_to_original_positions() -> None:
    broken = _replace(RETRIEVE_RESPONSE, "<xdsb:mimeType>", '<xdsb:mimeType foo="1">')
    hit = assert_fires(xsd.validate_body(parse(broken)), "XSD.SCHEMAV_CVC_TYPE_3_1_1")
    assert hit.location.endswith("xdsb:DocumentResponse/xdsb:mimeType/@foo")


# ------------------------------------------------------------------------------ the catalogue


def test_every_registered_xsd_rule_has_a_firing_test() -> None:
    covered = set(BROKEN_BODIES) | {
        "XSD.SCHEMA_ERROR",
        "XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_2",
    }
    registered = {
        rule_id
        for rule_id, rule in CATALOGUE.items()
        if rule.layer == "xsd" and any(k.startswith("flux") for k in rule.kinds)
    }
    assert registered == covered
    assert all(CATALOGUE[r].severity == "error" for r in registered)


# ==================================================================== differential (corpus)

OFFICIAL = Path("xds/official-xsd/ihe-xdsref")
DMP = Path("xds/official-xsd/dmp-annexe/schema")
BODY_NAMESPACES = (xsd.RIM, xsd.RS, xsd.LCM, xsd.QUERY, xsd.XDSB, xsd.XDSI)


def _mime_root_part(path: Path) -> bytes:
    """The XML of the root (application/xop+xml) part of a raw MIME multipart file."""
    raw = path.read_bytes()
    boundary = raw.split(b"\n", 1)[0].strip()
    for part in raw.split(boundary):
        head, _, body = part.replace(b"\r\n", b"\n").partition(b"\n\n")
        if b"application/xop+xml" in head:
            return body.strip()
    raise AssertionError(f"no XOP root part in {path}")


def _corpus_roots(corpus: Path) -> Iterator[tuple[str, etree._Element]]:
    for path in sorted((corpus / "xds" / "messages").rglob("*")):
        if path.suffix not in (".xml", ".mime"):
            continue
        data = _mime_root_part(path) if path.suffix == ".mime" else path.read_bytes()
        try:
            root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            continue  # the not-well-formed negative sample
        yield path.name, root


def _bodies(root: etree._Element) -> list[etree._Element]:
    if etree.QName(root).localname == "Envelope":
        return xsd.body_children(root)
    return [root]


def corpus_bodies(corpus: Path) -> list[tuple[str, etree._Element]]:
    """Every SOAP Body child / bare body root in the corpus whose namespace is an XDS one (or none)."""
    found = []
    for name, root in _corpus_roots(corpus):
        for body in _bodies(root):
            namespace = etree.QName(body).namespace
            if namespace in BODY_NAMESPACES or namespace is None:
                found.append((name, body))
    return found


def _signature(findings: list[Finding]) -> tuple[bool, set[tuple[str, str]]]:
    return (not findings, {(f.rule, f.location) for f in findings})


def _compare(body: etree._Element, official: Path) -> tuple[bool, str]:
    ours = _signature(xsd.validate_body(body))
    theirs = _signature(xsd.validate_body(body, official))
    return ours == theirs, f"ours={sorted(ours[1])} official={sorted(theirs[1])}"


@pytest.mark.corpus
def test_corpus_verdicts_match_official_schemas(corpus: Path) -> None:
    bodies = corpus_bodies(corpus)
    invalid = 0
    for name, body in bodies:
        same, detail = _compare(body, corpus / OFFICIAL)
        assert same, f"{name}: {detail}"
        invalid += bool(xsd.validate_body(body))
    print(f"\nXSD differential: {len(bodies)} corpus bodies compared ({invalid} invalid), identical verdicts")
    assert len(bodies) >= 50
    assert invalid >= 7, "the invalid samples listed in corpus/xds/SOURCES.md"


@pytest.mark.corpus
def test_mutation_verdicts_match_official_schemas(corpus: Path) -> None:
    compared = invalid = 0
    used: set[str] = set()
    for name, body in corpus_bodies(corpus):
        for mutation, mutant in mutants(body):
            same, detail = _compare(mutant, corpus / OFFICIAL)
            assert same, f"{name} / {mutation}: {detail}"
            compared += 1
            invalid += bool(xsd.validate_body(mutant))
            used.add(mutation)
    print(
        f"\nXSD differential: {compared} mutations compared ({invalid} invalid, "
        f"{len(used)}/{len(MUTATIONS)} mutation kinds applied), identical verdicts"
    )
    assert compared >= 50
    assert len(used) == len(MUTATIONS), f"never applied: {sorted({m.name for m in MUTATIONS} - used)}"


@pytest.mark.corpus
def test_corpus_envelopes_are_soap12_valid_except_known_quirks(corpus: Path) -> None:
    rules: dict[str, set[str]] = {}
    for name, root in _corpus_roots(corpus):
        if etree.QName(root).localname == "Envelope":
            rules[name] = {f.rule for f in xsd.validate_envelope(root)}
    assert rules["ITI-41_PnR_request_soap.xml"] == set()
    assert rules["RAD-69_request_soap.xml"] == set()
    # DMP examples: unqualified mustUnderstand on wsa headers; NIST: wsa:mustUnderstand
    assert rules["TD3.1_ITI-18_FindDocuments_request.xml"] == {"XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_2"}
    assert rules["ITI-43_Retrieve_response_soap.xml"] == {"XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_2"}
    assert rules["TD2.1_ITI-41_ProvideAndRegister_request.mime"] == {"XSD.UNKNOWN_ROOT"}  # SOAP 1.1


# ============================================================================== xsd_dir option


@pytest.mark.corpus
def test_xsd_dir_official_ihe(corpus: Path) -> None:
    directory = corpus / OFFICIAL
    index = xsd.schema_index(directory.resolve())
    assert index[xsd.XDSI].name == "XDSI.b_ImagingDocumentSource.xsd"
    assert index[xsd.SOAP12].parent == xsd.OUR_XSD_DIR, "infrastructure schemas fall back to ours"
    for text in VALID_BODIES.values():
        assert_silent(xsd.validate_body(parse(text), directory))
    broken, location = BROKEN_BODIES["XSD.SCHEMAV_CVC_COMPLEX_TYPE_4"]
    hit = assert_fires(xsd.validate_body(parse(broken), directory), "XSD.SCHEMAV_CVC_COMPLEX_TYPE_4", location)
    assert "ihe-xdsref/rim.xsd" in hit.reference


@pytest.mark.corpus
def test_xsd_dir_dmp_annex(corpus: Path) -> None:
    directory = corpus / DMP
    index = xsd.schema_index(directory.resolve())
    assert index[xsd.XDSB].name == "XDS.b_DocumentRepository.xsd", "not the MTOM_CXF variant"
    for key in (
        "SubmitObjectsRequest",
        "AdhocQueryRequest",
        "RegistryResponse",
        "ProvideAndRegister (inline + xop)",
    ):
        assert_silent(xsd.validate_body(parse(VALID_BODIES[key]), directory))
    # the DMP copy predates On-Demand Documents: NewDocumentUniqueId is not in its content model
    assert_fires(
        xsd.validate_body(parse(RETRIEVE_RESPONSE), directory),
        "XSD.SCHEMAV_ELEMENT_CONTENT",
        "xdsb:NewDocumentUniqueId",
    )
    # and it has no XDS-I.b schema
    hit = assert_fires(xsd.validate_body(parse(RAD69), directory), "XSD.UNKNOWN_ROOT")
    assert "urn:ihe:rad:xdsi-b:2009" in hit.message
    for name, body in corpus_bodies(corpus):
        if etree.QName(body).namespace in (xsd.RIM, xsd.RS, xsd.LCM, xsd.QUERY):
            same, detail = _compare(body, directory)
            assert same, f"{name}: {detail}"


def test_xsd_dir_resolves_http_imports_locally(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.xsd").write_text(
        f'<xs:schema xmlns:xs="{xsd.XS}" targetNamespace="urn:b"><xs:element name="B" type="xs:int"/></xs:schema>'
    )
    (tmp_path / "a.xsd").write_text(
        f'<xs:schema xmlns:xs="{xsd.XS}" xmlns:b="urn:b" targetNamespace="{RIM}"'
        ' elementFormDefault="qualified">'
        '<xs:import namespace="urn:b" schemaLocation="http://example.org/remote/b.xsd"/>'
        '<xs:import namespace="http://www.w3.org/XML/1998/namespace"'
        ' schemaLocation="http://www.w3.org/2001/xml.xsd"/>'
        '<xs:element name="A"><xs:complexType><xs:sequence><xs:element ref="b:B"/></xs:sequence>'
        '<xs:attribute ref="xml:lang"/></xs:complexType></xs:element></xs:schema>'
    )
    good = parse(f'<A xmlns="{RIM}" xml:lang="fr"><B xmlns="urn:b">1</B></A>')
    assert_silent(xsd.validate_body(good, tmp_path))
    bad = parse(f'<A xmlns="{RIM}"><B xmlns="urn:b">one</B></A>')
    assert_fires(xsd.validate_body(bad, tmp_path), "XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_1", "/rim:A/{urn:b}B")
