"""Lazy GGUF metadata arrays.

A 262,144-token vocabulary is three arrays of 262,144 elements. Turning them into Python objects
costs far more than reading the whole header, and mmcheck almost never needs them: it needs their
length, a fingerprint, and whether a handful of marker strings are present. ``GGUFArray`` records
where an array's elements lie in the header bytes and decodes them only when asked.
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from collections.abc import Iterator
from typing import Any

from mmcheck._hash import blake2b128
from mmcheck.errors import GGUFError
from mmcheck.header.types import SCALAR_FORMATS, ValueType

#: String arrays remember the byte offset of every CHECKPOINT_EVERY-th element, so that element
#: ``i`` is reached by walking at most that many length prefixes.
CHECKPOINT_EVERY = 1024


class HeaderBytes:
    """The bytes a header's arrays point into.

    While the header is parsed this is the memory map of the file; afterwards the reader swaps in
    a private copy of just the header bytes, so the file can be closed.
    """

    __slots__ = ("data",)

    def __init__(self, data: Any) -> None:
        self.data = data


class GGUFArray:
    """A metadata array whose elements are decoded on demand.

    ``start``/``end`` are the byte range of the elements (after the type and count fields).
    Fixed-width arrays are decoded with one ``struct`` call; string arrays are walked by their
    length prefixes, starting from the nearest recorded checkpoint.
    """

    __slots__ = ("_buf", "_checkpoints", "_order", "count", "element_type", "end", "key", "start")

    def __init__(
        self,
        element_type: ValueType,
        count: int,
        start: int,
        end: int,
        buf: HeaderBytes,
        order: str,
        key: str,
        checkpoints: list[int] | None = None,
    ) -> None:
        self.element_type = element_type
        self.count = count
        self.start = start
        self.end = end
        self.key = key
        self._buf = buf
        self._order = order
        self._checkpoints = checkpoints

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        return f"<GGUFArray {self.element_type.name}[{self.count}] of {self.key!r}>"

    @property
    def nbytes(self) -> int:
        """Size of the elements in the file, in bytes."""
        return self.end - self.start

    def raw(self) -> bytes:
        """The undecoded bytes of the elements (length prefixes included for strings)."""
        return bytes(self._buf.data[self.start : self.end])

    def digest(self) -> str:
        """A stable 128-bit BLAKE2b hash of the elements: the same list gives the same hash in any file.

        For little-endian files this hashes the raw bytes directly (no decoding), which is what
        makes a 262k-token fingerprint cost a few milliseconds.
        """
        h = blake2b128()
        h.update(f"{self.element_type.name}:{self.count}:".encode())
        if self._order == "<":
            h.update(memoryview(self._buf.data)[self.start : self.end])
        else:
            # Re-encode big-endian elements as little-endian so the hash does not depend on order.
            if self.element_type == ValueType.STRING:
                for s in self._iter_string_bytes(0):
                    h.update(struct.pack("<Q", len(s)))
                    h.update(s)
            elif self.element_type == ValueType.ARRAY:
                for sub in self:
                    h.update(sub.digest().encode())
            else:
                fmt, _ = SCALAR_FORMATS[self.element_type]
                h.update(struct.pack(f"<{self.count}{fmt}", *self.tolist()))
        return str(h.hexdigest())

    # -- element access -------------------------------------------------------------------------

    def __getitem__(self, index: int) -> Any:
        if not isinstance(index, int):
            raise TypeError("GGUFArray indices must be integers")
        if index < 0:
            index += self.count
        if not 0 <= index < self.count:
            raise IndexError(f"index {index} out of range for {self!r}")
        et = self.element_type
        if et == ValueType.STRING:
            return _decode(next(self._iter_string_bytes(index)), self.key, self.start)
        if et == ValueType.ARRAY:
            for i, sub in enumerate(self):
                if i == index:
                    return sub
        fmt, size = SCALAR_FORMATS[et]
        return struct.unpack_from(self._order + fmt, self._buf.data, self.start + index * size)[0]

    def __iter__(self) -> Iterator[Any]:
        et = self.element_type
        if et == ValueType.STRING:
            for raw in self._iter_string_bytes(0):
                yield _decode(raw, self.key, self.start)
        elif et == ValueType.ARRAY:
            yield from self._iter_nested()
        else:
            yield from self.tolist()

    def tolist(self) -> list[Any]:
        """All elements as Python values (nested arrays stay ``GGUFArray``)."""
        et = self.element_type
        if et in SCALAR_FORMATS:
            fmt, _ = SCALAR_FORMATS[et]
            return list(struct.unpack_from(f"{self._order}{self.count}{fmt}", self._buf.data, self.start))
        return list(iter(self))

    def _iter_string_bytes(self, first: int) -> Iterator[bytes]:
        data = self._buf.data
        unpack = struct.Struct(self._order + "Q").unpack_from
        pos, skip = self._seek(first)
        for _ in range(skip):
            pos += 8 + unpack(data, pos)[0]
        for _ in range(first, self.count):
            n = unpack(data, pos)[0]
            pos += 8
            yield bytes(data[pos : pos + n])
            pos += n

    def _seek(self, index: int) -> tuple[int, int]:
        """Byte offset of the nearest checkpoint at or before ``index``, and elements to skip."""
        if not self._checkpoints:
            return self.start, index
        k = min(index // CHECKPOINT_EVERY, len(self._checkpoints) - 1)
        return self._checkpoints[k], index - k * CHECKPOINT_EVERY

    def _iter_nested(self) -> Iterator[GGUFArray]:
        from mmcheck.header.reader import parse_array_at  # local: reader imports this module

        pos = self.start
        for _ in range(self.count):
            sub, pos = parse_array_at(self._buf, pos, self._order, self.key, len(self._buf.data))
            yield sub

    # -- search ---------------------------------------------------------------------------------

    def index_of(self, text: str) -> int | None:
        """Index of the string element equal to ``text``, or None.

        Searches the raw bytes for the length prefix followed by the UTF-8 text, then confirms the
        hit lies on an element boundary by walking from the nearest checkpoint. Only the elements
        between that checkpoint and the hit are looked at; none is decoded.
        """
        if self.element_type != ValueType.STRING:
            raise TypeError(f"{self!r} is not a string array")
        encoded = text.encode("utf-8")
        needle = struct.pack(self._order + "Q", len(encoded)) + encoded
        data = self._buf.data
        unpack = struct.Struct(self._order + "Q").unpack_from
        checkpoints = self._checkpoints or [self.start]
        hit = data.find(needle, self.start, self.end)
        while hit != -1:
            k = bisect_right(checkpoints, hit) - 1
            pos = checkpoints[k]
            i = k * CHECKPOINT_EVERY
            while pos < hit and i < self.count:
                pos += 8 + unpack(data, pos)[0]
                i += 1
            if pos == hit and i < self.count:
                return i
            hit = data.find(needle, hit + 1, self.end)
        return None

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self.index_of(text) is not None


def _decode(raw: bytes, key: str, offset: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise GGUFError(f"string element is not valid UTF-8 ({e.reason})", offset=offset, key=key) from None
