"""Compare read_header with gguf.GGUFReader on one file: every key, value and tensor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gguf import GGUFReader, GGUFValueType

from mmcheck.header import GGUFArray, read_header

PSEUDO_FIELDS = {"GGUF.version", "GGUF.tensor_count", "GGUF.kv_count"}


def _reader_value(field: Any) -> Any:
    types = field.types
    if types[0] == GGUFValueType.ARRAY:
        if len(types) > 1 and types[1] == GGUFValueType.STRING:
            return [bytes(field.parts[i]).decode("utf-8") for i in field.data]
        return [field.parts[i].tolist()[0] for i in field.data]
    if types[0] == GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8")
    return field.parts[field.data[0]].tolist()[0]


def assert_same_as_gguf_reader(path: Path, *, max_array_elements: int | None = None) -> int:
    """Assert agreement; return the number of keys compared."""
    ours = read_header(path)
    ref = GGUFReader(path)
    keys = [k for k in ref.fields if k not in PSEUDO_FIELDS]
    assert keys == list(ours.metadata), "key order or set differs"
    for key in keys:
        field = ref.fields[key]
        assert int(field.types[0]) == int(ours.value_types[key]), key
        got = ours.metadata[key]
        if isinstance(got, GGUFArray):
            assert len(got) == len(field.data), key
            assert int(field.types[1]) == int(got.element_type), key
            if max_array_elements is None or len(got) <= max_array_elements:
                expected = _reader_value(field)
                mine = got.tolist()
                if got.element_type in (6, 12):
                    assert np.allclose(np.array(mine), np.array(expected), equal_nan=True), key
                else:
                    assert mine == expected, key
        else:
            expected = _reader_value(field)
            if isinstance(got, float):
                assert np.isclose(got, expected, equal_nan=True), key
            else:
                assert got == expected, key
    assert [t.name for t in ref.tensors] == list(ours.tensors)
    for t in ref.tensors:
        mine = ours.tensors[t.name]
        assert tuple(int(x) for x in t.shape) == mine.shape, t.name
        assert int(t.tensor_type) == mine.ggml_type, t.name
        assert int(t.data_offset) == ours.data_offset + mine.offset, t.name
        assert int(t.n_bytes) == mine.nbytes, t.name
    return len(keys)
