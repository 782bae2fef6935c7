"""Document Consumer client: Registry Stored Query (ITI-18, Flux 5 → 6), Retrieve Document Set (ITI-43, Flux 7 → 8).

    client = ConsumerClient("http://127.0.0.1:8080/")
    result = client.find_documents(patient_id, modalities=["CT"], regions=["67734004"])
    documents = client.retrieve([DocumentRequest(repository_uid, unique_id)]).documents

``url`` is the ITI-18 endpoint; ITI-43 goes to ``retrieve_url`` (default: ``url``, with a final ``/iti18``
replaced by ``/iti43`` as our registry names them). Retrieve responses are
read whether MTOM (the documents as MIME parts) or inline base64.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lxml import etree

from simulators.producer.soapclient import ClientTls, SoapClient, TransportError, sibling_url, transaction
from xdsi.ebrim.query import LEAF_CLASS, AdhocQuery, AdhocQueryResult, decode_response, encode_request
from xdsi.journal import Exchange, Journal
from xdsi.messages import iti18, iti43
from xdsi.model import metadata as md
from xdsi.model.identifiers import ACCESSION, STUDY_INSTANCE_UID, ReferenceId
from xdsi.model.metadata import Code
from xdsi.model.retrieve import DocumentRequest, RetrieveResponse
from xdsi.model.storedquery import EITHER_KINDS, NUMERIC_KINDS, StoredQuery, query_def

__all__ = ["ClientTls", "ConsumerClient", "TransportError", "adhoc_query", "find_documents_query"]

ITI18 = transaction("ITI-18")
ITI43 = transaction("ITI-43")
_DE = "$XDSDocumentEntry"

CodeLike = Code | str


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def adhoc_query(query: StoredQuery) -> AdhocQuery:
    """Encode a :class:`StoredQuery` (unquoted values) as the slots of an AdhocQuery (ITI TF-2a 3.18.4.1.2.3.4):
    times and metadata levels unquoted, strings quoted, multiple-valued parameters as ``('a','b')`` lists."""
    definition = query_def(query.query_id)
    out = AdhocQuery(query.query_id, query.return_type or LEAF_CLASS)
    for name, slots in query.params.items():
        p = definition.param(name) if definition else None
        for values in slots:
            if p is not None and (p.kind in NUMERIC_KINDS or p.kind in EITHER_KINDS):
                out.add(name, *values)
            elif p is not None and p.multiple:
                out.add(name, "(" + ",".join(_quote(v) for v in values) + ")")
            else:
                out.add(name, *(_quote(v) for v in values))
    return out


def _code(value: CodeLike, scheme: str) -> str:
    if isinstance(value, Code):
        return f"{value.code}^^{value.scheme}"
    return value if "^^" in value else f"{value}^^{scheme}"


def find_documents_query(
    patient_id: str,
    *,
    statuses: Sequence[str] = (md.APPROVED,),
    modalities: Iterable[CodeLike] = (),
    regions: Iterable[CodeLike] = (),
    event_codes: Iterable[CodeLike] = (),
    type_codes: Iterable[CodeLike] = (),
    class_codes: Iterable[CodeLike] = (),
    format_codes: Iterable[CodeLike] = (),
    accession_numbers: Iterable[str] = (),
    accession_issuer: str | None = None,
    study_uids: Iterable[str] = (),
    reference_ids: Iterable[str] = (),
    service_start_from: str | None = None,
    service_start_to: str | None = None,
    creation_from: str | None = None,
    creation_to: str | None = None,
    return_type: str = LEAF_CLASS,
) -> StoredQuery:
    """FindDocuments, or FindDocumentsByReferenceId when accession numbers, study UIDs or reference ids are
    given. Modalities (DICOM codes, ``CT``) and anatomic regions (SNOMED CT) go to two ANDed
    ``$XDSDocumentEntryEventCodeList`` slots (volet Tableau 13); codes are ``Code`` or ``code[^^scheme]``."""
    params: dict[str, list[list[str]]] = {
        f"{_DE}PatientId": [[patient_id]],
        f"{_DE}Status": [list(statuses)],
    }
    for name, slot in (
        (f"{_DE}EventCodeList", [_code(c, md.DCM) for c in modalities]),
        (f"{_DE}EventCodeList", [_code(c, md.SNOMED_CT) for c in regions]),
        (f"{_DE}EventCodeList", [_code(c, "") for c in event_codes]),
        (f"{_DE}TypeCode", [_code(c, "") for c in type_codes]),
        (f"{_DE}ClassCode", [_code(c, "") for c in class_codes]),
        (f"{_DE}FormatCode", [_code(c, "") for c in format_codes]),
    ):
        if slot:
            params.setdefault(name, []).append(slot)
    for name, value in (
        (f"{_DE}ServiceStartTimeFrom", service_start_from),
        (f"{_DE}ServiceStartTimeTo", service_start_to),
        (f"{_DE}CreationTimeFrom", creation_from),
        (f"{_DE}CreationTimeTo", creation_to),
    ):
        if value:
            params[name] = [[value]]
    refs = [str(ReferenceId(a, ACCESSION, accession_issuer)) for a in accession_numbers]
    refs += [str(ReferenceId(u, STUDY_INSTANCE_UID)) for u in study_uids]
    refs += list(reference_ids)
    if refs:
        params[f"{_DE}ReferenceIdList"] = [refs]
        return StoredQuery(iti18.FIND_DOCUMENTS_BY_REFERENCE_ID, "FindDocumentsByReferenceId", return_type, params)
    return StoredQuery(iti18.FIND_DOCUMENTS, "FindDocuments", return_type, params)


class ConsumerClient:
    def __init__(
        self,
        url: str,
        timeout: float = 30.0,
        *,
        retrieve_url: str | None = None,
        tls: ClientTls | None = None,
        journal: Journal | None = None,
        profile: str = "cisis",
    ) -> None:
        self.url = url
        self.retrieve_url = retrieve_url or sibling_url(url, "/iti18", "/iti43")
        self.soap = SoapClient(timeout, tls=tls, journal=journal, actor="consumer", profile=profile)

    @property
    def last_exchange(self) -> Exchange | None:
        return self.soap.last_exchange

    def close(self) -> None:
        self.soap.close()

    def __enter__(self) -> ConsumerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stored_query(self, query: StoredQuery | AdhocQuery) -> AdhocQueryResult:
        """Flux 5: any stored query, as a parsed :class:`StoredQuery` or as the slots of an AdhocQuery."""
        adhoc = adhoc_query(query) if isinstance(query, StoredQuery) else query
        reply = self.soap.call(self.url, encode_request(adhoc), ITI18)
        body = reply.body
        if etree.QName(body).localname != "AdhocQueryResponse":
            raise TransportError(f"{self.url} answered {body.tag}, not a query:AdhocQueryResponse", url=self.url)
        return decode_response(body)

    def find_documents(self, patient_id: str, **criteria: object) -> AdhocQueryResult:
        """FindDocuments / FindDocumentsByReferenceId (criteria: see :func:`find_documents_query`)."""
        return self.stored_query(find_documents_query(patient_id, **criteria))  # type: ignore[arg-type]

    def retrieve(self, requests: Sequence[DocumentRequest]) -> RetrieveResponse:
        """Flux 7: the documents (MTOM parts decoded, inline base64 accepted)."""
        reply = self.soap.call(self.retrieve_url, iti43.encode_request(list(requests)), ITI43)
        body = reply.body
        if etree.QName(body).localname != "RetrieveDocumentSetResponse":
            what = f"{body.tag}, not a xdsb:RetrieveDocumentSetResponse"
            raise TransportError(f"{self.retrieve_url} answered {what}", url=self.retrieve_url)
        return iti43.decode_response(body, reply.raw.attachments)
