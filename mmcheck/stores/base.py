"""What every store reader returns, and the one interface they share.

A *store* is where a runtime keeps its models (Ollama's ``~/.ollama/models``, the Hugging Face
cache, LM Studio's models folder, ...). Its reader turns the store's own records into ``Entry``
objects — one per model as the store names it (``llava:13b``, ``org/repo@rev``,
``publisher/repo``) — listing the GGUF files of that entry with the role the store declares for
each, and ``Problem`` objects for what it could not read. Readers never raise for bad store
content and never read outside the store's root (``inside`` is the one place that decides).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

Role = Literal["model", "projector"]
Pairing = Literal["declared", "folder", "all"]

# Finding codes a reader may report (mmcheck.rules.stores).
UNREADABLE = "MM096"
MISSING = "MM097"
ESCAPES = "MM098"


@dataclass(frozen=True)
class StoreFile:
    """A GGUF file of an entry."""

    path: Path  # where to read it: checked to stay inside the store
    role: Role | None = None  # what the store's record says it is (None: the store does not say)
    label: str = ""  # how the entry names it: a file name, or an Ollama layer's media type


@dataclass
class Entry:
    """One model as the store names it, and its GGUF files.

    ``pairing`` says how the store ties the files together: ``declared`` (its record lists the model
    and its projector: an Ollama manifest, a Jan ``model.yml``), ``folder`` (they share a folder: a
    Hugging Face snapshot, an LM Studio repo folder), or ``all`` (the app lets you combine any model
    with any projector of the store: text-generation-webui).
    """

    store: str
    name: str
    location: Path
    files: list[StoreFile] = field(default_factory=list)
    pairing: Pairing = "folder"
    detail: str = ""  # one line the report shows beside the name (refs, a note on the format)
    extra: dict[str, Any] = field(default_factory=dict)  # store-specific facts for the JSON output

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "store": self.store,
            "name": self.name,
            "location": str(self.location),
            "pairing": self.pairing,
            "detail": self.detail,
            "files": [{"path": str(f.path), "role": f.role, "label": f.label} for f in self.files],
            **self.extra,
        }


@dataclass(frozen=True)
class Problem:
    """Store content the reader could not use: becomes an MM096/MM097/MM098 finding."""

    code: str
    message: str
    hint: str
    path: Path
    entry: str | None = None  # the entry it belongs to, when known


@dataclass
class StoreScan:
    """What a reader found in one store."""

    store: str  # the store's id: ollama, hf-cache, ...
    title: str  # how to call it in a sentence: "Ollama store", "Hugging Face cache"
    root: Path
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0  # entries without any GGUF file (safetensors repos, datasets...)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "store": self.store,
            "title": self.title,
            "root": str(self.root),
            "entries": [e.to_dict() for e in self.entries],
            "problems": [
                {"rule": p.code, "message": p.message, "path": str(p.path), "entry": p.entry} for p in self.problems
            ],
            "entries_without_gguf": self.skipped,
        }


class Store(Protocol):
    """A store reader. Implementations: one module each in ``mmcheck.stores``."""

    id: str
    title: str
    layout: str  # what the folder must hold, for the error line when it does not

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """Where the store lives on this machine by default (existing or not), first choice first."""

    def detect(self, path: Path, named: bool = False) -> Path | None:
        """The store's root when ``path`` is such a store or lies inside one, else None. ``named``:
        the user said which store it is (``--store``), so a looser layout is accepted."""

    def read(self, root: Path, only: Path | None = None) -> StoreScan:
        """Read the store at ``root``; with ``only``, just the entries at or under that path."""


# ------------------------------------------------------------------------------------------------
# Safe paths
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """The outcome of resolving a path against the store's roots: a real path, or a problem."""

    path: Path | None
    code: str | None = None
    reason: str = ""


def real(path: Path) -> Path:
    """The path with every symlink resolved (non-strict: for roots that may not exist)."""
    return Path(os.path.realpath(path))


def inside(path: Path, allowed: Iterable[Path]) -> Resolved:
    """Resolve ``path`` (following every symlink, loops detected) and check it stays under one of
    ``allowed`` (real paths). Never raises."""
    try:
        target = Path(os.path.realpath(path, strict=True))
    except OSError as e:
        if e.errno == errno.ELOOP:
            return Resolved(None, MISSING, "is a symlink loop")
        if os.path.islink(path):
            try:
                dest = os.readlink(path)
            except OSError:
                dest = "?"
            return Resolved(None, MISSING, f"is a dangling symlink (to {dest})")
        return Resolved(None, MISSING, "does not exist")
    except (RuntimeError, ValueError) as e:  # RuntimeError: a loop on some Python versions
        return Resolved(None, MISSING, f"cannot be resolved ({e})")
    for root in allowed:
        if target == root or root in target.parents:
            if not target.is_file():
                return Resolved(None, MISSING, "is not a file")
            return Resolved(target)
    return Resolved(None, ESCAPES, f"resolves to {target}, outside the store")


def is_gguf_name(name: str) -> bool:
    """``*.gguf``, any case."""
    return name.lower().endswith(".gguf")


def walk_gguf(top: Path) -> list[Path]:
    """The ``*.gguf`` entries under ``top`` (files or symlinks), sorted, never following a symlinked
    folder (a loop cannot trap the walk) and skipping hidden folders."""
    out: list[Path] = []
    for dirpath, dirs, files in os.walk(top, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [Path(dirpath) / f for f in sorted(files) if is_gguf_name(f)]
    return out


def under(path: Path, base: Path | None) -> bool:
    """``path`` is ``base`` or below it (lexically, after making both absolute); True without base."""
    if base is None:
        return True
    p, b = Path(os.path.abspath(path)), Path(os.path.abspath(base))
    return p == b or b in p.parents


__all__ = ["Entry", "Problem", "Resolved", "Store", "StoreFile", "StoreScan", "inside", "walk_gguf"]
