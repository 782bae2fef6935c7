"""The official ANS schematrons (``queryBinding="xslt2"``), run side by side with our own rules.

The official CI-SIS volet schematrons (TestContenuCDA ``schematrons/CI-SIS_IMG-DA-IMG_2024.01.sch``,
``CI-SIS_IMG-CR-IMG_2024.01.sch``, and the ART-DECOR ``schematron.sch`` files) are XPath 2 schematrons with ISO
includes, abstract patterns, pattern-level ``let`` and phases. lxml refuses them (XSLT 1 only) and no
Schematron-to-XSLT2 compiler is published on PyPI, so they are compiled here with the ISO skeleton XSLT files
**that ship inside the installed lxml package** (``lxml/isoschematron/resources/xsl/iso-schematron-xslt1/``,
located at run time, never copied), run in SaxonC-HE (``saxonche``):

1. ``iso_dsdl_include.xsl`` on the top-level file (ISO ``include``/``extends``);
2. ``iso_abstract_expand.xsl`` (abstract patterns, ``is-a``/``param``);
3. ``queryBinding`` rewritten from ``xslt2`` to ``xslt`` (the XSLT 1 skeleton refuses other bindings), the
   JDV paths of string-literal ``let``\\ s optionally redirected to a value-set directory;
4. ``iso_svrl_for_xslt1.xsl`` (phases: the schema's ``defaultPhase``, or the ``phase`` argument);
5. the generated stylesheet's ``version`` raised to 2.0 (XPath 2 semantics, as the official XSLT 2 skeleton
   produces; not backwards-compatible mode) and ``xml:base`` set to the schematron's location, so
   ``document('../jeuxDeValeurs/…')`` and ``doc('include/voc-….xml')`` resolve as they do in TestContenuCDA
   (where the compiled XSL sits beside the ``.sch``);
6. the stylesheet compiled by Saxon with loop-lifting disabled (``optimizationLevel="-l"``): SaxonC-HE 13.1
   aborts the whole process (``IllegalStateException: Bad parent pointer in expression tree`` in
   ``LoopLifter``) on the skeleton's generated ``@*|*`` templates otherwise.

Steps 1–5 are cached on disk (``~/.cache/xdsi/official-schematron/<sha256>.json``, or ``$XDSI_CACHE_DIR``),
keyed by the sha256 of every schematron file reached through ``include``/``extends``, the skeleton files, the
phase and the value-set directory; the Saxon executable is cached in memory for the process.

:meth:`OfficialSchematron.run` parses the document with the project's safe parser first (no entities, no
DTD, no network: Saxon's own parser is never handed untrusted bytes) and returns one :class:`OfficialFinding`
per SVRL ``failed-assert``/``successful-report``. The TestContenuCDA asserts carry no ``@id``: a finding is
then named ``<pattern id>#<n>`` (n = the assert's position in its pattern after expansion), see
:attr:`OfficialFinding.ref`.

:func:`side_by_side` pairs our :class:`~xdsi.validation.findings.Finding` list with the official one by
normalised location (both SVRL location notations and our prefixed paths map to one form, see
:func:`normalize_location`) and rule family (value-set membership, structure, XML schema). Official findings
are never registered in our rule catalogue.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lxml import etree

from xdsi.messages.xmlsafe import InputError, parse_xml
from xdsi.namespaces import HL7, PREFIXES, XSI
from xdsi.validation.findings import CATALOGUE, Finding

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
SCH15_NS = "http://www.ascc.net/xml/schematron"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
XSL_NS = "http://www.w3.org/1999/XSL/Transform"
XML_NS = "http://www.w3.org/XML/1998/namespace"

#: Bumped whenever the compile pipeline changes (part of the disk-cache key).
PIPELINE_VERSION = "1"

#: The official top-level schematron file names per kind (TestContenuCDA and validateCDA layouts).
_TOP_LEVEL: dict[str, tuple[str, str]] = {
    "img-da-img": ("CI-SIS_IMG-DA-IMG_*.sch", "IMG-DA-IMG_*"),
    "img-cr-img": ("CI-SIS_IMG-CR-IMG_*.sch", "IMG-CR-IMG_*"),
}

_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_SVRL = {"svrl": SVRL_NS}
_XSLT2_BINDINGS = {"xslt2", "xslt3", "xpath2", "xpath3", "xpath31"}
_SKELETON_FILES = ("iso_dsdl_include.xsl", "iso_abstract_expand.xsl", "iso_svrl_for_xslt1.xsl")


class OfficialSchematronError(Exception):
    """The official schematron cannot be found, compiled or run; ``reason`` is one line."""

    def __init__(self, reason: str) -> None:
        reason = " ".join(str(reason).split())
        super().__init__(reason)
        self.reason = reason


# ------------------------------------------------------------------------------------------ findings


@dataclass(frozen=True)
class OfficialFinding:
    """One SVRL ``failed-assert`` or ``successful-report`` of an official schematron."""

    kind: Literal["failed-assert", "successful-report"]
    #: the assert/report ``@id`` (absent in the TestContenuCDA schematrons)
    id: str | None
    #: the ``svrl:active-pattern/@id`` it belongs to
    pattern: str | None
    #: the ``svrl:fired-rule/@context`` (and ``@id`` when the rule has one)
    context: str | None
    rule_id: str | None
    #: 1-based position of the assert/report in its pattern after expansion (None when not found)
    ordinal: int | None
    test: str
    role: str | None
    flag: str | None
    #: the SVRL location, as written by the compiled stylesheet
    location: str
    text: str
    see: str | None = None
    diagnostics: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """The assert's id, or ``<pattern>#<n>`` when it has none."""
        if self.id:
            return self.id
        if self.pattern and self.ordinal:
            return f"{self.pattern}#{self.ordinal}"
        return self.pattern or "?"

    @property
    def severity(self) -> str:
        """``error``/``warning``/``info`` from the role (a failed assert without role is an error)."""
        role = (self.role or "").strip().lower()
        if role in ("warning", "warn"):
            return "warning"
        if role in ("info", "information", "informational", "note", "hint"):
            return "info"
        if role in ("error", "fatal", "err", "erreur"):
            return "error"
        return "error" if self.kind == "failed-assert" else "info"

    @property
    def path(self) -> str:
        """The location in the normalised form (see :func:`normalize_location`)."""
        return normalize_location(self.location)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "id": self.id,
            "kind": self.kind,
            "pattern": self.pattern,
            "context": self.context,
            "rule_id": self.rule_id,
            "ordinal": self.ordinal,
            "test": self.test,
            "role": self.role,
            "flag": self.flag,
            "severity": self.severity,
            "location": self.path,
            "svrl_location": self.location,
            "text": self.text,
            "see": self.see,
            "diagnostics": list(self.diagnostics),
        }


# ------------------------------------------------------------------------------------------ Saxon


_SAXON_LOCK = threading.RLock()
_SAXON: Any = None


def _saxon() -> Any:
    """The process-wide SaxonC processor (created on first use)."""
    global _SAXON
    with _SAXON_LOCK:
        if _SAXON is None:
            try:
                import saxonche
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise OfficialSchematronError("saxonche is not installed (pip install saxonche)") from exc
            proc = saxonche.PySaxonProcessor(license=False)
            # SaxonC-HE 13.1 aborts the process in LoopLifter on the skeleton's generated templates.
            proc.set_configuration_property("http://saxon.sf.net/feature/optimizationLevel", "-l")
            _SAXON = proc
        return _SAXON


def _saxon_error(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return ": ".join(lines[:3]) if lines else type(exc).__name__


def skeleton_dir() -> Path:
    """The ISO skeleton (XSLT 1 flavour) inside the installed lxml package."""
    import lxml

    path = Path(lxml.__file__).resolve().parent / "isoschematron" / "resources" / "xsl" / "iso-schematron-xslt1"
    missing = [name for name in _SKELETON_FILES if not (path / name).is_file()]
    if missing:
        raise OfficialSchematronError(f"the lxml package has no ISO skeleton file {missing[0]} under {path}")
    return path


def _transform(
    xsl: Path, *, source_file: Path | None = None, text: str | None = None, params: dict[str, str] | None = None
) -> str:
    """Run one skeleton stylesheet on a file or on XML text; Saxon errors become one-line exceptions."""
    proc = _saxon()
    with _SAXON_LOCK:
        try:
            executable = proc.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(xsl))
            for name, value in (params or {}).items():
                executable.set_parameter(name, proc.make_string_value(value))
            if source_file is not None:
                out = executable.transform_to_string(source_file=str(source_file))
            else:
                node = proc.parse_xml(xml_text=text)
                out = executable.transform_to_string(xdm_node=node)
        except Exception as exc:  # saxonche raises PySaxonApiError (and plain exceptions for bad input)
            raise OfficialSchematronError(f"{xsl.name}: {_saxon_error(exc)}") from exc
    if not out:
        raise OfficialSchematronError(f"{xsl.name} produced no output")
    return str(out)


# ------------------------------------------------------------------------------------------ compile


def _parse_file(path: Path) -> etree._ElementTree:
    try:
        return etree.parse(str(path), _SAFE_PARSER)
    except (OSError, etree.XMLSyntaxError) as exc:
        raise OfficialSchematronError(f"{path}: not readable XML: {exc}") from exc


def schematron_files(sch_path: Path) -> list[Path]:
    """``sch_path`` and every file reached through ISO ``include``/``extends`` (depth first, no repeats)."""
    seen: list[Path] = []

    def walk(path: Path, where: str) -> None:
        path = Path(os.path.abspath(path))
        if path in seen:
            return
        if not path.is_file():
            raise OfficialSchematronError(f"{where}: included file not found: {path}")
        seen.append(path)
        tree = _parse_file(path)
        for el in tree.iter(f"{{{SCH_NS}}}include", f"{{{SCH_NS}}}extends"):
            href = el.get("href")
            if href:
                walk(path.parent / href.split("#", 1)[0], f"{path.name}:{el.sourceline}")

    walk(sch_path, "schematron")
    return seen


def _check_root(sch_path: Path) -> etree._Element:
    if not sch_path.exists():
        raise OfficialSchematronError(f"schematron not found: {sch_path}")
    if not sch_path.is_file():
        raise OfficialSchematronError(f"not a file: {sch_path}")
    root = _parse_file(sch_path).getroot()
    qname = etree.QName(root)
    if qname.namespace == SCH15_NS:
        raise OfficialSchematronError(f"{sch_path.name}: Schematron 1.5 namespace, only ISO Schematron is supported")
    if qname.namespace != SCH_NS or qname.localname != "schema":
        raise OfficialSchematronError(
            f"{sch_path.name}: not an ISO schematron (root element is {{{qname.namespace or ''}}}{qname.localname})"
        )
    return root


def default_cache_dir() -> Path:
    """``$XDSI_CACHE_DIR`` or ``$XDG_CACHE_HOME/xdsi`` (``~/.cache/xdsi``), then ``official-schematron``."""
    base = os.environ.get("XDSI_CACHE_DIR")
    if base:
        return Path(base) / "official-schematron"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "xdsi" / "official-schematron"


def _cache_key(files: list[Path], skeleton: Path, phase: str | None, jdv_dir: Path | None) -> str:
    digest = hashlib.sha256()
    digest.update(f"pipeline={PIPELINE_VERSION}\nphase={phase}\njdv={jdv_dir}\n".encode())
    for path in files:
        digest.update(f"file={path}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for name in (*_SKELETON_FILES, "iso_schematron_skeleton_for_xslt1.xsl"):
        part = skeleton / name
        if part.is_file():
            digest.update(name.encode())
            digest.update(hashlib.sha256(part.read_bytes()).digest())
    return digest.hexdigest()


_LITERAL = re.compile(r"""^\s*(['"])([^'"]+)\1\s*$""")


def _redirect_lets(schema: etree._Element, sch_path: Path, jdv_dir: Path | None) -> list[str]:
    """Point string-literal ``let`` paths at ``jdv_dir``, check they exist; return the files used."""
    used: list[str] = []
    for let in schema.iter(f"{{{SCH_NS}}}let"):
        match = _LITERAL.match(let.get("value") or "")
        if not match or not match.group(2).lower().endswith(".xml") or "://" in match.group(2):
            continue
        literal = match.group(2)
        target = (jdv_dir / Path(literal).name) if jdv_dir is not None else (sch_path.parent / literal)
        target = Path(os.path.normpath(os.path.abspath(target)))
        if not target.is_file():
            hint = "" if jdv_dir is not None else " (pass the value-set directory as jdv_dir)"
            raise OfficialSchematronError(f"value set of let ${let.get('name')} not found: {target}{hint}")
        if jdv_dir is not None:
            let.set("value", f"'{target.as_uri()}'")
        used.append(str(target))
    return used


def _ordinals(schema: etree._Element) -> dict[str, int]:
    """``pattern\\0context\\0test`` -> position of the assert/report in its pattern (1-based)."""
    out: dict[str, int] = {}
    for pattern in schema.iter(f"{{{SCH_NS}}}pattern"):
        pid = pattern.get("id") or ""
        n = 0
        for rule in pattern.iter(f"{{{SCH_NS}}}rule"):
            for check in rule:
                if check.tag in (f"{{{SCH_NS}}}assert", f"{{{SCH_NS}}}report"):
                    n += 1
                    key = "\0".join(
                        (
                            pid,
                            " ".join((rule.get("context") or "").split()),
                            " ".join((check.get("test") or "").split()),
                        )
                    )
                    out.setdefault(key, n)
    return out


def _skeleton_compile(sch_path: Path, phase: str | None, jdv_dir: Path | None) -> dict[str, Any]:
    """Steps 1-5: include, abstract expansion, rewrites, skeleton compile, stylesheet fix-ups."""
    skeleton = skeleton_dir()
    included = _transform(skeleton / "iso_dsdl_include.xsl", source_file=sch_path)
    expanded = _transform(skeleton / "iso_abstract_expand.xsl", text=included)
    try:
        schema = etree.fromstring(expanded.encode("utf-8"), _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise OfficialSchematronError(f"{sch_path.name}: expanded schematron is not XML: {exc}") from exc
    binding = (schema.get("queryBinding") or "xslt").strip().lower()
    if binding not in ({"xslt", "xslt1", "xpath"} | _XSLT2_BINDINGS):
        raise OfficialSchematronError(f"{sch_path.name}: unsupported queryBinding {binding!r}")
    schema.set("queryBinding", "xslt")
    if phase is not None and phase != "#ALL":
        phases = [p.get("id") for p in schema.iter(f"{{{SCH_NS}}}phase")]
        if phase not in phases:
            raise OfficialSchematronError(
                f"{sch_path.name}: no phase {phase!r} (phases: {', '.join(map(str, phases))})"
            )
    value_sets = _redirect_lets(schema, sch_path, jdv_dir)
    rules = sum(1 for _ in schema.iter(f"{{{SCH_NS}}}rule"))
    if not rules:
        raise OfficialSchematronError(f"{sch_path.name}: the schematron has no rule")
    params = {"phase": phase} if phase else {}
    compiled = _transform(
        skeleton / "iso_svrl_for_xslt1.xsl", text=etree.tostring(schema, encoding="unicode"), params=params
    )
    try:
        xsl = etree.fromstring(compiled.encode("utf-8"), _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise OfficialSchematronError(f"{sch_path.name}: the skeleton output is not XML: {exc}") from exc
    if etree.QName(xsl).namespace != XSL_NS:
        raise OfficialSchematronError(f"{sch_path.name}: the skeleton output is not a stylesheet")
    if binding in _XSLT2_BINDINGS:
        xsl.set("version", "2.0")
    # not resolve(): a symlinked layout must resolve "../jeuxDeValeurs" beside the link, as TestContenuCDA does
    xsl.set(f"{{{XML_NS}}}base", Path(os.path.abspath(sch_path)).as_uri())
    return {
        "pipeline": PIPELINE_VERSION,
        "source": os.path.abspath(sch_path),
        "query_binding": binding,
        "phase": phase or schema.get("defaultPhase") or "#ALL",
        "value_sets": value_sets,
        "ordinals": _ordinals(schema),
        "xslt": etree.tostring(xsl, encoding="unicode"),
    }


class OfficialSchematron:
    """An official schematron compiled to a Saxon executable, ready to :meth:`run` on documents."""

    def __init__(self, source: Path, key: str, data: dict[str, Any], compile_seconds: float, from_cache: bool):
        self.source = source
        self.sha256 = key
        self.query_binding: str = data["query_binding"]
        self.phase: str = data["phase"]
        self.value_sets: list[str] = list(data["value_sets"])
        self.xslt: str = data["xslt"]
        self._ordinals: dict[str, int] = dict(data["ordinals"])
        self.compile_seconds = compile_seconds
        self.from_cache = from_cache
        self._lock = threading.Lock()
        proc = _saxon()
        with _SAXON_LOCK:
            try:
                self._executable = proc.new_xslt30_processor().compile_stylesheet(stylesheet_text=self.xslt)
            except Exception as exc:
                raise OfficialSchematronError(f"{source.name}: Saxon cannot compile it: {_saxon_error(exc)}") from exc

    def __repr__(self) -> str:
        return f"OfficialSchematron({self.source.name}, phase={self.phase}, sha256={self.sha256[:12]})"

    def svrl(self, document: bytes | Path) -> str:
        """The SVRL report for one document (safe-parsed first)."""
        data = _read_document(document)
        try:
            root = parse_xml(data)
        except InputError as exc:
            raise OfficialSchematronError(f"document not readable: {exc.reason}") from exc
        text = etree.tostring(root, encoding="unicode")  # the root element only: no DOCTYPE reaches Saxon
        proc = _saxon()
        with _SAXON_LOCK, self._lock:
            try:
                node = proc.parse_xml(xml_text=text)
                out = self._executable.transform_to_string(xdm_node=node)
            except Exception as exc:
                raise OfficialSchematronError(f"{self.source.name}: Saxon error: {_saxon_error(exc)}") from exc
        if not out:
            raise OfficialSchematronError(f"{self.source.name}: Saxon produced no SVRL")
        return str(out)

    def run(self, document: bytes | Path) -> list[OfficialFinding]:
        """The official findings for one document, in SVRL order."""
        return self.parse_svrl(self.svrl(document))

    def parse_svrl(self, svrl: str) -> list[OfficialFinding]:
        try:
            report = etree.fromstring(svrl.encode("utf-8"), _SAFE_PARSER)
        except etree.XMLSyntaxError as exc:
            raise OfficialSchematronError(f"{self.source.name}: SVRL is not XML: {exc}") from exc
        out: list[OfficialFinding] = []
        pattern: str | None = None
        context: str | None = None
        rule_id: str | None = None
        for el in report:
            if not isinstance(el.tag, str):
                continue
            local = etree.QName(el).localname
            if local == "active-pattern":
                pattern, context, rule_id = el.get("id") or el.get("name"), None, None
            elif local == "fired-rule":
                context, rule_id = el.get("context"), el.get("id")
            elif local in ("failed-assert", "successful-report"):
                test = el.get("test") or ""
                key = "\0".join((pattern or "", " ".join((context or "").split()), " ".join(test.split())))
                text = " ".join(str(el.xpath("string(svrl:text)", namespaces=_SVRL)).split())
                diags = tuple(
                    " ".join(str(d.xpath("string()")).split()) for d in el.findall(f"{{{SVRL_NS}}}diagnostic-reference")
                )
                out.append(
                    OfficialFinding(
                        kind="failed-assert" if local == "failed-assert" else "successful-report",
                        id=el.get("id"),
                        pattern=pattern,
                        context=context,
                        rule_id=rule_id,
                        ordinal=self._ordinals.get(key),
                        test=test,
                        role=el.get("role"),
                        flag=el.get("flag"),
                        location=el.get("location") or "",
                        text=text,
                        see=el.get("see"),
                        diagnostics=diags,
                    )
                )
        return out


def _read_document(document: bytes | Path) -> bytes:
    if isinstance(document, bytes | bytearray | memoryview):
        return bytes(document)
    path = Path(document)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise OfficialSchematronError(f"document not readable: {path}: {exc.strerror or exc}") from exc


_MEMORY: dict[str, OfficialSchematron] = {}
#: (schematron, jdv_dir, phase) -> (cache key, files read, their stat signature): skips re-hashing on later calls
_CALLS: dict[tuple[str, str, str | None], tuple[str, list[Path], tuple[tuple[int, int], ...]]] = {}
_MEMORY_LOCK = threading.Lock()


def _signature(files: list[Path]) -> tuple[tuple[int, int], ...]:
    out = []
    for path in files:
        try:
            st = path.stat()
        except OSError:
            return ()
        out.append((st.st_mtime_ns, st.st_size))
    return tuple(out)


def compile_official(
    sch_path: Path,
    *,
    jdv_dir: Path | None = None,
    phase: str | None = None,
    cache_dir: Path | None = None,
    disk_cache: bool = True,
) -> OfficialSchematron:
    """Compile an official (ISO, XPath 2) schematron once; later calls with the same inputs are free.

    ``jdv_dir``: where the value-set files named by the schematron's ``let`` paths live when not at the
    path written in the schematron (``../jeuxDeValeurs/`` in TestContenuCDA). ``phase``: a phase id or
    ``#ALL`` (default: the schema's ``defaultPhase``). The skeleton output is cached on disk under
    ``cache_dir`` (default :func:`default_cache_dir`) unless ``disk_cache`` is false.
    """
    sch_path = Path(sch_path)
    if jdv_dir is not None:
        jdv_dir = Path(os.path.abspath(jdv_dir))
    call = (os.path.abspath(sch_path), str(jdv_dir), phase)
    with _MEMORY_LOCK:  # fast path: same call, files unchanged (stat only, no parsing or hashing)
        seen = _CALLS.get(call)
        if seen is not None and _signature(seen[1]) == seen[2] and seen[0] in _MEMORY:
            return _MEMORY[seen[0]]
    _check_root(sch_path)
    if jdv_dir is not None and not jdv_dir.is_dir():
        raise OfficialSchematronError(f"value-set directory not found: {jdv_dir}")
    files = schematron_files(sch_path)
    skeleton = skeleton_dir()
    key = _cache_key(files, skeleton, phase, jdv_dir)
    with _MEMORY_LOCK:
        _CALLS[call] = (key, files, _signature(files))
        hit = _MEMORY.get(key)
        if hit is not None:
            return hit
        start = time.perf_counter()
        data: dict[str, Any] | None = None
        cache_file = (cache_dir or default_cache_dir()) / f"{key}.json"
        if disk_cache and cache_file.is_file():
            try:
                data = json.loads(cache_file.read_text(encoding="utf-8"))
                if data.get("pipeline") != PIPELINE_VERSION or not isinstance(data.get("xslt"), str):
                    data = None
            except (OSError, ValueError):
                data = None
        from_cache = data is not None
        if data is None:
            data = _skeleton_compile(sch_path, phase, jdv_dir)
            if disk_cache:
                _write_cache(cache_file, data)
        compiled = OfficialSchematron(Path(os.path.abspath(sch_path)), key, data, 0.0, from_cache)
        compiled.compile_seconds = time.perf_counter() - start
        _MEMORY[key] = compiled
        return compiled


def _write_cache(path: Path, data: dict[str, Any]) -> None:
    """Best effort: a read-only or full cache directory only costs the next compile."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def clear_memory_cache() -> None:
    """Forget the compiled schematrons of this process (tests, benchmarks)."""
    with _MEMORY_LOCK:
        _MEMORY.clear()
        _CALLS.clear()


def official_dir_for(kind: str, root_dir: Path) -> Path:
    """The top-level official schematron for ``kind`` in a user's directory.

    Accepted layouts: a TestContenuCDA checkout (``schematrons/CI-SIS_IMG-DA-IMG_2024.01.sch``), its
    ``schematrons`` directory itself, or a validateCDA/ART-DECOR tree (``[schematron/]IMG-DA-IMG_2022.01/
    schematron.sch``). When several versions are present, the highest one is taken.
    """
    if kind not in _TOP_LEVEL:
        raise OfficialSchematronError(f"no official schematron for kind {kind!r} (known: {', '.join(_TOP_LEVEL)})")
    root_dir = Path(root_dir)
    if not root_dir.is_dir():
        raise OfficialSchematronError(f"official schematron directory not found: {root_dir}")
    tcc, artdecor = _TOP_LEVEL[kind]
    for base in (root_dir / "schematrons", root_dir):
        found = sorted(p for p in base.glob(tcc) if p.is_file()) if base.is_dir() else []
        if found:
            return max(found, key=lambda p: _version_key(p.stem))
    for base in (root_dir / "schematron", root_dir / "art-decor", root_dir):
        found = (
            sorted(p / "schematron.sch" for p in base.glob(artdecor) if (p / "schematron.sch").is_file())
            if base.is_dir()
            else []
        )
        if found:
            return max(found, key=lambda p: _version_key(p.parent.name))
    raise OfficialSchematronError(
        f"no {tcc} in {root_dir / 'schematrons'} or {root_dir} (nor {artdecor}/schematron.sch)"
    )


def official_for(kind: str, root_dir: Path, jdv_dir: Path | None = None, **options: Any) -> OfficialSchematron:
    """The compiled official schematron for ``kind`` found in ``root_dir`` (what ``--official-schematron`` needs)."""
    return compile_official(official_dir_for(kind, root_dir), jdv_dir=jdv_dir, **options)


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", name))


# ------------------------------------------------------------------------------------------ locations

#: namespace -> the prefix used in normalised locations
_NORM_PREFIX: dict[str, str] = {
    **PREFIXES,
    HL7: "hl7",
    XSI: "xsi",
    "urn:dicom-org:ps3-20": "ps3-20",
    "urn:hl7-org:sdtc": "sdtc",
    "urn:ihe:iti:svs:2008": "svs",
}
#: prefix -> namespace, for the prefixed paths of our findings
_PREFIX_NS: dict[str, str] = {prefix: uri for uri, prefix in _NORM_PREFIX.items()}
_PREFIX_NS.update({"cda": HL7, "hl7": HL7, "v3": HL7, "xsi": XSI})

_POS = r"(?:\[(\d+)\])?"
_STEP_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    # XSLT 1 skeleton: *[local-name()='x' and namespace-uri()='ns'][n]
    (re.compile(r"^(@?)\*\[local-name\(\)='([^']*)' and namespace-uri\(\)='([^']*)'\]" + _POS + "$"), "lnu"),
    (re.compile(r"^(@?)\*\[namespace-uri\(\)='([^']*)' and local-name\(\)='([^']*)'\]" + _POS + "$"), "nul"),
    # XSLT 2 skeleton: *:x[namespace-uri()='ns'][n]
    (re.compile(r"^(@?)\*:([\w.\-]+)\[namespace-uri\(\)='([^']*)'\]" + _POS + "$"), "lnu"),
    # EQName and Clark: Q{ns}x[n], {ns}x[n]
    (re.compile(r"^(@?)Q?\{([^}]*)\}([\w.\-]+)" + _POS + "$"), "nul"),
    # prefix:x[n] or x[n]
    (re.compile(r"^(@?)(?:([\w.\-]+):)?([\w.\-]+)" + _POS + "$"), "pl"),
)


def _split_steps(path: str) -> list[str]:
    steps: list[str] = []
    depth, quote, cur = 0, "", []
    for ch in path:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "/" and depth == 0:
            steps.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    steps.append("".join(cur))
    return steps


def location_steps(location: str) -> tuple[tuple[str, str, str, int], ...] | None:
    """``(kind, namespace, local name, position)`` per step (kind ``@`` for attributes), or None."""
    loc = location.strip()
    if not loc.startswith("/"):
        return None
    out: list[tuple[str, str, str, int]] = []
    for raw in _split_steps(loc)[1:]:
        step = raw.strip()
        if not step:
            return None
        for regex, form in _STEP_FORMS:
            m = regex.match(step)
            if not m:
                continue
            attr, a, b, pos = m.group(1), m.group(2), m.group(3), m.group(4)
            if form == "lnu":
                ns, local = b, a
            elif form == "nul":
                ns, local = a, b
            else:
                if a is None:
                    ns = ""
                elif a in _PREFIX_NS:
                    ns = _PREFIX_NS[a]
                else:
                    ns = f"prefix:{a}"
                local = b
            out.append(("@" if attr else "", ns, local, int(pos) if pos else 1))
            break
        else:
            return None
    return tuple(out)


def _render(steps: Iterable[tuple[str, str, str, int]]) -> str:
    parts: list[str] = []
    for kind, ns, local, pos in steps:
        if not ns:
            name = local
        elif ns.startswith("prefix:"):
            name = f"{ns[7:]}:{local}"
        elif ns in _NORM_PREFIX:
            name = f"{_NORM_PREFIX[ns]}:{local}"
        else:
            name = f"Q{{{ns}}}{local}"
        parts.append(f"{kind}{name}" + (f"[{pos}]" if pos != 1 else ""))
    return "/" + "/".join(parts)


def normalize_location(location: str) -> str:
    """One readable form for every location notation: ``/hl7:ClinicalDocument/hl7:component[12]/hl7:section``.

    Accepts the XSLT 1 skeleton form (``*[local-name()='x' and namespace-uri()='…'][n]``), the XSLT 2 one
    (``*:x[namespace-uri()='…'][n]``), EQName/Clark names and prefixed paths (``hl7:``/``cda:`` …). Positions
    are written only when not 1. Anything else is returned with its whitespace collapsed.
    """
    steps = location_steps(location)
    return _render(steps) if steps is not None else " ".join(location.split())


def element_location(location: str) -> str:
    """The normalised location of the element (a trailing attribute step dropped): the pairing key."""
    steps = location_steps(location)
    if steps is None:
        return " ".join(location.split())
    while steps and steps[-1][0] == "@":
        steps = steps[:-1]
    return _render(steps)


def _is_parent(a: str, b: str) -> bool:
    """``a`` is the parent element of ``b`` (both normalised)."""
    prefix = a.rstrip("/") + "/"
    return b.startswith(prefix) and len(_split_steps(b[len(prefix) :])) == 1


# ------------------------------------------------------------------------------------------ side by side

Status = Literal["both", "ours only", "official only"]

_VALUESET_HINT = re.compile(r"(JDV|VALUE.?SET|VALUESET|\bVS\b|\.VS\.|TERMINO|CODE.?SYSTEM)", re.IGNORECASE)


def official_family(f: OfficialFinding) -> str:
    """``valueset`` for the JDV patterns (abstract ``dansJeuDeValeurs``) and vocabulary asserts, else ``structure``."""
    pattern = f.pattern or ""
    if pattern.startswith("JDV_") or "dansJeuDeValeurs" in f.text or "JeuDeValeurs" in pattern:
        return "valueset"
    if "doc(" in f.test and "voc-" in f.test:  # ART-DECOR vocabulary asserts
        return "valueset"
    return "structure"


def our_family(f: Finding) -> str:
    """``xsd`` for schema findings, ``valueset`` for value-set/code rules, else ``structure``."""
    rule = CATALOGUE.get(f.rule)
    layer = rule.layer if rule is not None else ""
    if layer == "xsd" or f.rule.upper().startswith("XSD"):
        return "xsd"
    if layer in ("valuesets", "codes") or _VALUESET_HINT.search(f.rule):
        return "valueset"
    return "structure"


@dataclass(frozen=True)
class Pair:
    """One row of the side-by-side: a location, our finding and/or the official one."""

    location: str
    status: Status
    family: str
    ours: Finding | None = None
    official: OfficialFinding | None = None
    #: how the two were matched: ``location+family``, ``location``, ``parent+family`` ("" when unpaired)
    match: str = ""

    @property
    def severity_differs(self) -> bool:
        return self.ours is not None and self.official is not None and self.ours.severity != self.official.severity

    def as_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "status": self.status,
            "family": self.family,
            "match": self.match,
            "ours": None
            if self.ours is None
            else {**self.ours.as_dict(), "path": normalize_location(self.ours.location)},
            "official": None if self.official is None else self.official.as_dict(),
        }


@dataclass
class SideBySide:
    pairs: list[Pair] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {"both": 0, "ours only": 0, "official only": 0}
        for p in self.pairs:
            out[p.status] += 1
        return out

    @property
    def agree(self) -> bool:
        """Both sides flagged the same places with the same severity."""
        return all(p.status == "both" and not p.severity_differs for p in self.pairs)

    def as_dict(self) -> dict[str, Any]:
        return {"counts": self.counts(), "pairs": [p.as_dict() for p in self.pairs]}

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.as_dict(), indent=indent, ensure_ascii=False)

    def render_text(self, width: int = 120) -> str:
        """Per location: our verdict (rule, severity) and the official one (ref, role)."""
        if not self.pairs:
            return "no findings on either side\n"
        lines: list[str] = []
        by_location: dict[str, list[Pair]] = {}
        for p in self.pairs:
            by_location.setdefault(p.location, []).append(p)
        for location, pairs in by_location.items():
            lines.append(location)
            for p in pairs:
                ours = f"{p.ours.rule} ({p.ours.severity})" if p.ours else "-"
                off = f"{p.official.ref} ({p.official.role or p.official.severity})" if p.official else "-"
                mark = p.status + (", severity differs" if p.severity_differs else "")
                lines.append(f"  [{mark}] {p.family}: ours {ours} | official {off}")
                if p.official is not None:
                    lines.append("    official: " + _clip(p.official.text, width - 14))
                if p.ours is not None:
                    lines.append("    ours:     " + _clip(p.ours.message, width - 14))
        c = self.counts()
        lines.append(f"both {c['both']}, ours only {c['ours only']}, official only {c['official only']}")
        return "\n".join(lines) + "\n"


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def side_by_side(
    ours: Iterable[Finding],
    official: Iterable[OfficialFinding],
    *,
    family_of_ours: Callable[[Finding], str] = our_family,
    family_of_official: Callable[[OfficialFinding], str] = official_family,
) -> SideBySide:
    """Pair our findings with the official ones.

    Passes, each on what the previous ones left: same element location and family; same element location
    (families differ); one location the parent of the other, same family (a "missing child" reported at the
    element by one side and at its parent by the other). Unpaired findings are "ours only" or
    "official only". Rows keep document order of the locations, ours first.
    """
    mine = [(element_location(f.location), family_of_ours(f), f) for f in ours]
    theirs = [(element_location(f.location), family_of_official(f), f) for f in official]
    used_mine: set[int] = set()
    used_theirs: set[int] = set()
    pairs: list[tuple[int, Pair]] = []

    def match(test: Callable[[str, str, str, str], bool], how: str) -> None:
        for i, (loc_m, fam_m, f_m) in enumerate(mine):
            if i in used_mine:
                continue
            for j, (loc_t, fam_t, f_t) in enumerate(theirs):
                if j in used_theirs or not test(loc_m, fam_m, loc_t, fam_t):
                    continue
                used_mine.add(i)
                used_theirs.add(j)
                family = fam_m if fam_m == fam_t else f"{fam_m}/{fam_t}"
                location = loc_m if len(loc_m) >= len(loc_t) else loc_t
                pairs.append((i, Pair(location, "both", family, f_m, f_t, how)))
                break

    match(lambda lm, fm, lt, ft: lm == lt and fm == ft, "location+family")
    match(lambda lm, fm, lt, ft: lm == lt, "location")
    match(lambda lm, fm, lt, ft: fm == ft and (_is_parent(lm, lt) or _is_parent(lt, lm)), "parent+family")

    rows: list[tuple[int, Pair]] = list(pairs)
    for i, (loc, fam, ours_f) in enumerate(mine):
        if i not in used_mine:
            rows.append((i, Pair(loc, "ours only", fam, ours=ours_f)))
    n = len(mine)
    for j, (loc, fam, off_f) in enumerate(theirs):
        if j not in used_theirs:
            rows.append((n + j, Pair(loc, "official only", fam, official=off_f)))
    rows.sort(key=lambda r: (_location_order(r[1].location), r[0]))
    return SideBySide([p for _, p in rows])


def _location_order(location: str) -> tuple[Any, ...]:
    """Document order of normalised locations (positions compared as numbers)."""
    steps = location_steps(location)
    if steps is None:
        return ((1, location),)
    return tuple((0, kind == "@", local, pos, ns) for kind, ns, local, pos in steps)
