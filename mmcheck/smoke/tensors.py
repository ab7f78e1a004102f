"""Read single tensors (or some rows of one) from a GGUF file and dequantize them to float32.

Only the bytes of the requested tensor are touched (``numpy.memmap`` of its byte range), never
the whole file. For a remote file (``header.source`` set) they are fetched by HTTP range: one
request per tensor, and the sampled rows of ``token_embd`` as scattered spans that the source
coalesces (see ``mmcheck.remote.source``). The common types are decoded by
:mod:`mmcheck.smoke.dequant`; every other type gguf-py supports by ``gguf.quants.dequantize``,
imported only then; any other type raises :class:`UnsupportedTensor` naming it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from mmcheck.header import DataStatus, GGUFHeader, TensorInfo
from mmcheck.header.types import GGML_TYPES, GGMLType
from mmcheck.smoke import dequant

F32Array = npt.NDArray[np.float32]


class SmokeSkip(Exception):
    """The smoke test cannot run on this input; the message is the ``skipped`` reason."""


class UnsupportedTensor(SmokeSkip):
    """A tensor's ggml type cannot be dequantized by gguf-py (or not in this byte order)."""


@dataclass
class TensorReader:
    """Reads and dequantizes tensors of one GGUF file; accumulates read/dequantize time (ms)."""

    header: GGUFHeader
    read_ms: float = 0.0
    dequant_ms: float = 0.0
    _cache: dict[str, F32Array] = field(default_factory=dict)

    def check_data(self) -> None:
        """Raise ``SmokeSkip`` when the file does not hold its tensor data."""
        h = self.header
        if h.data_status != DataStatus.COMPLETE:
            raise SmokeSkip(f"{h.path.name}: tensor data {h.describe_data_status()}")

    def info(self, name: str) -> TensorInfo | None:
        """The tensor info of ``name`` or None."""
        return self.header.tensors.get(name)

    def _qtype(self, info: TensorInfo) -> GGMLType:
        qtype = GGML_TYPES.get(info.ggml_type)
        if qtype is None:  # pragma: no cover - the header reader refuses unknown types
            raise UnsupportedTensor(f"tensor {info.name} has ggml type id {info.ggml_type}, unknown to mmcheck")
        if self.header.byte_order == "big" and qtype.name not in ("F32", "F16"):
            raise UnsupportedTensor(f"tensor {info.name}: big-endian {qtype.name} data cannot be dequantized")
        return qtype

    def _raw(self, info: TensorInfo) -> npt.NDArray[np.uint8]:
        start = self.header.data_offset + info.offset
        if start + info.nbytes > self.header.file_size:
            raise SmokeSkip(f"{self.header.path.name}: tensor {info.name} extends past the end of the file")
        if info.nbytes == 0:
            return np.zeros(0, dtype=np.uint8)
        source = self.header.source
        if source is not None:
            data = _remote(source.read, start, start + info.nbytes)
            return np.frombuffer(bytearray(data), dtype=np.uint8)
        return np.memmap(self.header.path, dtype=np.uint8, mode="r", offset=start, shape=(info.nbytes,))

    def _decode(self, raw: npt.NDArray[np.uint8], qtype: GGMLType, name: str) -> F32Array:
        t0 = time.perf_counter()
        if self.header.byte_order == "big":
            out = raw.view(">f4" if qtype.name == "F32" else ">f2").astype(np.float32)
        else:
            native = dequant.dequantize(raw, qtype.id)
            out = native if native is not None else _gguf_dequantize(raw, qtype, name)
        self.dequant_ms += (time.perf_counter() - t0) * 1000.0
        return out

    def read(self, name: str) -> F32Array:
        """The whole tensor as float32, in numpy order (ggml ``ne`` reversed)."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        info = self.header.tensors[name]
        qtype = self._qtype(info)
        t0 = time.perf_counter()
        raw = np.array(self._raw(info))  # copy the bytes out of the map
        self.read_ms += (time.perf_counter() - t0) * 1000.0
        block, type_size = qtype.block_size, qtype.type_size
        ne0 = info.shape[0] if info.shape else 1
        n_rows = info.n_elements // ne0 if ne0 else 0
        row_bytes = ne0 // block * type_size
        out = self._decode(raw.reshape(n_rows, row_bytes) if n_rows else raw, qtype, name)
        out = out.reshape(tuple(reversed(info.shape)) if info.shape else ())
        self._cache[name] = out
        return out

    def read_rows(self, name: str, rows: npt.NDArray[np.int64]) -> F32Array:
        """Rows ``rows`` of a 2-D tensor (ne = (n_cols, n_rows)) as float32 (len(rows), n_cols)."""
        info = self.header.tensors[name]
        qtype = self._qtype(info)
        n_cols, n_rows = info.shape[0], info.n_elements // max(info.shape[0], 1)
        block, type_size = qtype.block_size, qtype.type_size
        row_bytes = n_cols // block * type_size
        t0 = time.perf_counter()
        source = self.header.source
        if source is not None:
            base = self.header.data_offset + info.offset
            if base + info.nbytes > self.header.file_size:
                raise SmokeSkip(f"{self.header.path.name}: tensor {info.name} extends past the end of the file")
            spans = [(base + int(r) * row_bytes, base + (int(r) + 1) * row_bytes) for r in np.sort(rows)]
            blob = bytearray(b"".join(_remote(source.read_spans, spans)))
            picked = np.frombuffer(blob, dtype=np.uint8).reshape(len(rows), row_bytes)
        else:
            raw = self._raw(info).reshape(n_rows, row_bytes)
            picked = np.ascontiguousarray(raw[np.sort(rows)])
        self.read_ms += (time.perf_counter() - t0) * 1000.0
        return self._decode(picked, qtype, name).reshape(len(rows), n_cols)


def _gguf_dequantize(raw: npt.NDArray[np.uint8], qtype: GGMLType, name: str) -> F32Array:
    """The types :mod:`mmcheck.smoke.dequant` does not decode, by gguf-py (imported only for them)."""
    from gguf import GGMLQuantizationType
    from gguf.constants import GGML_QUANT_SIZES
    from gguf.quants import dequantize

    try:
        gtype = GGMLQuantizationType(qtype.id)
    except ValueError:
        raise UnsupportedTensor(f"tensor {name} has ggml type {qtype.name}, unknown to gguf-py") from None
    if gtype not in GGML_QUANT_SIZES:
        raise UnsupportedTensor(f"tensor {name} has ggml type {qtype.name}, which gguf-py cannot dequantize")
    try:
        return np.asarray(dequantize(raw, gtype), dtype=np.float32)
    except NotImplementedError:
        raise UnsupportedTensor(f"tensor {name} has ggml type {qtype.name}, which gguf-py cannot dequantize") from None


def _remote(fn: Any, *args: Any) -> Any:
    """Call a remote source; a server without ``Range`` or offline mode skips the smoke test
    (other remote faults propagate: they are errors, exit 2)."""
    from mmcheck.remote.source import DataUnavailable, RangeNotSupported

    try:
        return fn(*args)
    except (RangeNotSupported, DataUnavailable) as e:
        raise SmokeSkip(f"{e.url}: {e.message}; tensor data cannot be read") from None
