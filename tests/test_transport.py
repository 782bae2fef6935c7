"""Transport layer: safe parsing, MTOM/XOP, SOAP envelopes, capture reading and the transport rules."""

from __future__ import annotations

import base64
import gzip
import random
import time
from pathlib import Path

import pytest
from lxml import etree

from tests.rulecheck import assert_fires, assert_silent
from xdsi.messages import mtom
from xdsi.messages.capture import ACTION_ROOT_PART, ACTION_SOAPACTION, RawMessage, read_message
from xdsi.messages.soap import (
    ACTIONS,
    SOAP11,
    SOAP12,
    WSA,
    WSA_ANONYMOUS,
    WSA_FAULT_ACTION,
    XDSB,
    build_envelope,
    build_fault,
    parse_envelope,
    response_action_for,
)
from xdsi.messages.xmlsafe import InputError, parse_xml, parse_xml_info, parse_xml_with_notes
from xdsi.validation.findings import CATALOGUE, FLUX_KINDS
from xdsi.validation.transport import check_transport
from xdsi.xmlpaths import xpath_of

PNR = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
PNR_RESP = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"
ITI57_DMP_RESP = "urn:ihe:iti:2010:UpdateDocumentSet-Response"
TD21 = Path("xds/messages/dmp-ans/TD2.1_ITI-41_ProvideAndRegister_request.mime")


# ------------------------------------------------------------------------------------------------ helpers


def _reason(exc: pytest.ExceptionInfo[InputError]) -> str:
    reason = exc.value.reason
    assert reason and "\n" not in reason and str(exc.value) == reason
    return reason


def _read_only_input_error(data: bytes, content_type: str | None = None) -> RawMessage | None:
    """read_message must either succeed or raise InputError with a one-line reason (nothing else)."""
    try:
        return read_message(data, content_type)
    except InputError as e:
        assert e.reason and "\n" not in e.reason
        return None


def _pnr_body() -> etree._Element:
    req = etree.Element(f"{{{XDSB}}}ProvideAndRegisterDocumentSetRequest", nsmap={"xdsb": XDSB})
    doc = etree.SubElement(req, f"{{{XDSB}}}Document", id="Document01")
    inc = etree.SubElement(doc, f"{{{mtom.XOP_NS}}}Include", nsmap={"xop": mtom.XOP_NS})
    inc.set("href", "cid:doc1@example.org")
    return req


def _request_xml(**kw: object) -> bytes:
    env = build_envelope(_pnr_body(), PNR, message_id="urn:uuid:00000000-0000-0000-0000-000000000001", **kw)  # type: ignore[arg-type]
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def _response_xml(action: str = PNR_RESP, relates_to: str | None = "urn:uuid:1") -> bytes:
    from xdsi.messages.soap import RS

    body = etree.Element(
        f"{{{RS}}}RegistryResponse", status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
    )
    env = build_envelope(body, action, relates_to=relates_to)
    if relates_to is None:  # build_envelope only omits RelatesTo for requests: remove it by hand
        for el in env.iter(f"{{{WSA}}}RelatesTo"):
            parent = el.getparent()
            assert parent is not None
            parent.remove(el)
    return etree.tostring(env)


def _pnr_mtom(action: str = PNR, data: bytes = b"%PDF-1.4 binary\r\n\x00\xff") -> tuple[bytes, str]:
    return mtom.encode(_request_xml(), {"doc1@example.org": (data, "application/pdf")}, action)


def _mutate(xml: bytes, old: bytes, new: bytes) -> bytes:
    assert old in xml, old
    return xml.replace(old, new, 1)


# ------------------------------------------------------------------------------------------------ xmlsafe


class TestSafeParsing:
    def test_plain_xml(self) -> None:
        root, notes = parse_xml_with_notes(b"<a><b>x</b></a>")
        assert root.tag == "a" and notes == []

    @pytest.mark.parametrize(
        ("data", "needle"),
        [
            (b"", "empty"),
            (b"   \r\n\t", "whitespace"),
            (b"hello, world", "not XML"),
            (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
            (b"\x00" * 128 + b"DICM" + b"\x02\x00", "DICOM"),
            (b"PK\x03\x04\x14\x00", "ZIP"),
            (b"<a><b>text", "truncated"),
            (b"<?xml version='1.0'?>\n<root><child attr='1'>", "truncated"),
            (b"<a></b>", "not well-formed"),
            (b"<a/><b/>", "not well-formed"),
            (b"<?xml version='1.0' encoding='UTF-8'?>\n<a>caf\xe9 cr\xe8me</a>", "encoding mismatch"),
            (b"<?xml version='1.0' encoding='UTF-16'?><a/>", "encoding mismatch"),
            (b"\xef\xbb\xbf<?xml version='1.0' encoding='ISO-8859-1'?><a/>", "encoding mismatch"),
            (b"<?xml version='1.0' encoding='X-NOPE-7'?><a/>", "unknown encoding"),
            (b"\n<?xml version='1.0'?><a/>", "XML declaration"),
            (b"--MIMEBoundary\r\nContent-Type: text/xml\r\n\r\n<a/>\r\n--MIMEBoundary--", "MIME multipart"),
            (b"POST /repo HTTP/1.1\r\nHost: x\r\n\r\n<a/>", "HTTP capture"),
            (b"<a>" * 400 + b"</a>" * 400, "safety limits"),
        ],
    )
    def test_unreadable_input_gives_one_line_reason(self, data: bytes, needle: str) -> None:
        with pytest.raises(InputError) as exc:
            parse_xml(data)
        assert needle.lower() in _reason(exc).lower()

    def test_declared_utf8_with_latin1_bytes_points_at_the_byte(self) -> None:
        with pytest.raises(InputError) as exc:
            parse_xml(b"<?xml version='1.0' encoding='UTF-8'?>\n<a>\n  caf\xe9</a>")
        reason = _reason(exc)
        assert "E9" in reason and "line 3" in reason and "ISO-8859-1" in reason

    def test_utf8_bom_parses_and_is_noted(self) -> None:
        info = parse_xml_info(b"\xef\xbb\xbf<?xml version='1.0' encoding='UTF-8'?><a>\xc3\xa9</a>")
        assert info.root.text == "é" and info.bom == "UTF-8"
        assert any("byte-order mark" in n for n in info.notes)

    @pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
    def test_utf16_with_bom_parses(self, codec: str) -> None:
        text = '<?xml version="1.0" encoding="UTF-16"?><a>éà</a>'
        data = text.encode(codec)
        if codec == "utf-16-be":
            data = b"\xfe\xff" + data
        info = parse_xml_info(data)
        assert info.root.text == "éà" and info.bom and info.bom.startswith("UTF-16")

    def test_utf16_without_bom_parses_and_is_noted(self) -> None:
        info = parse_xml_info('<?xml version="1.0" encoding="UTF-16"?><a>é</a>'.encode("utf-16-le"))
        assert info.root.text == "é" and any("without byte-order mark" in n for n in info.notes)

    def test_declared_latin1_parses(self) -> None:
        root = parse_xml(b"<?xml version='1.0' encoding='ISO-8859-1'?><a>caf\xe9</a>")
        assert root.text == "café"

    def test_declared_latin1_but_utf8_bytes_is_noted(self) -> None:
        _, notes = parse_xml_with_notes(b"<?xml version='1.0' encoding='ISO-8859-1'?><a>caf\xc3\xa9</a>")
        assert any("valid UTF-8" in n for n in notes)

    def test_billion_laughs_is_refused_fast(self) -> None:
        lol = ['<!ENTITY lol "lol">'] + [
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
        ]
        data = f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(lol)}]><lolz>&lol9;</lolz>'.encode()
        t0 = time.perf_counter()
        with pytest.raises(InputError) as exc:
            parse_xml(data)
        assert time.perf_counter() - t0 < 1.0
        assert "entit" in _reason(exc).lower()

    def test_quadratic_blowup_is_refused(self) -> None:
        data = b'<!DOCTYPE k [<!ENTITY a "' + b"x" * 50_000 + b'">]><k>' + b"&a;" * 50_000 + b"</k>"
        t0 = time.perf_counter()
        with pytest.raises(InputError):
            parse_xml(data)
        assert time.perf_counter() - t0 < 1.0

    @pytest.mark.parametrize(
        "doctype",
        [
            '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            '<!DOCTYPE foo [<!ENTITY % pe SYSTEM "file:///etc/passwd"> %pe;]>',
            '<!DOCTYPE foo [ <!ELEMENT foo ANY> <!ENTITY xxe PUBLIC "-//x//y" "file:///etc/passwd" > ]>',
        ],
    )
    def test_external_entity_is_refused_and_nothing_leaks(self, doctype: str) -> None:
        data = f'<?xml version="1.0"?>{doctype}<foo>&xxe;</foo>'.encode()
        passwd = (
            Path("/etc/passwd").read_text(errors="replace").splitlines()[:1] if Path("/etc/passwd").exists() else []
        )
        with pytest.raises(InputError) as exc:
            parse_xml(data)
        reason = _reason(exc)
        assert "XXE" in reason or "entit" in reason.lower()
        for line in passwd:
            assert line not in reason
        # and through the capture reader too
        with pytest.raises(InputError):
            read_message(data)

    def test_external_dtd_is_not_loaded(self) -> None:
        info = parse_xml_info(b'<!DOCTYPE a SYSTEM "file:///etc/passwd"><a>x</a>')
        assert info.root.text == "x" and any("not loaded" in n for n in info.notes)

    def test_seventy_megabytes_is_refused_fast(self) -> None:
        data = b"<a>" + b"x" * (70 * 1024 * 1024) + b"</a>"
        t0 = time.perf_counter()
        with pytest.raises(InputError) as exc:
            parse_xml(data)
        assert "too large" in _reason(exc)
        with pytest.raises(InputError):
            read_message(data)
        assert time.perf_counter() - t0 < 1.0

    def test_size_limit_is_configurable(self) -> None:
        with pytest.raises(InputError):
            parse_xml(b"<a>0123456789</a>", max_bytes=10)
        assert parse_xml(b"<a/>", max_bytes=10).tag == "a"

    def test_not_bytes(self) -> None:
        with pytest.raises(InputError):
            parse_xml("<a/>")  # type: ignore[arg-type]

    @pytest.mark.parametrize("seed", range(40))
    def test_random_garbage_only_raises_input_error(self, seed: int) -> None:
        rnd = random.Random(seed)
        data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 3000)))
        if seed % 4 == 0:
            data = b"<" + data
        if seed % 4 == 1:
            data = b"<?xml version='1.0'?><a>" + data
        try:
            parse_xml(data)
        except InputError as e:
            assert e.reason and "\n" not in e.reason
        _read_only_input_error(data)


# ------------------------------------------------------------------------------------------------ MTOM


class TestMtom:
    @pytest.mark.parametrize("seed", range(8))
    def test_round_trip_is_byte_exact(self, seed: int) -> None:
        rnd = random.Random(seed)
        traps = [b"\r\n", b"\r\n\r\n", b"--", b"\r\n--MIMEBoundary_", b"\r\n--\r\n", b"\n--uuid:x--\n", b"\r"]
        attachments: dict[str, tuple[bytes, str]] = {}
        for i in range(rnd.randrange(1, 6)):
            chunks = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 4000)))]
            chunks += [rnd.choice(traps) for _ in range(5)]
            rnd.shuffle(chunks)
            attachments[f"part{i}.{seed}@example.org"] = (
                b"".join(chunks),
                rnd.choice(["application/dicom", "application/pdf"]),
            )
        attachments[f"empty.{seed}@x"] = (b"", "application/octet-stream")
        attachments[f"crlf.{seed}@x"] = (b"\r\n", "text/plain")
        soap = _request_xml()
        body, ct = mtom.encode(soap, attachments, PNR)
        m = mtom.decode(body, ct)
        assert m.root == soap
        assert m.action == PNR and m.start_info == "application/soap+xml" and m.multipart_type == "application/xop+xml"
        assert {c: (p.data, p.content_type) for c, p in m.attachments.items()} == attachments
        assert m.root_content_type.startswith("application/xop+xml")
        # the boundary really is the first line: decoding without the header gives the same parts
        m2 = mtom.decode(body, None)
        assert m2.root == soap and {c: p.data for c, p in m2.attachments.items()} == {
            c: d for c, (d, _) in attachments.items()
        }

    def test_encode_content_type(self) -> None:
        _, ct = mtom.encode(b"<a/>", {}, PNR)
        media, params = mtom.parse_content_type(ct)
        assert media == "multipart/related"
        assert params["type"] == "application/xop+xml" and params["start-info"] == "application/soap+xml"
        assert params["action"] == PNR and params["start"].startswith("<") and params["boundary"]
        _, ct11 = mtom.encode(b"<a/>", {}, PNR, soap_version="1.1")
        assert "action=" not in ct11 and 'start-info="text/xml"' in ct11
        with pytest.raises(ValueError):
            mtom.encode(b"<a/>", {}, 'bad"action')

    def test_base64_part_is_decoded(self) -> None:
        payload = bytes(range(256)) * 3
        b64 = base64.encodebytes(payload).replace(b"\n", b"\r\n")
        body = (
            b'--B\r\nContent-Type: application/xop+xml; type="application/soap+xml"\r\n'
            b"Content-ID: <root>\r\n\r\n"
            b"<a/>\r\n--B\r\nContent-Type: application/dicom\r\nContent-Transfer-Encoding: base64\r\n"
            b"Content-ID: <img>\r\n\r\n" + b64 + b"\r\n--B--\r\n"
        )
        m = mtom.decode(body, 'multipart/related; boundary=B; start="<root>"; type="application/xop+xml"')
        assert m.parts["img"].data == payload and m.root == b"<a/>"

    def test_bad_base64_is_input_error(self) -> None:
        body = (
            b"--B\r\nContent-ID: <r>\r\n\r\n<a/>\r\n"
            b"--B\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <x>\r\n\r\n!!!\r\n--B--"
        )
        with pytest.raises(InputError) as exc:
            mtom.decode(body, "multipart/related; boundary=B")
        assert "base64" in _reason(exc)

    def test_start_selects_the_root_not_the_first_part(self) -> None:
        body = b"--B\r\nContent-ID: <att>\r\n\r\nDATA\r\n--B\r\nContent-ID: <root>\r\n\r\n<a/>\r\n--B--\r\n"
        m = mtom.decode(body, 'multipart/related; boundary="B"; start="<root>"')
        assert m.root == b"<a/>" and list(m.attachments) == ["att"]

    def test_preamble_epilogue_and_missing_start_are_noted(self) -> None:
        body = b"preamble text\r\n--B\r\nContent-ID: <r>\r\n\r\n<a/>\r\n--B--\r\nepilogue"
        m = mtom.decode(body, "multipart/related; boundary=B")
        assert m.root == b"<a/>"
        assert any("preamble" in n for n in m.notes) and any("after the closing" in n for n in m.notes)
        assert any("no start parameter" in n for n in m.notes)

    def test_truncated_mtom_is_input_error(self) -> None:
        body, ct = _pnr_mtom()
        for cut in (len(body) - 3, len(body) // 2, len(body) - 40):
            with pytest.raises(InputError) as exc:
                mtom.decode(body[:cut], ct)
            assert "truncated" in _reason(exc) or "blank line" in _reason(exc)
            with pytest.raises(InputError):
                read_message(body[:cut])

    def test_missing_start_part_is_input_error(self) -> None:
        body, ct = _pnr_mtom()
        bad_ct = ct.replace('start="<', 'start="<missing.')
        with pytest.raises(InputError) as exc:
            mtom.decode(body, bad_ct)
        assert "start part" in _reason(exc) and "missing." in _reason(exc)

    @pytest.mark.parametrize(
        ("body", "ct", "needle"),
        [
            (b"", "multipart/related; boundary=B", "empty"),
            (b"--B--\r\n", "multipart/related; boundary=B", "no parts"),
            (b"--B--\r\n", None, "no parts"),
            (b"--B\r\nContent-ID: <r>\r\n\r\n\r\n--B--\r\n", "multipart/related; boundary=B", "empty"),
            (b"--B\r\nContent-ID: <r>\r\n<a/>\r\n--B--\r\n", "multipart/related; boundary=B", "blank line"),
            (b"<a/>", "multipart/related; boundary=B", "does not occur"),
            (b"--B\r\n\r\n<a/>\r\n--B--", "multipart/related", "no boundary"),
            (b"--B\r\n\r\n<a/>\r\n--B--", "text/xml", "not multipart"),
            (b"hello", None, "not a MIME multipart"),
        ],
    )
    def test_malformed_multipart(self, body: bytes, ct: str | None, needle: str) -> None:
        with pytest.raises(InputError) as exc:
            mtom.decode(body, ct)
        assert needle in _reason(exc)

    def test_bare_lf_framing_keeps_content(self) -> None:
        body = b"--B\nContent-ID: <r>\n\n<a/>\n--B\nContent-ID: <x>\n\nline1\r\nline2\n\n--B--\n"
        m = mtom.decode(body, None)
        assert m.root == b"<a/>" and m.parts["x"].data == b"line1\r\nline2\n"
        assert any("bare LF" in n for n in m.notes)

    def test_resolve_xop(self) -> None:
        body, ct = _pnr_mtom(data=b"PAYLOAD")
        m = mtom.decode(body, ct)
        root = parse_xml(m.root)
        resolved = mtom.resolve_xop(root, m.parts)
        assert list(resolved.values()) == [b"PAYLOAD"]
        (path,) = resolved
        assert path.endswith("xdsb:ProvideAndRegisterDocumentSetRequest/xdsb:Document")
        assert mtom.unresolved_xop(root, m.parts) == []
        missing = mtom.unresolved_xop(root, {})
        assert len(missing) == 1 and missing[0].cid == "doc1@example.org"
        # percent-encoded cid (RFC 2392) and raw bytes mapping
        inc = next(root.iter(mtom.XOP_INCLUDE))
        inc.set("href", "cid:doc%31@example.org")
        assert mtom.resolve_xop(root, {"doc1@example.org": b"B"}) == {path: b"B"}

    @pytest.mark.parametrize("seed", range(30))
    def test_mutated_mtom_never_raises_anything_else(self, seed: int) -> None:
        rnd = random.Random(seed)
        body, ct = _pnr_mtom()
        data = bytearray(body)
        for _ in range(rnd.randrange(1, 8)):
            op = rnd.randrange(3)
            pos = rnd.randrange(len(data))
            if op == 0:
                data[pos] = rnd.randrange(256)
            elif op == 1:
                del data[pos : pos + rnd.randrange(1, 50)]
            else:
                data[pos:pos] = rnd.choice([b"\r\n", b"--", b"\r\n\r\n", b"<", b"\x00"])
        try:
            mtom.decode(bytes(data), ct)
        except InputError as e:
            assert "\n" not in e.reason
        _read_only_input_error(bytes(data), ct)
        _read_only_input_error(bytes(data))


@pytest.mark.corpus
def test_corpus_td21_mime_decodes_and_resolves(corpus: Path) -> None:
    data = (corpus / TD21).read_bytes()
    m = mtom.decode(data, None)
    assert m.root_id == "rootpart@soapui.org"
    assert set(m.attachments) == {"WS_DMP_TD2.1-DocumentME2.xml", "WS_DMP_TD2.1-SignatureXades.xml"}
    root = parse_xml(m.root)
    includes = mtom.xop_includes(root, m.parts)
    assert [x.cid for x in includes] == ["WS_DMP_TD2.1-DocumentME2.xml", "WS_DMP_TD2.1-SignatureXades.xml"]
    assert all(x.data for x in includes)
    assert parse_xml(m.attachments["WS_DMP_TD2.1-DocumentME2.xml"].data).tag == "{urn:hl7-org:v3}ClinicalDocument"
    raw = read_message(data)
    assert raw.form == "mtom" and raw.envelope is not None and raw.envelope.soap_version == "1.1"
    assert raw.soap_action == PNR and len(raw.attachments) == 2
    findings = check_transport(raw, is_request=True)
    assert_fires(findings, "SOAP.VERSION")
    assert_fires(findings, "WSA.ACTION.MISMATCH", ACTION_ROOT_PART)
    assert_silent(findings, "MTOM.XOP.UNRESOLVED")
    assert_silent(findings, "MTOM.ROOT.TYPE")
    assert_silent(findings, "WSA.MESSAGEID.MISSING")


# ------------------------------------------------------------------------------------------------ SOAP


class TestSoap:
    def test_request_envelope_round_trip(self) -> None:
        sec = etree.Element(
            "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}Security"
        )
        env = build_envelope(_pnr_body(), PNR, to="http://repo.example/xds", extra_headers=[sec])
        parsed = parse_envelope(parse_xml(etree.tostring(env)))
        assert parsed.soap_version == "1.2" and parsed.action == PNR
        assert parsed.message_id and parsed.message_id.startswith("urn:uuid:")
        assert parsed.reply_to == WSA_ANONYMOUS and parsed.to == "http://repo.example/xds"
        assert parsed.relates_to is None and parsed.fault is None
        assert parsed.body is not None and parsed.body.tag == f"{{{XDSB}}}ProvideAndRegisterDocumentSetRequest"
        assert parsed.action_element is not None
        assert parsed.action_element.get(f"{{{SOAP12}}}mustUnderstand") == "true"
        assert parsed.header is not None and parsed.header[-1].tag.endswith("Security")

    def test_response_envelope_round_trip(self) -> None:
        env = build_envelope(etree.Element("r"), PNR_RESP, message_id="urn:uuid:2", relates_to="urn:uuid:1")
        parsed = parse_envelope(parse_xml(etree.tostring(env)))
        assert (parsed.action, parsed.message_id, parsed.relates_to, parsed.to) == (
            PNR_RESP,
            "urn:uuid:2",
            "urn:uuid:1",
            WSA_ANONYMOUS,
        )
        assert parsed.reply_to is None

    def test_body_with_a_parent_is_copied(self) -> None:
        holder = etree.Element("holder")
        child = etree.SubElement(holder, "child")
        build_envelope(child, PNR)
        assert child.getparent() is holder

    def test_fault_round_trip(self) -> None:
        detail = etree.Element("info")
        fault = build_fault("Sender", "bad action", f"{{{WSA}}}ActionNotSupported", detail)
        env = build_envelope(fault, WSA_FAULT_ACTION, relates_to="urn:uuid:1")
        parsed = parse_envelope(parse_xml(etree.tostring(env)))
        assert parsed.fault is not None
        assert parsed.fault.code == "Sender" and parsed.fault.reason == "bad action"
        assert parsed.fault.subcodes == ["wsa:ActionNotSupported"]
        assert parsed.fault.detail is not None and parsed.fault.detail[0].tag == "info"

    def test_soap11_and_not_an_envelope(self) -> None:
        root = parse_xml(
            f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><s:Fault><faultcode>s:Client</faultcode>'
            f"<faultstring>nope</faultstring></s:Fault></s:Body></s:Envelope>".encode()
        )
        env = parse_envelope(root)
        assert env.soap_version == "1.1" and env.fault is not None
        assert (env.fault.code, env.fault.reason) == ("Client", "nope")
        bare = parse_envelope(parse_xml(b"<x/>"))
        assert bare.soap_version is None and bare.body is None and bare.header is None

    def test_action_table(self) -> None:
        assert ACTIONS[PNR][0] == PNR_RESP
        assert ITI57_DMP_RESP in ACTIONS["urn:ihe:iti:2010:UpdateDocumentSet"]
        assert response_action_for("urn:ihe:iti:2010:UpdateDocumentSet") == "urn:ihe:iti:2010:UpdateDocumentSetResponse"
        assert response_action_for("urn:ihe:iti:2010:UpdateDocumentSet", "dmp") == ITI57_DMP_RESP
        assert response_action_for("urn:ihe:rad:2009:RetrieveImagingDocumentSet") == (
            "urn:ihe:iti:2007:RetrieveDocumentSetResponse"
        )

    def test_xpath_of_is_evaluable(self) -> None:
        root = parse_xml(_request_xml())
        inc = next(root.iter(mtom.XOP_INCLUDE))
        path = xpath_of(inc)
        from xdsi.messages.soap import NSMAP

        assert root.getroottree().xpath(path, namespaces=NSMAP) == [inc]


# ------------------------------------------------------------------------------------------------ capture


class TestCapture:
    def test_plain_xml_envelope(self) -> None:
        raw = read_message(_request_xml())
        assert raw.form == "xml" and raw.envelope is not None and raw.soap_action == PNR
        assert raw.body is not None and raw.body.tag.endswith("ProvideAndRegisterDocumentSetRequest")

    def test_bare_body(self) -> None:
        raw = read_message(b"<query:AdhocQueryRequest xmlns:query='urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0'/>")
        assert raw.envelope is None and raw.body is raw.xml_root and raw.soap_action is None

    def test_raw_mtom_body(self) -> None:
        body, _ = _pnr_mtom(data=b"DOC")
        raw = read_message(body)
        assert raw.form == "mtom" and raw.attachments == {"doc1@example.org": b"DOC"}
        assert [x.data for x in raw.xop] == [b"DOC"]

    def test_mtom_with_content_type_argument(self) -> None:
        body, ct = _pnr_mtom(data=b"DOC")
        raw = read_message(body, ct)
        assert raw.content_type == ct and raw.mtom is not None and raw.mtom.start is not None

    def test_http_request_chunked(self) -> None:
        body, ct = _pnr_mtom(data=b"\r\n0\r\n\r\n")
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + 700]), body[i : i + 700]) for i in range(0, len(body), 700)
        )
        capture = (
            b"POST /repository HTTP/1.1\r\nHost: repo\r\nContent-Type: " + ct.encode() + b"\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
        )
        raw = read_message(capture)
        assert raw.form == "http" and raw.http_method == "POST" and raw.http_headers["host"] == "repo"
        assert raw.attachments == {"doc1@example.org": b"\r\n0\r\n\r\n"} and raw.soap_action == PNR

    def test_http_truncated_chunks_and_content_length(self) -> None:
        xml = _request_xml()
        with pytest.raises(InputError) as exc:
            read_message(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % (len(xml) + 10) + xml)
        assert "truncated" in _reason(exc)
        with pytest.raises(InputError) as exc:
            read_message(b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (len(xml) + 5) + xml)
        assert "Content-Length" in _reason(exc)
        with pytest.raises(InputError):
            read_message(b"POST / HTTP/1.1\r\nHost: x")
        with pytest.raises(InputError):
            read_message(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")

    def test_http_response_gzip_and_soapaction(self) -> None:
        xml = _response_xml()
        gz = gzip.compress(xml)
        capture = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml; charset=UTF-8\r\n"
            b"Content-Encoding: gzip\r\n"
            b"Content-Length: %d\r\n\r\n" % len(gz) + gz
        )
        raw = read_message(capture)
        assert raw.http_status == 200 and raw.soap_action == PNR_RESP and raw.http_method is None
        capture11 = b'POST / HTTP/1.1\nContent-Type: text/xml\nSOAPAction: "urn:x"\n\n' + xml
        raw = read_message(capture11)
        assert raw.actions == {ACTION_SOAPACTION: "urn:x"}


# ------------------------------------------------------------------------------------------------ rules


def _check(data: bytes, is_request: bool = True, content_type: str | None = None, profile: str = "cisis") -> list:
    return check_transport(read_message(data, content_type), is_request, profile)


def test_rules_are_registered_for_every_flux() -> None:
    ids = [r for r, rule in CATALOGUE.items() if rule.layer == "transport"]
    assert len(ids) >= 10
    for r in ids:
        assert CATALOGUE[r].kinds == FLUX_KINDS and CATALOGUE[r].reference


def test_clean_request_and_response_are_silent() -> None:
    body, ct = _pnr_mtom()
    findings = _check(body, True, ct)
    assert findings == [], findings
    assert _check(_response_xml(), is_request=False) == []


class TestRules:
    def test_input_bom(self) -> None:
        assert_fires(_check(b"\xef\xbb\xbf" + _request_xml()), "INPUT.BOM", "byte 0")
        assert_silent(_check(_request_xml()), "INPUT.BOM")

    def test_soap_not_envelope(self) -> None:
        assert_fires(_check(etree.tostring(_pnr_body())), "SOAP.NOT_ENVELOPE")
        assert_silent(_check(_request_xml()), "SOAP.NOT_ENVELOPE")

    def test_soap_version(self) -> None:
        xml11 = _request_xml().replace(SOAP12.encode(), SOAP11.encode())
        f = assert_fires(_check(xml11), "SOAP.VERSION")
        assert "1.1" in f.message
        assert_silent(_check(_request_xml()), "SOAP.VERSION")

    def test_soap_body_missing(self) -> None:
        xml = f'<soap:Envelope xmlns:soap="{SOAP12}"><soap:Header/><soap:Body/></soap:Envelope>'.encode()
        assert_fires(_check(xml), "SOAP.BODY.MISSING")
        assert_silent(_check(_request_xml()), "SOAP.BODY.MISSING")

    def test_soap_fault(self) -> None:
        env = build_envelope(build_fault("Receiver", "down"), WSA_FAULT_ACTION, relates_to="urn:uuid:1")
        findings = _check(etree.tostring(env), is_request=False)
        assert "down" in assert_fires(findings, "SOAP.FAULT").message
        assert_silent(findings, "WSA.ACTION.UNKNOWN")
        assert_silent(_check(_response_xml(), is_request=False), "SOAP.FAULT")

    def test_wsa_action_missing(self) -> None:
        xml = _mutate(_request_xml(), b"wsa:Action", b"wsa:Xction").replace(b"/wsa:Action", b"/wsa:Xction")
        assert_fires(_check(xml), "WSA.ACTION.MISSING")
        old = _mutate(_request_xml(), WSA.encode(), b"http://schemas.xmlsoap.org/ws/2004/08/addressing")
        assert "2004/08" in assert_fires(_check(old), "WSA.ACTION.MISSING").message
        assert_silent(_check(_request_xml()), "WSA.ACTION.MISSING")

    def test_wsa_action_mustunderstand(self) -> None:
        xml = _mutate(_request_xml(), b' soap:mustUnderstand="true"', b' mustUnderstand="true"')
        f = assert_fires(_check(xml), "WSA.ACTION.MUSTUNDERSTAND", "wsa:Action")
        assert "unqualified" in f.message
        xml = _mutate(_request_xml(), b' soap:mustUnderstand="true"', b"")
        assert_fires(_check(xml), "WSA.ACTION.MUSTUNDERSTAND")
        xml = _mutate(_request_xml(), b'soap:mustUnderstand="true"', b'soap:mustUnderstand="1"')
        assert_silent(_check(xml), "WSA.ACTION.MUSTUNDERSTAND")

    def test_wsa_action_unknown(self) -> None:
        assert_fires(_check(_mutate(_request_xml(), PNR.encode() + b"<", b"urn:typo<")), "WSA.ACTION.UNKNOWN")
        # a response action in a request
        xml = _mutate(_request_xml(), PNR.encode() + b"<", PNR_RESP.encode() + b"<")
        assert "response action" in assert_fires(_check(xml), "WSA.ACTION.UNKNOWN").message
        # the DMP ITI-57 spelling: accepted in cisis/dmp, reported in the strict IHE profile
        dmp = _response_xml(ITI57_DMP_RESP)
        assert_silent(_check(dmp, is_request=False), "WSA.ACTION.UNKNOWN")
        assert_silent(_check(dmp, is_request=False, profile="dmp"), "WSA.ACTION.UNKNOWN")
        assert_fires(_check(dmp, is_request=False, profile="ihe"), "WSA.ACTION.UNKNOWN")
        assert_silent(_check(_request_xml()), "WSA.ACTION.UNKNOWN")

    def test_wsa_action_mismatch(self) -> None:
        body, ct = _pnr_mtom()
        bad_ct = ct.replace(f'action="{PNR}"', 'action="urn:other"')
        assert_fires(_check(body, True, bad_ct), "WSA.ACTION.MISMATCH", "multipart")
        capture = b'POST / HTTP/1.1\r\nContent-Type: application/soap+xml; action="urn:x"\r\n\r\n' + _request_xml()
        assert_fires(_check(capture), "WSA.ACTION.MISMATCH", "HTTP Content-Type")
        capture = b'POST / HTTP/1.1\r\nSOAPAction: "urn:x"\r\n\r\n' + _request_xml()
        assert_fires(_check(capture), "WSA.ACTION.MISMATCH", "SOAPAction")
        ok = f'POST / HTTP/1.1\r\nContent-Type: application/soap+xml; action="{PNR}"\r\n\r\n'.encode() + _request_xml()
        assert_silent(_check(ok), "WSA.ACTION.MISMATCH")
        assert_silent(_check(body, True, ct), "WSA.ACTION.MISMATCH")

    def test_wsa_messageid_missing(self) -> None:
        xml = _mutate(
            _request_xml(),
            b"<wsa:MessageID>urn:uuid:00000000-0000-0000-0000-000000000001</wsa:MessageID>",
            b"",
        )
        assert_fires(_check(xml), "WSA.MESSAGEID.MISSING")
        assert_silent(_check(_request_xml()), "WSA.MESSAGEID.MISSING")
        assert_silent(_check(_response_xml(), is_request=False), "WSA.MESSAGEID.MISSING")

    def test_wsa_relatesto_missing(self) -> None:
        assert_fires(_check(_response_xml(relates_to=None), is_request=False), "WSA.RELATESTO.MISSING")
        assert_silent(_check(_response_xml(), is_request=False), "WSA.RELATESTO.MISSING")
        assert_silent(_check(_request_xml(), is_request=True), "WSA.RELATESTO.MISSING")

    def test_mtom_xop_unresolved(self) -> None:
        soap = _request_xml()
        body, ct = mtom.encode(soap, {"other@example.org": (b"x", "application/pdf")}, PNR)
        findings = _check(body, True, ct)
        f = assert_fires(findings, "MTOM.XOP.UNRESOLVED", "xdsb:Document/xop:Include/@href")
        assert "doc1@example.org" in f.message
        assert_fires(findings, "MTOM.PART.UNREFERENCED", "other@example.org")
        # plain XML with an xop:Include and no parts
        assert_fires(_check(soap), "MTOM.XOP.UNRESOLVED")
        ok, ok_ct = _pnr_mtom()
        assert_silent(_check(ok, True, ok_ct), "MTOM.XOP.UNRESOLVED")

    def test_mtom_part_unreferenced(self) -> None:
        body, ct = mtom.encode(
            _request_xml(),
            {"doc1@example.org": (b"x", "application/pdf"), "extra@x": (b"y", "text/plain")},
            PNR,
        )
        assert_fires(_check(body, True, ct), "MTOM.PART.UNREFERENCED", "extra@x")
        ok, ok_ct = _pnr_mtom()
        assert_silent(_check(ok, True, ok_ct), "MTOM.PART.UNREFERENCED")

    def test_mtom_root_type(self) -> None:
        body, ct = _pnr_mtom()
        text_xml = body.replace(b'type="application/soap+xml"', b'type="text/xml"', 1)
        f = assert_fires(_check(text_xml, True, ct), "MTOM.ROOT.TYPE", "Content-Type")
        assert "text/xml" in f.message
        swa = body.replace(b"Content-Type: application/xop+xml;", b"Content-Type: application/soap+xml;", 1)
        assert_fires(_check(swa, True, ct), "MTOM.ROOT.TYPE")
        assert_fires(_check(body, True, ct.replace('type="application/xop+xml"', 'type="text/xml"')), "MTOM.ROOT.TYPE")
        assert_fires(
            _check(body, True, ct.replace('start-info="application/soap+xml"', 'start-info="text/xml"')),
            "MTOM.ROOT.TYPE",
        )
        assert_silent(_check(body, True, ct), "MTOM.ROOT.TYPE")
        assert_silent(_check(body), "MTOM.ROOT.TYPE")


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "is_request"),
    [
        ("dmp-ans/TD3.1_ITI-18_FindDocuments_request.xml", True),
        ("dmp-ans/TD3.3c_ITI-57_response.xml", False),
        ("nist/ITI-43_Retrieve_request_soap.xml", True),
        ("nist/ITI-41_PnR_response_success_soap.xml", False),
    ],
)
def test_corpus_envelopes_read(corpus: Path, name: str, is_request: bool) -> None:
    raw = read_message((corpus / "xds/messages" / name).read_bytes())
    assert raw.envelope is not None and raw.envelope.soap_version == "1.2" and raw.soap_action
    findings = check_transport(raw, is_request)
    assert_silent(findings, "SOAP.VERSION")
    assert_silent(findings, "WSA.ACTION.MISSING")
    assert_silent(findings, "WSA.ACTION.UNKNOWN")


def test_utf16_bom_is_not_reported() -> None:
    xml = _request_xml().replace(b"encoding='UTF-8'", b"encoding='UTF-16'").decode().encode("utf-16")
    raw = read_message(xml)
    assert raw.xml_info is not None and raw.xml_info.bom == "UTF-16LE"
    assert_silent(check_transport(raw, True), "INPUT.BOM")
