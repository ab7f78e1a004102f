"""Per-type definitions of the projection stage as a chain of simple layers.

Each definition mirrors the projection part of llama.cpp's graph for the type (``tools/mtmd/
models/*.cpp`` at the reference revision): tensor names, orientation, norms, activations and
merges. The encoder itself is not run: the chain starts from synthetic encoder features of the
encoder width (``clip.{vision,audio}.embedding_length``), merged where the type merges patches.
Types without a definition fall back to the final linear layer the database's width rule names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from mmcheck.db import ProjectorType
from mmcheck.header import GGUFHeader

NormKind = Literal["layer", "rms", "affine"]
ActKind = Literal["gelu", "gelu_erf", "gelu_quick", "silu", "relu", "hardswish"]


@dataclass(frozen=True)
class Linear:
    """``y = x W^T (+ b)``; ``W`` ne = (in..., out). ``transposed``: ne = (out, in), ``y = x W``."""

    weight: str
    bias: str | None = None
    bias_required: bool = False
    transposed: bool = False
    required: bool = True


@dataclass(frozen=True)
class Norm:
    """LayerNorm / RMSNorm / plain affine (folded batch-norm) with optional weight and bias."""

    kind: NormKind
    weight: str | None = None
    bias: str | None = None
    required: bool = True  # the weight must exist (llama.cpp loads it as required)


@dataclass(frozen=True)
class Act:
    """An element-wise activation."""

    kind: ActKind


@dataclass(frozen=True)
class Merge:
    """Concatenate ``factor`` consecutive rows (patch merge / frame stacking): width × factor."""

    factor: int
    label: str = "merge"


@dataclass(frozen=True)
class Scale:
    """Multiply by a constant (e.g. Gemma's ``sqrt(n_embd)``)."""

    value: float
    label: str = "scale"


@dataclass(frozen=True)
class SwiGLU:
    """Split the last dimension in halves a, b: ``silu(a) * b`` (``swapped``: ``a * silu(b)``)."""

    swapped: bool = False


@dataclass(frozen=True)
class Gated:
    """``act(x Wg^T) * (x Wu^T)`` (llama.cpp ``build_ffn`` with a parallel gate)."""

    gate: str
    up: str
    act: ActKind = "silu"
    gate_bias: str | None = None
    up_bias: str | None = None


@dataclass(frozen=True)
class Depthwise:
    """A depthwise conv (ne = (kw, kh, 1, C)) applied to a constant image: per-channel tap sum."""

    weight: str
    bias: str | None = None


@dataclass(frozen=True)
class SqueezeExcite:
    """MobileNet squeeze-excite: ``x * hardsigmoid(fc2(relu(fc1(mean_rows(x)))))``."""

    fc1: str
    fc2: str


@dataclass(frozen=True)
class Branches:
    """Run each chain on the same input and concatenate the outputs along the width."""

    chains: tuple[tuple[Op, ...], ...]
    label: str = "concat"


Op = Linear | Norm | Act | Merge | Scale | SwiGLU | Gated | Depthwise | SqueezeExcite | Branches


@dataclass(frozen=True)
class Plan:
    """A projection chain for one tower: where its input comes from and its layers."""

    type_id: str
    input_width: int | None  # encoder width before merging; None: take the first layer's input
    ops: tuple[Op, ...]
    full: bool  # a full definition (False: the final layer only)
    note: str = ""


@dataclass(frozen=True)
class Context:
    """What a definition needs from the projector header."""

    type_id: str
    header: GGUFHeader
    width: int | None  # encoder width
    merge: int | None  # merge factor m (patch side), when the type has one
    stack: int | None  # audio frame stacking factor

    def has(self, name: str) -> bool:
        """Whether the tensor exists."""
        return name in self.header.tensors


def _lin(base: str, *, bias: bool = True, bias_required: bool = False, required: bool = True) -> Linear:
    return Linear(f"{base}.weight", f"{base}.bias" if bias else None, bias_required=bias_required, required=required)


def _ln(base: str, kind: NormKind = "layer", *, bias: bool = True, required: bool = True) -> Norm:
    return Norm(kind, f"{base}.weight", f"{base}.bias" if bias else None, required=required)


def _m2(c: Context, default: int = 2) -> int:
    m = c.merge if c.merge and c.merge > 0 else default
    return m * m


def _mlp(c: Context) -> tuple[Op, ...]:
    # llama.cpp loads the biases as optional but adds them unchecked (a null bias crashes)
    return (_lin("mm.0", bias_required=True), Act("gelu"), _lin("mm.2", bias_required=True))


def _mlp_norm(c: Context) -> tuple[Op, ...]:
    return (
        _lin("mm.0", bias_required=True),
        _ln("mm.1"),
        Act("gelu"),
        _lin("mm.3", bias_required=True),
        _ln("mm.4"),
    )


def _ldp(c: Context) -> tuple[Op, ...]:
    ops: list[Op] = [_lin("mm.model.mlp.1"), Act("gelu"), _lin("mm.model.mlp.3")]
    for b in (1, 2):
        p = f"mm.model.mb_block.{b}.block"
        ops += [
            Depthwise(f"{p}.0.0.weight"),
            _ln(f"{p}.0.1", "affine"),
            Act("hardswish"),
            SqueezeExcite(f"{p}.1.fc1", f"{p}.1.fc2"),
            Linear(f"{p}.2.0.weight"),
            _ln(f"{p}.2.1", "affine"),
        ]
    return tuple(ops)


def _ldpv2(c: Context) -> tuple[Op, ...]:
    return (
        _lin("mm.model.mlp.0"),
        Act("gelu"),
        _lin("mm.model.mlp.2"),
        Depthwise("mm.model.peg.0.weight", "mm.model.peg.0.bias"),
    )


def _resampler(c: Context) -> tuple[Op, ...]:
    # The attention pooling is not run: its output (query width) goes through ln_post and proj.
    # llama.cpp multiplies build_mm(proj, x) (input ne[0]) but reads the width from ne[0] too;
    # real MiniCPM-V projections are square, so the two agree.
    return (_ln("resampler.ln_post"), Linear("resampler.proj.weight"))


def _qwen_merger(c: Context) -> tuple[Op, ...]:
    norm_kind: NormKind = "rms" if c.type_id == "qwen2.5vl_merger" else "layer"
    head: tuple[Op, ...] = (_ln("v.post_ln", norm_kind, required=False),) if c.has("v.post_ln.weight") else ()
    main: tuple[Op, ...] = (_lin("mm.0", bias_required=True), Act("gelu"), _lin("mm.2", bias_required=True))
    deep = sorted(
        int(n.split(".")[2]) for n in c.header.tensors if n.startswith("v.deepstack.") and n.endswith(".fc1.weight")
    )
    if not deep:
        return (*head, Merge(4, "merge 2x2"), *main)
    chains = [main]
    for i in deep:
        p = f"v.deepstack.{i}"
        chains.append((_ln(f"{p}.norm"), _lin(f"{p}.fc1"), Act("gelu"), _lin(f"{p}.fc2")))
    return (*head, Merge(4, "merge 2x2"), Branches(tuple(chains), f"concat main + {len(deep)} deepstack"))


def _gemma3(c: Context) -> tuple[Op, ...]:
    # avg-pool keeps the width; rms_norm * soft_emb_norm; x @ input_projection (stored transposed)
    return (Norm("rms", "mm.soft_emb_norm.weight"), Linear("mm.input_projection.weight", transposed=True))


def _gemma3n(c: Context) -> tuple[Op, ...]:
    w = float(c.width or 1) ** 0.5
    return (
        Scale(w, "scale sqrt(n_embd)"),
        Norm("rms", "mm.soft_emb_norm.weight", required=False),
        Linear("mm.input_projection.weight", transposed=True),
        Norm("rms", "mm.post_proj_norm.weight", required=False),
    )


def _gemma4(c: Context) -> tuple[Op, ...]:
    w = float(c.width or 1) ** 0.5
    return (Scale(w, "scale sqrt(n_embd)"), Norm("rms", None, required=False), Linear("mm.input_projection.weight"))


def _gemma4a(c: Context) -> tuple[Op, ...]:
    return (Norm("rms", None, required=False), Linear("mm.a.input_projection.weight"))


def _idefics3(c: Context) -> tuple[Op, ...]:
    return (Merge(_m2(c), "pixel shuffle"), Linear("mm.model.fc.weight"))


def _pixtral(c: Context) -> tuple[Op, ...]:
    ops: list[Op] = []
    if c.has("mm.patch_merger.weight"):
        ops += [Norm("rms", "mm.input_norm.weight"), Merge(_m2(c), "patch merge"), Linear("mm.patch_merger.weight")]
    ops += [_lin("mm.1", required=True), Act("gelu"), _lin("mm.2")]
    return tuple(ops)


def _internvl(c: Context) -> tuple[Op, ...]:
    nemotron = not c.has("mm.model.mlp.0.bias") and not c.has("mm.model.mlp.1.bias")
    return (
        Merge(_m2(c), "pixel shuffle"),
        _ln("mm.model.mlp.0", bias=not nemotron),
        _lin("mm.model.mlp.1", bias=not nemotron),
        Act("gelu"),
        _lin("mm.model.mlp.3", bias=not nemotron),
    )


def _llama4(c: Context) -> tuple[Op, ...]:
    return (
        Merge(_m2(c), "pixel shuffle"),
        Linear("mm.model.mlp.1.weight"),
        Act("gelu"),
        Linear("mm.model.mlp.2.weight"),
        Act("gelu"),
        Linear("mm.model.fc.weight"),
    )


def _lfm2(c: Context) -> tuple[Op, ...]:
    norm: tuple[Op, ...] = (_ln("mm.input_norm", required=False),) if c.has("mm.input_norm.weight") else ()
    return (Merge(_m2(c), "pixel unshuffle"), *norm, _lin("mm.1"), Act("gelu"), _lin("mm.2"))


def _kimivl(c: Context) -> tuple[Op, ...]:
    # llama.cpp normalizes each patch (width n_embd) before the merged rows enter mm.1
    return (_ln("mm.input_norm"), Merge(_m2(c), "patch merge"), _lin("mm.1"), Act("gelu"), _lin("mm.2"))


def _phi4(c: Context) -> tuple[Op, ...]:
    return (_lin("mm.0", bias_required=True), Act("gelu"), _lin("mm.2", bias_required=True))


def _glm4v(c: Context) -> tuple[Op, ...]:
    return (
        Merge(_m2(c), "patch merge"),
        Linear("mm.patch_merger.weight", "mm.patch_merger.bias", bias_required=True),
        Linear("mm.model.fc.weight"),
        _ln("mm.post_norm", required=True),
        Act("gelu"),
        Gated("mm.gate.weight", "mm.up.weight", "silu", "mm.gate.bias", "mm.up.bias"),
        _lin("mm.down"),
    )


def _cogvlm(c: Context) -> tuple[Op, ...]:
    return (
        Linear("mm.model.fc.weight"),
        _ln("mm.post_fc_norm"),
        Act("gelu"),
        Gated("mm.gate.weight", "mm.up.weight", "silu"),
        Linear("mm.down.weight"),
    )


def _janus_pro(c: Context) -> tuple[Op, ...]:
    return (_lin("mm.0", bias_required=True), Act("gelu"), _lin("mm.1", bias_required=True))


def _ultravox(c: Context) -> tuple[Op, ...]:
    return (
        Merge(c.stack or 1, "stack frames"),
        Norm("rms", "mm.a.norm_pre.weight"),
        Linear("mm.a.mlp.1.weight"),
        SwiGLU(swapped=True),
        Norm("rms", "mm.a.norm_mid.weight"),
        Linear("mm.a.mlp.2.weight"),
    )


def _voxtral(c: Context) -> tuple[Op, ...]:
    return (
        Merge(c.stack or 1, "stack frames"),
        Linear("mm.a.mlp.1.weight"),
        Act("gelu_erf"),
        Linear("mm.a.mlp.2.weight"),
    )


def _qwen2a(c: Context) -> tuple[Op, ...]:
    return (Linear("mm.a.fc.weight", "mm.a.fc.bias", bias_required=True),)


DEFINITIONS: dict[str, Callable[[Context], tuple[Op, ...]]] = {
    "mlp": _mlp,
    "mlp_norm": _mlp_norm,
    "ldp": _ldp,
    "ldpv2": _ldpv2,
    "resampler": _resampler,
    "qwen2vl_merger": _qwen_merger,
    "qwen2.5vl_merger": _qwen_merger,
    "qwen3vl_merger": _qwen_merger,
    "gemma3": _gemma3,
    "gemma3nv": _gemma3n,
    "gemma4v": _gemma4,
    "gemma4uv": _gemma4,
    "gemma4a": _gemma4a,
    "gemma4ua": _gemma4a,
    "idefics3": _idefics3,
    "pixtral": _pixtral,
    "internvl": _internvl,
    "nemotron_v2_vl": _internvl,
    "llama4": _llama4,
    "lfm2": _lfm2,
    "kimivl": _kimivl,
    "phi4": _phi4,
    "glm4v": _glm4v,
    "glm5v": _glm4v,
    "cogvlm": _cogvlm,
    "janus_pro": _janus_pro,
    "ultravox": _ultravox,
    "voxtral": _voxtral,
    "qwen2a": _qwen2a,
}

#: types whose chain starts at the resampler's query width, not the encoder width
_OWN_INPUT = frozenset({"resampler"})


def _final_layer(spec: ProjectorType | None, header: GGUFHeader) -> tuple[tuple[Op, ...], str]:
    """The final linear layer named by the width rule (a ``.bias`` rule uses its ``.weight``)."""
    rule = spec.width if spec is not None else None
    if rule is None or rule.tensor is None:
        return (), "no width tensor in the database for this type"
    name = rule.tensor
    if name.endswith(".bias"):
        base = name[: -len(".bias")]
        return (Linear(f"{base}.weight", name, bias_required=True),), f"final layer {base}"
    base = name[: -len(".weight")] if name.endswith(".weight") else name
    bias = f"{base}.bias" if name.endswith(".weight") and f"{base}.bias" in header.tensors else None
    info = header.tensors.get(name)
    transposed = rule.dim == 0 and info is not None and len(info.shape) == 2
    return (Linear(name, bias, transposed=transposed),), f"final layer {name}"


def plan_for(type_id: str, spec: ProjectorType | None, ctx: Context) -> Plan:
    """The projection chain of ``type_id``: a full definition, else the final layer only."""
    define = DEFINITIONS.get(type_id)
    if define is not None:
        width = None if type_id in _OWN_INPUT else ctx.width
        return Plan(type_id, width, define(ctx), True)
    ops, note = _final_layer(spec, ctx.header)
    return Plan(type_id, None, ops, False, note)
