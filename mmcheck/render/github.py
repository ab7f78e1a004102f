"""GitHub Actions workflow commands (``::error file=…,line=1,title=…::…``) and the step summary.

One annotation per finding, grouped per pair with ``::group::``. GitHub shows at most 10 error and
10 warning annotations per step, so ``write_step_summary`` also appends a Markdown table of every
pair to ``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mmcheck.render.formats import display_path, finding_path, full_message, pair_label, repo_root
from mmcheck.rules.base import Severity

if TYPE_CHECKING:
    from mmcheck.pair import Report
    from mmcheck.render import RenderContext

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
ICON = {"match": "✅", "unknown": "❔", "likely-garbage": "⚠️", "mismatch": "❌"}


def escape_data(text: str) -> str:
    """Escape a command's message: ``%``, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: as data, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(kind: str, message: str, *, file: str | None = None, title: str | None = None) -> str:
    """One workflow command. A binary file has no lines: always ``line=1``."""
    props = []
    if file is not None:
        props += [f"file={escape_property(file)}", "line=1", "endLine=1", "col=1", "endColumn=1"]
    if title is not None:
        props.append(f"title={escape_property(title)}")
    head = f"::{kind} {','.join(props)}" if props else f"::{kind}"
    return f"{head}::{escape_data(message)}"


def render(reports: Sequence[Report], context: RenderContext) -> str:
    """Workflow commands for every finding (the CLI appends :func:`step_summary` to the job summary)."""
    return render_github(reports, root=context.root)


def render_github(reports: Sequence[Report], *, root: Path | None = None) -> str:
    """Workflow commands for every finding, one group per pair, then a one-line total."""
    root = root or repo_root()
    lines: list[str] = []
    for report in reports:
        label = pair_label(report, root)
        lines.append(f"::group::{escape_data(f'mmcheck: {label}: {report.verdict.value}')}")
        if report.error is not None and not report.findings:
            where = display_path(report.error_path or report.model_path, root)
            lines.append(annotation("error", report.error, file=where, title="mmcheck unreadable file"))
        for f in report.findings:
            msg = full_message(f)
            if report.mmproj_path is not None:
                msg += f" ({label})"
            lines.append(annotation(COMMAND[f.severity], msg, file=display_path(finding_path(report, f), root),
                                    title=f"{f.rule} {f.name}"))  # fmt: skip
        lines.append(f"verdict: {report.verdict.value}")
        lines.append("::endgroup::")
    counts: dict[str, int] = {}
    for r in reports:
        counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
    tally = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    lines.append(f"mmcheck: {len(reports)} report(s){': ' + tally if tally else ''}")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def step_summary(reports: Sequence[Report], *, root: Path | None = None) -> str:
    """A Markdown summary: one table row per report, then the findings of each."""
    root = root or repo_root()
    out = ["## mmcheck", "", "| text model / file | projector | verdict | errors | warnings |", "|---|---|---|---|---|"]
    for r in reports:
        n_err = sum(1 for f in r.findings if f.severity == Severity.ERROR)
        n_warn = sum(1 for f in r.findings if f.severity == Severity.WARNING)
        proj = f"`{_cell(display_path(r.mmproj_path, root))}`" if r.mmproj_path else "—"
        verdict = f"{ICON.get(r.verdict.value, '')} {r.verdict.value}".strip()
        out.append(f"| `{_cell(display_path(r.model_path, root))}` | {proj} | {verdict} | {n_err} | {n_warn} |")
    detailed = [r for r in reports if r.findings or r.error]
    if detailed:
        out += ["", "<details><summary>Findings</summary>", ""]
        for r in detailed:
            out.append(f"**{_cell(pair_label(r, root))}** — {r.verdict.value}")
            out.append("")
            if r.error and not r.findings:
                out.append(f"- error: {_cell(r.error)}")
            for f in r.findings:
                out.append(f"- `{f.rule}` {f.severity.value}: {_cell(full_message(f))}")
            out.append("")
        out.append("</details>")
    return "\n".join(out) + "\n"
