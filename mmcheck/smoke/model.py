"""Result types of the projection smoke test (no numpy: importing them is cheap)."""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from mmcheck.rules.base import Finding

Severity = Literal["error", "warning", "info"]
Status = Literal["passed", "failed", "skipped"]
#: what the embedding-space measurement says about the pair
Evidence = Literal["for", "against", "neither"]

# Embedding-space thresholds (calibration on real tables: docs/smoke-test.md). An informative
# measurement (both split-half reliabilities at or above their minimum) with an alignment at or
# above ALIGNED_FROM is evidence for the pair (MM809); below MISALIGNED_BELOW, evidence against it
# (MM805); in between, or when not informative, evidence neither way.
#: informative and alignment below this: evidence against the pair (MM805)
MISALIGNED_BELOW = 0.2
#: informative and alignment at or above this: evidence for the pair (MM809)
ALIGNED_FROM = 0.5
#: the token-embedding std profile must be at least this stable (split-half) to be evidence
TEXT_RELIABILITY_MIN = 0.8
#: the projected-output std profile must be at least this stable (split-half) to be evidence
OUTPUT_RELIABILITY_MIN = 0.7


class SmokeFinding(NamedTuple):
    """One thing the smoke test found: a rule code (MM801-MM809), a message and a hint.

    Everything else about the finding (name, severity, the evidence it carries, hence its effect)
    is the rule registry's (``mmcheck.rules``), the one source for every finding.
    """

    code: str
    message: str
    hint: str

    def as_finding(self, file: str | None = None) -> "Finding":
        """The registry's finding for this code, about ``file``."""
        from mmcheck.rules import RULES, Finding

        rule = RULES[self.code]
        return Finding(rule.code, rule.name, rule.severity, self.message, self.hint, rule.evidence, file)

    @property
    def name(self) -> str:
        """The rule name of ``code`` (e.g. ``smoke-shape-error``)."""
        return self.as_finding().name

    @property
    def severity(self) -> Severity:
        """The rule's severity."""
        return self.as_finding().severity.value  # type: ignore[return-value]

    @property
    def against(self) -> bool:
        """Whether the rule counts as evidence against the pair (a failed smoke test)."""
        from mmcheck.evidence import Direction

        evidence = self.as_finding().evidence
        return evidence is not None and evidence.direction == Direction.AGAINST

    @property
    def effect(self) -> str | None:
        """The verdict the finding pushes towards on its own (the rule's evidence), or None."""
        return self.as_finding().effect

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the shape of every finding (``rule``, ``name``, ``severity``, ...)."""
        return self.as_finding().to_dict()


class SmokeResult(NamedTuple):
    """What the smoke test ran and found.

    ``stages``: one dict per executed layer (name, op, input/output shape, tensors, ms).
    ``scale_ratio``: median projected-output norm / median token-embedding norm.
    ``alignment``: correlation of the per-dimension spread profiles of projected outputs and
    token embeddings (see docs/smoke-test.md). ``embedding`` carries the detail behind both,
    including ``informative`` and ``evidence`` (``for`` / ``against`` / ``neither``).
    ``baked``: one dict per baked-embedding comparison. ``lineage_evidence`` comes only from them.
    ``summary`` says in plain words what the embedding-space measurement found and whether it
    counts (for renderers: one line).
    """

    status: Status
    reason: str
    findings: tuple[SmokeFinding, ...] = ()
    stages: tuple[dict[str, Any], ...] = ()
    scale_ratio: float | None = None
    alignment: float | None = None
    baked: tuple[dict[str, Any], ...] = ()
    timings: Mapping[str, float] = MappingProxyType({})  # read-only: a default shared by every result
    lineage_evidence: Literal["confirmed", "contradicted"] | None = None
    embedding: Mapping[str, Any] = MappingProxyType({})

    @property
    def alignment_evidence(self) -> Evidence | None:
        """``for`` / ``against`` / ``neither`` from the embedding-space measurement; None: not measured."""
        ev = self.embedding.get("evidence")
        return ev if ev in ("for", "against", "neither") else None

    @property
    def summary(self) -> str:
        """One plain-language line: what the embedding-space measurement found and whether it counts."""
        return summarize(self.status, self.reason, self.alignment, self.embedding)

    def to_dict(self, *, timings: bool = False) -> dict[str, Any]:
        """JSON-ready form. Wall-clock numbers (``timings``, each stage's ``ms``) only on request:
        without them, two runs on the same files give the same document."""
        stages = [dict(s) for s in self.stages] if timings else [_untimed(s) for s in self.stages]
        doc = {
            "status": self.status,
            "reason": self.reason,
            "summary": self.summary,
            "alignment_evidence": self.alignment_evidence,
            "stages": stages,
            "scale_ratio": self.scale_ratio,
            "alignment": self.alignment,
            "embedding": dict(self.embedding),
            "baked": [dict(b) for b in self.baked],
            "lineage_evidence": self.lineage_evidence,
            "findings": [f.to_dict() for f in self.findings],
        }
        if timings:
            doc["timings"] = dict(self.timings)
        return doc


def _untimed(stage: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in stage.items() if k != "ms"}


def summarize(status: Status, reason: str, alignment: float | None, embedding: Mapping[str, Any]) -> str:
    """The plain-language line of :attr:`SmokeResult.summary` (see docs/smoke-test.md)."""
    neither = "not evidence either way"
    if status == "skipped":
        return f"smoke test skipped ({reason}): nothing measured; {neither}"
    if "skipped" in embedding:
        return f"embedding profile not compared ({embedding['skipped']}): {neither}"
    if alignment is None:
        return f"embedding profile not measurable (constant projected outputs or token rows): {neither}"
    rows = f"{embedding.get('output_rows', '?')} projected rows vs {embedding.get('rows_sampled', '?')} token rows"
    text_rel, out_rel = embedding.get("text_reliability"), embedding.get("output_reliability")
    if not embedding.get("informative"):
        if text_rel is None or text_rel < TEXT_RELIABILITY_MIN:
            why = "this model's token table has no stable per-dimension profile"
            rel = f"split-half {_num(text_rel)} < {TEXT_RELIABILITY_MIN}"
        else:
            why = "the projector's outputs have no stable per-dimension profile"
            rel = f"split-half {_num(out_rel)} < {OUTPUT_RELIABILITY_MIN}"
        return (
            f"embedding profile measured (alignment {alignment:.2f}, {rows}) but not informative: "
            f"{why} ({rel}); {neither}"
        )
    evidence = embedding.get("evidence")
    if evidence == "for":
        return (
            f"projected outputs match this model's token-embedding profile (alignment {alignment:.2f} "
            f">= {ALIGNED_FROM}, informative, {rows}): evidence for the pair"
        )
    if evidence == "against":
        return (
            f"projected outputs do not match this model's token-embedding profile (alignment {alignment:.2f} "
            f"< {MISALIGNED_BELOW}, informative, {rows}): evidence against the pair"
        )
    return (
        f"projected outputs partly match this model's token-embedding profile (alignment {alignment:.2f}, "
        f"between {MISALIGNED_BELOW} and {ALIGNED_FROM}, informative, {rows}): {neither}"
    )


def _num(x: object) -> str:
    return f"{x:.2f}" if isinstance(x, float) else "n/a"


def skipped(reason: str, timings: dict[str, float] | None = None) -> SmokeResult:
    """A ``skipped`` result carrying an MM808 info finding with ``reason``."""
    finding = SmokeFinding(
        "MM808",
        f"smoke test skipped: {reason}",
        "the metadata verdict stands; run again on files with tensor data to check the weights",
    )
    return SmokeResult("skipped", reason, (finding,), timings=dict(timings or {}))
