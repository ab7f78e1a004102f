"""LM Studio's models folder: ``<models>/<publisher>/<repo>/<file>.gguf``.

Facts:

- The layout is ``~/.lmstudio/models/<publisher>/<model>/<model-file>.gguf``, preserving the
  Hugging Face repository's name (https://lmstudio.ai/docs/basics/import-model).
- LM Studio's home is ``$LMSTUDIO_HOME``, else the path written in ``~/.lmstudio-home-pointer``, else
  ``~/.cache/lm-studio`` when it exists (older installs), else ``~/.lmstudio``
  (lmstudio-ai/lmstudio-js ``packages/lms-common-server/src/findLMStudioHome.ts`` at 7c40eb8).
- The models folder is ``downloadsFolder`` in ``<home>/settings.json`` when set, else
  ``<home>/models`` (lmstudio-ai/lms ``src/modelsFolder.ts`` at 3cc0201, ``src/lmstudioPaths.ts``).

A projector in a repo folder belongs to the models of that folder (lmstudio-community renames its
projectors ``mmproj-model-f16.gguf``, so names say nothing): mmcheck pairs by folder, then content.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from mmcheck.errors import GGUFError
from mmcheck.files import read_small_text
from mmcheck.stores.base import Entry, Problem, StoreFile, StoreScan, inside, real, under, walk_gguf


def lmstudio_home(env: Mapping[str, str], home: Path) -> Path:
    """``findLMStudioHome()``, without writing the pointer file it writes."""
    if env.get("LMSTUDIO_HOME"):
        return Path(env["LMSTUDIO_HOME"]).expanduser()
    pointer = home / ".lmstudio-home-pointer"
    try:
        text = read_small_text(pointer, 64 << 10).strip()
        if text:
            return Path(text).expanduser()
    except (GGUFError, UnicodeDecodeError):
        pass
    legacy = home / ".cache" / "lm-studio"
    return legacy if legacy.is_dir() else home / ".lmstudio"


def models_folder(lms_home: Path) -> Path:
    """``downloadsFolder`` of ``settings.json``, else ``<home>/models``."""
    try:
        settings = json.loads(read_small_text(lms_home / "settings.json", 16 << 20))
        folder = settings.get("downloadsFolder") if isinstance(settings, dict) else None
        if isinstance(folder, str) and folder:
            return Path(folder).expanduser()
    except (GGUFError, ValueError):
        pass
    return lms_home / "models"


class LMStudioStore:
    """Reads an LM Studio models folder."""

    id = "lmstudio"
    title = "LM Studio models folder"
    layout = "<publisher>/<repo>/ folders"

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """The folder LM Studio uses now, then the other known homes' ``models`` folders."""
        first = models_folder(lmstudio_home(env, home))
        others = [home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"]
        return [first, *[o for o in others if real(o) != real(first)]]

    def detect(self, path: Path, named: bool = False) -> Path | None:
        """A ``models`` folder of an LM Studio home (``~/.lmstudio``, ``~/.cache/lm-studio``, or a
        folder beside ``settings.json``/``.internal``), or a path inside one."""
        p = Path(os.path.abspath(path))
        if named and p.is_dir() and not _is_home(p):
            return p
        if (p / "models").is_dir() and _is_home(p):
            return p / "models"
        for d in (p, *p.parents):
            if d.name == "models" and _is_home(d.parent):
                return d
        return None

    def read(self, root: Path, only: Path | None = None) -> StoreScan:
        """One entry per ``<publisher>/<repo>`` folder holding GGUF files (subfolders included)."""
        scan = StoreScan(self.id, self.title, root)
        for pub in _dirs(root):
            for repo in _dirs(pub):
                if only is not None and not (under(only, repo) or under(repo, only)):
                    continue
                name = f"{pub.name}/{repo.name}"
                entry = Entry(self.id, name, repo, pairing="folder")
                for f in walk_gguf(repo):
                    # LM Studio's folder is the user's own: a model symlinked in from another disk
                    # is followed (only dangling links and loops are findings)
                    res = inside(f, [real(f)])
                    if res.path is None:
                        msg = f"{name}: {f.relative_to(repo).as_posix()} {res.reason}"
                        scan.problems.append(Problem(res.code or "MM097", msg, "download the file again", f, name))
                        continue
                    entry.files.append(StoreFile(f, None, f.relative_to(repo).as_posix()))
                if entry.files:
                    scan.entries.append(entry)
        return scan


def _is_home(d: Path) -> bool:
    return d.name in (".lmstudio", "lm-studio") or (d / "settings.json").is_file() or (d / ".internal").is_dir()


def _dirs(d: Path) -> list[Path]:
    try:
        return sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


STORE = LMStudioStore()
