"""Result types of the projection smoke test (no numpy: importing them is cheap)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Effect = Literal["mismatch", "likely-garbage"]
Severity = Literal["error", "warning", "info"]
Status = Literal["passed", "failed", "skipped"]

#: stable finding codes -> rule names (the lead registers them as rules)
CODES: dict[str, str] = {
    "MM801": "smoke-shape-error",
    "MM802": "smoke-bad-weights",
    "MM803": "smoke-output-not-finite",
    "MM804": "smoke-output-width",
    "MM805": "embedding-space-misaligned",
    "MM806": "baked-embedding-mismatch",
    "MM807": "baked-embedding-match",
    "MM808": "smoke-skipped",
}


@dataclass(frozen=True)
class SmokeFinding:
    """One thing the smoke test found; ``effect`` is what it means for the pair."""

    code: str
    message: str
    hint: str
    effect: Effect | None
    severity: Severity

    @property
    def name(self) -> str:
        """The rule name of ``code`` (e.g. ``smoke-shape-error``)."""
        return CODES.get(self.code, self.code)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "hint": self.hint,
            "effect": self.effect,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class SmokeResult:
    """What the smoke test ran and found.

    ``stages``: one dict per executed layer (name, op, input/output shape, tensors, ms).
    ``scale_ratio``: median projected-output norm / median token-embedding norm.
    ``alignment``: correlation of the per-dimension log-std profiles of projected outputs and
    token embeddings (see docs/smoke-test.md). ``embedding`` carries the detail behind both.
    ``baked``: one dict per baked-embedding comparison. ``lineage_evidence`` comes only from them.
    """

    status: Status
    reason: str
    findings: tuple[SmokeFinding, ...] = ()
    stages: tuple[dict[str, Any], ...] = ()
    scale_ratio: float | None = None
    alignment: float | None = None
    baked: tuple[dict[str, Any], ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    lineage_evidence: Literal["confirmed", "contradicted"] | None = None
    embedding: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "status": self.status,
            "reason": self.reason,
            "stages": [dict(s) for s in self.stages],
            "scale_ratio": self.scale_ratio,
            "alignment": self.alignment,
            "embedding": dict(self.embedding),
            "baked": [dict(b) for b in self.baked],
            "lineage_evidence": self.lineage_evidence,
            "timings": dict(self.timings),
            "findings": [f.to_dict() for f in self.findings],
        }


def skipped(reason: str, timings: dict[str, float] | None = None) -> SmokeResult:
    """A ``skipped`` result carrying an MM808 info finding with ``reason``."""
    finding = SmokeFinding(
        "MM808",
        f"smoke test skipped: {reason}",
        "the metadata verdict stands; run again on files with tensor data to check the weights",
        None,
        "info",
    )
    return SmokeResult("skipped", reason, (finding,), timings=dict(timings or {}))
