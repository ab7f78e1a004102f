"""MM511-MM512 — are the encoder's tensors of a type and shape llama.cpp's graphs can use?

The table is ``mmcheck.projectors.encoder_tensors`` (ggml-org/llama.cpp tools/mtmd/clip.cpp@0c1e570);
MM502 (``rules/structure.py``) reports the encoder tensors it requires that are missing, through
``missing_encoder_hits`` below.
"""

from __future__ import annotations

from collections.abc import Iterator

from mmcheck.evidence import CERTAIN_AGAINST
from mmcheck.facts.projector import ProjectorFacts
from mmcheck.header import GGUFHeader
from mmcheck.projectors import encoder_tensors as enc
from mmcheck.rules.base import Context, Hit, Severity, rule

_SHOWN = 6  # names listed in one message; the rest are counted


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def _towers(p: ProjectorFacts) -> Iterator[tuple[str, str]]:
    """(modality, type id) of the towers llama.cpp knows."""
    for modality, tower in p.towers.items():
        if tower.known and tower.type_id:
            yield modality, tower.type_id


def missing_encoder_hits(header: GGUFHeader, p: ProjectorFacts) -> Iterator[Hit]:
    """MM502's encoder half: required encoder tensors (clip.cpp ``load_tensors``) the file lacks."""
    for modality, type_id in _towers(p):
        already = set(p.towers[modality].missing_tensors)  # reported from compat_db already
        missing = [m for m in enc.missing_encoder_tensors(header, modality, type_id) if m.name not in already]
        if not missing:
            continue
        names = [f"{m.name} ({m.req.citation()})" for m in missing]
        first = missing[0]
        stop = first.req.failure or f"load_tensors: unable to find tensor {first.name}"
        hint = f"llama.cpp stops loading at the first one (`{stop}`)"
        expected = {n for n, _ in enc.expand(header, modality, type_id)}
        renamed = enc.look_alikes(header, [m.name for m in missing[:_SHOWN]], expected)
        if renamed:
            hint += "; " + ", ".join(f"`{have}` is present: renamed from `{want}`?" for want, have in renamed.items())
        else:
            hint += "; re-download or re-convert the projector"
        yield Hit(
            f"{type_id} {modality} encoder lacks required tensor(s): {_names(names)}",
            hint,
            file="mmproj",
        )


# What ggml does with an integer weight (ggml-org/llama.cpp @0c1e570): the CPU backend's supports_op
# takes a MUL_MAT whose src1 is F32 whatever src0 is (ggml/src/ggml-cpu/ggml-cpu.cpp:453-461);
# type_traits_cpu (ggml/src/ggml-cpu/ggml-cpu.c:215) gives I32 only from_float (:413-415) and I8/I16/I64
# nothing, so ggml_compute_forward_mul_mat_one_chunk calls a NULL vec_dot (:1182, :1244). ggml_conv_2d
# is mul_mat(im2col [F16], kernel) (ggml/src/ggml.c:4772-4777): an integer kernel as src1 trips
# GGML_ASSERT(!widen || vec_dot_type == GGML_TYPE_F32) (ggml-cpu.c:1340). Nothing checks types at load.


@rule("MM511", "integer-weight", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def integer_weight(ctx: Context) -> Iterator[Hit]:
    """A matrix or convolution weight is stored as an integer type (I8/I16/I32/I64).

    Why: llama.cpp does not refuse the file: it loads it, and the encoder graph feeds the weight to
    `ggml_mul_mat` (directly, or through `ggml_conv_2d`), for which ggml has no integer kernel. The CPU
    backend's `supports_op` accepts a mul_mat with any weight type and an F32 input, and
    `type_traits_cpu` gives the integer types no `vec_dot`, so encoding the first image or audio clip
    crashes the process (a call through a NULL `vec_dot`, SIGSEGV); a convolution kernel aborts
    instead (`GGML_ASSERT` on the operand type). Converters never write integer weights: the file was
    damaged or edited.

    Fix: Use an unmodified projector, or re-convert it with `convert_hf_to_gguf.py --mmproj` (F16,
    BF16, F32 or a quantized float type).
    """
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return
    bad = enc.integer_weights(ctx.mmproj.header)
    if bad:
        names = _names([f"{t.name} ({t.type_name})" for t in bad])
        yield Hit(
            f"integer-typed weight(s), which ggml cannot multiply: {names}",
            "use an unmodified projector or re-convert it",
            file="mmproj",
        )


@rule("MM512", "encoder-shape-mismatch", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def encoder_shape_mismatch(ctx: Context) -> Iterator[Hit]:
    """An encoder tensor's shape disagrees with the encoder settings (e.g. a permuted patch embedding).

    Why: llama.cpp loads tensors without checking their shapes; its encoder graph then needs the patch
    embedding as a `[patch_size, patch_size, 3, embedding_length]` convolution kernel and each layer's
    `attn_out` / `ffn_up` / `ffn_down` to fit the `embedding_length`-wide hidden state. A tensor that
    does not fit aborts the process at the warm-up encode or the first image (`GGML_ASSERT` in
    `ggml_im2col`, `ggml_can_mul_mat`, `ggml_reshape`), or, where the sizes happen to broadcast,
    encodes garbage.

    Fix: The file was edited or its tensors were written transposed; use an unmodified projector or
    re-convert it with a current `convert_hf_to_gguf.py --mmproj`.
    """
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return
    header = ctx.mmproj.header
    for modality, type_id in _towers(ctx.mmproj.projector):
        for prob in enc.shape_problems(header, modality, type_id):
            shape = "[" + ", ".join(str(d) for d in prob.shape) + "]"
            yield Hit(
                f"{type_id}: {prob.tensor} has ne {shape}, the encoder graph needs {prob.expected}",
                f"used by {prob.where}; use an unmodified projector",
                file="mmproj",
            )
