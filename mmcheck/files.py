"""Opening input files safely: only regular files, never blocking, never for writing.

A FIFO, a terminal or a device opened for reading blocks (or streams forever) before a single byte
can be checked, so every input is opened non-blocking first and checked with ``fstat`` on the very
file descriptor that will be read: there is no window between the check and the open.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

from mmcheck.errors import GGUFError

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _os_error(e: OSError) -> GGUFError:
    if e.errno == errno.ENOENT:
        return GGUFError("no such file")
    if e.errno in (errno.EACCES, errno.EPERM):
        return GGUFError("permission denied")
    if e.errno == errno.EISDIR:
        return GGUFError("is a directory, not a GGUF file")
    if e.errno == errno.ELOOP:
        return GGUFError("too many levels of symbolic links")
    return GGUFError(f"cannot read: {e.strerror or e}")


def describe_special(mode: int) -> str | None:
    """What a non-regular file is (``a named pipe (FIFO)``), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    return next((label for test, label in _KINDS if test(mode)), "not a regular file")


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file; raise ``GGUFError`` otherwise.

    Never blocks: FIFOs, devices and sockets are refused with what they are.
    """
    try:
        fd = os.open(path, _FLAGS)
    except OSError as e:
        raise _os_error(e) from None
    try:
        mode = os.fstat(fd).st_mode
        special = describe_special(mode)
        if special == "a directory":
            raise GGUFError("is a directory, not a GGUF file")
        if special is not None:
            raise GGUFError(f"is {special}, not a regular file: mmcheck reads only files")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_head(path: str | os.PathLike[str], n: int = 64) -> bytes:
    """The first ``n`` bytes of a regular file (``GGUFError`` otherwise)."""
    with open_regular(path) as fh:
        return fh.read(n)


def read_small_text(path: str | os.PathLike[str], limit: int = 16 << 20) -> str:
    """A small regular text file (a config, a manifest) as UTF-8; ``GGUFError`` if it is not a regular
    file or larger than ``limit`` bytes; ``UnicodeDecodeError`` if it is not UTF-8."""
    with open_regular(path) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise GGUFError(f"larger than {limit:,} bytes: not a configuration or manifest file")
    return data.decode("utf-8")


def is_regular(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a regular file (following symlinks), without opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


__all__ = ["describe_special", "is_regular", "open_regular", "read_head", "read_small_text"]
