"""A small deterministic mutation generator for XDS.b / XDS-I.b message bodies.

Each :class:`Mutation` finds its first target in a copy of a message (by XPath, document order) and
breaks it in one way: drop a required attribute or child, duplicate a [0..1] child, rename an
element, put text into element-only content, exceed a length limit, use a value outside an
enumeration or a type, add an unknown attribute, move an element to another namespace, reorder
children.  Used by the differential test to compare our XSDs with the official ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass

from lxml import etree

NS = {
    "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
    "rs": "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0",
    "lcm": "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0",
    "query": "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0",
    "xdsb": "urn:ihe:iti:xds-b:2007",
    "xdsi": "urn:ihe:rad:xdsi-b:2009",
    "xml": "http://www.w3.org/XML/1998/namespace",
}

Edit = Callable[[etree._Element], None]


@dataclass(frozen=True)
class Mutation:
    name: str
    xpath: str
    edit: Edit

    def apply(self, root: etree._Element) -> etree._Element | None:
        """A mutated copy of ``root``, or None when the message has no target."""
        copy = deepcopy(root)
        targets = copy.xpath(self.xpath, namespaces=NS)
        if not isinstance(targets, list) or not targets:
            return None
        target = targets[0]
        if not isinstance(target, etree._Element):
            return None
        self.edit(target)
        return copy


def _clark(name: str) -> str:
    prefix, _, local = name.rpartition(":")
    return f"{{{NS[prefix]}}}{local}" if prefix else local


# ------------------------------------------------------------------------------------------ edits


def drop_attribute(name: str) -> Edit:
    def edit(element: etree._Element) -> None:
        element.attrib.pop(_clark(name), None)

    return edit


def set_attribute(name: str, value: str) -> Edit:
    def edit(element: etree._Element) -> None:
        element.set(_clark(name), value)

    return edit


def set_text(text: str) -> Edit:
    def edit(element: etree._Element) -> None:
        for child in list(element):
            element.remove(child)
        element.text = text

    return edit


def add_text(text: str) -> Edit:
    def edit(element: etree._Element) -> None:
        element.text = (element.text or "") + text

    return edit


def add_child(tag: str) -> Edit:
    def edit(element: etree._Element) -> None:
        etree.SubElement(element, _clark(tag))

    return edit


def drop() -> Edit:
    def edit(element: etree._Element) -> None:
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)

    return edit


def drop_children() -> Edit:
    def edit(element: etree._Element) -> None:
        for child in list(element):
            element.remove(child)

    return edit


def duplicate() -> Edit:
    def edit(element: etree._Element) -> None:
        element.addnext(deepcopy(element))

    return edit


def rename(local: str) -> Edit:
    def edit(element: etree._Element) -> None:
        element.tag = etree.QName(etree.QName(element).namespace, local).text

    return edit


def move_to_namespace(namespace: str | None) -> Edit:
    def edit(element: etree._Element) -> None:
        element.tag = etree.QName(namespace, etree.QName(element).localname).text

    return edit


def swap_with_next() -> Edit:
    def edit(element: etree._Element) -> None:
        following = element.getnext()
        while following is not None and not isinstance(following.tag, str):
            following = following.getnext()
        if following is not None:
            following.addnext(element)

    return edit


def move_to_end() -> Edit:
    def edit(element: etree._Element) -> None:
        parent = element.getparent()
        if parent is not None:
            parent.append(element)

    return edit


def clear_attributes() -> Edit:
    def edit(element: etree._Element) -> None:
        element.attrib.clear()

    return edit


# ------------------------------------------------------------------------------------- catalogue

LONG_256 = "x" * 257
LONG_1024 = "y" * 1025

MUTATIONS: tuple[Mutation, ...] = (
    # required attributes
    Mutation("drop ExtrinsicObject/@id", "//rim:ExtrinsicObject", drop_attribute("id")),
    Mutation("drop Classification/@classifiedObject", "//rim:Classification", drop_attribute("classifiedObject")),
    Mutation("drop Classification/@id", "//rim:Classification", drop_attribute("id")),
    Mutation(
        "drop ExternalIdentifier/@identificationScheme",
        "//rim:ExternalIdentifier",
        drop_attribute("identificationScheme"),
    ),
    Mutation("drop ExternalIdentifier/@value", "//rim:ExternalIdentifier", drop_attribute("value")),
    Mutation("drop Association/@sourceObject", "//rim:Association", drop_attribute("sourceObject")),
    Mutation("drop Slot/@name", "//rim:Slot", drop_attribute("name")),
    Mutation("drop LocalizedString/@value", "//rim:LocalizedString", drop_attribute("value")),
    Mutation("drop RegistryResponse/@status", "//rs:RegistryResponse", drop_attribute("status")),
    Mutation("drop AdhocQueryResponse/@status", "//query:AdhocQueryResponse", drop_attribute("status")),
    Mutation("drop Document/@id", "//xdsb:Document", drop_attribute("id")),
    Mutation("drop StudyRequest/@studyInstanceUID", "//xdsi:StudyRequest", drop_attribute("studyInstanceUID")),
    Mutation("drop SeriesRequest/@seriesInstanceUID", "//xdsi:SeriesRequest", drop_attribute("seriesInstanceUID")),
    Mutation("drop AdhocQuery/@id", "//rim:AdhocQuery", drop_attribute("id")),
    Mutation("drop RegistryError/@errorCode", "//rs:RegistryError", drop_attribute("errorCode")),
    Mutation("clear Association attributes", "//rim:Association", clear_attributes()),
    # required children
    Mutation("drop Slot/ValueList", "//rim:Slot/rim:ValueList", drop()),
    Mutation("drop ResponseOption", "//query:ResponseOption", drop()),
    Mutation("drop AdhocQuery", "//query:AdhocQueryRequest/rim:AdhocQuery", drop()),
    Mutation(
        "drop SubmitObjectsRequest/RegistryObjectList",
        "//lcm:SubmitObjectsRequest/rim:RegistryObjectList",
        drop(),
    ),
    Mutation(
        "drop AdhocQueryResponse/RegistryObjectList",
        "//query:AdhocQueryResponse/rim:RegistryObjectList",
        drop(),
    ),
    Mutation("drop RepositoryUniqueId", "//xdsb:DocumentRequest/xdsb:RepositoryUniqueId", drop()),
    Mutation("drop DocumentResponse/mimeType", "//xdsb:DocumentResponse/xdsb:mimeType", drop()),
    Mutation("drop DocumentResponse/Document", "//xdsb:DocumentResponse/xdsb:Document", drop()),
    Mutation(
        "drop RetrieveDocumentSetResponse/RegistryResponse",
        "//xdsb:RetrieveDocumentSetResponse/rs:RegistryResponse",
        drop(),
    ),
    Mutation("drop TransferSyntaxUIDList", "//xdsi:TransferSyntaxUIDList", drop()),
    Mutation("drop SeriesRequest", "//xdsi:SeriesRequest", drop()),
    Mutation("empty RegistryErrorList", "//rs:RegistryErrorList", drop_children()),
    Mutation("empty TransferSyntaxUIDList", "//xdsi:TransferSyntaxUIDList", drop_children()),
    Mutation("drop optional Name", "//rim:ExtrinsicObject/rim:Name", drop()),
    # [0..1] children duplicated (and a [0..*] one, which stays valid)
    Mutation("duplicate Name", "//rim:ExtrinsicObject/rim:Name", duplicate()),
    Mutation("duplicate Description", "//rim:Description", duplicate()),
    Mutation("duplicate VersionInfo", "//rim:VersionInfo", duplicate()),
    Mutation("duplicate ValueList", "//rim:Slot/rim:ValueList", duplicate()),
    Mutation("duplicate ResponseOption", "//query:ResponseOption", duplicate()),
    Mutation("duplicate RegistryErrorList", "//rs:RegistryErrorList", duplicate()),
    Mutation("duplicate HomeCommunityId", "//xdsb:HomeCommunityId", duplicate()),
    Mutation("duplicate TransferSyntaxUIDList", "//xdsi:TransferSyntaxUIDList", duplicate()),
    Mutation("duplicate RegistryResponse", "//xdsb:RetrieveDocumentSetResponse/rs:RegistryResponse", duplicate()),
    Mutation("duplicate Slot", "//rim:Slot", duplicate()),
    # renamed elements, wrong namespaces, unknown elements
    Mutation("rename Slot", "//rim:Slot", rename("Slots")),
    Mutation("rename ExtrinsicObject", "//rim:ExtrinsicObject", rename("ExtrinsicObjects")),
    Mutation("rename DocumentUniqueId", "//xdsb:DocumentUniqueId", rename("DocumentUniqueID")),
    Mutation("rename root", "/*", rename("Request")),
    Mutation("Slot in rs namespace", "//rim:Slot", move_to_namespace(NS["rs"])),
    Mutation("ResponseOption in rim namespace", "//query:ResponseOption", move_to_namespace(NS["rim"])),
    Mutation("Classification without namespace", "//rim:Classification", move_to_namespace(None)),
    Mutation("unknown element in RegistryObjectList", "//rim:RegistryObjectList", add_child("rim:Foo")),
    # text or children where they do not belong
    Mutation("text in ValueList", "//rim:ValueList", add_text("stray")),
    Mutation("text in RegistryObjectList", "//rim:RegistryObjectList", add_text("stray")),
    Mutation("text in Slot", "//rim:Slot", add_text("stray")),
    Mutation("text in ResponseOption", "//query:ResponseOption", add_text("stray")),
    Mutation("text in LocalizedString", "//rim:LocalizedString", add_text("stray")),
    Mutation("child in Value", "//rim:Value", add_child("rim:Value")),
    Mutation("child in RegistryError", "//rs:RegistryError", add_child("rs:Detail")),
    Mutation("child in DocumentUniqueId", "//xdsb:DocumentUniqueId", add_child("xdsb:Part")),
    # length limits
    Mutation("Value > 256", "//rim:Value", set_text(LONG_256)),
    Mutation("ExternalIdentifier/@value > 256", "//rim:ExternalIdentifier", set_attribute("value", LONG_256)),
    Mutation("LocalizedString/@value > 1024", "//rim:LocalizedString", set_attribute("value", LONG_1024)),
    Mutation("versionName > 16", "//rim:VersionInfo", set_attribute("versionName", "v" * 17)),
    Mutation("Slot/@name > 256", "//rim:Slot", set_attribute("name", LONG_256)),
    Mutation("nodeRepresentation > 256", "//rim:Classification", set_attribute("nodeRepresentation", LONG_256)),
    Mutation("mimeType > 256", "//rim:ExtrinsicObject", set_attribute("mimeType", LONG_256)),
    Mutation("RepositoryUniqueId > 256", "//xdsb:RepositoryUniqueId", set_text(LONG_256)),
    Mutation("TransferSyntaxUID > 256", "//xdsi:TransferSyntaxUID", set_text(LONG_256)),
    Mutation("studyInstanceUID > 256", "//xdsi:StudyRequest", set_attribute("studyInstanceUID", LONG_256)),
    # enumerations and types
    Mutation("returnType not in enumeration", "//query:ResponseOption", set_attribute("returnType", "Leaf")),
    Mutation(
        "returnComposedObjects not boolean",
        "//query:ResponseOption",
        set_attribute("returnComposedObjects", "yes"),
    ),
    Mutation("isOpaque not boolean", "//rim:ExtrinsicObject", set_attribute("isOpaque", "maybe")),
    Mutation("maxResults not integer", "//query:AdhocQueryRequest", set_attribute("maxResults", "ten")),
    Mutation("xml:lang not a language", "//rim:LocalizedString", set_attribute("xml:lang", "not a language")),
    Mutation("status with a space", "//rs:RegistryResponse", set_attribute("status", "urn:a b")),
    Mutation("Document not base64", "//xdsb:Document", set_text("@@@ not base64 @@@")),
    # unknown attributes
    Mutation("unknown attribute on ExtrinsicObject", "//rim:ExtrinsicObject", set_attribute("foo", "bar")),
    Mutation("foreign attribute on Slot", "//rim:Slot", set_attribute("xdsb:foo", "bar")),
    Mutation("attribute on Value", "//rim:Value", set_attribute("lang", "fr")),
    Mutation("unknown attribute on DocumentRequest", "//xdsb:DocumentRequest", set_attribute("foo", "bar")),
    # reordered children
    Mutation("Name after its next sibling", "//rim:ExtrinsicObject/rim:Name", swap_with_next()),
    Mutation("ResponseOption after AdhocQuery", "//query:ResponseOption", swap_with_next()),
    Mutation("RepositoryUniqueId after DocumentUniqueId", "//xdsb:RepositoryUniqueId", swap_with_next()),
    Mutation("first Slot moved to the end", "//rim:ExtrinsicObject/rim:Slot", move_to_end()),
    Mutation(
        "RegistryResponse after DocumentResponse",
        "//xdsb:RetrieveDocumentSetResponse/rs:RegistryResponse",
        swap_with_next(),
    ),
    Mutation(
        "SubmitObjectsRequest after Document",
        "//xdsb:ProvideAndRegisterDocumentSetRequest/lcm:SubmitObjectsRequest",
        swap_with_next(),
    ),
    Mutation("StudyRequest after TransferSyntaxUIDList", "//xdsi:StudyRequest", move_to_end()),
)


def mutants(root: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    """Every applicable mutation of ``root``, in catalogue order."""
    for mutation in MUTATIONS:
        mutated = mutation.apply(root)
        if mutated is not None:
            yield mutation.name, mutated
