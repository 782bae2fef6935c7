"""The official ANS schematrons compiled with lxml's ISO skeleton in SaxonC-HE, and the side-by-side pairing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xdsi.validation.findings import CATALOGUE, Finding
from xdsi.validation.official import (
    OfficialFinding,
    OfficialSchematronError,
    clear_memory_cache,
    compile_official,
    element_location,
    normalize_location,
    official_dir_for,
    official_for,
    side_by_side,
    skeleton_dir,
)

BODY = "/hl7:ClinicalDocument/hl7:component/hl7:structuredBody"
ACT = BODY + "/hl7:component[3]/hl7:section/hl7:entry/hl7:observation"

DA_EXAMPLES = [
    "IMG-DA-IMG_2024.01_Mammo-Echo-Seins.xml",
    "IMG-DA-IMG_2024.01_Radiographie_ChevilleGenou.xml",
    "IMG-DA-IMG_2024.01_Radiographie_Echographie_SeinThorax.xml",
    "IMG-DA-IMG_2024.01_Radiographie_IRM_Genou.xml",
    "IMG-DA-IMG_2024.01_Radiographie_Scanner_Genou.xml",
    "IMG-DA-IMG_2024.01_Scanner_Crane_ThoraxAbdomenPelvis.xml",
    "IMG-DA-IMG_2024.01_TEP_Thorax.xml",
]


@pytest.fixture(scope="session")
def saxon() -> None:
    """Tests that run Saxon skip when saxonche is not installed (the pairing and error tests do not need it)."""
    pytest.importorskip("saxonche", reason="saxonche (SaxonC-HE) is not installed")


@pytest.fixture(scope="session")
def cache_dir(saxon: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keep the tests' disk cache out of the user's ~/.cache."""
    return tmp_path_factory.mktemp("official-cache")


# ------------------------------------------------------------------------------------------ official corpus


@pytest.fixture(scope="session")
def tcc(corpus: Path, saxon: None) -> Path:
    path = corpus / "official-schematron" / "testcontenucda"
    if not path.is_dir():
        pytest.skip("the TestContenuCDA schematrons are not in the corpus")
    return path


@pytest.fixture(scope="session")
def official_da(tcc: Path, corpus: Path, cache_dir: Path):
    return compile_official(
        official_dir_for("img-da-img", tcc), jdv_dir=corpus / "valuesets" / "svs", cache_dir=cache_dir
    )


@pytest.fixture(scope="session")
def official_cr(tcc: Path, corpus: Path, cache_dir: Path):
    return compile_official(
        official_dir_for("img-cr-img", tcc), jdv_dir=corpus / "valuesets" / "svs", cache_dir=cache_dir
    )


@pytest.mark.corpus
def test_official_dir_for_testcontenucda_layouts(tcc: Path) -> None:
    assert official_dir_for("img-da-img", tcc).name == "CI-SIS_IMG-DA-IMG_2024.01.sch"
    assert official_dir_for("img-cr-img", tcc).name == "CI-SIS_IMG-CR-IMG_2024.01.sch"
    # the schematrons directory itself is accepted too
    assert official_dir_for("img-da-img", tcc / "schematrons") == official_dir_for("img-da-img", tcc)


@pytest.mark.corpus
def test_official_for_compiles_the_kind_found(tcc: Path, corpus: Path, cache_dir: Path, official_cr) -> None:
    compiled = official_for("img-cr-img", tcc, corpus / "valuesets" / "svs", cache_dir=cache_dir)
    assert compiled is official_cr


@pytest.mark.corpus
def test_official_dir_for_art_decor_layout(corpus: Path) -> None:
    art = corpus / "official-schematron" / "art-decor"
    if not art.is_dir():
        pytest.skip("no ART-DECOR schematrons in the corpus")
    found = official_dir_for("img-da-img", art)
    assert found.name == "schematron.sch" and found.parent.name == "IMG-DA-IMG_2022.01"


@pytest.mark.corpus
def test_art_decor_cr_snapshot_misses_its_main_template(corpus: Path) -> None:
    """The corpus's ART-DECOR CR 2022.01 lacks its ≥ 4 MiB template file: a one-line error, before any Saxon work."""
    art = corpus / "official-schematron" / "art-decor"
    if not (art / "IMG-CR-IMG_2022.01").is_dir():
        pytest.skip("no ART-DECOR CR schematron in the corpus")
    with pytest.raises(OfficialSchematronError, match=r"schematron.sch:\d+: included file not found: .*1\.1\.1\.45"):
        compile_official(official_dir_for("img-cr-img", art), disk_cache=False)


@pytest.mark.corpus
@pytest.mark.parametrize("name", DA_EXAMPLES)
def test_da_examples_pass_the_official_schematron(official_da, corpus: Path, name: str) -> None:
    assert official_da.run(corpus / "cda" / name) == []


@pytest.mark.corpus
def test_cr_example_passes_the_official_schematron(official_cr, corpus: Path) -> None:
    assert official_cr.run(corpus / "cda" / "IMG_CR_IMG_2024.01.xml") == []


@pytest.mark.corpus
def test_cr_level1_example_gives_the_known_header_failures(official_cr, corpus: Path) -> None:
    """The N1 (XDS-SD) report is not an N3 volet document: the 4 header templateId/code asserts fail."""
    findings = official_cr.run(corpus / "cda" / "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml")
    assert [f.ref for f in findings] == [f"Entete_IMG-CR-IMG#{n}" for n in (1, 2, 3, 4)]
    assert {f.path for f in findings} == {"/hl7:ClinicalDocument"}
    assert all(f.kind == "failed-assert" and f.severity == "error" and f.id is None for f in findings)


@pytest.mark.corpus
def test_broken_example_fails_with_ref_and_location(official_da, corpus: Path) -> None:
    data = (corpus / "cda" / "IMG-DA-IMG_2024.01_Radiographie_IRM_Genou.xml").read_bytes()
    broken = data.replace(b'code="MR"', b'code="XX"', 1)
    assert broken != data
    [f] = official_da.run(broken)
    assert f.kind == "failed-assert"
    assert f.id is None and f.pattern == "JDV_Modalite-demandeActeImagerie-CISIS" and f.ordinal == 3
    assert f.ref == "JDV_Modalite-demandeActeImagerie-CISIS#3"
    assert f.path == ACT + "/hl7:code"
    assert f.location.startswith("/*[local-name()='ClinicalDocument' and namespace-uri()='urn:hl7-org:v3']")
    assert "XX" in f.text and "jdv-modalite-demande-acte-imagerie-cisis.xml" in f.text
    assert "document($JDV_Modalite-demandeActeImagerie-CISIS)" in f.test  # abstract parameters expanded
    assert f.as_dict()["ref"] == f.ref


@pytest.mark.corpus
def test_official_defect_anatomic_location_is_not_checked(official_da, corpus: Path) -> None:
    """Known defect (cisis-content §1.6): the DA anatomic-location JDV pattern targets the wrong template."""
    data = (corpus / "cda" / "IMG-DA-IMG_2024.01_TEP_Thorax.xml").read_bytes()
    assert official_da.run(data.replace(b'code="302551006"', b'code="999999999"')) == []


@pytest.mark.corpus
def test_compiled_once_then_from_disk(tcc: Path, corpus: Path, tmp_path: Path) -> None:
    sch = official_dir_for("img-da-img", tcc)
    jdv = corpus / "valuesets" / "svs"
    clear_memory_cache()
    first = compile_official(sch, jdv_dir=jdv, cache_dir=tmp_path)
    assert not first.from_cache and first.query_binding == "xslt2"
    assert compile_official(sch, jdv_dir=jdv, cache_dir=tmp_path) is first
    assert [p.suffix for p in tmp_path.iterdir()] == [".json"]
    assert tmp_path.joinpath(f"{first.sha256}.json").is_file()
    clear_memory_cache()
    again = compile_official(sch, jdv_dir=jdv, cache_dir=tmp_path)
    assert again.from_cache and again.sha256 == first.sha256 and again.xslt == first.xslt


@pytest.mark.corpus
def test_testcontenucda_layout_resolves_jdv_beside_the_schematrons(
    tcc: Path, corpus: Path, tmp_path: Path, cache_dir: Path
) -> None:
    """In a TestContenuCDA checkout the JDV paths ('../jeuxDeValeurs/…') resolve without jdv_dir."""
    root = tmp_path / "TestContenuCDA"
    root.mkdir()
    (root / "schematrons").symlink_to(tcc / "schematrons", target_is_directory=True)
    with pytest.raises(OfficialSchematronError, match="jdv_dir"):
        compile_official(official_dir_for("img-da-img", root), cache_dir=cache_dir)
    (root / "jeuxDeValeurs").symlink_to(corpus / "valuesets" / "svs", target_is_directory=True)
    compiled = compile_official(official_dir_for("img-da-img", root), cache_dir=cache_dir)
    assert all(v.startswith(str(root / "jeuxDeValeurs")) for v in compiled.value_sets)
    data = (corpus / "cda" / "IMG-DA-IMG_2024.01_TEP_Thorax.xml").read_bytes()
    assert compiled.run(data) == []
    [f] = compiled.run(data.replace(b'code="MED-1153"', b'code="MED-9999"'))
    assert f.ref == "JDV_InjectionPDC_TEP-CISIS#3"


# ------------------------------------------------------------------------------------------ own schematron

LIB = """<?xml version="1.0" encoding="UTF-8"?>
<pattern xmlns="http://purl.oclc.org/dsdl/schematron" abstract="true" id="inSet">
  <rule context="$elt">
    <let name="c" value="@code"/>
    <assert test="$c = tokenize($allowed, ' ')" id="ITEM.SET" role="warning" diagnostics="d1">
      <name/> code <value-of select="$c"/> not in ($allowed)</assert>
  </rule>
</pattern>
"""

MAIN = """<?xml version="1.0" encoding="UTF-8"?>
<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2" defaultPhase="main">
  <ns prefix="cda" uri="urn:hl7-org:v3"/>
  <let name="limit" value="2"/>
  <include href="lib/inset.sch"/>
  <phase id="main"><active pattern="struct"/><active pattern="codes"/></phase>
  <phase id="codes-only"><active pattern="codes"/></phase>
  <pattern id="struct">
    <let name="max" value="$limit"/>
    <rule context="cda:doc">
      <assert test="every $i in cda:item satisfies $i/@code" id="ITEM.CODE" role="error" flag="structure">
        every item has a code</assert>
      <assert test="count(cda:item) le $max" id="ITEM.MAX">at most <value-of select="$max"/> items, found
        <value-of select="count(cda:item)"/></assert>
      <report test="cda:item[@code='X']" id="ITEM.X" role="info">item X is present</report>
    </rule>
  </pattern>
  <pattern id="codes" is-a="inSet">
    <param name="elt" value="cda:item[@code]"/>
    <param name="allowed" value="'A B X'"/>
  </pattern>
  <diagnostics><diagnostic id="d1">allowed: A, B or X</diagnostic></diagnostics>
</schema>
"""

DOC = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<doc xmlns="urn:hl7-org:v3"><item code="A"/><item code="Q"/><item/><item code="X"/></doc>"""


@pytest.fixture
def own_schematron(tmp_path: Path) -> Path:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "inset.sch").write_text(LIB, encoding="utf-8")
    main = tmp_path / "main.sch"
    main.write_text(MAIN, encoding="utf-8")
    return main


def test_skeleton_comes_from_the_installed_lxml() -> None:
    import lxml

    assert skeleton_dir().is_relative_to(Path(lxml.__file__).resolve().parent)
    assert not (Path(__file__).resolve().parent.parent / "xdsi" / "iso_svrl_for_xslt1.xsl").exists()


def test_own_schematron_include_abstract_let_phase_diagnostics(own_schematron: Path, cache_dir: Path) -> None:
    compiled = compile_official(own_schematron, cache_dir=cache_dir)
    assert compiled.phase == "main"
    findings = compiled.run(DOC)
    by_id = {f.id or "": f for f in findings}
    assert sorted(by_id) == ["ITEM.CODE", "ITEM.MAX", "ITEM.SET", "ITEM.X"]
    code = by_id["ITEM.CODE"]
    assert (code.kind, code.role, code.flag, code.severity) == ("failed-assert", "error", "structure", "error")
    assert code.pattern == "struct" and code.context == "cda:doc" and code.path == "/hl7:doc"
    assert by_id["ITEM.MAX"].text == "at most 2 items, found 4"  # pattern let from a schema let, value-of
    assert by_id["ITEM.MAX"].severity == "error"  # an assert without role
    x = by_id["ITEM.X"]
    assert (x.kind, x.severity, x.ref) == ("successful-report", "info", "ITEM.X")
    in_set = by_id["ITEM.SET"]  # abstract pattern instance, rule-level let, name, param in text
    assert in_set.pattern == "codes" and in_set.severity == "warning"
    assert in_set.path == "/hl7:doc/hl7:item[2]"
    assert in_set.text.startswith("item code Q not in") or in_set.text.startswith("cda:item code Q not in")
    assert in_set.diagnostics == ("allowed: A, B or X",)


def test_own_schematron_other_phase(own_schematron: Path, cache_dir: Path) -> None:
    compiled = compile_official(own_schematron, phase="codes-only", cache_dir=cache_dir)
    assert [f.id for f in compiled.run(DOC)] == ["ITEM.SET"]
    everything = compile_official(own_schematron, phase="#ALL", cache_dir=cache_dir)
    assert len(everything.run(DOC)) == 4
    with pytest.raises(OfficialSchematronError, match="no phase 'nope'"):
        compile_official(own_schematron, phase="nope", cache_dir=cache_dir)


def test_memory_cache_follows_the_files(own_schematron: Path, cache_dir: Path) -> None:
    first = compile_official(own_schematron, cache_dir=cache_dir)
    assert compile_official(own_schematron, cache_dir=cache_dir) is first
    lib = own_schematron.parent / "lib" / "inset.sch"
    lib.write_text(LIB.replace("not in", "is not in"), encoding="utf-8")
    second = compile_official(own_schematron, cache_dir=cache_dir)
    assert second is not first and second.sha256 != first.sha256
    assert "is not in" in next(f.text for f in second.run(DOC) if f.id == "ITEM.SET")


def test_unreadable_document(own_schematron: Path, cache_dir: Path) -> None:
    compiled = compile_official(own_schematron, cache_dir=cache_dir)
    with pytest.raises(OfficialSchematronError, match="document not readable"):
        compiled.run(b"<doc")
    with pytest.raises(OfficialSchematronError, match="document not readable"):
        compiled.run(b'<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><d>&e;</d>')
    with pytest.raises(OfficialSchematronError, match="document not readable"):
        compiled.run(own_schematron.parent / "missing.xml")


# ------------------------------------------------------------------------------------------ errors


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'/>", "not an ISO schematron"),
        ("<schema xmlns='http://www.ascc.net/xml/schematron'/>", "Schematron 1.5"),
        ("not xml at all", "not readable XML"),
        ("<schema xmlns='http://purl.oclc.org/dsdl/schematron' queryBinding='xslt2'/>", "has no rule"),
        (
            "<schema xmlns='http://purl.oclc.org/dsdl/schematron' queryBinding='python'>"
            "<pattern><rule context='/'><assert test='1'>x</assert></rule></pattern></schema>",
            "unsupported queryBinding",
        ),
        (
            "<schema xmlns='http://purl.oclc.org/dsdl/schematron' queryBinding='xslt2'>"
            "<pattern><rule context='/'><assert test='count(a) = = 1'>x</assert></rule></pattern></schema>",
            "Saxon cannot compile it",
        ),
        (
            "<schema xmlns='http://purl.oclc.org/dsdl/schematron'><include href='nothere.sch'/></schema>",
            "included file not found",
        ),
        (
            "<schema xmlns='http://purl.oclc.org/dsdl/schematron'><pattern><let name='J' "
            "value=\"'../jeuxDeValeurs/x.xml'\"/><rule context='/'><assert test='1'>x</assert></rule>"
            "</pattern></schema>",
            "value set of let \\$J not found",
        ),
    ],
)
def test_bad_schematrons(tmp_path: Path, content: str, message: str, cache_dir: Path) -> None:
    with pytest.raises(OfficialSchematronError, match=message) as info:
        compile_official(_write(tmp_path, "bad.sch", content), cache_dir=cache_dir)
    assert "\n" not in info.value.reason


def test_missing_paths(tmp_path: Path) -> None:
    with pytest.raises(OfficialSchematronError, match="schematron not found"):
        compile_official(tmp_path / "nope.sch")
    with pytest.raises(OfficialSchematronError, match="not a file"):
        compile_official(tmp_path)
    sch = _write(tmp_path, "ok.sch", MAIN)
    with pytest.raises(OfficialSchematronError, match="value-set directory not found"):
        compile_official(sch, jdv_dir=tmp_path / "jdv")


def test_official_dir_for_errors(tmp_path: Path) -> None:
    with pytest.raises(OfficialSchematronError, match="directory not found"):
        official_dir_for("img-da-img", tmp_path / "missing")
    with pytest.raises(OfficialSchematronError, match="no CI-SIS_IMG-DA-IMG_"):
        official_dir_for("img-da-img", tmp_path)
    with pytest.raises(OfficialSchematronError, match="no official schematron for kind 'kos'"):
        official_dir_for("kos", tmp_path)


def test_official_dir_for_takes_the_highest_version(tmp_path: Path) -> None:
    (tmp_path / "schematrons").mkdir()
    for version in ("2022.01", "2024.01", "2023.02"):
        _write(tmp_path / "schematrons", f"CI-SIS_IMG-CR-IMG_{version}.sch", "<x/>")
    assert official_dir_for("img-cr-img", tmp_path).name == "CI-SIS_IMG-CR-IMG_2024.01.sch"


# ------------------------------------------------------------------------------------------ locations

XSLT1 = (
    "/*[local-name()='ClinicalDocument' and namespace-uri()='urn:hl7-org:v3']"
    "/*[local-name()='component' and namespace-uri()='urn:hl7-org:v3']"
    "/*[local-name()='structuredBody' and namespace-uri()='urn:hl7-org:v3']"
    "/*[local-name()='component' and namespace-uri()='urn:hl7-org:v3'][3]"
    "/*[local-name()='section' and namespace-uri()='urn:hl7-org:v3']"
)
XSLT2 = (
    "/*:ClinicalDocument[namespace-uri()='urn:hl7-org:v3'][1]/*:component[namespace-uri()='urn:hl7-org:v3'][1]"
    "/*:structuredBody[namespace-uri()='urn:hl7-org:v3'][1]/*:component[namespace-uri()='urn:hl7-org:v3'][3]"
    "/*:section[namespace-uri()='urn:hl7-org:v3'][1]"
)
OURS = "/hl7:ClinicalDocument/hl7:component/hl7:structuredBody/hl7:component[3]/hl7:section"


@pytest.mark.parametrize(
    "location",
    [
        XSLT1,
        XSLT2,
        OURS,
        OURS.replace("hl7:", "cda:"),
        OURS.replace("hl7:", "Q{urn:hl7-org:v3}"),
        "/hl7:ClinicalDocument[1]/hl7:component[1]/hl7:structuredBody/hl7:component[3]/hl7:section[1]",
    ],
)
def test_locations_normalise_to_one_form(location: str) -> None:
    assert normalize_location(location) == BODY + "/hl7:component[3]/hl7:section"


def test_location_attributes_and_unknowns() -> None:
    attr = XSLT1 + "/@*[local-name()='type' and namespace-uri()='http://www.w3.org/2001/XMLSchema-instance']"
    assert normalize_location(attr) == BODY + "/hl7:component[3]/hl7:section/@xsi:type"
    assert normalize_location(OURS + "/@code") == BODY + "/hl7:component[3]/hl7:section/@code"
    assert element_location(OURS + "/@code") == BODY + "/hl7:component[3]/hl7:section"
    assert normalize_location("/*:x[namespace-uri()='urn:other'][2]") == "/Q{urn:other}x[2]"
    assert normalize_location("/a/b[@c='d']") == "/a/b[@c='d']"  # not a path of positions: kept
    assert normalize_location("  line 12 ") == "line 12"


# ------------------------------------------------------------------------------------------ side by side


def ours(rule: str, location: str, severity: str = "error") -> Finding:
    return Finding(rule, severity, location, f"{rule} message", "ref")  # type: ignore[arg-type]


def official(
    ref_pattern: str,
    location: str,
    ordinal: int = 1,
    *,
    assert_id: str | None = None,
    role: str | None = None,
    text: str = "official text",
) -> OfficialFinding:
    return OfficialFinding(
        "failed-assert", assert_id, ref_pattern, "ctx", None, ordinal, "test()", role, None, location, text
    )


def test_side_by_side_pairs_by_location_and_family() -> None:
    code = (
        XSLT1 + "/*[local-name()='entry' and namespace-uri()='urn:hl7-org:v3']"
        "/*[local-name()='observation' and namespace-uri()='urn:hl7-org:v3']"
        "/*[local-name()='code' and namespace-uri()='urn:hl7-org:v3']"
    )
    mine = [
        ours("IMGDA.JDV.MODALITE", OURS + "/hl7:entry/hl7:observation/hl7:code/@code"),
        ours("IMGDA.ACTE.COMMENTAIRE", OURS + "/hl7:entry/hl7:observation", "warning"),
        ours("IMGDA.HEADER.X", "/hl7:ClinicalDocument"),
    ]
    theirs = [
        official(
            "S_PlanDeSoins_IMG-DA-IMG",
            XSLT2 + "/*:entry[namespace-uri()='urn:hl7-org:v3'][1]/*:observation[namespace-uri()='urn:hl7-org:v3'][1]",
            5,
        ),
        official("JDV_Modalite-demandeActeImagerie-CISIS", code, 3, text="[dansJeuDeValeurs] …"),
        official("principal", XSLT1.rsplit("/", 2)[0], 3),  # structuredBody: 2 steps from ClinicalDocument
    ]
    result = side_by_side(mine, theirs)
    status = {(p.ours.rule if p.ours else None, p.official.ref if p.official else None): p for p in result.pairs}
    jdv = status[("IMGDA.JDV.MODALITE", "JDV_Modalite-demandeActeImagerie-CISIS#3")]
    assert (jdv.status, jdv.family, jdv.match) == ("both", "valueset", "location+family")
    plan = status[("IMGDA.ACTE.COMMENTAIRE", "S_PlanDeSoins_IMG-DA-IMG#5")]
    assert plan.status == "both" and plan.severity_differs  # ours a warning, official an error
    assert status[("IMGDA.HEADER.X", None)].status == "ours only"
    assert status[(None, "principal#3")].status == "official only"
    assert result.counts() == {"both": 2, "ours only": 1, "official only": 1}
    assert not result.agree


def test_side_by_side_fallbacks_location_then_ancestor() -> None:
    section = OURS
    result = side_by_side(
        [ours("A.STRUCT", section), ours("B.STRUCT", section), ours("C.STRUCT", BODY)],
        [official("JDV_X", section, 3), official("principal", section + "/hl7:entry", 1)],
    )
    by_rule = {p.ours.rule: p for p in result.pairs if p.ours}
    assert by_rule["A.STRUCT"].match == "location"  # same place, families differ (structure / valueset)
    assert by_rule["A.STRUCT"].family == "structure/valueset"
    assert by_rule["B.STRUCT"].match == "parent+family"  # parent vs child, both structure
    assert by_rule["B.STRUCT"].location == section + "/hl7:entry"
    assert by_rule["C.STRUCT"].status == "ours only"  # a grandparent is too far


def test_side_by_side_empty_and_agreeing() -> None:
    assert side_by_side([], []).render_text() == "no findings on either side\n"
    result = side_by_side([ours("A", OURS)], [official("principal", XSLT2, 1)])
    assert result.agree and result.counts()["both"] == 1


def test_side_by_side_text_and_json_keep_official_ids() -> None:
    before = dict(CATALOGUE)
    result = side_by_side(
        [ours("IMGCR.SERIE.CARD", OURS, "warning")],
        [
            official("E_ExamenImagerie_IMG-CR-IMG", XSLT1, 1, assert_id="OFF-42", role="warning"),
            official("principal", "/*:ClinicalDocument[namespace-uri()='urn:hl7-org:v3'][1]", 2),
        ],
    )
    text = result.render_text()
    assert BODY + "/hl7:component[3]/hl7:section" in text
    assert "[both] structure: ours IMGCR.SERIE.CARD (warning) | official OFF-42 (warning)" in text
    assert "[official only] structure: ours - | official principal#2 (error)" in text
    data = json.loads(result.to_json())
    assert data["counts"] == {"both": 1, "ours only": 0, "official only": 1}
    refs = [(p["official"]["ref"], p["official"]["id"], p["official"]["pattern"]) for p in data["pairs"]]
    assert ("OFF-42", "OFF-42", "E_ExamenImagerie_IMG-CR-IMG") in refs
    assert ("principal#2", None, "principal") in refs
    assert data["pairs"][0]["ours"] is None or data["pairs"][0]["ours"]["rule"] == "IMGCR.SERIE.CARD"
    assert before == CATALOGUE  # official findings are never registered as our rules
