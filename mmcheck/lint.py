"""Single-file checks: ``mmcheck lint`` over files and folders, and the findings ``inspect`` shows.

Every rule whose scope is one file runs: the integrity rules (truncated data, big-endian, a later
shard, nested arrays), and the projector's or the text model's own rules. A Git LFS pointer is a
report with its finding (MM090), not an error. Only a file that cannot be read at all (missing,
unreadable, not GGUF) is an error, kept apart so that the CLI can say it on stderr and exit 2.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mmcheck.errors import GGUFError, MMCheckError
from mmcheck.header.source import FilePath, RemotePath, as_file_path, is_remote
from mmcheck.inspection import FileInfo, inspect_file
from mmcheck.rules import RULES, Finding, Options, Rule, resolve
from mmcheck.verdict import FailOn, Verdict

if TYPE_CHECKING:
    from mmcheck.db import CompatDB
    from mmcheck.pair import Report
    from mmcheck.settings import Settings

PathLike = str | os.PathLike[str] | RemotePath


@dataclass
class LintResult:
    """The reports of the files that could be read, and one error per path that could not."""

    reports: list[Report] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, what is wrong)

    def fails(self, fail_on: FailOn = FailOn.likely_garbage) -> bool:
        """Whether any file fails ``fail_on`` (an error finding; with ``warning``, a warning too)."""
        return any(r.fails(fail_on) for r in self.reports)


@dataclass(frozen=True)
class Inspected:
    """One file ``inspect`` describes: its facts (None for a Git LFS pointer) and its findings."""

    info: FileInfo | None
    report: Report


@dataclass
class InspectResult:
    """``inspect``'s files in the order given, and the paths that could not be read."""

    files: list[Inspected] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def fails(self) -> bool:
        """Whether a file has an error finding (a runtime would refuse it)."""
        return any(f.report.fails(FailOn.likely_garbage) for f in self.files)


def lfs_pointer_finding(path: PathLike) -> Finding | None:
    """The MM090 finding when ``path`` is a Git LFS pointer, else None."""
    from mmcheck.files import read_head
    from mmcheck.header.sniff import is_lfs_pointer

    if is_remote(path):
        return None
    try:
        head = read_head(path, 64)
    except GGUFError:
        return None
    if not is_lfs_pointer(head):
        return None
    from mmcheck.errors import printable
    from mmcheck.rules.scanning import lfs_pointer_message

    return RULES["MM090"].finding(lfs_pointer_message(printable(Path(path).name)), "run `git lfs pull`", path)


def lint_file(
    path: PathLike, *, db: CompatDB | None = None, rules: list[Rule] | None = None, options: Options | None = None
) -> Report:
    """The single-file checks of one file. Raises ``GGUFError`` when it cannot be read; a Git LFS
    pointer is a report with its finding (MM090)."""
    from mmcheck.db import load_db

    database = db or load_db()
    chosen = rules if rules is not None else resolve()
    try:
        info = inspect_file(path, database)
    except GGUFError:
        finding = lfs_pointer_finding(path)
        if finding is None:
            raise
        return _pointer_report(path, finding, chosen)
    return lint_info(info, database, chosen, options or Options())


def lint_info(info: FileInfo, db: CompatDB, rules: list[Rule], options: Options) -> Report:
    """The single-file checks of a file already read."""
    from mmcheck.pair import evaluate

    return evaluate(info, None, db, rules, options, smoke=False, strict=False)


def _pointer_report(path: PathLike, finding: Finding, rules: list[Rule]) -> Report:
    from mmcheck.pair import Report

    findings = [finding] if any(r.code == finding.rule for r in rules) else []
    return Report(Verdict.MISMATCH, findings, str(path), None, smoke_requested=False)


def lint_targets(paths: Iterable[PathLike], errors: list[tuple[str, str]]) -> list[FilePath]:
    """The files ``lint`` checks: each file as given, and the GGUF files below each folder.

    A path that does not exist, and a folder that cannot be listed, are added to ``errors``.
    """
    from mmcheck.scan import gguf_files_below

    seen: dict[str, FilePath] = {}
    for raw in paths:
        p: FilePath = as_file_path(raw)
        if isinstance(p, RemotePath):
            if p.name.lower().endswith(".gguf"):
                seen.setdefault(p.url, p)
            else:
                from mmcheck.remote import list_gguf

                for remote in list_gguf(p, recursive=True):
                    seen.setdefault(remote.url, remote)
            continue
        if p.is_dir():
            unreadable: list[tuple[Path, str]] = []
            for local in gguf_files_below(p, recursive=True, unreadable=unreadable):
                seen.setdefault(os.path.realpath(local), local)
            errors += [(str(d), why) for d, why in unreadable]
        elif p.exists() or p.is_symlink():
            seen.setdefault(os.path.realpath(p), p)
        else:
            errors.append((str(p), "no such file or directory"))
    return list(seen.values())


def lint_paths(paths: Iterable[PathLike], settings: Settings) -> LintResult:
    """``mmcheck lint``: the single-file checks of every file in ``paths`` (folders recursively)."""
    result = LintResult()
    rules = settings.rules()
    for path in lint_targets(paths, result.errors):
        try:
            result.reports.append(lint_file(path, db=settings.db, rules=rules, options=settings.options))
        except GGUFError as e:
            result.errors.append((getattr(e, "url", None) or str(path), str(e)))
    return result


def inspect_many(paths: Iterable[PathLike], settings: Settings) -> InspectResult:
    """``mmcheck inspect``: each file's facts and single-file findings, in the order given."""
    result = InspectResult()
    rules = settings.rules()
    for raw in paths:
        path = as_file_path(raw)
        try:
            info = inspect_file(path, settings.db)
        except GGUFError as e:
            finding = lfs_pointer_finding(path)
            if finding is None:
                result.errors.append((getattr(e, "url", None) or str(path), str(e)))
            else:
                result.files.append(Inspected(None, _pointer_report(path, finding, rules)))
            continue
        except MMCheckError as e:
            result.errors.append((str(path), str(e)))
            continue
        result.files.append(Inspected(info, lint_info(info, settings.db, rules, settings.options)))
    return result


__all__ = ["InspectResult", "Inspected", "LintResult", "inspect_many", "lfs_pointer_finding", "lint_file", "lint_paths"]
