"""MM3xx — was this projector trained with this text model's lineage? (llama.cpp never checks.)"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mmcheck.db import FamilyVariant
from mmcheck.identify import FamilyMatch, LineageMatch, compare_lineage, names_match
from mmcheck.rules.base import Context, Hit, Severity, rule


@dataclass(frozen=True)
class LineageAssessment:
    """The lineage picture of a pair, computed once and shared by the MM3xx rules."""

    families: list[FamilyMatch]
    candidates: list[tuple[FamilyMatch, str, LineageMatch]]  # (family, variant id, comparison)
    confirmed: list[str]  # reasons for a match
    contradicted: bool  # every candidate lineage is contradicted by the text model's facts
    contradictions: list[str]
    missing: list[str]  # what evidence is missing for a match


_VENDOR_FINETUNE = ("it", "instruct", "chat", "base", "hf", "pt", "v1", "v2", "v3")


def _projector_names(ctx: Context) -> list[str]:
    assert ctx.mmproj is not None
    h = ctx.mmproj.header
    keys = ("general.name", "general.basename", "general.finetune", "general.description")
    return [v for k in keys if (v := h.get_str(k))]


def assess(ctx: Context) -> LineageAssessment | None:
    """Weigh the projector's candidate families against the text model (None: not a pair)."""
    if not ctx.is_pair:
        return None
    cached = getattr(ctx, "_lineage_assessment", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    assert ctx.model is not None and ctx.model.text is not None
    text = ctx.model.text
    names = text.name_strings()
    families = ctx.families
    candidates: list[tuple[FamilyMatch, str, LineageMatch]] = []
    for fm in families:
        for v in fm.variants:
            lin = ctx.db.lineages.get(v.lineage) if v.lineage else None
            if lin is not None:
                candidates.append((fm, v.id, compare_lineage(text, lin)))
    # Attribute the projector to variants by its own names, when it carries any that say so.
    pnames = _projector_names(ctx)
    attributed = [c for c in candidates if names_match(_variant(c).text_name_patterns, pnames) is not None]
    if attributed:
        candidates = attributed
    # Headers alone cannot tell apart variants of one recipe trained on different lineages. That
    # matters when the candidates disagree about this text model: some fit it, others contradict it.
    fits = {lm.lineage.name for _, _, lm in candidates if not lm.contradicted}
    clashes = {lm.lineage.name for _, _, lm in candidates if lm.contradicted}
    ambiguous = sorted(fits | clashes) if fits and clashes else []
    confirmed: list[str] = []
    missing: list[str] = []
    contradictions: list[str] = []
    for fm, vid, lm in candidates:
        if lm.contradicted:
            contradictions.append(f"{vid} ({lm.lineage.name}): {'; '.join(lm.contradictions)}")
            continue
        variant = _variant((fm, vid, lm))
        own = names_match(variant.text_name_patterns, names)
        finetune = (text.finetune or "").lower()
        third_party = _is_third_party_finetune(finetune)
        if own is not None and third_party and fm.family.finetunes_work != "yes":
            missing.append(
                f"the text model is a fine-tune ({text.finetune!r}) of {fm.family.name}'s text model, and the "
                f"database does not record that {fm.family.name} projectors work with fine-tunes"
            )
        elif own is not None and third_party:
            confirmed.append(
                f"text model {own!r} is a fine-tune ({text.finetune!r}) of {fm.family.name}'s text model ({vid}); "
                f"{fm.family.name} projectors are known to work on fine-tunes of their base"
            )
        elif own is not None:
            confirmed.append(f"text model {own!r} is {fm.family.name}'s own text model ({vid})")
        elif lm.identified and (fm.family.finetunes_work == "yes" or not third_party):
            how = "; ".join(lm.evidence)
            if fm.family.finetunes_work == "yes" and third_party:
                confirmed.append(
                    f"text model is a fine-tune of {lm.lineage.name} ({how}); {fm.family.name} projectors "
                    f"are known to work on fine-tunes of their base"
                )
            else:
                confirmed.append(f"text model is {lm.lineage.name} ({how}), the lineage of {vid}")
    all_contradicted = bool(candidates) and all(lm.contradicted for _, _, lm in candidates)
    if confirmed and ambiguous:
        missing.append(
            f"the projector's header fits {' and '.join(ambiguous)} variants alike and nothing in it "
            f"(general.name/description) says which one it is"
        )
        confirmed = []
    if not families:
        missing.append("the projector matches no family in the database (type and encoder signature)")
    elif not candidates:
        missing.append("the matching families record no text lineage for this projector width")
    elif not confirmed and not all_contradicted and not missing:
        lins = sorted({lm.lineage.name for _, _, lm in candidates if not lm.contradicted})
        missing.append(
            "nothing identifies the text model as "
            + " or ".join(lins)
            + " (no matching general.name/basename/base_model, tokenizer fingerprint not on record)"
        )
    result = LineageAssessment(families, candidates, confirmed, all_contradicted, contradictions, missing)
    ctx._lineage_assessment = result  # type: ignore[attr-defined]
    return result


def _is_third_party_finetune(label: str) -> bool:
    """``general.finetune`` names something beyond the vendor's own release labels (it, instruct...)."""
    import re

    words = [w for w in re.split(r"[-_ .]+", label) if w]
    return bool(words) and not all(w in _VENDOR_FINETUNE or w.isdigit() for w in words)


def _variant(c: tuple[FamilyMatch, str, LineageMatch]) -> FamilyVariant:
    return next(v for v in c[0].family.variants if v.id == c[1])


def _widths_fit(ctx: Context) -> bool:
    assert ctx.model is not None and ctx.model.text is not None
    assert ctx.mmproj is not None and ctx.mmproj.projector is not None
    return ctx.model.text.n_embd_inp == ctx.mmproj.projector.output_width


@rule("MM301", "lineage-confirmed", severity=Severity.INFO, effect="match")
def lineage_confirmed(ctx: Context) -> Iterator[Hit]:
    """There is positive evidence that this projector was made for this text model (or its lineage).

    Why: Same width is not enough: llama.cpp loads any same-width pair. A `match` needs the projector
    identified as a database family and the text model identified as that family's own text model,
    or as a fine-tune the database records as known to work with it.

    Fix: Nothing to fix.
    """
    a = assess(ctx)
    if a is not None and a.confirmed and not a.contradicted and _widths_fit(ctx):
        yield Hit(a.confirmed[0], "")


@rule("MM302", "lineage-unconfirmed", severity=Severity.INFO)
def lineage_unconfirmed(ctx: Context) -> Iterator[Hit]:
    """The widths fit and nothing contradicts, but nothing confirms the projector was made for this model.

    Why: Two projector files can have byte-identical headers (the LLaVA-1.5 recipe was used on
    Vicuna and on Mistral), so mmcheck never guesses a match from the projector alone.

    Fix: Check that the projector comes from the same repository as the model (or its base model);
    set `general.base_model.*` in fine-tunes so tools can trace them.
    """
    a = assess(ctx)
    if a is None or a.confirmed or a.contradicted or not _widths_fit(ctx):
        return
    fams = ", ".join(sorted({fm.family.name for fm in a.families})) or "no known family"
    yield Hit(f"projector looks like {fams}; {'; '.join(a.missing)}", "confirm the model's base")


@rule("MM303", "lineage-contradicted", severity=Severity.ERROR, effect="likely-garbage")
def lineage_contradicted(ctx: Context) -> Iterator[Hit]:
    """Same width, different lineage: the projector was trained with another text model.

    Why: llama.cpp loads it without complaint and the model describes images it never saw: confident
    nonsense. E.g. a Llama-3-8B projector on Mistral-7B (same shapes, different vocabulary), or a
    LLaVA-1.5-7B projector on a Qwen2 model of the same width.

    Fix: Use the projector of the text model's own family (see `mmcheck db match MODEL`).
    """
    a = assess(ctx)
    if a is not None and a.contradicted and _widths_fit(ctx):
        fams = ", ".join(sorted({fm.family.name for fm, _, _ in a.candidates}))
        yield Hit(
            f"projector is {fams}, trained with a different text model: {a.contradictions[0]}",
            "use the projector published with this text model",
        )


@rule("MM304", "projector-needs-other-architecture", severity=Severity.ERROR, effect="likely-garbage")
def projector_needs_other_architecture(ctx: Context) -> Iterator[Hit]:
    """The projector type needs a text architecture (or rope type) this text model does not have.

    Why: Position handling follows the text model: a Qwen2-VL merger on a text model without M-RoPE
    gets sequential positions, a non-Qwen projector on an M-RoPE model gets a flat grid. Neither
    raises an error; both give wrong output.

    Fix: Use the text GGUF converted for the VL model (e.g. arch `qwen2vl`, not `qwen2`).
    """
    if not ctx.is_pair:
        return
    assert ctx.model is not None and ctx.model.text is not None and ctx.mmproj is not None
    assert ctx.mmproj.projector is not None
    text = ctx.model.text
    for tower in ctx.mmproj.projector.towers.values():
        spec = tower.spec
        if spec is None:
            continue
        if spec.rope is not None and text.rope_type != spec.rope:
            yield Hit(
                f"{tower.type_id} needs a text model with {spec.rope.upper()} positions; "
                f"{text.architecture} uses {text.rope_type}",
                "use the VL text model converted with its vision architecture",
            )
        elif spec.rope is None and text.rope_type in ("mrope", "imrope") and tower.modality == "vision":
            yield Hit(
                f"{tower.type_id} is not an M-RoPE projector but {text.architecture} uses {text.rope_type} positions",
                "use the projector published with this text model",
            )


def known_architectures(ctx: Context, type_id: str) -> set[str]:
    """Text architectures a projector type is known to be used with: the type's own list plus the
    architectures of every database lineage a family of this type was trained with."""
    spec = ctx.db.projector_type(type_id)
    archs = set(spec.text_architectures) if spec is not None else set()
    for fam in ctx.db.families_for_type(type_id):
        for v in fam.variants:
            lin = ctx.db.lineages.get(v.lineage or "")
            if lin is not None:
                archs.add(lin.architecture)
    return archs


@rule("MM305", "architecture-never-paired", severity=Severity.ERROR, effect="likely-garbage")
def architecture_never_paired(ctx: Context) -> Iterator[Hit]:
    """No projector of this type is known to have been trained with a text model of this architecture.

    Why: A projector maps images into one text model's embedding space. When the database knows every
    architecture a projector type is converted with (e.g. `gemma3` projectors only with `gemma3`
    text models, `mlp` LLaVA-style projectors with `llama`, `phi2`, `phi3`), a text model of another
    architecture cannot be the one it was trained with: it loads (same width) and outputs nonsense.

    Fix: Use the projector published with this text model. If this pairing is real and new, add the
    family to compat_db/ (docs/compat-db.md) or ignore MM305.
    """
    if not ctx.is_pair:
        return
    assert ctx.model is not None and ctx.model.text is not None and ctx.mmproj is not None
    assert ctx.mmproj.projector is not None
    if not _widths_fit(ctx):
        return
    arch = ctx.model.text.architecture
    for tower in ctx.mmproj.projector.towers.values():
        if tower.spec is None or tower.spec.rope is not None:
            continue  # rope-typed projectors are MM304's
        archs = known_architectures(ctx, tower.type_id or "")
        if tower.declared_type and tower.declared_type != tower.type_id:
            archs |= known_architectures(ctx, tower.declared_type)  # e.g. qwen2.5o's audio tower
        if archs and arch not in archs and _arch_alias(arch) not in archs:
            yield Hit(
                f"{tower.type_id} projectors are known with {', '.join(sorted(archs))} text models, not {arch}",
                "use the projector published with this text model",
            )


def _arch_alias(arch: str) -> str:
    return {"mistral": "llama", "mistral3": "llama"}.get(arch, arch)
