"""Value sets: the importer reproduces the committed files; the loader answers the rules' questions."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from xdsi import ROOT
from xdsi import valuesets_import as imp
from xdsi.validation import valuesets
from xdsi.validation.valuesets import ValueSet, load

VALUESETS = ROOT / "valuesets"
DCM = "1.2.840.10008.2.16.4"
SNOMED = "2.16.840.1.113883.6.96"

#: Value sets the XDS / KOS rules rely on: name -> OID.
NEEDED = {
    "jdv-modalite-acquisition-cisis": "1.2.250.1.213.1.1.5.618",
    "jdv-region-anatomique-cisis": "1.2.250.1.213.1.1.5.695",
    "JDV_J01_XdsAuthorSpecialty_CISIS": "1.2.250.1.213.1.1.5.461",
    "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS": "1.2.250.1.213.1.1.5.466",
    "JDV_J04_XdsPracticeSettingCode_CISIS": "1.2.250.1.213.1.1.5.467",
    "JDV_J06_XdsClassCode_CISIS": "1.2.250.1.213.1.1.5.462",
    "JDV_J07_XdsTypeCode_CISIS": "1.2.250.1.213.1.1.5.471",
    "JDV_J08_XdsConfidentialityCode_CISIS": "1.2.250.1.213.1.1.5.463",
    "JDV_J52_AvailabilityStatus_CISIS": "1.2.250.1.213.1.1.5.131",
    "JDV_J197_XdsTypesIdentifiantsReferenceId_CISIS": "1.2.250.1.213.1.1.5.692",
    "JDV_J231_XdsTypesIdentifiantsReferenceId_DMP": "1.2.250.1.213.1.1.5.693",
    "TRE_A03-ClasseDocument": "1.2.250.1.213.1.1.4.1",
    "TRE_A06-FormatCodeComplementaire": "1.2.250.1.213.1.1.4.2.282",
    "TRE_A07-StatutVisibiliteDocument": "1.2.250.1.213.1.1.4.13",
    "TRE_A08-HL7Confidentiality": "2.16.840.1.113883.5.25",
    "TRE_A09-DICOMuidRegistry": "1.2.840.10008.2.6.1",
    "TRE_A11-IheFormatCode": "1.3.6.1.4.1.19376.1.2.3",
    "TRE_R269-AvailabilityStatusProvenanceOasis": "1.2.250.1.213.1.1.4.341",
    "TRE_R270-AvailabilityStatus": "1.2.250.1.213.1.1.4.342",
}


def _committed() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in VALUESETS.iterdir() if p.is_file()}


def _json_files() -> list[Path]:
    return sorted(VALUESETS.glob("*.json"))


# -- importer ----------------------------------------------------------------------------------------
@pytest.mark.corpus
def test_import_round_trip_matches_committed_files(corpus: Path) -> None:
    generated = imp.import_all(corpus / "valuesets")
    committed = _committed()
    assert sorted(generated) == sorted(committed), "valuesets/ is stale: re-run xdsi.valuesets_import"
    stale = [name for name, text in generated.items() if committed[name] != text]
    assert not stale, f"valuesets/ is stale ({stale}): re-run python -m xdsi.valuesets_import"


@pytest.mark.corpus
def test_import_is_deterministic(corpus: Path) -> None:
    assert imp.import_all(corpus / "valuesets") == imp.import_all(corpus / "valuesets")


@pytest.mark.corpus
def test_import_records_sha256_of_the_official_file(corpus: Path) -> None:
    for path in _json_files():
        source = json.loads(path.read_text(encoding="utf-8"))["source"]
        if source["kind"] == "official":
            data = (corpus / source["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == source["sha256"], path.name


@pytest.mark.corpus
def test_check_mode_and_write(corpus: Path, tmp_path: Path) -> None:
    args = ["--corpus", str(corpus / "valuesets"), "--out", str(tmp_path)]
    assert imp.main([*args, "--check"]) == 1  # empty folder: out of date
    assert imp.main(args) == 0
    assert imp.main([*args, "--check"]) == 0
    (tmp_path / "jdv-region-anatomique-cisis.json").write_text("{}")
    assert imp.main([*args, "--check"]) == 1


def test_parse_sources_resolves_full_commits() -> None:
    text = (
        "| dest (under shared/corpus/) | repo | path | commit | sha256 | bytes | what |\n"
        "|---|---|---|---|---|---|---|\n"
        "| `valuesets/svs/x.xml` | owner/repo | `a/x.xml` | `0123456789ab` | `abcdef…` | 12 | thing |\n"
        "\n- owner/repo: `0123456789abcdef0123456789abcdef01234567`\n"
    )
    row = imp.parse_sources(text)["valuesets/svs/x.xml"]
    assert row.repository == "owner/repo"
    assert row.commit == "0123456789abcdef0123456789abcdef01234567"
    assert row.path == "a/x.xml"
    assert row.sha256_prefix == "abcdef"


def test_iso_dates() -> None:
    assert imp._iso("20221114000000") == "2022-11-14T00:00:00"
    assert imp._iso("") is None
    assert imp._iso(None) is None
    assert imp._iso("2022-11-14T00:00:00+01:00") == "2022-11-14T00:00:00+01:00"


# -- committed files ---------------------------------------------------------------------------------
def test_every_file_has_provenance() -> None:
    files = _json_files()
    assert files, "valuesets/ is empty: run python -m xdsi.valuesets_import"
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["imported_by"] == "xdsi.valuesets_import", path.name
        assert doc["name"] == path.stem
        assert doc["id"] and doc["concepts"], path.name
        source = doc["source"]
        if source["kind"] == "official":
            for key in ("file", "sha256", "repository", "commit", "path", "format"):
                assert key in source, (path.name, key)
            assert source["file"].startswith("valuesets/") and len(source["sha256"]) == 64
            if source["repository"] is None:  # only the SMT page transcription has no known repository
                assert source["format"] == "fhir-valueset" and doc["variant_of"], path.name
            else:
                assert len(source["commit"]) == 40, path.name
        else:
            assert source["kind"] == "transcribed", path.name
            assert source["from"].startswith("reference xds-facts.md §"), path.name


def test_index_lists_every_file() -> None:
    index = (VALUESETS / "INDEX.md").read_text(encoding="utf-8")
    for path in _json_files():
        assert f"`{path.stem}`" in index


def test_generated_files_are_small() -> None:
    for path in _json_files():
        assert path.stat().st_size < imp.MAX_OUTPUT_BYTES, path.name


# -- loader ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "oid"), sorted(NEEDED.items()))
def test_needed_value_sets_load_by_name_and_oid(name: str, oid: str) -> None:
    by_name = load(name)
    assert isinstance(by_name, ValueSet)
    assert by_name.id == oid
    assert load(oid) is by_name
    assert load(f"urn:oid:{oid}") is by_name
    assert len(by_name) > 0


def test_modality_ct() -> None:
    vs = load("1.2.250.1.213.1.1.5.618")
    assert vs.contains("CT")
    assert vs.contains("CT", DCM)
    assert vs.systems == {DCM}
    assert vs.display("CT") == "Tomodensitométrie"
    assert not vs.contains("CT", "1.2.250.1.213.1.1.5.618")  # system compared exactly
    assert not vs.contains("ct")
    assert not vs.contains("KO")
    assert "MR" in vs


def test_region_breast() -> None:
    vs = load("jdv-region-anatomique-cisis")
    assert vs.contains("76752008", SNOMED)
    assert vs.display("76752008") == "sein"
    assert len(vs) == 10


def test_typecode_img_kos() -> None:
    vs = load("JDV_J07_XdsTypeCode_CISIS")
    assert vs.contains("IMG-KOS", "1.2.250.1.213.1.1.4.12")
    assert not vs.contains("IMG-KOS", "2.16.840.1.113883.6.1")
    assert vs.contains("18748-4", "2.16.840.1.113883.6.1")
    assert vs.systems == {"1.2.250.1.213.1.1.4.12", "2.16.840.1.113883.6.1", "ASTM"}


def test_classcode_31() -> None:
    for key in ("TRE_A03-ClasseDocument", "JDV_J06_XdsClassCode_CISIS"):
        vs = load(key)
        assert vs.contains("31", "1.2.250.1.213.1.1.4.1"), key
        assert vs.display("31") == "Imagerie médicale"
    j06 = load("JDV_J06_XdsClassCode_CISIS")
    assert j06.transcribed
    assert j06.contains("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", "URN")
    assert not load("TRE_A03-ClasseDocument").transcribed


def test_reference_id_types() -> None:
    dmp = load("1.2.250.1.213.1.1.5.693")
    assert {c.code for c in dmp} == {
        "urn:ihe:iti:xds:2013:accession",
        "urn:ihe:iti:xds:2013:order",
        "urn:ihe:iti:xds:2016:studyInstanceUID",
    }
    assert len(load("1.2.250.1.213.1.1.5.692")) == 7


def test_multi_system_value_set_matches_code_and_system() -> None:
    j08 = load("JDV_J08_XdsConfidentialityCode_CISIS")
    assert j08.contains("N", "2.16.840.1.113883.5.25")
    assert j08.contains("MASQUE_PS", "1.2.250.1.213.1.1.4.13")
    assert not j08.contains("MASQUE_PS", "2.16.840.1.113883.5.25")
    assert not j08.contains("N", "1.2.250.1.213.1.1.4.13")
    assert j08.systems_of("N") == {"2.16.840.1.113883.5.25"}


def test_kos_format_code_and_availability_status() -> None:
    assert load("TRE_A09-DICOMuidRegistry").contains("1.2.840.10008.5.1.4.1.1.88.59", "1.2.840.10008.2.6.1")
    assert load("TRE_R269-AvailabilityStatusProvenanceOasis").contains(
        "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
    )
    assert load("TRE_R270-AvailabilityStatus").contains("urn:asip:ci-sis:2010:StatusType:Deleted")
    assert load("1.2.250.1.213.1.1.5.131").contains("urn:asip:ci-sis:2010:StatusType:Archived")


def test_unknown_code_is_false() -> None:
    vs = load("jdv-modalite-acquisition-cisis")
    assert not vs.contains("NOPE")
    assert not vs.contains("NOPE", DCM)
    assert not vs.contains("")
    assert vs.display("NOPE") is None
    assert vs.get("NOPE") is None
    assert 42 not in vs


@pytest.mark.parametrize("key", ["no-such-valueset", "1.2.3.4.5", "", "../pyproject", "INDEX"])
def test_unknown_key_raises_clear_key_error(key: str) -> None:
    with pytest.raises(KeyError, match="unknown value set"):
        load(key)


def test_variant_does_not_shadow_the_official_oid() -> None:
    smt = load("SMT-jdv-modalite-demande-acte-imagerie-cisis")
    svs = load("jdv-modalite-demande-acte-imagerie-cisis")
    assert smt.id == svs.id == "1.2.250.1.213.1.1.5.660"
    assert smt.variant_of == svs.name
    assert load(svs.id) is svs
    # the two snapshots differ on interventional imaging: NCIt C63334 (SVS) vs SNOMED 258174001 (SMT)
    assert svs.contains("C63334", "2.16.840.1.113883.3.26.1.1")
    assert smt.contains("258174001", SNOMED)


def test_all_valuesets() -> None:
    every = valuesets.all_valuesets()
    assert [vs.name for vs in every] == sorted(p.stem for p in _json_files())
    primary = [vs.id for vs in every if vs.variant_of is None]
    assert len(primary) == len(set(primary)), "two primary value sets share an OID"
    assert set(NEEDED) <= {vs.name for vs in every}


def test_valueset_is_hashable_and_frozen() -> None:
    vs = load("jdv-region-anatomique-cisis")
    assert hash(vs) == hash(load("jdv-region-anatomique-cisis"))
    with pytest.raises(AttributeError):
        vs.name = "x"  # type: ignore[misc]


def test_loader_on_another_directory(tmp_path: Path) -> None:
    doc = {
        "id": "1.2.3",
        "name": "tiny",
        "version": "1",
        "source": {"kind": "transcribed", "from": "test"},
        "concepts": [{"code": "A", "system": "9.9", "display": "a"}],
    }
    (tmp_path / "tiny.json").write_text(json.dumps(doc))
    vs = load("1.2.3", directory=tmp_path)
    assert vs.contains("A", "9.9") and vs.display("A") == "a"
    assert [v.name for v in valuesets.all_valuesets(tmp_path)] == ["tiny"]
