"""Embedding-space evidence: do the projected outputs look like the text model's token embeddings?

Token embeddings of a trained LLM have a stable per-dimension profile (some dimensions with
several times the median spread, per-dimension offsets). A projector trained or fitted for that
LLM lands in the same space, so its outputs share the profile; one made for another LLM of the
same width carries that other model's profile. Numbers reported (docs/smoke-test.md):

- ``scale_ratio``: median output row norm / median token-embedding row norm;
- ``alignment``: the larger of ``std_alignment`` (Pearson correlation of the per-dimension
  log-std profiles) and ``rms_alignment`` (the same for the log-RMS profiles, i.e. spread about
  zero). Which of the two a projector keeps depends on how it was fitted: a bias-free linear map
  fitted on zero-mean features turns the table's offsets into spread (RMS), a fit that can
  represent the offsets (a bias, or features with a mean) keeps the centred spread (std);
- ``mean_alignment``: Pearson correlation of the per-dimension mean profiles (reported only);
- ``text_reliability`` / ``output_reliability``: split-half correlations of each log-std profile,
  i.e. whether the profile is a real property of the table / projector or sampling noise.

The measurement is *informative* when both profiles are reliable. Informative and high
(``alignment >= ALIGNED_FROM``) is evidence for the pair (MM809); informative and low
(``alignment < MISALIGNED_BELOW``) is evidence against it (MM805); in between, or not
informative, it is evidence neither way. The thresholds come from the calibration on the real
SmolLM2-135M and Gemma-3-270M tables (``tests/test_smoke_calibration.py``, docs/smoke-test.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mmcheck.smoke.model import (
    ALIGNED_FROM,
    MISALIGNED_BELOW,
    OUTPUT_RELIABILITY_MIN,
    TEXT_RELIABILITY_MIN,
    Evidence,
    SmokeFinding,
)
from mmcheck.smoke.tensors import F32Array, TensorReader

#: the MM805 threshold under its historical name (alignment below it, informative: against)
ALIGNMENT_THRESHOLD = MISALIGNED_BELOW

__all__ = [
    "ALIGNED_FROM",
    "ALIGNMENT_THRESHOLD",
    "MISALIGNED_BELOW",
    "OUTPUT_RELIABILITY_MIN",
    "TEXT_RELIABILITY_MIN",
    "EmbeddingEvidence",
    "compare",
    "sample_rows",
]


def median(values: npt.NDArray[np.float64]) -> float:
    """The median of a 1-D array, as ``np.median`` computes it, without the ~36 ms ``numpy.ma``
    import that ``np.median`` pulls in on first use."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    n = flat.size
    if n == 0:
        return float("nan")
    k = n // 2
    part = np.partition(flat, [k - 1, k] if n % 2 == 0 else [k])
    return float(part[k]) if n % 2 else float((part[k - 1] + part[k]) / 2.0)


@dataclass(frozen=True)
class EmbeddingEvidence:
    """The numbers and the finding (if any)."""

    scale_ratio: float | None
    alignment: float | None
    detail: dict[str, Any]
    finding: SmokeFinding | None


def _corr(x: npt.NDArray[Any], y: npt.NDArray[Any]) -> float | None:
    a = x.astype(np.float64) - float(x.mean())
    b = y.astype(np.float64) - float(y.mean())
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return None if den == 0.0 or not np.isfinite(den) else float((a * b).sum() / den)


def _log(s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    floor = max(median(s) * 1e-3, 1e-12)
    out: npt.NDArray[np.float64] = np.log(np.maximum(s, floor))
    return out


@dataclass(frozen=True)
class _Moments:
    """Column sums and sums of squares of the even and odd rows (float64 accumulators)."""

    n: tuple[int, int]
    s1: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
    s2: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
    median_norm: float

    @classmethod
    def of(cls, x: F32Array) -> _Moments:
        x64 = x.astype(np.float64)  # squares of finite float32 outputs overflow float32 (~1e19 and up)
        sq = x64 * x64  # once: column sums of squares and row norms
        return cls(
            (x[0::2].shape[0], x[1::2].shape[0]),
            (x[0::2].sum(axis=0, dtype=np.float64), x[1::2].sum(axis=0, dtype=np.float64)),
            (sq[0::2].sum(axis=0, dtype=np.float64), sq[1::2].sum(axis=0, dtype=np.float64)),
            median(np.sqrt(sq.sum(axis=1, dtype=np.float64))) if len(x) else 0.0,
        )

    def _sums(self, half: int | None) -> tuple[int, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        if half is None:
            return max(self.n[0] + self.n[1], 1), self.s1[0] + self.s1[1], self.s2[0] + self.s2[1]
        return max(self.n[half], 1), self.s1[half], self.s2[half]

    def mean(self) -> npt.NDArray[np.float64]:
        n, s1, _ = self._sums(None)
        return s1 / n

    def log_std(self, half: int | None = None) -> npt.NDArray[np.float64]:
        n, s1, s2 = self._sums(half)
        return _log(np.sqrt(np.maximum(s2 / n - (s1 / n) ** 2, 0.0)))

    def log_rms(self) -> npt.NDArray[np.float64]:
        n, _, s2 = self._sums(None)
        return _log(np.sqrt(s2 / n))

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


def _max(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def classify(alignment: float | None, informative: bool) -> Evidence:
    """``for`` / ``against`` / ``neither`` for a measured alignment (see the module docstring)."""
    if not informative or alignment is None:
        return "neither"
    if alignment >= ALIGNED_FROM:
        return "for"
    if alignment < MISALIGNED_BELOW:
        return "against"
    return "neither"


def compare(outputs: F32Array, embd: F32Array) -> EmbeddingEvidence:
    """Compare projected outputs (n × d) with token-embedding rows (k × d) of the same width."""
    mo, me = _Moments.of(outputs), _Moments.of(embd)
    out_norm, emb_norm = mo.median_norm, me.median_norm
    scale = out_norm / emb_norm if emb_norm > 0 else None
    std_alignment = _corr(mo.log_std(), me.log_std())
    rms_alignment = _corr(mo.log_rms(), me.log_rms())
    alignment = _max(std_alignment, rms_alignment)
    text_rel, out_rel = me.split_half(), mo.split_half()
    informative = (
        text_rel is not None
        and out_rel is not None
        and text_rel >= TEXT_RELIABILITY_MIN
        and out_rel >= OUTPUT_RELIABILITY_MIN
    )
    evidence = classify(alignment, informative)
    detail: dict[str, Any] = {
        "rows_sampled": int(embd.shape[0]),
        "output_rows": int(outputs.shape[0]),
        "median_output_norm": out_norm,
        "median_embedding_norm": emb_norm,
        "std_alignment": std_alignment,
        "rms_alignment": rms_alignment,
        "mean_alignment": _corr(mo.mean(), me.mean()),
        "text_reliability": text_rel,
        "output_reliability": out_rel,
        "informative": informative,
        "evidence": evidence,
        "thresholds": {
            "misaligned_below": MISALIGNED_BELOW,
            "aligned_from": ALIGNED_FROM,
            "text_reliability_min": TEXT_RELIABILITY_MIN,
            "output_reliability_min": OUTPUT_RELIABILITY_MIN,
        },
    }
    finding = None
    if evidence != "neither":
        assert alignment is not None and text_rel is not None and out_rel is not None
        rows = f"{outputs.shape[0]} projected rows vs {embd.shape[0]} token rows"
        stable = f"both profiles are stable: text {text_rel:.2f}, projector {out_rel:.2f}; {rows}"
        if evidence == "against":
            finding = SmokeFinding(
                "MM805",
                f"projected outputs do not share the text model's per-dimension embedding profile "
                f"(alignment {alignment:.2f} < {MISALIGNED_BELOW}; {stable})",
                "the projector was probably trained for a different text model of the same width; "
                "use the projector released with this model (heuristic: a confirmed lineage overrides it)",
            )
        else:
            finding = SmokeFinding(
                "MM809",
                f"projected outputs share the text model's per-dimension embedding profile "
                f"(alignment {alignment:.2f} >= {ALIGNED_FROM}; {stable})",
                "measured on the projector's real weights: it was trained or fitted for this model's "
                "embedding space (or for a model sharing this embedding table, e.g. its base or a fine-tune)",
            )
    return EmbeddingEvidence(scale, alignment, detail, finding)
