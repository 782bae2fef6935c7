"""A SOAP 1.2 / WS-Addressing / MTOM client over ``requests``, shared by the producer and consumer clients.

One :meth:`SoapClient.call` = one exchange: the request is built by our message modules, validated (its
findings go to the journal only: a client may be asked to send a faulty message on purpose), posted, and
the response read, checked and validated. Transport problems raise :class:`TransportError`: the peer cannot
be reached, answers a non-2xx status, a SOAP Fault, or something unreadable.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import requests
from lxml import etree

from xdsi.journal import Exchange, Journal
from xdsi.messages import mtom, soap
from xdsi.messages.capture import RawMessage, read_message
from xdsi.messages.wire import SOAP_CONTENT_TYPE
from xdsi.messages.xmlsafe import InputError
from xdsi.validation.pipeline import validate_message

log = logging.getLogger("xdsi.client")


class TransportError(Exception):
    """The exchange failed below the XDS level (the message says what happened, and where)."""

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        fault_code: str | None = None,
        fault_subcodes: tuple[str, ...] = (),
        fault_reason: str | None = None,
        exchange: Exchange | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.fault_code = fault_code
        self.fault_subcodes = fault_subcodes
        self.fault_reason = fault_reason
        self.exchange = exchange


@dataclass(frozen=True)
class ClientTls:
    """Client-side TLS: ``ca_file`` to verify the server (else the system store; ``verify=False`` to skip),
    ``cert_file``/``key_file`` for mutual TLS."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    verify: bool = True

    def requests_options(self) -> dict[str, object]:
        opts: dict[str, object] = {"verify": self.ca_file if (self.verify and self.ca_file) else self.verify}
        if self.cert_file:
            opts["cert"] = (self.cert_file, self.key_file) if self.key_file else self.cert_file
        return opts


@dataclass
class Reply:
    """A readable, non-fault response and the journal record of the exchange."""

    raw: RawMessage
    exchange: Exchange
    notes: list[str] = field(default_factory=list)

    @property
    def body(self) -> etree._Element:
        assert self.raw.body is not None
        return self.raw.body


def sibling_url(url: str, suffix: str, replacement: str) -> str:
    """``http://h/iti41`` → ``http://h/iti57``: the endpoint of another transaction on our simulators' paths."""
    trimmed = url.rstrip("/")
    return trimmed[: -len(suffix)] + replacement if trimmed.endswith(suffix) else url


def transaction(name: str) -> soap.Transaction:
    return next(t for t in soap.TRANSACTIONS if t.name == name)


class SoapClient:
    def __init__(
        self,
        timeout: float = 30.0,
        *,
        tls: ClientTls | None = None,
        journal: Journal | None = None,
        actor: str = "client",
        profile: str = "cisis",
        validate: bool = True,
        session: requests.Session | None = None,
    ) -> None:
        self.timeout = timeout
        self.tls = tls
        self.journal = journal
        self.actor = actor
        self.profile = profile
        self.validate = validate
        self.session = session or requests.Session()
        #: the last exchange made (also when it failed)
        self.last_exchange: Exchange | None = None

    def close(self) -> None:
        self.session.close()

    def call(
        self,
        url: str,
        body: etree._Element,
        tx: soap.Transaction,
        attachments: dict[str, bytes] | None = None,
        attachment_types: dict[str, str] | None = None,
        use_mtom: bool = False,
    ) -> Reply:
        """Send ``body`` to ``url`` as ``tx``'s request; the response must be a readable SOAP 1.2 non-fault."""
        message_id = soap.new_message_id()
        env = soap.build_envelope(body, tx.request_action, message_id=message_id, to=url)
        xml = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
        if use_mtom or attachments:
            types = attachment_types or {}
            parts = {c: (d, types.get(c) or "application/octet-stream") for c, d in (attachments or {}).items()}
            data, content_type = mtom.encode(xml, parts, tx.request_action)
        else:
            data, content_type = xml, SOAP_CONTENT_TYPE.format(action=tx.request_action)
        return self.post(url, data, content_type, tx, message_id)

    def post(
        self,
        url: str,
        data: bytes,
        content_type: str,
        tx: soap.Transaction | None = None,
        message_id: str | None = None,
    ) -> Reply:
        """POST bytes as they are (a captured message, for instance) and read the answer."""
        ex = Exchange(
            actor=self.actor,
            direction="sent",
            peer=url,
            endpoint=url,
            request=data,
            request_content_type=content_type,
        )
        self.last_exchange = ex
        started = time.perf_counter()
        try:
            request_raw = self._describe_request(data, content_type, tx, ex)
            if message_id is None and request_raw is not None and request_raw.envelope is not None:
                message_id = request_raw.envelope.message_id
            reply = self._exchange(url, data, content_type, ex, message_id)
            return reply
        except TransportError as err:
            ex.error = str(err)
            err.exchange = ex
            raise
        finally:
            ex.duration_ms = round((time.perf_counter() - started) * 1000, 3)
            self._record(ex)

    def _describe_request(
        self, data: bytes, content_type: str, tx: soap.Transaction | None, ex: Exchange
    ) -> RawMessage | None:
        try:
            raw = read_message(data, content_type)
        except InputError as exc:
            ex.notes.append(f"the request is unreadable: {exc}")
            return None
        if tx is None:
            tx = soap.transaction_for_action(raw.soap_action)
        if tx is not None:
            ex.transaction = tx.name
            ex.request_flux = tx.request_flux
            ex.response_flux = tx.response_flux
        ex.request_action = raw.soap_action
        if self.validate:
            result = validate_message(raw, tx.request_flux if tx else None, self.profile)
            ex.request_findings = result.findings
            if result.error:
                ex.notes.append(f"the request could not be validated: {result.error}")
        return raw

    def _exchange(self, url: str, data: bytes, content_type: str, ex: Exchange, message_id: str | None) -> Reply:
        headers = {"Content-Type": content_type}
        options = self.tls.requests_options() if self.tls else {}
        try:
            resp = self.session.post(url, data=data, headers=headers, timeout=self.timeout, **options)  # type: ignore[arg-type]
        except requests.exceptions.SSLError as exc:
            raise TransportError(f"TLS handshake with {url} failed: {_reason(exc)}", url=url) from exc
        except requests.exceptions.Timeout as exc:
            raise TransportError(f"no answer from {url} within {self.timeout:g} s", url=url) from exc
        except requests.exceptions.RequestException as exc:
            raise TransportError(f"cannot reach {url}: {_reason(exc)}", url=url) from exc
        ex.http_status = resp.status_code
        ex.response = resp.content
        ex.response_content_type = resp.headers.get("content-type")
        try:
            raw = read_message(resp.content, ex.response_content_type)
        except InputError as exc:
            if not 200 <= resp.status_code < 300:
                snippet = resp.content[:200].decode("utf-8", "replace").strip()
                raise TransportError(
                    f"{url} answered HTTP {resp.status_code} {resp.reason}" + (f": {snippet}" if snippet else ""),
                    url=url,
                    status=resp.status_code,
                ) from None
            raise TransportError(f"unreadable response from {url}: {exc}", url=url, status=resp.status_code) from None
        env = raw.envelope
        if env is not None and env.fault is not None:
            f = env.fault
            sub = f" / {', '.join(f.subcodes)}" if f.subcodes else ""
            raise TransportError(
                f"{url} answered a SOAP Fault {f.code}{sub}: {f.reason} (HTTP {resp.status_code})",
                url=url,
                status=resp.status_code,
                fault_code=f.code,
                fault_subcodes=tuple(f.subcodes),
                fault_reason=f.reason,
            )
        if not 200 <= resp.status_code < 300:
            raise TransportError(
                f"{url} answered HTTP {resp.status_code} {resp.reason}", url=url, status=resp.status_code
            )
        if env is None:
            raise TransportError(f"the response from {url} is not a SOAP envelope", url=url, status=resp.status_code)
        if env.body is None:
            raise TransportError(f"the response from {url} has an empty SOAP Body", url=url, status=resp.status_code)
        ex.response_action = env.action
        notes: list[str] = []
        if message_id and env.relates_to != message_id:
            notes.append(f"wsa:RelatesTo is {env.relates_to!r}, not the request's MessageID {message_id!r}")
        if self.validate:
            result = validate_message(raw, ex.response_flux, self.profile)
            ex.response_findings = result.findings
            notes += result.notes
            if result.error:
                notes.append(f"the response could not be validated: {result.error}")
        ex.notes += notes
        return Reply(raw, ex, notes)

    def _record(self, ex: Exchange) -> None:
        if self.journal is None:
            return
        try:
            self.journal.record(ex)
        except Exception:
            log.exception("cannot write the exchange to the journal %s", self.journal.path)


def _reason(exc: Exception) -> str:
    """The innermost readable reason of a requests/urllib3 error."""
    text = str(exc)
    for arg in getattr(exc, "args", ()):
        reason = getattr(arg, "reason", None)
        if reason is not None:
            text = str(reason)
    return text or type(exc).__name__
