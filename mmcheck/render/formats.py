"""The CI formats of ``pair``, ``lint`` and ``scan``: ``sarif``, ``github`` and ``junit``
(GitHub code scanning and workflow-command conventions).

``render(reports, fmt)`` returns the text to write. Rule descriptions come from the rule registry,
the same source as ``mmcheck rules`` and docs/rules.md. Paths are written relative to the
repository root (the nearest folder above the working directory holding ``.git``, else the working
directory), as GitHub code scanning and annotations expect.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mmcheck.header.source import is_remote
from mmcheck.rules.base import Rule, Severity

if TYPE_CHECKING:
    from mmcheck.pair import Report
    from mmcheck.rules.base import Finding

FORMATS = ("sarif", "github", "junit")


def render(reports: Sequence[Report], fmt: str, *, properties: Mapping[str, Any] | None = None) -> str:
    """Render ``reports`` as ``fmt`` (sarif | github | junit).

    ``properties`` are extra run-level facts (``scan`` passes its matrix) for SARIF. The github
    format also appends a Markdown summary to ``$GITHUB_STEP_SUMMARY`` when that variable is set.
    """
    if fmt == "sarif":
        from mmcheck.render.sarif import render_sarif

        return render_sarif(reports, properties=properties)
    if fmt == "github":
        from mmcheck.render.github import render_github, write_step_summary

        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            write_step_summary(reports, Path(summary))
        return render_github(reports)
    if fmt == "junit":
        from mmcheck.render.junit import render_junit

        return render_junit(reports)
    raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")


def rule_table() -> dict[str, Rule]:
    """Every registered rule by code, sorted (the scanner's MM09x included)."""
    from mmcheck.rules import RULES

    return RULES


def level(severity: Severity) -> str:
    """SARIF / annotation level of a severity: error, warning, note."""
    return {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}[severity]


def repo_root(start: Path | None = None) -> Path:
    """The git work tree containing ``start`` (default: the working directory), else ``start``."""
    here = Path(os.path.abspath(start or Path.cwd()))
    for d in (here, *here.parents):
        if (d / ".git").exists():
            return d
    return here


def relative_path(path: str | os.PathLike[str], root: Path) -> str | None:
    """``path`` relative to ``root`` with ``/`` separators, or None when it is outside ``root``
    (or remote: ``hf://`` and ``https://`` paths are shown as given)."""
    if is_remote(path):
        return None
    p = Path(os.path.abspath(path))
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return None


def uri(path: str | os.PathLike[str], root: Path) -> str:
    """A SARIF ``artifactLocation.uri``: relative and percent-encoded under ``root``, else a file URI."""
    rel = relative_path(path, root)
    if rel is not None:
        return quote(rel, safe="/")
    if is_remote(path):
        return str(path)
    return Path(os.path.abspath(path)).as_uri()


def display_path(path: str | os.PathLike[str], root: Path) -> str:
    """What to print for a path: relative to ``root`` when inside it, else as given."""
    rel = relative_path(path, root)
    return rel if rel is not None else str(path)


def finding_path(report: Report, finding: Finding) -> str:
    """The file a finding is about: its own file, else the projector, else the (only) file."""
    return finding.file or report.mmproj_path or report.model_path


def pair_label(report: Report, root: Path) -> str:
    """``model + mmproj`` for a pair, the path for a single file."""
    model = display_path(report.model_path, root)
    if report.mmproj_path is None:
        return model
    return f"{model} + {display_path(report.mmproj_path, root)}"


def full_message(finding: Finding) -> str:
    """The message with its hint."""
    return f"{finding.message} — {finding.hint}" if finding.hint else finding.message


def rules_run(report: Report) -> list[str]:
    """The rule codes a report stands for: every pair rule for a pair, the file's scope for a lint
    report, and just the codes of its findings for a scanner note."""
    from mmcheck.facts.classify import FileKind
    from mmcheck.rules import RULES

    fired = [f.rule for f in report.findings]
    if report.mmproj_path is None and report.model is None:
        codes = fired
    elif report.mmproj_path is None:
        scope = "text" if report.model is not None and report.model.kind == FileKind.TEXT_MODEL else "projector"
        codes = [c for c, r in RULES.items() if r.scope == scope] + fired
    else:
        codes = [c for c in RULES if not c.startswith("MM09")] + fired
    return list(dict.fromkeys(sorted(codes)))


__all__ = ["FORMATS", "render", "rule_table"]
