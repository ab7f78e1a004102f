"""Check a text model and a projector together: the library behind ``mmcheck pair``.

``check_pair`` never prints and never exits: it returns a ``Report``. With ``raise_errors=False``
(the default) unreadable files become a report carrying the error instead of an exception, so a
launcher can call it before starting its runtime without a try/except.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
import os
import time
from pathlib import Path
from typing import Any, NamedTuple

from mmcheck.db import CompatDB, load_db
from mmcheck.errors import GGUFError, MMCheckError, RemoteError
from mmcheck.evidence import Direction, Strength, weigh
from mmcheck.facts.classify import FileKind
from mmcheck.header.source import FilePath, RemotePath, is_remote
from mmcheck.inspection import FileInfo, info_to_dict, inspect_file
from mmcheck.rules import Context, Finding, Options, Rule, resolve
from mmcheck.verdict import FailOn, Verdict, decide, fails, lint_fails, lint_status

PathLike = str | os.PathLike[str] | RemotePath
#: The schema version of every JSON document mmcheck writes (pair, lint, inspect, scan, suggest);
#: 2: smoke findings share the finding shape (``rule``), timings only with ``--timings``.
SCHEMA_VERSION = 2


class Report(NamedTuple):
    """The result of checking one pair (or one file, for ``lint``)."""

    verdict: Verdict
    findings: list[Finding]
    model_path: str
    mmproj_path: str | None
    model: FileInfo | None = None
    mmproj: FileInfo | None = None
    smoke: Any = None  # SmokeResult, or None when the smoke test was not run
    smoke_requested: bool = True
    error: str | None = None  # set when a file could not be read; verdict is then MISMATCH
    error_path: str | None = None
    rules_run: tuple[str, ...] = ()  # codes of the rules that were enabled
    seconds: float | None = None  # wall-clock time of the check (shown only with --timings)

    def evidence(self, direction: Direction) -> list[Finding]:
        """The findings that are evidence in ``direction``, strongest first."""
        order = list(Strength)
        found = [f for f in self.findings if f.evidence is not None and f.evidence.direction == direction]
        return sorted(found, key=lambda f: (order.index(f.evidence.strength), f.rule))  # type: ignore[union-attr]

    @property
    def basis(self) -> str:
        """One sentence: what the verdict rests on (never claims a check that was not run)."""
        if self.error is not None:
            return f"cannot read {self.error_path}"
        if self.single_file:
            return _LINT_BASIS[self.lint_status()]
        balance = weigh(f.evidence for f in self.findings)
        if self.verdict == Verdict.MISMATCH:
            return "the runtime will refuse the pair or crash"
        if self.verdict == Verdict.LIKELY_GARBAGE:
            return "it will load, but the output will be nonsense (see why)"
        if self.verdict == Verdict.MATCH:
            return "positive evidence that the projector was made for this model"
        if balance.conflict:
            return "the evidence points both ways; see why"
        width_checked = "MM101" in self.rules_run and self.mmproj_path is not None
        lead = "the widths fit, but" if width_checked else "the width check was not run (MM101 is not selected), and"
        return f"{lead} nothing confirms or contradicts that the projector was made for this model"

    def why(self) -> dict[str, Any]:
        """The evidence the verdict rests on: for and against, with strengths (the JSON ``why``)."""

        def item(f: Finding) -> dict[str, Any]:
            assert f.evidence is not None
            return {"rule": f.rule, "name": f.name, "strength": f.evidence.strength.value, "message": f.message}

        balance = weigh(f.evidence for f in self.findings)
        return {
            "basis": self.basis,
            "conflict": balance.conflict,
            "for": [item(f) for f in self.evidence(Direction.FOR)],
            "against": [item(f) for f in self.evidence(Direction.AGAINST)],
        }

    @property
    def ok(self) -> bool:
        """True when a runtime can use the pair as intended (verdict match or unknown, no error)."""
        return self.error is None and self.verdict in (Verdict.MATCH, Verdict.UNKNOWN)

    @property
    def single_file(self) -> bool:
        """A ``lint`` report (one file, no pair)."""
        return self.mmproj_path is None

    def fails(self, fail_on: FailOn = FailOn.likely_garbage) -> bool:
        """Whether this report should make a CI job fail under ``fail_on`` (for one file: whether it
        has an error finding, or a warning with ``fail_on=warning``)."""
        if self.error is not None:
            return True
        if self.single_file:
            return lint_fails(self.findings, fail_on)
        return fails(self.verdict, self.findings, fail_on)

    def lint_status(self) -> str:
        """``ok``, ``warning`` or ``error``: what ``lint`` says of a single file."""
        return "error" if self.error is not None else lint_status(self.findings)

    def to_dict(self, *, timings: bool = False) -> dict[str, Any]:
        """The JSON document of ``mmcheck pair --format json`` (schema: docs/json.md).

        Deterministic: the same files give the same document; wall-clock numbers only with ``timings``.
        """
        from mmcheck import __version__

        return {
            "schema_version": SCHEMA_VERSION,
            "mmcheck_version": __version__,
            "verdict": self.verdict.value,
            "model": _file_dict(self.model, self.model_path),
            "mmproj": _file_dict(self.mmproj, self.mmproj_path),
            "findings": [f.to_dict() for f in self.findings],
            "why": self.why(),
            "smoke": self.smoke_dict(timings=timings),
            "error": None if self.error is None else {"path": self.error_path, "message": self.error},
            **({"timings": {"total_seconds": round(self.seconds or 0.0, 6)}} if timings else {}),
        }

    def smoke_dict(self, *, timings: bool = False) -> dict[str, Any]:
        """The ``smoke`` object: status, reason and (when it ran) the numbers."""
        if self.smoke is not None:
            return dict(self.smoke.to_dict(timings=timings))
        reason = "disabled (--no-smoke)" if not self.smoke_requested else "not run: the pair failed earlier checks"
        return {"status": "skipped", "reason": reason}


_LINT_BASIS = {
    "ok": "no error or warning",
    "warning": "warnings, but nothing a runtime would refuse",
    "error": "a runtime would refuse this file (see the errors)",
}


def _file_dict(info: FileInfo | None, path: str | None) -> dict[str, Any] | None:
    if info is None:
        return None if path is None else {"path": path}
    return info_to_dict(info)


def assign_roles(a: FileInfo, b: FileInfo | None, *, strict: bool) -> dict[str, Any]:
    """Decide which file is the text model and which the projector.

    Returns the ``Context`` fields: model, mmproj, role_notes, swapped_strict, other_text, unusable.
    """
    out: dict[str, Any] = {"model": None, "mmproj": None, "role_notes": [], "unusable": []}
    files = [f for f in (a, b) if f is not None]
    out["files"] = files
    if b is not None and _same_file(a.path, b.path):
        out["same_file"] = True
        files = [a]
    usable = [f for f in files if f.kind in (FileKind.TEXT_MODEL, FileKind.PROJECTOR)]
    out["unusable"] = [f for f in files if f not in usable]
    texts = [f for f in usable if f.kind == FileKind.TEXT_MODEL]
    projs = [f for f in usable if f.kind == FileKind.PROJECTOR]
    if texts:
        out["model"] = texts[0]
    if projs:
        out["mmproj"] = projs[0]
    if len(texts) == 2:
        out["other_text"] = str(texts[1].path)
    if b is not None and a.kind == FileKind.PROJECTOR and b.kind == FileKind.TEXT_MODEL:
        if strict:
            out["swapped_strict"] = True
        else:
            out["role_notes"].append(f"{a.path} is the projector and {b.path} the text model (given in reverse order)")
    return out


def _same_file(a: FilePath, b: FilePath) -> bool:
    if not isinstance(a, Path) or not isinstance(b, Path):
        return str(a) == str(b)
    try:
        return a == b or os.path.samefile(a, b)
    except OSError:
        return False


def check_pair(
    model: PathLike,
    mmproj: PathLike,
    *,
    smoke: bool = True,
    strict_roles: bool = True,
    db: CompatDB | PathLike | None = None,
    options: Options | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    raise_errors: bool = False,
) -> Report:
    """Check whether ``mmproj`` fits ``model``; never raises on bad files unless ``raise_errors``.

    ``strict_roles=True`` (the default for this API and ``mmcheck exec``) treats the arguments as the
    runtime will: a projector passed as ``model`` is a mismatch. ``mmcheck pair`` uses
    ``strict_roles=False`` and accepts the files in either order.
    """
    started = time.perf_counter()
    report = _check_pair(model, mmproj, smoke, strict_roles, db, options, select, ignore, raise_errors)
    return report._replace(seconds=time.perf_counter() - started)


def _check_pair(
    model: PathLike,
    mmproj: PathLike,
    smoke: bool,
    strict_roles: bool,
    db: CompatDB | PathLike | None,
    options: Options | None,
    select: list[str] | None,
    ignore: list[str] | None,
    raise_errors: bool,
) -> Report:
    database = db if isinstance(db, CompatDB) else load_db(None if db is None else Path(db))
    if is_remote(model) or is_remote(mmproj):
        from mmcheck.remote import prepare

        try:
            prepare([model, mmproj])  # one metadata request per Hub repository validates both cached headers
        except RemoteError as e:
            if raise_errors:
                raise
            return _error_report(model, mmproj, e, e.url, smoke)
    infos: list[FileInfo] = []
    for path in (model, mmproj):
        try:
            infos.append(inspect_file(path, database))
        except GGUFError as e:
            if raise_errors:
                raise
            return Report(
                Verdict.MISMATCH, [], str(model), str(mmproj), error=str(e), error_path=str(path),
                smoke_requested=smoke,
            )  # fmt: skip
    rules = resolve(select, ignore)
    try:
        return evaluate(infos[0], infos[1], database, rules, options or Options(), smoke=smoke, strict=strict_roles)
    except RemoteError as e:  # the smoke test's range reads failed
        if raise_errors:
            raise
        return _error_report(model, mmproj, e, e.url, smoke)


def _error_report(model: PathLike, mmproj: PathLike, e: Exception, path: object, smoke: bool) -> Report:
    return Report(
        Verdict.MISMATCH, [], str(model), str(mmproj), error=str(e), error_path=None if path is None else str(path),
        smoke_requested=smoke,
    )  # fmt: skip


def evaluate(
    a: FileInfo,
    b: FileInfo | None,
    db: CompatDB,
    rules: list[Rule],
    options: Options,
    *,
    smoke: bool,
    strict: bool,
    single_file: "SingleFileFindings | None" = None,
) -> Report:
    """Run the rules on two analysed files (or one, for ``lint``) and decide the verdict.

    ``single_file``: a memo shared by the pairs of one scan or suggest. A projector- or text-scope rule
    reads one file only, so its findings on a file are the same in every pair that file is in (a
    projector is checked against each quantization beside it); they are computed once per file.
    The memo must not outlive the ``FileInfo`` objects, the database or the options it was used with.
    """
    roles = assign_roles(a, b, strict=strict)
    ctx = Context(db=db, options=options, **roles)
    if b is None:
        # lint: the single-file rules of whatever the one file is, and the integrity rules
        scopes = {"file", _SCOPE_OF.get(a.kind, "file")}
        findings = [f for r in rules if r.scope in scopes for f in r.run(ctx)]
        return Report(
            decide(findings),
            findings,
            str(a.path),
            None,
            ctx.model,
            ctx.mmproj,
            smoke_requested=False,
            rules_run=tuple(r.code for r in rules),
        )
    # Structural rules first: the smoke test only runs on a pair the runtime would load. The
    # lineage (MM3xx) and smoke (MM8xx) rules run after it, so that they can say what it measured.
    late = ("MM3", "MM8")
    findings = [f for r in rules if not r.code.startswith(late) for f in _run(r, ctx, single_file)]
    if smoke and ctx.is_pair and decide(findings) != Verdict.MISMATCH:
        ctx.smoke = _smoke(ctx)
    findings += [f for r in rules if r.code.startswith("MM3") for f in r.run(ctx)]
    if ctx.smoke is not None:
        findings += [f for r in rules if r.code.startswith("MM8") for f in r.run(ctx)]
    model_path = str(ctx.model.path) if ctx.model is not None else str(a.path)
    mmproj_path = str(ctx.mmproj.path) if ctx.mmproj is not None else (str(b.path) if b else None)
    if ctx.model is None or ctx.mmproj is None:
        model_path, mmproj_path = str(a.path), str(b.path)
    return Report(
        decide(findings),
        findings,
        model_path,
        mmproj_path,
        ctx.model if ctx.model is not None else a,
        ctx.mmproj if ctx.mmproj is not None else b,
        ctx.smoke,
        smoke_requested=smoke,
        rules_run=tuple(r.code for r in rules),
    )


_SCOPE_OF = {FileKind.TEXT_MODEL: "text", FileKind.PROJECTOR: "projector"}

#: (rule code, id of the FileInfo it read) -> (that FileInfo, its findings); see :func:`evaluate`
SingleFileFindings = dict[tuple[str, int], tuple[FileInfo, list[Finding]]]


def _run(rule: Rule, ctx: Context, memo: SingleFileFindings | None) -> list[Finding]:
    """``rule.run(ctx)``; with a memo, a projector- or text-scope rule once per file."""
    info = ctx.mmproj if rule.scope == "projector" else ctx.model if rule.scope == "text" else None
    if memo is None or info is None:
        return list(rule.run(ctx))
    key = (rule.code, id(info))
    hit = memo.get(key)
    if hit is None or hit[0] is not info:  # the entry keeps ``info`` alive: its id is not reused
        hit = memo[key] = (info, list(rule.run(ctx)))
    return hit[1]


def _smoke(ctx: Context) -> Any:
    """Run the smoke test, or say from the headers why it cannot run (numpy is then never imported)."""
    from mmcheck.header import DataStatus
    from mmcheck.smoke.model import skipped

    assert ctx.model is not None and ctx.mmproj is not None
    for info in (ctx.mmproj, ctx.model):
        status = info.header.data_status
        if status != DataStatus.COMPLETE:
            what = "it is header-only (no tensor data)" if status == DataStatus.HEADER_ONLY else "its data is truncated"
            return skipped(f"{info.path.name}: {what}")
    from mmcheck.smoke import run_smoke

    return run_smoke(ctx.model, ctx.mmproj)


__all__ = ["MMCheckError", "Report", "check_pair", "evaluate"]
