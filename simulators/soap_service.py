"""What every SOAP 1.2 service of ours does around its transaction: read the request, check the envelope and the
WS-Addressing headers, answer faults, journal the exchange.

Used by the registry/repository (``simulators.registry.server``: ITI-41/57/18/43) and by the imaging source's
RAD-69 endpoint (``simulators.imaging_source.http``), so that a peer gets the same answer from both for the same
mistake (SOAP 1.2 Part 1 §5.4 and Part 2 §7.5.2, WS-Addressing SOAP Binding §6):

==============================================  ==========================================================
request                                         :class:`SoapError`
==============================================  ==========================================================
not XML, malformed XML, truncated multipart     Sender (the reason says what is wrong)
an HTTP message posted as the body              Sender
SOAP 1.1 envelope                               Sender (SOAP 1.2 required)
an ``Envelope`` in another namespace            VersionMismatch (with an ``Upgrade`` header)
XML that is not an envelope                     Sender
no wsa:Action / no wsa:MessageID                Sender / wsa:MessageAddressingHeaderRequired
an action the endpoint does not serve           Sender / wsa:ActionNotSupported
an unknown header with mustUnderstand="true"    MustUnderstand (with ``NotUnderstood``)
==============================================  ==========================================================
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from lxml import etree

from xdsi.journal import Exchange, Journal
from xdsi.messages import soap
from xdsi.messages.capture import RawMessage, read_message
from xdsi.messages.wire import SOAP_CONTENT_TYPE
from xdsi.messages.xmlsafe import InputError

log = logging.getLogger("xdsi.soap")

#: WS-Addressing Core §3.2: the [relationship] of a reply to a message without [message id]
WSA_UNSPECIFIED = "http://www.w3.org/2005/08/addressing/unspecified"
#: header namespaces our services process (a mustUnderstand header elsewhere is a MustUnderstand fault)
UNDERSTOOD_HEADER_NAMESPACES = frozenset({soap.WSA, soap.WSSE})
_ULTIMATE_ROLES = {"", "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver", f"{soap.SOAP12}/role/next"}
_HTTP_START = re.compile(rb"^\s*(?:[A-Z]+ \S+ HTTP/\d|HTTP/\d(?:\.\d)? \d{3})")


class SoapError(Exception):
    """A SOAP 1.2 fault to answer with (``code``: Sender, Receiver, VersionMismatch, MustUnderstand)."""

    def __init__(
        self,
        code: str,
        reason: str,
        subcode: str | None = None,
        detail: etree._Element | None = None,
        status: int | None = None,
        headers: tuple[etree._Element, ...] = (),
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.subcode = subcode
        self.detail = detail
        self.status = status if status is not None else (400 if code == "Sender" else 500)
        self.headers = headers

    def describe(self) -> str:
        """``SOAP Fault Sender / wsa:ActionNotSupported: reason``, for the journal and the log."""
        return f"SOAP Fault {self.code}{f' / {_prefixed(self.subcode)}' if self.subcode else ''}: {self.reason}"


@dataclass
class Outcome:
    """What to send back: HTTP status, body bytes and content type."""

    status: int
    body: bytes
    content_type: str


def fault_response(err: SoapError, relates_to: str | None = None) -> Outcome:
    """The envelope of a fault (WS-Addressing SOAP binding §6: the fault action, RelatesTo the request)."""
    fault = soap.build_fault(err.code, err.reason, err.subcode, err.detail)
    env = soap.build_envelope(
        fault, soap.WSA_FAULT_ACTION, relates_to=relates_to or WSA_UNSPECIFIED, extra_headers=err.headers
    )
    body = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
    return Outcome(err.status, body, SOAP_CONTENT_TYPE.format(action=soap.WSA_FAULT_ACTION))


def wsa_detail(tag: str, text: str) -> etree._Element:
    """The fault detail of WS-Addressing SOAP Binding §6.4 (``ProblemAction``, ``ProblemHeaderQName``)."""
    el = etree.Element(f"{{{soap.WSA}}}{tag}", nsmap={"wsa": soap.WSA})
    if tag == "ProblemAction":
        etree.SubElement(el, f"{{{soap.WSA}}}Action").text = text
    else:
        el.text = text
    return el


def missing_header(local: str) -> SoapError:
    """wsa:MessageAddressingHeaderRequired for the header ``wsa:<local>``."""
    return SoapError(
        "Sender",
        f"A required header representing a Message Addressing Property is not present: wsa:{local}",
        f"{{{soap.WSA}}}MessageAddressingHeaderRequired",
        wsa_detail("ProblemHeaderQName", f"wsa:{local}"),
    )


def action_not_supported(action: str, where: str, expected: str | None = None) -> SoapError:
    """wsa:ActionNotSupported: ``action`` is not served by ``where`` (an endpoint, a service)."""
    return SoapError(
        "Sender",
        f"The action {action} is not supported by {where}" + (f" (expected {expected})" if expected else ""),
        f"{{{soap.WSA}}}ActionNotSupported",
        wsa_detail("ProblemAction", action),
    )


def _prefixed(qname: str) -> str:
    """``{http://www.w3.org/2005/08/addressing}ActionNotSupported`` → ``wsa:ActionNotSupported``."""
    if qname.startswith("{"):
        ns, local = qname[1:].split("}", 1)
        prefix = {soap.WSA: "wsa", soap.SOAP12: "soap"}.get(ns, ns)
        return f"{prefix}:{local}"
    return qname


def _upgrade_header() -> etree._Element:
    up = etree.Element(f"{{{soap.SOAP12}}}Upgrade", nsmap={"soap": soap.SOAP12})
    etree.SubElement(up, f"{{{soap.SOAP12}}}SupportedEnvelope", qname="soap:Envelope")
    return up


def _not_understood(el: etree._Element) -> etree._Element:
    q = etree.QName(el)
    nu = etree.Element(f"{{{soap.SOAP12}}}NotUnderstood", nsmap={"soap": soap.SOAP12, "nu": q.namespace or ""})
    nu.set("qname", f"nu:{q.localname}")
    return nu


def read_request(data: bytes, content_type: str | None, max_bytes: int) -> RawMessage:
    """The POSTed body read as a SOAP 1.2 envelope (MTOM or plain), or the :class:`SoapError` to answer."""
    if _HTTP_START.match(data[:64]):
        raise SoapError("Sender", "the HTTP body is itself an HTTP message (a capture posted as the body?)")
    try:
        raw = read_message(data, content_type, max_bytes=max_bytes)
    except InputError as exc:
        raise SoapError("Sender", f"unreadable request: {exc}") from None
    env = raw.envelope
    if env is None:
        q = etree.QName(raw.xml_root)
        if q.localname == "Envelope":
            raise SoapError(
                "VersionMismatch",
                f"unknown SOAP envelope namespace {q.namespace!r}: this node supports SOAP 1.2 ({soap.SOAP12})",
                headers=(_upgrade_header(),),
            )
        raise SoapError("Sender", f"the request is not a SOAP envelope: root element {{{q.namespace}}}{q.localname}")
    if env.soap_version == "1.1":
        raise SoapError(
            "Sender",
            f"SOAP 1.1 envelope ({soap.SOAP11}): IHE transactions use SOAP 1.2 ({soap.SOAP12}), "
            "IHE ITI TF-2 Appendix V",
        )
    return raw


def check_must_understand(env: soap.SoapEnvelope) -> None:
    """A header addressed to us with mustUnderstand="true" outside :data:`UNDERSTOOD_HEADER_NAMESPACES` is a
    MustUnderstand fault (SOAP 1.2 Part 1 §5.2.3)."""
    if env.header is None:
        return
    for h in env.header:
        if not isinstance(h.tag, str) or not soap.must_understand(h, soap.SOAP12):
            continue
        if (etree.QName(h).namespace or "") in UNDERSTOOD_HEADER_NAMESPACES:
            continue
        if (h.get(f"{{{soap.SOAP12}}}role") or "").strip() not in _ULTIMATE_ROLES:
            continue
        raise SoapError(
            "MustUnderstand",
            f'header {h.tag} has mustUnderstand="true" and is not understood by this node',
            headers=(_not_understood(h),),
        )


def record(journal: Journal | None, ex: Exchange) -> None:
    """Journal ``ex``; a journal that cannot be written is logged, never breaks an answer."""
    if journal is None:
        return
    try:
        journal.record(ex)
    except Exception:
        log.exception("cannot write the exchange to the journal %s", journal.path)
