"""What the CI reporters (``sarif``, ``github``, ``junit``) share: paths, levels, labels.

Rule descriptions come from the rule registry, the same source as ``mmcheck rules`` and
docs/rules.md. Paths are written relative to the
repository root (the nearest folder above the working directory holding ``.git``, else the working
directory), as GitHub code scanning and annotations expect.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from mmcheck.errors import printable
from mmcheck.header.source import is_remote
from mmcheck.rules.base import Severity

if TYPE_CHECKING:
    from mmcheck.pair import Report
    from mmcheck.rules.base import Finding


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
        # percent-encode the file name's bytes: a name that is not UTF-8 stays a valid URI
        return quote(os.fsencode(rel), safe="/")
    if is_remote(path):
        return str(path)
    return "file://" + quote(os.fsencode(os.path.abspath(path)), safe="/")


def display_path(path: str | os.PathLike[str], root: Path) -> str:
    """What to print for a path: relative to ``root`` when inside it, else as given."""
    rel = relative_path(path, root)
    return printable(rel if rel is not None else str(path))


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
    """The message with its hint (printable: file names that are not UTF-8 are escaped)."""
    return printable(f"{finding.message} — {finding.hint}" if finding.hint else finding.message)


def rules_run(report: Report) -> list[str]:
    """The rule codes a report stands for: the enabled pair rules for a pair, the enabled rules of
    the file's scope for a lint report, and the codes of its findings for a scanner note."""
    from mmcheck.facts.classify import FileKind
    from mmcheck.rules import RULES

    fired = [f.rule for f in report.findings]
    enabled = [c for c in (report.rules_run or tuple(RULES)) if c in RULES]
    info = report.model or report.mmproj
    if report.single_file and info is None:
        codes = fired
    elif info is not None and report.single_file:
        kind = {FileKind.TEXT_MODEL: "text", FileKind.PROJECTOR: "projector"}.get(info.kind, "file")
        codes = [c for c in enabled if RULES[c].scope in ("file", kind)] + fired
    else:
        codes = [c for c in enabled if RULES[c].scope != "scan"] + fired
    return list(dict.fromkeys(sorted(codes)))


__all__ = ["display_path", "finding_path", "full_message", "level", "pair_label", "repo_root", "rules_run", "uri"]
