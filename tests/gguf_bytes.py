"""An independent, minimal GGUF encoder for malformed-input tests.

``gguf.GGUFWriter`` refuses to write broken files, so the corpus of bad headers is built here,
byte by byte, with full control over every count, length, type and offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

# value type ids (GGUF spec)
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
_FMT = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "?", U64: "Q", I64: "q", F64: "d"}


def s(text: str | bytes, order: str = "<") -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack(order + "Q", len(raw)) + raw


def value(vtype: int, v: Any, order: str = "<") -> bytes:
    if vtype == STR:
        return s(v, order)
    if vtype == ARR:
        etype, items = v
        out = struct.pack(order + "IQ", etype, len(items))
        return out + b"".join(value(etype, item, order) for item in items)
    if vtype not in _FMT:
        return struct.pack(order + "I", v)  # an unknown type id: four bytes of payload
    return struct.pack(order + _FMT[vtype], v)


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    ggml_type: int = 0  # F32
    offset: int | None = None  # None: computed contiguously


@dataclass
class Layout:
    """Byte offsets of the sections of a built file."""

    kv_start: int = 0
    kv_ends: list[int] = field(default_factory=list)
    ti_start: int = 0
    ti_ends: list[int] = field(default_factory=list)
    header_end: int = 0
    data_offset: int = 0
    end: int = 0


def nbytes(t: Tensor) -> int:
    block, size = {0: (1, 4), 1: (1, 2), 8: (32, 34), 12: (256, 144)}.get(t.ggml_type, (1, 1))
    n = 1
    for d in t.shape:
        n *= d
    return n // block * size


def build(
    kvs: list[tuple[str | bytes, int, Any]] = (),  # type: ignore[assignment]
    tensors: list[Tensor] = (),  # type: ignore[assignment]
    *,
    magic: bytes = b"GGUF",
    version: int = 3,
    order: str = "<",
    n_kv: int | None = None,
    n_tensors: int | None = None,
    alignment: int = 32,
    with_data: bool = True,
) -> tuple[bytes, Layout]:
    """Encode a GGUF file; return its bytes and the section layout."""
    lay = Layout()
    out = bytearray(magic + struct.pack(order + "I", version))
    out += struct.pack(
        order + "QQ", len(tensors) if n_tensors is None else n_tensors, len(kvs) if n_kv is None else n_kv
    )
    lay.kv_start = len(out)
    for key, vtype, v in kvs:
        out += s(key, order) + struct.pack(order + "I", vtype) + value(vtype, v, order)
        lay.kv_ends.append(len(out))
    lay.ti_start = len(out)
    offset = 0
    for t in tensors:
        out += s(t.name, order) + struct.pack(order + "I", len(t.shape))
        out += b"".join(struct.pack(order + "Q", d) for d in t.shape)
        out += struct.pack(order + "IQ", t.ggml_type, offset if t.offset is None else t.offset)
        offset += (nbytes(t) + alignment - 1) // alignment * alignment
        lay.ti_ends.append(len(out))
    lay.header_end = len(out)
    lay.data_offset = (len(out) + alignment - 1) // alignment * alignment
    if with_data and tensors:
        out += b"\0" * (lay.data_offset - len(out))
        for t in tensors:
            n = nbytes(t)
            out += b"\x01" * n + b"\0" * ((n + alignment - 1) // alignment * alignment - n)
    lay.end = len(out)
    return bytes(out), lay


def minimal(**kw: Any) -> tuple[bytes, Layout]:
    """A small valid text-model-like file with a string array and two tensors."""
    kvs = [
        ("general.architecture", STR, "llama"),
        ("llama.embedding_length", U32, 8),
        ("tokenizer.ggml.tokens", ARR, (STR, ["<s>", "</s>", "a", "b"])),
        ("tokenizer.ggml.scores", ARR, (F32, [0.0, 0.0, -1.0, -2.0])),
    ]
    tensors = [Tensor("token_embd.weight", (8, 4)), Tensor("output_norm.weight", (8,))]
    return build(kw.pop("kvs", kvs), kw.pop("tensors", tensors), **kw)
