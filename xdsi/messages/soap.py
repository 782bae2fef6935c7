"""SOAP 1.2 envelopes and WS-Addressing for the XDS.b / XDS-I.b transactions (IHE ITI TF-2 Appendix V).

Namespaces, the action table (request action → response action per transaction and flux), building and reading
envelopes and faults. No ebRIM knowledge here.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from xdsi.namespaces import (  # noqa: F401 - re-exported for the transport layer
    LCM,
    NSMAP,
    QUERY,
    RIM,
    RS,
    SAML2,
    SOAP11,
    SOAP12,
    WSA,
    WSA_2004,
    WSSE,
    XDSB,
    XDSI,
    XML_NS,
    XOP,
)

WSA_ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"
#: wsa:Action of a SOAP fault (WS-Addressing 1.0 SOAP Binding §6)
WSA_FAULT_ACTION = "http://www.w3.org/2005/08/addressing/soap/fault"


@dataclass(frozen=True)
class Transaction:
    """One request/response pair and the flux numbers of the volet that carry it."""

    name: str
    request_action: str
    #: accepted response actions; the first is the IHE spelling, others are tolerated variants
    response_actions: tuple[str, ...]
    request_flux: str | None = None
    response_flux: str | None = None
    #: response actions only accepted in the DMP/CI-SIS profiles (not in the strict "ihe" profile)
    dmp_only_responses: tuple[str, ...] = ()

    @property
    def response_action(self) -> str:
        return self.response_actions[0]


#: Source: xds-facts §1.2 (IPF WSDLs, DMP annex WSDLs, ANS examples).
TRANSACTIONS: tuple[Transaction, ...] = (
    Transaction(
        "ITI-41",
        "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
        ("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse",),
        "flux1",
        "flux2",
    ),
    Transaction(
        "ITI-42",
        "urn:ihe:iti:2007:RegisterDocumentSet-b",
        ("urn:ihe:iti:2007:RegisterDocumentSet-bResponse",),
    ),
    Transaction(
        "ITI-57",
        "urn:ihe:iti:2010:UpdateDocumentSet",
        ("urn:ihe:iti:2010:UpdateDocumentSetResponse", "urn:ihe:iti:2010:UpdateDocumentSet-Response"),
        "flux3",
        "flux4",
        dmp_only_responses=("urn:ihe:iti:2010:UpdateDocumentSet-Response",),
    ),
    Transaction(
        "ITI-18",
        "urn:ihe:iti:2007:RegistryStoredQuery",
        ("urn:ihe:iti:2007:RegistryStoredQueryResponse",),
        "flux5",
        "flux6",
    ),
    Transaction(
        "ITI-43",
        "urn:ihe:iti:2007:RetrieveDocumentSet",
        ("urn:ihe:iti:2007:RetrieveDocumentSetResponse",),
        "flux7",
        "flux8",
    ),
    Transaction(
        "RAD-69",
        "urn:ihe:rad:2009:RetrieveImagingDocumentSet",
        ("urn:ihe:iti:2007:RetrieveDocumentSetResponse",),
        "flux9",
        "flux10",
    ),
    Transaction(
        "ITI-62",
        "urn:ihe:iti:2010:DeleteDocumentSet",
        ("urn:ihe:iti:2010:DeleteDocumentSetResponse",),
    ),
)

#: request action → accepted response actions (IHE spelling first)
ACTIONS: dict[str, tuple[str, ...]] = {t.request_action: t.response_actions for t in TRANSACTIONS}
REQUEST_ACTIONS: frozenset[str] = frozenset(ACTIONS)
RESPONSE_ACTIONS: frozenset[str] = frozenset(a for t in TRANSACTIONS for a in t.response_actions)
#: response spellings accepted only outside the strict IHE profile
DMP_ONLY_RESPONSE_ACTIONS: frozenset[str] = frozenset(a for t in TRANSACTIONS for a in t.dmp_only_responses)


def transaction_for_action(action: str | None) -> Transaction | None:
    """The transaction a request action belongs to (response actions are ambiguous: ITI-43 / RAD-69)."""
    for t in TRANSACTIONS:
        if action == t.request_action:
            return t
    return None


def transactions_for_response(action: str | None) -> tuple[Transaction, ...]:
    return tuple(t for t in TRANSACTIONS if action in t.response_actions)


def response_action_for(request_action: str, profile: str = "ihe") -> str:
    """The response action to send for a request action (the IHE spelling, DMP spelling for "dmp")."""
    t = transaction_for_action(request_action)
    if t is None:
        raise KeyError(f"unknown request action {request_action!r}")
    if profile == "dmp" and t.dmp_only_responses:
        return t.dmp_only_responses[0]
    return t.response_action


def is_response_action_for(request_action: str, response_action: str, profile: str = "cisis") -> bool:
    accepted = ACTIONS.get(request_action, ())
    if profile == "ihe":
        accepted = tuple(a for a in accepted if a not in DMP_ONLY_RESPONSE_ACTIONS)
    return response_action in accepted


def new_message_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


# --------------------------------------------------------------------------------------------------- build


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


def build_envelope(
    body: etree._Element,
    action: str,
    message_id: str | None = None,
    relates_to: str | None = None,
    to: str | None = None,
    extra_headers: Iterable[etree._Element] = (),
) -> etree._Element:
    """A SOAP 1.2 envelope with WS-Addressing headers around ``body``.

    A request (no ``relates_to``) gets wsa:Action (mustUnderstand), wsa:MessageID, wsa:ReplyTo anonymous and
    wsa:To when given; a response gets wsa:Action, wsa:MessageID, wsa:To (anonymous by default) and
    wsa:RelatesTo. ``message_id`` defaults to a fresh ``urn:uuid:``. ``body`` is copied when it already has a
    parent; ``extra_headers`` (e.g. a wsse:Security) are appended to the header as they are.
    """
    env = etree.Element(_q(SOAP12, "Envelope"), nsmap={"soap": SOAP12, "wsa": WSA})
    header = etree.SubElement(env, _q(SOAP12, "Header"))
    a = etree.SubElement(header, _q(WSA, "Action"))
    a.set(_q(SOAP12, "mustUnderstand"), "true")
    a.text = action
    etree.SubElement(header, _q(WSA, "MessageID")).text = message_id or new_message_id()
    if relates_to is None:
        reply_to = etree.SubElement(header, _q(WSA, "ReplyTo"))
        etree.SubElement(reply_to, _q(WSA, "Address")).text = WSA_ANONYMOUS
        if to is not None:
            etree.SubElement(header, _q(WSA, "To")).text = to
    else:
        etree.SubElement(header, _q(WSA, "To")).text = to if to is not None else WSA_ANONYMOUS
        etree.SubElement(header, _q(WSA, "RelatesTo")).text = relates_to
    for h in extra_headers:
        header.append(copy.deepcopy(h) if h.getparent() is not None else h)
    soap_body = etree.SubElement(env, _q(SOAP12, "Body"))
    soap_body.append(copy.deepcopy(body) if body.getparent() is not None else body)
    return env


_FAULT_PREFIXES = {WSA: "wsa", SOAP12: "soap", XDSB: "xdsb", RS: "rs"}


def build_fault(
    code: Literal["Sender", "Receiver"] | str,
    reason: str,
    subcode: str | None = None,
    detail: etree._Element | None = None,
    lang: str = "en",
) -> etree._Element:
    """A SOAP 1.2 ``soap:Fault`` element (put it in an envelope with :data:`WSA_FAULT_ACTION`).

    ``code`` is one of the SOAP 1.2 fault codes (Sender, Receiver, MustUnderstand, VersionMismatch,
    DataEncodingUnknown); ``subcode`` is a QName in Clark notation (``{ns}local``) or ``prefix:local`` text.
    """
    nsmap = {"soap": SOAP12}
    sub_text: str | None = None
    if subcode:
        if subcode.startswith("{"):
            ns, local = subcode[1:].split("}", 1)
            prefix = _FAULT_PREFIXES.get(ns, "sub")
            nsmap[prefix] = ns
            sub_text = f"{prefix}:{local}"
        else:
            sub_text = subcode
    fault = etree.Element(_q(SOAP12, "Fault"), nsmap=nsmap)  # type: ignore[arg-type]
    code_el = etree.SubElement(fault, _q(SOAP12, "Code"))
    etree.SubElement(code_el, _q(SOAP12, "Value")).text = f"soap:{code}"
    if sub_text:
        sub = etree.SubElement(code_el, _q(SOAP12, "Subcode"))
        etree.SubElement(sub, _q(SOAP12, "Value")).text = sub_text
    reason_el = etree.SubElement(fault, _q(SOAP12, "Reason"))
    text = etree.SubElement(reason_el, _q(SOAP12, "Text"))
    text.set(_q(XML_NS, "lang"), lang)
    text.text = reason
    if detail is not None:
        etree.SubElement(fault, _q(SOAP12, "Detail")).append(
            copy.deepcopy(detail) if detail.getparent() is not None else detail
        )
    return fault


# --------------------------------------------------------------------------------------------------- parse


@dataclass
class SoapFault:
    #: the fault code's local name: Sender, Receiver, MustUnderstand… (SOAP 1.1: Client, Server…)
    code: str
    reason: str
    #: subcode values as written (prefix:local), outermost first
    subcodes: list[str] = field(default_factory=list)
    detail: etree._Element | None = None


@dataclass
class SoapEnvelope:
    """What :func:`parse_envelope` reads from a root element."""

    soap_version: Literal["1.2", "1.1"] | None
    envelope: etree._Element | None = None
    header: etree._Element | None = None
    #: the first child element of soap:Body (None when empty or not an envelope)
    body: etree._Element | None = None
    #: every child element of soap:Body
    body_children: list[etree._Element] = field(default_factory=list)
    action: str | None = None
    action_element: etree._Element | None = None
    message_id: str | None = None
    relates_to: str | None = None
    to: str | None = None
    reply_to: str | None = None
    fault: SoapFault | None = None
    #: WS-Addressing headers found in the old 2004/08 submission namespace (local names)
    wsa_2004_headers: list[str] = field(default_factory=list)

    @property
    def soap_ns(self) -> str | None:
        return {"1.2": SOAP12, "1.1": SOAP11}.get(self.soap_version or "")


def _text(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    return "".join(str(t) for t in el.itertext()).strip()


def _local(qname_text: str | None) -> str:
    return (qname_text or "").strip().rsplit(":", 1)[-1]


def _parse_fault(fault: etree._Element, ns: str) -> SoapFault:
    if ns == SOAP12:
        code_el = fault.find(_q(SOAP12, "Code"))
        code = _local(_text(code_el.find(_q(SOAP12, "Value")))) if code_el is not None else ""
        subcodes: list[str] = []
        cur = code_el
        while cur is not None:
            cur = cur.find(_q(SOAP12, "Subcode"))
            if cur is not None:
                subcodes.append(_text(cur.find(_q(SOAP12, "Value"))) or "")
        reason_el = fault.find(f"{_q(SOAP12, 'Reason')}/{_q(SOAP12, 'Text')}")
        detail = fault.find(_q(SOAP12, "Detail"))
        return SoapFault(code, _text(reason_el) or "", subcodes, detail)
    # SOAP 1.1: unqualified children
    return SoapFault(
        _local(_text(fault.find("faultcode"))),
        _text(fault.find("faultstring")) or "",
        [],
        fault.find("detail"),
    )


def parse_envelope(root: etree._Element) -> SoapEnvelope:
    """Read the SOAP version, WS-Addressing headers, body and fault of ``root``.

    A root that is not a SOAP envelope gives ``soap_version=None`` and no header or body.
    """
    if root.tag == _q(SOAP12, "Envelope"):
        ns, version = SOAP12, "1.2"
    elif root.tag == _q(SOAP11, "Envelope"):
        ns, version = SOAP11, "1.1"
    else:
        return SoapEnvelope(soap_version=None)
    env = SoapEnvelope(soap_version=version, envelope=root)  # type: ignore[arg-type]
    env.header = root.find(_q(ns, "Header"))
    body = root.find(_q(ns, "Body"))
    if body is not None:
        env.body_children = [c for c in body if isinstance(c.tag, str)]
        env.body = env.body_children[0] if env.body_children else None
    if env.header is not None:
        h = env.header
        env.action_element = h.find(_q(WSA, "Action"))
        env.action = _text(env.action_element)
        env.message_id = _text(h.find(_q(WSA, "MessageID")))
        env.relates_to = _text(h.find(_q(WSA, "RelatesTo")))
        env.to = _text(h.find(_q(WSA, "To")))
        env.reply_to = _text(h.find(f"{_q(WSA, 'ReplyTo')}/{_q(WSA, 'Address')}"))
        env.wsa_2004_headers = [
            etree.QName(c).localname for c in h if isinstance(c.tag, str) and etree.QName(c).namespace == WSA_2004
        ]
    if env.body is not None and env.body.tag == _q(ns, "Fault"):
        env.fault = _parse_fault(env.body, ns)
    return env


def must_understand(element: etree._Element, soap_ns: str) -> bool:
    """True when ``element`` carries ``mustUnderstand`` = true/1 in the envelope's namespace."""
    return (element.get(_q(soap_ns, "mustUnderstand")) or "").strip() in ("true", "1")
