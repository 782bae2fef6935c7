"""From a message body to the objects the model-level rules read (cardinality tables, value sets)."""

from __future__ import annotations

from lxml import etree

from xdsi.ebrim import query as ebquery
from xdsi.messages import iti41, iti57, soap
from xdsi.model import identifiers as ids
from xdsi.validation.cardinality import Record, Subjects
from xdsi.xmlpaths import xpath_of


def extract(body: etree._Element, kind: str, attachments: dict[str, bytes] | None = None) -> Subjects:
    """The model objects of one message body that the cardinality tables and value-set rules read."""
    match kind:
        case "flux1":
            req = iti41.decode_request(body, attachments or {})
            return Subjects(req.objects, req.documents)
        case "flux3":
            return Subjects(iti57.decode_request(body))
        case "flux6":
            return Subjects(ebquery.decode_response(body).objects)
        case "flux5":
            q = ebquery.decode_request(body)
            uids = sum(
                1
                for name, values in q.slots
                if name == "$XDSDocumentEntryReferenceIdList"
                for value in values
                for item in value.strip("()").split(",")
                if ids.STUDY_INSTANCE_UID in item
            )
            aq = body.find(f"{{{soap.RIM}}}AdhocQuery")
            loc = xpath_of(aq if aq is not None else body)
            return Subjects(records={"StoredQuery": [Record(loc, {"study_instance_uids": uids})]})
        case "flux9":
            recs = [
                Record(
                    xpath_of(el),
                    {"document_unique_id": int(bool((el.findtext(f"{{{soap.XDSB}}}DocumentUniqueId") or "").strip()))},
                )
                for el in body.iter(f"{{{soap.XDSB}}}DocumentRequest")
            ]
            return Subjects(records={"ImageRequest": recs})
        case "flux10":
            recs = []
            for el in body.iter(f"{{{soap.XDSB}}}DocumentResponse"):
                doc = el.find(f"{{{soap.XDSB}}}Document")
                has = doc is not None and (len(doc) > 0 or bool((doc.text or "").strip()))
                recs.append(Record(xpath_of(el), {"content": int(has)}))
            return Subjects(records={"ImageResponse": recs})
    return Subjects()
