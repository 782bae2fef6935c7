"""Our CDA R2 schema (schemas/xsd/cda) against the official CI-SIS ``CDA_extended.xsd``: same verdicts.

The 9 official examples (7 IMG-DA-IMG, 2 IMG-CR-IMG), our two documents, every document of the rule mutation table
and some hundreds of generated mutations (dropped, duplicated, renamed, reordered elements; unknown, missing and
out-of-set attributes; text in element-only content; other xsi:types; malformed values) are validated with both
schema sets: the verdicts must be equal, and so must the (libxml2 error type, location) of every error. The
official schema is read from ../shared/corpus/cda-xsd (the comparison is skipped when it is absent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from copy import deepcopy
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from tests.fixtures.cda import CORPUS_CDA, apply_mutation, base_document, build_cr, build_da, mutations
from tests.rulecheck import assert_fires, assert_silent
from xdsi import ROOT
from xdsi.validation import cda_xsd
from xdsi.validation.findings import CATALOGUE

OFFICIAL_XSD_DIR = ROOT.parent / "shared" / "corpus" / "cda-xsd"
HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

OFFICIAL_EXAMPLES = sorted(p.name for p in CORPUS_CDA.glob("*.xml")) if CORPUS_CDA.is_dir() else []

#: Differential counts, filled by the tests (printed by test_report_counts).
COUNTS: dict[str, int] = {"documents": 0, "generated": 0, "generated_invalid": 0, "table": 0}


@cache
def official() -> etree.XMLSchema:
    entry = OFFICIAL_XSD_DIR / "CDA_extended.xsd"
    if not entry.is_file():
        pytest.skip("official CDA schema absent (../shared/corpus/cda-xsd)")
    return etree.XMLSchema(etree.parse(str(entry)))


@cache
def ours() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(cda_xsd.OUR_CDA_XSD)))


def errors(schema: etree.XMLSchema, root: etree._Element) -> list[tuple[str, str]]:
    schema.validate(root)
    return sorted((e.type_name, e.path or "") for e in schema.error_log)  # type: ignore[attr-defined]


def same_verdict(root: etree._Element, label: str) -> bool:
    """Assert both schema sets agree on ``root``; return whether it is valid."""
    theirs, mine = errors(official(), root), errors(ours(), root)
    assert mine == theirs, f"{label}: ours {mine[:5]} != official {theirs[:5]}"
    return not mine


# ------------------------------------------------------------------------------------------- documents


@pytest.mark.parametrize("name", OFFICIAL_EXAMPLES)
def test_official_examples_valid_with_both(name: str) -> None:
    root = etree.parse(str(CORPUS_CDA / name), _PARSER).getroot()
    assert same_verdict(root, name)
    assert cda_xsd.validate_cda_xsd(root) == []
    COUNTS["documents"] += 1


def test_official_examples_present(corpus: Path) -> None:
    assert len([n for n in OFFICIAL_EXAMPLES if n.startswith("IMG-DA-IMG")]) == 7
    assert len([n for n in OFFICIAL_EXAMPLES if n.startswith("IMG_CR_IMG")]) == 2


@pytest.mark.parametrize("build", [build_da, build_cr], ids=["da", "cr"])
def test_our_documents_valid_with_both(build: Callable[[], bytes]) -> None:
    root = etree.fromstring(build(), _PARSER)
    assert cda_xsd.validate_cda_xsd(root) == []
    assert same_verdict(root, build.__name__)
    COUNTS["documents"] += 1


def test_mutation_table_documents_same_verdict() -> None:
    """Every document of features/cda/mutations.yaml (rule mutations included) gets the same XSD verdict."""
    compared = 0
    for mutation in mutations().values():
        for base in mutation.bases:
            data = base_document(base)
            if data is None:
                continue
            root = etree.fromstring(apply_mutation(mutation, data), _PARSER)
            valid = same_verdict(root, f"{mutation.name}@{base}")
            assert valid == (not any(r.startswith("XSD.") for r in mutation.rules)), mutation.name
            compared += 1
    COUNTS["table"] += compared
    assert compared >= 100


# ------------------------------------------------------------------------------------ generated mutations

Edit = Callable[[etree._Element], bool]
STRUCTURAL = ("classCode", "moodCode", "typeCode", "determinerCode", "nullFlavor", "use", "representation")
XSI_TYPES = ("CD", "CE", "CS", "ST", "II", "PQ", "IVL_TS", "TS", "BL", "INT", "RTO_PQ_PQ", "ED", "SC", "ANY", "CR")


def _drop(el: etree._Element) -> bool:
    parent = el.getparent()
    if parent is None:
        return False
    parent.remove(el)
    return True


def _duplicate(el: etree._Element) -> bool:
    if el.getparent() is None:
        return False
    copy = deepcopy(el)
    for node in copy.iter():  # keep xs:ID unique: drop them from the copy
        if isinstance(node.tag, str) and "ID" in node.attrib:
            del node.attrib["ID"]
    el.addnext(copy)
    return True


def _rename(el: etree._Element) -> bool:
    if el.getparent() is None:
        return False
    q = etree.QName(el)
    el.tag = f"{{{q.namespace}}}{q.localname}X" if q.namespace else f"{q.localname}X"
    return True


def _swap(el: etree._Element) -> bool:
    previous = el.getprevious()
    while previous is not None and not isinstance(previous.tag, str):
        previous = previous.getprevious()
    if previous is None or etree.QName(previous).localname == etree.QName(el).localname:
        return False
    previous.addprevious(el)
    return True


def _unknown_attribute(el: etree._Element) -> bool:
    el.set("xdsiInconnu", "1")
    return True


def _drop_structural(el: etree._Element) -> bool:
    present = [a for a in STRUCTURAL[:4] if a in el.attrib]
    if not present:
        return False
    del el.attrib[present[0]]
    return True


def _bad_code(el: etree._Element) -> bool:
    present = [a for a in STRUCTURAL if a in el.attrib]
    if not present:
        return False
    el.set(present[0], "ZZZ")
    return True


def _text(el: etree._Element) -> bool:
    if el.getparent() is None or len(el) == 0:
        return False
    el[0].addprevious(etree.Comment("x"))  # keep a node before the text
    el[0].tail = "texte inattendu"
    return True


def _xsi_type(el: etree._Element) -> bool:
    if el.get(f"{{{XSI}}}type") is None and etree.QName(el).localname not in ("value", "code", "effectiveTime", "id"):
        return False
    current = el.get(f"{{{XSI}}}type", "")
    index = sum(map(ord, etree.QName(el).localname + current)) % len(XSI_TYPES)
    el.set(f"{{{XSI}}}type", XSI_TYPES[index] if XSI_TYPES[index] != current else "IVL_PQ")
    return True


def _bad_value(el: etree._Element) -> bool:
    for attr, bad in (("value", "2024-13-45T"), ("root", "1..2"), ("code", "a b"), ("extension", ""), ("unit", "")):
        if attr in el.attrib:
            el.set(attr, bad)
            return True
    return False


EDITS: dict[str, Edit] = {
    "drop": _drop,
    "duplicate": _duplicate,
    "rename": _rename,
    "swap": _swap,
    "unknown-attribute": _unknown_attribute,
    "drop-structural": _drop_structural,
    "bad-code": _bad_code,
    "text": _text,
    "xsi-type": _xsi_type,
    "bad-value": _bad_value,
}


def generated(root: etree._Element, per_edit: int = 12) -> Iterator[tuple[str, etree._Element]]:
    """Deterministic mutants: for each edit, up to ``per_edit`` targets spread over the document."""
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    paths = [_index_path(e) for e in elements]
    count = len(elements)
    step = max(1, count // (per_edit * 3))
    for edit_name, edit in EDITS.items():
        made = 0
        for index in range(0, count, step):
            if made >= per_edit:
                break
            position = (index + len(edit_name)) % count
            if etree.QName(elements[position]).namespace not in (HL7, "urn:dicom-org:ps3-20"):
                continue
            copy = deepcopy(root)
            target = copy
            for child in paths[position]:
                target = target[child]
            if not edit(target):
                continue
            made += 1
            yield f"{edit_name}#{index}", copy


def _index_path(element: etree._Element) -> list[int]:
    path: list[int] = []
    parent = element.getparent()
    while parent is not None:
        path.append(parent.index(element))
        element, parent = parent, parent.getparent()
    return path[::-1]


def _bases() -> list[tuple[str, bytes]]:
    out = [("da", build_da()), ("cr", build_cr())]
    out += [(name, (CORPUS_CDA / name).read_bytes()) for name in OFFICIAL_EXAMPLES]
    return out


@pytest.mark.parametrize(("label", "data"), _bases(), ids=[label for label, _ in _bases()])
def test_generated_mutations_same_verdict(label: str, data: bytes) -> None:
    root = etree.fromstring(data, _PARSER)
    compared = invalid = 0
    for name, mutant in generated(root):
        if not same_verdict(mutant, f"{label}:{name}"):
            invalid += 1
        compared += 1
    COUNTS["generated"] += compared
    COUNTS["generated_invalid"] += invalid
    assert compared >= 30 and invalid >= 20, (compared, invalid)


def test_report_counts(capsys: pytest.CaptureFixture[str]) -> None:
    """Summary of the differential run (visible with -s; meaningful after the tests above)."""
    with capsys.disabled():
        print(f"\nCDA XSD differential: {COUNTS}")


# ------------------------------------------------------------------------------------------- the layer


def test_validate_with_the_official_directory() -> None:
    root = etree.fromstring(apply_mutation("xsd-element-inconnu", build_da()), _PARSER)
    if not OFFICIAL_XSD_DIR.is_dir():
        pytest.skip("official CDA schema absent")
    assert cda_xsd.cda_schema_path(OFFICIAL_XSD_DIR).name == "CDA_extended.xsd"
    mine = cda_xsd.validate_cda_xsd(root)
    theirs = cda_xsd.validate_cda_xsd(root, OFFICIAL_XSD_DIR)
    assert [(f.rule, f.location) for f in mine] == [(f.rule, f.location) for f in theirs]
    assert "CDA_extended.xsd" in theirs[0].reference and "schemas/xsd/cda/cda.xsd" in mine[0].reference


def test_unknown_root() -> None:
    root = etree.fromstring(b'<Document xmlns="urn:x"><a/></Document>')
    findings = cda_xsd.validate_cda_xsd(root)
    assert_fires(findings, "XSD.UNKNOWN_ROOT", "Document")
    assert "ClinicalDocument" in findings[0].message
    assert_silent(cda_xsd.validate_cda_xsd(etree.fromstring(build_da())), "XSD.UNKNOWN_ROOT")


def test_schema_error(tmp_path: Path) -> None:
    root = etree.fromstring(build_da())
    assert_fires(cda_xsd.validate_cda_xsd(root, tmp_path / "nowhere"), "XSD.SCHEMA_ERROR")
    (tmp_path / "empty").mkdir()
    assert_fires(cda_xsd.validate_cda_xsd(root, tmp_path / "empty"), "XSD.SCHEMA_ERROR")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "CDA.xsd").write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><oops')
    assert_fires(cda_xsd.validate_cda_xsd(root, tmp_path / "broken"), "XSD.SCHEMA_ERROR")
    assert_silent(cda_xsd.validate_cda_xsd(root), "XSD.SCHEMA_ERROR")


def test_a_directory_is_searched_for_the_clinical_document_schema(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    schema = tmp_path / "sub" / "my-cda.xsd"
    schema.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:hl7-org:v3" '
        'elementFormDefault="qualified"><xs:element name="ClinicalDocument"/></xs:schema>'
    )
    assert cda_xsd.cda_schema_path(tmp_path) == schema
    findings = cda_xsd.validate_cda_xsd(etree.fromstring(build_da()), tmp_path)
    # an anyType ClinicalDocument: only the xsi:type names (CD, BL) are unknown to that schema
    assert findings and {f.rule for f in findings} == {"XSD.SCHEMAV_CVC_ELT_4_2"}
    assert "my-cda.xsd" in findings[0].reference


def test_findings_locate_the_element_and_the_attribute() -> None:
    root = etree.fromstring(apply_mutation("xsd-attribut-inconnu", build_da()))
    hit = assert_fires(cda_xsd.validate_cda_xsd(root), "XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_1")
    assert hit.location == "/hl7:ClinicalDocument/hl7:code/@couleur"
    root = etree.fromstring(apply_mutation("xsd-type-inconnu", build_da()))
    hit = assert_fires(cda_xsd.validate_cda_xsd(root), "XSD.SCHEMAV_CVC_ELT_4_2")
    assert hit.location.endswith("hl7:observation/hl7:value/@xsi:type")


def test_cda_xsd_rules_are_declared_for_the_cda_kinds() -> None:
    for rule_id in (*cda_xsd.CDA_XSD_RULES, *cda_xsd.SHARED_XSD_RULES):
        assert {"img-da-img", "img-cr-img"} <= set(CATALOGUE[rule_id].kinds), rule_id
    assert "flux1" in CATALOGUE["XSD.SCHEMAV_ELEMENT_CONTENT"].kinds  # the flux kinds are kept
