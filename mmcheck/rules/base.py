"""Rules, findings and the context rules read. Rules are pure: they never do I/O."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from mmcheck.db import CompatDB
    from mmcheck.identify import FamilyMatch, LineageMatch
    from mmcheck.inspection import FileInfo


class Severity(str, Enum):
    """How loud a finding is. Errors carry a verdict effect; warnings and infos do not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


Effect = Literal["mismatch", "likely-garbage", "match"]
Scope = Literal["pair", "projector", "text"]


@dataclass(frozen=True)
class Hit:
    """What a rule's check yields: a message, a hint, and which file it is about."""

    message: str
    hint: str = ""
    file: Literal["model", "mmproj"] | None = None


@dataclass(frozen=True)
class Finding:
    """A rule that fired, with everything a reporter needs."""

    rule: str
    name: str
    severity: Severity
    message: str
    hint: str
    effect: Effect | None
    file: str | None = None  # the path of the file it is about, when it is about one

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``{"rule", "severity", "message", "hint"}`` plus extras)."""
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "effect": self.effect,
            "file": self.file,
        }


@dataclass(frozen=True)
class Options:
    """Settings rules may read (from the command line or ``[tool.mmcheck]``)."""

    ctx_size: int | None = None  # the context the user runs with; None: the model's training context
    batch_size: int = 2048  # llama.cpp -b default
    ubatch_size: int = 512  # llama.cpp -ub default
    runtime: str | None = None  # runtime id for runtime-version rules
    runtime_version: str | None = None


@dataclass
class Context:
    """Everything rules look at: the analysed files, the database and the options."""

    db: CompatDB
    model: FileInfo | None = None  # the text model (after role detection)
    mmproj: FileInfo | None = None  # the projector (after role detection)
    options: Options = field(default_factory=Options)
    role_notes: list[str] = field(default_factory=list)  # what role detection did
    swapped_strict: bool = False  # roles were fixed and the files came in the wrong slots
    other_text: str | None = None  # a second text model given where the projector belongs
    unusable: list[FileInfo] = field(default_factory=list)  # LoRA adapters, imatrix files, ...
    smoke: Any = None  # SmokeResult, when the smoke test ran

    @cached_property
    def families(self) -> list[FamilyMatch]:
        """Families the projector may belong to."""
        from mmcheck.identify import match_families

        if self.mmproj is None or self.mmproj.projector is None:
            return []
        return match_families(self.mmproj.projector, self.db)

    @cached_property
    def lineages(self) -> list[LineageMatch]:
        """Every lineage compared with the text model."""
        from mmcheck.identify import match_lineages

        if self.model is None or self.model.text is None:
            return []
        return match_lineages(self.model.text, self.db)

    @property
    def is_pair(self) -> bool:
        """Both a text model and a projector are present."""
        return (
            self.model is not None
            and self.model.text is not None
            and self.mmproj is not None
            and self.mmproj.projector is not None
        )


Check = Callable[[Context], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """A rule: stable code, kebab-case name, default severity, verdict effect and documentation."""

    code: str
    name: str
    severity: Severity
    effect: Effect | None
    scope: Scope
    summary: str
    why: str
    fix: str
    check: Check = field(repr=False, compare=False)

    def run(self, ctx: Context) -> Iterator[Finding]:
        """Run the check and wrap its hits as findings."""
        for hit in self.check(ctx):
            path = None
            if hit.file == "model" and ctx.model is not None:
                path = str(ctx.model.path)
            elif hit.file == "mmproj" and ctx.mmproj is not None:
                path = str(ctx.mmproj.path)
            yield Finding(self.code, self.name, self.severity, hit.message, hit.hint, self.effect, path)


_REGISTRY: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    *,
    severity: Severity,
    effect: Effect | None = None,
    scope: Scope = "pair",
) -> Callable[[Check], Check]:
    """Register a check function as a rule. Its docstring is the rule's documentation:
    the first line is the summary; paragraphs starting ``Why:`` and ``Fix:`` become those sections."""

    def deco(fn: Check) -> Check:
        doc = inspect.cleandoc(fn.__doc__ or "")
        summary, why, fix = _split_doc(doc)
        if code in _REGISTRY:
            raise ValueError(f"duplicate rule code {code}")
        _REGISTRY[code] = Rule(code, name, severity, effect, scope, summary, why, fix, fn)
        return fn

    return deco


def _split_doc(doc: str) -> tuple[str, str, str]:
    paras = [p.strip() for p in doc.split("\n\n") if p.strip()]
    summary = paras[0].replace("\n", " ") if paras else ""
    why = " ".join(p.removeprefix("Why:").strip().replace("\n", " ") for p in paras if p.startswith("Why:"))
    fix = " ".join(p.removeprefix("Fix:").strip().replace("\n", " ") for p in paras if p.startswith("Fix:"))
    return summary, why, fix


def registered() -> dict[str, Rule]:
    """The registry (filled by importing the rule modules; see ``mmcheck.rules``)."""
    return _REGISTRY
