"""Which database families a projector belongs to, and which base lineage a text model is.

This is evidence, not a verdict: every match carries the facts that support it (``evidence``) and
the facts that speak against it (``contradictions``). The verdict logic in ``pair.py`` weighs them.

Lineages are recognised the way a fine-tune can be traced back to its base: converters rename and
trainers relabel, but the architecture, the shapes and the tokenizer stay. A same-shape look-alike
(Llama-2-7B vs Vicuna-7B, Pixtral-12B's text model vs Mistral-Nemo) is told apart only by names,
the pre-tokenizer or the tokenizer fingerprint, so shape alone never *identifies* a lineage; it can
only *contradict* one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from mmcheck.db import CompatDB, Family, FamilyVariant, Lineage
from mmcheck.facts.projector import ProjectorFacts
from mmcheck.facts.text import TextFacts

#: Fine-tunes sometimes add tokens (ChatML, tool tokens); more than this many extra is a new tokenizer.
ADDED_TOKENS_TOLERANCE = 1024
#: general.finetune values that still mean "the base vendor's own release".
_VENDOR_FINETUNE = re.compile(r"^(it|instruct|chat|base|hf|pt)$", re.I)
# llama.cpp converts Mistral-family models with several arch names over time.
_ARCH_EQUIVALENTS = {"mistral": "llama", "mistral3": "llama"}


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def names_match(patterns: tuple[str, ...], names: list[str]) -> str | None:
    """The first name any pattern matches (searched, case-insensitively by the patterns' own flags)."""
    for p in patterns:
        rx = _compiled(p if p.startswith("(?i)") else "(?i)" + p)
        for n in names:
            if rx.search(n):
                return n
    return None


@dataclass(frozen=True)
class LineageMatch:
    """How a text model relates to one lineage."""

    lineage: Lineage
    evidence: tuple[str, ...]  # positive identification (names, fingerprint)
    consistent: tuple[str, ...]  # shape facts that agree
    contradictions: tuple[str, ...]  # known facts that differ

    @property
    def identified(self) -> bool:
        """Positively identified (by name or fingerprint) and not contradicted."""
        return bool(self.evidence) and not self.contradictions

    @property
    def contradicted(self) -> bool:
        """Some known fact differs: the text model is not this lineage (nor a fine-tune of it)."""
        return bool(self.contradictions)


def _arch(a: str | None) -> str | None:
    return _ARCH_EQUIVALENTS.get(a, a) if a else a


def compare_lineage(text: TextFacts, lineage: Lineage) -> LineageMatch:
    """Compare a text model with a lineage's fingerprint."""
    evidence: list[str] = []
    consistent: list[str] = []
    contra: list[str] = []
    hit = names_match(lineage.name_patterns, text.name_strings())
    if hit is not None:
        evidence.append(f"name {hit!r} matches {lineage.name}")
    fingerprints = lineage.tokenizer_fingerprints
    if text.vocab is not None and fingerprints and text.vocab.fingerprint() in fingerprints:
        evidence.append(f"tokenizer fingerprint equals {lineage.name}'s")

    def check(label: str, ours: object, theirs: object) -> None:
        if ours is None or theirs is None:
            return
        if ours == theirs:
            consistent.append(f"{label} {ours}")
        else:
            contra.append(f"{label} {ours} (the lineage has {theirs})")

    check("architecture", _arch(text.architecture), _arch(lineage.architecture))
    check("n_embd", text.n_embd, lineage.n_embd)
    check("layers", text.n_layer, lineage.n_layer)
    if isinstance(text.n_head_kv, int):
        check("kv heads", text.n_head_kv, lineage.n_head_kv)
    check("tokenizer", text.tokenizer_model, lineage.tokenizer_model)
    if text.tokenizer_pre and lineage.tokenizer_pre and text.tokenizer_pre != "default":
        check("pre-tokenizer", text.tokenizer_pre, lineage.tokenizer_pre)
    if text.vocab_size is not None and lineage.vocab_size is not None:
        extra = text.vocab_size - lineage.vocab_size
        if 0 <= extra <= ADDED_TOKENS_TOLERANCE:
            consistent.append(f"vocab {text.vocab_size}" + (f" ({extra} added tokens)" if extra else ""))
        else:
            contra.append(f"vocab {text.vocab_size} (the lineage has {lineage.vocab_size})")
    return LineageMatch(lineage, tuple(evidence), tuple(consistent), tuple(contra))


def match_lineages(text: TextFacts, db: CompatDB) -> list[LineageMatch]:
    """Every lineage compared with the text model: identified first, then consistent, then the rest."""
    matches = [compare_lineage(text, lin) for lin in db.lineages.values()]

    def rank(m: LineageMatch) -> tuple[int, int, int]:
        return (0 if m.identified else 1 if not m.contradicted else 2, -len(m.evidence), -len(m.consistent))

    return sorted(matches, key=rank)


@dataclass(frozen=True)
class FamilyMatch:
    """A family (and the variants of it) a projector could be."""

    family: Family
    variants: tuple[FamilyVariant, ...]  # variants whose output width fits (or is unknown)
    evidence: tuple[str, ...]
    contradictions: tuple[str, ...] = field(default=())
    width_fits: bool = True  # some variant has exactly this output width


def match_families(proj: ProjectorFacts, db: CompatDB) -> list[FamilyMatch]:
    """Families whose projector type and encoder signature fit this projector, best first."""
    types = set(proj.type_ids) or ({proj.inferred_type} if proj.inferred_type else set())
    width = proj.output_width
    out: list[FamilyMatch] = []
    for fam in db.families.values():
        shared = types & set(fam.projector_types)
        # qwen2.5o files resolve to their per-modality types; keep the label match too
        if not shared:
            declared = {t.declared_type for t in proj.towers.values() if t.declared_type}
            shared = declared & set(fam.projector_types)
        if not shared:
            continue
        evidence = [f"projector type {', '.join(sorted(shared))}"]
        contra: list[str] = []
        enc, fe = proj.encoder, fam.encoder
        if enc is not None and fe is not None:
            for label, ours, theirs, slack in (
                ("encoder width", enc.width, fe.embedding_length, 0),
                ("image size", enc.image_size, fe.image_size, 0),
                ("patch size", enc.patch_size, fe.patch_size, 0),
                ("encoder layers", enc.n_layer, fe.block_count, 1),  # legacy converters drop the last layer
                ("encoder heads", enc.n_head, fe.head_count, 0),
            ):
                if ours is None or theirs is None:
                    continue
                if abs(ours - theirs) <= slack:
                    evidence.append(f"{label} {ours}")
                else:
                    contra.append(f"{label} {ours} (family has {theirs})")
        if contra:
            continue
        fitting = tuple(v for v in fam.variants if width is not None and v.output_width == width)
        unknown_width = tuple(v for v in fam.variants if v.output_width is None)
        if fitting:
            evidence.append(f"output width {width} = {', '.join(v.id for v in fitting)}")
        out.append(FamilyMatch(fam, fitting + unknown_width, tuple(evidence), (), bool(fitting)))
    out.sort(key=lambda m: (not m.width_fits, -len(m.evidence)))
    return out
