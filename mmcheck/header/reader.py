"""A streaming, bounds-checked GGUF header reader.

It reads magic, version, the key/value section and the tensor infos, and never touches tensor
data. Fixed-width arrays are skipped with one multiplication, string arrays are walked by their
length prefixes without decoding (see ``arrays.py``). Every count and length a header claims is
checked against the bytes actually present *before* anything is allocated for it, so a hostile
header fails fast in bounded memory. A local file is opened read-only and memory-mapped; at the end
only the header bytes are kept (copied), and the file is closed.

The parser works over a :class:`~mmcheck.header.source.ByteSource`. A remote source holds only the
bytes fetched so far: when the parser needs bytes beyond them it raises :class:`NeedBytes` with the
smallest end it can prove it needs, the source fetches up to there (in read-ahead chunks) and the
parse starts again. Every bounds check compares against the bytes *available* first and, only when
that fails, against the file size, so a local file (all bytes available) pays nothing for this.

Rules mirror ggml's reader (``ggml/src/gguf.cpp``) where it refuses a file, so a file mmcheck
accepts is one llama.cpp can parse; see docs/reader.md for the list.
"""

from __future__ import annotations

import os
import struct
import sys
from typing import Any

from mmcheck.errors import GGUFError
from mmcheck.header.arrays import CHECKPOINT_EVERY, GGUFArray, HeaderBytes
from mmcheck.header.model import DataStatus, GGUFHeader, SplitInfo, TensorInfo
from mmcheck.header.sniff import describe_non_gguf
from mmcheck.header.source import ByteSource, FilePath, LocalFile, RemotePath, is_remote
from mmcheck.header.types import GGML_TYPES, SCALAR_FORMATS, ValueType

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
try:  # the C walk, when it was built at install (hatch_build.py); the Python walk otherwise
    from mmcheck.header import _walk as _native
except ImportError:  # pragma: no cover - depends on the install
    _native = None  # type: ignore[assignment]

MAX_DIMS = 4
MAX_TENSOR_NAME = 63  # GGML_MAX_NAME is 64 including the terminating NUL

# Smallest possible encodings, used to reject absurd counts before looping over them.
_MIN_KV_BYTES = 8 + 1 + 4 + 1  # key length, a 1-byte key, value type, a 1-byte value
_MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 4 + 8  # name length, 1-byte name, n_dims, type, offset
_MIN_ELEMENT_BYTES = {ValueType.STRING: 8, ValueType.ARRAY: 12}
#: Deepest array nesting accepted (a key's array is level 1). ggml refuses nested arrays entirely
#: (``case GGUF_TYPE_ARRAY:`` in gguf_init_from_reader, ggml/src/gguf.cpp:606 @0c1e570); the
#: spec allows them, so mmcheck reads a few levels (with a warning) but refuses a deeper chain,
#: which would otherwise exhaust Python's recursion limit (~1000 levels fit in 12 KB).
MAX_ARRAY_NESTING = 64


def read_header(path: str | os.PathLike[str] | RemotePath) -> GGUFHeader:
    """Read the header of a GGUF file: metadata, tensor infos, data offset and data status.

    ``path`` is a local file, or a remote one (``hf://ORG/REPO[@REV]/FILE``, ``https://...``) read
    with HTTP range requests (see docs/remote.md). Raises ``GGUFError`` (with the byte offset and
    key where it applies) for anything that is not a well-formed GGUF v2/v3 header, and its
    subclass ``RemoteError`` when a remote file cannot be fetched. Never reads tensor data and
    never writes to the file.
    """
    if is_remote(path):
        from mmcheck.remote import read_remote_header  # the network stack loads only for remote paths

        return read_remote_header(path if isinstance(path, RemotePath) else str(path))
    with LocalFile(path) as source:
        return parse_source(source)


class NeedBytes(Exception):
    """The parse needs the file's bytes up to ``end``, beyond those the source holds (remote only)."""

    def __init__(self, end: int) -> None:
        super().__init__(end)
        self.end = end


def parse_source(source: ByteSource) -> GGUFHeader:
    """Parse the header held by ``source``, asking a remote source for more bytes as needed."""
    while True:
        data, avail = source.view()
        try:
            header = _parse(source.path, data, avail, source.size)
        except NeedBytes as e:
            if avail >= source.size:  # pragma: no cover - every check compares with the size first
                raise AssertionError(f"{source.path}: parser asked for byte {e.end} of {source.size}") from None
            source.extend(min(e.end, source.size))
            continue
        source.finish(header.header_size)
        return header


class _Cursor:
    """Reads primitive values from the buffer, checking bounds and naming what it reads."""

    __slots__ = ("avail", "buf", "data", "key", "order", "pos", "size")

    def __init__(self, buf: HeaderBytes, avail: int, size: int, order: str) -> None:
        self.buf = buf
        self.data = buf.data
        self.pos = 0
        self.avail = avail  # bytes of the file held in ``data`` (== size for a local file)
        self.size = size
        self.order = order
        self.key: str | None = None

    def need(self, n: int, what: str) -> None:
        if self.pos + n > self.avail:
            if self.pos + n <= self.size:
                raise NeedBytes(self.pos + n)
            raise GGUFError(
                f"file ends at byte {self.size} while reading {what} ({n} bytes needed)",
                offset=self.pos,
                key=self.key,
            )

    def scalar(self, fmt: str, size: int, what: str) -> Any:
        self.need(size, what)
        value = struct.unpack_from(self.order + fmt, self.data, self.pos)[0]
        self.pos += size
        return value

    def u32(self, what: str) -> int:
        return int(self.scalar("I", 4, what))

    def u64(self, what: str) -> int:
        return int(self.scalar("Q", 8, what))

    def string(self, what: str) -> str:
        start = self.pos
        n = self.u64(f"the length of {what}")
        if n > self.avail - self.pos:
            if n <= self.size - self.pos:
                raise NeedBytes(self.pos + n)
            raise GGUFError(
                f"{what} claims {n} bytes but only {self.size - self.pos} remain in the file",
                offset=start,
                key=self.key,
            )
        raw = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise GGUFError(f"{what} is not valid UTF-8 ({e.reason})", offset=start, key=self.key) from None


def _parse(path: FilePath, mm: Any, avail: int, size: int) -> GGUFHeader:
    """Parse the header from ``mm``, which holds the first ``avail`` of the file's ``size`` bytes."""
    magic = bytes(mm[:4])
    if magic != GGUF_MAGIC:
        raise GGUFError(describe_non_gguf(bytes(mm[:512]), size), offset=0)
    if size < 8:
        raise GGUFError(f"file ends at byte {size} inside the GGUF version field", offset=4)
    version_le = struct.unpack_from("<I", mm, 4)[0]
    order = "<"
    version = version_le
    if version_le & 0xFFFF == 0 and version_le != 0:
        # A big-endian file read on a little-endian host: ggml refuses it, gguf-py swaps.
        order = ">"
        version = struct.unpack_from(">I", mm, 4)[0]
    if version == 1:
        raise GGUFError("GGUF version 1 is no longer supported (llama.cpp refuses it); re-convert the model", offset=4)
    if version == 0:
        raise GGUFError("bad GGUF version 0", offset=4)
    if version > 3:
        raise GGUFError(f"GGUF version {version} is newer than mmcheck supports (2 and 3)", offset=4)

    buf = HeaderBytes(mm)
    cur = _Cursor(buf, avail, size, order)
    cur.pos = 8
    n_tensors = cur.u64("the tensor count")
    n_kv = cur.u64("the key/value count")
    if n_kv * _MIN_KV_BYTES > size - cur.pos:
        raise GGUFError(
            f"header claims {n_kv} key/value pairs, which cannot fit in the {size - cur.pos} bytes after it",
            offset=16,
        )
    if n_tensors * _MIN_TENSOR_INFO_BYTES > size - cur.pos:
        raise GGUFError(
            f"header claims {n_tensors} tensors, which cannot fit in the {size - cur.pos} bytes after it",
            offset=8,
        )

    metadata: dict[str, Any] = {}
    value_types: dict[str, ValueType] = {}
    key_offsets: dict[str, int] = {}
    warnings: list[str] = []
    for i in range(n_kv):
        key_start = cur.pos
        cur.key = None
        key = cur.string(f"the name of key #{i}")
        if not key:
            raise GGUFError(f"key #{i} has an empty name", offset=key_start)
        if key in metadata:
            raise GGUFError(f"duplicate key {key!r}", offset=key_start, key=key)
        cur.key = key
        type_pos = cur.pos
        vtype = _value_type(cur.u32("the value type"), type_pos, key)
        metadata[key] = _read_value(cur, vtype, warnings)
        value_types[key] = vtype
        key_offsets[key] = key_start
    cur.key = None

    alignment = DEFAULT_ALIGNMENT
    if "general.alignment" in metadata:
        a = metadata["general.alignment"]
        if value_types["general.alignment"] != ValueType.UINT32:
            raise GGUFError(
                f"general.alignment must be UINT32, found {value_types['general.alignment'].name}",
                offset=key_offsets["general.alignment"],
                key="general.alignment",
            )
        if a == 0 or a & (a - 1):
            raise GGUFError(
                f"alignment {a} is not a power of 2", offset=key_offsets["general.alignment"], key="general.alignment"
            )
        alignment = a

    tensors: dict[str, TensorInfo] = {}
    expected_offset = 0
    data = buf.data
    length_at = struct.Struct(order + "Q").unpack_from
    dims_at = struct.Struct(order + "I").unpack_from
    # one unpack per record for the shape, type and offset: (ne..., type, offset) by dimension count
    record_at = [struct.Struct(f"{order}{k}QIQ").unpack_from for k in range(MAX_DIMS + 1)]
    for i in range(n_tensors):
        info_start = pos = cur.pos
        cur.key = None
        # Fast path: the whole record is held and its name is UTF-8. Anything else takes the careful
        # path below, which says exactly what is wrong and where.
        name = None
        if pos + 8 <= avail:
            end = pos + 8 + length_at(data, pos)[0]
            if end + 4 <= avail:
                n_dims = dims_at(data, end)[0]
                if n_dims <= MAX_DIMS and end + 16 + 8 * n_dims <= avail:
                    try:
                        name = str(data[pos + 8 : end], "utf-8")
                    except UnicodeDecodeError:
                        name = None
        if name is not None:
            *ne, ggml_type, offset = record_at[n_dims](data, end + 4)
            shape = tuple(ne)
            type_pos = end + 4 + 8 * n_dims
            cur.pos = type_pos + 12
            cur.key = name
            _check_tensor_name(name, end - pos - 8, info_start, tensors)
        else:
            name = cur.string(f"the name of tensor #{i}")
            cur.key = name
            _check_tensor_name(name, len(name.encode()), info_start, tensors)
            n_dims = cur.u32("the number of dimensions")
            if n_dims > MAX_DIMS:
                raise GGUFError(f"tensor has {n_dims} dimensions (at most {MAX_DIMS})", offset=cur.pos - 4, key=name)
            cur.need(8 * n_dims, "the tensor shape")
            shape = struct.unpack_from(f"{order}{n_dims}Q", data, cur.pos)
            cur.pos += 8 * n_dims
            type_pos = cur.pos
            ggml_type = cur.u32("the tensor type")
            offset = cur.u64("the tensor data offset")
        gt = GGML_TYPES.get(ggml_type)
        if gt is None:
            raise GGUFError(
                f"tensor has unknown ggml type {ggml_type} (a newer format than mmcheck knows?)",
                offset=type_pos,
                key=name,
            )
        n_elements = 1
        for ne in shape:
            n_elements *= ne
        if n_elements >= 1 << 63:
            raise GGUFError(f"tensor shape {list(shape)} overflows 64 bits", offset=info_start, key=name)
        if shape and shape[0] % gt.block_size:
            raise GGUFError(
                f"tensor has {shape[0]} elements per row, not a multiple of {gt.name}'s block size {gt.block_size}",
                offset=info_start,
                key=name,
            )
        nbytes = n_elements // gt.block_size * gt.type_size
        if offset != expected_offset:
            raise GGUFError(
                f"tensor data offset is {offset}, expected {expected_offset} (tensors must be contiguous and in order)",
                offset=type_pos + 4,
                key=name,
            )
        expected_offset += _pad(nbytes, alignment)
        tensors[name] = TensorInfo(name, tuple(shape), ggml_type, offset, nbytes, info_start)
    header_end = cur.pos
    data_offset = _pad(header_end, alignment)

    if n_tensors == 0:
        data_end = header_end  # ggml never seeks to the data section of a tensor-less file
    else:
        last = next(reversed(tensors.values()))
        data_end = data_offset + last.offset + last.nbytes
    if size >= data_end:
        status = DataStatus.COMPLETE
    elif size <= data_offset:
        status = DataStatus.HEADER_ONLY
    else:
        status = DataStatus.TRUNCATED

    buf.data = bytes(mm[:header_end])  # keep the header, let the file go
    return GGUFHeader(
        path=path,
        version=version,
        byte_order="little" if order == "<" else "big",
        metadata=metadata,
        value_types=value_types,
        key_offsets=key_offsets,
        tensors=tensors,
        alignment=alignment,
        header_size=header_end,
        data_offset=data_offset,
        data_size=data_end - data_offset if n_tensors else 0,
        file_size=size,
        data_status=status,
        split=_split_info(metadata),
        warnings=tuple(warnings),
    )


def _check_tensor_name(name: str, n_bytes: int, offset: int, tensors: dict[str, TensorInfo]) -> None:
    """Refuse a tensor name ggml cannot hold, or one already used."""
    if n_bytes > MAX_TENSOR_NAME:
        raise GGUFError(f"tensor name is longer than {MAX_TENSOR_NAME} bytes", offset=offset, key=name)
    if name in tensors:
        raise GGUFError(f"duplicate tensor name {name!r}", offset=offset, key=name)


def _pad(n: int, alignment: int) -> int:
    return (n + alignment - 1) // alignment * alignment


def _value_type(raw: int, offset: int, key: str) -> ValueType:
    try:
        return ValueType(raw)
    except ValueError:
        raise GGUFError(f"unknown value type {raw}", offset=offset, key=key) from None


def _read_value(cur: _Cursor, vtype: ValueType, warnings: list[str]) -> Any:
    if vtype == ValueType.STRING:
        return cur.string("a string value")
    if vtype == ValueType.ARRAY:
        array, cur.pos = parse_array_at(cur.buf, cur.pos, cur.order, cur.key or "", cur.size, cur.avail)
        if array.element_type == ValueType.ARRAY:
            warnings.append(f"{cur.key}: nested array (allowed by the spec, refused by ggml)")
        return array
    fmt, size = SCALAR_FORMATS[vtype]
    return cur.scalar(fmt, size, f"a {vtype.name} value")


def parse_array_at(
    buf: HeaderBytes, pos: int, order: str, key: str, size: int, avail: int | None = None, depth: int = 1
) -> tuple[GGUFArray, int]:
    """Parse the array whose type field starts at ``pos``; return it and the offset after it.

    ``size`` is the file size and ``avail`` how many of its bytes ``buf`` holds (default: all).
    ``depth`` is the nesting level of this array (1: a key's value); an array at level
    ``MAX_ARRAY_NESTING`` whose elements are arrays is refused.
    """
    data = buf.data
    if avail is None:
        avail = size
    if pos + 12 > avail:
        if pos + 12 <= size:
            raise NeedBytes(pos + 12)
        raise GGUFError(f"file ends at byte {size} inside an array header", offset=pos, key=key)
    raw_type, count = struct.unpack_from(order + "IQ", data, pos)
    etype = _value_type(raw_type, pos, key)
    start = pos + 12
    remaining = size - start
    min_size = _MIN_ELEMENT_BYTES.get(etype) or SCALAR_FORMATS[etype][1]
    if count * min_size > remaining:
        raise GGUFError(
            f"array claims {count} {etype.name} elements (at least {count * min_size} bytes) "
            f"but only {remaining} bytes remain in the file",
            offset=pos + 4,
            key=key,
        )
    if etype == ValueType.STRING:
        end, checkpoints = _walk_strings(data, start, count, size, order, key, avail)
        return GGUFArray(etype, count, start, end, buf, order, key, checkpoints), end
    if etype == ValueType.ARRAY:
        if depth >= MAX_ARRAY_NESTING:
            raise GGUFError(
                f"arrays nested more than {MAX_ARRAY_NESTING} levels deep (ggml refuses nested arrays entirely)",
                offset=pos,
                key=key,
            )
        end = start
        for _ in range(count):
            _, end = parse_array_at(buf, end, order, key, size, avail, depth + 1)
        return GGUFArray(etype, count, start, end, buf, order, key), end
    end = start + count * SCALAR_FORMATS[etype][1]
    if end > avail:  # the elements are decoded lazily, from bytes that must be held
        raise NeedBytes(end)
    return GGUFArray(etype, count, start, end, buf, order, key), end


def _walk_strings(
    data: Any, start: int, count: int, size: int, order: str, key: str, avail: int | None = None
) -> tuple[int, list[int]]:
    """Skip ``count`` strings; return the end offset and checkpoints. The hot loop of the reader.

    The C accelerator (``mmcheck.header._walk``, built at install when a compiler is there) walks
    arrays that fit in the held bytes; anything else, and every error, takes the Python walk.
    """
    if _native is not None:
        held = size if avail is None else avail
        done = _native.walk(data, start, count, held, order == ">", CHECKPOINT_EVERY)
        if done is not None:
            return done
    return _walk_strings_python(data, start, count, size, order, key, avail)


def _walk_strings_python(
    data: Any, start: int, count: int, size: int, order: str, key: str, avail: int | None = None
) -> tuple[int, list[int]]:
    """:func:`_walk_strings` in Python: the reference, and the path that reports errors.

    On little-endian files the length prefixes are read through eight ``memoryview.cast("Q")``
    views, one per byte alignment, which is faster than ``struct.unpack_from`` per element.
    When ``data`` holds only the first ``avail`` bytes of the file and the walk runs past them,
    raises ``NeedBytes`` with a lower bound of the array's end.
    """
    if avail is None:
        avail = size
    checkpoints: list[int] = []
    pos = start
    remaining = count
    views: list[memoryview] = []
    failed = False
    try:
        if order == "<" and sys.byteorder == "little":
            base = memoryview(data)
            views = [base]
            views += [base[k : k + max(0, avail - k) // 8 * 8].cast("Q") for k in range(8)]
            lengths = tuple(views[1:])
            while remaining:
                checkpoints.append(pos)
                chunk = CHECKPOINT_EVERY if remaining > CHECKPOINT_EVERY else remaining
                for _ in range(chunk >> 3):  # unrolled by eight: the loop itself is ~12% of the walk
                    pos += 8 + lengths[pos & 7][pos >> 3]
                    pos += 8 + lengths[pos & 7][pos >> 3]
                    pos += 8 + lengths[pos & 7][pos >> 3]
                    pos += 8 + lengths[pos & 7][pos >> 3]
                    pos += 8 + lengths[pos & 7][pos >> 3]
                    pos += 8 + lengths[pos & 7][pos >> 3]
                    pos += 8 + lengths[pos & 7][pos >> 3]
                    pos += 8 + lengths[pos & 7][pos >> 3]
                for _ in range(chunk & 7):
                    pos += 8 + lengths[pos & 7][pos >> 3]
                remaining -= chunk
        else:
            unpack = struct.Struct(order + "Q").unpack_from
            while remaining:
                checkpoints.append(pos)
                chunk = CHECKPOINT_EVERY if remaining > CHECKPOINT_EVERY else remaining
                for _ in range(chunk):
                    pos += 8 + unpack(data, pos)[0]
                remaining -= chunk
    except (struct.error, OverflowError, IndexError):  # a length prefix pointed past the held bytes
        failed = True
    finally:
        for v in reversed(views):
            v.release()  # an exported view would keep the memory map from closing
    if failed or pos > avail:
        if avail < size:
            _need_more_strings(data, start, count, size, order, key, avail, checkpoints)
        _locate_bad_string(data, start, count, size, order, key)
    return pos, checkpoints


def _need_more_strings(
    data: Any, start: int, count: int, size: int, order: str, key: str, avail: int, checkpoints: list[int]
) -> None:
    """The walk ran past the held bytes of a partly fetched file: raise ``NeedBytes`` with a lower
    bound of the array's end, or the ``GGUFError`` the whole file would give."""
    # walk again from the last checkpoint to find the first element that is not fully held
    pos = checkpoints[-1] if checkpoints else start
    i = (len(checkpoints) - 1) * CHECKPOINT_EVERY if checkpoints else 0
    unpack = struct.Struct(order + "Q").unpack_from
    while i < count and pos + 8 <= avail:
        n = unpack(data, pos)[0]
        if pos + 8 + n > avail:
            break
        pos += 8 + n
        i += 1
    if i >= count:  # pragma: no cover - every element is held: nothing to fetch
        return
    # element i starts at pos and is not fully held; every element after it takes at least 8 bytes.
    # Errors are the ones the whole-file walk gives for element i; a rest of the array too long
    # for the file is fetched up to the file's end, so that the walk names the element itself.
    rest = 8 * (count - i - 1)
    if pos + 8 > avail:
        if pos + 8 > size:
            raise GGUFError(f"file ends inside the length of string element {i}", offset=pos, key=key)
        raise NeedBytes(min(size, pos + 8 + rest))
    n = unpack(data, pos)[0]
    if pos + 8 + n > size:
        raise GGUFError(
            f"string element {i} claims {n} bytes but only {size - pos - 8} remain in the file", offset=pos, key=key
        )
    raise NeedBytes(min(size, pos + 8 + n + rest))


def _locate_bad_string(data: Any, start: int, count: int, size: int, order: str, key: str) -> None:
    """Slow path: find which element of a string array runs past the end, and raise."""
    pos = start
    for i in range(count):
        if pos + 8 > size:
            raise GGUFError(f"file ends inside the length of string element {i}", offset=pos, key=key)
        n = struct.unpack_from(order + "Q", data, pos)[0]
        if pos + 8 + n > size:
            raise GGUFError(
                f"string element {i} claims {n} bytes but only {size - pos - 8} remain in the file",
                offset=pos,
                key=key,
            )
        pos += 8 + n
    raise AssertionError("unreachable: string walk overflowed but every element fits")  # pragma: no cover


def _split_info(metadata: dict[str, Any]) -> SplitInfo | None:
    count = metadata.get("split.count")
    if not isinstance(count, int) or isinstance(count, bool):
        return None
    no = metadata.get("split.no")
    tensors = metadata.get("split.tensors.count")
    return SplitInfo(
        shard=no if isinstance(no, int) else 0,
        shards=count,
        tensors_count=tensors if isinstance(tensors, int) else None,
    )


__all__ = ["NeedBytes", "parse_array_at", "parse_source", "read_header"]
