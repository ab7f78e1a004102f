"""Encoder tensors llama.cpp requires (MM502), integer weights (MM511), encoder shapes (MM512). Issue 11.

Expectations come from llama.cpp's loader and graphs, ggml-org/llama.cpp tools/mtmd/clip.cpp@0c1e570
(cited by line in each test), not from mmcheck's table. The files are written by the fixture builder
and then edited in place by ``_edit`` below, a minimal GGUF tensor-info patcher written for these
tests (independent of mmcheck's reader and of gguf-py).
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from mmcheck.db import CompatDB, load_db
from mmcheck.header import read_header
from mmcheck.pair import Report, check_pair
from mmcheck.projectors import encoder_tensors as enc
from mmcheck.rules import Finding
from mmcheck.testing import write_projector, write_text_model
from mmcheck.testing.presets import write_family_projector, write_lineage_model
from mmcheck.verdict import Verdict
from tests import gguf_bytes as gb

# ggml type ids (ggml/include/ggml.h): F32 0, F16 1, I8 24, I16 25, I32 26, I64 27
F32, F16, I16, I32 = 0, 1, 25, 26


# ------------------------------------------------------------------------------------------------
# A minimal in-place editor for GGUF tensor infos (GGUF v3 layout: header, KVs, tensor infos)
# ------------------------------------------------------------------------------------------------

_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}  # value type -> bytes


def _skip_value(buf: bytes, pos: int, vtype: int) -> int:
    if vtype == 8:  # string
        (n,) = struct.unpack_from("<Q", buf, pos)
        return pos + 8 + n
    if vtype == 9:  # array
        etype, count = struct.unpack_from("<IQ", buf, pos)
        pos += 12
        if etype in _SCALAR:
            return pos + count * _SCALAR[etype]
        for _ in range(count):
            pos = _skip_value(buf, pos, etype)
        return pos
    return pos + _SCALAR[vtype]


def _tensor_infos(buf: bytes) -> dict[str, tuple[int, int]]:
    """name -> (offset of the name bytes, offset of n_dims), for every tensor info."""
    assert buf[:4] == b"GGUF"
    n_tensors, n_kv = struct.unpack_from("<QQ", buf, 8)
    pos = 24
    for _ in range(n_kv):
        (klen,) = struct.unpack_from("<Q", buf, pos)
        pos += 8 + klen
        (vtype,) = struct.unpack_from("<I", buf, pos)
        pos = _skip_value(buf, pos + 4, vtype)
    out: dict[str, tuple[int, int]] = {}
    for _ in range(n_tensors):
        (nlen,) = struct.unpack_from("<Q", buf, pos)
        name = buf[pos + 8 : pos + 8 + nlen].decode()
        out[name] = (pos + 8, pos + 8 + nlen)
        (n_dims,) = struct.unpack_from("<I", buf, pos + 8 + nlen)
        pos += 8 + nlen + 4 + 8 * n_dims + 4 + 8
    return out


def _edit(
    path: Path,
    name: str,
    *,
    rename: str | None = None,
    ggml_type: int | None = None,
    dims: tuple[int, ...] | None = None,
) -> None:
    """Rename a tensor (same length), change its ggml type (same byte size) or its dims (same count)."""
    buf = bytearray(path.read_bytes())
    name_at, dims_at = _tensor_infos(bytes(buf))[name]
    (n_dims,) = struct.unpack_from("<I", buf, dims_at)
    if rename is not None:
        assert len(rename) == len(name)
        buf[name_at : name_at + len(name)] = rename.encode()
    if dims is not None:
        assert len(dims) == n_dims
        struct.pack_into(f"<{n_dims}Q", buf, dims_at + 4, *dims)
    if ggml_type is not None:
        struct.pack_into("<I", buf, dims_at + 4 + 8 * n_dims, ggml_type)
    path.write_bytes(bytes(buf))


# ------------------------------------------------------------------------------------------------
# A real-shaped pair: LLaVA 1.5 7B's projector (CLIP ViT-L/14-336, 23 layers kept) and its text model
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llava(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CompatDB]:
    db = load_db()
    d = tmp_path_factory.mktemp("llava")
    write_lineage_model(d / "llava-7b.gguf", db.lineages["vicuna-7b-v1.5"], name="llava-v1.5-7b")
    return d, db


def _llava_pair(base: tuple[Path, CompatDB], tmp: Path, **kw: object) -> tuple[Path, Path]:
    d, db = base
    fam = db.families["llava-1.5"]
    v7 = next(v for v in fam.variants if v.id == "llava-1.5-7b")
    proj = write_family_projector(tmp / "mmproj.gguf", fam, v7, db, name="Llava 1.5 7b Hf", **kw)
    return d / "llava-7b.gguf", proj


def _findings(report: Report, code: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == code]


def test_the_unedited_pair_is_a_match_without_encoder_findings(llava: tuple[Path, CompatDB], tmp_path: Path) -> None:
    model, proj = _llava_pair(llava, tmp_path)
    report = check_pair(model, proj, smoke=False)
    assert report.verdict == Verdict.MATCH, [(f.rule, f.message) for f in report.findings]
    assert not {"MM502", "MM511", "MM512"} & {f.rule for f in report.findings}


# -- MM502: a renamed required block tensor ------------------------------------------------------


def test_renamed_block_tensor_is_a_missing_required_tensor(llava: tuple[Path, CompatDB], tmp_path: Path) -> None:
    # clip.cpp:2312 loads {prefix}.blk.{il}.ffn_up.weight with required = !is_moe for every
    # il < hparams.n_layer (clip.cpp:2276-2278; n_layer = clip.vision.block_count, clip.cpp:1310), and
    # get_tensor throws "unable to find tensor" for a missing required one (clip.cpp:2171-2172).
    model, proj = _llava_pair(llava, tmp_path)
    _edit(proj, "v.blk.22.ffn_up.weight", rename="v.bl+.22.ffn_up.weight")
    report = check_pair(model, proj, smoke=False)
    assert report.verdict == Verdict.MISMATCH
    (f,) = _findings(report, "MM502")
    assert "v.blk.22.ffn_up.weight" in f.message and "clip.cpp:2312" in f.message
    assert "unable to find tensor v.blk.22.ffn_up.weight" in f.hint
    assert "v.bl+.22.ffn_up.weight" in f.hint  # the look-alike, as a rename
    assert f.file == str(proj)


@pytest.mark.parametrize(
    ("tensor", "line"),
    [
        ("v.blk.3.attn_out.weight", 2283),  # get_tensor(TN_ATTN_OUTPUT ...) without `false`
        ("v.blk.0.ffn_down.weight", 2316),  # required = !is_moe
    ],
)
def test_each_common_layer_tensor_is_required(
    llava: tuple[Path, CompatDB], tmp_path: Path, tensor: str, line: int
) -> None:
    model, proj = _llava_pair(llava, tmp_path, drop_tensors=[tensor])
    report = check_pair(model, proj, smoke=False)
    assert report.verdict == Verdict.MISMATCH
    (f,) = _findings(report, "MM502")
    assert f"{tensor} (clip.cpp:{line})" in f.message


def test_a_block_count_beyond_the_layers_present_means_missing_layers(
    llava: tuple[Path, CompatDB], tmp_path: Path
) -> None:
    # the loop runs to hparams.n_layer from the key, not to the layers present (clip.cpp:2276-2278)
    from gguf import GGUFValueType

    model, proj = _llava_pair(llava, tmp_path, extra_keys={"clip.vision.block_count": (24, GGUFValueType.UINT32)})
    (f,) = _findings(check_pair(model, proj, smoke=False), "MM502")
    assert "v.blk.23.attn_out.weight" in f.message and "v.blk.22" not in f.message


# -- near misses: optional tensors -------------------------------------------------------------------


@pytest.mark.parametrize(
    "dropped",
    [
        ["v.class_embd"],  # get_tensor(TN_CLASS_EMBD, false), clip.cpp:2253
        ["v.pre_ln.weight", "v.pre_ln.bias"],  # clip.cpp:2255-2256, optional
        ["v.blk.5.attn_q.bias", "v.blk.5.ln1.bias"],  # clip.cpp:2296, 2300, optional
        ["v.blk.7.ln2.weight", "v.blk.7.ln2.bias"],  # clip.cpp:2288, 2301, optional
    ],
)
def test_an_absent_optional_tensor_is_no_finding(
    llava: tuple[Path, CompatDB], tmp_path: Path, dropped: list[str]
) -> None:
    model, proj = _llava_pair(llava, tmp_path, drop_tensors=dropped)
    report = check_pair(model, proj, smoke=False)
    assert not _findings(report, "MM502"), [f.message for f in report.findings]
    assert report.verdict == Verdict.MATCH


def test_a_moe_layer_needs_no_dense_ffn(tmp_path: Path) -> None:
    # is_moe = ffn_gate_exps present (clip.cpp:2305, 2309): ffn_up/ffn_down are then optional (:2312, :2316)
    kvs = [
        ("general.architecture", gb.STR, "clip"),
        ("clip.has_vision_encoder", gb.BOOL, True),
        ("clip.projector_type", gb.STR, "dots3note_v"),
        ("clip.vision.block_count", gb.U32, 2),
        ("clip.vision.embedding_length", gb.U32, 8),
    ]
    layer0 = [gb.Tensor(f"v.blk.0.{n}", (8, 8)) for n in ("attn_out.weight", "ffn_gate_inp.weight")]
    layer0 += [gb.Tensor(f"v.blk.0.{n}", (8, 16, 4)) for n in ("ffn_gate_exps.weight", "ffn_up_exps.weight")]
    layer1 = [gb.Tensor("v.blk.1.attn_out.weight", (8, 8)), gb.Tensor("v.blk.1.ffn_up.weight", (8, 16))]
    path = tmp_path / "moe.gguf"
    path.write_bytes(gb.build(kvs, layer0 + layer1)[0])
    missing = [m.name for m in enc.missing_encoder_tensors(read_header(path), "vision", "dots3note_v")]
    assert missing == ["v.blk.1.ffn_down.weight"]  # layer 0 is MoE; layer 1 is dense and lacks ffn_down


def test_minicpmv4_6_merger_is_required_only_at_merge_factor_4(tmp_path: Path) -> None:
    # merger_required = hparams.n_merge == 4 (clip.cpp:2452); n_merge defaults to 4 and is read from
    # clip.vision.projector.scale_factor (clip.cpp:1463-1464)
    two = write_projector(tmp_path / "m2.gguf", projector_type="minicpmv4_6", merge=2, header_only=True)
    four = write_projector(tmp_path / "m4.gguf", projector_type="minicpmv4_6", merge=4, header_only=True)
    assert not enc.missing_encoder_tensors(read_header(two), "vision", "minicpmv4_6")
    assert not enc.missing_encoder_tensors(read_header(four), "vision", "minicpmv4_6")  # the converter writes it
    merger = [n for n in read_header(four).tensors if n.startswith("v.vit_merger.")]
    assert merger
    cut = write_projector(
        tmp_path / "m4-cut.gguf", projector_type="minicpmv4_6", merge=4, header_only=True, drop_tensors=merger
    )
    names = [m.name for m in enc.missing_encoder_tensors(read_header(cut), "vision", "minicpmv4_6")]
    assert "v.vit_merger.ln1.weight" in names and "v.vit_merger.attn_q.bias" not in names  # the bias stays optional


def test_audio_tower_uses_the_a_prefix(tmp_path: Path) -> None:
    # prefix "a" for the audio modality (clip.cpp:2142); whisper-style types require a.conv1d.1.* (clip.cpp:2850)
    model = write_text_model(tmp_path / "model.gguf", n_embd=64)
    proj = write_projector(
        tmp_path / "mmproj.gguf", projector_type="ultravox", n_embd_out=64, drop_tensors=["a.blk.1.attn_out.weight"]
    )
    messages = [f.message for f in check_pair(model, proj, smoke=False).findings if f.rule == "MM502"]
    assert any("a.blk.1.attn_out.weight (clip.cpp:2283)" in m and m.startswith("ultravox audio") for m in messages)


# -- MM512: encoder shapes ------------------------------------------------------------------------------


def test_permuted_patch_embedding_is_a_shape_mismatch(llava: tuple[Path, CompatDB], tmp_path: Path) -> None:
    # build_inp: ggml_conv_2d(patch_embd, inp_raw[W, H, 3, B], patch_size, patch_size, ...) (clip.cpp:574),
    # whose im2col asserts kernel ne[2] == image channels (ggml/src/ggml.c:4569); then the output is
    # reshaped to [n_patches, n_embd] (clip.cpp:575). The kernel must be [14, 14, 3, 1024] here.
    model, proj = _llava_pair(llava, tmp_path)
    _edit(proj, "v.patch_embd.weight", dims=(1024, 3, 14, 14))
    report = check_pair(model, proj, smoke=False)
    assert report.verdict == Verdict.MISMATCH
    (f,) = _findings(report, "MM512")
    assert "v.patch_embd.weight" in f.message and "[14, 14, 3, 1024]" in f.message
    assert f.file == str(proj)


def test_an_ffn_up_not_fed_by_the_hidden_state_is_a_shape_mismatch(tmp_path: Path) -> None:
    # build_ffn multiplies ffn_up by the n_embd-wide hidden state (clip.cpp:627); pixtral is not among
    # the types whose loader swaps up/down back (clip.cpp:2337-2349)
    model = write_text_model(tmp_path / "model.gguf", n_embd=64)
    shapes = {"v.blk.0.ffn_up.weight": (128, 32), "v.blk.0.ffn_down.weight": (32, 128)}  # names exchanged
    proj = write_projector(tmp_path / "p.gguf", projector_type="pixtral", n_embd_out=64, override_shapes=shapes)
    messages = [f.message for f in check_pair(model, proj, smoke=False).findings if f.rule == "MM512"]
    assert any(m.startswith("pixtral: v.blk.0.ffn_up.weight has ne [128, 32]") for m in messages), messages


def test_legacy_swapped_ffn_names_are_fine_where_the_loader_swaps_them(tmp_path: Path) -> None:
    # mlp: ffn_down.ne[0] == n_embd means the two are exchanged, and the loader swaps them (clip.cpp:2335-2358)
    model = write_text_model(tmp_path / "model.gguf", n_embd=64)
    shapes = {"v.blk.0.ffn_up.weight": (128, 32), "v.blk.0.ffn_down.weight": (32, 128)}
    proj = write_projector(tmp_path / "p.gguf", projector_type="mlp", n_embd_out=64, override_shapes=shapes)
    assert "MM512" not in {f.rule for f in check_pair(model, proj, smoke=False).findings}


def test_the_layer_llava_does_not_run_is_not_shape_checked(llava: tuple[Path, CompatDB], tmp_path: Path) -> None:
    # clip_graph_llava stops at il_last = n_layer - 1 (models/llava.cpp:15, loop :56): layer 22 of 23 is
    # loaded (so it must exist) but never multiplied
    model, proj = _llava_pair(llava, tmp_path, override_shapes={"v.blk.22.ffn_down.weight": (4096, 512)})
    assert not _findings(check_pair(model, proj, smoke=False), "MM512")
    model, proj = _llava_pair(llava, tmp_path / "b", override_shapes={"v.blk.21.ffn_down.weight": (4096, 512)})
    (f,) = _findings(check_pair(model, proj, smoke=False), "MM512")
    assert "v.blk.21.ffn_down.weight" in f.message


# -- MM511: integer weights -------------------------------------------------------------------------------


def test_an_i16_weight_is_an_integer_weight(llava: tuple[Path, CompatDB], tmp_path: Path) -> None:
    # ggml-cpu has no vec_dot for integer types (type_traits_cpu, ggml/src/ggml-cpu/ggml-cpu.c:215-416: I32
    # has only from_float, the others no entry) and mul_mat calls it (ggml-cpu.c:1182, 1244)
    model, proj = _llava_pair(llava, tmp_path)
    _edit(proj, "v.blk.4.attn_q.weight", ggml_type=I16)  # F16 -> I16: same byte size
    report = check_pair(model, proj, smoke=False)
    assert report.verdict == Verdict.MISMATCH
    (f,) = _findings(report, "MM511")
    assert "v.blk.4.attn_q.weight (I16)" in f.message
    assert f.file == str(proj)


def test_an_i32_weight_is_an_integer_weight(tmp_path: Path) -> None:
    model = write_text_model(tmp_path / "model.gguf", n_embd=64)
    proj = write_projector(tmp_path / "p.gguf", n_embd_out=64, weight_type="F32")
    before = check_pair(model, proj, smoke=False)
    assert "MM511" not in {f.rule for f in before.findings}
    _edit(proj, "mm.0.weight", ggml_type=I32)  # F32 -> I32: same byte size
    report = check_pair(model, proj, smoke=False)
    (f,) = _findings(report, "MM511")
    assert "mm.0.weight (I32)" in f.message
    assert report.verdict == Verdict.MISMATCH


def test_float_and_quantized_weights_are_not_integer_weights(tmp_path: Path) -> None:
    for wt in ("F16", "BF16", "Q8_0"):
        p = write_projector(tmp_path / f"{wt}.gguf", n_embd_out=64, width=64, hidden=64, weight_type=wt)
        assert not enc.integer_weights(read_header(p)), wt


# -- the table against its source -----------------------------------------------------------------------


def _clip_cpp_lines() -> list[str]:
    """tools/mtmd/clip.cpp of llama.cpp 0c1e570, from the llama-cpp-python 0.3.36 sdist (PyPI) that
    the oracle suite downloads into .cache/sdist: the source the table cites, never a local copy."""
    import tarfile

    from tests.oracle.oracle_env import SDIST_TOP, sdist_path

    with tarfile.open(sdist_path()) as tar:
        member = tar.extractfile(f"{SDIST_TOP}/vendor/llama.cpp/tools/mtmd/clip.cpp")
        assert member is not None
        return member.read().decode("utf-8").splitlines()


def test_every_cited_line_is_a_required_get_tensor_call() -> None:
    lines = _clip_cpp_lines()
    reqs = list(enc.COMMON_LAYERS) + [r for rs in enc.TYPE_TENSORS.values() for r in rs]
    for r in reqs:
        text = lines[r.line - 1]
        if r.failure is not None:  # an assert or an explicit throw instead of get_tensor's
            assert "GGML_ASSERT" in text or "throw" in text, (r, text)
            continue
        assert "get_tensor(" in text or "get_merger_tensor(" in text, (r, text)
        assert ", false)" not in text, (r, text)  # optional calls are never listed


def test_header_only_checks_do_not_import_numpy() -> None:
    code = "import sys, mmcheck.projectors.encoder_tensors, mmcheck.rules.tensors; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
