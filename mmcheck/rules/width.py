"""MM1xx — the one check llama.cpp makes: projector output width vs the text model's n_embd_inp."""

from __future__ import annotations

from collections.abc import Iterator

from mmcheck.evidence import CERTAIN_AGAINST
from mmcheck.rules.base import Context, Hit, Severity, rule


def _fitting_variants(ctx: Context, width: int) -> list[str]:
    """Variants a projector of this width could be the one for: same projector type, same encoder width.

    Width alone is no lead: thousands of models share 4096; a hint naming another family's variant
    sends the user to a projector that would load and produce nonsense.
    """
    assert ctx.mmproj is not None and ctx.mmproj.projector is not None
    p = ctx.mmproj.projector
    type_id = p.primary.type_id if p.primary is not None else None
    encoder_width = p.encoder.width if p.encoder is not None else None
    out = []
    for fam in ctx.db.families.values():
        if type_id is None or type_id not in fam.projector_types:
            continue
        for v in fam.variants:
            encoder = v.encoder or fam.encoder
            known_width = encoder.embedding_length if encoder is not None else None
            if v.output_width == width and (encoder_width is None or known_width in (None, encoder_width)):
                out.append(v.id)
    return out


@rule("MM101", "projector-width-mismatch", severity=Severity.ERROR, evidence=CERTAIN_AGAINST)
def projector_width_mismatch(ctx: Context) -> Iterator[Hit]:
    """The projector's output width differs from the text model's embedding width (n_embd_inp).

    Why: This is the check llama.cpp makes when it loads the pair (`mismatch between text model
    (n_embd = X) and mmproj (n_embd = Y)`); KoboldCpp then reports that the *text model* failed to
    load. Older runtimes without the check crash or produce garbage. The projector width is read
    from the tensor llama.cpp reads for the projector type, never from `projection_dim`.

    Fix: Use the projector made for this model size (same family, same width).
    """
    if not ctx.is_pair:
        return
    assert ctx.model is not None and ctx.mmproj is not None
    t, p = ctx.model.text, ctx.mmproj.projector
    assert t is not None and p is not None
    width = p.output_width
    if width is None or t.n_embd_inp is None or width == t.n_embd_inp:
        return
    tower = p.primary
    source = tower.width.source if tower is not None else "?"
    expected = f"n_embd_inp {t.n_embd_inp}"
    if t.deepstack_layers:
        expected += f" = {t.n_embd} x (1 + {t.deepstack_layers} deepstack layers)"
    hint = "use the projector published with this model"
    fits = _fitting_variants(ctx, width)
    if fits:
        hint += f"; this projector's width {width} fits {', '.join(fits[:4])}"
    if tower is not None and tower.type_id == "qwen3vl_merger" and not t.deepstack_layers and width != t.n_embd:
        hint += "; a Qwen3-VL deepstack projector needs a text GGUF that carries n_deepstack_layers"
    yield Hit(f"projector outputs {width} ({source}), text model expects {expected}", hint, file="mmproj")


@rule("MM102", "projector-width-unknown", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def projector_width_unknown(ctx: Context) -> Iterator[Hit]:
    """The projector's output width cannot be computed: the tensor llama.cpp reads it from is missing.

    Why: For several types (e.g. `mlp`'s `mm.2.weight`) llama.cpp loads that tensor as optional and
    dereferences it unchecked: the process dies with a segmentation fault at load. For `gemma3na`
    alone there is no width at all and llama.cpp aborts.

    Fix: The file is incomplete or was written by a broken converter; re-convert or re-download it.
    """
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return
    for m, tower in ctx.mmproj.projector.towers.items():
        if tower.known and tower.width.value is None:
            crash = " (llama.cpp crashes: the tensor is dereferenced unchecked)" if tower.width.crash else ""
            yield Hit(
                f"{m} projector {tower.type_id}: output width unknown, {tower.width.problem}{crash}",
                "re-convert the projector; it misses its last layer",
                file="mmproj",
            )


@rule("MM103", "vision-audio-width-mismatch", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def vision_audio_width_mismatch(ctx: Context) -> Iterator[Hit]:
    """The vision and audio towers of one projector output different widths.

    Why: llama.cpp requires both towers to agree (`mismatch between vision and audio mmproj
    (n_embd_v = X, n_embd_a = Y)`).

    Fix: The file mixes towers from different models; use the projector published with the model.
    """
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return
    towers = ctx.mmproj.projector.towers
    v, a = towers.get("vision"), towers.get("audio")
    if v is not None and a is not None and v.width.value and a.width.value and v.width.value != a.width.value:
        yield Hit(f"vision tower outputs {v.width.value}, audio tower {a.width.value}", "", file="mmproj")
