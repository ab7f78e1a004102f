"""MM5xx — is the projector file complete and well-formed enough for llama.cpp to load?"""

from __future__ import annotations

from collections.abc import Iterator

from mmcheck.evidence import CERTAIN_AGAINST
from mmcheck.header import ValueType
from mmcheck.projectors.layouts import LAYOUTS, walk_tower
from mmcheck.rules.base import Context, Hit, Severity, rule

# The exact value types clip's loader reads scalar keys with: get_u32/get_i32/get_f32/get_bool/get_string
# (ggml-org/llama.cpp tools/mtmd/clip.cpp@0c1e570, clip_model_loader, lines 3849-3934) go through
# gguf_get_val_*, whose get_val<T> GGML_ASSERTs the stored type (ggml/src/gguf.cpp:196): a wrongly typed
# key aborts. Array keys (get_arr_int / get_arr_f32) are type-checked and throw instead; not listed here.
# Which keys are read: load_hparams, clip.cpp:1251-2128 (common keys for every tower, the rest per type).
_U32, _I32, _F32, _BOOL, _STR = ValueType.UINT32, ValueType.INT32, ValueType.FLOAT32, ValueType.BOOL, ValueType.STRING
KEY_TYPES: dict[str, ValueType] = {
    "clip.projector_type": _STR,
    "clip.vision.projector_type": _STR,
    "clip.audio.projector_type": _STR,
    "clip.gen.audio.projector_type": _STR,
    "clip.gen.audio.model_variant": _STR,
    "clip.vision.mm_patch_merge_type": _STR,
    "clip.has_vision_encoder": _BOOL,
    "clip.has_audio_encoder": _BOOL,
    "clip.has_gen_audio_encoder": _BOOL,
    "clip.use_gelu": _BOOL,
    "clip.use_silu": _BOOL,
    "clip.minicpmv_version": _I32,
    "clip.minicpmv_query_num": _U32,
    "clip.vision.image_size": _U32,
    "clip.vision.patch_size": _U32,
    "clip.vision.projector.scale_factor": _U32,
    "clip.vision.projector.query_side": _U32,
    "clip.vision.projector.window_side": _U32,
    "clip.vision.spatial_merge_size": _U32,
    "clip.vision.n_wa_pattern": _U32,
    "clip.vision.window_size": _U32,
    "clip.vision.image_min_pixels": _U32,
    "clip.vision.image_max_pixels": _U32,
    "clip.vision.preproc_min_tiles": _U32,
    "clip.vision.preproc_max_tiles": _U32,
    "clip.vision.preproc_image_size": _U32,
    "clip.vision.sam.block_count": _U32,
    "clip.vision.sam.head_count": _U32,
    "clip.vision.sam.embedding_length": _U32,
    "clip.vision.expert_used_count": _U32,
    "clip.vision.swiglu_clamp": _F32,
    "clip.audio.num_mel_bins": _U32,
    "clip.audio.projector.stack_factor": _U32,
    "clip.audio.subsampling_factor": _U32,
    "clip.audio.conv_kernel_size": _U32,
    "clip.audio.chunk_size": _U32,
    "clip.audio.max_pos_emb": _U32,
    "clip.audio.projector.window_size": _U32,
    "clip.audio.projector.downsample_rate": _U32,
    "clip.audio.projector.head_count": _U32,
    "clip.audio.rvq.num_quantizers": _U32,
    "clip.audio.window_size": _U32,
    "clip.audio.local_block_count": _U32,
    "clip.audio.local_group_size": _U32,
}
for _m in ("vision", "audio", "gen.audio"):
    for _k in (
        "embedding_length",
        "feed_forward_length",
        "block_count",
        "projection_dim",
        "attention.head_count",
        "attention.head_count_kv",
        "attention.head_dim",
    ):
        KEY_TYPES[f"clip.{_m}.{_k}"] = _U32
    KEY_TYPES[f"clip.{_m}.attention.layer_norm_epsilon"] = _F32

INT32_MAX = 2**31 - 1


def _proj(ctx: Context):  # type: ignore[no-untyped-def]
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return None
    return ctx.mmproj.projector


@rule("MM501", "missing-required-key", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def missing_required_key(ctx: Context) -> Iterator[Hit]:
    """A key llama.cpp requires for this projector type is missing.

    Why: The loader throws `Key not found: <key>` and the projector is not loaded.

    Fix: Re-convert the projector with a current `convert_hf_to_gguf.py --mmproj`.
    """
    p = _proj(ctx)
    if p is None:
        return
    for tower in p.towers.values():
        if tower.missing_keys:
            yield Hit(
                f"{tower.type_id} projector lacks required key(s): {', '.join(tower.missing_keys)}",
                "re-convert the projector with current llama.cpp",
                file="mmproj",
            )


@rule("MM502", "missing-required-tensor", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def missing_required_tensor(ctx: Context) -> Iterator[Hit]:
    """A tensor llama.cpp requires for this projector type is missing (projection or encoder).

    Why: The loader fails (`unable to find tensor X`) or, for tensors it treats as optional but uses
    unchecked, the process crashes. The projection tensors checked are those the type's graph
    uses (`mmcheck/projectors/layouts.py`, from `tools/mtmd/models/*.cpp`). The encoder's required
    tensors (every layer's `attn_out`, `ffn_up`, `ffn_down`, and each type's own, e.g. an audio
    encoder's `a.conv1d.*`) are checked against `tools/mtmd/clip.cpp` `load_tensors`; a renamed one
    counts as missing.

    Fix: The file is incomplete or was edited; re-download or re-convert it.
    """
    from mmcheck.rules.tensors import missing_encoder_hits

    p = _proj(ctx)
    if p is None or ctx.mmproj is None:
        return
    for tower in p.towers.values():
        # the database's list, and every tensor the type's projection graph needs (its layout)
        walked = walk_tower(tower, p, ctx.mmproj.header)
        graph = [x.tensor for x in walked.problems if x.kind == "missing"] if walked is not None else []
        missing = list(dict.fromkeys([*tower.missing_tensors, *graph]))
        if missing:
            yield Hit(
                f"{tower.type_id} projector lacks tensor(s): {', '.join(missing)}",
                "re-download or re-convert the projector",
                file="mmproj",
            )
    yield from missing_encoder_hits(ctx.mmproj.header, p)


def _walk_problems(ctx: Context, kind: str) -> Iterator[Hit]:
    """The ``kind`` problems of walking each tower's projection chain over the tensor shapes."""
    p = _proj(ctx)
    if p is None or ctx.mmproj is None:
        return
    for tower in p.towers.values():
        walked = walk_tower(tower, p, ctx.mmproj.header)
        for problem in walked.problems if walked is not None else ():
            if problem.kind == kind:
                yield Hit(f"{tower.type_id}: {problem.message}", "use an unmodified projector", file="mmproj")


@rule("MM503", "layers-do-not-chain", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def layers_do_not_chain(ctx: Context) -> Iterator[Hit]:
    """The projection layers do not chain: one layer's input width differs from the previous output.

    Why: llama.cpp aborts at its warm-up encode (`GGML_ASSERT(ggml_can_mul_mat(a, b))`), taking
    the whole process down — in llama-cpp-python, the Python interpreter too.

    Fix: The file was edited or merged from two projectors; use an unmodified projector.
    """
    yield from _walk_problems(ctx, "chain")


@rule("MM504", "bias-length-mismatch", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def bias_length_mismatch(ctx: Context) -> Iterator[Hit]:
    """A bias or norm vector's length differs from its layer's width.

    Why: llama.cpp aborts at its warm-up encode (`GGML_ASSERT(ggml_can_repeat(b, a))`).

    Fix: Use an unmodified projector.
    """
    yield from _walk_problems(ctx, "bias")


@rule("MM505", "bad-merge-factor", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def bad_merge_factor(ctx: Context) -> Iterator[Hit]:
    """The patch merge factor (`scale_factor` / `spatial_merge_size`) is 0.

    Why: llama.cpp 0c1e570 refuses it (`n_merge (0) must be greater than 0`); earlier builds divided
    by zero in `clip_n_output_tokens`.

    Fix: Set the merge factor the model was trained with (2 for most).
    """
    if ctx.mmproj is None:
        return
    h = ctx.mmproj.header
    for key in ("clip.vision.projector.scale_factor", "clip.vision.spatial_merge_size"):
        if h.get_int(key) == 0:
            yield Hit(f"{key} is 0", "set the merge factor the model was trained with", file="mmproj")


@rule("MM506", "too-few-position-rows", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def too_few_position_rows(ctx: Context) -> Iterator[Hit]:
    """The position-embedding table has fewer rows than the image has patches.

    Why: The projector loads, then llama.cpp aborts at the first image
    (`GGML_ASSERT(i01 >= 0 && i01 < ne01)`).

    Fix: `clip.vision.image_size`/`patch_size` do not match the encoder; use an unmodified projector.
    """
    p = _proj(ctx)
    if p is None or ctx.mmproj is None:
        return
    tower = p.towers.get("vision")
    layout = LAYOUTS.get(tower.type_id or "") if tower is not None else None
    if layout is None or not layout.fixed_positions:
        return
    h = ctx.mmproj.header
    pos = h.tensors.get("v.position_embd.weight")
    image, patch = h.get_int("clip.vision.image_size"), h.get_int("clip.vision.patch_size")
    if pos is None or len(pos.shape) < 2 or not image or not patch:
        return
    needed = (image // patch) ** 2 + (1 if "v.class_embd" in h.tensors else 0)
    if pos.shape[1] < needed:
        yield Hit(
            f"v.position_embd.weight has {pos.shape[1]} rows, {image}/{patch} patches need {needed}",
            "use an unmodified projector",
            file="mmproj",
        )


@rule("MM507", "wrong-key-type", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def wrong_key_type(ctx: Context) -> Iterator[Hit]:
    """A `clip.*` key has a different value type than llama.cpp reads it with.

    Why: clip's loader reads keys through `gguf_get_val_*`, which asserts the exact type: a wrongly
    typed key aborts the process (e.g. an INT32 `image_size`, a UINT32 `minicpmv_version`).

    Fix: Rewrite the key with the expected type (gguf-py `gguf_new_metadata.py`).
    """
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return
    h = ctx.mmproj.header
    for key, expected in KEY_TYPES.items():
        got = h.value_types.get(key)
        if got is not None and got != expected:
            yield Hit(f"{key} is {got.name}, llama.cpp reads it as {expected.name}", "", file="mmproj")


@rule("MM508", "invalid-encoder-value", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def invalid_encoder_value(ctx: Context) -> Iterator[Hit]:
    """An encoder setting is outside the range llama.cpp accepts.

    Why: llama.cpp refuses: `image_size (N) is too large (max 8192)`, `patch_size must be positive
    and less than 65536`, `image_max_pixels is less than image_min_pixels`, `value %u for key '%s'
    exceeds INT32_MAX`, `both use_gelu and use_silu are set to true`,
    `image_grid_pinpoints must have an even number of elements`, `n_head == 0` (divide by zero).

    Fix: Use an unmodified projector.
    """
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return
    h = ctx.mmproj.header
    enc = ctx.mmproj.projector.encoder
    msgs: list[str] = []
    if enc is not None:
        if enc.image_size is not None and enc.image_size > 8192:
            msgs.append(f"image_size {enc.image_size} is too large (max 8192)")
        if enc.patch_size is not None and not 0 < enc.patch_size < 65536:
            msgs.append(f"patch_size {enc.patch_size} must be in 1..65535")
        if enc.min_pixels is not None and enc.max_pixels is not None and enc.max_pixels < enc.min_pixels:
            msgs.append(f"image_max_pixels {enc.max_pixels} < image_min_pixels {enc.min_pixels}")
        if enc.grid_pinpoints is not None and len(enc.grid_pinpoints) % 2:
            msgs.append(f"image_grid_pinpoints has an odd number ({len(enc.grid_pinpoints)}) of elements")
        if enc.n_head == 0:
            msgs.append("clip.vision.attention.head_count is 0")
        if enc.feature_layers and enc.n_layer is not None:
            bad = [i for i in enc.feature_layers if i > enc.n_layer]
            if bad:
                msgs.append(f"feature layer(s) {bad} out of range (n_layer {enc.n_layer})")
    if h.get_bool("clip.use_gelu") and h.get_bool("clip.use_silu"):
        msgs.append("both clip.use_gelu and clip.use_silu are true")
    for key, vt in h.value_types.items():
        if key.startswith("clip.") and vt == ValueType.UINT32 and int(h.metadata[key]) > INT32_MAX:
            msgs.append(f"{key} = {h.metadata[key]} exceeds INT32_MAX")
    mean, std = h.get_array("clip.vision.image_mean"), h.get_array("clip.vision.image_std")
    if ctx.mmproj.projector.has_vision and (mean is None or std is None or len(mean) < 3 or len(std) < 3):
        msgs.append("clip.vision.image_mean/image_std missing or shorter than 3")
    for m in msgs:
        yield Hit(m, "use an unmodified projector", file="mmproj")


@rule("MM509", "projection-dim-disagrees", severity=Severity.WARNING, scope="projector")
def projection_dim_disagrees(ctx: Context) -> Iterator[Hit]:
    """The declared `projection_dim` differs from the width the tensors give.

    Why: llama.cpp never compares `projection_dim` with the text model; tools that trust it (some
    launchers do) pick the wrong model. Legacy converters wrote CLIP's own 768, or 0.

    Fix: Trust the computed width; fix the key if you publish the file.
    """
    p = _proj(ctx)
    if p is None:
        return
    for m, tower in p.towers.items():
        if _graph_uses_projection_dim(tower.type_id):
            continue  # MM510 reports it as the crash it is
        enc = p.encoder if m == "vision" else p.audio_encoder
        declared = enc.projection_dim if enc is not None else None
        actual = tower.width.value
        if tower.spec is not None and tower.spec.width.kind == "feature_layers_times_projection_dim":
            continue
        if declared and actual and declared != actual:
            yield Hit(
                f"{m} projection_dim is {declared} but the tensors give {actual} ({tower.width.source})",
                "trust the tensors",
                file="mmproj",
            )


def _graph_uses_projection_dim(type_id: str | None) -> bool:
    layout = LAYOUTS.get(type_id or "")
    return layout is not None and layout.projection_dim_in_graph


@rule("MM510", "projection-dim-breaks-graph", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="projector")
def projection_dim_breaks_graph(ctx: Context) -> Iterator[Hit]:
    """`projection_dim` disagrees with the tensors in a projector type whose graph uses it.

    Why: Qwen2.5-VL's window attention reshapes by `clip.vision.projection_dim`; when it differs
    from the merger's width llama.cpp aborts while loading (`GGML_ASSERT(ggml_nelements(a) ==
    ne0*ne1)`).

    Fix: Set `clip.vision.projection_dim` to the merger's output width, or use an unmodified file.
    """
    p = _proj(ctx)
    if p is None or p.encoder is None:
        return
    tower = p.towers.get("vision")
    if tower is None or not _graph_uses_projection_dim(tower.type_id):
        return
    declared, actual = p.encoder.projection_dim, tower.width.value
    if declared is not None and actual is not None and declared != actual:
        yield Hit(
            f"{tower.type_id}: projection_dim {declared} != merger width {actual}; llama.cpp aborts at load",
            f"set clip.vision.projection_dim = {actual}",
            file="mmproj",
        )
