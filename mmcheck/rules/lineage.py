"""MM3xx — was this projector made for this text model's lineage? (llama.cpp never checks.)

The weighing is :func:`mmcheck.identify.assess_pair`; these rules report its parts. Only the
variants whose output width equals the projector's are ever candidates, so no message names a
lineage the projector cannot be.
"""

from __future__ import annotations

from collections.abc import Iterator

from mmcheck.evidence import STRONG_AGAINST, STRONG_FOR, WEAK_AGAINST
from mmcheck.identify import PairAssessment
from mmcheck.rules.base import Context, Hit, Severity, rule


def _widths_fit(ctx: Context) -> bool:
    return ctx.text.n_embd_inp is not None and ctx.text.n_embd_inp == ctx.projector.output_width


def _assessment(ctx: Context) -> PairAssessment | None:
    """The assessment of a pair whose widths fit (None otherwise: MM101 has said it all)."""
    if not ctx.is_pair or not _widths_fit(ctx):
        return None
    return ctx.assessment


@rule("MM301", "lineage-confirmed", severity=Severity.INFO, evidence=STRONG_FOR)
def lineage_confirmed(ctx: Context) -> Iterator[Hit]:
    """There is positive evidence that this projector was made for this text model (or its lineage).

    Why: Same width is not enough: llama.cpp loads any same-width pair. A `match` needs the
    projector to fit a database variant (type, encoder signature, exact output width) and the text
    model to be that variant's own text model by its name, or the variant's base model (or a
    fine-tune of it) for a family whose projectors are recorded as working on fine-tunes.

    Fix: Nothing to fix.
    """
    a = _assessment(ctx)
    if a is not None and a.confirmed and not a.contradicted:
        yield Hit(a.confirmed[0])


@rule("MM302", "lineage-unconfirmed", severity=Severity.INFO)
def lineage_unconfirmed(ctx: Context) -> Iterator[Hit]:
    """The widths fit and nothing contradicts, but nothing confirms the projector was made for this model.

    Why: Two projector files can have byte-identical headers (the LLaVA-1.5 recipe was used on
    Vicuna and on Mistral), and third parties build projectors for models the database does not
    know, so mmcheck never guesses a match from the header alone. The message says what would
    settle it.

    Fix: Use the projector published with the model (or its base model); set `general.name` and
    `general.base_model.*` in fine-tunes so tools can trace them; run the smoke test on files with
    tensor data: it measures whether the projector's outputs land in this model's embedding space.
    """
    a = _assessment(ctx)
    if a is None or a.confirmed or a.contradicted:
        return
    hint = "use the projector published with this model"
    if ctx.smoke is None or ctx.smoke.status == "skipped":
        hint += ", or run the smoke test on files with tensor data (it measures the embedding space)"
    yield Hit("; ".join(a.missing) or "nothing identifies the pair", hint)


@rule("MM303", "lineage-contradicted", severity=Severity.ERROR, evidence=STRONG_AGAINST)
def lineage_contradicted(ctx: Context) -> Iterator[Hit]:
    """Same width, different lineage: every variant this projector can be was trained with another text model.

    Why: llama.cpp loads the pair without complaint and the model describes images it never saw:
    confident nonsense. E.g. a Llama-3-8B projector on Mistral-7B (same shapes, different vocabulary),
    or a LLaVA-1.5-7B projector on a Qwen2 model of the same width. Only facts fine-tunes and
    converters cannot change count (architecture, shapes, tokenizer model, a vocabulary of another
    size, the projector's marker tokens); a pre-tokenizer label or a padded vocabulary never does.

    Fix: Use the projector of the text model's own family (see `mmcheck db match MODEL`).
    """
    a = _assessment(ctx)
    if a is not None and a.contradicted:
        n = len(a.candidates)
        lead = "the projector can only be " + (a.candidates[0].variant.id if n == 1 else f"one of {n} variants")
        whose = "its text model" if n == 1 else "any of their text models"
        yield Hit(
            f"{lead}, and this text model is not {whose}: {' | '.join(a.contradictions)}",
            "use the projector published with this text model",
        )


@rule("MM304", "projector-needs-other-architecture", severity=Severity.WARNING, evidence=WEAK_AGAINST)
def projector_needs_other_architecture(ctx: Context) -> Iterator[Hit]:
    """The projector type is normally trained with a text model of another rope type (M-RoPE or not).

    Why: Image token positions follow the text model: a Qwen-VL merger trained with an M-RoPE model
    gets sequential positions on a text model without M-RoPE, and a projector trained with a plain
    model gets a flat grid on an M-RoPE model. That matters when the projector was trained with such
    a model; a projector trained for this text model (e.g. by a third party) is unaffected, so this
    alone is weak evidence. The lineage rules (MM301/MM303) say whether it applies.

    Fix: Use the VL text model converted with its vision architecture (e.g. arch `qwen2vl`, not `qwen2`).
    """
    if not ctx.is_pair:
        return
    text = ctx.text
    for tower in ctx.projector.towers.values():
        spec = tower.spec
        if spec is None:
            continue
        if spec.rope is not None and text.rope_type != spec.rope:
            yield Hit(
                f"{tower.type_id} projectors are trained with {spec.rope.upper()} text models; "
                f"{text.architecture} uses {text.rope_type} positions",
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


@rule("MM305", "architecture-never-paired", severity=Severity.WARNING, evidence=WEAK_AGAINST)
def architecture_never_paired(ctx: Context) -> Iterator[Hit]:
    """No projector of this type is recorded with a text model of this architecture.

    Why: The published projectors of a type are converted with a few text architectures (e.g.
    `gemma3` projectors with `gemma3` text models). A projector of the type on another architecture
    is either a mistake or a projector someone built for this model (tools such as globalmm write
    `gemma3`-type projectors for any LLM), so this alone is weak evidence.

    Fix: Use the projector published with this text model; if it was made for this model, the smoke
    test on files with tensor data can measure it.
    """
    if not ctx.is_pair or not _widths_fit(ctx):
        return
    from mmcheck.identify import canonical_arch

    arch = ctx.text.architecture
    for tower in ctx.projector.towers.values():
        if tower.spec is None or tower.spec.rope is not None:
            continue  # rope-typed projectors are MM304's
        archs = known_architectures(ctx, tower.type_id or "")
        if tower.declared_type and tower.declared_type != tower.type_id:
            archs |= known_architectures(ctx, tower.declared_type)  # e.g. qwen2.5o's audio tower
        if archs and arch not in archs and canonical_arch(arch) not in {canonical_arch(a) for a in archs}:
            yield Hit(
                f"{tower.type_id} projectors are recorded with {', '.join(sorted(archs))} text models, not {arch}",
                "if this projector was not made for this model, use the one published with it",
            )


@rule("MM306", "co-trained-base-model", severity=Severity.WARNING, evidence=WEAK_AGAINST)
def co_trained_base_model(ctx: Context) -> Iterator[Hit]:
    """The projector's family trains its language model with the projector, and this text model is the base model.

    Why: Some VLMs (Qwen2-VL, InternVL, Pixtral, ...) fine-tune the whole language model together
    with the projector; the projector expects that tuned model, not the base model it started from.
    The base loads (same width) and answers worse or wrongly; how much is not known from headers.

    Fix: Use the VLM's own text model (published next to the projector).
    """
    a = _assessment(ctx)
    if a is not None and a.co_trained and not a.confirmed:
        yield Hit(a.co_trained[0], "use the text model published with the projector")


@rule("MM307", "header-fits-several-variants", severity=Severity.INFO)
def header_fits_several_variants(ctx: Context) -> Iterator[Hit]:
    """Projectors of other variants (trained with other text models) have the same header as this one.

    Why: Recipes are reused across base models (LLaVA-1.5 on Vicuna and Mistral), so the header
    alone cannot say which variant a projector is; the text model's own name decided the match.

    Fix: Nothing, if the files come from the same release.
    """
    a = _assessment(ctx)
    if a is not None and a.confirmed and a.shared_with:
        yield Hit(f"the same projector header also fits {', '.join(a.shared_with)}")


@rule("MM308", "converter-dependent-difference", severity=Severity.INFO, evidence=WEAK_AGAINST)
def converter_dependent_difference(ctx: Context) -> Iterator[Hit]:
    """The text model differs from the recorded base model only in details that depend on the converter.

    Why: Converters write different pre-tokenizer labels for one tokenizer (`tekken` vs `pixtral`),
    trim the vocabulary to the tokenizer, pad it to the config or add tokens; long-context tunes
    change the rope base. None of these says the text model is another model, so they never reject
    a pair; they are listed so that a surprise can be traced.

    Fix: Nothing to fix.
    """
    a = _assessment(ctx)
    if a is not None and a.weak_differences and not a.contradicted:
        yield Hit("; ".join(a.weak_differences), file="model")
