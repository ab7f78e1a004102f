"""A cache of remote files' header bytes, keyed by (URL, validator).

The validator is what says the bytes cannot have changed: the Hub's ETag of the file (its LFS
sha256 or git blob id), a server's ``ETag`` (or ``Last-Modified`` plus size), or — for a path pinned
to a commit — nothing at all, since a commit never changes. An entry holds the bytes before the
tensor data, so a second check of the same file parses them without fetching a byte.

Entries live in ``<mmcheck cache dir>/remote-headers/`` (``MMCHECK_CACHE_DIR``, else
``$XDG_CACHE_HOME/mmcheck``, else ``~/.cache/mmcheck``), one file each. The directory is kept
under ``Settings.cache_max_bytes`` (512 MiB by default, ``MMCHECK_REMOTE_CACHE_MB``) by deleting
the least recently used entries. Every failure (unwritable directory, corrupt entry) is silent:
the header is then fetched again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from mmcheck.db.cache import cache_dir, write_atomic

MAGIC = b"mmcheck-remote-header/1\n"
SUFFIX = ".hdr"


@dataclass(frozen=True)
class Entry:
    """A cached header: the file's size, the validator it was stored under, the header bytes."""

    url: str
    validator: str | None
    size: int
    header: bytes
    path: Path


def directory() -> Path:
    """Where entries are stored."""
    return cache_dir() / "remote-headers"


def _url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:32]


def _name(url: str, validator: str | None) -> str:
    v = hashlib.sha256((validator or "").encode()).hexdigest()[:16]
    return f"{_url_key(url)}-{v}{SUFFIX}"


def _read(path: Path, url: str) -> Entry | None:
    try:
        with open(path, "rb") as fh:
            if fh.read(len(MAGIC)) != MAGIC:
                return None
            meta = json.loads(fh.readline())
            header = fh.read()
        if meta.get("url") != url or meta.get("header_len") != len(header):
            return None
        entry = Entry(url, meta.get("validator"), int(meta["size"]), header, path)
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used goes first
        return entry
    except (OSError, ValueError, KeyError, TypeError):
        return None


def lookup(url: str, validator: str | None) -> Entry | None:
    """The entry stored for ``url`` under ``validator``."""
    return _read(directory() / _name(url, validator), url)


def latest(url: str) -> Entry | None:
    """The most recently stored entry for ``url`` under any validator (offline, or pinned commits)."""
    prefix = _url_key(url) + "-"
    try:
        candidates = [p for p in directory().iterdir() if p.name.startswith(prefix) and p.name.endswith(SUFFIX)]
    except OSError:
        return None
    for p in sorted(candidates, key=_mtime, reverse=True):
        e = _read(p, url)
        if e is not None:
            return e
    return None


def has(url: str) -> bool:
    """Whether any entry exists for ``url`` (then validating it is worth a metadata request)."""
    prefix = _url_key(url) + "-"
    try:
        return any(n.startswith(prefix) for n in os.listdir(directory()))
    except OSError:
        return False


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def store(url: str, validator: str | None, size: int, header: bytes, max_bytes: int) -> None:
    """Store ``header`` for (``url``, ``validator``), then trim the directory to ``max_bytes``."""
    if len(header) + 1024 > max_bytes:
        return
    meta = json.dumps({"url": url, "validator": validator, "size": size, "header_len": len(header)})
    if write_atomic(directory() / _name(url, validator), MAGIC + meta.encode() + b"\n", header):
        trim(max_bytes)


def drop(entry: Entry) -> None:
    """Delete an entry (it turned out unusable)."""
    with contextlib.suppress(OSError):
        entry.path.unlink()


def trim(max_bytes: int) -> None:
    """Delete the least recently used entries until the directory holds at most ``max_bytes``."""
    try:
        files = [p for p in directory().iterdir() if p.name.endswith(SUFFIX)]
    except OSError:
        return
    sized = []
    for p in files:
        try:
            st = p.stat()
        except OSError:
            continue
        sized.append((st.st_mtime, st.st_size, p))
    total = sum(s for _, s, _ in sized)
    for _, s, p in sorted(sized, key=lambda t: t[0]):
        if total <= max_bytes:
            break
        with contextlib.suppress(OSError):
            p.unlink()
            total -= s


__all__ = ["Entry", "directory", "drop", "has", "latest", "lookup", "store", "trim"]
