"""MM8xx — findings of the projection smoke test (``mmcheck.smoke``), registered as rules."""

from __future__ import annotations

from collections.abc import Iterator

from mmcheck.evidence import CERTAIN_AGAINST, STRONG_AGAINST, STRONG_FOR
from mmcheck.rules.base import Context, Hit, Severity, rule


def _hits(ctx: Context, code: str) -> Iterator[Hit]:
    smoke = ctx.smoke
    if smoke is None:
        return
    for f in smoke.findings:
        if f.code == code:
            yield Hit(f.message, f.hint, file="mmproj")


@rule("MM801", "smoke-shape-error", severity=Severity.ERROR, evidence=CERTAIN_AGAINST)
def smoke_shape_error(ctx: Context) -> Iterator[Hit]:
    """Running the projector's layers failed: a layer's input does not fit, a bias is too short, or a layer is missing.

    Why: llama.cpp aborts or segfaults on such a projector at its warm-up encode.

    Fix: Use an unmodified projector.
    """
    yield from _hits(ctx, "MM801")


@rule("MM802", "smoke-bad-weights", severity=Severity.ERROR, evidence=STRONG_AGAINST)
def smoke_bad_weights(ctx: Context) -> Iterator[Hit]:
    """A projection weight is all zero, constant, or holds NaN/Inf.

    Why: The projector loads and produces constant or non-finite embeddings: garbage output.

    Fix: Re-download the projector; the data is corrupt.
    """
    yield from _hits(ctx, "MM802")


@rule("MM803", "smoke-output-not-finite", severity=Severity.ERROR, evidence=STRONG_AGAINST)
def smoke_output_not_finite(ctx: Context) -> Iterator[Hit]:
    """The projected embeddings contain NaN or Inf.

    Why: The text model receives non-finite embeddings and generates garbage.

    Fix: Re-download the projector; prefer the F16 file over a heavily quantized one.
    """
    yield from _hits(ctx, "MM803")


@rule("MM804", "smoke-output-width", severity=Severity.ERROR, evidence=CERTAIN_AGAINST)
def smoke_output_width(ctx: Context) -> Iterator[Hit]:
    """The projector's real forward pass ends at a width other than the text model's n_embd_inp.

    Why: Confirms the header-level width check with the real tensors: llama.cpp refuses the pair.

    Fix: Use the projector made for this model size.
    """
    yield from _hits(ctx, "MM804")


@rule("MM805", "embedding-space-misaligned", severity=Severity.ERROR, evidence=STRONG_AGAINST)
def embedding_space_misaligned(ctx: Context) -> Iterator[Hit]:
    """The projected embeddings do not look like the text model's token embeddings (heuristic).

    Why: A projector trained for this text model maps images into its embedding space; its outputs
    share the per-dimension profile of the token embeddings. mmcheck measures that on the real
    weights; when the measurement is informative and the profiles do not match, it is strong
    evidence against the pair. Against positive lineage evidence (MM301) the verdict is `unknown`.
    Thresholds and their justification: docs/smoke-test.md.

    Fix: Use the projector published with this text model.
    """
    yield from _hits(ctx, "MM805")


@rule("MM806", "baked-embedding-mismatch", severity=Severity.ERROR, evidence=STRONG_AGAINST)
def baked_embedding_mismatch(ctx: Context) -> Iterator[Hit]:
    """An embedding baked into the projector differs from the text model's row for that token.

    Why: Some projectors carry rows copied from their text model's embedding table (Pixtral's
    `v.token_embd.img_break`); a different row means the projector was built for another model.

    Fix: Use the projector published with this text model.
    """
    yield from _hits(ctx, "MM806")


@rule("MM807", "baked-embedding-match", severity=Severity.INFO, evidence=STRONG_FOR)
def baked_embedding_match(ctx: Context) -> Iterator[Hit]:
    """An embedding baked into the projector equals the text model's row (strong lineage evidence).

    Why: Rows copied from one model's embedding table identify that model.

    Fix: Nothing to fix.
    """
    yield from _hits(ctx, "MM807")


@rule("MM808", "smoke-skipped", severity=Severity.INFO)
def smoke_skipped(ctx: Context) -> Iterator[Hit]:
    """The smoke test did not run (header-only file, unsupported tensor type, ...); the metadata verdict stands.

    Why: The smoke test needs the tensor data of both files.

    Fix: Nothing, or run with complete files.
    """
    yield from _hits(ctx, "MM808")


@rule("MM809", "embedding-space-aligned", severity=Severity.INFO, evidence=STRONG_FOR)
def embedding_space_aligned(ctx: Context) -> Iterator[Hit]:
    """The projected embeddings share the text model's per-dimension embedding profile (measured).

    Why: A projector trained or fitted for this text model maps images into its embedding space.
    mmcheck runs the projector's real weights and compares its outputs with a sample of the
    model's token embeddings; an informative, high alignment is strong evidence for the pair, also
    for projectors the database does not know (e.g. made for this model by another tool).
    Thresholds and their calibration on real embedding tables: docs/smoke-test.md.

    Fix: Nothing to fix.
    """
    yield from _hits(ctx, "MM809")
