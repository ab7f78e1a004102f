"""Property tests: whatever GGUFWriter writes, read_header reads back identically."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from gguf import GGMLQuantizationType, GGUFEndian, GGUFValueType, GGUFWriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmcheck.header import DataStatus, GGUFArray, read_header

INT_RANGES = {
    GGUFValueType.UINT8: (0, 2**8 - 1),
    GGUFValueType.INT8: (-(2**7), 2**7 - 1),
    GGUFValueType.UINT16: (0, 2**16 - 1),
    GGUFValueType.INT16: (-(2**15), 2**15 - 1),
    GGUFValueType.UINT32: (0, 2**32 - 1),
    GGUFValueType.INT32: (-(2**31), 2**31 - 1),
    GGUFValueType.UINT64: (0, 2**64 - 1),
    GGUFValueType.INT64: (-(2**63), 2**63 - 1),
}
keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz._0123456789", min_size=1, max_size=30).filter(
    lambda k: k != "general.alignment" and k != "general.architecture"
)
texts = st.text(max_size=40).filter(lambda t: "\x00" not in t)


def scalar_of(vt: GGUFValueType) -> st.SearchStrategy[Any]:
    if vt in INT_RANGES:
        lo, hi = INT_RANGES[vt]
        return st.integers(lo, hi)
    if vt == GGUFValueType.FLOAT32:
        return st.floats(width=32, allow_nan=False)
    if vt == GGUFValueType.FLOAT64:
        return st.floats(allow_nan=False)
    if vt == GGUFValueType.BOOL:
        return st.booleans()
    return texts


scalar_types = st.sampled_from([t for t in GGUFValueType if t != GGUFValueType.ARRAY])


@st.composite
def typed_value(draw: st.DrawFn, depth: int = 0) -> tuple[Any, GGUFValueType, GGUFValueType | None]:
    if depth < 2 and draw(st.booleans()):
        sub = draw(scalar_types) if depth == 1 or draw(st.booleans()) else GGUFValueType.ARRAY
        if sub == GGUFValueType.ARRAY:
            # GGUFWriter types nested elements itself (int -> INT32, float -> FLOAT32)
            inner_t = draw(
                st.sampled_from([GGUFValueType.INT32, GGUFValueType.FLOAT32, GGUFValueType.BOOL, GGUFValueType.STRING])
            )
            items = draw(st.lists(st.lists(scalar_of(inner_t), min_size=1, max_size=4), min_size=1, max_size=3))
            return items, GGUFValueType.ARRAY, GGUFValueType.ARRAY
        items = draw(st.lists(scalar_of(sub), min_size=1, max_size=20))
        return items, GGUFValueType.ARRAY, sub
    vt = draw(scalar_types)
    return draw(scalar_of(vt)), vt, None


tensor_types = st.sampled_from(
    [GGMLQuantizationType.F32, GGMLQuantizationType.F16, GGMLQuantizationType.Q8_0, GGMLQuantizationType.Q4_K]
)


@st.composite
def tensor_infos(draw: st.DrawFn) -> list[tuple[str, tuple[int, ...], GGMLQuantizationType]]:
    n = draw(st.integers(0, 6))
    names = draw(
        st.lists(st.text("abcdefghij.0123456789", min_size=1, max_size=20), min_size=n, max_size=n, unique=True)
    )
    out = []
    for name in names:
        qt = draw(tensor_types)
        block = {GGMLQuantizationType.Q8_0: 32, GGMLQuantizationType.Q4_K: 256}.get(qt, 1)
        dims = draw(st.lists(st.integers(1, 5), min_size=0, max_size=3))
        ne0 = block * draw(st.integers(1, 3))
        out.append((name, (ne0, *dims), qt))
    return out


def same(a: Any, b: Any) -> bool:
    if isinstance(a, GGUFArray):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=False))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b or a == float(np.float32(b))
    return bool(a == b)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kv=st.dictionaries(keys, typed_value(), max_size=8),
    tensors=tensor_infos(),
    big=st.booleans(),
    header_only=st.booleans(),
)
def test_roundtrip(kv: dict[str, Any], tensors: list[Any], big: bool, header_only: bool) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.gguf"
        w = GGUFWriter(path, "testarch", endianess=GGUFEndian.BIG if big else GGUFEndian.LITTLE)
        for key, (value, vt, sub) in kv.items():
            w.add_key_value(key, value, vt, sub_type=sub)
        for name, ne, qt in tensors:
            shape = tuple(reversed(ne))
            n = int(np.prod(ne))
            block, size = {GGMLQuantizationType.Q8_0: (32, 34), GGMLQuantizationType.Q4_K: (256, 144)}.get(
                qt, (1, 4 if qt == GGMLQuantizationType.F32 else 2)
            )
            nbytes = n // block * size
            if header_only:
                w.add_tensor_info(name, shape, np.dtype(np.float32), nbytes, raw_dtype=qt)
            elif qt == GGMLQuantizationType.F32:
                w.add_tensor(name, np.zeros(shape, dtype=np.float32))
            elif qt == GGMLQuantizationType.F16:
                w.add_tensor(name, np.zeros(shape, dtype=np.float16))
            else:
                byte_shape = (*shape[:-1], shape[-1] // block * size)
                w.add_tensor(name, np.zeros(byte_shape, dtype=np.uint8), raw_dtype=qt)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        if header_only:
            w.write_ti_data_to_file()
        else:
            w.write_tensors_to_file()
        w.close()

        h = read_header(path)
        assert h.byte_order == ("big" if big else "little")
        assert h.architecture == "testarch"
        for key, (value, vt, _) in kv.items():
            assert h.value_types[key] == vt
            got = h.metadata[key]
            if vt == GGUFValueType.ARRAY:
                assert isinstance(got, GGUFArray)
                assert len(got) == len(value)
                for g, v in zip(got, value, strict=False):
                    assert same(g, v), (key, g, v)
            else:
                assert same(got, value), (key, got, value)
        assert [t for t in h.tensors] == [name for name, _, _ in tensors]
        for name, ne, qt in tensors:
            info = h.tensors[name]
            assert info.shape == ne
            assert info.ggml_type == int(qt)
        if tensors:
            expected = DataStatus.HEADER_ONLY if header_only else DataStatus.COMPLETE
            assert h.data_status == expected
        else:
            assert h.data_status == DataStatus.COMPLETE


@settings(max_examples=40, deadline=None)
@given(tokens=st.lists(texts, min_size=1, max_size=3000, unique=True), probe=texts)
def test_string_array_lookup_matches_list_index(tokens: list[str], probe: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "v.gguf"
        w = GGUFWriter(path, "llama")
        w.add_array("tokenizer.ggml.tokens", tokens)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_ti_data_to_file()
        w.close()
        arr = read_header(path).get_array("tokenizer.ggml.tokens")
        assert arr is not None
        for i in {0, len(tokens) // 2, len(tokens) - 1}:
            assert arr.index_of(tokens[i]) == i
            assert arr[i] == tokens[i]
        expected = tokens.index(probe) if probe in tokens else None
        assert arr.index_of(probe) == expected
        assert arr.tolist() == tokens
