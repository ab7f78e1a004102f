"""The typed result of reading a GGUF header."""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
from enum import Enum
from typing import Any, NamedTuple

from mmcheck.header.arrays import GGUFArray
from mmcheck.header.source import FilePath
from mmcheck.header.types import INTEGER_TYPES, ValueType, ggml_type_name


class DataStatus(str, Enum):
    """Whether the tensor data the header describes is present in the file."""

    COMPLETE = "complete"
    HEADER_ONLY = "header-only"  # the file ends at or before the aligned data offset
    TRUNCATED = "truncated"  # some, but not all, tensor data is present


class TensorInfo(NamedTuple):
    """One tensor info record. ``shape`` is in ggml ``ne`` order (innermost first)."""

    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int  # relative to the data section
    nbytes: int
    info_offset: int  # where this record starts in the file

    @property
    def type_name(self) -> str:
        """The ggml type name, e.g. ``F16`` or ``Q4_K``."""
        return ggml_type_name(self.ggml_type)

    @property
    def n_elements(self) -> int:
        """Number of elements."""
        n = 1
        for d in self.shape:
            n *= d
        return n


class SplitInfo(NamedTuple):
    """``split.*`` keys of a sharded model (``*-00001-of-0000N.gguf``); ``shard`` is 0-based
    (``split.no``), ``shards`` the number of files (``split.count``)."""

    shard: int
    shards: int
    tensors_count: int | None


class GGUFHeader(NamedTuple):
    """Everything in a GGUF file before its tensor data.

    ``metadata`` maps each key to a Python scalar (int, float, bool, str) or a lazy ``GGUFArray``.
    ``path`` is a ``Path``, or a ``RemotePath`` for a remote file, whose ``source`` (a
    ``mmcheck.remote.source.RemoteSource``) then reads tensor data by range and counts the
    requests and bytes it costs; ``source`` is None for local files.
    """

    path: FilePath
    version: int
    byte_order: str  # "little" | "big"
    metadata: dict[str, Any]
    value_types: dict[str, ValueType]
    key_offsets: dict[str, int]
    tensors: dict[str, TensorInfo]
    alignment: int
    header_size: int  # end of the tensor infos
    data_offset: int  # header_size rounded up to the alignment
    data_size: int  # bytes of tensor data the header describes (padding included)
    file_size: int
    data_status: DataStatus
    split: SplitInfo | None = None
    warnings: tuple[str, ...] = ()
    source: Any = None

    # -- typed access -------------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` (scalar or ``GGUFArray``), or ``default``."""
        return self.metadata.get(key, default)

    def get_int(self, key: str) -> int | None:
        """An integer value of any integer type; None when absent or not an integer."""
        if self.value_types.get(key) in INTEGER_TYPES:
            return int(self.metadata[key])
        return None

    def get_float(self, key: str) -> float | None:
        """A numeric value as float; None when absent or not numeric."""
        vt = self.value_types.get(key)
        if vt in INTEGER_TYPES or vt in (ValueType.FLOAT32, ValueType.FLOAT64):
            return float(self.metadata[key])
        return None

    def get_str(self, key: str) -> str | None:
        """A string value; None when absent or not a string."""
        v = self.metadata.get(key)
        return v if isinstance(v, str) else None

    def get_bool(self, key: str) -> bool | None:
        """A bool value; None when absent or not a bool."""
        if self.value_types.get(key) == ValueType.BOOL:
            return bool(self.metadata[key])
        return None

    def get_array(self, key: str) -> GGUFArray | None:
        """An array value; None when absent or not an array."""
        v = self.metadata.get(key)
        return v if isinstance(v, GGUFArray) else None

    @property
    def architecture(self) -> str | None:
        """``general.architecture``."""
        return self.get_str("general.architecture")

    @property
    def expected_file_size(self) -> int:
        """The size the file must have for all tensor data to be present."""
        return self.data_offset + self.data_size if self.tensors else self.header_size

    def describe_data_status(self) -> str:
        """``complete``, ``header-only`` or ``truncated at byte N of M``."""
        if self.data_status == DataStatus.TRUNCATED:
            return f"truncated at byte {self.file_size} of {self.expected_file_size}"
        return str(self.data_status.value)
