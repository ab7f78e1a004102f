"""Rules, findings and the context rules read. Rules are pure: they never do I/O."""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
import os
from collections.abc import Callable, Iterable, Iterator
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from mmcheck.evidence import Effect, Evidence

if TYPE_CHECKING:
    from mmcheck.db import CompatDB
    from mmcheck.facts.projector import ProjectorFacts
    from mmcheck.facts.text import TextFacts
    from mmcheck.identify import PairAssessment
    from mmcheck.inspection import FileInfo


class Severity(str, Enum):
    """How loud a finding is. Errors carry a verdict effect; warnings and infos do not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


#: where a rule applies: to a pair; to a projector or a text model alone (``lint`` too); to every
#: file, whatever it is (integrity: truncated, big-endian, later shard, nested arrays); or to a whole
#: scan (its check reads a ``mmcheck.rules.scanning.ScanView`` instead of a ``Context``)
Scope = Literal["pair", "projector", "text", "file", "scan"]


class Hit(NamedTuple):
    """What a rule's check yields: a message, a hint, and which file it is about."""

    message: str
    hint: str = ""
    file: Literal["model", "mmproj"] | None = None  # the slot the finding is about...
    path: os.PathLike[str] | str | None = None  # ...or the file itself (file-scope rules)


class Finding(NamedTuple):
    """A rule that fired, with everything a reporter needs."""

    rule: str
    name: str
    severity: Severity
    message: str
    hint: str
    evidence: Evidence | None
    file: str | None = None  # the path of the file it is about, when it is about one

    @property
    def effect(self) -> Effect | None:
        """The verdict this finding pushes towards on its own (None: not decisive)."""
        return self.evidence.effect if self.evidence is not None else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``{"rule", "severity", "message", "hint"}`` plus extras)."""
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "effect": self.effect,
            "evidence": None
            if self.evidence is None
            else {"direction": self.evidence.direction.value, "strength": self.evidence.strength.value},
            "file": self.file,
        }


class Options(NamedTuple):
    """Settings rules may read (from the command line or ``[tool.mmcheck]``)."""

    ctx_size: int | None = None  # the context the user runs with; None: the model's training context
    batch_size: int = 2048  # llama.cpp -b default
    ubatch_size: int = 512  # llama.cpp -ub default
    runtime: str | None = None  # runtime id for runtime-version rules
    runtime_version: str | None = None


class Context:
    """Everything rules look at: the analysed files, the database and the options.

    A plain class, not a dataclass: importing ``dataclasses`` (and the ``inspect`` it loads) costs
    a ``pair`` start-up ~16 ms (docs/architecture.md).
    """

    def __init__(
        self,
        db: "CompatDB",
        model: "FileInfo | None" = None,
        mmproj: "FileInfo | None" = None,
        options: "Options | None" = None,
        role_notes: list[str] | None = None,
        swapped_strict: bool = False,
        other_text: str | None = None,
        unusable: "list[FileInfo] | None" = None,
        files: "list[FileInfo] | None" = None,
        same_file: bool = False,
        smoke: Any = None,
    ) -> None:
        self.db = db
        self.model = model  # the text model (after role detection)
        self.mmproj = mmproj  # the projector (after role detection)
        self.options = Options() if options is None else options
        self.role_notes = [] if role_notes is None else role_notes  # what role detection did
        self.swapped_strict = swapped_strict  # roles were fixed and the files came in the wrong slots
        self.other_text = other_text  # a second text model given where the projector belongs
        self.unusable = [] if unusable is None else unusable  # LoRA adapters, imatrix files, shards...
        self.files = [] if files is None else files  # every file given, in order
        self.same_file = same_file  # the two arguments are one file
        self.smoke = smoke  # SmokeResult, when the smoke test ran

    @property
    def text(self) -> "TextFacts":
        """The text model's facts (only call where ``model`` is a text model, e.g. after ``is_pair``)."""
        if self.model is None or self.model.text is None:
            raise LookupError("no text model in this context")
        return self.model.text

    @property
    def projector(self) -> "ProjectorFacts":
        """The projector's facts (only call where ``mmproj`` is a projector)."""
        if self.mmproj is None or self.mmproj.projector is None:
            raise LookupError("no projector in this context")
        return self.mmproj.projector

    @property
    def has_projector(self) -> bool:
        """A projector is present (with facts)."""
        return self.mmproj is not None and self.mmproj.projector is not None

    @property
    def has_text(self) -> bool:
        """A text model is present (with facts)."""
        return self.model is not None and self.model.text is not None

    @cached_property
    def assessment(self) -> "PairAssessment":
        """The lineage assessment of the pair (only for a pair: see ``is_pair``)."""
        from mmcheck.identify import assess_pair

        assert self.model is not None and self.mmproj is not None
        return assess_pair(self.text, self.projector, self.db, text_path=self.model.path, proj_path=self.mmproj.path)

    @property
    def is_pair(self) -> bool:
        """Both a text model and a projector are present."""
        return self.has_text and self.has_projector


Check = Callable[[Context], Iterable[Hit]]
#: a check of scope ``scan`` reads a ``ScanView``; every other check reads a ``Context``
AnyCheck = Callable[[Any], Iterable[Hit]]


class Rule(NamedTuple):
    """A rule: stable code, kebab-case name, default severity, the evidence its findings carry, docs."""

    code: str
    name: str
    severity: Severity
    evidence: Evidence | None
    scope: Scope
    summary: str
    why: str
    fix: str
    check: AnyCheck

    @property
    def effect(self) -> Effect | None:
        """The verdict a finding of this rule pushes towards (None: it is not decisive evidence)."""
        return self.evidence.effect if self.evidence is not None else None

    def run(self, ctx: Context) -> Iterator[Finding]:
        """Run the check on a pair (or one file) and wrap its hits as findings."""
        if self.scope == "scan":
            return
        for hit in self.check(ctx):
            path = str(hit.path) if hit.path is not None else None
            if hit.file == "model" and ctx.model is not None:
                path = str(ctx.model.path)
            elif hit.file == "mmproj" and ctx.mmproj is not None:
                path = str(ctx.mmproj.path)
            yield Finding(self.code, self.name, self.severity, hit.message, hit.hint, self.evidence, path)

    def run_scan(self, view: Any) -> Iterator[Finding]:
        """Run a scan-scope check on a ``ScanView`` (other rules yield nothing here)."""
        if self.scope != "scan":
            return
        for hit in self.check(view):
            path = str(hit.path) if hit.path is not None else None
            yield Finding(self.code, self.name, self.severity, hit.message, hit.hint, self.evidence, path)

    def finding(self, message: str, hint: str = "", path: os.PathLike[str] | str | None = None) -> Finding:
        """A finding of this rule made outside its check (``lint``'s Git LFS pointer)."""
        where = str(path) if path is not None else None
        return Finding(self.code, self.name, self.severity, message, hint, self.evidence, where)


_REGISTRY: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    *,
    severity: Severity,
    evidence: Evidence | None = None,
    scope: Scope = "pair",
) -> Callable[[AnyCheck], AnyCheck]:
    """Register a check function as a rule. Its docstring is the rule's documentation:
    the first line is the summary; paragraphs starting ``Why:`` and ``Fix:`` become those sections."""

    def deco(fn: AnyCheck) -> AnyCheck:
        summary, why, fix = split_doc(fn.__doc__ or "")
        if code in _REGISTRY:
            raise ValueError(f"duplicate rule code {code}")
        _REGISTRY[code] = Rule(code, name, severity, evidence, scope, summary, why, fix, fn)
        return fn

    return deco


def split_doc(doc: str) -> tuple[str, str, str]:
    """A rule's docstring as (summary, why, fix), each one line: paragraphs are separated by blank
    lines, and every run of whitespace in one (the docstring's indentation too) is one space."""
    paras: list[str] = []
    lines: list[str] = []
    for line in [*doc.splitlines(), ""]:
        if line.strip():
            lines.append(line)
        elif lines:
            paras.append(" ".join(" ".join(lines).split()))
            lines = []
    summary = paras[0] if paras else ""
    why = " ".join(p.removeprefix("Why:").strip() for p in paras if p.startswith("Why:"))
    fix = " ".join(p.removeprefix("Fix:").strip() for p in paras if p.startswith("Fix:"))
    return summary, why, fix


def registered() -> dict[str, Rule]:
    """The registry (filled by importing the rule modules; see ``mmcheck.rules``)."""
    return _REGISTRY
