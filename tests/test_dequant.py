"""mmcheck.smoke.dequant against gguf-py's ``gguf.quants.dequantize``, an independent implementation
of ggml's reference decoders: random blocks of every natively decoded type, and the real token
embeddings of the files from PyPI."""

from __future__ import annotations

import numpy as np
import pytest
from gguf import GGMLQuantizationType
from gguf.quants import dequantize as gguf_dequantize
from hypothesis import given, settings
from hypothesis import strategies as st

from mmcheck.header.types import GGML_TYPES
from mmcheck.smoke.dequant import NATIVE_TYPES, dequantize


def agree(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    finite = np.isfinite(theirs)
    assert np.array_equal(np.isfinite(ours), finite)
    scale = float(np.abs(theirs[finite]).max()) if finite.any() else 1.0
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-6, atol=1e-6 * scale)


@pytest.mark.parametrize("type_id", sorted(NATIVE_TYPES), ids=lambda t: GGML_TYPES[t].name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_blocks_decode_as_gguf_py_decodes_them(type_id: int, data: st.DataObject) -> None:
    t = GGML_TYPES[type_id]
    rows = data.draw(st.integers(1, 3))
    blocks = data.draw(st.integers(1, 3))
    raw = np.frombuffer(
        data.draw(st.binary(min_size=rows * blocks * t.type_size, max_size=rows * blocks * t.type_size)), np.uint8
    )
    raw = raw.reshape(rows, blocks * t.type_size)
    with np.errstate(all="ignore"):  # random scales: inf * 0 is NaN in both
        ours = dequantize(raw, type_id)
        theirs = np.asarray(gguf_dequantize(raw, GGMLQuantizationType(type_id)), dtype=np.float32)
    assert ours is not None and ours.shape == (rows, blocks * t.block_size)
    agree(ours, theirs)


def test_types_it_does_not_decode_are_left_to_gguf_py() -> None:
    assert dequantize(np.zeros((1, 110), np.uint8), GGMLQuantizationType.Q3_K.value) is None
    assert {GGML_TYPES[t].name for t in NATIVE_TYPES} >= {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K"}


def test_known_values() -> None:
    # Q8_0: d = 0.5 (fp16 0x3800), quants 0..31 -> 0, 0.5, ..., 15.5
    block = np.frombuffer(b"\x00\x38" + bytes(range(32)), np.uint8)
    assert dequantize(block, 8).tolist() == [i * 0.5 for i in range(32)]
    # Q4_0: d = 1.0 (0x3c00), every byte 0x9f: low nibble 15 - 8 = 7, high nibble 9 - 8 = 1
    block = np.frombuffer(b"\x00\x3c" + b"\x9f" * 16, np.uint8)
    assert dequantize(block, 2).tolist() == [7.0] * 16 + [1.0] * 16


@pytest.mark.parametrize("which", ["smollm2", "gemma3"])
def test_real_token_embeddings(which: str) -> None:
    """The token embeddings of the real files from PyPI: the types real conversions use."""
    from mmcheck.header import read_header
    from tests import realfiles

    path = realfiles.smollm2() if which == "smollm2" else realfiles.gemma3_270m()
    header = read_header(path)
    info = header.tensors["token_embd.weight"]
    t = GGML_TYPES[info.ggml_type]
    assert info.ggml_type in NATIVE_TYPES, t.name
    row_bytes = info.shape[0] // t.block_size * t.type_size
    rows = 64
    raw = np.fromfile(path, np.uint8, count=rows * row_bytes, offset=header.data_offset + info.offset)
    raw = raw.reshape(rows, row_bytes)
    agree(dequantize(raw, info.ggml_type), np.asarray(gguf_dequantize(raw, GGMLQuantizationType(info.ggml_type))))


def test_other_types_fall_back_to_gguf_py() -> None:
    from mmcheck.smoke.tensors import _gguf_dequantize

    rng = np.random.default_rng(3)
    q3k = GGML_TYPES[GGMLQuantizationType.Q3_K.value]
    raw = rng.integers(0, 256, size=(2, q3k.type_size), dtype=np.uint8)
    raw[:, -2:] = (0x00, 0x3C)  # the super-block scale d = 1.0 (fp16, last in the block)
    ours = _gguf_dequantize(raw, q3k, "t")
    assert ours.shape == (2, 256)
    np.testing.assert_array_equal(ours, gguf_dequantize(raw, GGMLQuantizationType.Q3_K))
