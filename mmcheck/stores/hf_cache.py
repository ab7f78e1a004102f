"""The Hugging Face hub cache: ``models--ORG--REPO/{refs,snapshots/<commit>,blobs}``.

Layout facts, from the huggingface_hub 2.4.0 source (PyPI; files cited by path) and the cache page
llama.cpp's ``common/hf-cache.h`` refers to, https://huggingface.co/docs/hub/local-cache:

- The cache is ``$HF_HUB_CACHE``, else the legacy ``$HUGGINGFACE_HUB_CACHE``, else ``$HF_HOME/hub``;
  ``HF_HOME`` defaults to ``$XDG_CACHE_HOME/huggingface``, else ``~/.cache/huggingface``
  (``huggingface_hub/constants.py``).
- A repository's folder is ``{type}s--{org}--{name}`` (``file_download.py`` ``repo_folder_name``,
  separator ``--``): ``models--ggml-org--gemma-3-4b-it-GGUF``. Only ``models--`` folders hold models.
- Inside: ``refs/<ref>`` (a text file holding a commit hash; refs may nest, ``refs/refs/pr/1``),
  ``snapshots/<commit>/<path in the repo>`` and ``blobs/<etag>`` (git sha1 or LFS sha256). Snapshot
  files are *relative* symlinks into ``blobs/`` (``file_download.py`` ``_create_symlink``); where
  symlinks are unavailable the file itself sits in the snapshot (``HF_HUB_DISABLE_SYMLINKS``).
- Since the shared blob store, a repository's ``blobs/<etag>`` may itself be a relative symlink to
  ``<cache>/blobs/<2 hex>/<xet hash>`` (``utils/_shared_blobs.py``): a chain of two links, both
  inside the cache.
- The cache's own scanner treats a snapshot symlink whose blob is gone as corruption: "Blob
  missing (broken symlink)" (``utils/_cache_manager.py`` ``_scan_cached_repo``).

llama.cpp at 0c1e570 reads the same layout for its ``-hf`` downloads (``common/hf-cache.cpp``,
see ``mmcheck.stores.llama_cache``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from mmcheck.stores.base import ESCAPES, Entry, Problem, StoreFile, StoreScan, inside, real, under, walk_gguf

_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def hub_cache(env: Mapping[str, str], home: Path) -> Path:
    """Where huggingface_hub puts its cache (``constants.py``)."""
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    if env.get("HUGGINGFACE_HUB_CACHE"):
        return Path(env["HUGGINGFACE_HUB_CACHE"]).expanduser()
    hf_home = Path(env["HF_HOME"]).expanduser() if env.get("HF_HOME") else None
    if hf_home is None:
        xdg = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else home / ".cache"
        hf_home = xdg / "huggingface"
    return hf_home / "hub"


def repo_id(folder_name: str) -> str | None:
    """``models--ORG--REPO`` -> ``ORG/REPO`` (None for datasets, spaces and other folders)."""
    if not folder_name.startswith("models--") or len(folder_name) <= len("models--"):
        return None
    return folder_name[len("models--") :].replace("--", "/")


def is_repo_folder(d: Path) -> bool:
    """A ``models--*`` folder with a ``snapshots`` folder."""
    return repo_id(d.name) is not None and (d / "snapshots").is_dir()


def find_root(path: Path) -> Path | None:
    """The cache root for ``path``: a folder of ``models--*`` repositories (or ``~/.cache/huggingface``
    holding ``hub/``), or the folder above the repository ``path`` is in."""
    p = Path(os.path.abspath(path))
    for cand in (p, p / "hub"):
        if cand.is_dir() and _has_repos(cand):
            return cand
    for d in (p, *p.parents):
        if is_repo_folder(d):
            return d.parent
    return None


def _has_repos(d: Path) -> bool:
    try:
        return any(is_repo_folder(c) for c in d.iterdir() if c.name.startswith("models--"))
    except OSError:
        return False


def read_repos(store: str, title: str, root: Path, only: Path | None) -> StoreScan:
    """One entry per snapshot (``org/repo@<commit[:12]>``) of every ``models--*`` folder in ``root``."""
    scan = StoreScan(store, title, root)
    try:
        repos = sorted(d for d in root.iterdir() if is_repo_folder(d) and not d.is_symlink())
    except OSError:
        repos = []
    cache_real = real(root)
    for repo in repos:
        rid = repo_id(repo.name)
        assert rid is not None
        if only is not None and not (under(only, repo) or under(repo, only)):
            continue
        refs = _refs(repo)
        for snap in _dirs(repo / "snapshots"):
            if only is not None and not (under(only, snap) or under(snap, only)):
                continue
            commit = snap.name
            names = sorted(r for r, c in refs.items() if c == commit)
            entry = Entry(store, f"{rid}@{commit[:12]}", snap, pairing="folder")
            entry.extra = {"repo": rid, "revision": commit, "refs": names}
            entry.detail = ", ".join(names)
            _snapshot_files(entry, snap, [cache_real, real(repo / "blobs")], scan.problems)
            if entry.files:
                scan.entries.append(entry)
            elif not any(p.entry == entry.name for p in scan.problems):
                scan.skipped += 1
    return scan


def _snapshot_files(entry: Entry, snap: Path, allowed: list[Path], problems: list[Problem]) -> None:
    for f in walk_gguf(snap):
        res = inside(f, allowed)
        rel = f.relative_to(snap).as_posix()
        if res.path is None:
            why = res.reason
            if res.code == ESCAPES:
                hint = "delete the symlink and download the file again; mmcheck does not follow links out of the cache"
            else:
                hint = f"download it again (`hf download {entry.extra['repo']} {rel}`)"
            problems.append(Problem(res.code or "MM097", f"{entry.name}: {rel} {why}", hint, f, entry.name))
            continue
        entry.files.append(StoreFile(f, None, rel))


def _refs(repo: Path) -> dict[str, str]:
    """ref name -> commit, from ``refs/**`` (small text files)."""
    out: dict[str, str] = {}
    base = repo / "refs"
    if not base.is_dir():
        return out
    for dirpath, dirs, files in os.walk(base, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            p = Path(dirpath) / name
            try:
                if p.is_symlink() or p.stat().st_size > 256:
                    continue
                commit = p.read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                continue
            if _COMMIT.match(commit):
                out[p.relative_to(base).as_posix()] = commit
    return out


def _dirs(d: Path) -> list[Path]:
    try:
        return sorted(p for p in d.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return []


class HFCacheStore:
    """Reads a Hugging Face hub cache."""

    id = "hf-cache"
    title = "Hugging Face cache"
    layout = "models--ORG--REPO folders with snapshots/"

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """``$HF_HUB_CACHE`` / ``$HUGGINGFACE_HUB_CACHE`` / ``$HF_HOME/hub`` / ``~/.cache/huggingface/hub``."""
        return [hub_cache(env, home)]

    def detect(self, path: Path, named: bool = False) -> Path | None:
        """A folder of ``models--*`` repositories, or a path inside one."""
        return find_root(path)

    def read(self, root: Path, only: Path | None = None) -> StoreScan:
        """Every snapshot of every model repository."""
        return read_repos(self.id, self.title, root, only)


STORE = HFCacheStore()
