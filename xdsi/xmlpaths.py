"""Readable XPaths for findings: prefixed names and positions.

E.g. ``/lcm:SubmitObjectsRequest/rim:RegistryObjectList/rim:ExtrinsicObject[2]``.
"""

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
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd": "wsse",
    "urn:oasis:names:tc:SAML:2.0:assertion": "saml2",
}


def qname(el: etree._Element) -> str:
    """``prefix:local`` with the usual prefix, the document's own prefix, or ``*[local-name()=…]``."""
    q = etree.QName(el)
    if q.namespace is None:
        return q.localname
    prefix = PREFIXES.get(q.namespace) or el.prefix
    return f"{prefix}:{q.localname}" if prefix else f"*[local-name()='{q.localname}']"


def xpath_of(el: etree._Element) -> str:
    """The path from the document root to ``el``, with a position where siblings share the name."""
    steps: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        parent = node.getparent()
        if not isinstance(node.tag, str):  # comment or processing instruction
            steps.append("node()")
            node = parent
            continue
        step = qname(node)
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                step += f"[{same.index(node) + 1}]"
        steps.append(step)
        node = parent
    return "/" + "/".join(reversed(steps))
