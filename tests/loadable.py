"""Tiny GGUF pairs that llama.cpp really loads *and* encodes an image with.

These builders write a text model and a multimodal projector (``mmproj``, arch ``clip``) with
real tensor data (seeded random F32 weights, tiny dimensions, every file well under 1 MB).
They exist to prove mmcheck's verdicts against llama.cpp itself (``tests/oracle``): a pair built
here with matching widths must load, tokenize one image, encode it and decode the embeddings;
the corruption knobs then produce pairs llama.cpp refuses or crashes on.

Reference: llama.cpp ``0c1e570`` as vendored by llama-cpp-python 0.3.36
(``tools/mtmd/clip.cpp`` ``load_hparams``/``load_tensors``, ``tools/mtmd/models/*.cpp`` graphs,
``src/models/*.cpp`` text architectures).

Tensor shapes. ``override_shapes`` takes **ggml ``ne`` order** (the order llama.cpp and
llama.cpp logs speak of: a ``Linear(in, out)`` weight is ``ne=[in, out]``), the reverse of numpy's.

Text architectures written by :func:`write_tiny_text_model` (all load and decode):
``llama`` (SPM or gpt2/BPE vocab), ``qwen2`` (q/k/v biases), ``qwen2vl`` (M-RoPE,
``rope.dimension_sections``), ``gemma3`` (q/k norms, post norms).

Projector types written by :func:`write_tiny_projector` (see :data:`LOADABLE_PROJECTOR_TYPES`;
the width tensor is in :data:`WIDTH_TENSOR`). Every one of them was observed to load, pass mtmd's
warm-up, and encode + decode llama.cpp's 640x488 ``test-1.jpeg`` with tiny dims (ViT width 32 or
16, 2 blocks, 2 heads) -- ``tests/oracle`` proves it on every run:

====================  ==================================  =============================================
type                  width tensor (clip_n_mmproj_embd)   what the tiny graph needs
====================  ==================================  =============================================
``mlp``               ``mm.2.weight`` ne[1]               CLIP ViT + class embedding + pre_ln
``mlp_norm``          ``mm.3.bias`` ne[0]                 written as ``mlp`` + ``mm.1``/``mm.3``/``mm.4``
``ldpv2``             ``mm.model.peg.0.bias`` ne[0]       graph hard-codes a 24x24 patch grid (image 48,
                                                          patch 2); ``peg.0.weight`` must be F16
``gemma3``            ``mm.input_projection.weight``      patch grid divisible by n_merge (4)
                      **ne[0]**
``gemma4v``           ``mm.input_projection.weight``      x/y position tables ``[E, P, 2]``; patch 16 so
                      ne[1]                               the image stays within 70..1120 tokens
``idefics3``          ``mm.model.fc.weight`` ne[1]        ``scale_factor`` > 1; ``preproc_image_size``
                                                          64 (else 300 tiles); vocab needs ``"\n\n"``
``lfm2``              ``mm.2.weight`` ne[1]               scale > 1; patch 16 avoids 512 px tiling
``janus_pro``         ``mm.1.bias`` ne[0]                 fixed-size SigLIP
``phi4``              ``mm.2.weight`` ne[1]               Req ``image_min_pixels``/``image_max_pixels``
``pixtral``           ``mm.2.weight`` ne[1]               2D RoPE; Req ``v.token_embd.img_break``
``lightonocr``        ``mm.2.weight`` ne[1]               pixtral tower, no img_break
``qwen2vl_merger``    ``mm.2.bias`` ne[0]                 two patch convs; q/k/v biases (unchecked)
``qwen2.5vl_merger``  ``mm.2.bias`` ne[0]                 Req n_wa_pattern; window attention reshapes
                                                          by ``projection_dim`` (a lying key aborts)
``qwen3vl_merger``    ``mm.2.bias`` ne[0]                 fused qkv, patch bias, square pos table
``internvl``          ``mm.model.mlp.3.weight`` ne[1]     CLS + learned positions; scale_factor 2
``nemotron_v2_vl``    ``mm.model.mlp.3.weight`` ne[1]     2-D register embedding; scale_factor 2
``llama4``            ``mm.model.fc.weight`` ne[1]        2-D patch weight (unfold conv); scale 2
``kimivl``            ``mm.2.weight`` ne[1]               square position table; scale > 1
``kimik25``           ``mm.2.weight`` ne[1]               3-D position table; min/max pixels bound the
                                                          warm-up (else 1024 px)
``paddleocr``         ``mm.2.weight`` ne[1]               Req min/max pixels; M-RoPE
``dots_ocr``          ``mm.2.weight`` ne[1]               Req scale_factor + min/max pixels;
                                                          ``mm.post_norm.weight`` replaces post_ln
``glm4v``             ``mm.down.weight`` ne[1]            patch bias required; conv patch merger
``cogvlm``            ``mm.down.weight`` ne[1]            fused qkv; ``v.boi``/``v.eoi`` embeddings
====================  ==================================  =============================================

Not attempted (documented so nobody retries blindly; none was *observed* to fail):
``ldp`` (MobileVLM v1: same 24x24 grid plus 22 block tensors), ``resampler``/``minicpmv4_6``
(resampler attention and pos_embed_k tables), ``gemma3nv`` (MobileNetV5, hundreds of tensors),
``gemma4uv``, ``glm5v``, ``mimovl``, ``youtuvl``, ``hunyuanvl``, ``step3vl``, ``minimax_m3``,
``muse-glimmer``, ``exaone4_5``, ``ling3vl``, ``yasa2``, ``deepseekocr(2)``, ``deepseek4v``,
``granite4_vision``, ``adapter`` (each needs its own conv/merger/window tensors and keys), and the
audio types (they need an audio input, not an image).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gguf
import numpy as np

__all__ = [
    "DEFAULT_MARKER_TOKENS",
    "LOADABLE_PROJECTOR_TYPES",
    "TEXT_ARCHS",
    "WIDTH_TENSOR",
    "write_tiny_projector",
    "write_tiny_text_model",
]

TEXT_ARCHS = ("llama", "qwen2", "qwen2vl", "gemma3")

# Media markers inserted by mtmd (T = parse_special, L = lookup_token). Present as CONTROL tokens
# in the tiny vocab so every projector type tokenizes its image the way real models do. An
# L-marker absent from the vocab pushes token -1 into the prompt, and llama.cpp then aborts
# (observed: idefics3 without a "\n\n" token -> SIGABRT GGML_ASSERT(idx >= 0) at decode).
DEFAULT_MARKER_TOKENS: tuple[str, ...] = (
    "<start_of_image>",
    "<end_of_image>",
    "<|vision_start|>",
    "<|vision_end|>",
    "\n\n",
    "<fake_token_around_image>",
    "<global-img>",
    "<|image_start|>",
    "<|image_end|>",
    "<|img_thumbnail|>",
    "[IMG_BREAK]",
    "[IMG_END]",
    "<img>",
    "</img>",
    "<|media_start|>",
    "<|media_end|>",
    "<|begin_of_image|>",
    "<|end_of_image|>",
    "<image>",
    "</image>",
    "<slice>",
    "</slice>",
    "<|im_start|>",
    "<|im_end|>",
    "<|media_begin|>",
    "<|img|>",
    "<|endofimg|>",
    "<|IMAGE_START|>",
    "<|IMAGE_END|>",
    "<|image>",
    "<image|>",
)

_CHAT_TEMPLATE = "{% for m in messages %}{{ m['content'] }}\n{% endfor %}"

_T = gguf.GGUFValueType


# --------------------------------------------------------------------------------------------
# low-level writing
# --------------------------------------------------------------------------------------------


@dataclass
class _Doc:
    """A GGUF file in the making: ordered keys (with explicit value types) and tensors."""

    arch: str
    keys: dict[str, tuple[Any, gguf.GGUFValueType, gguf.GGUFValueType | None]] = field(default_factory=dict)
    tensors: dict[str, np.ndarray] = field(default_factory=dict)

    def u32(self, key: str, value: int) -> None:
        self.keys[key] = (int(value), _T.UINT32, None)

    def i32(self, key: str, value: int) -> None:
        self.keys[key] = (int(value), _T.INT32, None)

    def f32(self, key: str, value: float) -> None:
        self.keys[key] = (float(value), _T.FLOAT32, None)

    def boolean(self, key: str, value: bool) -> None:
        self.keys[key] = (bool(value), _T.BOOL, None)

    def string(self, key: str, value: str) -> None:
        self.keys[key] = (value, _T.STRING, None)

    def array(self, key: str, values: Sequence[Any], sub: gguf.GGUFValueType) -> None:
        self.keys[key] = (list(values), _T.ARRAY, sub)


def _infer_key(value: Any) -> tuple[Any, gguf.GGUFValueType, gguf.GGUFValueType | None]:
    """Pick a GGUF type for a Python value in ``extra_keys`` (int -> UINT32, as clip keys are)."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], gguf.GGUFValueType):
        return value[0], value[1], None
    if isinstance(value, bool):
        return value, _T.BOOL, None
    if isinstance(value, int):
        return value, _T.UINT32 if value >= 0 else _T.INT32, None
    if isinstance(value, float):
        return value, _T.FLOAT32, None
    if isinstance(value, str):
        return value, _T.STRING, None
    if isinstance(value, (list, tuple)):
        items = list(value)
        if items and all(isinstance(v, str) for v in items):
            return items, _T.ARRAY, _T.STRING
        if items and any(isinstance(v, float) for v in items):
            return [float(v) for v in items], _T.ARRAY, _T.FLOAT32
        return [int(v) for v in items], _T.ARRAY, _T.INT32
    raise TypeError(f"cannot infer a GGUF type for {value!r}")


def _apply_and_write(
    doc: _Doc,
    path: Path,
    *,
    drop_tensors: Iterable[str] = (),
    override_shapes: Mapping[str, Sequence[int]] | None = None,
    extra_keys: Mapping[str, Any] | None = None,
    remove_keys: Iterable[str] = (),
    extra_tensors: Mapping[str, Sequence[int]] | None = None,
    rng: np.random.Generator,
) -> Path:
    for name in drop_tensors:
        if name not in doc.tensors:
            raise KeyError(f"drop_tensors: no tensor {name!r} (have {sorted(doc.tensors)})")
        del doc.tensors[name]
    for name, ne in (override_shapes or {}).items():
        if name not in doc.tensors:
            raise KeyError(f"override_shapes: no tensor {name!r}")
        doc.tensors[name] = _rand(rng, ne)
    for name, ne in (extra_tensors or {}).items():
        doc.tensors[name] = _rand(rng, ne)
    for key in remove_keys:
        if key not in doc.keys:
            raise KeyError(f"remove_keys: no key {key!r} (have {sorted(doc.keys)})")
        del doc.keys[key]
    for key, value in (extra_keys or {}).items():
        doc.keys[key] = _infer_key(value)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), doc.arch)
    try:
        for key, (value, vtype, sub) in doc.keys.items():
            writer.add_key_value(key, value, vtype, sub)
        for name, data in doc.tensors.items():
            dtype = np.float16 if data.dtype == np.float16 else np.float32
            writer.add_tensor(name, np.ascontiguousarray(data, dtype=dtype))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return path


def _rand(rng: np.random.Generator, ne: Sequence[int], scale: float = 0.02) -> np.ndarray:
    """Random F32 tensor with ggml shape ``ne`` (numpy shape is reversed)."""
    shape = tuple(int(d) for d in reversed(list(ne)))
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _ones(ne: Sequence[int]) -> np.ndarray:
    return np.ones(tuple(int(d) for d in reversed(list(ne))), dtype=np.float32)


def _zeros(ne: Sequence[int]) -> np.ndarray:
    return np.zeros(tuple(int(d) for d in reversed(list(ne))), dtype=np.float32)


# --------------------------------------------------------------------------------------------
# text models
# --------------------------------------------------------------------------------------------

_SPM_PIECES = (
    ["▁"]
    + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    + [str(d) for d in range(10)]
    + [
        "▁the",
        "▁a",
        "▁is",
        "▁image",
        "▁what",
        "▁this",
        "▁describe",
        "▁of",
        "▁in",
        "▁it",
        ".",
        ",",
        "?",
        ":",
        "!",
        "'",
        '"',
        "-",
        "(",
        ")",
        "/",
        "<",
        ">",
        "|",
        "_",
    ]
)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable unicode map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs, strict=True)}


def _spm_vocab(extra: Sequence[str]) -> tuple[list[str], list[float], list[int], dict[str, int]]:
    tokens: list[str] = ["<unk>", "<s>", "</s>"]
    types: list[int] = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    scores: list[float] = [0.0, 0.0, 0.0]
    for b in range(256):
        tokens.append(f"<0x{b:02X}>")
        types.append(gguf.TokenType.BYTE)
        scores.append(0.0)
    for i, piece in enumerate(_SPM_PIECES):
        tokens.append(piece)
        types.append(gguf.TokenType.NORMAL)
        scores.append(-float(i + 1))
    for tok in extra:
        if tok in tokens:
            continue
        tokens.append(tok)
        types.append(gguf.TokenType.CONTROL)
        scores.append(0.0)
    ids = {"bos": 1, "eos": 2, "unk": 0}
    return tokens, scores, [int(t) for t in types], ids


def _bpe_vocab(extra: Sequence[str]) -> tuple[list[str], list[int], list[str], dict[str, int]]:
    b2u = _bytes_to_unicode()
    tokens = [b2u[b] for b in range(256)]
    types = [int(gguf.TokenType.NORMAL)] * 256
    merges = ["Ġ t", "h e", "Ġt he", "i s", "Ġ a", "i n", "Ġ i", "Ġi s"]
    for m in merges:
        tokens.append(m.replace(" ", ""))
        types.append(int(gguf.TokenType.NORMAL))
    specials = ["<|endoftext|>", *[t for t in extra if t not in tokens]]
    ids = {"bos": len(tokens), "eos": len(tokens)}
    for tok in specials:
        tokens.append(tok)
        types.append(int(gguf.TokenType.CONTROL))
    return tokens, types, merges, ids


def write_tiny_text_model(
    path: Path | str,
    *,
    arch: str = "llama",
    n_embd: int = 64,
    n_layer: int = 2,
    n_head: int = 4,
    n_head_kv: int | None = None,
    n_ff: int | None = None,
    n_ctx_train: int = 4096,
    vocab: str = "spm",
    tokens: Sequence[str] | None = None,
    seed: int = 0,
    drop_tensors: Iterable[str] = (),
    override_shapes: Mapping[str, Sequence[int]] | None = None,
    extra_keys: Mapping[str, Any] | None = None,
    remove_keys: Iterable[str] = (),
) -> Path:
    """Write a tiny text-model GGUF that llama.cpp loads and decodes with; return its path.

    ``arch`` is one of :data:`TEXT_ARCHS`. ``vocab`` is ``"spm"`` (``tokenizer.ggml.model =
    llama``: ``<unk>``/``<s>``/``</s>``, the 256 ``<0xNN>`` byte tokens SPM needs, some pieces,
    scores) or ``"bpe"`` (``gpt2``: the 256 byte-level symbols, a few merges, ``<|endoftext|>``).
    ``tokens`` are extra CONTROL tokens; by default :data:`DEFAULT_MARKER_TOKENS`. The
    corruption knobs work as in :func:`write_tiny_projector`.
    """
    if arch not in TEXT_ARCHS:
        raise ValueError(f"arch must be one of {TEXT_ARCHS}, not {arch!r}")
    if n_embd % n_head:
        raise ValueError("n_embd must be a multiple of n_head")
    rng = np.random.default_rng(seed)
    n_head_kv = n_head if n_head_kv is None else n_head_kv
    n_ff = 2 * n_embd if n_ff is None else n_ff
    head_dim = n_embd // n_head
    extra = list(DEFAULT_MARKER_TOKENS if tokens is None else tokens)

    doc = _Doc(arch)
    doc.string("general.name", f"tiny-{arch}-{n_embd}")
    doc.u32("general.file_type", 0)
    doc.u32(f"{arch}.context_length", n_ctx_train)
    doc.u32(f"{arch}.embedding_length", n_embd)
    doc.u32(f"{arch}.block_count", n_layer)
    doc.u32(f"{arch}.feed_forward_length", n_ff)
    doc.u32(f"{arch}.attention.head_count", n_head)
    doc.u32(f"{arch}.attention.head_count_kv", n_head_kv)
    doc.f32(f"{arch}.attention.layer_norm_rms_epsilon", 1e-6)
    doc.f32(f"{arch}.rope.freq_base", 10000.0)
    if arch == "qwen2vl":
        # M-RoPE sections (temporal, height, width, extra) must sum to head_dim / 2
        half = head_dim // 2
        t_sec = half // 4
        h_sec = (half - t_sec) // 2
        sections = [t_sec, h_sec, half - t_sec - h_sec, 0]
        doc.array(f"{arch}.rope.dimension_sections", sections, _T.INT32)
    if arch == "gemma3":
        doc.u32(f"{arch}.attention.key_length", head_dim)
        doc.u32(f"{arch}.attention.value_length", head_dim)

    if vocab == "spm":
        toks, scores, types, ids = _spm_vocab(extra)
        doc.string("tokenizer.ggml.model", "llama")
        doc.array("tokenizer.ggml.tokens", toks, _T.STRING)
        doc.array("tokenizer.ggml.scores", scores, _T.FLOAT32)
        doc.array("tokenizer.ggml.token_type", types, _T.INT32)
        doc.u32("tokenizer.ggml.unknown_token_id", ids["unk"])
    elif vocab == "bpe":
        toks, types, merges, ids = _bpe_vocab(extra)
        doc.string("tokenizer.ggml.model", "gpt2")
        doc.string("tokenizer.ggml.pre", "gpt-2")
        doc.array("tokenizer.ggml.tokens", toks, _T.STRING)
        doc.array("tokenizer.ggml.token_type", types, _T.INT32)
        doc.array("tokenizer.ggml.merges", merges, _T.STRING)
    else:
        raise ValueError(f"vocab must be 'spm' or 'bpe', not {vocab!r}")
    doc.u32("tokenizer.ggml.bos_token_id", ids["bos"])
    doc.u32("tokenizer.ggml.eos_token_id", ids["eos"])
    doc.boolean("tokenizer.ggml.add_bos_token", True)
    doc.string("tokenizer.chat_template", _CHAT_TEMPLATE)
    n_vocab = len(toks)

    t = doc.tensors
    t["token_embd.weight"] = _rand(rng, [n_embd, n_vocab])
    t["output_norm.weight"] = _ones([n_embd])
    kv = head_dim * n_head_kv
    for i in range(n_layer):
        p = f"blk.{i}."
        t[p + "attn_norm.weight"] = _ones([n_embd])
        t[p + "attn_q.weight"] = _rand(rng, [n_embd, n_embd])
        t[p + "attn_k.weight"] = _rand(rng, [n_embd, kv])
        t[p + "attn_v.weight"] = _rand(rng, [n_embd, kv])
        t[p + "attn_output.weight"] = _rand(rng, [n_embd, n_embd])
        if arch in ("qwen2", "qwen2vl"):
            t[p + "attn_q.bias"] = _zeros([n_embd])
            t[p + "attn_k.bias"] = _zeros([kv])
            t[p + "attn_v.bias"] = _zeros([kv])
        if arch == "gemma3":
            t[p + "attn_q_norm.weight"] = _ones([head_dim])
            t[p + "attn_k_norm.weight"] = _ones([head_dim])
            t[p + "post_attention_norm.weight"] = _ones([n_embd])
            t[p + "post_ffw_norm.weight"] = _ones([n_embd])
        t[p + "ffn_norm.weight"] = _ones([n_embd])
        t[p + "ffn_gate.weight"] = _rand(rng, [n_embd, n_ff])
        t[p + "ffn_up.weight"] = _rand(rng, [n_embd, n_ff])
        t[p + "ffn_down.weight"] = _rand(rng, [n_ff, n_embd])
    return _apply_and_write(
        doc,
        Path(path),
        drop_tensors=drop_tensors,
        override_shapes=override_shapes,
        extra_keys=extra_keys,
        remove_keys=remove_keys,
        rng=rng,
    )


# --------------------------------------------------------------------------------------------
# projectors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Vit:
    """Shape of the tiny vision tower for one projector type."""

    image_size: int = 32
    patch_size: int = 8
    n_embd: int = 32
    n_head: int = 2
    n_ff: int = 64
    n_layer: int = 2
    class_embd: bool = False
    class_rows: int = 1  # > 1: a 2-D class/register embedding (nemotron_v2_vl)
    pos_rows: str | None = "patches"  # "patches", "patches+1", "square", "grid3d", "xy" or None
    pos_square_side: int = 4
    fused_qkv: bool = False
    patch_bias: bool = False
    patch_embd_1: bool = False
    patch_embd_2d: bool = False
    pre_ln: bool = False
    post_ln: bool = False
    norm_bias: bool = True
    qkv_bias: bool = True
    ffn_gate: bool = False


# type -> (vit, hidden width of the projector MLP, extra keys)
_SPECS: dict[str, tuple[_Vit, dict[str, Any]]] = {
    "mlp": (_Vit(class_embd=True, pos_rows="patches+1", pre_ln=True), {}),
    "mlp_norm": (_Vit(class_embd=True, pos_rows="patches+1", pre_ln=True), {}),
    "ldpv2": (
        _Vit(image_size=48, patch_size=2, n_embd=16, n_ff=32, class_embd=True, pos_rows="patches+1", pre_ln=True),
        {},
    ),
    "gemma3": (_Vit(image_size=64, patch_size=8, post_ln=True), {}),
    # idefics3 slices the image into image_size tiles after resizing its longest edge to
    # preproc_image_size: 64 keeps it at 2x2 tiles + overview (32 px would give 300 tiles)
    "idefics3": (
        _Vit(image_size=32, patch_size=8, post_ln=True),
        {"clip.vision.projector.scale_factor": 2, "clip.vision.preproc_image_size": 64},
    ),
    # lfm2 tiles with a hard-coded 512 px tile when the image exceeds 2x image_max_pixels
    # (256 tokens x (patch*merge)^2): patch 16 keeps the 640x488 test image in one tile
    "lfm2": (
        _Vit(patch_size=16, pos_rows="square", pos_square_side=4, post_ln=True),
        {"clip.vision.projector.scale_factor": 2},
    ),
    "janus_pro": (_Vit(post_ln=True), {}),
    "phi4": (
        _Vit(patch_size=8, pos_rows="square", pos_square_side=4, post_ln=True),
        {"clip.vision.image_min_pixels": 32 * 32, "clip.vision.image_max_pixels": 64 * 64},
    ),
    "pixtral": (
        _Vit(patch_size=8, pos_rows=None, norm_bias=False, qkv_bias=False, ffn_gate=True, pre_ln=True),
        {"clip.use_silu": True},
    ),
    "qwen2vl_merger": (_Vit(patch_size=8, pos_rows=None, patch_embd_1=True), {}),
    "qwen2.5vl_merger": (
        _Vit(patch_size=8, pos_rows=None, patch_embd_1=True, norm_bias=False, ffn_gate=True),
        {"clip.vision.n_wa_pattern": 2, "clip.use_silu": True},
    ),
    "internvl": (_Vit(class_embd=True, pos_rows="patches+1"), {"clip.vision.projector.scale_factor": 2}),
    "llama4": (
        _Vit(
            image_size=32,
            patch_size=8,
            class_embd=True,
            pos_rows="patches+1",
            patch_embd_2d=True,
            pre_ln=True,
            post_ln=True,
        ),
        {"clip.vision.projector.scale_factor": 2},
    ),
    "kimivl": (_Vit(patch_size=8, pos_rows="square", pos_square_side=4), {"clip.vision.projector.scale_factor": 2}),
    "glm4v": (
        _Vit(
            patch_size=8,
            pos_rows=None,
            patch_bias=True,
            patch_embd_1=True,
            norm_bias=False,
            qkv_bias=False,
            ffn_gate=True,
            post_ln=True,
        ),
        {"clip.use_silu": True},
    ),
    "lightonocr": (
        _Vit(image_size=64, patch_size=8, pos_rows=None, norm_bias=False, qkv_bias=False, ffn_gate=True, pre_ln=True),
        {"clip.use_silu": True},
    ),
    # kimik25 sizes its warm-up from image_max_pixels when both bounds are given (else 1024 px)
    "kimik25": (
        _Vit(patch_size=8, pos_rows="grid3d", pos_square_side=4),
        {
            "clip.vision.projector.scale_factor": 2,
            "clip.vision.image_min_pixels": 32 * 32,
            "clip.vision.image_max_pixels": 128 * 128,
        },
    ),
    "paddleocr": (
        _Vit(patch_size=8, pos_rows="square", pos_square_side=4, post_ln=True),
        {"clip.vision.image_min_pixels": 32 * 32, "clip.vision.image_max_pixels": 128 * 128},
    ),
    "dots_ocr": (
        _Vit(patch_size=8, pos_rows=None, norm_bias=False, qkv_bias=False, ffn_gate=True),
        {
            "clip.use_silu": True,
            "clip.vision.projector.scale_factor": 2,
            "clip.vision.image_min_pixels": 32 * 32,
            "clip.vision.image_max_pixels": 128 * 128,
        },
    ),
    "qwen3vl_merger": (
        _Vit(
            patch_size=8,
            pos_rows="square",
            pos_square_side=4,
            patch_bias=True,
            patch_embd_1=True,
            fused_qkv=True,
            post_ln=True,
        ),
        {},
    ),
    "nemotron_v2_vl": (
        _Vit(class_embd=True, class_rows=2, pos_rows="patches"),
        {"clip.vision.projector.scale_factor": 2},
    ),
    "cogvlm": (_Vit(class_embd=True, pos_rows="patches+1", fused_qkv=True), {}),
    # gemma4v: two learned position tables (x, y) of pos_square_side rows each; patch 16 keeps
    # the test image at 40x30 patches (133 tokens after the 3x3 pooling, limits 70..1120)
    "gemma4v": (
        _Vit(patch_size=16, pos_rows="xy", pos_square_side=64, norm_bias=False, qkv_bias=False, ffn_gate=True),
        {"clip.use_gelu": True},
    ),
}

LOADABLE_PROJECTOR_TYPES: tuple[str, ...] = tuple(_SPECS)

# the type string written in clip.projector_type for each builder type
_TYPE_STRING = {"mlp_norm": "mlp"}

# the tensor (and ne index) that clip_n_mmproj_embd reads, per type
WIDTH_TENSOR: dict[str, tuple[str, int]] = {
    "mlp": ("mm.2.weight", 1),
    "mlp_norm": ("mm.3.bias", 0),
    "ldpv2": ("mm.model.peg.0.bias", 0),
    "gemma3": ("mm.input_projection.weight", 0),
    "idefics3": ("mm.model.fc.weight", 1),
    "lfm2": ("mm.2.weight", 1),
    "janus_pro": ("mm.1.bias", 0),
    "phi4": ("mm.2.weight", 1),
    "pixtral": ("mm.2.weight", 1),
    "qwen2vl_merger": ("mm.2.bias", 0),
    "qwen2.5vl_merger": ("mm.2.bias", 0),
    "internvl": ("mm.model.mlp.3.weight", 1),
    "llama4": ("mm.model.fc.weight", 1),
    "kimivl": ("mm.2.weight", 1),
    "glm4v": ("mm.down.weight", 1),
    "lightonocr": ("mm.2.weight", 1),
    "kimik25": ("mm.2.weight", 1),
    "paddleocr": ("mm.2.weight", 1),
    "dots_ocr": ("mm.2.weight", 1),
    "qwen3vl_merger": ("mm.2.bias", 0),
    "nemotron_v2_vl": ("mm.model.mlp.3.weight", 1),
    "cogvlm": ("mm.down.weight", 1),
    "gemma4v": ("mm.input_projection.weight", 1),
}


def _projector_tensors(kind: str, v: _Vit, out: int, hidden: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The ``mm.*`` (and type-specific ``v.*``) tensors of one projector type, ne-ordered."""
    e = v.n_embd
    t: dict[str, np.ndarray] = {}

    def r(*ne: int) -> np.ndarray:
        return _rand(rng, ne)

    if kind == "mlp":
        t["mm.0.weight"], t["mm.0.bias"] = r(e, hidden), r(hidden)
        t["mm.2.weight"], t["mm.2.bias"] = r(hidden, out), r(out)
    elif kind == "mlp_norm":
        t["mm.0.weight"], t["mm.0.bias"] = r(e, hidden), r(hidden)
        t["mm.1.weight"], t["mm.1.bias"] = _ones([hidden]), r(hidden)
        t["mm.3.weight"], t["mm.3.bias"] = r(hidden, out), r(out)
        t["mm.4.weight"], t["mm.4.bias"] = _ones([out]), r(out)
    elif kind == "ldpv2":
        t["mm.model.mlp.0.weight"], t["mm.model.mlp.0.bias"] = r(e, hidden), r(hidden)
        t["mm.model.mlp.2.weight"], t["mm.model.mlp.2.bias"] = r(hidden, out), r(out)
        # depthwise conv kernel must be F16: ggml_conv_2d_dw's im2col yields F16, and the CPU
        # backend has no F32 x F16 matmul (F32 here -> GGML_ASSERT(*cur_backend_id != -1))
        t["mm.model.peg.0.weight"], t["mm.model.peg.0.bias"] = r(3, 3, 1, out).astype(np.float16), r(out)
    elif kind == "gemma3":
        t["mm.input_projection.weight"] = r(out, e)
        t["mm.soft_emb_norm.weight"] = _ones([e])
    elif kind == "idefics3":
        t["mm.model.fc.weight"] = r(e * 4, out)
    elif kind in ("lfm2", "kimivl", "kimik25", "paddleocr"):
        norm = e * 4 if kind == "lfm2" else e  # lfm2 normalises after the pixel unshuffle
        t["mm.input_norm.weight"], t["mm.input_norm.bias"] = _ones([norm]), r(norm)
        t["mm.1.weight"], t["mm.1.bias"] = r(e * 4, hidden), r(hidden)
        t["mm.2.weight"], t["mm.2.bias"] = r(hidden, out), r(out)
    elif kind == "janus_pro":
        t["mm.0.weight"], t["mm.0.bias"] = r(e, hidden), r(hidden)
        t["mm.1.weight"], t["mm.1.bias"] = r(hidden, out), r(out)
    elif kind == "phi4":
        t["mm.0.weight"], t["mm.0.bias"] = r(e, hidden), r(hidden)
        t["mm.2.weight"], t["mm.2.bias"] = r(hidden, out), r(out)
    elif kind == "lightonocr":
        t["mm.1.weight"], t["mm.1.bias"] = r(e, hidden), r(hidden)
        t["mm.2.weight"], t["mm.2.bias"] = r(hidden, out), r(out)
    elif kind == "dots_ocr":
        t["mm.input_norm.weight"], t["mm.input_norm.bias"] = _ones([e]), r(e)
        t["mm.post_norm.weight"] = _ones([e])  # post_trunk_norm, replaces v.post_ln
        t["mm.0.weight"], t["mm.0.bias"] = r(e * 4, hidden), r(hidden)
        t["mm.2.weight"], t["mm.2.bias"] = r(hidden, out), r(out)
    elif kind == "nemotron_v2_vl":
        t["mm.model.mlp.0.weight"] = _ones([e * 4])
        t["mm.model.mlp.1.weight"] = r(e * 4, hidden)
        t["mm.model.mlp.3.weight"] = r(hidden, out)
    elif kind == "cogvlm":
        t["mm.model.fc.weight"] = r(e, hidden)
        t["mm.post_fc_norm.weight"], t["mm.post_fc_norm.bias"] = _ones([hidden]), r(hidden)
        t["mm.up.weight"], t["mm.gate.weight"] = r(hidden, hidden * 2), r(hidden, hidden * 2)
        t["mm.down.weight"] = r(hidden * 2, out)
        t["v.boi"], t["v.eoi"] = r(out), r(out)
    elif kind == "gemma4v":
        t["mm.input_projection.weight"] = r(e, out)
    elif kind == "pixtral":
        t["mm.1.weight"], t["mm.1.bias"] = r(e, hidden), r(hidden)
        t["mm.2.weight"], t["mm.2.bias"] = r(hidden, out), r(out)
        t["v.token_embd.img_break"] = r(out)
    elif kind in ("qwen2vl_merger", "qwen2.5vl_merger", "qwen3vl_merger"):
        t["mm.0.weight"], t["mm.0.bias"] = r(e * 4, hidden), r(hidden)
        t["mm.2.weight"], t["mm.2.bias"] = r(hidden, out), r(out)
    elif kind == "internvl":
        t["mm.model.mlp.0.weight"], t["mm.model.mlp.0.bias"] = _ones([e * 4]), r(e * 4)
        t["mm.model.mlp.1.weight"], t["mm.model.mlp.1.bias"] = r(e * 4, hidden), r(hidden)
        t["mm.model.mlp.3.weight"], t["mm.model.mlp.3.bias"] = r(hidden, out), r(out)
    elif kind == "llama4":
        t["mm.model.mlp.1.weight"] = r(e * 4, hidden)
        t["mm.model.mlp.2.weight"] = r(hidden, hidden)
        t["mm.model.fc.weight"] = r(hidden, out)
    elif kind == "glm4v":
        t["mm.patch_merger.weight"], t["mm.patch_merger.bias"] = r(2, 2, e, hidden), r(hidden)
        t["mm.model.fc.weight"] = r(hidden, hidden)
        t["mm.post_norm.weight"], t["mm.post_norm.bias"] = _ones([hidden]), r(hidden)
        t["mm.up.weight"], t["mm.gate.weight"] = r(hidden, hidden * 2), r(hidden, hidden * 2)
        t["mm.down.weight"] = r(hidden * 2, out)
    else:  # pragma: no cover - guarded by _SPECS
        raise ValueError(kind)
    return t


def write_tiny_projector(
    path: Path | str,
    projector_type: str,
    *,
    n_embd_out: int,
    hidden: int = 48,
    projection_dim: int | None = None,
    type_string: str | None = None,
    has_vision_encoder: bool | None = True,
    seed: int = 0,
    drop_tensors: Iterable[str] = (),
    override_shapes: Mapping[str, Sequence[int]] | None = None,
    extra_tensors: Mapping[str, Sequence[int]] | None = None,
    extra_keys: Mapping[str, Any] | None = None,
    remove_keys: Iterable[str] = (),
) -> Path:
    """Write a tiny ``clip`` projector of ``projector_type`` whose output width is ``n_embd_out``.

    ``projector_type`` is one of :data:`LOADABLE_PROJECTOR_TYPES`; the file loads and encodes in
    llama.cpp when paired with a text model of width ``n_embd_out``. ``hidden`` is the width
    of the projector's inner layer(s). Corruption knobs:

    * ``projection_dim`` -- the value of ``clip.vision.projection_dim`` (default: ``n_embd_out``);
    * ``type_string`` -- written verbatim as ``clip.projector_type`` (``""`` writes an empty
      string); ``remove_keys=["clip.projector_type"]`` drops the key;
    * ``has_vision_encoder`` -- ``False`` writes the flag false, ``None`` omits it;
    * ``drop_tensors`` / ``override_shapes`` (ggml ``ne`` order) / ``extra_tensors``;
    * ``extra_keys`` (added or replaced; Python ints become UINT32, lists of ints INT32 arrays,
      or pass ``(value, GGUFValueType)``) / ``remove_keys``.
    """
    if projector_type not in _SPECS:
        raise ValueError(f"unsupported projector type {projector_type!r}; have {LOADABLE_PROJECTOR_TYPES}")
    vit, type_keys = _SPECS[projector_type]
    rng = np.random.default_rng(seed)
    e, ps = vit.n_embd, vit.patch_size
    n_patches = (vit.image_size // ps) ** 2

    doc = _Doc("clip")
    doc.string("general.name", f"tiny-{projector_type}-{n_embd_out}")
    doc.string("general.type", "mmproj")
    doc.u32("general.file_type", 0)
    default_type = _TYPE_STRING.get(projector_type, projector_type)
    doc.string("clip.projector_type", default_type if type_string is None else type_string)
    if has_vision_encoder is not None:
        doc.boolean("clip.has_vision_encoder", has_vision_encoder)
    doc.u32("clip.vision.image_size", vit.image_size)
    doc.u32("clip.vision.patch_size", ps)
    doc.u32("clip.vision.embedding_length", e)
    doc.u32("clip.vision.feed_forward_length", vit.n_ff)
    doc.u32("clip.vision.block_count", vit.n_layer)
    doc.u32("clip.vision.projection_dim", n_embd_out if projection_dim is None else projection_dim)
    doc.u32("clip.vision.attention.head_count", vit.n_head)
    doc.f32("clip.vision.attention.layer_norm_epsilon", 1e-6)
    doc.array("clip.vision.image_mean", [0.5, 0.5, 0.5], _T.FLOAT32)
    doc.array("clip.vision.image_std", [0.5, 0.5, 0.5], _T.FLOAT32)
    for key, value in type_keys.items():
        doc.keys[key] = _infer_key(value)

    t = doc.tensors
    if vit.patch_embd_2d:
        t["v.patch_embd.weight"] = _rand(rng, [ps * ps * 3, e])
    else:
        t["v.patch_embd.weight"] = _rand(rng, [ps, ps, 3, e])
    if vit.patch_embd_1:
        t["v.patch_embd.weight.1"] = _rand(rng, [ps, ps, 3, e])
    if vit.patch_bias:
        t["v.patch_embd.bias"] = _rand(rng, [e])
    if vit.class_embd:
        t["v.class_embd"] = _rand(rng, [e] if vit.class_rows == 1 else [e, vit.class_rows])
    if vit.pos_rows == "grid3d":
        t["v.position_embd.weight"] = _rand(rng, [e, vit.pos_square_side, vit.pos_square_side])
    elif vit.pos_rows == "xy":
        t["v.position_embd.weight"] = _rand(rng, [e, vit.pos_square_side, 2])
    elif vit.pos_rows is not None:
        rows = {"patches": n_patches, "patches+1": n_patches + 1, "square": vit.pos_square_side**2}[vit.pos_rows]
        t["v.position_embd.weight"] = _rand(rng, [e, rows])
    if vit.pre_ln:
        t["v.pre_ln.weight"] = _ones([e])
        if vit.norm_bias:
            t["v.pre_ln.bias"] = _zeros([e])
    for i in range(vit.n_layer):
        p = f"v.blk.{i}."
        if vit.fused_qkv:
            t[p + "attn_qkv.weight"] = _rand(rng, [e, 3 * e])
            if vit.qkv_bias:
                t[p + "attn_qkv.bias"] = _rand(rng, [3 * e])
        for proj in ("attn_out",) if vit.fused_qkv else ("attn_q", "attn_k", "attn_v", "attn_out"):
            t[p + proj + ".weight"] = _rand(rng, [e, e])
            if vit.qkv_bias:
                t[p + proj + ".bias"] = _rand(rng, [e])
        for ln in ("ln1", "ln2"):
            t[p + ln + ".weight"] = _ones([e])
            if vit.norm_bias:
                t[p + ln + ".bias"] = _zeros([e])
        t[p + "ffn_up.weight"] = _rand(rng, [e, vit.n_ff])
        t[p + "ffn_down.weight"] = _rand(rng, [vit.n_ff, e])
        if vit.ffn_gate:
            t[p + "ffn_gate.weight"] = _rand(rng, [e, vit.n_ff])
        else:
            t[p + "ffn_up.bias"] = _rand(rng, [vit.n_ff])
            t[p + "ffn_down.bias"] = _rand(rng, [e])
    if vit.post_ln:
        t["v.post_ln.weight"] = _ones([e])
        if vit.norm_bias:
            t["v.post_ln.bias"] = _zeros([e])
    t.update(_projector_tensors(projector_type, vit, n_embd_out, hidden, rng))
    return _apply_and_write(
        doc,
        Path(path),
        drop_tensors=drop_tensors,
        override_shapes=override_shapes,
        extra_keys=extra_keys,
        remove_keys=remove_keys,
        extra_tensors=extra_tensors,
        rng=rng,
    )
