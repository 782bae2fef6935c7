"""Import the official CI-SIS value sets (JDV) and code systems (TRE) into ``valuesets/``.

Reads the official files of the shared corpus and writes one JSON file per value set, plus a
generated ``INDEX.md``::

    python -m xdsi.valuesets_import --corpus ../shared/corpus/valuesets --out valuesets/

Inputs (under ``--corpus``):

* ``svs/*.xml``: IHE SVS ``RetrieveValueSetResponse`` (ns ``urn:ihe:iti:svs:2008``), both the
  NOS "tabs" flavour (``JDV_Jxx_…``: ``@dateMaj``, ``@urlFichier``, no ``@version``) and the SMT
  flavour (``jdv-…-cisis``: ``@name``, ``@title``, ``@version``, ``Concept/@dateValid``).
* ``fhir/TRE-*.abridged.json``: FHIR CodeSystems (TRE), each imported as the value set of all its codes.
* ``fhir/SMT-*.json``: FHIR ValueSets (``compose.include``) published by the SMT; system URIs are
  mapped to OIDs (XDS and CDA carry OIDs).
* ``rdf/*.rdf``: SKOS code lists (codes only), named through ``rdf/Terminologies.txt``.

Provenance (repository, upstream path, commit) comes from ``SOURCES-content.md`` next to the
corpus; the sha256 of every file is recomputed and checked against the prefix recorded there.

A few value sets have no official file in the corpus; they are transcribed from the reference
notes (``TRANSCRIBED`` below) and marked ``"kind": "transcribed"``.

The output is deterministic: sorted keys, concepts sorted by (system, code), no timestamps.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

IMPORTED_BY = "xdsi.valuesets_import"
SVS_NS = "urn:ihe:iti:svs:2008"
SKOS_NOTATION = "{http://www.w3.org/2004/02/skos/core#}notation"
#: Value sets whose generated file would exceed this size are skipped (noted in INDEX.md).
MAX_OUTPUT_BYTES = 3 * 1024 * 1024

#: FHIR system URIs -> OIDs (XDS codingScheme and CDA codeSystem are OIDs).
URI_TO_OID: dict[str, str] = {
    "http://dicom.nema.org/resources/ontology/DCM": "1.2.840.10008.2.16.4",
    "http://snomed.info/sct": "2.16.840.1.113883.6.96",
    "http://loinc.org": "2.16.840.1.113883.6.1",
    # TerminologieCISIS: the SVS file of the same JDV (1.2.250.1.213.1.1.5.660) codes MED-1126… with
    # codeSystem 1.2.250.1.213.1.1.4.322.
    "https://smt.esante.gouv.fr/fhir/CodeSystem/terminologie-cisis": "1.2.250.1.213.1.1.4.322",
}

#: Names given to the RDF code lists (by OID); the title comes from rdf/Terminologies.txt.
RDF_NAMES: dict[str, str] = {"1.2.250.1.213.1.1.4.322": "TerminologieCISIS"}

#: Files of the corpus deliberately not imported, with the reason (written to INDEX.md).
SKIPPED_REASONS: dict[str, str] = {
    "fhir/drimbox_": "DRIMbox implementation resource, not an ANS terminology publication "
    "(the region list even labels SNOMED CT codes as DCM); the official JDV 618/695 are imported instead",
    "svs-legacy-2024/": "superseded snapshot (version=test, ansforge/TestContenuCDA-3-0 @7cd489b3) of the "
    "svs/ files, same OIDs; svs/ is the current content",
    "rdf/Terminologies.txt": "OID→name index of the RDF folder; only used to title the RDF code lists",
}


# --------------------------------------------------------------------------------------------------
# Hand transcriptions (only where no official file is in the corpus and the fact is in xds-facts.md)
# --------------------------------------------------------------------------------------------------
TRE_A03 = "1.2.250.1.213.1.1.4.1"
TRE_A10 = "URN"
TRE_R269 = "1.2.250.1.213.1.1.4.341"
TRE_R270 = "1.2.250.1.213.1.1.4.342"

TRANSCRIBED: tuple[dict[str, Any], ...] = (
    {
        "name": "JDV_J06_XdsClassCode_CISIS",
        "id": "1.2.250.1.213.1.1.5.462",
        "title": "XDS classCode CI-SIS",
        "version": "20230922120000",
        "url": "https://mos.esante.gouv.fr/NOS/JDV_J06-XdsClassCode-CISIS/FHIR/JDV-J06-XdsClassCode-CISIS",
        "from": "reference xds-facts.md §8.1 (OID, TRE_A03 codes, TRE_A10 URN) and §8.4 (Digital Signature)",
        "notes": [
            "No J06 file in the corpus. Membership and displays checked against the published ValueSet "
            "JDV-J06-XdsClassCode-CISIS (Terminologies de Santé IG v1.10.0, version 20230922120000).",
            "Code 99 'Document technique' is in J06 but absent from the abridged TRE_A03 file "
            "(ansforge/IG-NOS @b8b0cc32).",
        ],
        "concepts": [
            ("10", TRE_A03, "Compte rendu"),
            ("11", TRE_A03, "Synthèse"),
            ("31", TRE_A03, "Imagerie médicale"),
            ("42", TRE_A03, "Prescription"),
            ("43", TRE_A03, "Dispensation"),
            ("44", TRE_A03, "Plan de soins, protocole de soins"),
            ("45", TRE_A03, "Traitement administré"),
            ("52", TRE_A03, "Certificat, déclaration"),
            ("60", TRE_A03, "Données de remboursement"),
            ("90", TRE_A03, "Autres documents déposés par le patient"),
            ("95", TRE_A03, "Document de gestion"),
            ("99", TRE_A03, "Document technique"),
            ("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", TRE_A10, "Digital Signature"),
        ],
    },
    {
        "name": "JDV_J52_AvailabilityStatus_CISIS",
        "id": "1.2.250.1.213.1.1.5.131",
        "title": "Statut du document CI-SIS",
        "version": "20200424120000",
        "url": "https://mos.esante.gouv.fr/NOS/JDV_J52-AvailabilityStatus-CISIS/FHIR/JDV-J52-AvailabilityStatus-CISIS",
        "from": "reference xds-facts.md §2.7 and §8.1 (OID; TRE_R269 OASIS + TRE_R270 ASIP statuses)",
        "notes": [
            "No J52 file in the corpus. Membership checked against the published ValueSet "
            "JDV-J52-AvailabilityStatus-CISIS (Terminologies de Santé IG v1.12.0, version 20200424120000); "
            "system OIDs and displays as in the TRE_R269 / TRE_R270 files.",
        ],
        "concepts": [
            ("urn:oasis:names:tc:ebxml-regrep:StatusType:Approved", TRE_R269, "Version à jour"),
            ("urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated", TRE_R269, "Version obsolète"),
            ("urn:asip:ci-sis:2010:StatusType:Archived", TRE_R270, "Version archivée et à jour"),
            ("urn:asip:ci-sis:2010:StatusType:Deleted", TRE_R270, "Version dépubliée"),
        ],
    },
)


# --------------------------------------------------------------------------------------------------
# Provenance (SOURCES-content.md)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceRow:
    dest: str
    repository: str | None
    path: str
    commit: str | None
    sha256_prefix: str
    what: str


def _cells(line: str) -> list[str]:
    return [c.strip().strip("`").strip() for c in line.strip().strip("|").split("|")]


def parse_sources(text: str) -> dict[str, SourceRow]:
    """The rows of the provenance tables, by destination path (relative to shared/corpus)."""
    full: dict[str, str] = {}
    for m in re.finditer(r"^- ([\w.-]+/[\w.-]+): `([0-9a-f]{40})`", text, re.M):
        full[m.group(1)] = m.group(2)
    rows: dict[str, SourceRow] = {}
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if cells and cells[0].startswith("dest"):
            header = [c.split()[0] for c in cells]
            continue
        if header is None or set(line) <= set("|- "):
            continue
        row = dict(zip(header, cells, strict=False))
        repo = row.get("repo", "")
        commit = row.get("commit", "")
        repository = repo if "/" in repo and " " not in repo else None
        full_commit = None
        if repository and re.fullmatch(r"[0-9a-f]{7,40}", commit):
            full_commit = full.get(repository, commit)
            if not full_commit.startswith(commit):
                raise ValueError(f"SOURCES: commit {commit} of {row['dest']} does not match {full_commit}")
        rows[row["dest"]] = SourceRow(
            dest=row["dest"],
            repository=repository,
            path=row.get("path") or row.get("source", ""),
            commit=full_commit,
            sha256_prefix=row.get("sha256", "").rstrip("…").strip(),
            what=row.get("what", ""),
        )
    return rows


def _source(file: Path, corpus_root: Path, fmt: str, rows: dict[str, SourceRow]) -> dict[str, Any]:
    rel = file.relative_to(corpus_root).as_posix()
    row = rows.get(rel)
    if row is None:
        raise ValueError(f"{rel}: no provenance row in SOURCES-content.md")
    sha = hashlib.sha256(file.read_bytes()).hexdigest()
    if not row.sha256_prefix or not sha.startswith(row.sha256_prefix):
        raise ValueError(f"{rel}: sha256 {sha} does not match SOURCES-content.md ({row.sha256_prefix}…)")
    return {
        "kind": "official",
        "format": fmt,
        "file": rel,
        "sha256": sha,
        "repository": row.repository,
        "path": row.path,
        "commit": row.commit,
        "provenance": row.what,
    }


# --------------------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------------------
def _iso(value: str | None) -> str | None:
    """NOS timestamps ``YYYYMMDDhhmmss`` -> ``YYYY-MM-DDThh:mm:ss``; empty -> None; others unchanged."""
    if not value:
        return None
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})", value)
    if m:
        y, mo, d, h, mi, s = m.groups()
        return f"{y}-{mo}-{d}T{h}:{mi}:{s}"
    return value


def _concept(
    code: str, system: str, display: str | None, valid_from: str | None = None, valid_to: str | None = None
) -> dict[str, Any]:
    return {
        "code": code,
        "system": system,
        "display": display or None,
        "valid_from": _iso(valid_from),
        "valid_to": _iso(valid_to),
    }


def _doc(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": None,
        "name": None,
        "title": None,
        "description": None,
        "version": None,
        "effective_date": None,
        "revision_date": None,
        "url": None,
        "source": None,
        "imported_by": IMPORTED_BY,
        "notes": [],
        "variant_of": None,
        "concepts": [],
    }
    unknown = set(fields) - set(doc)
    if unknown:
        raise TypeError(f"unknown value-set fields {sorted(unknown)}")
    doc.update(fields)
    concepts = doc["concepts"]
    seen: set[tuple[str, str]] = set()
    for c in concepts:
        key = (c["code"], c["system"])
        if key in seen:
            raise ValueError(f"{doc['name']}: duplicate concept {key}")
        seen.add(key)
    doc["concepts"] = sorted(concepts, key=lambda c: (c["system"], c["code"]))
    return doc


def read_svs(file: Path, corpus_root: Path, rows: dict[str, SourceRow]) -> dict[str, Any]:
    root = etree.parse(str(file)).getroot()
    value_sets = root.findall(f"{{{SVS_NS}}}ValueSet")
    if root.tag != f"{{{SVS_NS}}}RetrieveValueSetResponse" or len(value_sets) != 1:
        raise ValueError(f"{file}: expected a RetrieveValueSetResponse with one ValueSet")
    vs = value_sets[0]
    concepts = [
        _concept(
            c.get("code", ""),
            c.get("codeSystem", ""),
            c.get("displayName"),
            c.get("dateValid"),
            c.get("dateFin"),
        )
        for c in vs.iter(f"{{{SVS_NS}}}Concept")
    ]
    for c in concepts:
        if not c["code"] or not c["system"]:
            raise ValueError(f"{file}: concept without code or codeSystem: {c}")
    name = file.stem
    return _doc(
        id=vs.get("id"),
        name=name,
        title=vs.get("title") or vs.get("description") or name,
        description=vs.get("description"),
        version=vs.get("version") or vs.get("dateMaj"),
        effective_date=vs.get("effectiveDate"),
        revision_date=vs.get("revisionDate"),
        url=vs.get("urlFichier"),
        source=_source(file, corpus_root, "ihe-svs", rows),
        concepts=concepts,
    )


def _oid_of(identifiers: Iterable[dict[str, Any]]) -> str | None:
    for ident in identifiers:
        value = ident.get("value", "")
        if value.startswith("urn:oid:"):
            return str(value[len("urn:oid:") :])
    return None


def _system_oid(uri: str) -> str:
    if uri.startswith("urn:oid:"):
        return uri[len("urn:oid:") :]
    try:
        return URI_TO_OID[uri]
    except KeyError:
        raise ValueError(f"no OID known for FHIR system {uri!r}: add it to URI_TO_OID") from None


def _provenance_notes(resource: dict[str, Any]) -> list[str]:
    return [
        str(ext["valueString"])
        for ext in resource.get("extension", [])
        if ext.get("url") == "urn:corpus:provenance" and "valueString" in ext
    ]


def _fhir_cs_concepts(concepts: Iterable[dict[str, Any]], system: str) -> Iterator[dict[str, Any]]:
    for c in concepts:
        yield _concept(c["code"], system, c.get("display"))
        yield from _fhir_cs_concepts(c.get("concept", []), system)


def read_fhir(file: Path, corpus_root: Path, rows: dict[str, SourceRow]) -> dict[str, Any]:
    res = json.loads(file.read_text(encoding="utf-8"))
    oid = _oid_of(res.get("identifier", []))
    if oid is None:
        raise ValueError(f"{file}: no urn:oid identifier")
    notes = _provenance_notes(res)
    if res["resourceType"] == "CodeSystem":
        concepts = list(_fhir_cs_concepts(res.get("concept", []), oid))
        return _doc(
            id=oid,
            name=res["name"],
            title=res.get("title") or res.get("description") or res["name"],
            description=res.get("description"),
            version=res.get("version"),
            revision_date=res.get("date"),
            url=res.get("url"),
            source=_source(file, corpus_root, "fhir-codesystem", rows),
            notes=notes,
            concepts=concepts,
        )
    if res["resourceType"] == "ValueSet":
        concepts = []
        for include in res.get("compose", {}).get("include", []):
            if "filter" in include or "valueSet" in include or "concept" not in include:
                raise ValueError(f"{file}: only enumerated compose.include is supported")
            system = _system_oid(include["system"])
            concepts += [_concept(c["code"], system, c.get("display")) for c in include["concept"]]
        if res.get("compose", {}).get("exclude"):
            raise ValueError(f"{file}: compose.exclude is not supported")
        return _doc(
            id=oid,
            name=f"SMT-{res['id']}",
            title=res.get("title") or res.get("name"),
            description=res.get("description"),
            version=res.get("version"),
            revision_date=res.get("date"),
            url=res.get("url"),
            source=_source(file, corpus_root, "fhir-valueset", rows),
            notes=[
                *notes,
                "System URIs mapped to OIDs: "
                + ", ".join(f"{inc['system']} -> {_system_oid(inc['system'])}" for inc in res["compose"]["include"]),
            ],
            concepts=concepts,
        )
    raise ValueError(f"{file}: unsupported resourceType {res['resourceType']!r}")


def _rdf_titles(index: Path) -> dict[str, str]:
    titles: dict[str, str] = {}
    if index.is_file():
        for line in index.read_text(encoding="latin-1").splitlines():
            if "==>" in line:
                oid, title = (part.strip() for part in line.split("==>", 1))
                titles[oid] = title
    return titles


def read_rdf(file: Path, corpus_root: Path, rows: dict[str, SourceRow]) -> dict[str, Any]:
    oid = file.stem
    title = _rdf_titles(file.parent / "Terminologies.txt").get(oid)
    root = etree.parse(str(file)).getroot()
    codes = sorted({(n.text or "").strip() for n in root.iter(SKOS_NOTATION)} - {""})
    return _doc(
        id=oid,
        name=RDF_NAMES.get(oid, f"rdf-{oid}"),
        title=title or oid,
        source=_source(file, corpus_root, "skos-rdf", rows),
        notes=["SKOS notations only: the file carries no display names or validity dates."],
        concepts=[_concept(code, oid, None) for code in codes],
    )


def transcribed_docs() -> list[dict[str, Any]]:
    docs = []
    for t in TRANSCRIBED:
        docs.append(
            _doc(
                id=t["id"],
                name=t["name"],
                title=t["title"],
                version=t["version"],
                url=t["url"],
                source={"kind": "transcribed", "from": t["from"]},
                notes=list(t["notes"]),
                concepts=[_concept(code, system, display) for code, system, display in t["concepts"]],
            )
        )
    return docs


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------
def _dumps(value: Any, indent: int | None = 1) -> str:
    return json.dumps(value, indent=indent, sort_keys=True, ensure_ascii=False)


def render(doc: dict[str, Any]) -> str:
    """Sorted-key JSON, one concept per line (compact and diff-friendly)."""
    parts = []
    for key in sorted(doc):
        if key == "concepts":
            body = ",\n".join("  " + json.dumps(c, sort_keys=True, ensure_ascii=False) for c in doc[key])
            parts.append(f' "concepts": [\n{body}\n ]' if body else ' "concepts": []')
        else:
            parts.append(f" {_dumps(key)}: " + _dumps(doc[key]).replace("\n", "\n "))
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _md(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def render_index(docs: list[dict[str, Any]], skipped: list[tuple[str, str]]) -> str:
    lines = [
        "# Value sets (generated — do not edit)",
        "",
        f"Generated by `python -m {IMPORTED_BY} --corpus ../shared/corpus/valuesets --out valuesets/` from "
        "the official files of the shared corpus (provenance: `shared/corpus/SOURCES-content.md`). "
        "One JSON file per value set; load them with `xdsi.validation.valuesets.load(name_or_oid)`.",
        "",
        "Concepts are sorted by (system, code); dates `YYYYMMDDhhmmss` are rewritten `YYYY-MM-DDThh:mm:ss`. "
        "Value sets marked *transcribed* have no official file in the corpus and were written by hand from "
        "`reference/xds-facts.md`. A value set with *variant of* set is another snapshot of the named one: "
        "looking up its OID returns the named one.",
        "",
        "| name | OID | version | concepts | systems | source |",
        "|---|---|---|---|---|---|",
    ]
    for doc in sorted(docs, key=lambda d: d["name"]):
        src = doc["source"]
        if src["kind"] == "transcribed":
            where = f"transcribed from {src['from']}"
        else:
            origin = f"{src['repository']} @{src['commit'][:12]}" if src["commit"] else "repository n/a"
            where = f"`{src['file']}` ({src['format']}; {origin})"
        if doc["variant_of"]:
            where += f"; variant of `{doc['variant_of']}`"
        systems = sorted({c["system"] for c in doc["concepts"]})
        lines.append(
            f"| `{doc['name']}` | `{doc['id']}` | {_md(doc['version'])} | {len(doc['concepts'])} | "
            f"{_md(', '.join(systems))} | {_md(where)} |"
        )
    lines += ["", "## Not imported", ""]
    if skipped:
        lines += [f"- `{path}`: {reason}" for path, reason in sorted(skipped)]
    else:
        lines.append("(none)")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------------
def _skip_reason(rel: str) -> str | None:
    for prefix, reason in SKIPPED_REASONS.items():
        if rel.startswith(prefix):
            return reason
    return None


def import_all(corpus: Path, sources: Path | None = None) -> dict[str, str]:
    """Every output file (``<name>.json`` and ``INDEX.md``) as text, keyed by file name."""
    corpus = corpus.resolve()
    corpus_root = corpus.parent
    sources = sources or corpus_root / "SOURCES-content.md"
    rows = parse_sources(sources.read_text(encoding="utf-8"))

    docs: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    for file in sorted(p for p in corpus.rglob("*") if p.is_file()):
        rel = file.relative_to(corpus).as_posix()
        reason = _skip_reason(rel)
        if reason is not None:
            skipped.append((rel, reason))
        elif rel.startswith("svs/") and file.suffix == ".xml":
            docs.append(read_svs(file, corpus_root, rows))
        elif rel.startswith("fhir/") and file.suffix == ".json":
            docs.append(read_fhir(file, corpus_root, rows))
        elif rel.startswith("rdf/") and file.suffix == ".rdf":
            docs.append(read_rdf(file, corpus_root, rows))
        else:
            skipped.append((rel, "unrecognised file"))

    official_oids = {d["id"]: d["name"] for d in docs if d["source"]["format"] != "fhir-valueset"}
    for doc in docs:
        # An SMT ValueSet re-publishing a JDV also present as SVS is a variant of the SVS one.
        if doc["source"]["format"] == "fhir-valueset" and doc["id"] in official_oids:
            doc["variant_of"] = official_oids[doc["id"]]
    for doc in transcribed_docs():
        if doc["id"] in official_oids:
            continue  # an official file exists: never shadow it with a transcription
        docs.append(doc)

    files: dict[str, str] = {}
    primary: dict[str, str] = {}
    for doc in docs:
        name = doc["name"]
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or re.fullmatch(r"[0-9.]+", name):
            raise ValueError(f"unusable value-set name {name!r}")
        if f"{name}.json" in files:
            raise ValueError(f"two value sets named {name!r}")
        if doc["variant_of"] is None:
            if doc["id"] in primary:
                raise ValueError(f"OID {doc['id']} used by {primary[doc['id']]} and {name}")
            primary[doc["id"]] = name
        text = render(doc)
        if len(text.encode("utf-8")) > MAX_OUTPUT_BYTES:
            skipped.append((doc["source"].get("file", name), f"generated file over {MAX_OUTPUT_BYTES} bytes"))
            continue
        files[f"{name}.json"] = text
    kept = [d for d in docs if f"{d['name']}.json" in files]
    files["INDEX.md"] = render_index(kept, skipped)
    return files


def write(out: Path, files: dict[str, str]) -> list[str]:
    """Write ``files`` into ``out``; remove stale generated JSON files. Returns the changed names."""
    out.mkdir(parents=True, exist_ok=True)
    changed = []
    for old in sorted(out.glob("*.json")):
        if old.name not in files:
            try:
                generated = json.loads(old.read_text(encoding="utf-8")).get("imported_by") == IMPORTED_BY
            except (ValueError, AttributeError):
                generated = False
            if generated:
                old.unlink()
                changed.append(old.name)
    for name, text in sorted(files.items()):
        path = out / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(name)
    return changed


def diff(out: Path, files: dict[str, str]) -> list[str]:
    """Names of the files of ``out`` that differ from ``files`` (missing, changed or stale)."""
    present = {p.name for p in out.glob("*.json")} | ({"INDEX.md"} if (out / "INDEX.md").exists() else set())
    differing = sorted(present - set(files))
    for name, text in sorted(files.items()):
        path = out / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            differing.append(name)
    return differing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {IMPORTED_BY}", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="shared/corpus/valuesets")
    parser.add_argument("--out", type=Path, required=True, help="output folder (valuesets/)")
    parser.add_argument("--sources", type=Path, help="SOURCES-content.md (default: next to the corpus)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if --out is not up to date")
    args = parser.parse_args(argv)
    files = import_all(args.corpus, args.sources)
    if args.check:
        stale = diff(args.out, files)
        for name in stale:
            print(f"out of date: {name}", file=sys.stderr)
        return 1 if stale else 0
    changed = write(args.out, files)
    print(f"{len(files) - 1} value sets in {args.out}; {len(changed)} file(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
