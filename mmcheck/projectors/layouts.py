"""One description per projector type: llama.cpp's projection graph as an op chain, and the facts
the checks need about it (where the chain's input comes from, whether the encoder reads a fixed
position table, whether the graph uses ``projection_dim``), each with the source it mirrors.

The header-only structure rules (MM503/MM504/MM506/MM510), the smoke test and the tests all read
:data:`LAYOUTS`; nothing else lists projector types' layers. The width tensor, merge keys and
required keys stay in the compatibility database (``compat_db/projector_types.yaml``) with their
citations; ``tests/test_projector_layouts.py`` checks that each chain ends in the database's width
tensor. Sources are ``ggml-org/llama.cpp tools/mtmd/<file>@0c1e570``.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, NamedTuple

from mmcheck.projectors.ops import (
    Act,
    Branches,
    Depthwise,
    Gated,
    Linear,
    Merge,
    Norm,
    NormKind,
    Op,
    Scale,
    SqueezeExcite,
    SwiGLU,
)

if TYPE_CHECKING:
    from mmcheck.db import ProjectorType
    from mmcheck.facts.projector import ProjectorFacts, TowerFacts
    from mmcheck.header import GGUFHeader
    from mmcheck.projectors.shapes import ShapeWalk


class Plan(NamedTuple):
    """A projection chain for one tower: where its input comes from and its layers."""

    type_id: str
    input_width: int | None  # encoder width before merging; None: take the first layer's input
    ops: tuple[Op, ...]
    full: bool  # a full definition (False: the final layer only)
    note: str = ""


class LayoutInput(NamedTuple):
    """What a definition needs from the projector header."""

    type_id: str
    header: "GGUFHeader"
    width: int | None  # encoder width
    merge: int | None  # merge factor m (patch side), when the type has one
    stack: int | None  # audio frame stacking factor

    def has(self, name: str) -> bool:
        """Whether the tensor exists."""
        return name in self.header.tensors


def _lin(base: str, *, bias: bool = True, bias_required: bool = False, required: bool = True) -> Linear:
    return Linear(f"{base}.weight", f"{base}.bias" if bias else None, bias_required=bias_required, required=required)


def _ln(
    base: str, kind: NormKind = "layer", *, bias: bool = True, required: bool = True, bias_required: bool = False
) -> Norm:
    bias_name = f"{base}.bias" if bias else None
    return Norm(kind, f"{base}.weight", bias_name, required=required, bias_required=bias_required)


def _m2(c: LayoutInput, default: int = 2) -> int:
    m = c.merge if c.merge and c.merge > 0 else default
    return m * m


def _mlp(c: LayoutInput) -> tuple[Op, ...]:
    # llama.cpp loads the biases as optional but adds them unchecked (a null bias crashes)
    return (_lin("mm.0", bias_required=True), Act("gelu"), _lin("mm.2", bias_required=True))


def _mlp_norm(c: LayoutInput) -> tuple[Op, ...]:
    # every bias, the norms' too, is added with ggml_add unchecked (models/llava.cpp:176-194)
    return (
        _lin("mm.0", bias_required=True),
        _ln("mm.1", bias_required=True),
        Act("gelu"),
        _lin("mm.3", bias_required=True),
        _ln("mm.4", bias_required=True),
    )


def _ldp(c: LayoutInput) -> tuple[Op, ...]:
    # every bias is added with ggml_add unchecked (models/llava.cpp:200-300): all are required
    ops: list[Op] = [
        _lin("mm.model.mlp.1", bias_required=True),
        Act("gelu"),
        _lin("mm.model.mlp.3", bias_required=True),
    ]
    for b in (1, 2):
        p = f"mm.model.mb_block.{b}.block"
        ops += [
            Depthwise(f"{p}.0.0.weight"),
            _ln(f"{p}.0.1", "affine", bias_required=True),
            Act("hardswish"),
            SqueezeExcite(f"{p}.1.fc1", f"{p}.1.fc2"),
            Linear(f"{p}.2.0.weight"),
            _ln(f"{p}.2.1", "affine", bias_required=True),
        ]
    return tuple(ops)


def _ldpv2(c: LayoutInput) -> tuple[Op, ...]:
    # the biases are added unchecked (models/llava.cpp:310-324)
    return (
        _lin("mm.model.mlp.0", bias_required=True),
        Act("gelu"),
        _lin("mm.model.mlp.2", bias_required=True),
        Depthwise("mm.model.peg.0.weight", "mm.model.peg.0.bias"),
    )


def _resampler(c: LayoutInput) -> tuple[Op, ...]:
    # The attention pooling is not run: its output (query width) goes through ln_post and proj.
    # llama.cpp multiplies build_mm(proj, x) (input ne[0]) but reads the width from ne[0] too;
    # real MiniCPM-V projections are square, so the two agree.
    return (_ln("resampler.ln_post"), Linear("resampler.proj.weight"))


def _qwen_merger(c: LayoutInput) -> tuple[Op, ...]:
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


def _gemma3(c: LayoutInput) -> tuple[Op, ...]:
    # avg-pool keeps the width; rms_norm * soft_emb_norm; x @ input_projection (stored transposed)
    return (Norm("rms", "mm.soft_emb_norm.weight"), Linear("mm.input_projection.weight", transposed=True))


def _gemma3n(c: LayoutInput) -> tuple[Op, ...]:
    w = float(c.width or 1) ** 0.5
    return (
        Scale(w, "scale sqrt(n_embd)"),
        Norm("rms", "mm.soft_emb_norm.weight", required=False),
        Linear("mm.input_projection.weight", transposed=True),
        Norm("rms", "mm.post_proj_norm.weight", required=False),
    )


def _gemma4(c: LayoutInput) -> tuple[Op, ...]:
    w = float(c.width or 1) ** 0.5
    return (Scale(w, "scale sqrt(n_embd)"), Norm("rms", None, required=False), Linear("mm.input_projection.weight"))


def _gemma4a(c: LayoutInput) -> tuple[Op, ...]:
    return (Norm("rms", None, required=False), Linear("mm.a.input_projection.weight"))


def _idefics3(c: LayoutInput) -> tuple[Op, ...]:
    return (Merge(_m2(c), "pixel shuffle"), Linear("mm.model.fc.weight"))


def _pixtral(c: LayoutInput) -> tuple[Op, ...]:
    ops: list[Op] = []
    if c.has("mm.patch_merger.weight"):
        ops += [Norm("rms", "mm.input_norm.weight"), Merge(_m2(c), "patch merge"), Linear("mm.patch_merger.weight")]
    ops += [_lin("mm.1", required=True), Act("gelu"), _lin("mm.2")]
    return tuple(ops)


def _internvl(c: LayoutInput) -> tuple[Op, ...]:
    nemotron = not c.has("mm.model.mlp.0.bias") and not c.has("mm.model.mlp.1.bias")
    return (
        Merge(_m2(c), "pixel shuffle"),
        _ln("mm.model.mlp.0", bias=not nemotron),
        _lin("mm.model.mlp.1", bias=not nemotron),
        Act("gelu"),
        _lin("mm.model.mlp.3", bias=not nemotron),
    )


def _llama4(c: LayoutInput) -> tuple[Op, ...]:
    return (
        Merge(_m2(c), "pixel shuffle"),
        Linear("mm.model.mlp.1.weight"),
        Act("gelu"),
        Linear("mm.model.mlp.2.weight"),
        Act("gelu"),
        Linear("mm.model.fc.weight"),
    )


def _lfm2(c: LayoutInput) -> tuple[Op, ...]:
    norm: tuple[Op, ...] = (_ln("mm.input_norm", required=False),) if c.has("mm.input_norm.weight") else ()
    return (Merge(_m2(c), "pixel unshuffle"), *norm, _lin("mm.1"), Act("gelu"), _lin("mm.2"))


def _kimivl(c: LayoutInput) -> tuple[Op, ...]:
    # llama.cpp normalizes each patch (width n_embd) before the merged rows enter mm.1
    return (_ln("mm.input_norm"), Merge(_m2(c), "patch merge"), _lin("mm.1"), Act("gelu"), _lin("mm.2"))


def _phi4(c: LayoutInput) -> tuple[Op, ...]:
    return (_lin("mm.0", bias_required=True), Act("gelu"), _lin("mm.2", bias_required=True))


def _glm4v(c: LayoutInput) -> tuple[Op, ...]:
    return (
        Merge(_m2(c), "patch merge"),
        Linear("mm.patch_merger.weight", "mm.patch_merger.bias", bias_required=True),
        Linear("mm.model.fc.weight"),
        _ln("mm.post_norm", required=True),
        Act("gelu"),
        Gated("mm.gate.weight", "mm.up.weight", "silu", "mm.gate.bias", "mm.up.bias"),
        _lin("mm.down"),
    )


def _cogvlm(c: LayoutInput) -> tuple[Op, ...]:
    return (
        Linear("mm.model.fc.weight"),
        _ln("mm.post_fc_norm"),
        Act("gelu"),
        Gated("mm.gate.weight", "mm.up.weight", "silu"),
        Linear("mm.down.weight"),
    )


def _janus_pro(c: LayoutInput) -> tuple[Op, ...]:
    return (_lin("mm.0", bias_required=True), Act("gelu"), _lin("mm.1", bias_required=True))


def _ultravox(c: LayoutInput) -> tuple[Op, ...]:
    return (
        Merge(c.stack or 1, "stack frames"),
        Norm("rms", "mm.a.norm_pre.weight"),
        Linear("mm.a.mlp.1.weight"),
        SwiGLU(swapped=True),
        Norm("rms", "mm.a.norm_mid.weight"),
        Linear("mm.a.mlp.2.weight"),
    )


def _voxtral(c: LayoutInput) -> tuple[Op, ...]:
    return (
        Merge(c.stack or 1, "stack frames"),
        Linear("mm.a.mlp.1.weight"),
        Act("gelu_erf"),
        Linear("mm.a.mlp.2.weight"),
    )


def _qwen2a(c: LayoutInput) -> tuple[Op, ...]:
    return (Linear("mm.a.fc.weight", "mm.a.fc.bias", bias_required=True),)


ChainInput = Literal["encoder", "own"]


class Layout(NamedTuple):
    """What mmcheck knows of one projector type's projection graph.

    ``input``: ``"encoder"`` when the chain starts from the encoder's output width (before the
    chain's own merges), ``"own"`` when from a width of its own (the resampler's queries).
    ``fixed_positions``: the encoder indexes a learned position table by patch, without
    interpolation, so too few rows abort at the first image (``GGML_ASSERT(i01 >= 0 && i01 <
    ne01)``, ggml/src/ggml-cpu/ops.cpp:5240). ``projection_dim_in_graph``: the graph reshapes by
    ``projection_dim``, so a wrong value aborts the warm-up instead of being ignored.
    """

    chain: Callable[[LayoutInput], tuple[Op, ...]]
    source: str
    input: ChainInput = "encoder"
    fixed_positions: bool = False
    projection_dim_in_graph: bool = False


def _src(file: str) -> str:
    return f"ggml-org/llama.cpp tools/mtmd/{file}@0c1e570"


LAYOUTS: dict[str, Layout] = {
    "mlp": Layout(_mlp, _src("models/llava.cpp"), fixed_positions=True),
    "mlp_norm": Layout(_mlp_norm, _src("models/llava.cpp"), fixed_positions=True),
    "ldp": Layout(_ldp, _src("models/llava.cpp"), fixed_positions=True),
    "ldpv2": Layout(_ldpv2, _src("models/llava.cpp"), fixed_positions=True),
    "resampler": Layout(_resampler, _src("models/minicpmv.cpp"), input="own"),
    "qwen2vl_merger": Layout(_qwen_merger, _src("models/qwen2vl.cpp")),
    # window attention reshapes by projection_dim (observed with llama.cpp 0c1e570, oracle suite)
    "qwen2.5vl_merger": Layout(_qwen_merger, _src("models/qwen2vl.cpp"), projection_dim_in_graph=True),
    "qwen3vl_merger": Layout(_qwen_merger, _src("models/qwen3vl.cpp")),
    "gemma3": Layout(_gemma3, _src("models/siglip.cpp"), fixed_positions=True),
    "gemma3nv": Layout(_gemma3n, _src("models/mobilenetv5.cpp")),
    "gemma4v": Layout(_gemma4, _src("models/gemma4v.cpp")),
    "gemma4uv": Layout(_gemma4, _src("models/gemma4uv.cpp")),
    "gemma4a": Layout(_gemma4a, _src("models/gemma4a.cpp")),
    "gemma4ua": Layout(_gemma4a, _src("models/gemma4ua.cpp")),
    "idefics3": Layout(_idefics3, _src("models/siglip.cpp"), fixed_positions=True),
    "pixtral": Layout(_pixtral, _src("models/pixtral.cpp")),
    "internvl": Layout(_internvl, _src("models/internvl.cpp")),
    "nemotron_v2_vl": Layout(_internvl, _src("models/nemotron-v2-vl.cpp")),
    "llama4": Layout(_llama4, _src("models/llama4.cpp")),
    "lfm2": Layout(_lfm2, _src("models/siglip.cpp")),
    "kimivl": Layout(_kimivl, _src("models/kimivl.cpp")),
    "phi4": Layout(_phi4, _src("models/siglip.cpp")),
    "glm4v": Layout(_glm4v, _src("models/glm4v.cpp")),
    "glm5v": Layout(_glm4v, _src("models/glm4v.cpp")),
    "cogvlm": Layout(_cogvlm, _src("models/cogvlm.cpp")),
    "janus_pro": Layout(_janus_pro, _src("models/siglip.cpp")),
    "ultravox": Layout(_ultravox, _src("models/whisper-enc.cpp")),
    "voxtral": Layout(_voxtral, _src("models/whisper-enc.cpp")),
    "qwen2a": Layout(_qwen2a, _src("models/whisper-enc.cpp")),
}


def _final_layer(spec: "ProjectorType | None", header: "GGUFHeader") -> tuple[tuple[Op, ...], str]:
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


def plan_for(type_id: str, spec: "ProjectorType | None", given: LayoutInput) -> Plan:
    """The projection chain of ``type_id``: its layout's, else the final layer the database names."""
    layout = LAYOUTS.get(type_id)
    if layout is not None:
        width = None if layout.input == "own" else given.width
        return Plan(type_id, width, layout.chain(given), True)
    ops, note = _final_layer(spec, given.header)
    return Plan(type_id, None, ops, False, note)


def layout_input(tower: "TowerFacts", projector: "ProjectorFacts", header: "GGUFHeader") -> LayoutInput:
    """What ``tower``'s chain starts from: its encoder's width, merge factor and frame stacking."""
    if tower.modality == "vision":
        width = projector.encoder.width if projector.encoder else None
        stack = None
    else:
        audio = projector.audio_encoder
        width = audio.width if audio else None
        stack = audio.stack_factor if audio else None
    return LayoutInput(tower.type_id or "", header, width, tower.merge, stack)


_WALKS: "dict[tuple[int, int], tuple[TowerFacts, GGUFHeader, ShapeWalk]]" = {}


def walk_tower(tower: "TowerFacts", projector: "ProjectorFacts", header: "GGUFHeader") -> "ShapeWalk | None":
    """The header-only shape walk of ``tower``'s projection chain (None: no layout for its type).

    Several rules ask for the same walk, and a scan asks once per pair: it is computed once per
    tower and header (both immutable), and the cached entry keeps them alive so ids stay unique.
    """
    if tower.type_id not in LAYOUTS:
        return None
    hit = _WALKS.get((id(tower), id(header)))
    if hit is not None and hit[0] is tower and hit[1] is header:
        return hit[2]
    if len(_WALKS) >= 4096:
        _WALKS.clear()
    walked = _walk_tower(tower, projector, header)
    _WALKS[(id(tower), id(header))] = (tower, header, walked)
    return walked


def _walk_tower(tower: "TowerFacts", projector: "ProjectorFacts", header: "GGUFHeader") -> "ShapeWalk":
    from mmcheck.projectors.shapes import walk

    assert tower.type_id is not None
    plan = plan_for(tower.type_id, tower.spec, layout_input(tower, projector, header))

    def shape_of(name: str) -> tuple[int, ...] | None:
        info = header.tensors.get(name)
        return None if info is None else tuple(info.shape)

    return walk(plan.ops, shape_of, plan.input_width)
