"""Write small but realistic GGUF files with ``gguf.GGUFWriter``: text models and projectors.

Every test and ``make demo`` builds its inputs here; no binary GGUF is committed. The files use
the real key names (``{arch}.embedding_length``, ``clip.vision.*``, ``tokenizer.ggml.*``) and the
real tensor names of each family (``token_embd.weight``, ``blk.N.*``, ``v.*`` encoder, ``mm.*``
projector), in ggml ``ne`` order: a PyTorch ``Linear(in, out)`` weight has ``ne = (in, out)``.

Two modes:
- with data (default): seeded random weights, tiny dimensions, a file a numpy forward pass can run;
- ``header_only=True``: the header of a full-size model (e.g. 4096 wide, 32,000 tokens) and no tensor
  data at all, as header-only copies of real files are.

This module imports numpy and gguf; the rest of mmcheck does not depend on it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from gguf import GGMLQuantizationType, GGUFEndian, GGUFValueType, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import quantize

# ------------------------------------------------------------------------------------------------
# Tensor plans: a list of (name, ne-shape, kind) where kind is "w" (matrix), "b" (bias/norm, F32),
# "e" (embedding rows, F32 or the weight type) or "f" (a matrix or kernel the converter keeps in F32).
# ------------------------------------------------------------------------------------------------

TensorPlan = list[tuple[str, tuple[int, ...], str]]


def linear(name: str, n_in: int, n_out: int, *, bias: bool = True) -> TensorPlan:
    """A PyTorch ``nn.Linear(n_in, n_out)`` as GGUF stores it: weight ne = (n_in, n_out)."""
    plan: TensorPlan = [(f"{name}.weight", (n_in, n_out), "w")]
    if bias:
        plan.append((f"{name}.bias", (n_out,), "b"))
    return plan


def norm(name: str, n: int, *, bias: bool = True) -> TensorPlan:
    """A LayerNorm/RMSNorm of width ``n``."""
    plan: TensorPlan = [(f"{name}.weight", (n,), "b")]
    if bias:
        plan.append((f"{name}.bias", (n,), "b"))
    return plan


# ------------------------------------------------------------------------------------------------
# Text models
# ------------------------------------------------------------------------------------------------

BYTE_TOKENS = [f"<0x{i:02X}>" for i in range(256)]


@dataclass
class TextModelSpec:
    """What to write for a text model. Defaults give a tiny loadable-shaped ``llama`` model."""

    arch: str = "llama"
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_head_kv: int | Sequence[int] | None = None
    n_ff: int | Sequence[int] | None = None
    context_length: int = 2048
    tokens: Sequence[str] | None = None  # full token list; generated when None
    vocab_size: int | None = None  # size of the generated vocab (ignored when tokens is given)
    special_tokens: Sequence[str] = ()  # extra CONTROL tokens (e.g. marker tokens)
    tokenizer_model: str = "llama"
    tokenizer_pre: str | None = None
    name: str | None = None
    basename: str | None = None
    size_label: str | None = None
    finetune: str | None = None
    organization: str | None = None
    base_models: Sequence[dict[str, str]] = ()
    rope_freq_base: float | None = 10000.0
    rope_sections: Sequence[int] | None = None  # {arch}.rope.dimension_sections (M-RoPE)
    deepstack_layers: int | None = None  # {arch}.n_deepstack_layers (qwen3vl)
    embd_rows: int | None = None  # token_embd rows when they should differ from the vocab
    chat_template: str | None = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    weight_type: str = "F16"  # ggml type name for matrices
    embd_type: str | None = None  # token_embd type (defaults to weight_type)
    header_only: bool = False
    extra_keys: dict[str, Any] = field(default_factory=dict)
    drop_keys: Sequence[str] = ()
    seed: int = 0
    embedding_table: np.ndarray | None = None  # explicit token_embd rows (vocab x n_embd)
    endianness: str = "little"


def default_tokens(vocab_size: int, special: Sequence[str] = ()) -> list[str]:
    """A plausible SPM-style vocabulary of exactly ``vocab_size`` tokens."""
    head = ["<unk>", "<s>", "</s>", *special, *BYTE_TOKENS]
    if vocab_size < len(head):
        head = head[:vocab_size]
    return head + [f"\u2581tok{i}" for i in range(vocab_size - len(head))]


def write_text_model(path: str | Path, spec: TextModelSpec | None = None, **overrides: Any) -> Path:
    """Write a text-model GGUF described by ``spec`` (fields may be overridden by keyword)."""
    s = dataclasses.replace(spec or TextModelSpec(), **overrides)
    arch = s.arch
    tokens = list(s.tokens) if s.tokens is not None else default_tokens(s.vocab_size or 512, s.special_tokens)
    if s.tokens is not None and s.special_tokens:
        tokens.extend(t for t in s.special_tokens if t not in tokens)
    n_vocab = len(tokens)
    specials = set(s.special_tokens) | {"<unk>", "<s>", "</s>"}
    token_types = [3 if t in specials else (6 if t in BYTE_TOKENS else 1) for t in tokens]
    if "<unk>" in tokens:
        token_types[tokens.index("<unk>")] = 2

    kv: dict[str, tuple[Any, GGUFValueType]] = {}

    def put(key: str, value: Any, vtype: GGUFValueType) -> None:
        kv[key] = (value, vtype)

    put("general.type", "model", GGUFValueType.STRING)
    for key, value in (
        ("general.name", s.name),
        ("general.basename", s.basename),
        ("general.size_label", s.size_label),
        ("general.finetune", s.finetune),
        ("general.organization", s.organization),
    ):
        if value:
            put(key, value, GGUFValueType.STRING)
    if s.base_models:
        put("general.base_model.count", len(s.base_models), GGUFValueType.UINT32)
        for i, bm in enumerate(s.base_models):
            for k, v in bm.items():
                put(f"general.base_model.{i}.{k}", v, GGUFValueType.STRING)
    put(f"{arch}.context_length", s.context_length, GGUFValueType.UINT32)
    put(f"{arch}.embedding_length", s.n_embd, GGUFValueType.UINT32)
    put(f"{arch}.block_count", s.n_layer, GGUFValueType.UINT32)
    _put_scalar_or_array(put, f"{arch}.feed_forward_length", s.n_ff if s.n_ff is not None else s.n_embd * 4)
    put(f"{arch}.attention.head_count", s.n_head, GGUFValueType.UINT32)
    _put_scalar_or_array(put, f"{arch}.attention.head_count_kv", s.n_head_kv if s.n_head_kv is not None else s.n_head)
    put(f"{arch}.attention.layer_norm_rms_epsilon", 1e-6, GGUFValueType.FLOAT32)
    if s.rope_freq_base is not None:
        put(f"{arch}.rope.freq_base", s.rope_freq_base, GGUFValueType.FLOAT32)
    if s.rope_sections is not None:
        put(f"{arch}.rope.dimension_sections", list(s.rope_sections), GGUFValueType.ARRAY)
    if s.deepstack_layers is not None:
        put(f"{arch}.n_deepstack_layers", s.deepstack_layers, GGUFValueType.UINT32)
    put(f"{arch}.vocab_size", n_vocab, GGUFValueType.UINT32)
    put("general.file_type", _FILE_TYPES.get(s.weight_type, 1), GGUFValueType.UINT32)
    put("tokenizer.ggml.model", s.tokenizer_model, GGUFValueType.STRING)
    if s.tokenizer_pre:
        put("tokenizer.ggml.pre", s.tokenizer_pre, GGUFValueType.STRING)
    put("tokenizer.ggml.tokens", tokens, GGUFValueType.ARRAY)
    put("tokenizer.ggml.scores", [0.0 - i * 1e-3 for i in range(n_vocab)], GGUFValueType.ARRAY)
    put("tokenizer.ggml.token_type", token_types, GGUFValueType.ARRAY)
    if "<s>" in tokens:
        put("tokenizer.ggml.bos_token_id", tokens.index("<s>"), GGUFValueType.UINT32)
    if "</s>" in tokens:
        put("tokenizer.ggml.eos_token_id", tokens.index("</s>"), GGUFValueType.UINT32)
    if s.chat_template:
        put("tokenizer.chat_template", s.chat_template, GGUFValueType.STRING)
    for key, value in s.extra_keys.items():
        put(key, *_typed(value))
    for key in s.drop_keys:
        kv.pop(key, None)

    rows = s.embd_rows if s.embd_rows is not None else n_vocab
    n_ff = s.n_ff if isinstance(s.n_ff, int) else (max(s.n_ff) if s.n_ff else s.n_embd * 4)
    n_kv_heads = s.n_head_kv if isinstance(s.n_head_kv, int) else s.n_head
    head_dim = s.n_embd // s.n_head
    plan: TensorPlan = [("token_embd.weight", (s.n_embd, rows), "e")]
    for i in range(s.n_layer):
        p = f"blk.{i}"
        plan += norm(f"{p}.attn_norm", s.n_embd, bias=False)
        plan += linear(f"{p}.attn_q", s.n_embd, s.n_embd, bias=False)
        plan += linear(f"{p}.attn_k", s.n_embd, head_dim * n_kv_heads, bias=False)
        plan += linear(f"{p}.attn_v", s.n_embd, head_dim * n_kv_heads, bias=False)
        plan += linear(f"{p}.attn_output", s.n_embd, s.n_embd, bias=False)
        plan += norm(f"{p}.ffn_norm", s.n_embd, bias=False)
        plan += linear(f"{p}.ffn_gate", s.n_embd, n_ff, bias=False)
        plan += linear(f"{p}.ffn_up", s.n_embd, n_ff, bias=False)
        plan += linear(f"{p}.ffn_down", n_ff, s.n_embd, bias=False)
    plan += norm("output_norm", s.n_embd, bias=False)
    plan += linear("output", s.n_embd, rows, bias=False)

    explicit = {}
    if s.embedding_table is not None:
        explicit["token_embd.weight"] = np.asarray(s.embedding_table, dtype=np.float32)
    return _write(
        Path(path),
        arch,
        kv,
        plan,
        weight_type=s.weight_type,
        embd_type=s.embd_type or s.weight_type,
        header_only=s.header_only,
        seed=s.seed,
        explicit=explicit,
        endianness=s.endianness,
    )


# ------------------------------------------------------------------------------------------------
# Projectors
# ------------------------------------------------------------------------------------------------

AUDIO_TYPES = frozenset(
    {
        "gemma3na", "gemma4a", "gemma4ua", "ultravox", "voxtral", "meralion", "glma", "qwen2a", "qwen3a",
        "musicflamingo", "lfm2a", "parakeet", "granite_speech", "mimo_audio", "dots3note_a",
        "qwen3tts_spkenc", "pockettts_spkenc",
    }
)  # fmt: skip
GEN_AUDIO_TYPES = frozenset({"qwen3tts_gen", "pockettts_gen"})

# Values written to a type's keys that its encoder tensors' shapes must agree with (see _type_keys).
_WINDOW = 4  # clip.vision.window_size
_SAM_LAYERS, _SAM_HEADS, _SAM_WIDTH = 2, 2, 16  # clip.vision.sam.{block_count,head_count,embedding_length}
_G4V_FEATURE_LAYERS = (1, 2)  # clip.vision.feature_layer: one projector block each
_G4V_QUERY_SIDE, _G4V_WINDOW_SIDE = 2, 4  # clip.vision.projector.{query_side,window_side}
_CONV_KERNEL = 9  # clip.audio.conv_kernel_size (parakeet, granite_speech)
_GS_MAX_POS = 16  # clip.audio.max_pos_emb (and chunk_size), granite_speech
_GS_WINDOW, _GS_DOWNSAMPLE = 2, 2  # clip.audio.projector.{window_size,downsample_rate}
_MIMO_RVQ_BINS = (16, 16)  # clip.audio.rvq.codebook_size, one entry per quantizer


@dataclass
class ProjectorSpec:
    """What to write for a projector (``general.architecture = clip``)."""

    projector_type: str | None = "mlp"  # None: legacy file without clip.projector_type
    n_embd_out: int = 64  # the width the text model must have
    image_size: int = 32
    patch_size: int = 8
    width: int = 32  # encoder embedding_length
    n_layer: int = 2
    n_head: int = 4
    n_ff: int | None = None
    hidden: int | None = None  # projector hidden width (defaults to n_embd_out)
    merge: int | None = None  # written to the type's merge key when given
    deepstack_layers: int = 0  # qwen3vl_merger: v.deepstack.N.* tensors
    projection_dim: int | None = None  # declared clip.*.projection_dim (defaults to n_embd_out)
    audio_width: int = 32
    n_mel_bins: int = 16
    stack_factor: int = 2
    name: str | None = "tiny projector"
    description: str | None = None
    legacy_flags: dict[str, bool] = field(default_factory=dict)  # clip.has_llava_projector, ...
    type_key: str = "clip.projector_type"  # or clip.vision.projector_type / clip.audio.projector_type
    weight_type: str = "F16"
    header_only: bool = False
    extra_keys: dict[str, Any] = field(default_factory=dict)
    drop_keys: Sequence[str] = ()
    drop_tensors: Sequence[str] = ()
    override_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    explicit_tensors: dict[str, np.ndarray] = field(default_factory=dict)  # name -> values (ne reversed)
    seed: int = 0
    endianness: str = "little"
    # Use llama.cpp's loader layout for the types whose default layout here differs from it


def _vision_keys(s: ProjectorSpec) -> dict[str, Any]:
    return {
        "clip.has_vision_encoder": True,
        "clip.vision.image_size": _u32(s.image_size),
        "clip.vision.patch_size": _u32(s.patch_size),
        "clip.vision.embedding_length": _u32(s.width),
        "clip.vision.feed_forward_length": _u32(s.n_ff or s.width * 4),
        "clip.vision.block_count": _u32(s.n_layer),
        "clip.vision.attention.head_count": _u32(s.n_head),
        "clip.vision.attention.layer_norm_epsilon": 1e-6,
        "clip.vision.projection_dim": _u32(s.projection_dim if s.projection_dim is not None else s.n_embd_out),
        "clip.vision.image_mean": [0.5, 0.5, 0.5],
        "clip.vision.image_std": [0.5, 0.5, 0.5],
        "clip.use_gelu": True,
    }


def _audio_keys(s: ProjectorSpec, prefix: str = "clip.audio", flag: str = "clip.has_audio_encoder") -> dict[str, Any]:
    keys = {
        flag: True,
        f"{prefix}.embedding_length": _u32(s.audio_width),
        f"{prefix}.feed_forward_length": _u32(s.audio_width * 4),
        f"{prefix}.block_count": _u32(s.n_layer),
        f"{prefix}.attention.head_count": _u32(s.n_head),
        f"{prefix}.attention.layer_norm_epsilon": 1e-5,
        f"{prefix}.projection_dim": _u32(s.projection_dim if s.projection_dim is not None else s.n_embd_out),
    }
    if prefix == "clip.audio":
        keys[f"{prefix}.num_mel_bins"] = _u32(s.n_mel_bins)
    return keys


def _type_keys(t: str, s: ProjectorSpec) -> dict[str, Any]:
    """Keys particular types require (load_hparams, tools/mtmd/clip.cpp:1251-2128 @0c1e570), with plausible values."""
    m = s.merge
    keys: dict[str, Any] = {}
    if t in ("qwen2.5vl_merger", "qwen2.5o"):
        keys["clip.vision.n_wa_pattern"] = _u32(8)
    if t in ("phi4", "dots_ocr", "dots3note_v", "paddleocr", "glm5v", "mimovl", "exaone4_5"):
        keys["clip.vision.image_min_pixels"] = _u32(s.patch_size * s.patch_size * 4)
        keys["clip.vision.image_max_pixels"] = _u32(s.image_size * s.image_size)
    if t == "deepseek4v":
        keys["clip.vision.image_min_pixels"] = _u32(s.patch_size * s.patch_size * 4)
    if t in ("mimovl", "exaone4_5", "deepseekocr2"):
        keys["clip.vision.attention.head_count_kv"] = _u32(s.n_head)
    if t in ("youtuvl", "deepseekocr", "deepseekocr2", "mimovl"):
        keys["clip.vision.window_size"] = _u32(_WINDOW)
    if t == "youtuvl":
        keys["clip.vision.wa_layer_indexes"] = _i32_list([s.n_layer - 1])
    if t == "mimovl":
        keys["clip.vision.wa_pattern_mode"] = _i32_list([0] * s.n_layer)
    if t in ("deepseekocr", "deepseekocr2"):
        keys["clip.vision.sam.block_count"] = _u32(_SAM_LAYERS)
        keys["clip.vision.sam.head_count"] = _u32(_SAM_HEADS)
        keys["clip.vision.sam.embedding_length"] = _u32(_SAM_WIDTH)
    if t == "glm5v":
        keys["clip.vision.swiglu_clamp"] = 7.0
    if t == "dots3note_v":
        keys["clip.vision.expert_used_count"] = _u32(2)
    if t == "granite4_vision":
        keys["clip.vision.feature_layer"] = _i32_list(list(_G4V_FEATURE_LAYERS))
        keys["clip.vision.projector.spatial_offsets"] = _i32_list([0] * len(_G4V_FEATURE_LAYERS))
        keys["clip.vision.projector.query_side"] = _u32(_G4V_QUERY_SIDE)
        keys["clip.vision.projector.window_side"] = _u32(_G4V_WINDOW_SIDE)
    if t in ("ultravox", "voxtral", "meralion", "glma"):
        keys["clip.audio.projector.stack_factor"] = _u32(s.stack_factor)
    if t == "parakeet":
        keys["clip.audio.subsampling_factor"] = _u32(8)
        keys["clip.audio.conv_kernel_size"] = _u32(_CONV_KERNEL)
    if t == "granite_speech":
        keys["clip.audio.conv_kernel_size"] = _u32(_CONV_KERNEL)
        for k in ("chunk_size", "max_pos_emb"):
            keys[f"clip.audio.{k}"] = _u32(_GS_MAX_POS)
        for k, v in (("window_size", _GS_WINDOW), ("downsample_rate", _GS_DOWNSAMPLE), ("head_count", 2)):
            keys[f"clip.audio.projector.{k}"] = _u32(v)
    if t == "mimo_audio":  # load_hparams, clip.cpp:1818-1856 at llama.cpp 0c1e570
        keys["clip.audio.rvq.num_quantizers"] = _u32(len(_MIMO_RVQ_BINS))
        keys["clip.audio.rvq.codebook_size"] = _i32_list(list(_MIMO_RVQ_BINS))
        keys["clip.audio.window_size"] = _u32(4)
        keys["clip.audio.wa_pattern_mode"] = _i32_list([-1] * s.n_layer)
        keys["clip.audio.local_block_count"] = _u32(1)
        keys["clip.audio.local_group_size"] = _u32(4)
    if t == "resampler":
        keys["clip.minicpmv_version"] = _i32(3)
        keys["clip.minicpmv_query_num"] = _u32(64)
    if m is not None:
        key = "clip.vision.spatial_merge_size" if t in _SPATIAL_MERGE_TYPES else "clip.vision.projector.scale_factor"
        keys[key] = _u32(m)
    elif t in ("dots_ocr", "deepseek4v", "idefics3", "internvl", "llama4", "nemotron_v2_vl", "lfm2", "kimivl"):
        keys["clip.vision.projector.scale_factor"] = _u32(2)
    elif t == "dots3note_v":
        keys["clip.vision.spatial_merge_size"] = _u32(2)
    return keys


_SPATIAL_MERGE_TYPES = frozenset(
    {"qwen2vl_merger", "qwen2.5vl_merger", "qwen3vl_merger", "pixtral", "glm4v", "glm5v", "kimivl", "kimik25",
     "lightonocr", "dots3note_v", "mimovl", "youtuvl", "exaone4_5", "ling3vl", "paddleocr", "minimax_m3",
     "muse-glimmer", "hunyuanvl"}
)  # fmt: skip


def _llamacpp_layout(t: str, s: ProjectorSpec) -> TensorPlan | None:
    """Types whose tensors need more than one line: as llama.cpp's loader and graph expect them."""
    e, o, a = s.width, s.n_embd_out, s.audio_width
    h = s.hidden or o
    m = s.merge or 2
    if t == "ldp":
        plan = linear("mm.model.mlp.1", e, o) + linear("mm.model.mlp.3", o, o)
        for b in (1, 2):
            pre = f"mm.model.mb_block.{b}.block"
            plan += [(f"{pre}.0.0.weight", (3, 3, 1, o), "w"), *norm(f"{pre}.0.1", o)]
            plan += linear(f"{pre}.1.fc1", o, o // 4 or 1) + linear(f"{pre}.1.fc2", o // 4 or 1, o)
            plan += [(f"{pre}.2.0.weight", (1, 1, o, o), "w"), *norm(f"{pre}.2.1", o)]
        return plan
    if t == "llama4":
        plan = linear("mm.model.mlp.1", e * m * m, h, bias=False) + linear("mm.model.mlp.2", h, h, bias=False)
        return plan + linear("mm.model.fc", h, o, bias=False)
    if t == "kimivl":
        return norm("mm.input_norm", e) + linear("mm.1", e * m * m, h) + linear("mm.2", h, o)
    if t == "glm4v":
        plan = [("mm.patch_merger.weight", (m, m, e, e), "w"), ("mm.patch_merger.bias", (e,), "b")]
        plan += linear("mm.model.fc", e, o, bias=False) + norm("mm.post_norm", o)
        plan += linear("mm.gate", o, h * 2, bias=False) + linear("mm.up", o, h * 2, bias=False)
        return plan + linear("mm.down", h * 2, o, bias=False)
    if t == "cogvlm":
        plan = linear("mm.model.fc", e, o, bias=False) + norm("mm.post_fc_norm", o)
        plan += linear("mm.gate", o, h * 2, bias=False) + linear("mm.up", o, h * 2, bias=False)
        plan += linear("mm.down", h * 2, o, bias=False)
        return [*plan, ("v.boi", (o, 1), "e"), ("v.eoi", (o, 1), "e")]
    if t == "ultravox":
        k = s.stack_factor
        plan = norm("mm.a.norm_pre", a * k, bias=False) + linear("mm.a.mlp.1", a * k, h * 2, bias=False)
        return plan + norm("mm.a.norm_mid", h, bias=False) + linear("mm.a.mlp.2", h, o, bias=False)
    return None


def projector_tensors(t: str, s: ProjectorSpec) -> TensorPlan:
    """The ``mm.*`` (and type-specific ``v.*``/``a.*``) tensors of projector type ``t``.

    Names and orientation follow llama.cpp's loader for each type (``tools/mtmd/clip.cpp``); the
    output width lands where ``clip_n_mmproj_embd`` reads it (tools/mtmd/clip.cpp:5966-6072 @0c1e570).
    """
    e, o = s.width, s.n_embd_out
    h = s.hidden or o
    a = s.audio_width
    m = s.merge or 2
    mm = e * m * m  # merged patch width
    plan: TensorPlan
    exact = _llamacpp_layout(t, s)
    if exact is not None:
        return exact
    if t == "mlp":
        plan = linear("mm.0", e, h) + linear("mm.2", h, o)
    elif t == "mlp_norm":
        plan = linear("mm.0", e, h) + norm("mm.1", h) + linear("mm.3", h, o) + norm("mm.4", o)
    elif t == "ldpv2":
        plan = linear("mm.model.mlp.0", e, o) + linear("mm.model.mlp.2", o, o)
        plan += [("mm.model.peg.0.weight", (3, 3, 1, o), "w"), ("mm.model.peg.0.bias", (o,), "b")]
    elif t == "resampler":
        plan = [("resampler.query", (o, 64), "e"), ("resampler.pos_embed_k", (o, 4900), "e")]
        plan += linear("resampler.kv", e, o, bias=False)
        plan += linear("resampler.attn.q", o, o) + linear("resampler.attn.k", o, o)
        plan += linear("resampler.attn.v", o, o) + linear("resampler.attn.out", o, o)
        plan += norm("resampler.ln_q", o) + norm("resampler.ln_kv", o) + norm("resampler.ln_post", o)
        plan += [("resampler.proj.weight", (o, o), "w")]
    elif t == "minicpmv4_6":
        plan = norm("mm.pre_norm", e) + linear("mm.up", e * 4, h) + linear("mm.down", h, o)
    elif t == "adapter":
        plan = [("adapter.conv.weight", (2, 2, e, e), "w"), ("adapter.conv.bias", (e,), "b")]
        plan += linear("adapter.linear.linear", e, o, bias=False) + norm("adapter.linear.norm1", o)
        plan += linear("adapter.linear.dense_h_to_4h", o, h * 4, bias=False)
        plan += linear("adapter.linear.gate", o, h * 4, bias=False)
        plan += linear("adapter.linear.dense_4h_to_h", h * 4, o, bias=False)
        plan += [("adapter.boi", (o, 1), "e"), ("adapter.eoi", (o, 1), "e")]
    elif t in ("qwen2vl_merger", "qwen2.5vl_merger", "qwen3vl_merger", "ling3vl", "youtuvl", "exaone4_5"):
        plan = norm("v.post_ln", e) + linear("mm.0", e * 4, e * 4) + linear("mm.2", e * 4, o)
        for i in range(s.deepstack_layers if t == "qwen3vl_merger" else 0):
            plan += norm(f"v.deepstack.{i}.norm", e * 4)
            plan += linear(f"v.deepstack.{i}.fc1", e * 4, e * 4) + linear(f"v.deepstack.{i}.fc2", e * 4, o)
    elif t in ("mimovl", "muse-glimmer"):
        plan = linear("mm.0", e * 4, e * 4) + linear("mm.2", e * 4, o)
    elif t == "glm5v":
        # clip.cpp loads the merger bias as required for glm5v as for glm4v
        # (ggml-org/llama.cpp tools/mtmd/clip.cpp@0c1e570:2625-2626)
        plan = [("mm.patch_merger.weight", (2, 2, e, e), "w"), ("mm.patch_merger.bias", (e,), "b")]
        plan += linear("mm.model.fc", e, o, bias=False) + norm("mm.post_norm", o)
        plan += linear("mm.gate", o, h * 2, bias=False) + linear("mm.up", o, h * 2, bias=False)
        plan += linear("mm.down", h * 2, o, bias=False)
    elif t == "minimax_m3":
        plan = linear("mm.merger.fc1", e * 4, e * 4) + linear("mm.merger.fc2", e * 4, o)
    elif t == "step3vl":
        plan = linear("mm.model.fc", e * 16, o, bias=False)
    elif t in ("gemma3", "gemma3nv"):
        # stored transposed: the graph multiplies by transpose(W), so ne[0] is the output width
        plan = norm("mm.soft_emb_norm", e, bias=False) + [("mm.input_projection.weight", (o, e), "w")]
    elif t == "gemma3na":
        plan = norm("mm.a.soft_emb_norm", a, bias=False)
    elif t in ("gemma4v", "gemma4uv"):
        plan = [("mm.input_projection.weight", (e, o), "w")]
    elif t in ("gemma4a", "gemma4ua"):
        plan = [("mm.a.input_projection.weight", (a, o), "w")]
    elif t == "phi4":
        plan = linear("mm.0", e, h) + linear("mm.2", h, o)
    elif t == "idefics3":
        plan = linear("mm.model.fc", mm, o, bias=False)
    elif t in ("pixtral", "lightonocr"):
        plan = norm("mm.input_norm", e, bias=False) + linear("mm.1", e, h) + linear("mm.2", h, o)
        if t == "pixtral":
            plan += [("v.token_embd.img_break", (o,), "e")]
    elif t in ("internvl", "nemotron_v2_vl"):
        plan = norm("mm.model.mlp.0", mm) + linear("mm.model.mlp.1", mm, h) + linear("mm.model.mlp.3", h, o)
    elif t in ("lfm2", "kimik25"):
        plan = norm("mm.input_norm", mm) + linear("mm.1", mm, h) + linear("mm.2", h, o)
    elif t in ("paddleocr", "dots_ocr", "dots3note_v", "yasa2", "deepseek4v"):
        plan = norm("mm.input_norm", mm) + linear("mm.0", mm, h) + linear("mm.2", h, o)
        if t == "deepseek4v":
            plan += [(f"v.token_embd.{k}", (o,), "e") for k in ("img_start", "img_end", "img_pad")]
            plan += [("v.image_newline", (o,), "e")]
    elif t == "dots3note_a":
        plan = linear("mm.a.mlp.1", a, h) + linear("mm.a.mlp.3", h, o)
    elif t == "janus_pro":
        plan = linear("mm.0", e, o) + linear("mm.1", o, o)
    elif t in ("deepseekocr", "deepseekocr2"):
        plan = linear("mm.model.fc", e * 2, o)
        plan += [("v.image_newline", (o,), "e"), ("v.view_seperator", (o,), "e")]
    elif t == "hunyuanvl":
        plan = linear("mm.model.fc", mm, o) + [("mm.image_begin", (o,), "e"), ("mm.image_end", (o,), "e")]
        plan += [("v.image_newline", (o,), "e")]
    elif t == "granite4_vision":
        plan = linear("mm.model.fc", e, o // 2 or 1)
    elif t in ("voxtral", "glma", "qwen3a", "musicflamingo", "parakeet", "mimo_audio"):
        k = s.stack_factor if t in ("voxtral", "glma") else 1
        plan = linear("mm.a.mlp.1", a * k, h) + linear("mm.a.mlp.2", h, o)
        if t == "glma":
            plan += [("v.boi", (o, 1), "e"), ("v.eoi", (o, 1), "e")]
    elif t == "meralion":
        plan = linear("mm.a.mlp.1", a * s.stack_factor, h) + linear("mm.a.mlp.3", h, o)
    elif t == "qwen2a":
        plan = linear("mm.a.fc", a, o)
    elif t == "qwen2.5o":
        plan = linear("mm.0", e * 4, e * 4) + linear("mm.2", e * 4, o) + linear("mm.a.fc", a, o)
    elif t == "lfm2a":
        plan = [("a.position_embd.weight", (o, 64), "e")] + linear("mm.a.mlp.1", a, o)
    elif t == "granite_speech":
        plan = [("a.proj_linear.weight", (a, o), "w"), ("a.proj_linear.bias", (o,), "b")]
    elif t == "qwen3tts_spkenc":
        plan = [("mm.a.fc.weight", (1, a, o), "w"), ("mm.a.fc.bias", (o,), "b")]
    elif t == "qwen3tts_gen":
        plan = [("a.gen.code.out_embd.weight", (o, 64), "e")]
    elif t == "pockettts_spkenc":
        plan = [("a.speaker_proj.weight", (a, o), "w")]
    elif t == "pockettts_gen":
        plan = [("a.gen.input_linear.weight", (a, o), "w")]
    else:
        # An unknown type: give it an MLP so the file is otherwise well-formed.
        plan = linear("mm.0", e, h) + linear("mm.2", h, o)
    return plan


def _vision_encoder(s: ProjectorSpec) -> TensorPlan:
    e, ff = s.width, s.n_ff or s.width * 4
    n_pos = (s.image_size // s.patch_size) ** 2 + 1
    plan: TensorPlan = [
        ("v.patch_embd.weight", (s.patch_size, s.patch_size, 3, e), "w"),
        ("v.class_embd", (e,), "e"),
        ("v.position_embd.weight", (e, n_pos), "e"),
    ]
    plan += norm("v.pre_ln", e)
    for i in range(s.n_layer):
        p = f"v.blk.{i}"
        for proj in ("attn_q", "attn_k", "attn_v", "attn_out"):
            plan += linear(f"{p}.{proj}", e, e)
        plan += norm(f"{p}.ln1", e) + norm(f"{p}.ln2", e)
        plan += linear(f"{p}.ffn_up", e, ff) + linear(f"{p}.ffn_down", ff, e)
    return plan


def _audio_encoder(s: ProjectorSpec, prefix: str = "a") -> TensorPlan:
    """The audio stem's first conv and the standard layers ``{prefix}.blk.N.*``; a generating tower's
    layers live under ``a.gen.code`` (its tensor prefix, tools/mtmd/clip.cpp:2142-2144 @0c1e570)."""
    a = s.audio_width
    plan: TensorPlan = [
        ("a.conv1d.1.weight", (3, s.n_mel_bins, a), "w"),
        ("a.conv1d.1.bias", (a,), "b"),
    ]
    for i in range(s.n_layer):
        p = f"{prefix}.blk.{i}"
        for proj in ("attn_q", "attn_k", "attn_v", "attn_out"):
            plan += linear(f"{p}.{proj}", a, a)
        plan += norm(f"{p}.ln1", a) + norm(f"{p}.ln2", a)
        plan += linear(f"{p}.ffn_up", a, a * 4) + linear(f"{p}.ffn_down", a * 4, a)
    return plan


# ------------------------------------------------------------------------------------------------
# Type-specific encoder tensors: what each type's case in llama.cpp's loader requires beyond the
# standard layers (clip_model_loader::load_tensors, ggml-org/llama.cpp tools/mtmd/clip.cpp@0c1e570;
# "clip.cpp:N" below is a line there), with the shapes and orientation the converter writes them in
# (convert_hf_to_gguf.py's conversion/*.py and gguf-py at the same commit). A PyTorch ConvNd weight
# (out, in, *kernel) is stored with ne = (*reversed(kernel), in, out). The channel counts of the
# convolution stems and codecs, fixed by the models, are tiny stand-ins here.
# ------------------------------------------------------------------------------------------------


def conv(
    name: str, kernel: tuple[int, ...], c_in: int, c_out: int, *, bias: tuple[int, ...] | None, kind: str = "w"
) -> TensorPlan:
    """A PyTorch ``ConvNd(c_in, c_out, kernel)`` (ne = kernel ne, c_in per group, c_out); ``bias`` is the
    bias's ne as the converter reshapes it, None for a conv without bias."""
    plan: TensorPlan = [(f"{name}.weight", (*kernel, c_in, c_out), kind)]
    if bias is not None:
        plan.append((f"{name}.bias", bias, "b"))
    return plan


def conv_transposed(
    name: str, kernel: tuple[int, ...], c_in: int, c_out: int, *, bias: tuple[int, ...] | None, kind: str = "w"
) -> TensorPlan:
    """A PyTorch ``ConvTransposeNd(c_in, c_out, kernel)``: its weight is (in, out per group, *kernel), so
    ne = (kernel ne, c_out per group, c_in)."""
    return conv(name, kernel, c_out, c_in, bias=bias, kind=kind)


def _ceil_halvings(n: int, times: int) -> int:
    """The length left after ``times`` stride-2 convolutions with kernel 3 and padding 1."""
    for _ in range(times):
        n = (n + 1) // 2
    return n


def _whisper_stem(s: ProjectorSpec) -> TensorPlan:
    """``a.conv1d.2``, Whisper's second conv (d_model -> d_model, k=3, stride 2), next to the
    ``a.conv1d.1`` every audio tower has here (clip.cpp:2850-2853 ultravox, :2862-2865 meralion,
    :2885-2888 qwen2a, :2908-2911 mimo_audio, :3169-3172 voxtral, :3178-3181 musicflamingo,
    :3204-3207 glma). The converters store the conv biases as ``unsqueeze(-1)`` of (d_model,), ne
    (1, d_model), so that they broadcast over the time axis (conversion/ultravox.py:79-81, :121-123;
    conversion/qwenvl.py:158-160; conversion/mimo.py:464-466)."""
    a = s.audio_width
    return conv("a.conv1d.2", (3,), a, a, bias=(1, a))


def _mimo_audio(s: ProjectorSpec) -> TensorPlan:
    """The Whisper stem, then the tokenizer's downsample and RVQ codebook (clip.cpp:2912-2919): the
    downsample is Conv1d(d_model, d_model, k=2, stride 2, no bias) + LayerNorm (models/mimo-audio.cpp:69-75;
    encoder.down_sample_layer.0 / down_sample_norm, gguf-py tensor_mapping.py A_ENC_DOWNSAMPLE_*), kept in
    F32 (conversion/mimo.py:422-431). The codebook stacks the quantizers' (bins, d_model)
    tables, padded to the largest, as (n_q, max_bins, d_model): ne (d_model, max_bins, n_q), F32
    (conversion/mimo.py:477-514; models/mimo-audio.cpp:79-86)."""
    a = s.audio_width
    plan = _whisper_stem(s)
    plan += conv("a.downsample.conv", (2,), a, a, bias=None, kind="f") + norm("a.downsample.norm", a)
    plan += [("a.rvq.codebook.weight", (a, max(_MIMO_RVQ_BINS), len(_MIMO_RVQ_BINS)), "f")]
    return plan


def _conv2d_stem(s: ProjectorSpec, t: str) -> TensorPlan:
    """qwen3a / dots3note_a: three Conv2d(k=3, stride 2, pad 1) over (time, mel) with C channels, then
    ``a.conv_out``, Linear(C x mel/8, width, no bias) (clip.cpp:2833-2839, :2894-2900; graphs
    models/qwen3a.cpp:28-52, models/dots3note.cpp:10-30). qwen3a's converter reshapes the conv biases to
    (C, 1, 1), ne (1, 1, C) (conversion/qwen3vl.py:215-217); dots3note's keeps them (C,) and the stem in
    F32 (conversion/dots3.py:317-323)."""
    a, ch = s.audio_width, 8  # downsample_hidden_size (480 in the real models)
    bias, kind = ((1, 1, ch), "w") if t == "qwen3a" else ((ch,), "f")
    plan = conv("a.conv2d.1", (3, 3), 1, ch, bias=bias, kind=kind)
    plan += conv("a.conv2d.2", (3, 3), ch, ch, bias=bias, kind=kind)
    plan += conv("a.conv2d.3", (3, 3), ch, ch, bias=bias, kind=kind)
    return plan + [("a.conv_out.weight", (ch * _ceil_halvings(s.n_mel_bins, 3), a), kind)]


def _minicpmv4_6(s: ProjectorSpec) -> TensorPlan:
    """The ViT merger, required when the merge factor is 4 (clip.cpp:2452-2474; the default, :1463-1464):
    window attention on the encoder width, then a 2x2 downsample MLP from 4 x width back to width
    (models/minicpmv.cpp:249-317). At merge 2 the converter drops it ("4x" mode, conversion/minicpm.py:147-152)."""
    if (s.merge if s.merge is not None else 4) != 4:
        return []
    e = s.width
    plan = norm("v.vit_merger.ln1", e)
    for proj in ("attn_q", "attn_k", "attn_v", "attn_out"):
        plan += linear(f"v.vit_merger.{proj}", e, e)
    plan += norm("v.vit_merger.ds_ln", e * 4)
    return plan + linear("v.vit_merger.ds_ffn_up", e * 4, e * 4) + linear("v.vit_merger.ds_ffn_down", e * 4, e)


def _sam(s: ProjectorSpec) -> TensorPlan:
    """deepseekocr / deepseekocr2: the SAM ViT-B encoder (clip.cpp:3267-3298; graph models/deepseekocr.cpp).
    Patch embedding Conv2d(3, W, 16, stride 16); a (1, G, G, W) position grid; per block fused qkv,
    out, two LayerNorms, relative positions (2L - 1, head_dim) with L the window, or the grid in the
    global-attention blocks 2, 5, 8, 11 (clip-model.h global_attn_indices); the neck Conv2d(W, N, 1) ->
    LN -> Conv2d(N, N, 3) -> LN, then net_2 Conv2d(N, 2N, 3, s2) and net_3 Conv2d(2N, width, 3, s2) into
    the CLIP tower (no biases). pos_embed, rel_pos, neck and net_* stay F32 (conversion/deepseek.py:76-80);
    v.view_seperator is written with the projection tensors."""
    w, e = _SAM_WIDTH, s.width
    head_dim = w // _SAM_HEADS
    grid = max(2, s.image_size // s.patch_size)  # 64 at the real 1024 px / 16 px
    neck = max(1, e // 4)  # 256 in the real model, a quarter of the CLIP width
    plan: TensorPlan = [("v.sam.pos_embd.weight", (w, grid, grid, 1), "f")]
    plan += conv("v.sam.patch_embd", (16, 16), 3, w, bias=(w,))
    for i in range(_SAM_LAYERS):
        p = f"v.sam.blk.{i}"
        span = 2 * (grid if i in (2, 5, 8, 11) else _WINDOW) - 1
        plan += linear(f"{p}.attn.qkv", w, w * 3) + linear(f"{p}.attn.out", w, w)
        plan += norm(f"{p}.pre_ln", w) + norm(f"{p}.post_ln", w)
        plan += [(f"{p}.attn.pos_h.weight", (head_dim, span), "f"), (f"{p}.attn.pos_w.weight", (head_dim, span), "f")]
        plan += linear(f"{p}.mlp.lin1", w, w * 4) + linear(f"{p}.mlp.lin2", w * 4, w)
    plan += conv("v.sam.neck.0", (1, 1), w, neck, bias=None, kind="f") + norm("v.sam.neck.1", neck)
    plan += conv("v.sam.neck.2", (3, 3), neck, neck, bias=None, kind="f") + norm("v.sam.neck.3", neck)
    plan += conv("v.sam.net_2", (3, 3), neck, neck * 2, bias=None, kind="f")
    return plan + conv("v.sam.net_3", (3, 3), neck * 2, e, bias=None, kind="f")


def _gemma4uv(s: ProjectorSpec) -> TensorPlan:
    """The patch embedder's three LayerNorms (clip.cpp:2662-2667): patch_ln1 over the raw
    patch_size^2 x 3 pixels, patch_ln2 after the patch projection and pos_norm (renamed patch_ln3,
    conversion/gemma.py:1063-1065) after the position embeddings, both on the width
    (models/gemma4uv.cpp:19-56)."""
    e, p = s.width, s.patch_size
    return norm("v.patch_norm.1", p * p * 3) + norm("v.patch_norm.2", e) + norm("v.patch_norm.3", e)


def _qformer_layer(pre: str, width: int, enc_width: int) -> TensorPlan:
    """One BLIP-2 Q-Former layer ``{pre}.*``: self-attention, cross-attention to the encoder
    (k/v from ``enc_width``), FFN, each with a LayerNorm (clip.cpp:3535-3560, :3591-3616)."""
    plan: TensorPlan = []
    for part in ("self_attn_q", "self_attn_k", "self_attn_v", "self_attn_out"):
        plan += linear(f"{pre}.{part}", width, width)
    plan += norm(f"{pre}.self_attn_norm", width)
    plan += linear(f"{pre}.cross_attn_q", width, width)
    plan += linear(f"{pre}.cross_attn_k", enc_width, width) + linear(f"{pre}.cross_attn_v", enc_width, width)
    plan += linear(f"{pre}.cross_attn_out", width, width) + norm(f"{pre}.cross_attn_norm", width)
    return (
        plan
        + linear(f"{pre}.ffn_up", width, width * 4)
        + linear(f"{pre}.ffn_down", width * 4, width)
        + norm(f"{pre}.ffn_norm", width)
    )


def _granite4_vision(s: ProjectorSpec) -> TensorPlan:
    """``v.image_newline`` (projection_dim values, asserted by models/granite4-vision.cpp:252-253) and one
    window Q-Former projector per clip.vision.feature_layer entry (clip.cpp:3568-3616): image_positions
    (1, window_side^2, width) and query (1, query_side^2, width) added to the windows
    (models/granite4-vision.cpp:126-138), norm / post_norm, the Q-Former layer, out_linear to
    projection_dim (conversion/granite.py:696-773 renumbers the projectors)."""
    e = s.width
    pdim = s.projection_dim if s.projection_dim is not None else s.n_embd_out
    plan: TensorPlan = [("v.image_newline", (pdim,), "e")]
    for bid in range(len(_G4V_FEATURE_LAYERS)):
        p = f"v.proj_blk.{bid}"
        plan += [(f"{p}.img_pos", (e, _G4V_WINDOW_SIDE**2, 1), "e"), (f"{p}.query", (e, _G4V_QUERY_SIDE**2, 1), "e")]
        plan += linear(f"{p}.linear", e, pdim) + norm(f"{p}.norm", e) + norm(f"{p}.post_norm", e)
        plan += _qformer_layer(p, e, e)
    return plan


def _gemma4a(s: ProjectorSpec) -> TensorPlan:
    """The SSCP subsampler's first Conv2d(1, C1, 3, stride 2) and its input_proj_linear from C2 x mel/4 to
    the width (clip.cpp:3307-3311; models/gemma4a.cpp:19-43; F32 convs, conversion/gemma.py:991-994),
    then the conformer's own per-layer tensors (clip.cpp:3324-3348): FFN-1 pre-norm, the light conv
    linear_start (width -> 2 x width for the GLU), depthwise_conv1d (width, 1, 5) reshaped to
    (width, 5) (conversion/gemma.py:1013-1015), linear_end, and the second FFN. ``a.conv1d.1`` is the
    one every audio tower gets here."""
    a = s.audio_width
    c0, c1 = 8, 4  # SSCP channels (128, 32 in the real model)
    plan = conv("a.conv1d.0", (3, 3), 1, c0, bias=None, kind="f")
    plan += [("a.input_projection.weight", (c1 * _ceil_halvings(s.n_mel_bins, 2), a), "w")]
    for i in range(s.n_layer):
        p = f"a.blk.{i}"
        plan += norm(f"{p}.ffn_norm", a, bias=False)
        plan += [(f"{p}.conv_pw1.weight", (a, a * 2), "w"), (f"{p}.conv_dw.weight", (5, a), "f")]
        plan += [(f"{p}.conv_pw2.weight", (a, a), "w")] + norm(f"{p}.ffn_norm_1", a, bias=False)
        plan += linear(f"{p}.ffn_up_1", a, a * 4, bias=False) + linear(f"{p}.ffn_down_1", a * 4, a, bias=False)
    return plan


def _fastconformer(s: ProjectorSpec, t: str) -> TensorPlan:
    """lfm2a / parakeet (NeMo FastConformer): the dw-striding subsampler ``a.conv1d.{0,2,3,5,6}``
    (Conv2d(1, C, 3, s2), depthwise Conv2d(C, C, 3, s2, groups=C), pointwise Conv2d(C, C, 1), twice more)
    and ``a.pre_encode.out``, Linear(C x mel/8, width) (clip.cpp:3380-3385, :3431-3436; graphs
    models/conformer.cpp:17-60, models/parakeet.cpp:9-55), then each layer's second FFN, relative-position
    projection and biases (d_head, n_head), and conv module: pointwise_conv1 (width -> 2 x width, GLU),
    depthwise conv (kernel 9), folded batch norm, pointwise_conv2 (clip.cpp:3397-3421, :3450-3479).
    lfm2a: conv biases [:, None, None] (ne (1, 1, C)), depthwise (width, k), pointwise squeezed to 2-D
    (conversion/gemma.py:351-359, the ConformerAudioModel lfm2a inherits); parakeet: subsampling biases
    reshaped (1, C, 1, 1), depthwise permuted to (1, 1, width, k), running mean / var kept
    (conversion/nemotron.py:133-147). Both keep the convs in F32 (conversion/gemma.py:322-326,
    conversion/nemotron.py:72-79)."""
    a = s.audio_width
    ch = 4  # subsampling channels (256 in the real models)
    d_head = max(1, a // s.n_head)
    bias = (1, 1, ch) if t == "lfm2a" else (1, 1, ch, 1)
    plan = conv("a.conv1d.0", (3, 3), 1, ch, bias=bias, kind="f")
    for i in (2, 5):  # depthwise (one input channel per group), then pointwise
        plan += conv(f"a.conv1d.{i}", (3, 3), 1, ch, bias=bias, kind="f")
        plan += conv(f"a.conv1d.{i + 1}", (1, 1), ch, ch, bias=bias, kind="f")
    plan += linear("a.pre_encode.out", ch * _ceil_halvings(s.n_mel_bins, 3), a)
    dw = (_CONV_KERNEL, a) if t == "lfm2a" else (_CONV_KERNEL, a, 1, 1)
    with_bias = t == "lfm2a"  # required for lfm2a; optional for parakeet (clip.cpp:3456-3473), left out
    for i in range(s.n_layer):
        p = f"a.blk.{i}"
        plan += norm(f"{p}.ffn_norm", a) + norm(f"{p}.ffn_norm_1", a)
        plan += linear(f"{p}.ffn_up_1", a, a * 4, bias=with_bias) + linear(f"{p}.ffn_down_1", a * 4, a, bias=with_bias)
        plan += [(f"{p}.pos_bias_u", (d_head, s.n_head), "b"), (f"{p}.pos_bias_v", (d_head, s.n_head), "b")]
        plan += norm(f"{p}.norm_conv", a) + [(f"{p}.linear_pos.weight", (a, a), "w")]
        plan += norm(f"{p}.conv_norm", a)
        if t == "parakeet":
            plan += [(f"{p}.conv_norm_mean", (a,), "b"), (f"{p}.conv_norm_var", (a,), "b")]
        plan += [(f"{p}.conv_dw.weight", dw, "f")] + ([(f"{p}.conv_dw.bias", (a,), "b")] if with_bias else [])
        plan += [(f"{p}.conv_pw1.weight", (a, a * 2), "f")] + (
            [(f"{p}.conv_pw1.bias", (a * 2,), "b")] if with_bias else []
        )
        plan += [(f"{p}.conv_pw2.weight", (a, a), "f")] + ([(f"{p}.conv_pw2.bias", (a,), "b")] if with_bias else [])
    return plan


def _granite_speech(s: ProjectorSpec) -> TensorPlan:
    """The input linear (mel -> width), the CTC branch (width -> vocab -> width) (clip.cpp:3488-3493;
    models/granite-speech.cpp:36, :237-244), each conformer layer's Shaw relative-position table
    (2 x max_pos_emb + 1, d_head), second FFN and conv module: up_conv (width -> 4 x width, GLU to the
    2 x width inner size), depth_conv (2 x width, kernel) squeezed, folded batch norm, down_conv
    (clip.cpp:3499-3519; conversion/granite.py:580-613, convs in F32 at :567-571), then the Q-Former projector:
    query (1, window / downsample_rate, width), its LayerNorm and two Q-Former layers on the encoder
    width (clip.cpp:3524-3560); ``a.proj_linear`` is written with the projection tensors."""
    a = s.audio_width
    d_head = max(1, a // s.n_head)
    vocab = 8  # CTC vocabulary (348 in the real model)
    plan = linear("a.input_projection", s.n_mel_bins, a)
    plan += linear("a.enc_ctc_out", a, vocab) + linear("a.enc_ctc_out_mid", vocab, a)
    for i in range(s.n_layer):
        p = f"a.blk.{i}"
        plan += [(f"{p}.attn_rel_pos_emb", (d_head, 2 * _GS_MAX_POS + 1), "e")]
        plan += norm(f"{p}.ffn_norm", a) + norm(f"{p}.ffn_norm_1", a)
        plan += linear(f"{p}.ffn_up_1", a, a * 4) + linear(f"{p}.ffn_down_1", a * 4, a)
        plan += norm(f"{p}.norm_conv", a) + norm(f"{p}.conv_norm", a * 2)
        plan += [(f"{p}.conv_dw.weight", (_CONV_KERNEL, a * 2), "f")]
        plan += [(f"{p}.conv_pw1.weight", (a, a * 4), "f"), (f"{p}.conv_pw1.bias", (a * 4,), "b")]
        plan += [(f"{p}.conv_pw2.weight", (a * 2, a), "f"), (f"{p}.conv_pw2.bias", (a,), "b")]
    plan += [("a.proj_query", (a, _GS_WINDOW // _GS_DOWNSAMPLE, 1), "e")] + norm("a.proj_norm", a)
    for i in range(2):  # n_proj_layers = 2 (clip.cpp:3530)
        plan += _qformer_layer(f"a.proj_blk.{i}", a, a)
    return plan


def _qwen3tts_spkenc(s: ProjectorSpec) -> TensorPlan:
    """The ECAPA-TDNN speaker encoder (clip.cpp:2957-2987; graph models/qwen3tts-spkenc.cpp): the stem
    TDNN Conv1d(mel, C, 5), SE-Res2Net blocks numbered from 1 (tdnn1 / tdnn2 Conv1d(C, C, 1), the SE
    convs C -> S -> C, seven Res2Net branch convs (C/8 channels, k=3), conversion/qwen3tts.py:345-351),
    the multi-layer aggregation Conv1d(3C, 3C, 1) over the three blocks, and attentive statistics pooling
    (Conv1d(9C, A, 1), Conv1d(A, 3C, 1)). ``mm.a.fc`` is written with the projection tensors."""
    n_mel, ch, se, att = s.n_mel_bins, 8, 4, 4  # channels 512, SE 128, attention 128 in the real model
    plan = conv("a.conv1d.0", (5,), n_mel, ch, bias=(ch,))
    for bid in range(1, s.n_layer + 1):
        p = f"a.blk.{bid}"
        plan += conv(f"{p}.conv_pw1", (1,), ch, ch, bias=(ch,)) + conv(f"{p}.conv_pw2", (1,), ch, ch, bias=(ch,))
        plan += conv(f"{p}.se_conv1", (1,), ch, se, bias=(se,)) + conv(f"{p}.se_conv2", (1,), se, ch, bias=(ch,))
        for xid in range(7):  # res2net scale 8: seven chained branches
            plan += conv(f"{p}.res2.{xid}", (3,), ch // 8, ch // 8, bias=(ch // 8,))
    plan += conv("a.conv_out", (1,), ch * 3, ch * 3, bias=(ch * 3,))
    return (
        plan
        + conv("a.asp_tdnn", (1,), ch * 9, att, bias=(att,))
        + conv("a.asp_attn", (1,), att, ch * 3, bias=(ch * 3,))
    )


_SEANET_RATIOS = (4, 5, 6)  # the encoder's strides; the decoder walks them backwards (clip.cpp:1890-1891)


def _seanet(pre: str, s: ProjectorSpec, *, decoder: bool) -> TensorPlan:
    """Mimi's SEANet (load_seanet, clip.cpp:2187-2208; graph models/pockettts-seanet.cpp; renamed in
    conversion/pockettts.py:348-380, F16). Encoder: Conv1d(1, F, 7), per stage a residual unit
    (Conv1d(C, C/2, 3), Conv1d(C/2, C, 1)) and a Conv1d(C, 2C, 2r, stride r), then Conv1d(8F, width, 3).
    Decoder: Conv1d(width, 8F, 7), per stage a ConvTranspose1d(C, C/2, 2r, stride r) (weight
    (in, out, k): ne (2r, C/2, C)) and a residual unit on C/2, then Conv1d(F, 1, 3)."""
    a = s.audio_width
    nf = max(2, a // 8)  # n_filters (64 in the real model; 8 x n_filters feeds the 512-wide transformer)
    plan: TensorPlan = []
    if not decoder:
        plan += conv(f"{pre}.conv_in", (7,), 1, nf, bias=(nf,))
        for i, r in enumerate(_SEANET_RATIOS):
            c = nf * 2**i
            plan += conv(f"{pre}.blk.{i}.res_conv1", (3,), c, c // 2, bias=(c // 2,))
            plan += conv(f"{pre}.blk.{i}.res_conv2", (1,), c // 2, c, bias=(c,))
            plan += conv(f"{pre}.blk.{i}.scale_conv", (2 * r,), c, c * 2, bias=(c * 2,))
        return plan + conv(f"{pre}.conv_out", (3,), nf * 8, a, bias=(a,))
    plan += conv(f"{pre}.conv_in", (7,), a, nf * 8, bias=(nf * 8,))
    for i, r in enumerate(reversed(_SEANET_RATIOS)):
        c = nf * 8 // 2**i
        plan += conv_transposed(f"{pre}.blk.{i}.scale_conv", (2 * r,), c, c // 2, bias=(c // 2,))
        plan += conv(f"{pre}.blk.{i}.res_conv1", (3,), c // 2, c // 4, bias=(c // 4,))
        plan += conv(f"{pre}.blk.{i}.res_conv2", (1,), c // 4, c // 2, bias=(c // 2,))
    return plan + conv(f"{pre}.conv_out", (3,), nf, 1, bias=(1,))


def _pockettts_spkenc(s: ProjectorSpec) -> TensorPlan:
    """Mimi's encoder SEANet and its downsample to the model frame rate, Conv1d(width, latent,
    2 x 16, stride 16, no bias) (clip.cpp:2997-2998; models/pockettts-spkenc.cpp:65-67,
    clip.cpp:1892 mimi_downsample = 16). The transformer is the standard layers; ``a.speaker_proj``
    is written with the projection tensors (the latent width is the audio width here)."""
    a = s.audio_width
    return _seanet("a.seanet", s, decoder=False) + conv("a.downsample.conv", (32,), a, a, bias=None)


def _pockettts_gen(s: ProjectorSpec) -> TensorPlan:
    """The flow-matching head and the Mimi decoder (clip.cpp:3004-3067; models/pockettts-gen.cpp;
    conversion/pockettts.py:284-346). Flow net on C channels: input_proj (latent -> C), cond_embed
    (backbone width -> C), two timestep embedders (frequencies, MLP F -> C -> C, RMS scale), AdaLN
    residual blocks (LayerNorm, MLP C -> C -> C, modulation C -> 3C; the loader counts them by probing
    ``blk.N.norm.weight``), the final AdaLN (C -> 2C) and projection back to the latent. Then the EOS
    head, latent normalisation, the quantizer's output projection (latent -> width), the depthwise
    upsample ConvTranspose1d(width, width, 32, stride 16, groups=width) (ne (32, 1, width)), the decoder
    SEANet and transformer ``a.gen.wav.tfm.blk.N`` (clip.gen.audio.block_count layers, clip.cpp:3053-3067)."""
    a, o = s.audio_width, s.n_embd_out
    latent, ch, n_freq = a, a, 8  # 32, 512, 256 in the real model (a.gen.input_linear has latent rows)
    plan = linear("a.gen.flow.input_proj", latent, ch) + linear("a.gen.flow.cond_embd", o, ch)
    plan += linear("a.gen.flow.final.ada", ch, ch * 2) + linear("a.gen.flow.final.proj", ch, latent)
    for i in range(2):  # flow.time.resize(2) (clip.cpp:3013)
        p = f"a.gen.flow.time.{i}"
        plan += [(f"{p}.freqs", (n_freq // 2,), "b")]
        plan += linear(f"{p}.up", n_freq, ch) + linear(f"{p}.down", ch, ch) + [(f"{p}.norm", (ch,), "b")]
    p = "a.gen.flow.blk.0"
    plan += norm(f"{p}.norm", ch) + linear(f"{p}.up", ch, ch) + linear(f"{p}.down", ch, ch)
    plan += linear(f"{p}.ada", ch, ch * 3)
    plan += linear("a.gen.out_eos", o, 1) + [("a.gen.emb_mean", (latent,), "b"), ("a.gen.emb_std", (latent,), "b")]
    plan += [("a.gen.wav.quant_out.weight", (latent, a), "w")]
    plan += conv_transposed("a.gen.wav.upsample", (32,), a, 1, bias=None)  # depthwise: groups = width
    plan += _seanet("a.gen.wav.seanet", s, decoder=True)
    for i in range(s.n_layer):
        p = f"a.gen.wav.tfm.blk.{i}"
        plan += norm(f"{p}.ln1", a)
        for proj in ("attn_q", "attn_k", "attn_v", "attn_out"):
            plan += linear(f"{p}.{proj}", a, a, bias=False)
        plan += [(f"{p}.ls1.weight", (a,), "b")] + norm(f"{p}.ln2", a)
        plan += linear(f"{p}.ffn_up", a, a * 4, bias=False) + linear(f"{p}.ffn_down", a * 4, a, bias=False)
        plan += [(f"{p}.ls2.weight", (a,), "b")]
    return plan


def _qwen3tts_gen(s: ProjectorSpec) -> TensorPlan:
    """The code predictor's own tensors and code2wav (clip.cpp:3070-3164; models/qwen3tts-gen.cpp;
    conversion/qwen3tts.py:300-343, :355-460). Code predictor: the 15 acoustic codebooks' embeddings
    stacked (15, vocab, talker width), the 15 lm_heads stacked (15, vocab, predictor width), the final
    norm; its layers are the standard layers under ``a.gen.code``. code2wav: RVQ decode (first / rest
    in_proj / out_proj between the 512 hidden and the 256-d codebooks, codebooks (vocab, 256) and
    (15, vocab, 256)), pre_conv Conv1d(512, 1024, 3), the 8-layer pre-transformer (1024 -> 512 -> 1024,
    wav_tfm_n_layer = 8, clip.cpp:1871), two upsample blocks (ConvTranspose1d(k=2, stride 2) + ConvNeXt:
    depthwise Conv1d(k=7), LayerNorm, 4x MLP, gamma), the DAC decoder: entry Conv1d(1024, D, 7), four
    blocks halving the channels (SnakeBeta, ConvTranspose1d(C, C/2, 2s, stride s) for s = 8, 5, 4, 3,
    three residual units: Conv1d(k=7), Conv1d(k=1)), a final SnakeBeta and Conv1d(D/16, 1, 7). The
    transposed-conv kernels are F32 (conversion/qwen3tts.py:268-283)."""
    hp, o = s.audio_width, s.n_embd_out
    n_cb, vocab = 15, 8  # _CODE_GEN_N_CODEBOOKS (conversion/qwen3tts.py:211); codebook size 2048 in the real model
    cb_dim, q_hidden, latent, tfm, dac = 4, 8, 16, 16, 32  # 256, 512, 1024, 512, 1536 in the real model
    plan: TensorPlan = [
        ("a.gen.code.embd.weight", (o, vocab, n_cb), "e"),
        ("a.gen.code.head.weight", (hp, vocab, n_cb), "w"),
    ]
    plan += norm("a.gen.code.output_norm", hp, bias=False)
    for part in ("first", "rest"):
        p = f"a.gen.wav.quant.{part}"
        plan += [(f"{p}.in_proj.weight", (q_hidden, cb_dim), "w"), (f"{p}.out_proj.weight", (cb_dim, q_hidden), "w")]
        plan += [(f"{p}.codebook.weight", (cb_dim, vocab) if part == "first" else (cb_dim, vocab, n_cb), "e")]
    plan += conv("a.gen.wav.pre_conv", (3,), q_hidden, latent, bias=(latent,))
    plan += linear("a.gen.wav.tfm.in_proj", latent, tfm) + linear("a.gen.wav.tfm.out_proj", tfm, latent)
    plan += norm("a.gen.wav.tfm.output_norm", tfm, bias=False)
    for i in range(8):  # wav_tfm_n_layer (clip.cpp:1871)
        p = f"a.gen.wav.tfm.blk.{i}"
        for proj in ("attn_q", "attn_k", "attn_v", "attn_out"):
            plan += linear(f"{p}.{proj}", tfm, tfm, bias=False)
        plan += norm(f"{p}.ln1", tfm, bias=False) + norm(f"{p}.ln2", tfm, bias=False)
        plan += [(f"{p}.ls1.weight", (tfm,), "b"), (f"{p}.ls2.weight", (tfm,), "b")]
        plan += linear(f"{p}.ffn_gate", tfm, tfm * 2, bias=False) + linear(f"{p}.ffn_up", tfm, tfm * 2, bias=False)
        plan += linear(f"{p}.ffn_down", tfm * 2, tfm, bias=False)
    for i in range(2):  # wav_upsample_n_block (clip.cpp:1878)
        p = f"a.gen.wav.up.blk.{i}"
        plan += conv_transposed(f"{p}.conv", (2,), latent, latent, bias=(latent,), kind="f")
        plan += conv(f"{p}.dwconv", (7,), 1, latent, bias=(latent,)) + norm(f"{p}.norm", latent)
        plan += linear(f"{p}.pw1", latent, latent * 4) + linear(f"{p}.pw2", latent * 4, latent)
        plan += [(f"{p}.gamma", (latent,), "b")]
    plan += conv("a.gen.wav.dac.entry", (7,), latent, dac, bias=(dac,))
    for i, stride in enumerate((8, 5, 4, 3)):  # wav_dac_n_block = 4, wav_dac_n_res = 3 (clip.cpp:1879-1880)
        p, c = f"a.gen.wav.dac.blk.{i}", dac >> i
        plan += [(f"{p}.snake.alpha", (c,), "b"), (f"{p}.snake.beta", (c,), "b")]
        plan += conv_transposed(f"{p}.conv", (2 * stride,), c, c // 2, bias=(c // 2,), kind="f")
        for j in range(3):
            r = f"{p}.res.{j}"
            plan += [(f"{r}.act1.alpha", (c // 2,), "b"), (f"{r}.act1.beta", (c // 2,), "b")]
            plan += conv(f"{r}.conv1", (7,), c // 2, c // 2, bias=(c // 2,))
            plan += [(f"{r}.act2.alpha", (c // 2,), "b"), (f"{r}.act2.beta", (c // 2,), "b")]
            plan += conv(f"{r}.conv2", (1,), c // 2, c // 2, bias=(c // 2,))
    last = dac >> 4
    plan += [("a.gen.wav.dac.post_snake.alpha", (last,), "b"), ("a.gen.wav.dac.post_snake.beta", (last,), "b")]
    return plan + conv("a.gen.wav.dac.post_conv", (7,), last, 1, bias=(1,))


_ENCODER_TENSORS: dict[str, Callable[[ProjectorSpec], TensorPlan]] = {
    **dict.fromkeys(("ultravox", "voxtral", "qwen2a", "glma", "meralion", "musicflamingo"), _whisper_stem),
    "mimo_audio": _mimo_audio,
    "qwen3a": lambda s: _conv2d_stem(s, "qwen3a"),
    "dots3note_a": lambda s: _conv2d_stem(s, "dots3note_a"),
    "minicpmv4_6": _minicpmv4_6,
    "deepseekocr": _sam,
    "deepseekocr2": _sam,
    "gemma4uv": _gemma4uv,
    "granite4_vision": _granite4_vision,
    "gemma4a": _gemma4a,
    "lfm2a": lambda s: _fastconformer(s, "lfm2a"),
    "parakeet": lambda s: _fastconformer(s, "parakeet"),
    "granite_speech": _granite_speech,
    "qwen3tts_spkenc": _qwen3tts_spkenc,
    "pockettts_spkenc": _pockettts_spkenc,
    "pockettts_gen": _pockettts_gen,
    "qwen3tts_gen": _qwen3tts_gen,
}


def encoder_tensors(t: str, s: ProjectorSpec) -> TensorPlan:
    """The type-specific encoder tensors of a tower of type ``t`` (beyond the patch embedding / stem conv
    and the standard layers of ``_vision_encoder`` / ``_audio_encoder``), as its converter writes them."""
    build = _ENCODER_TENSORS.get(t)
    return build(s) if build is not None else []


def write_projector(path: str | Path, spec: ProjectorSpec | None = None, **overrides: Any) -> Path:
    """Write a projector GGUF described by ``spec`` (fields may be overridden by keyword)."""
    s = dataclasses.replace(spec or ProjectorSpec(), **overrides)
    t = s.projector_type
    layout_type = t if t is not None else "mlp"
    is_gen_audio = layout_type in GEN_AUDIO_TYPES
    is_audio = layout_type in AUDIO_TYPES
    has_vision = not (is_audio or is_gen_audio) or layout_type == "qwen2.5o"
    has_audio = is_audio or layout_type == "qwen2.5o"

    kv: dict[str, tuple[Any, GGUFValueType]] = {}
    values: dict[str, Any] = {"general.type": "mmproj"}
    if s.name:
        values["general.name"] = s.name
    if s.description:
        values["general.description"] = s.description
    values["general.file_type"] = _u32(_FILE_TYPES.get(s.weight_type, 1))
    if t is not None:
        values[s.type_key] = t
    if has_vision:
        values.update(_vision_keys(s))
    if has_audio:
        values.update(_audio_keys(s))
    if is_gen_audio:
        values.update(_audio_keys(s, "clip.gen.audio", "clip.has_gen_audio_encoder"))
    values.update(_type_keys(layout_type, s))
    values.update(s.legacy_flags)
    values.update(s.extra_keys)
    for key in s.drop_keys:
        values.pop(key, None)
    for key, value in values.items():
        if value is not None:
            kv[key] = _typed(value)

    plan: TensorPlan = []
    if has_vision:
        plan += _vision_encoder(s) + encoder_tensors(layout_type, s)
    if has_audio:
        plan += _audio_encoder(s) + encoder_tensors("qwen2a" if layout_type == "qwen2.5o" else layout_type, s)
    if is_gen_audio:
        plan += _audio_encoder(s, "a.gen.code" if layout_type == "qwen3tts_gen" else "a")
        plan += encoder_tensors(layout_type, s)
    plan += projector_tensors(layout_type, s)
    plan = [
        (name, s.override_shapes.get(name, shape), kind) for name, shape, kind in plan if name not in s.drop_tensors
    ]
    explicit = {k: np.asarray(v, dtype=np.float32) for k, v in s.explicit_tensors.items()}
    return _write(
        Path(path),
        "clip",
        kv,
        plan,
        weight_type=s.weight_type,
        embd_type="F32",
        header_only=s.header_only,
        seed=s.seed,
        explicit=explicit,
        endianness=s.endianness,
    )


def write_lora_adapter(path: str | Path, *, arch: str = "llama", n_embd: int = 64) -> Path:
    """A LoRA adapter GGUF (``general.type = adapter``), for role-error tests."""
    kv = {
        "general.type": _typed("adapter"),
        "adapter.type": _typed("lora"),
        "adapter.lora.alpha": _typed(16.0),
    }
    plan = linear("blk.0.attn_q.lora_a", n_embd, 8, bias=False) + linear("blk.0.attn_q.lora_b", 8, n_embd, bias=False)
    return _write(Path(path), arch, kv, plan, weight_type="F32", embd_type="F32", header_only=False, seed=0)


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------

_FILE_TYPES = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q4_K": 15, "BF16": 32}


def _u32(v: int) -> tuple[int, GGUFValueType]:
    return (v, GGUFValueType.UINT32)


def _i32(v: int) -> tuple[int, GGUFValueType]:
    return (v, GGUFValueType.INT32)


def _i32_list(v: list[int]) -> tuple[list[int], GGUFValueType, GGUFValueType]:
    return (v, GGUFValueType.ARRAY, GGUFValueType.INT32)  # type: ignore[return-value]


def _typed(value: Any) -> Any:
    """(value, type[, sub_type]) for a plain Python value or an already typed tuple."""
    if isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[1], GGUFValueType):
        return value
    if isinstance(value, bool):
        return (value, GGUFValueType.BOOL)
    if isinstance(value, int):
        return (value, GGUFValueType.UINT32 if 0 <= value < 2**32 else GGUFValueType.INT64)
    if isinstance(value, float):
        return (value, GGUFValueType.FLOAT32)
    if isinstance(value, str):
        return (value, GGUFValueType.STRING)
    if isinstance(value, (list, tuple)):
        return (list(value), GGUFValueType.ARRAY)
    raise TypeError(f"cannot write {value!r} as a GGUF value")


def _put_scalar_or_array(put: Callable[[str, Any, GGUFValueType], None], key: str, value: Any) -> None:
    if isinstance(value, int):
        put(key, value, GGUFValueType.UINT32)
    else:
        put(key, [int(v) for v in value], GGUFValueType.ARRAY)


def _numpy_shape(ne: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(reversed(ne))


def _random(rng: np.random.Generator, ne: tuple[int, ...], kind: str) -> np.ndarray:
    shape = _numpy_shape(ne)
    if kind == "b":
        return (
            (1.0 + 0.02 * rng.standard_normal(shape)).astype(np.float32)
            if len(ne) == 1
            else rng.standard_normal(shape).astype(np.float32)
        )
    fan_in = ne[0] if ne else 1
    out: np.ndarray = (rng.standard_normal(shape) / np.sqrt(max(fan_in, 1))).astype(np.float32)
    return out


def _write(
    path: Path,
    arch: str,
    kv: dict[str, Any],
    plan: Iterable[tuple[str, tuple[int, ...], str]],
    *,
    weight_type: str,
    embd_type: str,
    header_only: bool,
    seed: int,
    explicit: dict[str, np.ndarray] | None = None,
    endianness: str = "little",
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    endian = GGUFEndian.BIG if endianness == "big" else GGUFEndian.LITTLE
    writer = GGUFWriter(path, arch, endianess=endian)
    for key, typed in kv.items():
        value, vtype, *sub = typed
        if vtype == GGUFValueType.ARRAY and sub:
            writer.add_key_value(key, value, vtype, sub_type=sub[0])
        else:
            writer.add_key_value(key, value, vtype)
    rng = np.random.default_rng(seed)
    explicit = explicit or {}
    for name, ne, kind in plan:
        qname = weight_type if kind == "w" else (embd_type if kind == "e" else "F32")
        if len(ne) == 1 or qname not in GGML_QUANT_SIZES_BY_NAME:
            qname = "F32" if kind != "w" or qname not in GGML_QUANT_SIZES_BY_NAME else qname
        qtype = GGMLQuantizationType[qname]
        block, type_size = GGML_QUANT_SIZES[qtype]
        if ne[0] % block:
            qtype, block, type_size = GGMLQuantizationType.F16, 1, 2  # rows too short for the block size
        if header_only:
            n = int(np.prod(ne, dtype=np.int64))
            writer.add_tensor_info(
                name, _numpy_shape(ne), np.dtype(np.float32), n // block * type_size, raw_dtype=qtype
            )
            continue
        data = explicit.get(name)
        if data is None:
            data = _random(rng, ne, kind)
        data = data.reshape(_numpy_shape(ne))
        if qtype == GGMLQuantizationType.F32:
            writer.add_tensor(name, data.astype(np.float32))
        elif qtype == GGMLQuantizationType.F16:
            writer.add_tensor(name, data.astype(np.float16))
        else:
            writer.add_tensor(name, _quantized(data, qtype, rng), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    if header_only:
        writer.write_ti_data_to_file()
    else:
        writer.write_tensors_to_file()
    writer.close()
    return path


GGML_QUANT_SIZES_BY_NAME = {t.name for t in GGML_QUANT_SIZES}

# Where the f16 scale fields sit in the K-quant blocks gguf-py cannot quantize (ggml-common.h).
_K_SCALE_OFFSETS = {
    GGMLQuantizationType.Q2_K: (80, 82),
    GGMLQuantizationType.Q3_K: (108,),
    GGMLQuantizationType.Q4_K: (0, 2),
    GGMLQuantizationType.Q5_K: (0, 2),
    GGMLQuantizationType.Q6_K: (208,),
}


def _quantized(data: np.ndarray, qtype: GGMLQuantizationType, rng: np.random.Generator) -> np.ndarray:
    """Quantize with gguf-py; for K-quants it cannot write, random blocks with small finite scales."""
    try:
        return quantize(data, qtype)
    except NotImplementedError:
        if qtype not in _K_SCALE_OFFSETS:
            raise
    block, type_size = GGML_QUANT_SIZES[qtype]
    n_blocks = data.size // block
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    scale = np.frombuffer(np.float16(0.002).tobytes(), dtype=np.uint8)
    for off in _K_SCALE_OFFSETS[qtype]:
        raw[:, off : off + 2] = scale
    return raw.reshape(*data.shape[:-1], data.shape[-1] // block * type_size)
