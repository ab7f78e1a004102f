"""The ``html`` output of ``mmcheck scan``: one self-contained page (inline CSS and JS, nothing fetched).

A matrix of text models (rows) × projectors (columns), one coloured verdict per checked pair; the
pair's findings on hover (``title``) and on click (a details panel); a filter by name and by
verdict; the choices and the notes below. Every string that comes from a file or a path is
untrusted: the table is written with ``html.escape``, and the findings travel as JSON inside a
``<script type="application/json">`` block with ``<``, ``>`` and ``&`` escaped, read by the script
with ``JSON.parse`` and shown with ``textContent`` only. A Content-Security-Policy with the hashes
of the page's own style and script forbids every other script, style and fetch.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmcheck.errors import printable
from mmcheck.header.source import FilePath
from mmcheck.render.formats import display_path
from mmcheck.render.json_doc import clean

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mmcheck.pair import Report
    from mmcheck.render import RenderContext
    from mmcheck.scan import PairCheck, ScanResult

VERDICTS = ("match", "unknown", "likely-garbage", "mismatch")
MARK = {"match": "✓", "unknown": "?", "likely-garbage": "!", "mismatch": "✗"}

CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--head:#f6f8fa;
--match:#1a7f37;--match-bg:#dafbe1;--unknown:#57606a;--unknown-bg:#eaeef2;
--garbage:#9a4a00;--garbage-bg:#fff1e5;--mismatch:#cf222e;--mismatch-bg:#ffebe9}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:16px 20px 8px;border-bottom:1px solid var(--line)}
h1{font-size:20px;margin:0 0 6px}
h2{font-size:16px;margin:20px 0 8px}
.summary{margin:0;padding-left:18px;color:var(--muted)}
.bar{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:center;padding:10px 20px;border-bottom:1px solid var(--line);
background:var(--head);position:sticky;top:0;z-index:5}
.bar input[type=search]{font:inherit;padding:5px 8px;border:1px solid var(--line);border-radius:6px;min-width:14em;flex:1 1 14em;max-width:28em}
.bar label{white-space:nowrap;font-size:14px}
.count{color:var(--muted);font-size:14px}
main{display:grid;grid-template-columns:minmax(0,1fr);gap:16px;padding:12px 20px 24px}
@media (min-width:1100px){main{grid-template-columns:minmax(0,1fr) 340px}#details{position:sticky;top:64px;align-self:start}}
.wrap{overflow:auto;max-height:78vh;border:1px solid var(--line);border-radius:6px}
table.matrix{border-collapse:separate;border-spacing:0}
.matrix th,.matrix td{border-bottom:1px solid var(--line);border-right:1px solid var(--line)}
.matrix thead th{position:sticky;top:0;background:var(--head);z-index:2;vertical-align:bottom;padding:6px 4px;font-weight:600}
.matrix thead th.corner{left:0;z-index:3;text-align:left;font-size:13px;color:var(--muted);min-width:10em}
.matrix thead th.col span{writing-mode:vertical-rl;transform:rotate(180deg);display:inline-block;max-height:20em;
overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-size:13px}
.matrix thead th.col span.ce{color:var(--muted);font-weight:400;font-size:12px}
.matrix tbody th{position:sticky;left:0;background:var(--bg);z-index:1;text-align:left;font-weight:500;padding:6px 10px;
max-width:24em;overflow-wrap:anywhere;font-size:14px}
.matrix td{text-align:center;min-width:2.6em;height:2.4em;padding:0}
.cell{cursor:pointer;font-weight:700}
.cell:focus{outline:3px solid #0969da;outline-offset:-3px}
.v-match{background:var(--match-bg);color:var(--match)}
.v-unknown{background:var(--unknown-bg);color:var(--unknown)}
.v-likely-garbage{background:var(--garbage-bg);color:var(--garbage)}
.v-mismatch{background:var(--mismatch-bg);color:var(--mismatch)}
.v-none{color:#c8d1da;cursor:default;font-weight:400}
.chosen{box-shadow:inset 0 0 0 2px var(--match)}
.dim{opacity:.18}
.hidden{display:none}
.legend{display:flex;flex-wrap:wrap;gap:6px 12px;font-size:13px;margin:8px 0 0;padding:0;list-style:none}
.legend li span,.badge{display:inline-block;min-width:1.7em;text-align:center;border-radius:4px;padding:0 4px;font-weight:700}
#details{border:1px solid var(--line);border-radius:6px;padding:12px 14px;min-height:6em}
#details h3{font-size:15px;margin:0 0 6px;overflow-wrap:anywhere}
#details ul,.notes{padding-left:18px;margin:6px 0}
#details li,.notes li{margin:4px 0;overflow-wrap:anywhere}
.sev-error{color:var(--mismatch);font-weight:600}.sev-warning{color:var(--garbage);font-weight:600}.sev-info{color:var(--muted)}
.muted{color:var(--muted)}
ul.plain{padding-left:18px}ul.plain li{overflow-wrap:anywhere;margin:3px 0}
@media (max-width:600px){body{font-size:14px}header,.bar,main{padding-left:10px;padding-right:10px}
.matrix tbody th{max-width:9.5em;font-size:12.5px;padding:4px 6px}.matrix td{min-width:2.2em}
.matrix thead th.col span{max-height:10em;font-size:12px}.bar input[type=search]{min-width:0;max-width:none}}
"""

JS = """
(function(){
var data=JSON.parse(document.getElementById('mmcheck-data').textContent);
var q=document.getElementById('q'),rows=[].slice.call(document.querySelectorAll('tbody tr')),
cols=[].slice.call(document.querySelectorAll('thead th.col')),boxes=[].slice.call(document.querySelectorAll('.bar input[type=checkbox]')),
count=document.getElementById('count'),details=document.getElementById('details');
function wanted(){var w={};boxes.forEach(function(b){w[b.value]=b.checked});return w}
function apply(){
 var text=(q.value||'').trim().toLowerCase(),w=wanted();
 var rowHit=rows.map(function(r){return !text||r.dataset.label.indexOf(text)>=0});
 var colHit=cols.map(function(c){return !text||c.dataset.label.indexOf(text)>=0});
 var anyRow=rowHit.some(Boolean),showCol=cols.map(function(){return false}),shown=0;
 rows.forEach(function(r,i){
  var cells=r.querySelectorAll('td'),keep=false;
  for(var j=0;j<cells.length;j++){var v=cells[j].dataset.v,okCol=anyRow?true:colHit[j];
   var on=v!=='none'&&w[v]&&okCol;cells[j].classList.toggle('dim',v!=='none'&&!on);
   if(on&&(anyRow?rowHit[i]:true)){keep=true;showCol[j]=true}}
  var vis=keep&&(anyRow?rowHit[i]:true);r.classList.toggle('hidden',!vis);if(vis)shown++;
 });
 cols.forEach(function(c,j){var hide=!showCol[j];c.classList.toggle('hidden',hide);
  rows.forEach(function(r){r.querySelectorAll('td')[j].classList.toggle('hidden',hide)})});
 count.textContent=shown+' of '+rows.length+' text models';
}
function show(td){
 var c=data.cells[td.dataset.cell];if(!c)return;
 while(details.firstChild)details.removeChild(details.firstChild);
 var h=document.createElement('h3');h.textContent=c.model+' + '+c.mmproj;details.appendChild(h);
 var p=document.createElement('p');var b=document.createElement('span');b.className='badge v-'+c.verdict;
 b.textContent=c.verdict;p.appendChild(b);if(c.chosen){p.appendChild(document.createTextNode(' chosen for this model'))}
 details.appendChild(p);
 var ul=document.createElement('ul');c.findings.forEach(function(f){var li=document.createElement('li');
  var s=document.createElement('span');s.className='sev-'+f.severity;s.textContent=f.rule+' '+f.severity;li.appendChild(s);
  li.appendChild(document.createTextNode(' '+f.message+(f.hint?' \\u2192 '+f.hint:'')));ul.appendChild(li)});
 if(!c.findings.length){var li=document.createElement('li');li.textContent='no findings';ul.appendChild(li)}
 details.appendChild(ul);details.dataset.cell=td.dataset.cell;
}
document.querySelector('tbody')&&document.querySelector('tbody').addEventListener('click',function(e){
 var td=e.target.closest('td.cell');if(td)show(td)});
document.querySelector('tbody')&&document.querySelector('tbody').addEventListener('keydown',function(e){
 var td=e.target.closest('td.cell');if(td&&(e.key==='Enter'||e.key===' ')){e.preventDefault();show(td)}});
q.addEventListener('input',apply);boxes.forEach(function(b){b.addEventListener('change',apply)});
apply();
})();
"""


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _json_for_script(doc: Any) -> str:
    """JSON that cannot end its ``<script>`` block or open a comment: ``<``, ``>``, ``&`` escaped."""
    text = json.dumps(clean(doc), ensure_ascii=False, separators=(",", ":"))  # names that are not UTF-8, as \xNN
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(reports: Sequence[Report], context: RenderContext) -> str:
    """The scan (``context.scan``) as one self-contained HTML page."""
    if context.scan is None:
        raise ValueError("the html format is the scan's matrix: it needs a scan result")
    return render_html(context.scan, root=context.root)


def render_html(result: ScanResult, *, root: Path | None = None, title: str = "mmcheck scan") -> str:
    """The scan as one self-contained HTML page."""
    root = root or Path.cwd()
    labels: dict[FilePath, str] = getattr(result, "labels", {}) or {}

    def name(p: FilePath) -> str:
        return labels[p] if p in labels else display_path(p, root)

    models = sorted({c.model for c in result.pairs}, key=lambda p: name(p).lower())
    projs = sorted({c.mmproj for c in result.pairs}, key=lambda p: name(p).lower())
    by_pair: dict[tuple[FilePath, FilePath], PairCheck] = {(c.model, c.mmproj): c for c in result.pairs}
    chosen = {(m, c.mmproj) for m, c in result.chosen().items()}
    cells: list[dict[str, Any]] = []
    body: list[str] = []
    for m in models:
        tds = []
        for p in projs:
            c = by_pair.get((m, p))
            if c is None:
                tds.append(
                    '<td class="v-none" data-v="none" title="not checked: not in the same folder or entry">·</td>'
                )
                continue
            v = c.report.verdict.value
            idx = len(cells)
            findings = [
                {"rule": f.rule, "severity": f.severity.value, "message": f.message, "hint": f.hint}
                for f in c.report.findings
            ]
            cells.append(
                {"model": name(m), "mmproj": name(p), "verdict": v, "chosen": (m, p) in chosen, "findings": findings}
            )
            tip = _tooltip(v, findings)
            cls = f"cell v-{v}" + (" chosen" if (m, p) in chosen else "")
            tds.append(
                f'<td class="{cls}" data-v="{v}" data-cell="{idx}" tabindex="0" title="{_e(tip)}">{MARK[v]}</td>'
            )
        body.append(
            f'<tr data-label="{_e(name(m).lower())}"><th scope="row" title="{_e(name(m))}">{_e(name(m))}</th>'
            + "".join(tds)
            + "</tr>"
        )
    parts: dict[FilePath, tuple[str, str]] = getattr(result, "label_parts", {}) or {}

    def col(p: FilePath) -> str:
        entry, file = parts.get(p, (display_path(p.parent, root) + "/", printable(p.name)))
        return f'<span class="ce">{_e(entry)}</span><span class="cf">{_e(file)}</span>'

    head = "".join(
        f'<th class="col" scope="col" data-label="{_e(name(p).lower())}" title="{_e(name(p))}">{col(p)}</th>'
        for p in projs
    )
    data = {"cells": cells}
    messages = list(getattr(result, "messages", []) or [])
    counts: dict[str, int] = {}
    for f in result.files:
        counts[f.status.value] = counts.get(f.status.value, 0) + 1
    messages.append(
        f"{len(result.files)} GGUF file(s): "
        + (", ".join(f"{n} {s}" for s, n in counts.items()) or "none")
        + f"; {len(result.pairs)} pair(s) checked."
    )
    csp = f"default-src 'none'; style-src '{_digest(CSS)}'; script-src '{_digest(JS)}'; base-uri 'none'; form-action 'none'"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f'<header><h1>{_e(title)}</h1><ul class="summary">{"".join(f"<li>{_e(x)}</li>" for x in messages)}</ul>',
        '<ul class="legend">'
        + "".join(f'<li><span class="v-{v}">{MARK[v]}</span> {v}</li>' for v in VERDICTS)
        + '<li><span class="v-none">·</span> not checked</li><li><span class="chosen">&nbsp;&nbsp;</span> chosen</li></ul></header>',
        '<div class="bar" role="search"><input type="search" id="q" placeholder="Filter by model or projector name"'
        ' aria-label="Filter by model or projector name">'
        + "".join(f'<label><input type="checkbox" value="{v}" checked> {v}</label>' for v in VERDICTS)
        + '<span class="count" id="count" aria-live="polite"></span></div>',
        "<main><section>",
    ]
    if models:
        out.append(
            '<div class="wrap"><table class="matrix"><thead><tr><th class="corner" scope="col">text model ↓ · projector →</th>'
            + head
            + "</tr></thead><tbody>"
            + "".join(body)
            + "</tbody></table></div>"
        )
    else:
        out.append('<p class="muted">No pair was checked: no text model and projector were found together.</p>')
    out += _lists(result, name)
    out.append(
        '</section><aside id="details" aria-live="polite"><p class="muted">Click a cell to see its findings.</p></aside></main>'
    )
    out.append(f'<script type="application/json" id="mmcheck-data">{_json_for_script(data)}</script>')
    out.append(f"<script>{JS}</script></body></html>")
    return "\n".join(out)


def _tooltip(verdict: str, findings: list[dict[str, str]]) -> str:
    worst = [f for f in findings if f["severity"] == "error"] or [f for f in findings if f["severity"] == "warning"]
    lines = [verdict] + [f"{f['rule']} {f['message']}" for f in (worst or findings)[:3]]
    return "\n".join(lines)


def _lists(result: ScanResult, name: Any) -> list[str]:
    from mmcheck.scan import Status

    out = []
    chosen = result.chosen()
    if chosen:
        out.append('<h2>Use (text model → projector)</h2><ul class="plain">')
        out += [
            f'<li>{_e(name(m))} → {_e(name(c.mmproj))} <span class="badge v-{c.report.verdict.value}">'
            f"{_e(c.report.verdict.value)}</span></li>"
            for m, c in chosen.items()
        ]
        out.append("</ul>")
    paired = {c.model for c in result.pairs}
    alone = [m for m in result.paths(Status.TEXT_MODEL) if m not in paired]
    if alone:
        out.append('<h2>Text models without a projector to check</h2><ul class="plain">')
        out += [f"<li>{_e(name(m))}</li>" for m in alone]
        out.append("</ul>")
    if result.notes:
        out.append('<h2>Notes</h2><ul class="notes">')
        for n in result.notes:
            for f in n.findings:
                hint = f" → {f.hint}" if f.hint else ""
                out.append(
                    f'<li data-rule="{_e(f.rule)}"><span class="sev-{_e(f.severity.value)}">{_e(f.rule)} '
                    f"{_e(f.severity.value)}</span> {_e(name(f.file or n.model_path))}: {_e(f.message)}{_e(hint)}</li>"
                )
        out.append("</ul>")
    return out


__all__ = ["render_html"]
