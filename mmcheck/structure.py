"""Structural checks on a projector's tensor shapes (header only): do its layers chain?

llama.cpp builds the projection graph from these tensors and aborts (``ggml_can_mul_mat``,
``ggml_can_repeat``) or segfaults when they do not fit together (at clip's warm-up encode,
clip_model_loader::warmup, tools/mtmd/clip.cpp:3737 @0c1e570; observed in the oracle suite). The
chains below list, per projector type, the linear layers in graph order (``Linear(in, out)`` stored as
``ne = (in, out)``) with the norms between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from mmcheck.header import GGUFHeader

# (kind, prefix): "linear" layers have .weight (+ optional .bias); "norm" layers have .weight (+ .bias);
# "halve" is a gated activation (SwiGLU) that halves the width
Layer = tuple[str, str]

CHAINS: dict[str, list[Layer]] = {
    "mlp": [("linear", "mm.0"), ("linear", "mm.2")],
    "mlp_norm": [("linear", "mm.0"), ("norm", "mm.1"), ("linear", "mm.3"), ("norm", "mm.4")],
    "ldp": [("linear", "mm.model.mlp.1"), ("linear", "mm.model.mlp.3")],
    "ldpv2": [("linear", "mm.model.mlp.0"), ("linear", "mm.model.mlp.2")],
    "qwen2vl_merger": [("linear", "mm.0"), ("linear", "mm.2")],
    "qwen2.5vl_merger": [("linear", "mm.0"), ("linear", "mm.2")],
    "qwen3vl_merger": [("linear", "mm.0"), ("linear", "mm.2")],
    "phi4": [("linear", "mm.0"), ("linear", "mm.2")],
    "janus_pro": [("linear", "mm.0"), ("linear", "mm.1")],
    "pixtral": [("linear", "mm.1"), ("linear", "mm.2")],
    "lightonocr": [("linear", "mm.1"), ("linear", "mm.2")],
    "lfm2": [("norm", "mm.input_norm"), ("linear", "mm.1"), ("linear", "mm.2")],
    "kimivl": [("norm", "mm.input_norm"), ("linear", "mm.1"), ("linear", "mm.2")],
    "internvl": [("norm", "mm.model.mlp.0"), ("linear", "mm.model.mlp.1"), ("linear", "mm.model.mlp.3")],
    # SwiGLU halves mm.a.mlp.1's output before norm_mid and mm.a.mlp.2
    "ultravox": [("linear", "mm.a.mlp.1"), ("halve", ""), ("norm", "mm.a.norm_mid"), ("linear", "mm.a.mlp.2")],
    "voxtral": [("linear", "mm.a.mlp.1"), ("linear", "mm.a.mlp.2")],
}

#: The first layer's input is the encoder width for these types (no patch merging before it).
FIRST_INPUT_IS_ENCODER_WIDTH = frozenset({"mlp", "mlp_norm", "ldp", "ldpv2", "janus_pro"})

#: Types whose encoder indexes a learned position table by patch (no interpolation): too few rows
#: abort at the first image (``GGML_ASSERT(i01 >= 0 && i01 < ne01)``, ggml/src/ggml-cpu/ops.cpp:5240 @0c1e570).
FIXED_POSITION_TYPES = frozenset({"mlp", "mlp_norm", "ldp", "ldpv2", "gemma3", "idefics3"})


@dataclass(frozen=True)
class StructureProblem:
    """One structural defect: what is wrong, and whether it is a bias/norm length (else chaining)."""

    kind: str  # "chain" | "bias" | "position"
    message: str


def chain_problems(header: GGUFHeader, type_id: str, encoder_width: int | None) -> list[StructureProblem]:
    """Defects in the projection layers of a projector of type ``type_id``."""
    chain = CHAINS.get(type_id)
    if chain is None:
        return []
    tensors = header.tensors
    problems: list[StructureProblem] = []
    prev_out: int | None = None
    prev_name = "the encoder"
    if type_id in FIRST_INPUT_IS_ENCODER_WIDTH and encoder_width:
        prev_out = encoder_width
        prev_name = f"the encoder (width {encoder_width})"
    for kind, prefix in chain:
        if kind == "halve":
            prev_out = prev_out // 2 if prev_out is not None else None
            continue
        w = tensors.get(f"{prefix}.weight")
        b = tensors.get(f"{prefix}.bias")
        if w is None:
            continue  # missing tensors are reported by the required-tensor and width rules
        if kind == "norm":
            n = w.shape[0]
            if prev_out is not None and n != prev_out:
                problems.append(StructureProblem("bias", f"{prefix}.weight has {n} elements, input is {prev_out} wide"))
            if b is not None and b.shape[0] != n:
                problems.append(StructureProblem("bias", f"{prefix}.bias has {b.shape[0]} elements, weight has {n}"))
            continue
        if len(w.shape) < 2:
            problems.append(StructureProblem("chain", f"{prefix}.weight is not a matrix (shape {list(w.shape)})"))
            return problems
        n_in, n_out = w.shape[0], w.shape[1]
        if prev_out is not None and n_in != prev_out:
            problems.append(
                StructureProblem("chain", f"{prefix}.weight takes {n_in} inputs but {prev_name} outputs {prev_out}")
            )
        if b is not None and (len(b.shape) != 1 or b.shape[0] != n_out):
            problems.append(
                StructureProblem("bias", f"{prefix}.bias has {b.shape[0]} elements, {prefix}.weight outputs {n_out}")
            )
        prev_out, prev_name = n_out, f"{prefix}.weight"
    return problems


def position_problem(header: GGUFHeader, type_id: str) -> StructureProblem | None:
    """Too few rows in ``v.position_embd.weight`` for the image size (types with a fixed table)."""
    if type_id not in FIXED_POSITION_TYPES:
        return None
    pos = header.tensors.get("v.position_embd.weight")
    image = header.get_int("clip.vision.image_size")
    patch = header.get_int("clip.vision.patch_size")
    if pos is None or len(pos.shape) < 2 or not image or not patch:
        return None
    needed = (image // patch) ** 2 + (1 if "v.class_embd" in header.tensors else 0)
    if pos.shape[1] < needed:
        return StructureProblem(
            "position", f"v.position_embd.weight has {pos.shape[1]} rows, {image}/{patch} patches need {needed}"
        )
    return None
