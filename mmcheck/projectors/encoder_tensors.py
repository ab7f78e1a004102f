"""The encoder tensors llama.cpp's projector loader requires, and the shapes its graphs need them in.

One table, read from ``clip_model_loader::load_tensors`` (ggml-org/llama.cpp tools/mtmd/clip.cpp@0c1e570,
lines 2130-3624; every line number below is a clip.cpp line at that commit unless a file is named).
``get_tensor(name)`` throws ``load_tensors: unable to find tensor NAME`` for a missing tensor unless it is
called with ``required = false`` (clip.cpp:2165-2185), so only the calls without ``false`` are listed:

- ``COMMON_LAYERS``: the per-layer tensors every tower with "standard layers" loads (clip.cpp:2270-2317):
  ``{p}.blk.{i}.attn_out.weight`` always, ``ffn_up``/``ffn_down`` unless the layer is MoE;
- ``TYPE_TENSORS``: what a projector type's own ``case`` adds, on the encoder side (names outside the
  ``mm.*`` / ``resampler.*`` / ``adapter.*`` projection namespaces, which ``compat_db`` lists).

Placeholders: ``{p}`` is the tower's tensor prefix (``v``, ``a``, ``a.gen.code``; clip.cpp:2142-2144),
``{i}``/``{j}`` an index over the entry's ``index`` ranges. Optional tensors (``get_tensor(.., false)``)
are deliberately absent: their absence is never a finding here.

The shape relations (``shape_problems``) are the ones the encoder graphs rely on, with the line that
relies on them. No numpy, no gguf: header-only checks import this.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from mmcheck.header import GGUFHeader, TensorInfo

SOURCE = "ggml-org/llama.cpp tools/mtmd/clip.cpp@0c1e570"

#: tensor prefix per tower (clip.cpp:2142-2144)
TOWER_PREFIX = {"vision": "v", "audio": "a", "gen_audio": "a.gen.code"}
#: hparams key prefix per tower: n_embd, n_layer... are read from ``clip.<m>.*`` (clip.cpp:1305-1310)
KEY_PREFIX = {"vision": "clip.vision", "audio": "clip.audio", "gen_audio": "clip.gen.audio"}

# -- index ranges -----------------------------------------------------------------------------------
#: ``[0, clip.<m>.block_count)``: hparams.n_layer (clip.cpp:1310)
BLOCKS = "blocks"
#: ``[1, clip.<m>.block_count]``: qwen3tts_spkenc numbers its blocks ``bid = il + 1`` (clip.cpp:2962-2964)
BLOCKS_FROM_1 = "blocks_from_1"
#: ``[0, clip.vision.sam.block_count)`` (read as required, clip.cpp:1918; loop clip.cpp:3270-3272)
SAM_BLOCKS = "sam_blocks"
#: ``[0, len(clip.vision.feature_layer))`` (clip.cpp:1419 reads it; granite4_vision loop clip.cpp:3571-3573)
FEATURE_LAYERS = "feature_layers"
#: consecutive indices from 0 while the entry's ``probe`` tensor exists (pockettts_gen, clip.cpp:3025-3030)
PROBE = "probe"
#: the fixed ranges of the loops (their bounds are constants in clip.cpp)
R2, R3, R4, R7, R8 = (0, 1), (0, 1, 2), (0, 1, 2, 3), tuple(range(7)), tuple(range(8))
CONV_0_2_3_5_6 = (0, 2, 3, 5, 6)  # lfm2a / parakeet pre-encode convs (clip.cpp:3380, 3431)
SEANET_STAGES = R3  # seanet_n_stage = len({4, 5, 6}) (clip.cpp:1890-1891)

Range = str | tuple[int, ...]

#: condition: minicpmv4_6's ViT merger is required when the merge factor is 4 (clip.cpp:2452); the factor is
#: ``clip.vision.projector.scale_factor``, default 4 (clip.cpp:1463-1464)
MERGE4 = "merge4"


class TensorReq(NamedTuple):
    """A tensor llama.cpp's loader requires: name template, clip.cpp line, index ranges, condition."""

    name: str
    line: int
    ranges: tuple[Range, ...] = ()  # one per {i}/{j} placeholder of the name
    when: str | None = None  # MERGE4
    unless: str | None = None  # a tensor (template) whose presence lifts the requirement
    probe: str | None = None  # for PROBE ranges: the tensor whose presence continues the loop
    failure: str | None = None  # what llama.cpp says when it is missing, if not ``unable to find tensor``

    def citation(self) -> str:
        """``clip.cpp:NNNN``."""
        return f"clip.cpp:{self.line}"


_T = TensorReq
_MOE = "{p}.blk.{i}.ffn_gate_exps.weight"  # is_moe = ffn_gate_exps present (clip.cpp:2305, 2309)

#: Loaded for every layer of a tower with standard layers (clip.cpp:2276-2317).
COMMON_LAYERS: tuple[TensorReq, ...] = (
    _T("{p}.blk.{i}.attn_out.weight", 2283, (BLOCKS,)),
    _T("{p}.blk.{i}.ffn_up.weight", 2312, (BLOCKS,), unless=_MOE),
    _T("{p}.blk.{i}.ffn_down.weight", 2316, (BLOCKS,), unless=_MOE),
)

#: Types without the standard per-layer loop (has_standard_layers, clip.cpp:2270-2273).
NO_STANDARD_LAYERS = frozenset({"gemma3nv", "qwen3tts_spkenc", "pockettts_gen"})

#: Types llama.cpp never gets to load tensors for: gemma3na has no load_hparams case (a lone gemma3na
#: tower throws ``unknown vision projector type``, clip.cpp:2038; next to gemma3nv it is skipped, :4021).
NOT_LOADED = frozenset({"gemma3na"})


def _seanet(pre: str) -> tuple[TensorReq, ...]:
    """``load_seanet`` (clip.cpp:2187-2208): the shared SEANet tensors under ``pre``."""
    return (
        _T(f"{pre}.conv_in.weight", 2194),
        _T(f"{pre}.conv_in.bias", 2195),
        _T(f"{pre}.conv_out.weight", 2196),
        _T(f"{pre}.conv_out.bias", 2197),
        _T(f"{pre}.blk.{{i}}.res_conv1.weight", 2202, (SEANET_STAGES,)),
        _T(f"{pre}.blk.{{i}}.res_conv1.bias", 2203, (SEANET_STAGES,)),
        _T(f"{pre}.blk.{{i}}.res_conv2.weight", 2204, (SEANET_STAGES,)),
        _T(f"{pre}.blk.{{i}}.res_conv2.bias", 2205, (SEANET_STAGES,)),
        _T(f"{pre}.blk.{{i}}.scale_conv.weight", 2206, (SEANET_STAGES,)),
        _T(f"{pre}.blk.{{i}}.scale_conv.bias", 2207, (SEANET_STAGES,)),
    )


def _whisper_convs(first: int) -> tuple[TensorReq, ...]:
    """``a.conv1d.{1,2}.{weight,bias}`` at lines ``first``..``first + 3`` (whisper-style audio stems)."""
    return (
        _T("a.conv1d.1.weight", first),
        _T("a.conv1d.1.bias", first + 1),
        _T("a.conv1d.2.weight", first + 2),
        _T("a.conv1d.2.bias", first + 3),
    )


def _conv2d_stem(first: int) -> tuple[TensorReq, ...]:
    """``a.conv2d.{1,2,3}.{weight,bias}`` and ``a.conv_out.weight`` at ``first``..``first + 6``."""
    names = [f"a.conv2d.{k}.{s}" for k in (1, 2, 3) for s in ("weight", "bias")] + ["a.conv_out.weight"]
    return tuple(_T(n, first + k) for k, n in enumerate(names))


def _sam() -> tuple[TensorReq, ...]:
    """deepseekocr / deepseekocr2: the SAM encoder (clip.cpp:3267-3298)."""
    blk = [
        "attn.qkv.weight", "attn.qkv.bias", "attn.out.weight", "attn.out.bias",
        "pre_ln.weight", "pre_ln.bias", "post_ln.weight", "post_ln.bias",
        "attn.pos_h.weight", "attn.pos_w.weight",
        "mlp.lin1.weight", "mlp.lin1.bias", "mlp.lin2.weight", "mlp.lin2.bias",
    ]  # fmt: skip
    neck = ["neck.0.weight", "neck.1.bias", "neck.1.weight", "neck.2.weight", "neck.3.bias", "neck.3.weight"]
    return (
        _T("v.sam.pos_embd.weight", 3267),
        _T("v.sam.patch_embd.weight", 3268),
        _T("v.sam.patch_embd.bias", 3269),
        *(_T(f"v.sam.blk.{{i}}.{s}", 3274 + k, (SAM_BLOCKS,)) for k, s in enumerate(blk)),
        *(_T(f"v.sam.{s}", 3289 + k) for k, s in enumerate(neck)),
        _T("v.sam.net_2.weight", 3295),
        _T("v.sam.net_3.weight", 3296),
        _T("v.view_seperator", 3298),  # sic: TN_IMAGE_SEPERATOR
    )


def _qformer_layer(first: int, rng: Range) -> tuple[TensorReq, ...]:
    """One Q-Former projector layer ``{p}.proj_blk.{i}.*`` (granite_speech, granite4_vision):
    self-attention, cross-attention and FFN weights/biases, listed from line ``first`` in source order."""
    parts = ["self_attn_q", "self_attn_k", "self_attn_v", "self_attn_out", "self_attn_norm"]
    cross = ["cross_attn_q", "cross_attn_k", "cross_attn_v", "cross_attn_out", "cross_attn_norm"]
    ffn = ["ffn_up", "ffn_down", "ffn_norm"]
    out: list[TensorReq] = []
    line = first
    for group in (parts, cross, ffn):
        for part in group:
            for s in ("weight", "bias"):
                out.append(_T(f"{{p}}.proj_blk.{{i}}.{part}.{s}", line, (rng,)))
                line += 1
        line += 1  # the blank line between the groups
    return tuple(out)


def _at(spec: str) -> list[tuple[str, int]]:
    """``"name:line name:line ..."`` as (name, line) pairs."""
    return [(s, int(n)) for s, n in (item.rsplit(":", 1) for item in spec.split())]


def _run(first: int, names: str, template: str = "{}", index: tuple[Range, ...] = (), **kw: str) -> list[TensorReq]:
    """Entries for ``names`` (space-separated) called on consecutive lines from ``first``."""
    return [_T(template.format(s), first + k, index, **kw) for k, s in enumerate(names.split())]


def _blocks(spec: str, rng: Range = BLOCKS) -> list[TensorReq]:
    """Per-layer entries ``{p}.blk.{i}.<name>`` from a ``"name:line ..."`` spec."""
    return [_T(f"{{p}}.blk.{{i}}.{s}", line, (rng,)) for s, line in _at(spec)]


#: Encoder-side tensors each projector type's own ``case`` requires (clip.cpp:2366-3624). Types not
#: listed require none beyond COMMON_LAYERS (their required tensors are all projection tensors).
TYPE_TENSORS: dict[str, tuple[TensorReq, ...]] = {
    "minicpmv4_6": tuple(
        _T(f"v.vit_merger.{s}", line, when=MERGE4)
        for s, line in _at(
            "ln1.weight:2458 ln1.bias:2459 attn_q.weight:2460 attn_k.weight:2462 attn_v.weight:2464"
            " attn_out.weight:2466 ds_ln.weight:2469 ds_ln.bias:2470 ds_ffn_up.weight:2471 ds_ffn_down.weight:2473"
        )
    ),
    # yasa2 asserts it (GGML_ASSERT, an abort rather than a refusal): clip.cpp:2568
    "yasa2": (_T("v.patch_embd.weight", 2568, failure='GGML_ASSERT "yasa2 requires v.patch_embd.weight"'),),
    "gemma4uv": tuple(_run(2662, "1.weight 1.bias 2.weight 2.bias 3.weight 3.bias", "v.patch_norm.{}")),
    "deepseek4v": tuple(_run(2793, "v.image_newline v.token_embd.img_start v.token_embd.img_end v.token_embd.img_pad")),
    "pixtral": (_T("v.token_embd.img_break", 2805),),
    "dots3note_a": _conv2d_stem(2833),
    "ultravox": _whisper_convs(2850),
    "meralion": _whisper_convs(2862),
    "qwen2a": _whisper_convs(2885),
    "qwen3a": _conv2d_stem(2894),
    "mimo_audio": (
        *_whisper_convs(2908),
        *_run(2912, "a.downsample.conv.weight a.downsample.norm.weight a.downsample.norm.bias"),
        # loaded as optional, then ``mimo_audio: missing ...`` is thrown (clip.cpp:2915-2919)
        _T("a.rvq.codebook.weight", 2918, failure="mimo_audio: missing a.rvq.codebook.%s or mm.a.code_embd.%s"),
    ),
    "qwen3tts_spkenc": (
        _T("a.conv1d.0.weight", 2957),
        _T("a.conv1d.0.bias", 2958),
        *_blocks("conv_pw1.weight:2965 conv_pw1.bias:2966 conv_pw2.weight:2967 conv_pw2.bias:2968", BLOCKS_FROM_1),
        # TN_A_SE_CONV1/2 and TN_A_CONV_RES2 spell the "a." prefix out
        *_run(2969, "se_conv1.weight se_conv1.bias se_conv2.weight se_conv2.bias", "a.blk.{{i}}.{}", (BLOCKS_FROM_1,)),
        _T("a.blk.{i}.res2.{j}.weight", 2976, (BLOCKS_FROM_1, R7)),
        _T("a.blk.{i}.res2.{j}.bias", 2977, (BLOCKS_FROM_1, R7)),
        _T("a.conv_out.weight", 2982),
        _T("a.conv_out.bias", 2983),
        *_run(2986, "a.asp_attn.weight a.asp_attn.bias a.asp_tdnn.weight a.asp_tdnn.bias"),
    ),
    "pockettts_spkenc": (
        *_seanet("a.seanet"),
        _T("a.downsample.conv.weight", 2998),
        _T("a.speaker_proj.weight", 2999),
    ),
    "pockettts_gen": (
        *_run(
            3004,
            "input_proj.weight input_proj.bias cond_embd.weight cond_embd.bias final.ada.weight final.ada.bias"
            " final.proj.weight final.proj.bias",
            "a.gen.flow.{}",
        ),
        # flow.time.resize(2) (clip.cpp:3013)
        *_run(3016, "freqs up.weight up.bias down.weight down.bias norm", "a.gen.flow.time.{{i}}.{}", (R2,)),
        *_run(
            3032,
            "norm.bias up.weight up.bias down.weight down.bias ada.weight ada.bias",
            "a.gen.flow.blk.{{i}}.{}",
            (PROBE,),
            probe="a.gen.flow.blk.{i}.norm.weight",
        ),
        *_run(3042, "a.gen.out_eos.weight a.gen.out_eos.bias a.gen.input_linear.weight a.gen.emb_mean a.gen.emb_std"),
        _T("a.gen.wav.quant_out.weight", 3049),
        _T("a.gen.wav.upsample.weight", 3050),
        *_seanet("a.gen.wav.seanet"),
        *_run(
            3056,
            "ln1.weight ln1.bias attn_q.weight attn_k.weight attn_v.weight attn_out.weight ls1.weight ln2.weight"
            " ln2.bias ffn_up.weight ffn_down.weight ls2.weight",
            "a.gen.wav.tfm.blk.{{i}}.{}",
            (BLOCKS,),
        ),
    ),
    "qwen3tts_gen": (
        *_run(3075, "embd.weight head.weight out_embd.weight output_norm.weight", "a.gen.code.{}"),
        *_run(
            3084,
            "first.in_proj first.out_proj first.codebook rest.in_proj rest.out_proj rest.codebook",
            "a.gen.wav.quant.{}.weight",
        ),
        _T("a.gen.wav.pre_conv.weight", 3091),
        _T("a.gen.wav.pre_conv.bias", 3092),
        *_run(
            3094,
            "in_proj.weight in_proj.bias out_proj.weight out_proj.bias output_norm.weight",
            "a.gen.wav.tfm.{}",
        ),
        # wav_tfm_n_layer = 8 (clip.cpp:1871)
        *_run(
            3105,
            "attn_q.weight attn_k.weight attn_v.weight attn_out.weight ln1.weight ln2.weight ls1.weight ls2.weight"
            " ffn_gate.weight ffn_up.weight ffn_down.weight",
            "a.gen.wav.tfm.blk.{{i}}.{}",
            (R8,),
        ),
        # wav_upsample_n_block = 2 (clip.cpp:1878)
        *_run(
            3122,
            "conv.weight conv.bias dwconv.weight dwconv.bias norm.weight norm.bias pw1.weight pw1.bias pw2.weight"
            " pw2.bias gamma",
            "a.gen.wav.up.blk.{{i}}.{}",
            (R2,),
        ),
        _T("a.gen.wav.dac.entry.weight", 3136),
        _T("a.gen.wav.dac.entry.bias", 3137),
        # wav_dac_n_block = 4, wav_dac_n_res = 3 (clip.cpp:1879-1880)
        *_run(3142, "snake.alpha snake.beta conv.weight conv.bias", "a.gen.wav.dac.blk.{{i}}.{}", (R4,)),
        *_run(
            3150,
            "act1.alpha act1.beta conv1.weight conv1.bias act2.alpha act2.beta conv2.weight conv2.bias",
            "a.gen.wav.dac.blk.{{i}}.res.{{j}}.{}",
            (R4, R3),
        ),
        *_run(3161, "post_snake.alpha post_snake.beta post_conv.weight post_conv.bias", "a.gen.wav.dac.{}"),
    ),
    "voxtral": _whisper_convs(3169),
    "musicflamingo": _whisper_convs(3178),
    "glma": (*_whisper_convs(3204), _T("v.boi", 3214), _T("v.eoi", 3215)),
    "cogvlm": (_T("v.boi", 3231), _T("v.eoi", 3232)),
    "hunyuanvl": (_T("v.image_newline", 3247),),
    "deepseekocr": _sam(),
    "deepseekocr2": _sam(),
    "gemma4a": (
        _T("a.conv1d.{i}.weight", 3307, (R2,)),
        _T("a.input_projection.weight", 3311),
        *_blocks(
            "ffn_norm.weight:3324 conv_pw1.weight:3335 conv_dw.weight:3337 conv_pw2.weight:3341"
            " ffn_norm_1.weight:3345 ffn_up_1.weight:3346 ffn_down_1.weight:3348"
        ),
    ),
    "lfm2a": (
        _T("a.conv1d.{i}.weight", 3381, (CONV_0_2_3_5_6,)),
        _T("a.conv1d.{i}.bias", 3382, (CONV_0_2_3_5_6,)),
        _T("a.pre_encode.out.weight", 3384),
        _T("a.pre_encode.out.bias", 3385),
        *_blocks(
            "ffn_norm.weight:3397 ffn_norm.bias:3398 ffn_norm_1.weight:3399 ffn_norm_1.bias:3400"
            " ffn_up_1.weight:3401 ffn_up_1.bias:3402 ffn_down_1.weight:3403 ffn_down_1.bias:3404"
            " pos_bias_u:3406 pos_bias_v:3407 norm_conv.weight:3409 norm_conv.bias:3410 linear_pos.weight:3412"
            " conv_norm.weight:3414 conv_norm.bias:3415 conv_dw.weight:3416 conv_dw.bias:3417"
            " conv_pw1.weight:3418 conv_pw1.bias:3419 conv_pw2.weight:3420 conv_pw2.bias:3421"
        ),
    ),
    "parakeet": (
        _T("a.conv1d.{i}.weight", 3432, (CONV_0_2_3_5_6,)),
        _T("a.conv1d.{i}.bias", 3433, (CONV_0_2_3_5_6,)),
        _T("a.pre_encode.out.weight", 3435),
        _T("a.pre_encode.out.bias", 3436),
        *_blocks(
            "linear_pos.weight:3450 pos_bias_u:3451 pos_bias_v:3452 conv_pw1.weight:3455 conv_dw.weight:3457"
            " conv_norm.weight:3459 conv_norm.bias:3460 conv_norm_mean:3461 conv_norm_var:3462"
            " conv_pw2.weight:3463 ffn_norm.weight:3467 ffn_norm.bias:3468 ffn_norm_1.weight:3470"
            " ffn_norm_1.bias:3471 ffn_up_1.weight:3472 ffn_down_1.weight:3474 norm_conv.weight:3478"
            " norm_conv.bias:3479"
        ),
    ),
    "granite_speech": (
        *_run(
            3488,
            "input_projection.weight input_projection.bias enc_ctc_out.weight enc_ctc_out.bias"
            " enc_ctc_out_mid.weight enc_ctc_out_mid.bias",
            "a.{}",
        ),
        *_blocks(
            "attn_rel_pos_emb:3499 ffn_norm.weight:3501 ffn_norm.bias:3502 ffn_norm_1.weight:3504"
            " ffn_norm_1.bias:3505 ffn_up_1.weight:3506 ffn_up_1.bias:3507 ffn_down_1.weight:3508"
            " ffn_down_1.bias:3509 norm_conv.weight:3511 norm_conv.bias:3512 conv_norm.weight:3513"
            " conv_norm.bias:3514 conv_dw.weight:3515 conv_pw1.weight:3516 conv_pw1.bias:3517"
            " conv_pw2.weight:3518 conv_pw2.bias:3519"
        ),
        *_run(3524, "proj_query proj_norm.weight proj_norm.bias proj_linear.weight proj_linear.bias", "{{p}}.{}"),
        # n_proj_layers = 2 (clip.cpp:3530)
        *_qformer_layer(3535, R2),
    ),
    "granite4_vision": (
        _T("v.image_newline", 3568),
        _T("v.proj_blk.{i}.img_pos", 3577, (FEATURE_LAYERS,)),
        *_run(
            3578,
            "query linear.weight linear.bias norm.weight norm.bias post_norm.weight post_norm.bias",
            "{{p}}.proj_blk.{{i}}.{}",
            (FEATURE_LAYERS,),
        ),
        *_qformer_layer(3591, FEATURE_LAYERS),
    ),
}


# ------------------------------------------------------------------------------------------------
# Shapes the encoder graphs need
# ------------------------------------------------------------------------------------------------

#: Types whose graph convolves the image with ``v.patch_embd.weight`` at stride patch_size, as
#: ``ggml_conv_2d(patch_embd, inp_raw[W, H, 3, B], patch_size, patch_size, ...)``: the kernel must be
#: ne = [patch_size, patch_size, 3, n_embd]. Value: where.
PATCH_CONV_TYPES: dict[str, str] = {
    **dict.fromkeys(("mlp", "mlp_norm", "ldp", "ldpv2", "adapter"), "build_inp, models/llava.cpp:32"),
    **dict.fromkeys(("gemma3", "idefics3", "lfm2", "janus_pro", "phi4"), "build_inp, models/siglip.cpp:4"),
    **dict.fromkeys(("pixtral", "lightonocr"), "build_inp, models/pixtral.cpp:19"),
    **dict.fromkeys(("dots_ocr", "dots3note_v"), "build_inp, models/dotsocr.cpp:21"),
    "resampler": "build_inp, models/minicpmv.cpp:30",
    "minicpmv4_6": "build_inp, models/minicpmv.cpp:170",
    "internvl": "build_inp, models/internvl.cpp:8",
    "nemotron_v2_vl": "build_inp, models/nemotron-v2-vl.cpp:10",
    "kimivl": "build_inp, models/kimivl.cpp:21",
    "paddleocr": "build_inp, models/paddleocr.cpp:21",
    "kimik25": "build_inp, models/kimik25.cpp:52",
    "deepseek4v": "build_inp, models/deepseek4v.cpp:33",
    "cogvlm": "build_inp, models/cogvlm.cpp:10",
    "hunyuanvl": "build_inp, models/hunyuanvl.cpp:14",
    "muse-glimmer": "build_inp, models/muse-glimmer.cpp:39",
    "step3vl": "build_inp, models/step3vl.cpp:18",
    **dict.fromkeys(("qwen2vl_merger", "qwen2.5vl_merger"), "models/qwen2vl.cpp:15-16"),
    "qwen3vl_merger": "models/qwen3vl.cpp:16 (models/qwen2vl.cpp:15-16)",
    "ling3vl": "models/ling3vl.cpp:17 (models/qwen2vl.cpp:15-16)",
    "exaone4_5": "models/exaone4_5.cpp:23",
    "gemma4v": "models/gemma4v.cpp:12",
    **dict.fromkeys(("glm4v", "glm5v"), "models/glm4v.cpp:12"),
    "granite4_vision": "models/granite4-vision.cpp:35",
    "mimovl": "models/mimovl.cpp:52",
    "minimax_m3": "models/minimax-m3.cpp:37",
}
#: ... and those that convolve with ``v.patch_embd.weight.1`` the same way (the second temporal slice).
PATCH_CONV_1_TYPES = frozenset(
    {"qwen2vl_merger", "qwen2.5vl_merger", "qwen3vl_merger", "ling3vl", "exaone4_5", "glm4v", "glm5v", "mimovl",
     "minimax_m3"}
)  # fmt: skip

#: Types whose graph runs the standard layers on an n_embd-wide residual stream (attn_out and the FFN
#: output are added to it; the FFN input is it): build_vit (clip.cpp:337-568: residual adds :502, :538;
#: build_ffn :627, :692) or a loop of the same form. Value: where.
LAYER_GRAPH_TYPES: dict[str, str] = {
    **dict.fromkeys(("mlp", "mlp_norm", "ldp", "ldpv2", "adapter"), "models/llava.cpp:56-125"),
    **dict.fromkeys(("gemma3", "idefics3", "lfm2", "janus_pro", "phi4"), "build_vit, models/siglip.cpp:11"),
    **dict.fromkeys(("pixtral", "lightonocr"), "build_vit, models/pixtral.cpp:20"),
    **dict.fromkeys(("dots_ocr", "dots3note_v"), "build_vit, models/dotsocr.cpp:22"),
    **dict.fromkeys(
        ("ultravox", "voxtral", "qwen2a", "glma", "meralion", "musicflamingo"), "build_vit, models/whisper-enc.cpp:39"
    ),
    "dots3note_a": "build_vit, models/dots3note.cpp:45",
    "resampler": "build_vit, models/minicpmv.cpp:31",
    "internvl": "build_vit, models/internvl.cpp:21",
    "nemotron_v2_vl": "build_vit, models/nemotron-v2-vl.cpp:18",
    "kimivl": "build_vit, models/kimivl.cpp:22",
    "paddleocr": "build_vit, models/paddleocr.cpp:22",
    "kimik25": "build_vit, models/kimik25.cpp:58",
    "deepseek4v": "build_vit, models/deepseek4v.cpp:34",
    "hunyuanvl": "build_vit, models/hunyuanvl.cpp:15",
    "muse-glimmer": "build_vit, models/muse-glimmer.cpp:63",
    "step3vl": "build_vit, models/step3vl.cpp:43",
    "llama4": "build_vit, models/llama4.cpp:40",
    **dict.fromkeys(("glm4v", "glm5v"), "build_vit, models/glm4v.cpp:73"),
    "gemma4v": "build_vit, models/gemma4v.cpp:76",
    "ling3vl": "build_vit, models/ling3vl.cpp:58",
    "minimax_m3": "build_vit, models/minimax-m3.cpp:55",
    "qwen3a": "build_vit, models/qwen3a.cpp:72",
    "mimo_audio": "build_vit, models/mimo-audio.cpp:56",
    **dict.fromkeys(("qwen2vl_merger", "qwen2.5vl_merger"), "models/qwen2vl.cpp:102-168"),
    "qwen3vl_merger": "models/qwen3vl.cpp:70-140",
    "youtuvl": "models/youtuvl.cpp:89-138",
    "exaone4_5": "models/exaone4_5.cpp:79-144",
    "mimovl": "models/mimovl.cpp:109-180",
    "cogvlm": "models/cogvlm.cpp:18-58",
    "granite4_vision": "models/granite4-vision.cpp:326-357",
}

#: llava's graph stops before the last layer (il_last = n_layer - 1; +1 for adapter/GLM_EDGE), or at the
#: deepest clip.vision.feature_layer (models/llava.cpp:11-29, loop :56): later layers are loaded, not run.
LLAVA_GRAPH_TYPES = frozenset({"mlp", "mlp_norm", "ldp", "ldpv2", "adapter"})

#: Types whose loader swaps ffn_up/ffn_down back when ``ffn_down.ne[0] == n_embd`` (legacy files with the
#: two names exchanged; clip.cpp:2335-2358).
FFN_SWAP_TYPES = frozenset(
    {"mlp", "mlp_norm", "ldp", "ldpv2", "qwen2vl_merger", "qwen2.5vl_merger", "exaone4_5", "adapter", "gemma3",
     "idefics3", "resampler", "minicpmv4_6"}
)  # fmt: skip

#: Types whose graph adds ``v.position_embd.weight`` (rows of n_embd) to the n_embd-wide patch
#: embeddings, directly or through resize_position_embeddings (which reshapes it to n_embd x side x side,
#: clip.cpp:312-331). Value: where.
POSITION_ADD_TYPES: dict[str, str] = {
    **dict.fromkeys(("mlp", "mlp_norm", "ldp", "ldpv2", "adapter"), "models/llava.cpp:43"),
    **dict.fromkeys(("gemma3", "idefics3", "lfm2", "janus_pro", "phi4"), "models/siglip.cpp:6-11, clip.cpp:350"),
    "internvl": "models/internvl.cpp:25, clip.cpp:350",
    "nemotron_v2_vl": "models/nemotron-v2-vl.cpp:13",
    "cogvlm": "models/cogvlm.cpp:13",
    "resampler": "models/minicpmv.cpp:28, clip.cpp:350",
    "llama4": "models/llama4.cpp:44, clip.cpp:350",
    "kimivl": "models/kimivl.cpp:13",
    "paddleocr": "models/paddleocr.cpp:20",
    "step3vl": "models/step3vl.cpp:19",
    "muse-glimmer": "models/muse-glimmer.cpp:40",
    "qwen3vl_merger": "models/qwen3vl.cpp:40",
    "ling3vl": "models/ling3vl.cpp:41",
}

#: ggml tensor type ids of the integer types (I8, I16, I32, I64; ggml.h / mmcheck.header.types)
INTEGER_GGML_TYPES = frozenset({24, 25, 26, 27})
#: a matrix or convolution weight: ``*.weight`` (or qwen2vl's ``v.patch_embd.weight.1``) with >= 2 dims
_WEIGHT_RE = re.compile(r"\.weight(\.\d+)?$")


class Missing(NamedTuple):
    """A required tensor the file lacks, with the entry that requires it."""

    name: str
    req: TensorReq


class EncoderShapeProblem(NamedTuple):
    """A present encoder tensor whose shape the graph cannot use."""

    tensor: str
    shape: tuple[int, ...]
    expected: str  # e.g. "ne == [14, 14, 3, 1024]" or "ne[0] == 1024 (clip.vision.embedding_length)"
    where: str  # the line(s) that rely on it


# ------------------------------------------------------------------------------------------------
# Expanding the table against a header
# ------------------------------------------------------------------------------------------------


def _range(header: "GGUFHeader", modality: str, rng: Range, probe: str | None, prefix: str) -> list[int] | None:
    """The indices of one range, or None when the header does not say (a missing key: MM501's job)."""
    if isinstance(rng, tuple):
        return list(rng)
    if rng in (BLOCKS, BLOCKS_FROM_1):
        n = header.get_int(f"{KEY_PREFIX[modality]}.block_count")
        if n is None:
            return None
        return list(range(n)) if rng == BLOCKS else list(range(1, n + 1))
    if rng == SAM_BLOCKS:
        n = header.get_int("clip.vision.sam.block_count")
        return list(range(n)) if n is not None else None
    if rng == FEATURE_LAYERS:
        arr = header.get_array(f"{KEY_PREFIX[modality]}.feature_layer")
        return list(range(len(arr))) if arr is not None else []
    if rng == PROBE:
        assert probe is not None
        out: list[int] = []
        while probe.format(p=prefix, i=len(out)) in header.tensors:
            out.append(len(out))
        return out
    raise ValueError(f"unknown range {rng!r}")


def _condition(header: "GGUFHeader", when: str | None) -> bool:
    if when is None:
        return True
    if when == MERGE4:
        merge = header.get_int("clip.vision.projector.scale_factor")
        return (merge if merge is not None else 4) == 4
    raise ValueError(f"unknown condition {when!r}")


def requirements(type_id: str) -> tuple[TensorReq, ...]:
    """Every table entry that applies to a tower of ``type_id`` (common layers first)."""
    if type_id in NOT_LOADED:
        return ()
    common = () if type_id in NO_STANDARD_LAYERS else COMMON_LAYERS
    return common + TYPE_TENSORS.get(type_id, ())


def expand(header: "GGUFHeader", modality: str, type_id: str) -> Iterator[tuple[str, TensorReq]]:
    """The concrete tensor names a tower of ``type_id`` must have, each with its table entry."""
    prefix = TOWER_PREFIX[modality]
    for req in requirements(type_id):
        if not _condition(header, req.when):
            continue
        ranges: list[list[int]] = []
        for rng in req.ranges:
            idx = _range(header, modality, rng, req.probe, prefix)
            if idx is None:
                break
            ranges.append(idx)
        else:
            for combo in _product(ranges):
                fmt = {"p": prefix, "i": combo[0] if combo else 0, "j": combo[1] if len(combo) > 1 else 0}
                if req.unless is not None and req.unless.format(**fmt) in header.tensors:
                    continue
                yield req.name.format(**fmt), req


def _product(ranges: list[list[int]]) -> Iterator[tuple[int, ...]]:
    if not ranges:
        yield ()
        return
    for head in ranges[0]:
        for tail in _product(ranges[1:]):
            yield (head, *tail)


def missing_encoder_tensors(header: "GGUFHeader", modality: str, type_id: str) -> list[Missing]:
    """The required encoder tensors a tower of ``type_id`` lacks, in table order."""
    return [Missing(name, req) for name, req in expand(header, modality, type_id) if name not in header.tensors]


def look_alikes(header: "GGUFHeader", names: Iterable[str], expected: set[str]) -> dict[str, str]:
    """For missing ``names``, a present tensor nothing requires that is one edit or so away (a rename)."""
    import difflib  # only when a required tensor is missing

    spare = [n for n in header.tensors if n not in expected]
    out: dict[str, str] = {}
    for name in names:
        close = difflib.get_close_matches(name, spare, n=1, cutoff=0.9)
        if close:
            out[name] = close[0]
    return out


# ------------------------------------------------------------------------------------------------
# Shapes and types
# ------------------------------------------------------------------------------------------------


def _used_layers(header: "GGUFHeader", modality: str, type_id: str, n_layer: int) -> range:
    if type_id not in LLAVA_GRAPH_TYPES:
        return range(n_layer)
    il_last = n_layer if type_id == "adapter" else n_layer - 1
    arr = header.get_array(f"{KEY_PREFIX[modality]}.feature_layer")
    deepest = -1
    if arr is not None and arr.element_type.name not in ("STRING", "ARRAY"):
        deepest = max((int(v) for v in arr.tolist()), default=-1)
    return range(deepest if deepest >= 0 else il_last)


def shape_problems(header: "GGUFHeader", modality: str, type_id: str) -> list[EncoderShapeProblem]:
    """Encoder tensors present in the file whose shape the type's graph cannot use."""
    out: list[EncoderShapeProblem] = []
    key = KEY_PREFIX[modality]
    n_embd = header.get_int(f"{key}.embedding_length")
    if n_embd is None:
        return out
    t = header.tensors
    emb = f"{n_embd} ({key}.embedding_length)"
    if modality == "vision" and type_id in PATCH_CONV_TYPES:
        patch = header.get_int("clip.vision.patch_size")
        names = ["v.patch_embd.weight"] + (["v.patch_embd.weight.1"] if type_id in PATCH_CONV_1_TYPES else [])
        for name in names:
            info = t.get(name)
            if patch is not None and info is not None and info.shape != (patch, patch, 3, n_embd):
                out.append(
                    EncoderShapeProblem(
                        name,
                        info.shape,
                        f"ne == [{patch}, {patch}, 3, {n_embd}] (patch_size, patch_size, RGB, embedding_length)",
                        f"ggml_conv_2d at {PATCH_CONV_TYPES[type_id]}; clip.cpp:574-575",
                    )
                )
    if modality == "vision" and type_id in POSITION_ADD_TYPES:
        info = t.get("v.position_embd.weight")
        if info is not None and (len(info.shape) < 2 or info.shape[0] != n_embd):
            out.append(EncoderShapeProblem(info.name, info.shape, f"ne[0] == {emb}", POSITION_ADD_TYPES[type_id]))
    n_layer = header.get_int(f"{key}.block_count")
    if type_id in LAYER_GRAPH_TYPES and type_id not in NO_STANDARD_LAYERS and n_layer is not None:
        where = LAYER_GRAPH_TYPES[type_id]
        prefix = TOWER_PREFIX[modality]
        for i in _used_layers(header, modality, type_id, n_layer):
            out += _layer_problems(t, f"{prefix}.blk.{i}", type_id, n_embd, emb, where)
    return out


def _layer_problems(
    t: "dict[str, TensorInfo]", blk: str, type_id: str, n_embd: int, emb: str, where: str
) -> list[EncoderShapeProblem]:
    out: list[EncoderShapeProblem] = []
    o = t.get(f"{blk}.attn_out.weight")
    if o is not None and (len(o.shape) != 2 or o.shape[1] != n_embd):
        out.append(EncoderShapeProblem(o.name, o.shape, f"ne[1] == {emb} (added to the residual stream)", where))
    if f"{blk}.ffn_gate_exps.weight" in t:
        return out  # MoE layer: no dense FFN (clip.cpp:2309-2316)
    up, down = t.get(f"{blk}.ffn_up.weight"), t.get(f"{blk}.ffn_down.weight")
    if up is None or down is None or len(up.shape) != 2 or len(down.shape) != 2:
        return out
    if type_id in FFN_SWAP_TYPES and down.shape[0] == n_embd:
        up, down = down, up  # the loader swaps them back (clip.cpp:2350-2358)
    if up.shape[0] != n_embd:
        out.append(EncoderShapeProblem(up.name, up.shape, f"ne[0] == {emb} (it multiplies the hidden state)", where))
    elif down.shape[0] != up.shape[1]:
        out.append(
            EncoderShapeProblem(
                down.name, down.shape, f"ne[0] == {up.shape[1]} ({up.name} ne[1]); build_ffn, clip.cpp:692", where
            )
        )
    if down.shape[1] != n_embd:
        out.append(EncoderShapeProblem(down.name, down.shape, f"ne[1] == {emb} (added to the residual stream)", where))
    return out


def integer_weights(header: "GGUFHeader") -> "list[TensorInfo]":
    """Matrix and convolution weights (``*.weight``, >= 2 dims) stored as an integer ggml type."""
    return [
        info
        for info in header.tensors.values()
        if info.ggml_type in INTEGER_GGML_TYPES and len(info.shape) >= 2 and _WEIGHT_RE.search(info.name)
    ]
