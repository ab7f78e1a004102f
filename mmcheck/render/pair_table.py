"""The human-readable report of ``mmcheck pair`` and ``mmcheck lint``."""

from __future__ import annotations

from typing import Any

from mmcheck.evidence import Direction
from mmcheck.pair import Report
from mmcheck.rules.base import Severity
from mmcheck.verdict import Verdict

VERDICT_STYLE = {
    Verdict.MATCH: ("bold white on green", "MATCH", "the projector fits this model"),
    Verdict.UNKNOWN: (
        "bold black on yellow",
        "UNKNOWN",
        "widths fit, but nothing confirms the projector was made for this model",
    ),
    Verdict.LIKELY_GARBAGE: (
        "bold white on dark_orange3",
        "LIKELY-GARBAGE",
        "it will load, but the output will be nonsense",
    ),
    Verdict.MISMATCH: ("bold white on red", "MISMATCH", "the runtime will refuse or crash"),
}
SEVERITY_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _v(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, tuple):
        return f"{x[0]} (per layer)" if len(set(x)) == 1 else f"{min(x)}–{max(x)} (per layer)"
    return f"{x:,}" if isinstance(x, int) else str(x)


def side_by_side(report: Report) -> list[tuple[str, str, str]]:
    """(label, model value, projector value) rows of the key numbers."""
    t = report.model.text if report.model is not None else None
    p = report.mmproj.projector if report.mmproj is not None else None
    tower = p.primary if p is not None else None
    enc = p.encoder if p is not None else None
    width = _v(p.output_width if p else None) + (f"  ({tower.width.source})" if tower else "")
    tokens = _v(tower.tokens.typical if tower and tower.tokens else None)
    tokenizer = f"{_v(t.tokenizer_model if t else None)} / {_v(t.tokenizer_pre if t else None)}"
    rows = [
        ("file", report.model_path, report.mmproj_path or "—"),
        ("architecture", _v(t.architecture if t else None), ", ".join(p.type_ids) if p and p.type_ids else "—"),
        ("width", _v(t.n_embd_inp if t else None), width),
        ("name", _v(t.name if t else None), _v(p.name if p else None)),
        ("context / tokens per image", _v(t.context_length if t else None), tokens),
        ("layers", _v(t.n_layer if t else None), _v(enc.n_layer if enc else None)),
        ("vocab / encoder width", _v(t.vocab_size if t else None), _v(enc.width if enc else None)),
        ("tokenizer / image size", tokenizer, _v(enc.image_size if enc else None)),
    ]
    return rows


def render_report(report: Report, *, quiet: bool = False) -> None:
    """Print the verdict banner, the numbers side by side, the findings and the smoke test."""
    if quiet:
        print(report.verdict.value)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    style, word, _meaning = VERDICT_STYLE[report.verdict]
    if report.error is not None:
        console.print(Text(f" {word} ", style=style), f"cannot read {report.error_path}: {report.error}")
        return
    banner = Text()
    banner.append(f" {word} ", style=style)
    banner.append(f"  {report.basis}")
    console.print(banner)
    console.print()
    evidence = [("for", f) for f in report.evidence(Direction.FOR)] + [
        ("against", f) for f in report.evidence(Direction.AGAINST)
    ]
    if evidence:
        why = Table(show_header=False, box=None, pad_edge=False, title="why", title_justify="left")
        why.add_column("")
        why.add_column("")
        why.add_column("")
        for direction, f in evidence:
            assert f.evidence is not None
            mark = ("+ " if direction == "for" else "- ") + f.evidence.strength.value
            msg = Text(f.message)
            if f.hint:
                msg.append(f"\n→ {f.hint}", style="dim")
            why.add_row(Text(mark, style="green" if direction == "for" else "red"), f.rule, msg)
        console.print(why)
        console.print()
    if report.mmproj_path is not None:
        facts = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        facts.add_column("")
        facts.add_column("text model")
        facts.add_column("projector")
        for label, a, b in side_by_side(report):
            facts.add_row(label, a, b)
        console.print(facts)
        console.print()
    notes = [f for f in report.findings if f.evidence is None]
    if notes:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column("rule")
        table.add_column("severity")
        table.add_column("other findings")
        for f in sorted(notes, key=lambda f: (list(Severity).index(f.severity), f.rule)):
            msg = Text(f.message)
            if f.hint:
                msg.append(f"\n→ {f.hint}", style="dim")
            table.add_row(f"{f.rule}", Text(f.severity.value, style=SEVERITY_STYLE[f.severity]), msg)
        console.print(table)
    if report.smoke_requested:
        sm = report.smoke_dict()
        line = f"smoke test: {sm['status']}"
        if sm.get("reason"):
            line += f" — {sm['reason']}"
        console.print()
        console.print(line, highlight=False)
        if sm.get("summary") and sm["status"] != "skipped":
            console.print(f"  {sm['summary']}", highlight=False)
        stages = sm.get("stages") or []
        if stages:
            chain = " → ".join(
                f"{s['name']} {'x'.join(map(str, s['output_shape']))}" for s in stages if s.get("output_shape")
            )
            console.print(f"  stages: {chain}", highlight=False, style="dim")
