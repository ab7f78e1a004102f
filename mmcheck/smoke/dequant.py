"""numpy dequantizers for the ggml types text models store ``token_embd`` in, and projectors their weights.

``import gguf`` runs gguf-py's whole package (its writer, vocabulary helpers and, through
``gguf.metadata``, PyYAML): more time than the smoke test's own work. The common types are decoded
here instead; :func:`dequantize` returns None for the others and the caller falls back to
``gguf.quants``. Block layouts and arithmetic follow ggml's reference decoders
(ggml-org/llama.cpp ``ggml/src/ggml-common.h`` and ``ggml/src/ggml-quants.c``
``dequantize_row_*`` @0c1e570), in float32 as there. ``tests/test_dequant.py`` checks every type
against ``gguf.quants.dequantize`` on random blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[Any]  # uint8 blocks (numpy's stubs widen the dtype through the bit operations)
F32 = npt.NDArray[Any]  # float32 values

__all__ = ["NATIVE_TYPES", "dequantize"]


def _half(blocks: U8, start: int) -> F32:
    """The little-endian fp16 at byte ``start`` of each block, as float32 (n_blocks, 1)."""
    return np.ascontiguousarray(blocks[:, start : start + 2]).view("<f2").astype(np.float32)


def _low_high(qs: U8) -> tuple[U8, U8]:
    return qs & 0x0F, qs >> 4


def _q4_0(b: U8) -> F32:
    d = _half(b, 0)
    lo, hi = _low_high(b[:, 2:18])
    q: U8 = np.concatenate([lo, hi], axis=1).astype(np.int8) - np.int8(8)
    return q.astype(np.float32) * d


def _q4_1(b: U8) -> F32:
    d, m = _half(b, 0), _half(b, 2)
    lo, hi = _low_high(b[:, 4:20])
    return np.concatenate([lo, hi], axis=1).astype(np.float32) * d + m


def _fifth_bits(qh: U8) -> tuple[U8, U8]:
    """The fifth bit of each quant: bit j of ``qh`` for element j, bit j + 16 for element j + 16."""
    bits = np.unpackbits(qh, axis=1, bitorder="little")  # (n, 32): bit k of the little-endian u32
    return bits[:, :16] << 4, bits[:, 16:] << 4


def _q5_0(b: U8) -> F32:
    d = _half(b, 0)
    high_lo, high_hi = _fifth_bits(b[:, 2:6])
    lo, hi = _low_high(b[:, 6:22])
    q: U8 = np.concatenate([lo | high_lo, hi | high_hi], axis=1).astype(np.int8) - np.int8(16)
    return q.astype(np.float32) * d


def _q5_1(b: U8) -> F32:
    d, m = _half(b, 0), _half(b, 2)
    high_lo, high_hi = _fifth_bits(b[:, 4:8])
    lo, hi = _low_high(b[:, 8:24])
    return np.concatenate([lo | high_lo, hi | high_hi], axis=1).astype(np.float32) * d + m


def _q8_0(b: U8) -> F32:
    return np.ascontiguousarray(b[:, 2:34]).view(np.int8).astype(np.float32) * _half(b, 0)


def _k4_scales(s: U8) -> tuple[F32, F32]:
    """The eight 6-bit scales and mins of a Q4_K / Q5_K block (``get_scale_min_k4``), (n, 8) each."""
    sc = np.empty((len(s), 8), dtype=np.uint8)
    mn = np.empty((len(s), 8), dtype=np.uint8)
    sc[:, :4] = s[:, 0:4] & 63
    mn[:, :4] = s[:, 4:8] & 63
    sc[:, 4:] = (s[:, 8:12] & 0x0F) | ((s[:, 0:4] >> 6) << 4)
    mn[:, 4:] = (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)
    return sc.astype(np.float32), mn.astype(np.float32)


def _q4_k(b: U8) -> F32:
    d, dmin = _half(b, 0), _half(b, 2)
    sc, mn = _k4_scales(b[:, 4:16])
    scale, offset = d * sc, dmin * mn  # (n, 8): one per 32 elements
    qs = b[:, 16:144].reshape(-1, 4, 32)  # four groups of 64 elements: low nibbles, then high
    q = np.stack([qs & 0x0F, qs >> 4], axis=2).reshape(-1, 8, 32).astype(np.float32)
    y: F32 = scale[:, :, None] * q - offset[:, :, None]
    return y.reshape(-1, 256)


def _q6_k(b: U8) -> F32:
    ql = b[:, 0:128].reshape(-1, 2, 64)
    qh = b[:, 128:192].reshape(-1, 2, 32)
    sc = np.ascontiguousarray(b[:, 192:208]).view(np.int8).astype(np.float32).reshape(-1, 2, 8)
    d = _half(b, 208)[:, :, None]  # (n, 1, 1)
    lo, hi = ql[:, :, :32], ql[:, :, 32:]
    parts = [
        (lo & 0x0F) | (((qh >> 0) & 3) << 4),  # elements 0-31 of each half of 128
        (hi & 0x0F) | (((qh >> 2) & 3) << 4),  # 32-63
        (lo >> 4) | (((qh >> 4) & 3) << 4),  # 64-95
        (hi >> 4) | (((qh >> 6) & 3) << 4),  # 96-127
    ]
    q = np.stack(parts, axis=2).astype(np.int8) - np.int8(32)  # (n, 2, 4, 32)
    # the scale of element l of part p is sc[2p + l // 16]
    scale = (d * sc).reshape(-1, 2, 4, 2, 1)
    y: F32 = scale * q.astype(np.float32).reshape(-1, 2, 4, 2, 16)
    return y.reshape(-1, 256)


def _f32(b: U8) -> F32:
    return np.ascontiguousarray(b).view("<f4").astype(np.float32, copy=False)


def _f16(b: U8) -> F32:
    return np.ascontiguousarray(b).view("<f2").astype(np.float32)


def _bf16(b: U8) -> F32:
    return (np.ascontiguousarray(b).view("<u2").astype(np.uint32) << 16).view(np.float32)


#: ggml type id -> (block bytes, decoder of an (n_blocks, block bytes) array to (n_blocks, elements))
_DECODERS: dict[int, tuple[int, Callable[[U8], F32]]] = {
    0: (4, _f32),
    1: (2, _f16),
    2: (18, _q4_0),
    3: (20, _q4_1),
    6: (22, _q5_0),
    7: (24, _q5_1),
    8: (34, _q8_0),
    12: (144, _q4_k),
    14: (210, _q6_k),
    30: (2, _bf16),
}
NATIVE_TYPES = frozenset(_DECODERS)


def dequantize(raw: npt.NDArray[np.uint8], ggml_type: int) -> npt.NDArray[np.float32] | None:
    """Little-endian ``raw`` bytes of ``ggml_type`` as float32, in rows as ``raw``'s leading axes
    (the last axis holds whole blocks); None when the type is not one of :data:`NATIVE_TYPES`."""
    entry = _DECODERS.get(ggml_type)
    if entry is None:
        return None
    size, decode = entry
    lead = raw.shape[:-1] if raw.ndim > 1 else ()
    out = decode(np.asarray(raw, dtype=np.uint8).reshape(-1, size)).astype(np.float32, copy=False)
    return out.reshape(*lead, -1) if lead else out.reshape(-1)
