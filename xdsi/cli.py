"""The ``xdsi`` command (DESIGN §4): validate, rules, examples, serve, submit, query, retrieve, report."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import ssl
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from xml.sax.saxutils import quoteattr

from xdsi import ROOT, __version__
from xdsi.validation.findings import KINDS, PROFILES

if TYPE_CHECKING:
    from simulators.producer.soapclient import ClientTls
    from xdsi.journal import Journal
    from xdsi.model.responses import RegistryResponse

#: from this many files on, ``validate`` spreads them over the machine's cores unless --jobs says otherwise
PARALLEL_FROM = 64
MESSAGE_SUFFIXES = {".xml", ".mime", ".http", ".txt", ".msg", ".soap"}


class UsageError(Exception):
    pass


def _expand(paths: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in MESSAGE_SUFFIXES)
        else:
            out.append(p)
    return out


def _text_report(results: list) -> str:
    lines = []
    for r in results:
        if r.error:
            lines.append(f"{r.path}: UNREADABLE: {r.error}")
            continue
        counts = {s: sum(1 for f in r.findings if f.severity == s) for s in ("error", "warning", "info")}
        verdict = "VALID" if r.valid else "INVALID"
        lines.append(
            f"{r.path}: {r.kind} {verdict} ({counts['error']} error(s), {counts['warning']} warning(s), "
            f"{counts['info']} info)"
        )
        for note in r.notes:
            lines.append(f"  note: {note}")
        for f in r.findings:
            lines.append(f"  {f.severity:<7} {f.rule}  at {f.location}")
            lines.append(f"          {f.message}")
            lines.append(f"          ref: {f.reference}")
        if r.official_text:
            lines.append("  beside the official schematron:")
            lines += [f"    {line}" for line in r.official_text.splitlines()]
    return "\n".join(lines) + "\n"


def _json_report(results: list) -> str:
    return (
        json.dumps(
            {"tool": "xdsi", "version": __version__, "results": [r.as_dict() for r in results]},
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )


def _junit_report(results: list) -> str:
    failures = sum(1 for r in results if not r.valid and not r.error)
    errors = sum(1 for r in results if r.error)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name="xdsi validate" tests="{len(results)}" failures="{failures}" errors="{errors}">',
    ]
    for r in results:
        out.append(f"  <testcase classname={quoteattr(str(r.kind))} name={quoteattr(r.path)}>")
        if r.error:
            out.append(f"    <error message={quoteattr(r.error)}/>")
        elif not r.valid:
            errs = [f for f in r.findings if f.severity == "error"]
            body = "\n".join(f"{f.rule} at {f.location}: {f.message} ({f.reference})" for f in errs)
            out.append(f"    <failure message={quoteattr(f'{len(errs)} error finding(s)')}>{_escape(body)}</failure>")
        out.append("  </testcase>")
    out.append("</testsuite>")
    return "\n".join(out) + "\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cmd_validate(args: argparse.Namespace) -> int:
    from xdsi.validation.pipeline import validate_path

    if args.official_schematron and not Path(args.official_schematron).is_dir():
        raise UsageError(f"--official-schematron {args.official_schematron}: not a directory")
    if args.xsd_dir and not Path(args.xsd_dir).is_dir():
        raise UsageError(f"--xsd-dir {args.xsd_dir}: not a directory")
    files = _expand(args.paths)
    if not files:
        raise UsageError("no message files found in " + " ".join(args.paths))
    xsd_dir = Path(args.xsd_dir) if args.xsd_dir else None
    jobs = args.jobs or (min(os.cpu_count() or 1, 8) if len(files) >= PARALLEL_FROM else 1)
    if jobs > 1:
        # The first file is validated here, before the workers fork: they inherit what it loaded and compiled
        # (pydicom, the schemas, the schematrons of its kind) instead of each paying for it again.
        task = partial(validate_path, kind=args.kind, profile=args.profile, xsd_dir=xsd_dir)
        results = [task(files[0])]
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            results += pool.map(task, files[1:], chunksize=max(1, len(files) // (jobs * 8)))
    else:
        results = [validate_path(f, args.kind, args.profile, xsd_dir) for f in files]
    if args.official_schematron:
        _add_official(results, Path(args.official_schematron), Path(args.official_jdv) if args.official_jdv else None)
    report = {"text": _text_report, "json": _json_report, "junit": _junit_report}[args.format](results)
    if args.output:
        Path(args.output).write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    if any(r.error for r in results):
        return 2
    return 0 if all(r.valid for r in results) else 1


def _add_official(results: list, directory: Path, jdv_dir: Path | None) -> None:
    """Run the official ANS schematron on each CDA document and pair its findings with ours (informative:
    the exit status stays ours)."""
    from xdsi.validation.official import OfficialSchematronError, official_for, side_by_side
    from xdsi.validation.pipeline import CDA_KINDS

    for r in results:
        if r.error or r.kind not in CDA_KINDS:
            continue
        try:
            compiled = official_for(r.kind, directory, jdv_dir)
            sbs = side_by_side(r.findings, compiled.run(Path(r.path)))
        except OfficialSchematronError as exc:
            r.notes.append(f"official schematron not run: {exc.reason}")
            continue
        r.official = {"schematron": str(compiled.source), "sha256": compiled.sha256, **sbs.as_dict()}
        r.official_text = sbs.render_text()


def rule_test_counts(directory: Path = ROOT / "reports" / "rule-tests.d") -> dict[str, int] | None:
    """How many tests made each rule fire, from the last test run (None when there was none)."""
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not files:
        return None
    fired: dict[str, set[str]] = {}
    for f in files:
        for rule, tests in json.loads(f.read_text()).items():
            fired.setdefault(rule, set()).update(tests)
    return {rule: len(tests) for rule, tests in fired.items()}


def cmd_rules(args: argparse.Namespace) -> int:
    from xdsi.validation.catalogue import all_rules

    rules = all_rules()
    counts = rule_test_counts()
    if args.check:
        if counts is None:
            raise UsageError("--check needs a test run first (reports/rule-tests.d is empty)")
        missing = [r.id for r in rules if counts.get(r.id, 0) == 0]
        if missing:
            sys.stderr.write(f"{len(missing)} rule(s) have no test that makes them fire: {' '.join(missing)}\n")
            return 1
        sys.stdout.write(f"every one of the {len(rules)} rules has a test that makes it fire\n")
        return 0
    if args.format == "json":
        data = [
            {
                "id": r.id,
                "severity": r.severity,
                "kinds": list(r.kinds),
                "profiles": list(r.profiles),
                "layer": r.layer,
                "reference": r.reference,
                "text": r.text,
                "firing_tests": None if counts is None else counts.get(r.id, 0),
            }
            for r in rules
        ]
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    else:
        for r in rules:
            n = "?" if counts is None else str(counts.get(r.id, 0))
            kinds = ",".join(r.kinds) if len(r.kinds) < 10 else "flux1-10"
            sys.stdout.write(f"{r.id:<42} {r.severity:<7} {r.layer:<11} tests={n:<3} {kinds}\n    {r.reference}\n")
        note = "" if counts is not None else " (run the tests to count the tests that make each fire)"
        sys.stdout.write(f"{len(rules)} rules{note}\n")
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    from xdsi.coverage import main as coverage_main

    return coverage_main(Path(args.features), Path(args.requirements))


def cmd_examples(args: argparse.Namespace) -> int:
    from xdsi.messages.example_files import write_examples

    for path in write_examples(Path(args.out)):
        sys.stdout.write(f"{path}\n")
    return 0


# --------------------------------------------------------------------------------------------------- network

DEFAULT_STORE = "sqlite:///registry.sqlite"
DEFAULT_REPOSITORY_UID = "1.2.250.1.999.42.3.1"
STATUS_NAMES = {
    "approved": "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved",
    "deprecated": "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated",
    "archived": "urn:asip:ci-sis:2010:StatusType:Archived",
    "deleted": "urn:asip:ci-sis:2010:StatusType:Deleted",
}


def _existing_file(path: str | None, option: str) -> str | None:
    if path is not None and not Path(path).is_file():
        raise UsageError(f"{option} {path}: no such file")
    return path


def _add_imaging_source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--dicom-port", type=int, default=11112)
    p.add_argument("--http-port", type=int, default=8081)
    p.add_argument("--aet", default="XDSI_SOURCE", help="our AE title (default %(default)s)")
    p.add_argument("--studies", action="append", default=[], metavar="DIR", help="load the DICOM files under DIR")
    p.add_argument("--move-destination", action="append", default=[], metavar="AET=HOST:PORT")
    p.add_argument("--store", default=DEFAULT_STORE, help="sqlite:///PATH or postgresql://… (default %(default)s)")
    p.add_argument("--files-dir", help="where the DICOM files are kept (default: beside the SQLite store)")
    p.add_argument("--retrieve-location-uid", metavar="UID", help="the RAD-69 repositoryUniqueId (kept in the store)")
    p.add_argument("--accept-calling-aet", action="append", metavar="AET", help="accept only these (repeatable)")
    p.add_argument("--require-called-aet", action="store_true", help="refuse associations not called by our AET")
    p.add_argument("--profile", choices=PROFILES, default="cisis")
    p.add_argument("--journal", help="record every RAD-69 and WADO-RS exchange in this journal (SQLite file)")


def _imaging_source_kwargs(args: argparse.Namespace) -> dict[str, object]:
    from xdsi.journal import Journal

    return {
        "host": args.host,
        "dicom_port": args.dicom_port,
        "http_port": args.http_port,
        "aet": args.aet,
        "studies": args.studies,
        "move_destinations": args.move_destination,
        "accepted_calling_aets": args.accept_calling_aet,
        "require_called_aet": args.require_called_aet,
        "profile": args.profile,
        "journal": Journal(args.journal) if args.journal else None,
    }


def cmd_serve_imaging_source(args: argparse.Namespace) -> int:
    from simulators.imaging_source.index import IndexStoreError
    from simulators.imaging_source.server import serve_imaging_source

    try:
        serve_imaging_source(
            store=args.store,
            files_dir=args.files_dir,
            retrieve_location_uid=args.retrieve_location_uid,
            **_imaging_source_kwargs(args),  # type: ignore[arg-type]
        )
    except (ValueError, IndexStoreError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}: {exc.strerror or exc}") from None
    return 0


def cmd_serve_all(args: argparse.Namespace) -> int:
    """The registry (in a thread) and the imaging source (in the foreground), sharing one store."""
    from simulators.imaging_source.index import ImagingIndex
    from simulators.imaging_source.server import serve_imaging_source
    from simulators.registry.registry import Registry
    from simulators.registry.server import create_app, start_in_thread
    from xdsi.journal import Journal

    try:
        registry = Registry(args.store, repository_unique_id=args.repository_unique_id)
        index = ImagingIndex(args.store, args.files_dir, retrieve_location_uid=args.retrieve_location_uid)
    except Exception as exc:  # any store failure: one line, exit 2
        raise UsageError(f"cannot open the store {args.store}: {exc}") from None
    kwargs = _imaging_source_kwargs(args)
    journal = Journal(args.journal) if args.journal else None
    kwargs["journal"] = journal
    try:
        running = start_in_thread(
            create_app(registry, profile=args.profile, journal=journal), args.host, args.registry_port
        )
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.registry_port}: {exc.strerror or exc}") from None
    for name, path in (("ITI-41", "iti41"), ("ITI-57", "iti57"), ("ITI-18", "iti18"), ("ITI-43", "iti43")):
        print(f"xdsi registry: {name} {running.url}/{path}")
    print(f"xdsi registry: repositoryUniqueId {registry.repository_unique_id}, store {args.store}", flush=True)
    try:
        serve_imaging_source(index=index, **kwargs)  # type: ignore[arg-type]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    finally:
        running.stop()
        index.close()
        registry.close()
    return 0


def cmd_serve_registry(args: argparse.Namespace) -> int:
    from simulators.registry.server import TlsConfig, serve
    from xdsi.journal import Journal

    if bool(args.tls_cert) != bool(args.tls_key):
        raise UsageError("--tls-cert and --tls-key go together")
    if args.tls_ca and not args.tls_cert:
        raise UsageError("--tls-ca (mutual TLS) needs --tls-cert and --tls-key")
    if args.max_body_bytes <= 0:
        raise UsageError("--max-body-bytes must be positive")
    tls = None
    if args.tls_cert:
        tls = TlsConfig(
            _existing_file(args.tls_cert, "--tls-cert") or "",
            _existing_file(args.tls_key, "--tls-key") or "",
            _existing_file(args.tls_ca, "--tls-ca"),
        )
        try:
            tls.check()
        except (ssl.SSLError, OSError) as exc:
            raise UsageError(f"TLS: cannot use --tls-cert/--tls-key/--tls-ca: {exc}") from None
    try:
        from simulators.registry.registry import Registry
    except ImportError as exc:  # pragma: no cover - the registry domain ships with the package
        raise UsageError(f"the registry simulator is not available: {exc}") from None
    try:
        registry = Registry(args.store, repository_unique_id=args.repository_unique_id)
    except Exception as exc:
        raise UsageError(f"cannot open the store {args.store}: {exc}") from None
    journal = Journal(args.journal) if args.journal else None
    try:
        serve(
            registry,
            args.host,
            args.port,
            tls,
            profile=args.profile,
            journal=journal,
            max_body_bytes=args.max_body_bytes,
            store=args.store,
            log_level=args.log_level,
            workers=args.workers,
            registry_factory=lambda: Registry(args.store, repository_unique_id=args.repository_unique_id),
        )
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    finally:
        registry.close()
    return 0


def _client_tls(args: argparse.Namespace) -> ClientTls | None:
    from simulators.producer.soapclient import ClientTls

    if args.key and not args.cert:
        raise UsageError("--key needs --cert")
    if not (args.ca or args.cert or args.insecure):
        return None
    return ClientTls(
        ca_file=_existing_file(args.ca, "--ca"),
        cert_file=_existing_file(args.cert, "--cert"),
        key_file=_existing_file(args.key, "--key"),
        verify=not args.insecure,
    )


def _journal(args: argparse.Namespace) -> Journal | None:
    from xdsi.journal import Journal

    return Journal(args.journal) if args.journal else None


def _print_registry_response(response: RegistryResponse, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    status = response.status.rsplit(":", 1)[-1]
    out.write(f"{status}\n")
    for e in response.errors:
        sev = e.severity.rsplit(":", 1)[-1]
        where = f" at {e.location}" if e.location else ""
        out.write(f"  {sev} {e.code}: {e.context}{where}\n")
    return 0 if response.ok else 1


def _message_file(path: Path) -> tuple[bytes, str]:
    """The body and Content-Type to POST for a captured message (an HTTP capture, a raw MTOM body, XML)."""
    from xdsi.messages import capture
    from xdsi.messages.wire import SOAP_CONTENT_TYPE
    from xdsi.messages.xmlsafe import InputError

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        raw = capture.read_message(data)
    except InputError as exc:
        raise UsageError(f"{path}: {exc}") from None
    if raw.form == "http":
        head = data.lstrip(b"\r\n\t ")
        cut = head.find(b"\r\n\r\n")
        body = head[cut + 4 :] if cut >= 0 else head[head.find(b"\n\n") + 2 :]
        headers = raw.http_headers
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = capture._dechunk(body, len(data))
        elif "content-length" in headers and headers["content-length"].isdigit():
            body = body[: int(headers["content-length"])]
        if headers.get("content-encoding", "identity").lower() != "identity":
            raise UsageError(
                f"{path}: Content-Encoding {headers['content-encoding']} is not sent as is; decode it first"
            )
        return body, raw.content_type or SOAP_CONTENT_TYPE.format(action=raw.soap_action or "")
    if raw.mtom is not None:
        return data, raw.content_type or ""
    if raw.soap_action:
        return data, SOAP_CONTENT_TYPE.format(action=raw.soap_action)
    return data, "application/soap+xml; charset=UTF-8"


def cmd_submit(args: argparse.Namespace) -> int:
    import uuid

    from simulators.producer.client import ProducerClient, TransportError
    from xdsi.ebrim import decode
    from xdsi.messages import examples, iti41

    if bool(args.example) == bool(args.message):
        raise UsageError("give either --example or a MESSAGE_FILE")
    client = ProducerClient(args.url, args.timeout, tls=_client_tls(args), journal=_journal(args), profile=args.profile)
    try:
        if args.example:
            exam = examples.Exam(name=f"xdsi-submit-{uuid.uuid4().hex[:12]}")
            objects, docs = examples.flux1(exam)
            response, _ = client.provide_and_register(iti41.ProvideAndRegisterRequest(objects, docs), not args.inline)
            sys.stdout.write(f"submitted the Flux 1 example exam {exam.name}: patient {exam.patient_id}\n")
            sys.stdout.write(f"  KOS uniqueId {exam.kos_uid}\n  report uniqueId {exam.report_uid}\n")
            return _print_registry_response(response)
        body, content_type = _message_file(Path(args.message))
        reply = client.soap.post(args.url, body, content_type)
    except TransportError as exc:
        raise UsageError(str(exc)) from None
    finally:
        client.close()
    root = reply.body
    if root.tag.endswith("}RegistryResponse"):
        return _print_registry_response(decode.registry_response(root))
    from lxml import etree

    sys.stdout.write(etree.tostring(root, pretty_print=True, encoding="unicode"))
    return 0


def _status(value: str) -> str:
    return STATUS_NAMES.get(value.lower(), value)


def cmd_query(args: argparse.Namespace) -> int:
    from simulators.consumer.client import ConsumerClient, TransportError, find_documents_query

    query = find_documents_query(
        args.patient_id,
        statuses=[_status(s) for s in (args.status or ["approved"])],
        modalities=args.modality or [],
        regions=args.region or [],
        type_codes=args.type_code or [],
        accession_numbers=args.accession or [],
        accession_issuer=args.accession_issuer,
        study_uids=args.study_uid or [],
        return_type=args.return_type,
    )
    client = ConsumerClient(args.url, args.timeout, tls=_client_tls(args), journal=_journal(args), profile=args.profile)
    try:
        result = client.stored_query(query)
    except TransportError as exc:
        raise UsageError(str(exc)) from None
    finally:
        client.close()
    if not result.response.ok:
        return _print_registry_response(result.response)
    entries = result.objects.entries
    rows = [("uniqueId", "status", "modality", "type", "mimeType", "serviceStart", "repositoryUniqueId", "title")]
    for de in entries:
        rows.append(
            (
                de.unique_id or "",
                (de.status or "").rsplit(":", 1)[-1],
                ",".join(c.code for c in de.modality_codes) or "-",
                de.type_code.code if de.type_code else "-",
                de.mime_type or "",
                de.service_start_time or "",
                de.repository_unique_id or "",
                de.title or "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1] + "\n")
    refs = result.objects.object_refs
    for ref in refs:
        sys.stdout.write(f"ObjectRef {ref}\n")
    sys.stdout.write(f"{len(entries)} document entr{'y' if len(entries) == 1 else 'ies'}\n")
    for e in result.response.errors:
        sys.stdout.write(f"  {e.severity.rsplit(':', 1)[-1]} {e.code}: {e.context}\n")
    return 0


def cmd_retrieve(args: argparse.Namespace) -> int:
    from simulators.consumer.client import ConsumerClient, TransportError
    from xdsi.model.retrieve import DocumentRequest

    requests = [DocumentRequest(args.repository_unique_id, uid, args.home_community_id) for uid in args.unique_id]
    out = Path(args.output) if args.output else None
    if out is not None and len(requests) > 1 and not out.is_dir():
        raise UsageError("-o must be an existing directory when several --unique-id are given")
    client = ConsumerClient(args.url, args.timeout, tls=_client_tls(args), journal=_journal(args), profile=args.profile)
    try:
        response = client.retrieve(requests)
    except TransportError as exc:
        raise UsageError(str(exc)) from None
    finally:
        client.close()
    for doc in response.documents:
        sys.stdout.write(f"{doc.document_unique_id}  {doc.mime_type}  {len(doc.content)} bytes\n")
        if out is not None:
            target = out / doc.document_unique_id if out.is_dir() else out
            target.write_bytes(doc.content)
            sys.stdout.write(f"  written to {target}\n")
    code = _print_registry_response(response.response) if response.response.errors else 0
    if not response.documents:
        sys.stderr.write("xdsi: no document returned\n")
        return 1
    return code if response.response.ok else 1


def cmd_report(args: argparse.Namespace) -> int:
    from xdsi.journal import Journal
    from xdsi.report.journal_report import render_html, render_json, render_text

    path = Path(args.journal)
    if not path.is_file():
        raise UsageError(f"{path}: no such journal")
    try:
        exchanges = list(Journal(path).exchanges())
    except Exception as exc:
        raise UsageError(f"{path}: not a journal ({exc})") from None
    fmt = args.format or ("html" if not args.output or args.output.endswith((".html", ".htm")) else "text")
    if fmt == "html":
        text = render_html(exchanges, title=f"xdsi journal {path.name}")
    elif fmt == "json":
        text = render_json(exchanges, with_bytes=args.with_bytes)
    else:
        text = render_text(exchanges)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _add_client_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the answer (default 30)")
    p.add_argument("--journal", help="record the exchange in this journal (SQLite file)")
    p.add_argument("--profile", choices=PROFILES, default="cisis", help="validation profile of the messages")
    p.add_argument("--ca", help="CA certificate(s) that sign the server's certificate (https)")
    p.add_argument("--cert", help="client certificate (mutual TLS)")
    p.add_argument("--key", help="private key of the client certificate")
    p.add_argument("--insecure", action="store_true", help="do not verify the server's certificate")


def _add_network_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("serve", help="run a simulator")
    ssub = s.add_subparsers(dest="simulator", required=True)
    reg = ssub.add_parser("registry", help="the registry/repository simulator (ITI-41, ITI-57, ITI-18, ITI-43)")
    reg.add_argument("--host", default="127.0.0.1")
    reg.add_argument("--port", type=int, default=8080)
    reg.add_argument("--store", default=DEFAULT_STORE, help="sqlite:///PATH or postgresql://… (default %(default)s)")
    reg.add_argument("--repository-unique-id", default=DEFAULT_REPOSITORY_UID, metavar="OID")
    reg.add_argument("--profile", choices=PROFILES, default="cisis")
    reg.add_argument("--journal", help="record every exchange in this journal (SQLite file)")
    reg.add_argument("--max-body-bytes", type=int, default=64 * 1024 * 1024, metavar="N")
    reg.add_argument("--tls-cert", metavar="FILE", help="server certificate (PEM): serve https")
    reg.add_argument("--tls-key", metavar="FILE", help="private key of the server certificate")
    reg.add_argument("--tls-ca", metavar="FILE", help="CA of the client certificates: require them (mutual TLS)")
    reg.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug"), default="info")
    reg.add_argument("--workers", type=int, default=1, help="processes sharing the port (one per core scales)")
    reg.set_defaults(func=cmd_serve_registry)

    img = ssub.add_parser(
        "imaging-source", help="the imaging source (DICOM C-ECHO/FIND/GET/MOVE/STORE, RAD-69, WADO-RS)"
    )
    _add_imaging_source_options(img)
    img.set_defaults(func=cmd_serve_imaging_source)

    both = ssub.add_parser("all", help="the registry and the imaging source, with one store")
    _add_imaging_source_options(both)
    both.add_argument("--registry-port", type=int, default=8080)
    both.add_argument("--repository-unique-id", default=DEFAULT_REPOSITORY_UID, metavar="OID")
    both.set_defaults(func=cmd_serve_all)

    sm = sub.add_parser("submit", help="send a Flux 1 (ITI-41) request: the example exam or a captured message")
    sm.add_argument("url", help="the ITI-41 endpoint (or the registry's root, which dispatches on the action)")
    sm.add_argument("message", nargs="?", metavar="MESSAGE_FILE", help="a captured message, posted as it is")
    sm.add_argument("--example", action="store_true", help="send the Flux 1 example exam with fresh uniqueIds")
    sm.add_argument("--inline", action="store_true", help="with --example: documents inline in base64, not MTOM")
    _add_client_options(sm)
    sm.set_defaults(func=cmd_submit)

    q = sub.add_parser("query", help="FindDocuments (ITI-18) and print the entries found")
    q.add_argument("url", help="the ITI-18 endpoint")
    q.add_argument("--patient-id", required=True, help="CX, e.g. 248039263001064^^^&1.2.250.1.213.1.4.10&ISO^NH")
    q.add_argument("--status", action="append", help="approved, deprecated, archived, deleted or a URN (repeatable)")
    q.add_argument("--modality", action="append", help="DICOM modality code, e.g. CT (repeatable, ORed)")
    q.add_argument("--region", action="append", help="SNOMED CT anatomic region code (repeatable, ORed)")
    q.add_argument("--type-code", action="append", help="code^^scheme (repeatable)")
    q.add_argument("--accession", action="append", help="accession number (FindDocumentsByReferenceId)")
    q.add_argument("--accession-issuer", metavar="OID", help="assigning authority of the accession numbers")
    q.add_argument("--study-uid", action="append", help="Study Instance UID (FindDocumentsByReferenceId)")
    q.add_argument("--return-type", choices=("LeafClass", "ObjectRef"), default="LeafClass")
    _add_client_options(q)
    q.set_defaults(func=cmd_query)

    rt = sub.add_parser("retrieve", help="Retrieve Document Set (ITI-43)")
    rt.add_argument("url", help="the ITI-43 endpoint")
    rt.add_argument("--repository-unique-id", required=True, metavar="OID")
    rt.add_argument("--unique-id", required=True, action="append", metavar="UID", help="document uniqueId")
    rt.add_argument("--home-community-id", metavar="URN")
    rt.add_argument("-o", "--output", help="write the document to FILE (a directory for several)")
    _add_client_options(rt)
    rt.set_defaults(func=cmd_retrieve)

    rp = sub.add_parser("report", help="a report of a journal (HTML, text or JSON)")
    rp.add_argument("journal", metavar="JOURNAL")
    rp.add_argument("-o", "--output", help="write the report to FILE (default: standard output)")
    rp.add_argument("--format", choices=("html", "text", "json"), help="default: html (text when -o is not .html)")
    rp.add_argument("--with-bytes", action="store_true", help="json: include the raw messages")
    rp.set_defaults(func=cmd_report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xdsi", description="CI-SIS imaging-sharing conformance harness")
    parser.add_argument("--version", action="version", version=f"xdsi {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="validate captured messages (Flux 1–10), KOS manifests and CDA documents")
    v.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    v.add_argument("--as", dest="kind", choices=KINDS, help="force the kind instead of detecting it")
    v.add_argument("--profile", choices=PROFILES, default="cisis")
    v.add_argument("--format", choices=("text", "json", "junit"), default="text")
    v.add_argument("-o", "--output", help="write the report to FILE")
    v.add_argument("--xsd-dir", help="validate with this directory of official XSDs instead of ours")
    v.add_argument(
        "-j", "--jobs", type=int, default=0, help="worker processes (default: one per core for large batches)"
    )
    v.add_argument("--official-schematron", help="run the official schematrons beside ours (CDA documents)")
    v.add_argument("--official-jdv", help="the official value-set files, when not in DIR/jeuxDeValeurs")
    v.set_defaults(func=cmd_validate)

    r = sub.add_parser("rules", help="the rule catalogue")
    r.add_argument("--format", choices=("text", "json"), default="text")
    r.add_argument("--check", action="store_true", help="fail when a rule has no test that makes it fire")
    r.set_defaults(func=cmd_rules)

    c = sub.add_parser("coverage", help="fail when a requirement (requirements/requirements.csv) has no scenario")
    c.add_argument("--features", default="features")
    c.add_argument("--requirements", default="requirements/requirements.csv")
    c.set_defaults(func=cmd_coverage)

    e = sub.add_parser("examples", help="write a valid example message for each flux")
    e.add_argument("--out", default="examples")
    e.set_defaults(func=cmd_examples)

    _add_network_commands(sub)
    from xdsi.dicom.commands import add_commands as add_dicom_commands

    add_dicom_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.func(args))
    except UsageError as exc:
        sys.stderr.write(f"xdsi: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
