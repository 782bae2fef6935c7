"""Fixtures of the registry server tests: uvicorn on a free loopback port in a background thread, a fake
registry for transport-level tests, the real one for end-to-end tests, request builders and TLS material.

Test modules name it in ``pytest_plugins`` (its fixtures) and import its helpers; the package's
``conftest.py`` belongs to the registry's domain tests. The helpers are imported before pytest registers the
module as a plugin, hence no assertion rewriting here: PYTEST_DONT_REWRITE.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from simulators.registry.server import RunningServer, TlsConfig, create_app, start_in_thread
from xdsi.ebrim import query as ebquery
from xdsi.journal import Journal
from xdsi.messages import examples as ex
from xdsi.messages import iti41, soap
from xdsi.messages.wire import SOAP_CONTENT_TYPE, WireMessage, to_wire
from xdsi.model.metadata import RegistryObjects
from xdsi.model.responses import RegistryResponse
from xdsi.model.retrieve import DocumentRequest, RetrievedDocument, RetrieveResponse
from xdsi.model.storedquery import StoredQuery

REPOSITORY_UID = "1.2.250.1.999.42.3.1"


# --------------------------------------------------------------------------------------------------- fakes


@dataclass
class FakeRegistry:
    """A minimal stand-in for transport-level tests: remembers what it is given, answers Success."""

    repository_unique_id: str = REPOSITORY_UID
    documents: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    #: set to an exception to make every call raise it
    fail_with: BaseException | None = None

    def _called(self, name: str, arg: Any) -> None:
        self.calls.append((name, arg))
        if self.fail_with is not None:
            raise self.fail_with

    def provide_and_register(self, request: iti41.ProvideAndRegisterRequest) -> RegistryResponse:
        self._called("provide_and_register", request)
        mime = {de.entry_uuid: (de.unique_id or "", de.mime_type or "") for de in request.objects.entries}
        for doc in request.documents:
            unique_id, mime_type = mime[doc.id]
            self.documents[unique_id] = (mime_type, doc.content)
        return RegistryResponse()

    def update(self, objects: RegistryObjects) -> RegistryResponse:
        self._called("update", objects)
        return RegistryResponse()

    def stored_query(self, query: StoredQuery) -> etree._Element:
        self._called("stored_query", query)
        return ebquery.encode_response(ebquery.AdhocQueryResult(objects=ex.flux6()))

    def retrieve(self, requests: list[DocumentRequest]) -> RetrieveResponse:
        self._called("retrieve", requests)
        docs = [
            RetrievedDocument(r.repository_unique_id, r.document_unique_id, *self.documents[r.document_unique_id])
            for r in requests
            if r.document_unique_id in self.documents
        ]
        return RetrieveResponse(RegistryResponse(), docs)

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------------------------------- servers

ServerFactory = Callable[..., RunningServer]


@pytest.fixture
def server_factory() -> Iterator[ServerFactory]:
    """``start(registry, tls=None, **create_app_options)`` → a running server, stopped at teardown."""
    started: list[RunningServer] = []

    def start(registry: Any, tls: TlsConfig | None = None, **options: Any) -> RunningServer:
        srv = start_in_thread(create_app(registry, **options), tls=tls)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite")


@pytest.fixture
def fake_registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def fake_server(server_factory: ServerFactory, fake_registry: FakeRegistry, journal: Journal) -> RunningServer:
    return server_factory(fake_registry, journal=journal)


def real_registry_class() -> Any:
    module = pytest.importorskip("simulators.registry.registry", reason="the registry domain has not landed yet")
    return module.Registry


@pytest.fixture
def real_registry(tmp_path: Path) -> Iterator[Any]:
    registry = real_registry_class()(f"sqlite:///{tmp_path / 'registry.sqlite'}", repository_unique_id=REPOSITORY_UID)
    yield registry
    registry.close()


@pytest.fixture
def real_server(server_factory: ServerFactory, real_registry: Any, journal: Journal) -> RunningServer:
    return server_factory(real_registry, journal=journal)


# --------------------------------------------------------------------------------------------------- messages


def fresh_exam(name: str | None = None) -> ex.Exam:
    """The example exam with its own uniqueIds (so that it can be submitted again)."""
    return ex.Exam(name=name or f"test-{uuid.uuid4().hex[:12]}")


def pnr_request(exam: ex.Exam | None = None) -> iti41.ProvideAndRegisterRequest:
    objects, docs = ex.flux1(exam or fresh_exam())
    return iti41.ProvideAndRegisterRequest(objects, docs)


def pnr_wire(request: iti41.ProvideAndRegisterRequest, mtom: bool = True, action: str = iti41.ACTION) -> WireMessage:
    body, attachments = iti41.encode_request(request, mtom=mtom)
    types = {iti41.content_id(de.entry_uuid): de.mime_type or "" for de in request.objects.entries}
    return to_wire(body, action, attachments, types)


def soap_content_type(action: str) -> str:
    return SOAP_CONTENT_TYPE.format(action=action)


def soap_xml(body: etree._Element, action: str | None, message_id: str | None = "auto") -> bytes:
    """A SOAP 1.2 envelope around ``body``; ``action=None`` leaves wsa:Action out, ``message_id=None`` MessageID."""
    env = soap.build_envelope(body, action or "x", message_id=None if message_id == "auto" else message_id)
    header = env.find(f"{{{soap.SOAP12}}}Header")
    assert header is not None
    for missing, local in ((action is None, "Action"), (message_id is None, "MessageID")):
        el = header.find(f"{{{soap.WSA}}}{local}")
        if missing and el is not None:
            header.remove(el)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def post(url: str, data: bytes, content_type: str | None = None, **kwargs: Any) -> requests.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return requests.post(url, data=data, headers=headers, timeout=30, **kwargs)


# --------------------------------------------------------------------------------------------------- TLS


@dataclass
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    #: a client certificate signed by another CA (must be refused under mutual TLS)
    rogue_cert: Path
    rogue_key: Path


def make_tls_files(directory: Path) -> TlsFiles:
    """A test CA, a server certificate for 127.0.0.1/localhost, a client certificate, and a rogue one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    def ca(cn: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(name(cn))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cert, key

    def leaf(
        cn: str, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], server: bool
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(issuer[0].subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[0].public_key()),  # type: ignore[arg-type]
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        return builder.sign(issuer[1], hashes.SHA256()), key

    def write(pair: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], stem: str) -> tuple[Path, Path]:
        cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
        cert_path.write_bytes(pair[0].public_bytes(serialization.Encoding.PEM))
        write_key(pair[1], key_path)
        return cert_path, key_path

    root = ca("xdsi test CA")
    rogue_ca = ca("another CA")
    ca_path, _ = write(root, "ca")
    server_cert, server_key = write(leaf("127.0.0.1", root, server=True), "server")
    client_cert, client_key = write(leaf("xdsi test client", root, server=False), "client")
    rogue_cert, rogue_key = write(leaf("rogue client", rogue_ca, server=False), "rogue")
    return TlsFiles(ca_path, server_cert, server_key, client_cert, client_key, rogue_cert, rogue_key)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    pytest.importorskip("cryptography")
    return make_tls_files(tmp_path_factory.mktemp("tls"))
