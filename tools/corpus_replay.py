"""Send every real request of the shared corpus to our simulators over HTTP and record each answer.

The registry simulator (ITI-41, ITI-57, ITI-18, ITI-43) and the imaging source (RAD-69) run on 127.0.0.1
with fresh stores; each request file is posted as it is (an HTTP capture keeps its own Content-Type, a raw
MTOM body gets its multipart Content-Type, an envelope gets application/soap+xml with its action; a bare body
is wrapped in a SOAP 1.2 envelope first). Each answer is read back and validated as the response flux.
Writes docs/corpus-replay.md.

Usage: python tools/corpus_replay.py [--corpus ../shared/corpus] [--out docs/corpus-replay.md]
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests
from lxml import etree

from simulators.imaging_source.server import running_imaging_source
from simulators.registry.registry import Registry
from simulators.registry.server import create_app, start_in_thread
from xdsi import ROOT
from xdsi.messages import soap
from xdsi.messages.capture import read_message
from xdsi.messages.wire import to_wire
from xdsi.messages.xmlsafe import InputError
from xdsi.validation.pipeline import REQUEST_KINDS, detect_kind, validate_bytes

PATHS = {"flux1": "/iti41", "flux3": "/iti57", "flux5": "/iti18", "flux7": "/iti43", "flux9": "/rad69"}
ACTIONS = {
    "flux1": "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
    "flux3": "urn:ihe:iti:2010:UpdateDocumentSet",
    "flux5": "urn:ihe:iti:2007:RegistryStoredQuery",
    "flux7": "urn:ihe:iti:2007:RetrieveDocumentSet",
    "flux9": "urn:ihe:rad:2009:RetrieveImagingDocumentSet",
}
RESPONSE_KIND = {"flux1": "flux2", "flux3": "flux4", "flux5": "flux6", "flux7": "flux8", "flux9": "flux10"}


@dataclass
class Replay:
    name: str
    kind: str
    how: str
    http_status: int
    answer: str
    response_errors: list[str]


def _request(path: Path) -> tuple[str, bytes, str, str] | None:
    """(kind, body, content type, how it was sent) for a request file; None for anything else."""
    data = path.read_bytes()
    try:
        raw = read_message(data)
    except InputError:
        return None
    if raw.body is None:
        return None
    kind = detect_kind(raw.body, raw.soap_action, raw.attachments)
    if kind is None and etree.QName(raw.body).localname == "SubmitObjectsRequest":
        kind = "flux3"
    if kind not in REQUEST_KINDS:
        return None
    if raw.form == "http":
        body = data.partition(b"\r\n\r\n")[2]
        return kind, body, raw.content_type or "", "HTTP capture, as captured"
    if raw.form == "mtom":
        return kind, data, raw.content_type or "", "MTOM body, as published"
    if raw.envelope is not None:
        ctype = f'application/soap+xml; charset=UTF-8; action="{raw.soap_action or ACTIONS[kind]}"'
        return kind, data, ctype, "SOAP envelope, as published"
    msg = to_wire(raw.body, ACTIONS[kind])
    return kind, msg.body, msg.content_type, "bare body, wrapped in a SOAP 1.2 envelope"


def _answer(resp: requests.Response, kind: str) -> tuple[str, list[str]]:
    try:
        raw = read_message(resp.content, resp.headers.get("content-type"))
    except InputError as exc:
        return f"unreadable answer: {exc}", []
    env = raw.envelope
    if env is not None and env.fault is not None:
        sub = f" / {env.fault.subcodes[0]}" if env.fault.subcodes else ""
        return f"SOAP Fault {env.fault.code}{sub}: {env.fault.reason[:90]}", []
    body = raw.body
    status = (body.get("status") or "") if body is not None else ""
    if body is not None and not status:
        inner = body.find(f"{{{soap.RS}}}RegistryResponse")
        status = inner.get("status", "") if inner is not None else ""
    codes = (
        sorted({e.get("errorCode", "") for e in body.iter(f"{{{soap.RS}}}RegistryError")}) if body is not None else []
    )
    verdict = validate_bytes(resp.content, kind=RESPONSE_KIND[kind], content_type=resp.headers.get("content-type"))
    errors = sorted({f.rule for f in verdict.findings if f.severity == "error"})
    label = status.rsplit(":", 1)[-1] + (f" ({', '.join(codes)})" if codes else "")
    return label, errors


def replay(corpus: Path, profile: str = "cisis") -> list[Replay]:
    out: list[Replay] = []
    with tempfile.TemporaryDirectory() as tmp:
        registry = Registry(f"sqlite:///{Path(tmp) / 'registry.sqlite'}")
        server = start_in_thread(create_app(registry, profile=profile))
        try:
            with running_imaging_source(store=f"sqlite:///{Path(tmp) / 'imaging.sqlite'}", profile=profile) as source:
                bases = {k: server.url for k in PATHS} | {"flux9": source.rad69_url.rsplit("/rad69", 1)[0]}
                for path in sorted((corpus / "xds" / "messages").rglob("*")):
                    request = _request(path) if path.is_file() else None
                    if request is None:
                        continue
                    kind, body, ctype, how = request
                    resp = requests.post(
                        bases[kind] + PATHS[kind], data=body, headers={"Content-Type": ctype}, timeout=60
                    )
                    answer, errors = _answer(resp, kind)
                    name = str(path.relative_to(corpus / "xds" / "messages"))
                    out.append(Replay(name, kind, how, resp.status_code, answer, errors))
        finally:
            server.stop()
            registry.close()
    return out


def render(rows: list[Replay], dmp: list[Replay]) -> str:
    lines = [
        "# Corpus replay against the simulators\n\n",
        "Generated by `python tools/corpus_replay.py`: every request of `../shared/corpus/xds/messages` posted over\n",
        "HTTP to `xdsi serve registry` (Flux 1, 3, 5, 7) or to the imaging source's RAD-69 endpoint (Flux 9), on\n",
        "fresh stores, once with the simulators in the `cisis` profile and once in `dmp`. *Answer* is the response\n",
        "status with its XDS error codes, or the SOAP fault; *errors in our answers* are the error findings of\n",
        "validating our own responses (none expected).\n\n",
        "| request | flux | sent as | HTTP | answer (cisis) | answer (dmp) | errors in our answers |\n",
        "|---|---|---|---|---|---|---|\n",
    ]
    for r, d in zip(rows, dmp, strict=True):
        errors = ", ".join(sorted(set(r.response_errors) | set(d.response_errors))) or "none"
        lines.append(f"| `{r.name}` | {r.kind} | {r.how} | {r.http_status} | {r.answer} | {d.answer} | {errors} |\n")
    return "".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "corpus-replay.md"))
    args = parser.parse_args()
    rows = replay(Path(args.corpus))
    text = render(rows, replay(Path(args.corpus), "dmp"))
    notes = ROOT / "docs" / "corpus-replay-notes.md"
    if notes.exists():
        text += "\n" + notes.read_text(encoding="utf-8")
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: {len(rows)} requests")


if __name__ == "__main__":
    main()
