"""The human-readable report of ``mmcheck lint`` (and of the findings ``inspect`` shows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mmcheck.errors import printable

if TYPE_CHECKING:
    from mmcheck.pair import Report
    from mmcheck.render import RenderContext
    from mmcheck.rules.base import Finding


def finding_lines(findings: Sequence[Finding], indent: str = "  ") -> list[str]:
    """One line per finding (``MM506 error   message — hint``), errors first."""
    order = {"error": 0, "warning": 1, "info": 2}
    out = []
    for f in sorted(findings, key=lambda f: (order[f.severity.value], f.rule)):
        hint = f" — {printable(f.hint)}" if f.hint else ""
        out.append(f"{indent}{f.rule} {f.severity.value:<7} {printable(f.message)}{hint}")
    return out


def render_lint(reports: Sequence[Report], context: RenderContext) -> str:
    """``FILE: ok`` (or its findings) for each file, then a one-line total."""
    lines: list[str] = []
    for r in reports:
        status = r.lint_status()
        shown = r.findings if context.verbose else [f for f in r.findings if f.severity.value != "info"]
        head = f"{printable(r.model_path)}: {status}"
        hidden = len(r.findings) - len(shown)
        if hidden and status == "ok":
            head += f" ({hidden} info finding{'s' if hidden > 1 else ''}; -v shows them)"
        lines.append(head)
        lines += finding_lines(shown)
    counts = {s: sum(1 for r in reports if r.lint_status() == s) for s in ("error", "warning", "ok")}
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    lines.append(f"{len(reports)} file(s): {tally}" if reports else "no GGUF files to check")
    return "\n".join(lines)
