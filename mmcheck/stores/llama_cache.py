"""llama.cpp's ``-hf`` download cache (``LLAMA_CACHE``).

Facts from ggml-org/llama.cpp at 0c1e570 (the commit mmcheck's oracle builds):

- ``-hf`` downloads go to the Hugging Face cache layout (``models--ORG--REPO/snapshots/<commit>``
  with symlinks into ``blobs/``), in the first of ``$LLAMA_CACHE``, ``$HF_HUB_CACHE``,
  ``$HUGGINGFACE_HUB_CACHE``, ``$HF_HOME/hub``, ``$XDG_CACHE_HOME/huggingface/hub``,
  ``~/.cache/huggingface/hub`` (``common/hf-cache.cpp`` ``get_cache_directory``). Without
  ``LLAMA_CACHE`` that *is* the Hugging Face cache (``mmcheck.stores.hf_cache``).
- It picks the snapshot named by ``refs/main`` (else the first ref), and pairs a model with the
  ``*mmproj*`` GGUF of the deepest shared folder, then the closest quantization
  (``common/download.cpp`` ``find_best_mmproj``) — a folder rule, which mmcheck applies by content.
- Other downloads (``-dr`` Docker models, saved as ``<repo with / -> _>_<tag>.gguf``) go to
  ``fs_get_cache_directory()``: ``$LLAMA_CACHE``, else ``$XDG_CACHE_HOME/llama.cpp``, else
  ``~/.cache/llama.cpp`` on Linux, ``~/Library/Caches/llama.cpp`` on macOS
  (``common/common.cpp``; ``common/download.cpp`` ``common_docker_resolve_model``). Builds before
  the Hugging Face layout kept ``-hf`` files there too, as plain files: mmcheck reads any loose GGUF
  files of that folder as one entry, paired by content.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from mmcheck.stores.base import Entry, Problem, StoreFile, StoreScan, inside, is_gguf_name, real
from mmcheck.stores.hf_cache import read_repos


def flat_cache(env: Mapping[str, str], home: Path) -> Path:
    """``fs_get_cache_directory()`` (``common/common.cpp``)."""
    if env.get("LLAMA_CACHE"):
        return Path(env["LLAMA_CACHE"]).expanduser()
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "llama.cpp"
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]).expanduser() / "llama.cpp"
    return home / ".cache" / "llama.cpp"


class LlamaCacheStore:
    """Reads ``LLAMA_CACHE`` (or llama.cpp's own cache folder)."""

    id = "llama-cache"
    title = "llama.cpp cache"
    layout = "models--ORG--REPO folders or GGUF files"

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """``$LLAMA_CACHE``, else ``~/.cache/llama.cpp`` (the ``-hf`` files of 0c1e570 then live in the
        Hugging Face cache, scanned as ``hf-cache``)."""
        return [flat_cache(env, home)]

    def detect(self, path: Path, named: bool = False) -> Path | None:
        """A folder named ``llama.cpp`` (its default) or the folder ``$LLAMA_CACHE`` names."""
        p = Path(os.path.abspath(path))
        if named and p.is_dir():
            return p
        env = os.environ.get("LLAMA_CACHE")
        for d in (p, *p.parents):
            default = d.name == "llama.cpp" and d.parent.name in (".cache", "Caches")
            if default or (env and real(d) == real(Path(env))):
                return d
        return None

    def read(self, root: Path, only: Path | None = None) -> StoreScan:
        """The Hugging Face layout repositories in ``root``, plus its loose GGUF files as one entry."""
        scan = read_repos(self.id, self.title, root, only)
        loose = [c for c in _children(root) if is_gguf_name(c.name) and not c.is_dir()]
        if loose and (only is None or real(only) == real(root) or any(real(c) == real(only) for c in loose)):
            entry = Entry(self.id, f"{root.name}/ (loose files)", root, pairing="folder")
            allowed = [real(root)]
            for c in loose:
                res = inside(c, allowed)
                if res.path is None:
                    scan.problems.append(
                        Problem(res.code or "MM097", f"{c.name} {res.reason}", "download it again", c, entry.name)
                    )
                else:
                    entry.files.append(StoreFile(c, None, c.name))
            if entry.files:
                scan.entries.append(entry)
        return scan


def _children(d: Path) -> list[Path]:
    try:
        return sorted(d.iterdir())
    except OSError:
        return []


STORE = LlamaCacheStore()
