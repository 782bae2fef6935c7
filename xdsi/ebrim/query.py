"""ebRS 3.0 query messages: AdhocQueryRequest and AdhocQueryResponse (ITI-18)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from xdsi.ebrim import vocabulary as v
from xdsi.ebrim.decode import find_registry_object_list, registry_objects, registry_response, slots
from xdsi.ebrim.encode import registry_error_list, registry_object_list, rim, slot
from xdsi.model.metadata import RegistryObjects
from xdsi.model.responses import RegistryResponse

LEAF_CLASS = "LeafClass"
OBJECT_REF = "ObjectRef"


@dataclass
class AdhocQuery:
    """A stored query as sent: its id, return type and slots in order (name, encoded values)."""

    query_id: str
    return_type: str = LEAF_CLASS
    slots: list[tuple[str, list[str]]] = field(default_factory=list)

    def add(self, name: str, *values: str) -> AdhocQuery:
        self.slots.append((name, list(values)))
        return self


@dataclass
class AdhocQueryResult:
    response: RegistryResponse = field(default_factory=RegistryResponse)
    objects: RegistryObjects = field(default_factory=RegistryObjects)


def encode_request(q: AdhocQuery) -> etree._Element:
    req = etree.Element(f"{{{v.QUERY}}}AdhocQueryRequest", nsmap={"query": v.QUERY, "rim": v.RIM})
    etree.SubElement(req, f"{{{v.QUERY}}}ResponseOption", returnComposedObjects="true", returnType=q.return_type)
    aq = etree.SubElement(req, rim("AdhocQuery"), id=q.query_id)
    for name, values in q.slots:
        slot(aq, name, values)
    return req


def decode_request(el: etree._Element) -> AdhocQuery:
    opt = el.find(f"{{{v.QUERY}}}ResponseOption")
    aq = el.find(f"{{{v.RIM}}}AdhocQuery")
    return AdhocQuery(
        query_id=aq.get("id", "") if aq is not None else "",
        return_type=opt.get("returnType", "") if opt is not None else "",
        slots=slots(aq) if aq is not None else [],
    )


def encode_response(result: AdhocQueryResult) -> etree._Element:
    el = etree.Element(f"{{{v.QUERY}}}AdhocQueryResponse", nsmap={"query": v.QUERY, "rim": v.RIM, "rs": v.RS})
    el.set("status", result.response.status)
    registry_error_list(el, result.response)
    registry_object_list(result.objects, el)
    return el


def decode_response(el: etree._Element) -> AdhocQueryResult:
    return AdhocQueryResult(registry_response(el), registry_objects(find_registry_object_list(el)))
