"""Requirement coverage (xdsi.coverage): tags ↔ requirements table, French and English Gherkin."""

from __future__ import annotations

from pathlib import Path

import pytest

from xdsi.coverage import (
    COLUMNS,
    CoverageInputError,
    check_coverage,
    load_requirements,
    main,
    parse_feature,
    tag_for,
)

ROOT = Path(__file__).resolve().parents[1]

HEADER = ",".join(COLUMNS) + "\n"
REQS = (
    HEADER + "PEI-3.1-FLUX1,§3.1.2,Flux 1 sent,producer,1,SHALL,\n"
    "PEI-T12-REGION,§5.1.2 Tableau 12,regionAnatomique [1..*],producer,1,SHALL,\n"
    "PEI-3.7-APPEL,§3.7,appel contextuel,consumer,,SHOULD,hors périmètre\n"
)

FR = """# language: fr
@process_3_1 @req_PEI_3_1_FLUX1
Fonctionnalité: Ajout d'un lot de documents

  Contexte:
    Soit un registre

  @actor_producer @req_PEI_T12_REGION  # un commentaire @req_NOT_A_TAG
  Scénario: Le producteur publie un KOS
    Quand le producteur publie
    \"\"\"
    @req_IN_A_DOCSTRING
    Scénario: pas un scénario
    \"\"\"
    Alors le registre accepte

  Plan du scénario: Publication avec <n> images
    Quand le producteur publie <n> images

    @req_PEI_3_7_APPEL
    Exemples:
      | n |
      | 1 |
"""

EN = """Feature: Search
  Rule: imaging criteria
    @req_PEI_T12_REGION
    Scenario: by region
      When I search

  Scenario Outline: by modality <m>
    When I search <m>
    Examples:
      | m  |
      | CT |
"""


def write(tmp_path: Path, reqs: str = REQS, **features: str) -> tuple[Path, Path]:
    fdir = tmp_path / "features"
    fdir.mkdir(exist_ok=True)
    for name, text in features.items():
        (fdir / f"{name}.feature").write_text(text, encoding="utf-8")
    csv = tmp_path / "requirements.csv"
    csv.write_text(reqs, encoding="utf-8")
    return fdir, csv


def test_tag_for() -> None:
    assert tag_for("PEI-3.1-FLUX1") == "req_PEI_3_1_FLUX1"
    assert tag_for("PEI-T12-MODALITE") == "req_PEI_T12_MODALITE"


def test_french_feature_tags_are_inherited(tmp_path: Path) -> None:
    fdir, _ = write(tmp_path, fr=FR)
    scenarios = parse_feature(fdir / "fr.feature", fdir)
    assert [s.name for s in scenarios] == ["Le producteur publie un KOS", "Publication avec <n> images"]
    first, outline = scenarios
    assert first.feature == "Ajout d'un lot de documents"
    assert first.tags == ("process_3_1", "req_PEI_3_1_FLUX1", "actor_producer", "req_PEI_T12_REGION")
    assert first.where == "fr.feature:9"
    assert "req_IN_A_DOCSTRING" not in outline.tags
    assert outline.tags == ("process_3_1", "req_PEI_3_1_FLUX1", "req_PEI_3_7_APPEL")


def test_english_rule_tags(tmp_path: Path) -> None:
    fdir, _ = write(tmp_path, en="@req_PEI_3_1_FLUX1\n" + EN.replace("  Rule:", "  @req_X\n  Rule:"))
    by_region, outline = parse_feature(fdir / "en.feature")
    assert by_region.tags == ("req_PEI_3_1_FLUX1", "req_X", "req_PEI_T12_REGION")
    assert outline.name == "by modality <m>"
    assert "req_PEI_T12_REGION" not in outline.tags


def test_full_coverage_is_ok(tmp_path: Path) -> None:
    fdir, csv = write(tmp_path, fr=FR)
    report = check_coverage(fdir, csv)
    assert report.ok, report.render_text()
    assert [s.name for s in report.covered["PEI-T12-REGION"]] == ["Le producteur publie un KOS"]
    assert len(report.covered["PEI-3.1-FLUX1"]) == 2
    text = report.render_text()
    assert "PEI-3.1-FLUX1 [SHALL, producer] (§3.1.2): 2 scenario(s)" in text
    assert "fr.feature:9  Ajout d'un lot de documents / Le producteur publie un KOS" in text
    assert text.rstrip().endswith("OK")


def test_gap_fails_but_not_tested_reason_passes(tmp_path: Path) -> None:
    fdir, csv = write(tmp_path, en=EN)
    report = check_coverage(fdir, csv)
    assert not report.ok
    assert [r.id for r in report.gaps] == ["PEI-3.1-FLUX1"]  # PEI-3.7-APPEL has a not-tested reason
    assert "PEI-3.1-FLUX1 [SHALL, producer] (§3.1.2): GAP: no scenario" in report.render_text()
    assert "not tested: hors périmètre" in report.render_text()


def test_unknown_tag_fails(tmp_path: Path) -> None:
    fdir, csv = write(tmp_path, fr=FR.replace("@req_PEI_T12_REGION", "@req_PEI_T12_REGON"))
    report = check_coverage(fdir, csv)
    assert report.unknown_tags == [("req_PEI_T12_REGON", "fr.feature:9")]
    assert not report.ok
    assert "UNKNOWN TAG @req_PEI_T12_REGON at fr.feature:9" in report.render_text()


@pytest.mark.parametrize(
    ("reqs", "message"),
    [
        ("id,section,text\nA,b,c\n", "the header must be"),
        (HEADER + "A-1,§1,t,producer,1,MUST,\n", "must be SHALL or SHOULD"),
        (HEADER + "A-1,§1,t,pacs,1,SHALL,\n", "actor of A-1 must be one of"),
        (HEADER + "A-1,§1,t,producer,1,SHALL,\nA-1,§2,u,producer,1,SHALL,\n", "already defined on line 2"),
        (HEADER + "A-1,§1,t,producer,1,SHALL,\nA.1,§2,u,producer,1,SHALL,\n", "have the same tag @req_A_1"),
        (HEADER + "A-1,§1,t,producer,1\n", "expected 7 columns"),
        (HEADER + "A 1,§1,t,producer,1,SHALL,\n", "bad requirement id"),
    ],
)
def test_bad_requirements_table(tmp_path: Path, reqs: str, message: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(reqs, encoding="utf-8")
    with pytest.raises(CoverageInputError, match=message):
        load_requirements(path)


def test_main_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fdir, csv = write(tmp_path, fr=FR)
    assert main(fdir, csv) == 0
    (fdir / "en.feature").write_text(EN.replace("@req_PEI_T12_REGION", "@req_NOPE"), encoding="utf-8")
    assert main(fdir, csv) == 1
    assert main(tmp_path / "missing", csv) == 2
    assert main(fdir, tmp_path / "missing.csv") == 2
    assert "cannot read the requirements table" in capsys.readouterr().err


def test_project_requirements_table() -> None:
    reqs = {r.id: r for r in load_requirements(ROOT / "requirements" / "requirements.csv")}
    expected = [
        "PEI-3.1-FLUX1",
        "PEI-3.1-FLUX2",
        "PEI-3.2-FLUX3",
        "PEI-3.2-FLUX4",
        "PEI-3.3-FLUX5",
        "PEI-3.3-FLUX6",
        "PEI-3.4-FLUX7",
        "PEI-3.4-FLUX8",
        "PEI-3.5-FLUX9",
        "PEI-3.5-FLUX10",
        "PEI-3.6",
        "PEI-3.7",
        "PEI-T12-MODALITE",
        "PEI-T12-REGION",
        "PEI-T12-ACCESSION",
        "PEI-T12-STUDYUID",
        "PEI-T12-ORDER",
        "PEI-T13-CRITERES",
        "PEI-T14-REGION",
        "PEI-T15-IDUNIQUE",
        "PEI-T16-CONTENU",
    ]
    for req_id in expected:
        assert req_id in reqs
        assert not reqs[req_id].not_tested_reason, f"{req_id} must be verified by a scenario"


def test_raw_id_tags_are_accepted_with_a_note(tmp_path: Path) -> None:
    fdir, csv = write(tmp_path, fr=FR.replace("@req_PEI_3_1_FLUX1", "@req_PEI-3.1-FLUX1"))
    report = check_coverage(fdir, csv)
    assert report.ok, report.render_text()
    assert len(report.covered["PEI-3.1-FLUX1"]) == 2
    assert report.raw_form_tags == [("req_PEI-3.1-FLUX1", "fr.feature:9"), ("req_PEI-3.1-FLUX1", "fr.feature:17")]
    assert "the canonical form is @req_PEI_3_1_FLUX1" in report.render_text()
