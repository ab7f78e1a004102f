"""The ``table`` output of ``mmcheck scan`` and ``mmcheck suggest``: plain text, one projector per
block with the verdict against each text model beside it, then what to use and what is wrong."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mmcheck.errors import printable
from mmcheck.header.source import FilePath
from mmcheck.render.formats import display_path, full_message
from mmcheck.rules.base import Severity

if TYPE_CHECKING:
    from mmcheck.pair import Report
    from mmcheck.scan import ScanResult

MARK = {"match": "✓", "unknown": "?", "likely-garbage": "!", "mismatch": "✗"}


def _reason(report: Report) -> str:
    """The first error (else warning) finding, shortened: why a pair does not fit."""
    for sev in (Severity.ERROR, Severity.WARNING):
        for f in report.findings:
            if f.severity == sev:
                msg = f"{f.rule} {f.message}"
                return msg if len(msg) <= 100 else msg[:97] + "..."
    return ""


def _near(path: FilePath, anchor: FilePath, root: Path) -> str:
    return printable(path.name) if path.parent == anchor.parent else display_path(path, root)


def projector_blocks(
    result: ScanResult, projectors: Iterable[FilePath], name_of: Callable[[FilePath, FilePath], str], root: Path
) -> list[str]:
    """Each projector with its text models ranked: verdict mark, verdict, model, and why not."""
    lines: list[str] = []
    for proj in projectors:
        lines.append(display_path(proj, root))
        ranked = result.pairs_of_projector(proj)
        if not ranked:
            lines.append("    (no text model in this folder or above it)")
        for c in ranked:
            v = c.report.verdict.value
            why = "" if c.ok else f"  — {_reason(c.report)}"
            lines.append(f"  {MARK[v]} {v:<15} {name_of(c.model, proj)}{why}")
        lines.append("")
    return lines


def render_scan(result: ScanResult, *, root: Path | None = None) -> str:
    """The scan as text: counts, the matrix per projector, the choices, the problems."""
    from mmcheck.scan import Status

    root = root or Path.cwd()
    counts: dict[str, int] = {}
    for f in result.files:
        counts[f.status.value] = counts.get(f.status.value, 0) + 1
    parts = [f"{n} {s}" for s, n in counts.items()]
    if not result.files and not result.unreadable_folders:
        return "No GGUF files found."
    lines = [f"Scanned {len(result.files)} GGUF file(s): {', '.join(parts)}", ""]
    lines += projector_blocks(result, result.paths(Status.PROJECTOR), lambda m, p: _near(m, p, root), root)
    chosen = result.chosen()
    if chosen:
        lines.append("Use (text model -> projector):")
        for model, c in chosen.items():
            lines.append(f"  {display_path(model, root)} -> {_near(c.mmproj, model, root)} ({c.report.verdict.value})")
        lines.append("")
    lonely = result.models_without_projector()
    if lonely:
        lines.append("Text models no projector in reach fits:")
        lines += [f"  {display_path(m, root)}" for m in lonely]
        lines.append("")
    orphans = result.projectors_without_model()
    if orphans:
        lines.append("Projectors that fit no text model in reach:")
        lines += [f"  {display_path(p, root)}" for p in orphans]
        lines.append("")
    if result.notes:
        lines.append("Notes:")
        for n in result.notes:
            for fd in n.findings:
                where = display_path(fd.file or n.model_path, root)
                text = full_message(fd)
                # scan-rule messages name their file already; say it once
                prefix = "" if text.startswith(where) else f"{where}: "
                lines.append(f"  {fd.rule} {fd.severity.value:<7} {prefix}{text}")
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def render_suggestions(target: FilePath | str, reports: Sequence[Report], *, root: Path | None = None) -> str:
    """``suggest`` as text: the candidates, best first, with their evidence."""
    root = root or Path.cwd()
    if not reports:
        return f"No file found fits {display_path(target, root)}."
    lines = [f"Best fits for {display_path(target, root)}, best first:", ""]
    for i, r in enumerate(reports, start=1):
        other = r.mmproj_path if r.model_path == str(target) else r.model_path
        v = r.verdict.value
        lines.append(f"{i:>3}. {MARK[v]} {v:<15} {display_path(other or '', root)}")
        for f in r.findings:
            if f.effect == "match" or f.severity != Severity.INFO:
                lines.append(f"        {f.rule} {f.message}")
    return "\n".join(lines)
