"""Runtime version strings and their order (used by the schema and by :mod:`mmcheck.runtimes`).

Two schemes, named by a runtime's ``versioning`` in ``runtimes.yaml``:

- ``build``: llama.cpp release builds, ``b6907`` (or plain ``6907``). The build number is the
  commit count of the master branch, so builds are totally ordered.
- ``dotted``: ``1.98``, ``0.12.3``, ``0.3.16`` (a leading ``v`` is allowed). Missing trailing parts
  are zeros, so ``0.12`` is ``0.12.0``.

Anything else (a commit hash, ``1.98-rc1``, ``latest``) has no place in the order: :func:`version_key`
returns ``None`` and callers treat the version as unknown or reject it.
"""

from __future__ import annotations

import re

__all__ = ["BUILD_RE", "COMMIT_RE", "DOTTED_RE", "format_version", "version_key"]

BUILD_RE = re.compile(r"^b?(\d{1,7})$")
DOTTED_RE = re.compile(r"^v?(\d{1,6}(?:\.\d{1,6}){0,3})$")
COMMIT_RE = re.compile(r"^[0-9a-f]{7,40}$")


def version_key(versioning: str, version: str) -> tuple[int, ...] | None:
    """A sortable key for ``version`` under ``versioning``, or ``None`` when it does not parse."""
    if versioning == "build":
        m = BUILD_RE.match(version)
        return (int(m.group(1)),) if m else None
    m = DOTTED_RE.match(version)
    if not m:
        return None
    parts = [int(p) for p in m.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()  # 0.12.0 == 0.12
    return tuple(parts)


def format_version(versioning: str, version: str) -> str:
    """The canonical spelling: ``b6907`` for builds, the dotted string without ``v`` otherwise."""
    if versioning == "build":
        m = BUILD_RE.match(version)
        return f"b{m.group(1)}" if m else version
    return version.removeprefix("v")
