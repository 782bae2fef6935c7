"""Transport-layer checks: SOAP version, WS-Addressing headers, MTOM/XOP packaging, input encoding traps.

No ebRIM knowledge here: these rules apply to every flux. :func:`check_transport` takes a
:class:`~xdsi.messages.capture.RawMessage` (already readable) and returns findings; it never raises.
"""

from __future__ import annotations

from lxml import etree

from xdsi.messages import mtom as mtom_mod
from xdsi.messages.capture import RawMessage
from xdsi.messages.soap import (
    DMP_ONLY_RESPONSE_ACTIONS,
    REQUEST_ACTIONS,
    RESPONSE_ACTIONS,
    SOAP11,
    SOAP12,
    WSA,
    WSA_FAULT_ACTION,
    must_understand,
    transaction_for_action,
    transactions_for_response,
)
from xdsi.validation.findings import FLUX_KINDS, Finding, finding, register
from xdsi.xmlpaths import xpath_of

LAYER = "transport"

_WSA_CORE = "W3C WS-Addressing 1.0 Core"
_WSA_SOAP = "W3C WS-Addressing 1.0 SOAP Binding"
_IHE_V = "IHE ITI TF-2 Appendix V"

register(
    "INPUT.BOM",
    "info",
    FLUX_KINDS,
    "W3C XML 1.0 §4.3.3 (a byte-order mark is allowed; some SOAP stacks reject it)",
    "The XML starts with a byte-order mark.",
    LAYER,
)
register(
    "SOAP.NOT_ENVELOPE",
    "info",
    FLUX_KINDS,
    f"{_IHE_V}.2.1 (IHE transactions are SOAP 1.2 messages)",
    "A bare body was given, not a SOAP envelope: SOAP and WS-Addressing checks were skipped.",
    LAYER,
)
register(
    "SOAP.VERSION",
    "error",
    FLUX_KINDS,
    f"{_IHE_V}.2.1 (Web Services for IHE transactions are based on SOAP 1.2); W3C SOAP 1.2 Part 1 §5.1",
    "The envelope must be SOAP 1.2 (http://www.w3.org/2003/05/soap-envelope), not SOAP 1.1.",
    LAYER,
)
register(
    "SOAP.BODY.MISSING",
    "error",
    FLUX_KINDS,
    "W3C SOAP 1.2 Part 1 §5.3 (the envelope has one Body); IHE transactions carry their payload in it",
    "The SOAP envelope has no Body or an empty Body.",
    LAYER,
)
register(
    "SOAP.FAULT",
    "info",
    FLUX_KINDS,
    "W3C SOAP 1.2 Part 1 §5.4 (SOAP Fault)",
    "The message is a SOAP Fault: the transaction's payload checks do not apply.",
    LAYER,
)
register(
    "WSA.ACTION.MISSING",
    "error",
    FLUX_KINDS,
    f"{_IHE_V} (WS-Addressing); {_WSA_CORE} §3.2 ([action] is required); {_WSA_SOAP} §2.1",
    "The SOAP header has no wsa:Action (namespace http://www.w3.org/2005/08/addressing).",
    LAYER,
)
register(
    "WSA.ACTION.MUSTUNDERSTAND",
    "warning",
    FLUX_KINDS,
    f'{_IHE_V} (wsa:Action is sent with soap:mustUnderstand="true"); W3C SOAP 1.2 Part 1 §5.2.3',
    'wsa:Action should carry soap:mustUnderstand="true" (attribute in the SOAP envelope namespace).',
    LAYER,
)
register(
    "WSA.ACTION.UNKNOWN",
    "warning",
    FLUX_KINDS,
    "IHE ITI TF-2 / RAD TF-3 WSDL actions (ITI-18, ITI-41, ITI-42, ITI-43, ITI-57, ITI-62, RAD-69)",
    "wsa:Action is not one of the XDS.b / XDS-I.b actions expected for this direction.",
    LAYER,
)
register(
    "WSA.ACTION.MISMATCH",
    "error",
    FLUX_KINDS,
    f"{_WSA_SOAP} §4.1 and §6.4.1 (wsa:ActionMismatch); RFC 3902 (action parameter)",
    "An action written in the HTTP/MIME headers differs from wsa:Action.",
    LAYER,
)
register(
    "WSA.MESSAGEID.MISSING",
    "error",
    FLUX_KINDS,
    f"{_IHE_V} (WS-Addressing); {_WSA_CORE} §3.2 / §3.4 (a request expecting a reply has a [message id])",
    "A request must carry wsa:MessageID.",
    LAYER,
)
register(
    "WSA.RELATESTO.MISSING",
    "error",
    FLUX_KINDS,
    f"{_IHE_V} (WS-Addressing); {_WSA_CORE} §3.4 (a reply carries wsa:RelatesTo = the request's MessageID)",
    "A response must carry wsa:RelatesTo.",
    LAYER,
)
register(
    "MTOM.ROOT.TYPE",
    "error",
    FLUX_KINDS,
    'W3C XOP 1.0 §4.1 (root part application/xop+xml with type="application/soap+xml"); '
    "W3C SOAP MTOM §4.3; IHE ITI TF-2 Appendix V (MTOM)",
    'The MTOM root part must be application/xop+xml with type="application/soap+xml" (and the multipart '
    "type/start-info parameters must agree).",
    LAYER,
)
register(
    "MTOM.XOP.UNRESOLVED",
    "error",
    FLUX_KINDS,
    "W3C XOP 1.0 §3.1/§4.1 (xop:Include/@href is a cid: URI naming a MIME part); RFC 2392",
    "An xop:Include points to no MIME part of the message.",
    LAYER,
)
register(
    "MTOM.PART.UNREFERENCED",
    "warning",
    FLUX_KINDS,
    "W3C XOP 1.0 §4.1 (parts other than the root hold the optimized content referenced by xop:Include)",
    "A MIME part is referenced by no xop:Include.",
    LAYER,
)


def _path(el: etree._Element | None, fallback: str) -> str:
    return fallback if el is None else xpath_of(el)


def _check_mustunderstand(el: etree._Element, soap_ns: str, path: str, profile: str) -> list[Finding]:
    if must_understand(el, soap_ns):
        return []
    found = [(str(k), str(v)) for k, v in el.attrib.items() if etree.QName(k).localname == "mustUnderstand"]
    if not found:
        detail = "wsa:Action has no mustUnderstand attribute"
    else:
        k, v = found[0]
        ns = etree.QName(k).namespace
        if ns == soap_ns:
            detail = f'wsa:Action has mustUnderstand="{v}"'
        elif ns is None:
            detail = f'wsa:Action has an unqualified mustUnderstand="{v}", which SOAP ignores'
        else:
            detail = f'wsa:Action has mustUnderstand="{v}" in namespace {ns}, which SOAP ignores'
    return [
        finding(
            "WSA.ACTION.MUSTUNDERSTAND",
            path,
            f'{detail}; expected soap:mustUnderstand="{"true" if soap_ns == SOAP12 else "1"}" (namespace {soap_ns})',
            profile,
        )
    ]


def _check_action_known(action: str, is_request: bool, path: str, profile: str) -> list[Finding]:
    if is_request:
        if action in REQUEST_ACTIONS:
            return []
        if action in RESPONSE_ACTIONS:
            msg = f"wsa:Action '{action}' is a response action, but this message is a request"
        else:
            expected = sorted(REQUEST_ACTIONS)
            msg = f"wsa:Action '{action}' is not a known request action (expected one of {expected})"
        return [finding("WSA.ACTION.UNKNOWN", path, msg, profile)]
    if action == WSA_FAULT_ACTION:
        return []
    if action in DMP_ONLY_RESPONSE_ACTIONS:
        if profile == "ihe":
            ihe = transactions_for_response(action)[0].response_action
            msg = f"wsa:Action '{action}' is the DMP spelling; the IHE action is '{ihe}'"
            return [finding("WSA.ACTION.UNKNOWN", path, msg, profile)]
        return []
    if action in RESPONSE_ACTIONS:
        return []
    if transaction_for_action(action) is not None:
        msg = f"wsa:Action '{action}' is a request action, but this message is a response"
    else:
        expected = sorted(RESPONSE_ACTIONS)
        msg = f"wsa:Action '{action}' is not a known response action (expected one of {expected})"
    return [finding("WSA.ACTION.UNKNOWN", path, msg, profile)]


def _check_mtom(raw: RawMessage, profile: str) -> list[Finding]:
    m = raw.mtom
    if m is None:
        return []
    out: list[Finding] = []
    where = f"MIME part <{m.root_id}> Content-Type"
    media, params = mtom_mod.parse_content_type(m.root_content_type)
    if media != mtom_mod.XOP_MEDIA_TYPE:
        out.append(
            finding(
                "MTOM.ROOT.TYPE",
                where,
                f"root part Content-Type is '{media or '(none)'}'; expected {mtom_mod.XOP_MEDIA_TYPE}",
                profile,
            )
        )
    else:
        inner = (params.get("type") or "").split(";", 1)[0].strip().lower()
        if inner != mtom_mod.SOAP12_MEDIA_TYPE:
            out.append(
                finding(
                    "MTOM.ROOT.TYPE",
                    where,
                    f"root part type parameter is '{params.get('type') or '(none)'}'; "
                    f'expected type="{mtom_mod.SOAP12_MEDIA_TYPE}"',
                    profile,
                )
            )
    if m.content_type_known:
        if m.multipart_type is None or m.multipart_type.strip().lower() != mtom_mod.XOP_MEDIA_TYPE:
            out.append(
                finding(
                    "MTOM.ROOT.TYPE",
                    "HTTP Content-Type (multipart type parameter)",
                    f"multipart/related type parameter is '{m.multipart_type or '(none)'}'; "
                    f'expected type="{mtom_mod.XOP_MEDIA_TYPE}"',
                    profile,
                )
            )
        if m.start_info is not None:
            si = m.start_info.split(";", 1)[0].strip().lower()
            if si != mtom_mod.SOAP12_MEDIA_TYPE:
                out.append(
                    finding(
                        "MTOM.ROOT.TYPE",
                        "HTTP Content-Type (start-info parameter)",
                        f"start-info is '{m.start_info}'; expected \"{mtom_mod.SOAP12_MEDIA_TYPE}\"",
                        profile,
                    )
                )
    referenced = {x.cid for x in raw.xop if x.data is not None}
    for cid in m.attachments:
        if cid not in referenced:
            out.append(
                finding(
                    "MTOM.PART.UNREFERENCED",
                    f"MIME part <{cid}>",
                    f"MIME part <{cid}> is referenced by no xop:Include",
                    profile,
                )
            )
    return out


def check_transport(raw: RawMessage, is_request: bool, profile: str = "cisis") -> list[Finding]:
    """Transport findings for a readable message (``is_request``: request or response direction)."""
    out: list[Finding] = []
    info = raw.xml_info
    if info is not None and info.bom and not info.bom.startswith("UTF-16"):  # UTF-16 needs its BOM
        where = f"MIME part <{raw.mtom.root_id}>, byte 0" if raw.mtom is not None else "byte 0"
        out.append(finding("INPUT.BOM", where, f"the XML starts with a {info.bom} byte-order mark", profile))

    for x in raw.xop:
        if x.data is None:
            if x.cid is None:
                why = f"href '{x.href}' is not a cid: URI"
            elif raw.mtom is None:
                why = f"href '{x.href}' but the message is plain XML without MIME parts"
            else:
                listed = ", ".join(f"<{c}>" for c in raw.mtom.parts)
                why = f"href '{x.href}' names no MIME part (parts: {listed})"
            out.append(finding("MTOM.XOP.UNRESOLVED", f"{x.path}/xop:Include/@href", why, profile))
    out.extend(_check_mtom(raw, profile))

    env = raw.envelope
    if env is None:
        root = raw.xml_root
        out.append(
            finding(
                "SOAP.NOT_ENVELOPE",
                _path(root, "/"),
                f"the root element is {root.tag}, not a SOAP envelope: only the body can be checked",
                profile,
            )
        )
        return out

    soap_ns = SOAP12 if env.soap_version == "1.2" else SOAP11
    env_path = _path(env.envelope, "/Envelope")
    if env.soap_version == "1.1":
        extra = ""
        if raw.mtom is not None and "application/soap+xml" in raw.mtom.root_content_type:
            extra = " although the MIME root part announces application/soap+xml"
        out.append(
            finding(
                "SOAP.VERSION",
                env_path,
                f"SOAP 1.1 envelope (namespace {SOAP11}){extra}; IHE transactions use SOAP 1.2 ({SOAP12})",
                profile,
            )
        )

    if env.fault is not None:
        out.append(
            finding(
                "SOAP.FAULT",
                _path(env.body, env_path),
                f"SOAP Fault {env.fault.code}"
                + (f" / {', '.join(env.fault.subcodes)}" if env.fault.subcodes else "")
                + f": {env.fault.reason}",
                profile,
            )
        )
    elif env.body is None:
        out.append(finding("SOAP.BODY.MISSING", env_path, "the envelope has no Body element or an empty Body", profile))

    header_path = _path(env.header, f"{env_path}/Header")
    action_path = _path(env.action_element, f"{header_path}/wsa:Action")
    if not env.action:
        old = (
            " (found in the 2004/08 submission namespace, not WS-Addressing 1.0)"
            if ("Action" in env.wsa_2004_headers)
            else ""
        )
        what = "an empty wsa:Action" if env.action_element is not None else "no wsa:Action"
        out.append(
            finding(
                "WSA.ACTION.MISSING",
                action_path if env.action_element is not None else header_path,
                f"the SOAP header has {what}{old}; expected namespace {WSA}",
                profile,
            )
        )
    else:
        assert env.action_element is not None
        out.extend(_check_mustunderstand(env.action_element, soap_ns, action_path, profile))
        out.extend(_check_action_known(env.action, is_request, action_path, profile))
        for source, value in raw.actions.items():
            if value != env.action:
                out.append(
                    finding(
                        "WSA.ACTION.MISMATCH",
                        source,
                        f"{source} is '{value}' but wsa:Action is '{env.action}'",
                        profile,
                    )
                )

    if is_request and not env.message_id:
        old = " (found in the 2004/08 submission namespace)" if "MessageID" in env.wsa_2004_headers else ""
        out.append(finding("WSA.MESSAGEID.MISSING", header_path, f"the request has no wsa:MessageID{old}", profile))
    if not is_request and not env.relates_to:
        old = " (found in the 2004/08 submission namespace)" if "RelatesTo" in env.wsa_2004_headers else ""
        out.append(finding("WSA.RELATESTO.MISSING", header_path, f"the response has no wsa:RelatesTo{old}", profile))
    return out
