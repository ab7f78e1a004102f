"""GGUF value types and ggml tensor types, as fixed by the GGUF specification.

mmcheck keeps its own copy so that reading a header never imports numpy or gguf (importing
``gguf`` alone costs ~90 ms). ``tests/test_types_table.py`` checks this table against gguf's
``GGUFValueType``, ``GGMLQuantizationType`` and ``GGML_QUANT_SIZES`` so it cannot drift.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
from enum import IntEnum
from typing import NamedTuple


class ValueType(IntEnum):
    """GGUF metadata value type ids (``gguf_type`` in ggml)."""

    UINT8 = 0
    INT8 = 1
    UINT16 = 2
    INT16 = 3
    UINT32 = 4
    INT32 = 5
    FLOAT32 = 6
    BOOL = 7
    STRING = 8
    ARRAY = 9
    UINT64 = 10
    INT64 = 11
    FLOAT64 = 12


#: struct format character and byte size of every fixed-width value type.
SCALAR_FORMATS: dict[ValueType, tuple[str, int]] = {
    ValueType.UINT8: ("B", 1),
    ValueType.INT8: ("b", 1),
    ValueType.UINT16: ("H", 2),
    ValueType.INT16: ("h", 2),
    ValueType.UINT32: ("I", 4),
    ValueType.INT32: ("i", 4),
    ValueType.FLOAT32: ("f", 4),
    ValueType.BOOL: ("?", 1),
    ValueType.UINT64: ("Q", 8),
    ValueType.INT64: ("q", 8),
    ValueType.FLOAT64: ("d", 8),
}

INTEGER_TYPES = frozenset(
    {
        ValueType.UINT8,
        ValueType.INT8,
        ValueType.UINT16,
        ValueType.INT16,
        ValueType.UINT32,
        ValueType.INT32,
        ValueType.UINT64,
        ValueType.INT64,
    }
)


class GGMLType(NamedTuple):
    """A ggml tensor type: id, name, elements per block and bytes per block."""

    id: int
    name: str
    block_size: int
    type_size: int


_GGML_TYPE_LIST = [
    GGMLType(0, "F32", 1, 4),
    GGMLType(1, "F16", 1, 2),
    GGMLType(2, "Q4_0", 32, 18),
    GGMLType(3, "Q4_1", 32, 20),
    GGMLType(6, "Q5_0", 32, 22),
    GGMLType(7, "Q5_1", 32, 24),
    GGMLType(8, "Q8_0", 32, 34),
    GGMLType(9, "Q8_1", 32, 36),
    GGMLType(10, "Q2_K", 256, 84),
    GGMLType(11, "Q3_K", 256, 110),
    GGMLType(12, "Q4_K", 256, 144),
    GGMLType(13, "Q5_K", 256, 176),
    GGMLType(14, "Q6_K", 256, 210),
    GGMLType(15, "Q8_K", 256, 292),
    GGMLType(16, "IQ2_XXS", 256, 66),
    GGMLType(17, "IQ2_XS", 256, 74),
    GGMLType(18, "IQ3_XXS", 256, 98),
    GGMLType(19, "IQ1_S", 256, 50),
    GGMLType(20, "IQ4_NL", 32, 18),
    GGMLType(21, "IQ3_S", 256, 110),
    GGMLType(22, "IQ2_S", 256, 82),
    GGMLType(23, "IQ4_XS", 256, 136),
    GGMLType(24, "I8", 1, 1),
    GGMLType(25, "I16", 1, 2),
    GGMLType(26, "I32", 1, 4),
    GGMLType(27, "I64", 1, 8),
    GGMLType(28, "F64", 1, 8),
    GGMLType(29, "IQ1_M", 256, 56),
    GGMLType(30, "BF16", 1, 2),
    GGMLType(34, "TQ1_0", 256, 54),
    GGMLType(35, "TQ2_0", 256, 66),
    GGMLType(39, "MXFP4", 32, 17),
    GGMLType(40, "NVFP4", 64, 36),
    GGMLType(41, "Q1_0", 128, 18),
    GGMLType(42, "Q2_0", 64, 18),
]

#: Every ggml type this version of mmcheck knows, by id. Ids 31-33 and 36-38 are retired.
GGML_TYPES: dict[int, GGMLType] = {t.id: t for t in _GGML_TYPE_LIST}
GGML_TYPES_BY_NAME: dict[str, GGMLType] = {t.name: t for t in _GGML_TYPE_LIST}


#: Bits per weight, used to rank projector quantization (higher is closer to F16).
def bits_per_weight(ggml_type: int) -> float | None:
    """Average bits per element of a ggml type, or None when the type is unknown."""
    t = GGML_TYPES.get(ggml_type)
    if t is None:
        return None
    return t.type_size * 8 / t.block_size


def ggml_type_name(ggml_type: int) -> str:
    """The ggml name of a type id (``Q4_K``), or ``type#N`` when mmcheck does not know it."""
    t = GGML_TYPES.get(ggml_type)
    return t.name if t is not None else f"type#{ggml_type}"
