"""mmcheck's own table of GGUF value types and ggml types must agree with gguf-py's."""

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType

from mmcheck.header.types import GGML_TYPES, SCALAR_FORMATS, ValueType


def test_value_types_agree_with_gguf() -> None:
    assert {v.name: v.value for v in ValueType} == {v.name: v.value for v in GGUFValueType}


def test_scalar_sizes_match_struct() -> None:
    import struct

    for vt, (fmt, size) in SCALAR_FORMATS.items():
        assert struct.calcsize("<" + fmt) == size, vt


# PyPI gguf 0.19.0 lists Q8_1 as 40 bytes per block; ggml itself asserts 36
# (ggml/src/ggml-common.h:269 at llama.cpp 0c1e570: sizeof(block_q8_1) == 2*sizeof(ggml_half) + QK8_1),
# and gguf-py in that same llama.cpp tree says (32, 2 + 2 + 32). mmcheck follows ggml.
KNOWN_GGUF_PY_ERRATA = {"Q8_1": ((32, 40), (32, 36))}


def test_every_gguf_quant_type_is_known_with_the_same_block_and_type_size() -> None:
    for qt, (block, type_size) in GGML_QUANT_SIZES.items():
        ours = GGML_TYPES.get(int(qt))
        assert ours is not None, f"mmcheck does not know {qt.name}"
        assert ours.name == qt.name
        erratum = KNOWN_GGUF_PY_ERRATA.get(qt.name)
        if erratum is not None and (block, type_size) == erratum[0]:
            assert (ours.block_size, ours.type_size) == erratum[1]
            continue
        assert (ours.block_size, ours.type_size) == (block, type_size)


def test_every_gguf_type_id_has_the_same_name() -> None:
    for qt in GGMLQuantizationType:
        if int(qt) in GGML_TYPES:
            assert GGML_TYPES[int(qt)].name == qt.name
