"""Remote GGUF files: ``hf://ORG/REPO[@REVISION]/PATH`` and ``http(s)://`` URLs, read by HTTP range.

This package is the only place mmcheck talks to a network, and nothing in it is imported for
local files: ``read_header``, ``check_pair``, ``scan`` and ``suggest`` come here only when they are
given a remote path. This module itself is light (settings and counters); the HTTP client
(``http``), the byte source (``source``), Hugging Face support (``hub``, which imports
``huggingface_hub``) and the header cache (``cache``) load on first use.

Public API::

    import mmcheck.remote as remote

    remote.configure(timeout=30, cache=False)   # what --timeout / --no-cache set
    h = mmcheck.read_header("hf://ggml-org/gemma-3-4b-it-GGUF/mmproj-model-f16.gguf")
    h.source.transfer.requests, h.source.transfer.bytes   # what reading it cost
    remote.transfers()                           # the same, for every remote file of the process
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from mmcheck.errors import ConfigError

if TYPE_CHECKING:
    from mmcheck.header.model import GGUFHeader
    from mmcheck.header.source import RemotePath

MiB = 1 << 20


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ[name])
    except (KeyError, ValueError):
        return default


@dataclass(frozen=True)
class Settings:
    """How remote files are read. ``configure()`` changes them for the whole process."""

    #: seconds to wait for a connection and for each read (``--timeout``, config ``timeout``,
    #: env ``MMCHECK_TIMEOUT``)
    timeout: float = field(default_factory=lambda: _env_float("MMCHECK_TIMEOUT", 10.0))
    #: use the header cache (``--no-cache`` turns it off)
    cache: bool = True
    #: retries after a 429, a 5xx or a dropped connection (env ``MMCHECK_RETRIES``)
    retries: int = field(default_factory=lambda: int(_env_float("MMCHECK_RETRIES", 3)))
    #: seconds before the first retry; doubles each time (env ``MMCHECK_RETRY_WAIT``)
    retry_wait: float = field(default_factory=lambda: _env_float("MMCHECK_RETRY_WAIT", 0.5))
    #: longest ``Retry-After`` honoured, in seconds (a longer one is reported instead)
    max_retry_after: float = 30.0
    #: the first request of a file: its first ``probe`` bytes
    probe: int = MiB
    #: every later header request reads at least this much more (read-ahead)
    chunk: int = 2 * MiB
    #: parallel connections per file for the smoke test's scattered reads
    connections: int = 8
    #: the header cache's size limit in bytes (env ``MMCHECK_REMOTE_CACHE_MB``)
    cache_max_bytes: int = field(default_factory=lambda: int(_env_float("MMCHECK_REMOTE_CACHE_MB", 512) * MiB))
    #: the largest header mmcheck fetches; a bigger claim is refused (hostile or not a GGUF)
    max_header: int = 256 * MiB


_settings = Settings()
_lock = threading.Lock()


def configure(**changes: Any) -> Settings:
    """Change the settings for this process (unknown names or bad values raise ``ConfigError``)."""
    global _settings
    known = {f.name for f in fields(Settings)}
    for name, value in changes.items():
        if name not in known:
            raise ConfigError(f"unknown remote setting {name!r}")
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if name == "timeout" and not (number and 0 < value < 1e6):  # NaN and inf fail too
            raise ConfigError(f"timeout must be a positive number of seconds, got {value!r}")
    _settings = replace(_settings, **changes)
    return _settings


def settings() -> Settings:
    """The settings in force."""
    return _settings


@dataclass
class Transfer:
    """What one remote file (or one repository listing) cost: requests made and bytes received.

    ``bytes`` counts response bodies (what crossed the network for this file); ``header_bytes`` is
    the part of them the header read used; ``cache`` is ``hit``, ``miss``, ``off`` or ``offline``;
    ``ranges`` is ``multi`` (multi-range requests work), ``single`` or ``none`` (the server ignores
    ``Range``) once known.
    """

    url: str
    kind: str = "file"  # "file" | "listing"
    requests: int = 0
    bytes: int = 0
    header_bytes: int = 0
    cache: str = "off"
    ranges: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, requests: int = 0, nbytes: int = 0) -> None:
        """Add requests and body bytes (thread-safe)."""
        with self._lock:
            self.requests += requests
            self.bytes += nbytes

    def to_dict(self) -> dict[str, Any]:
        """The ``remote`` object of the JSON output."""
        return {
            "url": self.url,
            "requests": self.requests,
            "bytes_fetched": self.bytes,
            "header_bytes": self.header_bytes,
            "cache": self.cache,
            "ranges": self.ranges,
        }

    def describe(self) -> str:
        """One line for ``-v``."""
        what = f"{self.requests} request(s), {_size(self.bytes)} fetched"
        if self.kind == "listing":
            return f"{self.url}: listing, {what}"
        extra = f"header cache {self.cache}"
        if self.ranges == "none":
            extra += ", server ignores Range"
        return f"{self.url}: {what} ({extra})"


def _size(n: int) -> str:
    if n < 10 * 1024:
        return f"{n} B"
    if n < 10 * MiB:
        return f"{n / 1024:.1f} KiB"
    return f"{n / MiB:.1f} MiB"


_transfers: list[Transfer] = []


def new_transfer(url: str, kind: str = "file") -> Transfer:
    """Register the counters of one file or listing."""
    t = Transfer(url, kind)
    with _lock:
        _transfers.append(t)
    return t


def transfers() -> list[Transfer]:
    """Every remote file and listing this process read, in order."""
    with _lock:
        return list(_transfers)


def read_remote_header(path: str | RemotePath) -> GGUFHeader:
    """Read a remote file's header (cache first, then range requests). See ``mmcheck.remote.reader``."""
    from mmcheck.remote.reader import read

    return read(path)


def prepare(paths: Iterable[object]) -> None:
    """Fetch what is needed to validate cached headers of several files in as few requests as
    possible (one per Hugging Face repository and revision). Optional: reads work without it."""
    from mmcheck.header.source import is_remote

    remote = [p for p in paths if is_remote(p)]
    if remote:
        from mmcheck.remote.reader import prepare as _prepare

        _prepare(remote)


def list_gguf(root: str | RemotePath, *, recursive: bool) -> list[RemotePath]:
    """The GGUF files in a remote folder (an ``hf://`` repository or a folder in it)."""
    from mmcheck.remote.reader import list_gguf as _list

    return _list(root, recursive=recursive)


def abort() -> None:
    """Close every open connection at once (Ctrl-C): threads blocked on a read return immediately."""
    module = sys.modules.get("mmcheck.remote.http")
    if module is not None:
        module.abort_all()


__all__ = [
    "Settings",
    "Transfer",
    "abort",
    "configure",
    "list_gguf",
    "prepare",
    "read_remote_header",
    "settings",
    "transfers",
]
