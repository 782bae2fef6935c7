"""The journal as a report (``xdsi report JOURNAL``): one self-contained HTML file, plain text, or JSON.

The HTML lists each exchange with its findings (rule, severity, location, message, reference) and the raw
messages in collapsible ``<details>``: XML indented for reading, escaped; MIME attachments summarised by
content type and size. No script, no external resource: the file can be mailed or archived as it is.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable

from lxml import etree

from xdsi import __version__
from xdsi.journal import Exchange
from xdsi.messages import mtom
from xdsi.messages.xmlsafe import InputError, parse_xml
from xdsi.validation.findings import Finding

#: characters of one raw message shown in the HTML report (the rest is cut, with a note)
MAX_SHOWN = 1_000_000

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em;color:#1b1b1b;line-height:1.4}
h1{font-size:1.4em}h2{font-size:1.1em;margin:0}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;
vertical-align:top;font-size:.9em}th{background:#f2f2f2}
.ex{border:1px solid #bbb;border-radius:6px;padding:.6em .9em;margin:1em 0}
.ok{color:#176f2c}.bad{color:#b00020}.warn{color:#9a6700}.muted{color:#666}
.sev-error{color:#b00020;font-weight:600}.sev-warning{color:#9a6700}.sev-info{color:#555}
pre{background:#f7f7f7;border:1px solid #e0e0e0;padding:.6em;overflow:auto;max-height:40em;font-size:.82em;
white-space:pre-wrap;word-break:break-all}
summary{cursor:pointer}code{font-size:.9em}
"""


def _counts(findings: Iterable[Finding]) -> Counter[str]:
    return Counter(f.severity for f in findings)


def verdict(ex: Exchange) -> str:
    """``fault`` (transport failure), ``errors`` (error findings), or ``ok``."""
    if ex.error:
        return "fault"
    return "errors" if any(f.severity == "error" for f in ex.findings) else "ok"


# --------------------------------------------------------------------------------------------------- raw


def _pretty_xml(data: bytes) -> str | None:
    try:
        root = parse_xml(data)
    except InputError:
        return None
    return etree.tostring(root, pretty_print=True, encoding="unicode")


def describe_message(data: bytes, content_type: str | None) -> list[tuple[str, str]]:
    """A readable rendering of a raw message: ``(title, text)`` sections (XML indented, binary summarised)."""
    if not data:
        return [("(empty)", "")]
    mediatype, _ = mtom.parse_content_type(content_type)
    if mediatype.startswith("multipart/") or data.lstrip(b"\r\n").startswith(b"--"):
        try:
            msg = mtom.decode(data, content_type if mediatype.startswith("multipart/") else None)
        except InputError as exc:
            return [(f"undecodable multipart body ({exc})", _text(data))]
        out: list[tuple[str, str]] = []
        for cid, part in msg.parts.items():
            title = f"MIME part <{cid}> {part.content_type or '(no Content-Type)'}, {len(part.data)} bytes"
            if cid == msg.root_id:
                out.append((f"{title} (root)", _pretty_xml(part.data) or _text(part.data)))
            elif _is_text(part.content_type, part.data):
                out.append((title, _pretty_xml(part.data) or _text(part.data)))
            else:
                out.append((title, f"[binary content, {len(part.data)} bytes]"))
        return out
    pretty = _pretty_xml(data)
    if pretty is not None:
        return [(f"{content_type or 'XML'}, {len(data)} bytes", pretty)]
    if _is_text(content_type, data):
        return [(f"{content_type or 'text'}, {len(data)} bytes", _text(data))]
    return [(f"{content_type or 'binary'}, {len(data)} bytes", f"[binary content, {len(data)} bytes]")]


def _is_text(content_type: str | None, data: bytes) -> bool:
    ct = (content_type or "").lower()
    if ct.startswith(("text/", "application/xml", "application/soap+xml", "application/xop+xml", "application/json")):
        return True
    head = data[:4096]
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text(data: bytes) -> str:
    text = data[:MAX_SHOWN].decode("utf-8", "replace")
    if len(data) > MAX_SHOWN:
        text += f"\n[… {len(data) - MAX_SHOWN} more bytes not shown]"
    return text


# --------------------------------------------------------------------------------------------------- formats


def render_json(exchanges: Iterable[Exchange], with_bytes: bool = False) -> str:
    items = [ex.as_dict(with_bytes) | {"verdict": verdict(ex)} for ex in exchanges]
    return json.dumps({"tool": "xdsi", "version": __version__, "exchanges": items}, ensure_ascii=False, indent=1) + "\n"


def _headline(ex: Exchange) -> str:
    flux = f"{ex.request_flux or '?'}→{ex.response_flux or '?'}"
    c = _counts(ex.findings)
    status = "" if ex.http_status is None else f" HTTP {ex.http_status}"
    return (
        f"#{ex.id} {ex.time} {ex.actor or '?'} {ex.direction} {ex.transaction or '?'} {flux} "
        f"peer {ex.peer or '?'} {ex.endpoint}{status}: {verdict(ex).upper()} "
        f"({c['error']} error(s), {c['warning']} warning(s), {c['info']} info)"
    )


def render_text(exchanges: Iterable[Exchange]) -> str:
    lines: list[str] = []
    n = 0
    for ex in exchanges:
        n += 1
        lines.append(_headline(ex))
        if ex.error:
            lines.append(f"  error: {ex.error}")
        for note in ex.notes:
            lines.append(f"  note: {note}")
        for which, findings in (("request", ex.request_findings), ("response", ex.response_findings)):
            for f in findings:
                lines.append(f"  {which:<8} {f.severity:<7} {f.rule}  at {f.location}")
                lines.append(f"           {f.message}")
                lines.append(f"           ref: {f.reference}")
    lines.append(f"{n} exchange(s)")
    return "\n".join(lines) + "\n"


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _findings_table(ex: Exchange) -> str:
    rows = [("request", ex.request_flux, f) for f in ex.request_findings]
    rows += [("response", ex.response_flux, f) for f in ex.response_findings]
    if not rows:
        return '<p class="ok">No finding.</p>'
    out = [
        "<table><tr><th>message</th><th>severity</th><th>rule</th><th>location</th><th>message</th>"
        "<th>reference</th></tr>"
    ]
    for which, flux, f in rows:
        out.append(
            f'<tr><td>{_e(which)} ({_e(flux or "?")})</td><td class="sev-{_e(f.severity)}">{_e(f.severity)}</td>'
            f"<td><code>{_e(f.rule)}</code></td><td><code>{_e(f.location)}</code></td><td>{_e(f.message)}</td>"
            f"<td>{_e(f.reference)}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _raw_block(title: str, data: bytes, content_type: str | None) -> str:
    sections = "".join(
        f'<p class="muted">{_e(t)}</p><pre>{_e(text)}</pre>' for t, text in describe_message(data, content_type)
    )
    return (
        f"<details><summary>{_e(title)} ({len(data)} bytes, Content-Type <code>{_e(content_type or '?')}</code>)"
        f"</summary>{sections}</details>"
    )


def render_html(exchanges: Iterable[Exchange], title: str = "xdsi journal") -> str:
    items = list(exchanges)
    by_verdict = Counter(verdict(ex) for ex in items)
    by_tx = Counter(ex.transaction or "?" for ex in items)
    body: list[str] = [
        f"<h1>{_e(title)}</h1>",
        f"<p>{len(items)} exchange(s): {by_verdict['ok']} without error, {by_verdict['errors']} with error "
        f"findings, {by_verdict['fault']} failed at the transport level. By transaction: "
        + ", ".join(f"{_e(k)} {v}" for k, v in sorted(by_tx.items()))
        + f". Generated by xdsi {_e(__version__)}.</p>",
    ]
    if items:
        body.append(
            "<table><tr><th>#</th><th>time (UTC)</th><th>actor</th><th>direction</th><th>transaction</th>"
            "<th>flux</th><th>HTTP</th><th>verdict</th><th>errors</th><th>warnings</th></tr>"
        )
        for ex in items:
            c = _counts(ex.findings)
            v = verdict(ex)
            css = {"ok": "ok", "errors": "bad", "fault": "bad"}[v]
            body.append(
                f'<tr><td><a href="#ex{_e(ex.id)}">{_e(ex.id)}</a></td><td>{_e(ex.time)}</td><td>{_e(ex.actor)}</td>'
                f"<td>{_e(ex.direction)}</td><td>{_e(ex.transaction or '?')}</td>"
                f"<td>{_e(ex.request_flux or '?')} → {_e(ex.response_flux or '?')}</td><td>{_e(ex.http_status)}</td>"
                f'<td class="{css}">{_e(v)}</td><td>{c["error"]}</td><td>{c["warning"]}</td></tr>'
            )
        body.append("</table>")
    for ex in items:
        v = verdict(ex)
        css = {"ok": "ok", "errors": "bad", "fault": "bad"}[v]
        body.append(f'<section class="ex" id="ex{_e(ex.id)}">')
        body.append(
            f"<h2>#{_e(ex.id)} {_e(ex.transaction or '?')} — {_e(ex.request_flux or '?')} → "
            f'{_e(ex.response_flux or "?")} <span class="{css}">{_e(v)}</span></h2>'
        )
        body.append(
            f'<p class="muted">{_e(ex.time)} · {_e(ex.actor)} · {_e(ex.direction)} · peer {_e(ex.peer)} · '
            f"endpoint {_e(ex.endpoint)} · HTTP {_e(ex.http_status)} · {_e(ex.duration_ms)} ms<br>"
            f"request action <code>{_e(ex.request_action)}</code> · response action <code>{_e(ex.response_action)}"
            "</code></p>"
        )
        if ex.error:
            body.append(f'<p class="bad">{_e(ex.error)}</p>')
        if ex.notes:
            body.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in ex.notes) + "</ul>")
        body.append(_findings_table(ex))
        body.append(_raw_block("Request", ex.request, ex.request_content_type))
        body.append(_raw_block("Response", ex.response, ex.response_content_type))
        body.append("</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
