"""Ollama's model store: ``manifests/<host>/<namespace>/<model>/<tag>`` JSON and ``blobs/sha256-<hex>``.

Layout facts, from ollama/ollama at fb3076099 (files cited by path):

- The store is ``$OLLAMA_MODELS``, else ``~/.ollama/models`` (``envconfig/config.go`` ``Models()``).
- A model's manifest is ``manifests/{host}/{namespace}/{model}/{tag}`` (``types/model/name.go``
  ``Name.Filepath``); the listing globs exactly four levels, ``manifests/*/*/*/*``
  (``manifest/manifest.go`` ``Manifests``). Defaults: host ``registry.ollama.ai``, namespace
  ``library``, tag ``latest``; the short display name drops the default host and namespace
  (``Name.DisplayShortest``: ``llava:13b``, ``user/model:tag``, ``hf.co/org/repo:Q4_K_M``).
- A manifest is ``{"schemaVersion": 2, "mediaType":
  "application/vnd.docker.distribution.manifest.v2+json", "config": Layer, "layers": [Layer]}``
  with ``Layer = {"mediaType", "digest", "size", "from"?, "name"?}`` (``manifest/manifest.go``
  ``Manifest``, ``WriteManifest``; ``manifest/layer.go`` ``Layer``).
- A digest must match ``^sha256[:-][0-9a-fA-F]{64}$``; its blob is ``blobs/<digest with ':' -> '-'>``
  (``manifest/paths.go`` ``BlobsPath``).
- Layer media types (``server/images.go`` ``GetModel``): ``application/vnd.ollama.image.model``
  (the model), ``...image.projector`` (a projector, one per ``FROM`` line), ``...image.adapter``,
  ``...image.template``, ``...image.system``, ``...image.params``, ``...image.messages``,
  ``...image.license``; ``application/vnd.ollama.image.draft`` (a draft model) and
  ``...image.tensor`` (safetensors tensors) in ``manifest/layer.go``. The config layer
  (``application/vnd.docker.container.image.v1+json``, ``server/create.go`` ``createConfigLayer``)
  holds ``model_format``, ``model_family``, ... (``types/model/config.go`` ``ConfigV2``).
- Vision capability: projector layers, or a ``{arch}.vision.block_count`` key in the model GGUF
  (``server/images.go`` ``Capabilities``; ``fs/gguf/gguf.go`` ``KeyValue`` prefixes the arch).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmcheck.errors import GGUFError
from mmcheck.files import read_small_text
from mmcheck.stores.base import (
    ESCAPES,
    MISSING,
    UNREADABLE,
    Entry,
    Problem,
    Role,
    StoreFile,
    StoreScan,
    inside,
    real,
    under,
)

MODEL = "application/vnd.ollama.image.model"
PROJECTOR = "application/vnd.ollama.image.projector"
DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"

_DIGEST = re.compile(r"^sha256[:-][0-9a-fA-F]{64}$")
_MAX_MANIFEST = 4 * 1024 * 1024  # manifests are a few hundred bytes; anything huge is not one


def display_name(host: str, namespace: str, model: str, tag: str) -> str:
    """Ollama's short name (``Name.DisplayShortest``): ``llava:13b``, ``user/m:tag``, ``host/ns/m:tag``."""
    if host.lower() != DEFAULT_HOST:
        return f"{host}/{namespace}/{model}:{tag}"
    if namespace.lower() != DEFAULT_NAMESPACE:
        return f"{namespace}/{model}:{tag}"
    return f"{model}:{tag}"


class OllamaStore:
    """Reads an Ollama models folder."""

    id = "ollama"
    title = "Ollama store"
    layout = "manifests/ and blobs/ folders"

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """``$OLLAMA_MODELS``, else ``~/.ollama/models``."""
        if env.get("OLLAMA_MODELS"):
            return [Path(env["OLLAMA_MODELS"]).expanduser()]
        return [home / ".ollama" / "models"]

    def detect(self, path: Path, named: bool = False) -> Path | None:
        """A folder holding ``manifests/`` and ``blobs/`` (or ``~/.ollama`` holding ``models/``), or a
        path inside one."""
        p = Path(os.path.abspath(path))
        if (p / "models" / "manifests").is_dir() and (p / "models" / "blobs").is_dir():
            return p / "models"
        for d in (p, *p.parents):
            if (d / "manifests").is_dir() and (d / "blobs").is_dir():
                return d
        return None

    def read(self, root: Path, only: Path | None = None) -> StoreScan:
        """Every manifest under ``manifests/*/*/*/*`` becomes an entry; ``only`` keeps the entries
        whose manifest is under it, or that use the blob it names."""
        scan = StoreScan(self.id, self.title, root)
        manifests = root / "manifests"
        allowed = [real(root), real(root / "blobs")]
        only_blob = only is not None and under(only, root / "blobs")
        for path in _four_deep(manifests):
            host, namespace, model, tag = path.relative_to(manifests).parts
            name = display_name(host, namespace, model, tag)
            if not only_blob and not under(path, only):
                continue
            entry = self._entry(path, name, allowed, root, scan.problems)
            if entry is None:
                continue
            if only_blob and only is not None and not any(real(f.path) == real(only) for f in entry.files):
                continue
            if entry.files:
                scan.entries.append(entry)
            elif not any(p.entry == name for p in scan.problems):
                scan.skipped += 1
        return scan

    def _entry(self, path: Path, name: str, allowed: list[Path], root: Path, problems: list[Problem]) -> Entry | None:
        doc = _load_manifest(path)
        if isinstance(doc, str):
            problems.append(Problem(UNREADABLE, f"manifest of {name} {doc}", f"run `ollama pull {name}`", path, name))
            return None
        entry = Entry(self.id, name, path, pairing="declared")
        config = doc.get("config")
        fmt = _model_format(config, root, allowed) if isinstance(config, dict) else None
        if fmt:
            entry.extra["model_format"] = fmt
        layers: list[dict[str, Any]] = doc["layers"]
        for i, layer in enumerate(layers):
            media, digest = layer.get("mediaType"), layer.get("digest")
            if media not in (MODEL, PROJECTOR):
                continue
            role: Role = "model" if media == MODEL else "projector"
            if not isinstance(digest, str) or not _DIGEST.match(digest):
                code = (
                    ESCAPES
                    if isinstance(digest, str) and ("/" in digest or "\\" in digest or ".." in digest)
                    else UNREADABLE
                )
                what = "points outside the blobs folder" if code == ESCAPES else "is not a sha256 digest"
                msg = f"{name}: layer {i} ({role}) digest {str(digest)[:80]!r} {what}; Ollama refuses it too"
                problems.append(Problem(code, msg, f"run `ollama pull {name}`", path, name))
                continue
            blob = root / "blobs" / digest.replace(":", "-")
            res = inside(blob, allowed)
            if res.path is None:
                msg = f"{name}: the {role} blob {blob.name} {res.reason}"
                hint = f"run `ollama pull {name}`" if res.code == MISSING else "remove the symlink and pull again"
                problems.append(Problem(res.code or MISSING, msg, hint, blob, name))
                continue
            entry.files.append(StoreFile(blob, role, media))
        if fmt and fmt != "gguf" and not entry.files:
            entry.detail = f"model_format {fmt}: not a GGUF model"
        return entry


def _four_deep(manifests: Path) -> list[Path]:
    """``manifests/*/*/*/*`` files, sorted (as Ollama's ``Manifests`` globs them)."""
    out: list[Path] = []
    if not manifests.is_dir():
        return out
    for host in _dirs(manifests):
        for ns in _dirs(host):
            for model in _dirs(ns):
                try:
                    tags = sorted(model.iterdir())
                except OSError:
                    continue
                out += [t for t in tags if t.is_file() and not t.name.startswith(".")]
    return out


def _dirs(d: Path) -> list[Path]:
    try:
        return sorted(p for p in d.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    except OSError:
        return []


def _load_manifest(path: Path) -> dict[str, Any] | str:
    """The manifest as a dict with a ``layers`` list of objects, or why it is not one."""
    try:
        text = read_small_text(path, _MAX_MANIFEST)
    except GGUFError as e:
        return str(e)
    except UnicodeDecodeError:
        return "is not UTF-8 text: not a manifest"
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        return f"is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})"
    if not isinstance(doc, dict):
        return "is not a JSON object"
    layers = doc.get("layers")
    if not isinstance(layers, list) or not all(isinstance(x, dict) for x in layers):
        return 'has no "layers" list of objects'
    return doc


def _model_format(config: dict[str, Any], root: Path, allowed: list[Path]) -> str | None:
    """``model_format`` from the config blob (a small JSON file), when it can be read."""
    digest = config.get("digest")
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        return None
    res = inside(root / "blobs" / digest.replace(":", "-"), allowed)
    if res.path is None:
        return None
    try:
        doc = json.loads(read_small_text(res.path, _MAX_MANIFEST))
    except (GGUFError, ValueError):
        return None
    fmt = doc.get("model_format") if isinstance(doc, dict) else None
    return fmt if isinstance(fmt, str) else None


STORE = OllamaStore()
