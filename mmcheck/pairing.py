"""Which projectors a scan checks against which text models, and how candidates are ranked.

The rules (how model repositories are laid out): pair by folder — a text model with the projectors in its own folder, or
when there are none, in the nearest folder above it that has some (and the same, upward, for a
projector looking for text models); judge each pair by content; use file names only to break ties
between projectors that fit equally well, and the precision closest to the model's last.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mmcheck.header.source import FilePath

if TYPE_CHECKING:
    from mmcheck.inspection import FileInfo
    from mmcheck.pair import Report

_QUANT_TOKEN = re.compile(r"^(i?q\d.*|f\d+|bf16|fp\d+|k|m|s|l|xs|xxs|xl|\d)$")
_SIZE_TOKEN = re.compile(r"^(\d+(\.\d+)?[bm]|e\d+b|\d+x\d+b|a\d+b)$")
_NOISE = frozenset({"mmproj", "model", "gguf", "vision", "clip", "projector", "ggml", "i1", "hf"})


@dataclass(frozen=True)
class Candidate:
    """A (text model, projector) pair to check, and how far apart the two files are."""

    model: FilePath
    mmproj: FilePath
    distance: int  # folder levels between the two files (0: same folder)


def candidate_pairs(models: Sequence[FilePath], projectors: Sequence[FilePath]) -> list[Candidate]:
    """Every pair the scan checks, in a deterministic order (model path, then projector path).

    A text model is paired with the projectors of the nearest folder (its own, then each parent)
    that holds any; a projector likewise with the text models of the nearest folder that holds any.
    """
    models_by_dir = _by_dir(models)
    projs_by_dir = _by_dir(projectors)
    found: dict[tuple[FilePath, FilePath], int] = {}
    for m in models:
        for dist, group in _nearest(m.parent, projs_by_dir):
            for p in group:
                found[(m, p)] = min(found.get((m, p), dist), dist)
    for p in projectors:
        for dist, group in _nearest(p.parent, models_by_dir):
            for m in group:
                found[(m, p)] = min(found.get((m, p), dist), dist)
    return [Candidate(m, p, d) for (m, p), d in sorted(found.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))]


def _by_dir(paths: Iterable[FilePath]) -> dict[FilePath, list[FilePath]]:
    out: dict[FilePath, list[FilePath]] = {}
    for p in paths:
        out.setdefault(p.parent, []).append(p)
    return out


def _nearest(start: FilePath, groups: dict[FilePath, list[FilePath]]) -> list[tuple[int, list[FilePath]]]:
    """The group of the nearest folder at or above ``start`` that has one (empty when none)."""
    d: FilePath = start
    dist = 0
    while True:
        if d in groups:
            return [(dist, groups[d])]
        if d.parent == d:
            return []
        d, dist = d.parent, dist + 1


def name_tokens(path: FilePath | str) -> tuple[set[str], set[str]]:
    """(identity tokens, size-label tokens) of a file name, without precision and role words."""
    stem = (path.name if not isinstance(path, str) else Path(path).name).lower().removesuffix(".gguf")
    words = [w for w in re.split(r"[-_.\s]+", stem) if w]
    sizes = {w for w in words if _SIZE_TOKEN.match(w)}
    ident = {w for w in words if w not in _NOISE and not _QUANT_TOKEN.match(w) and w not in sizes}
    return ident, sizes


def name_affinity(model: FilePath | str, mmproj: FilePath | str) -> int:
    """How much the two names suggest they belong together: shared identity words, plus 2 for a
    shared size label and minus 5 for conflicting ones. A hint only, never a verdict."""
    mi, ms = name_tokens(model)
    pi, ps = name_tokens(mmproj)
    score = len(mi & pi)
    if ms and ps:
        score += 2 if ms & ps else -5
    return score


def type_bits(type_name: str) -> int:
    """Whole bits per weight of a ggml type name (``Q4_K`` -> 4, ``F16`` -> 16; 16 when unknown)."""
    from mmcheck.header.types import GGML_TYPES_BY_NAME, bits_per_weight

    t = GGML_TYPES_BY_NAME.get(type_name.upper())
    bits = bits_per_weight(t.id) if t is not None else None
    return int(bits) if bits else 16


def precision_bits(info: FileInfo | None) -> int:
    """Bits per weight of the file's dominant matrix type (2-D tensors; 16 when unknown)."""
    if info is None:
        return 16
    counts: dict[str, int] = {}
    for t in info.header.tensors.values():
        if len(t.shape) >= 2:
            counts[t.type_name] = counts.get(t.type_name, 0) + t.n_elements
    if not counts:
        return 16
    return type_bits(max(sorted(counts), key=lambda k: counts[k]))


def rank_key(report: Report, *, distance: int, affinity: int, bits_gap: int, other: str) -> tuple[int | str, ...]:
    """Sort key, best first: verdict, evidence (match findings, then fewer errors and warnings),
    nearer folder, name affinity, closer precision, then the path for a deterministic order."""
    from mmcheck.rules.base import Severity

    n_match = sum(1 for f in report.findings if f.effect == "match")
    n_err = sum(1 for f in report.findings if f.severity == Severity.ERROR)
    n_warn = sum(1 for f in report.findings if f.severity == Severity.WARNING)
    error = 1 if report.error is not None else 0
    return (error, report.verdict.rank, -n_match, n_err, n_warn, distance, -affinity, bits_gap, other)
