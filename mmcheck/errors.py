"""The exceptions mmcheck raises. Every one of them maps to exit code 2 in the CLI."""

from __future__ import annotations

import os


class MMCheckError(Exception):
    """Base class: something mmcheck cannot work with (bad input, bad config, bad database)."""


class GGUFError(MMCheckError):
    """A file is not a readable GGUF file.

    ``offset`` is the byte offset where the problem was found (``None`` when it concerns the
    whole file, e.g. a directory or an empty file) and ``key`` the metadata key or tensor name
    being read, when there is one.
    """

    def __init__(self, message: str, *, offset: int | None = None, key: str | None = None) -> None:
        self.message = message
        self.offset = offset
        self.key = key
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.offset is not None:
            where.append(f"at byte {self.offset}")
        if self.key is not None:
            where.append(f"in {self.key!r}")
        return f"{self.message} ({', '.join(where)})" if where else self.message


class RemoteError(GGUFError):
    """A remote file could not be fetched: an HTTP error status, missing access, a protocol fault
    (wrong ``Content-Range``, short body, changed ``ETag``), a timeout or a network failure.

    ``str()`` says what is wrong in one line; ``url`` is the file as the user named it.
    """

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.url = url
        super().__init__(message)


class LFSPointerError(GGUFError):
    """The file is a Git LFS pointer (a small text file standing for the model), not the GGUF."""


class DBError(MMCheckError):
    """An entry of the compatibility database is invalid. ``file:line: message``."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


class ConfigError(MMCheckError):
    """The user's configuration ([tool.mmcheck], command-line options) is invalid."""


class UsageError(MMCheckError):
    """Options that parsed but do not fit together (a format the command does not offer); the
    message names the option and the command's ``--help``, as the parser's own errors do."""


class ExitCode:
    """The exit codes of every command (stable, as ruff's and mypy's)."""

    OK = 0  #: the result passes --fail-on
    FINDINGS = 1  #: the result fails --fail-on
    ERROR = 2  #: usage error, bad configuration, unreadable input, internal error


def printable(text: str | os.PathLike[str] | None) -> str:
    """A path or name as text that every output format can carry.

    File names are bytes on POSIX; Python turns bytes that are not UTF-8 into lone surrogates,
    which JSON, XML and terminals reject. They are shown as ``\\xNN`` escapes instead.
    """
    if text is None:
        return ""
    try:
        raw = os.fsencode(text) if isinstance(text, os.PathLike) else str(text).encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no file name decodes to: escape it as text
        return str(text).encode("utf-8", "backslashreplace").decode("ascii")
    return raw.decode("utf-8", "backslashreplace")


def error_line(message: str, path: str | os.PathLike[str] | None = None) -> str:
    """``mmcheck: error: FILE: message``: the one line every exit-2 error becomes."""
    if path is None:
        return f"mmcheck: error: {printable(message)}"
    return f"mmcheck: error: {printable(path)}: {printable(message)}"
