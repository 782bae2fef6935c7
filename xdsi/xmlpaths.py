"""Readable XPaths for findings: prefixed names and positions.

E.g. ``/lcm:SubmitObjectsRequest/rim:RegistryObjectList/rim:ExtrinsicObject[2]``.
"""

from __future__ import annotations

from lxml import etree

from xdsi.namespaces import PREFIXES


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
