"""Readable XPaths for findings: prefixed names and positions, e.g. ``/lcm:SubmitObjectsRequest/rim:RegistryObjectList/rim:ExtrinsicObject[2]``."""

from __future__ import annotations

from lxml import etree

PREFIXES = {
    "http://www.w3.org/2003/05/soap-envelope": "soap",
    "http://schemas.xmlsoap.org/soap/envelope/": "soap11",
    "http://www.w3.org/2005/08/addressing": "wsa",
    "http://www.w3.org/2004/08/xop/include": "xop",
    "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0": "rim",
    "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0": "rs",
    "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0": "lcm",
    "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0": "query",
    "urn:ihe:iti:xds-b:2007": "xdsb",
    "urn:ihe:rad:xdsi-b:2009": "xdsi",
    "urn:hl7-org:v3": "hl7",
}


def qname(el: etree._Element) -> str:
    q = etree.QName(el)
    prefix = PREFIXES.get(q.namespace or "", "")
    return f"{prefix}:{q.localname}" if prefix else q.localname


def xpath_of(el: etree._Element) -> str:
    """The path from the document root to ``el``, with a position where siblings share the name."""
    steps: list[str] = []
    node: etree._Element | None = el
    while node is not None and isinstance(node.tag, str):
        parent = node.getparent()
        step = qname(node)
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                step += f"[{same.index(node) + 1}]"
        steps.append(step)
        node = parent
    return "/" + "/".join(reversed(steps))
