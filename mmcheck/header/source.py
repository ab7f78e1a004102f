"""Where a header's bytes come from: a local file, or a remote file read by HTTP ranges.

``read_header`` parses over a :class:`ByteSource`. A source exposes the bytes it holds so far as
one contiguous buffer (``view``) and can be asked for more (``extend``):

- :class:`LocalFile` memory-maps the whole file read-only: every byte is available at once, so the
  parser never asks for more and the local path costs exactly what it did before sources existed.
- ``mmcheck.remote.source.RemoteSource`` (imported only for remote paths) starts with a small
  probe and grows its buffer in read-ahead chunks when the parser needs bytes beyond it.

:class:`RemotePath` names a remote file (``hf://ORG/REPO[@REV]/PATH`` or ``https://...``) wherever a
``Path`` names a local one; :func:`is_remote` tells the two apart without importing anything.
This module imports nothing from the network stack.
"""

from __future__ import annotations

import mmap
import os
import re
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Any

from mmcheck.errors import GGUFError

_REMOTE_PREFIXES = ("hf://", "http://", "https://")
# hf://[TYPE/]ORG/NAME[@REVISION][/PATH]; a refs/pr/N or refs/convert/X revision holds slashes
_HF_ROOT = re.compile(
    r"^hf://(?:(?:models|datasets|spaces)/)?[^/@]+/[^/@]+(?:@(?:refs/(?:pr/\d+|convert/[\w.-]+)|[^/]+))?"
)


def is_remote(path: object) -> bool:
    """Whether ``path`` names a remote file (``hf://``, ``http://``, ``https://``); never touches it."""
    if isinstance(path, RemotePath):
        return True
    return isinstance(path, str) and path[:8].lower().startswith(_REMOTE_PREFIXES)


class RemotePath:
    """The name of a remote file or folder, spelled as the user gave it (or as a listing built it).

    It plays the part ``Path`` plays for local files in reports and in scan's folder logic:
    ``str()``, ``name``, ``parent`` (an ``hf://`` path's parents stop at the repository root; a
    URL's at its host), equality and hashing. ``os.fspath()`` returns the URL so that helpers that
    only look at names work on it; nothing ever opens it as a local file.
    """

    __slots__ = ("_root", "url")

    def __init__(self, url: str) -> None:
        stripped = url.rstrip("/")
        self.url = stripped if not stripped.endswith(":") else url
        m = _HF_ROOT.match(self.url) if self.url.startswith("hf://") else None
        if m is not None:
            self._root = m.end()
        else:
            scheme_end = self.url.find("://") + 3
            slash = self.url.find("/", scheme_end)
            self._root = len(self.url) if slash == -1 else slash

    @property
    def name(self) -> str:
        """The last path segment (URL-decoded, without a query string); empty for a root."""
        from urllib.parse import unquote  # remote paths only: the local path never imports urllib

        tail = self.url[self._root :].split("?", 1)[0].rstrip("/")
        return unquote(tail.rsplit("/", 1)[-1]) if tail else ""

    @property
    def parent(self) -> RemotePath:
        """The containing folder; a root is its own parent."""
        tail = self.url[self._root :].split("?", 1)[0].rstrip("/")
        if not tail:
            return self
        return RemotePath(self.url[: self._root] + tail.rsplit("/", 1)[0])

    @property
    def is_root(self) -> bool:
        """True for a repository root (``hf://ORG/REPO[@REV]``) or a bare host."""
        return not self.url[self._root :].strip("/")

    def child(self, name: str) -> RemotePath:
        """The path of ``name`` inside this folder."""
        return RemotePath(f"{self.url.rstrip('/')}/{name}")

    def __fspath__(self) -> str:
        return self.url

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"RemotePath({self.url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemotePath) and other.url == self.url

    def __lt__(self, other: RemotePath) -> bool:
        return self.url < other.url

    def __hash__(self) -> int:
        return hash(("remote", self.url))


#: What names a file: a local path, or a remote one.
FilePath = Path | RemotePath


def as_file_path(path: str | os.PathLike[str] | RemotePath) -> FilePath:
    """``RemotePath`` for a remote spelling, ``Path`` otherwise."""
    if isinstance(path, (Path, RemotePath)):
        return path
    raw = os.fspath(path)
    return RemotePath(raw) if is_remote(raw) else Path(raw)


class ByteSource(ABC):
    """Bytes of one GGUF file, as far as they have been read.

    ``view()`` returns ``(buffer, available)``: the first ``available`` bytes of the file (the
    buffer may be longer). ``extend(end)`` makes at least the first ``min(end, size)`` bytes
    available. ``finish(header_end)`` tells the source the header ends there, so it can drop
    what it no longer needs.
    """

    #: what the file is called in messages and in ``GGUFHeader.path``
    path: FilePath
    #: the file's total size in bytes
    size: int
    #: True for sources whose bytes cost requests (the parser then asks for them incrementally)
    remote: bool = False

    @abstractmethod
    def view(self) -> tuple[Any, int]:
        """The buffer and how many of its leading bytes are the file's."""

    def extend(self, end: int) -> None:
        """Make the first ``end`` bytes available (a local file already has all of them)."""
        raise AssertionError(f"{self.path}: all {self.size} bytes are available, cannot extend to {end}")

    def finish(self, header_end: int) -> None:  # noqa: B027 - optional hook, a no-op by default
        """The header ends at ``header_end``; the parser will not ask for more."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release the buffer (and whatever holds it open)."""

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class LocalFile(ByteSource):
    """A local file, memory-mapped read-only. Raises ``GGUFError`` when it cannot be opened."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        from mmcheck.files import open_regular  # refuses FIFOs and devices on the descriptor it reads

        p = Path(path)
        self.path = p
        self._file = open_regular(p)
        self.size = os.fstat(self._file.fileno()).st_size
        if self.size == 0:
            self._file.close()
            raise GGUFError("empty file (0 bytes), not a GGUF file")
        try:
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:
            self._file.close()
            raise GGUFError(f"cannot memory-map the file: {e}") from None

    def view(self) -> tuple[Any, int]:
        return self._map, self.size

    def close(self) -> None:
        self._map.close()
        self._file.close()


__all__ = ["ByteSource", "FilePath", "LocalFile", "RemotePath", "as_file_path", "is_remote"]
