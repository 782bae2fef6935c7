"""Document Source / producer client: Provide and Register (ITI-41, Flux 1 → 2), Update (ITI-57, Flux 3 → 4).

    client = ProducerClient("http://127.0.0.1:8080/", journal=Journal("journal.sqlite"))
    response, exchange = client.provide_and_register(ProvideAndRegisterRequest(objects, documents))
    client.update(objects)

``url`` is the ITI-41 endpoint; ITI-57 goes to ``update_url`` (default: ``url``, with a final ``/iti41``
replaced by ``/iti57`` as our registry names them; its ``POST /`` dispatches on the action).
"""

from __future__ import annotations

from lxml import etree

from simulators.producer.soapclient import ClientTls, SoapClient, TransportError, sibling_url, transaction
from xdsi.ebrim import decode
from xdsi.journal import Exchange, Journal
from xdsi.messages import iti41, iti57
from xdsi.model.metadata import RegistryObjects
from xdsi.model.responses import RegistryResponse

__all__ = ["ClientTls", "ProducerClient", "TransportError"]

ITI41 = transaction("ITI-41")
ITI57 = transaction("ITI-57")


class ProducerClient:
    def __init__(
        self,
        url: str,
        timeout: float = 30.0,
        *,
        update_url: str | None = None,
        tls: ClientTls | None = None,
        journal: Journal | None = None,
        profile: str = "cisis",
    ) -> None:
        self.url = url
        self.update_url = update_url or sibling_url(url, "/iti41", "/iti57")
        self.soap = SoapClient(timeout, tls=tls, journal=journal, actor="producer", profile=profile)

    @property
    def last_exchange(self) -> Exchange | None:
        return self.soap.last_exchange

    def close(self) -> None:
        self.soap.close()

    def __enter__(self) -> ProducerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def provide_and_register(
        self, request: iti41.ProvideAndRegisterRequest, mtom: bool = True
    ) -> tuple[RegistryResponse, Exchange]:
        """Flux 1: the documents as MTOM/XOP parts (or inline base64 with ``mtom=False``)."""
        body, attachments = iti41.encode_request(request, mtom=mtom)
        mime = {de.entry_uuid: de.mime_type for de in request.objects.entries}
        types = {iti41.content_id(d.id): mime.get(d.id) or "application/octet-stream" for d in request.documents}
        reply = self.soap.call(self.url, body, ITI41, attachments, types, use_mtom=mtom)
        return _registry_response(reply.body, self.url), reply.exchange

    def update(self, objects: RegistryObjects) -> RegistryResponse:
        """Flux 3: a metadata update (status change, new version…)."""
        reply = self.soap.call(self.update_url, iti57.encode_request(objects), ITI57)
        return _registry_response(reply.body, self.update_url)


def _registry_response(body: etree._Element, url: str) -> RegistryResponse:
    if etree.QName(body).localname != "RegistryResponse":
        raise TransportError(f"{url} answered {body.tag}, not a rs:RegistryResponse", url=url)
    return decode.registry_response(body)
