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
# Tensor plans: a list of (name, ne-shape, kind) where kind is "w" (matrix), "b" (bias/norm, F32)
# or "e" (embedding rows, F32 or the weight type).
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
        keys["clip.vision.window_size"] = _u32(4)
    if t == "youtuvl":
        keys["clip.vision.wa_layer_indexes"] = _i32_list([s.n_layer - 1])
    if t == "mimovl":
        keys["clip.vision.wa_pattern_mode"] = _i32_list([0] * s.n_layer)
    if t in ("deepseekocr", "deepseekocr2"):
        keys["clip.vision.sam.block_count"] = _u32(2)
        keys["clip.vision.sam.head_count"] = _u32(2)
        keys["clip.vision.sam.embedding_length"] = _u32(16)
    if t == "glm5v":
        keys["clip.vision.swiglu_clamp"] = 7.0
    if t == "dots3note_v":
        keys["clip.vision.expert_used_count"] = _u32(2)
    if t == "granite4_vision":
        keys["clip.vision.feature_layer"] = _i32_list([1, 2])
        keys["clip.vision.projector.spatial_offsets"] = _i32_list([0, 0])
        keys["clip.vision.projector.query_side"] = _u32(2)
        keys["clip.vision.projector.window_side"] = _u32(4)
    if t in ("ultravox", "voxtral", "meralion", "glma"):
        keys["clip.audio.projector.stack_factor"] = _u32(s.stack_factor)
    if t == "parakeet":
        keys["clip.audio.subsampling_factor"] = _u32(8)
        keys["clip.audio.conv_kernel_size"] = _u32(9)
    if t == "granite_speech":
        keys["clip.audio.conv_kernel_size"] = _u32(9)
        for k in ("chunk_size", "max_pos_emb"):
            keys[f"clip.audio.{k}"] = _u32(16)
        for k in ("window_size", "downsample_rate", "head_count"):
            keys[f"clip.audio.projector.{k}"] = _u32(2)
    if t == "mimo_audio":  # load_hparams, clip.cpp:1818-1856 at llama.cpp 0c1e570
        keys["clip.audio.rvq.num_quantizers"] = _u32(2)
        keys["clip.audio.rvq.codebook_size"] = _i32_list([16, 16])
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
        plan = [("mm.patch_merger.weight", (2, 2, e, e), "w")]
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


def _audio_encoder(s: ProjectorSpec) -> TensorPlan:
    a = s.audio_width
    plan: TensorPlan = [
        ("a.conv1d.1.weight", (3, s.n_mel_bins, a), "w"),
        ("a.conv1d.1.bias", (a,), "b"),
    ]
    for i in range(s.n_layer):
        p = f"a.blk.{i}"
        for proj in ("attn_q", "attn_k", "attn_v", "attn_out"):
            plan += linear(f"{p}.{proj}", a, a)
        plan += norm(f"{p}.ln1", a) + norm(f"{p}.ln2", a)
        plan += linear(f"{p}.ffn_up", a, a * 4) + linear(f"{p}.ffn_down", a * 4, a)
    return plan


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
        plan += _vision_encoder(s)
    if has_audio or is_gen_audio:
        plan += _audio_encoder(s)
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
