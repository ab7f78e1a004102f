"""Reading GGUF headers without numpy or gguf: ``read_header(path) -> GGUFHeader``."""

from mmcheck.header.arrays import GGUFArray
from mmcheck.header.model import DataStatus, GGUFHeader, SplitInfo, TensorInfo
from mmcheck.header.reader import read_header
from mmcheck.header.source import FilePath, RemotePath, is_remote
from mmcheck.header.types import GGML_TYPES, GGMLType, ValueType

__all__ = [
    "GGML_TYPES",
    "DataStatus",
    "FilePath",
    "GGMLType",
    "GGUFArray",
    "GGUFHeader",
    "RemotePath",
    "SplitInfo",
    "TensorInfo",
    "ValueType",
    "is_remote",
    "read_header",
]
