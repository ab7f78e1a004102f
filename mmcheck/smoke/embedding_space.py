"""Embedding-space evidence: do the projected outputs look like the text model's token embeddings?

Token embeddings of a trained LLM have a strong, stable per-dimension profile (a few dimensions
with several times the median spread, per-dimension offsets). A projector trained for that LLM
lands in the same space, so its outputs share the profile; one trained for another LLM of the
same width carries that other model's profile. Numbers reported (docs/smoke-test.md):

- ``scale_ratio``: median output row norm / median token-embedding row norm;
- ``alignment``: Pearson correlation of the per-dimension log-std profiles;
- ``mean_alignment``: Pearson correlation of the per-dimension mean profiles;
- ``text_reliability`` / ``output_reliability``: split-half correlations of each log-std profile,
  i.e. whether the profile is a real property of the table / projector or noise.

MM805 fires only when both profiles are reliable and the alignment is low; the thresholds come
from the experiment in ``tests/test_smoke_alignment.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mmcheck.smoke.model import SmokeFinding
from mmcheck.smoke.tensors import F32Array, TensorReader

#: below this alignment, with both profiles reliable, the projector is flagged (MM805)
ALIGNMENT_THRESHOLD = 0.3
#: the token-embedding std profile must be at least this stable (split-half) to be evidence
TEXT_RELIABILITY_MIN = 0.8
#: the projected-output std profile must be at least this stable (split-half) to be evidence
OUTPUT_RELIABILITY_MIN = 0.5


@dataclass(frozen=True)
class EmbeddingEvidence:
    """The numbers and the finding (if any)."""

    scale_ratio: float | None
    alignment: float | None
    detail: dict[str, Any]
    finding: SmokeFinding | None


def _corr(x: F32Array, y: F32Array) -> float | None:
    a = x.astype(np.float64) - float(x.mean())
    b = y.astype(np.float64) - float(y.mean())
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return None if den == 0.0 or not np.isfinite(den) else float((a * b).sum() / den)


@dataclass(frozen=True)
class _Moments:
    """Column sums and sums of squares of the even and odd rows (float64 accumulators)."""

    n: tuple[int, int]
    s1: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
    s2: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]

    @classmethod
    def of(cls, x: F32Array) -> _Moments:
        halves = (x[0::2], x[1::2])
        return cls(
            (halves[0].shape[0], halves[1].shape[0]),
            (halves[0].sum(axis=0, dtype=np.float64), halves[1].sum(axis=0, dtype=np.float64)),
            tuple((h * h).sum(axis=0, dtype=np.float64) for h in halves),  # type: ignore[arg-type]
        )

    def mean(self, half: int | None = None) -> npt.NDArray[np.float64]:
        if half is None:
            return (self.s1[0] + self.s1[1]) / max(self.n[0] + self.n[1], 1)
        return self.s1[half] / max(self.n[half], 1)

    def log_std(self, half: int | None = None) -> F32Array:
        if half is None:
            n, s1, s2 = self.n[0] + self.n[1], self.s1[0] + self.s1[1], self.s2[0] + self.s2[1]
        else:
            n, s1, s2 = self.n[half], self.s1[half], self.s2[half]
        n = max(n, 1)
        s = np.sqrt(np.maximum(s2 / n - (s1 / n) ** 2, 0.0))
        floor = max(float(np.median(s)) * 1e-3, 1e-12)
        out: F32Array = np.log(np.maximum(s, floor)).astype(np.float32)
        return out

    def split_half(self) -> float | None:
        if min(self.n) < 2:
            return None
        return _corr(self.log_std(0), self.log_std(1))


def sample_rows(reader: TensorReader, name: str, n: int, seed: int) -> F32Array:
    """``n`` distinct rows of tensor ``name`` (all rows if fewer), chosen with ``seed``."""
    info = reader.header.tensors[name]
    n_rows = info.n_elements // max(info.shape[0], 1)
    rng = np.random.default_rng(seed)
    rows = np.arange(n_rows) if n >= n_rows else rng.choice(n_rows, size=n, replace=False)
    return reader.read_rows(name, np.sort(rows).astype(np.int64))


def compare(outputs: F32Array, embd: F32Array) -> EmbeddingEvidence:
    """Compare projected outputs (n × d) with token-embedding rows (k × d) of the same width."""
    out_norm = float(np.median(np.linalg.norm(outputs, axis=1)))
    emb_norm = float(np.median(np.linalg.norm(embd, axis=1)))
    scale = out_norm / emb_norm if emb_norm > 0 else None
    mo, me = _Moments.of(outputs), _Moments.of(embd)
    alignment = _corr(mo.log_std(), me.log_std())
    mean_alignment = _corr(mo.mean().astype(np.float32), me.mean().astype(np.float32))
    text_rel = me.split_half()
    out_rel = mo.split_half()
    informative = (
        text_rel is not None
        and out_rel is not None
        and text_rel >= TEXT_RELIABILITY_MIN
        and out_rel >= OUTPUT_RELIABILITY_MIN
    )
    detail: dict[str, Any] = {
        "rows_sampled": int(embd.shape[0]),
        "output_rows": int(outputs.shape[0]),
        "median_output_norm": out_norm,
        "median_embedding_norm": emb_norm,
        "mean_alignment": mean_alignment,
        "text_reliability": text_rel,
        "output_reliability": out_rel,
        "informative": informative,
        "threshold": ALIGNMENT_THRESHOLD,
    }
    finding = None
    if informative and alignment is not None and alignment < ALIGNMENT_THRESHOLD:
        finding = SmokeFinding(
            "MM805",
            f"projected outputs do not share the text model's per-dimension embedding profile "
            f"(alignment {alignment:.2f} < {ALIGNMENT_THRESHOLD}; both profiles are stable: text "
            f"{text_rel:.2f}, projector {out_rel:.2f})",
            "the projector was probably trained for a different text model of the same width; "
            "use the projector released with this model (heuristic: a confirmed lineage overrides it)",
            "likely-garbage",
            "warning",
        )
    return EmbeddingEvidence(scale, alignment, detail, finding)
