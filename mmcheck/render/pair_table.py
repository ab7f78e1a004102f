"""The human-readable report of ``mmcheck pair``: readable at 80 columns.

Layout: the verdict and what it rests on; the two files (full names, wrapped, never cut); the
evidence ("why"); the facts that can be compared side by side, with the deciding width marked;
each file's own facts; the other findings; the smoke test in plain words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mmcheck.errors import printable
from mmcheck.evidence import Direction
from mmcheck.facts.classify import FileKind
from mmcheck.render.textgrid import Column, Grid, Page, Styled
from mmcheck.rules.base import Finding, Severity
from mmcheck.verdict import Verdict

if TYPE_CHECKING:
    from mmcheck.pair import Report
    from mmcheck.render import RenderContext

VERDICT_STYLE = {
    Verdict.MATCH: ("bold white on green", "MATCH"),
    Verdict.UNKNOWN: ("bold black on yellow", "UNKNOWN"),
    Verdict.LIKELY_GARBAGE: ("bold white on dark_orange3", "LIKELY-GARBAGE"),
    Verdict.MISMATCH: ("bold white on red", "MISMATCH"),
}
SEVERITY_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _v(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, tuple):
        return f"{x[0]} (per layer)" if len(set(x)) == 1 else f"{min(x)}–{max(x)} (per layer)"
    return f"{x:,}" if isinstance(x, int) and not isinstance(x, bool) else str(x)


def compared(report: Report) -> list[tuple[str, str, str, bool | None]]:
    """(fact, text model, projector, agree?) rows of the facts that can be compared.

    ``agree`` is None where the two are related but not equal by nature (context vs tokens per image).
    """
    t = report.model.text if report.model is not None else None
    p = report.mmproj.projector if report.mmproj is not None else None
    rows: list[tuple[str, str, str, bool | None]] = []
    if t is None or p is None:
        return rows
    tower = p.primary
    width_src = f" ({tower.width.source})" if tower is not None and p.output_width is not None else ""
    deepstack = f" = {t.n_embd:,} x (1 + {t.deepstack_layers})" if t.deepstack_layers and t.n_embd else ""
    fits = None if t.n_embd_inp is None or p.output_width is None else t.n_embd_inp == p.output_width
    rows.append(("width", _v(t.n_embd_inp) + deepstack, _v(p.output_width) + width_src, fits))
    rows.append(("name", _v(t.name), _v(p.name), None))
    tokens = tower.tokens if tower is not None else None
    if tokens is not None and tokens.worst_case is not None:
        n_ctx = t.context_length
        fit = None if n_ctx is None else tokens.worst_case <= n_ctx
        rows.append(("context / image tokens", _v(n_ctx), f"up to {tokens.worst_case:,} per {tokens.per}", fit))
    return rows


def projector_facts(report: Report) -> str | None:
    """One line: the projector's own facts (type, encoder, image size, tokens per image)."""
    p = report.mmproj.projector if report.mmproj is not None else None
    if p is None:
        return None
    parts = [", ".join(p.type_ids) if p.type_ids else "type unknown"]
    enc = p.encoder
    if enc is not None:
        parts.append(f"encoder {_v(enc.width)} wide, {_v(enc.n_layer)} layers")
        if enc.image_size is not None:
            parts.append(f"image {enc.image_size} px / patch {_v(enc.patch_size)}")
    tower = p.primary
    if tower is not None and tower.tokens is not None and tower.tokens.typical is not None:
        parts.append(f"{tower.tokens.typical:,} tokens per {tower.tokens.per}")
    return " · ".join(parts)


def text_facts(report: Report) -> str | None:
    """One line: the text model's own facts (architecture, layers, heads, vocabulary)."""
    t = report.model.text if report.model is not None else None
    if t is None:
        return None
    parts = [t.architecture or "architecture unknown", f"{_v(t.n_layer)} layers"]
    parts.append(f"{_v(t.n_head)} heads / {_v(t.n_head_kv)} kv")
    parts.append(f"vocab {_v(t.vocab_size)} ({_v(t.tokenizer_model)} / {_v(t.tokenizer_pre)})")
    if t.rope_type in ("mrope", "imrope"):
        parts.append(t.rope_type.upper())
    return " · ".join(parts)


def render_pair(report: Report, context: RenderContext) -> str:
    """The report as text: colour when ``context.color``, wrapped to ``context.width``."""
    if context.quiet:
        return report.verdict.value
    page = Page(context.width, context.color)
    style, word = VERDICT_STYLE[report.verdict]
    page.print(Styled(f" {word} ", style).append(f"  {report.basis}"))
    page.print()

    files = Grid(Column(wrap=False), Column())
    # the roles are known only when one file is a text model and the other a projector
    roles_known = (
        report.model is not None
        and report.model.kind == FileKind.TEXT_MODEL
        and report.mmproj is not None
        and report.mmproj.kind == FileKind.PROJECTOR
    )
    files.add_row(Styled("text model" if roles_known else "file", "bold"), printable(report.model_path))
    if report.mmproj_path is not None:
        files.add_row(Styled("projector" if roles_known else "file", "bold"), printable(report.mmproj_path))
    page.grid(files)
    page.print()

    evidence = [("for", f) for f in report.evidence(Direction.FOR)] + [
        ("against", f) for f in report.evidence(Direction.AGAINST)
    ]
    if evidence:
        page.print(Styled("why", "bold"))
        why = Grid(Column(wrap=False), Column(wrap=False), Column())
        for direction, f in evidence:
            assert f.evidence is not None
            mark = ("+ " if direction == "for" else "- ") + f.evidence.strength.value
            why.add_row(Styled(mark, "green" if direction == "for" else "red"), f.rule, _message(f))
        page.grid(why)
        page.print()

    rows = compared(report)
    if rows:
        table = Grid(Column(), Column("text model"), Column(wrap=False), Column("projector"), show_header=True)
        for label, a, b, agree in rows:
            sign = Styled()
            if agree is True:
                sign = Styled("=" if label == "width" else "ok", "green")
            elif agree is False:
                sign = Styled("≠" if label == "width" else "!", "bold red")
            style = "bold" if label == "width" else ""
            table.add_row(Styled(label, style), Styled(a, style), sign, Styled(b, style))
        page.grid(table)
        page.print()
    for label, facts in (("projector", projector_facts(report)), ("text model", text_facts(report))):
        if facts:
            page.print(Styled(f"{label}: ", "bold").append(facts))
    # MM808 (the smoke test was skipped) is what the smoke line at the end says
    notes = [f for f in report.findings if f.evidence is None and not (f.rule == "MM808" and report.smoke_requested)]
    if notes:
        page.print()
        table = Grid(
            Column("rule", wrap=False), Column("severity", wrap=False), Column("other findings"), show_header=True
        )
        for f in sorted(notes, key=lambda f: (list(Severity).index(f.severity), f.rule)):
            table.add_row(f.rule, Styled(f.severity.value, SEVERITY_STYLE[f.severity]), _message(f))
        page.grid(table)
    if report.smoke_requested:
        sm = report.smoke_dict(timings=context.timings)
        page.print()
        line = Styled("smoke test: ", "bold").append(sm["status"])
        if sm.get("summary") and sm["status"] != "skipped":
            line.append(f" — {sm['summary']}")
        elif sm.get("reason"):
            line.append(f" — {sm['reason']}")
        page.print(line)
        if context.timings and sm.get("timings"):
            ms = ", ".join(f"{k} {v:.0f} ms" for k, v in sm["timings"].items())
            page.print(Styled(f"  timings: {ms}", "dim"))
    return page.text()


def _message(finding: Finding) -> Styled:
    """A finding's message, and its hint on the next line."""
    msg = Styled(printable(finding.message))
    if finding.hint:
        msg.append(f"\n→ {printable(finding.hint)}", "dim")
    return msg
