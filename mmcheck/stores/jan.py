"""Jan's llama.cpp models: ``<Jan data folder>/llamacpp/models/<model id>/model.yml``.

Facts from janhq/jan ``extensions/llamacpp-extension/src/index.ts`` at 000e123:

- Each model is a folder ``llamacpp/models/<modelId>/`` (the id may hold ``/``: the folders are
  searched depth-first for ``model.yml``) with ``model.yml`` (required), ``model.gguf`` and
  ``mmproj.gguf`` (present when downloaded from a URL).
- ``model.yml`` holds ``model_path``, ``mmproj_path`` (optional), ``name`` and ``size_bytes``; the
  paths are relative to Jan's data folder, or absolute for files imported from elsewhere, and are
  passed to ``llama-server`` as ``-m`` and ``--mmproj``.

mmcheck pairs what ``model.yml`` declares; a model folder without ``model.yml`` is paired by folder.
Jan's data folder moves between versions and platforms: name it (``mmcheck scan --store jan DIR``).
"""

from __future__ import annotations

import os
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
    StoreFile,
    StoreScan,
    inside,
    real,
    under,
    walk_gguf,
)


class JanStore:
    """Reads Jan's ``llamacpp/models`` folder."""

    id = "jan"
    title = "Jan models folder"
    layout = "a llamacpp/models/ folder"

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """None: Jan's data folder is a setting of the app; name it."""
        return []

    def detect(self, path: Path, named: bool = False) -> Path | None:
        """The data folder holding ``llamacpp/models``, from it or from a path inside it."""
        p = Path(os.path.abspath(path))
        if (p / "llamacpp" / "models").is_dir():
            return p
        for d in (p, *p.parents):
            if d.name == "models" and d.parent.name == "llamacpp":
                return d.parent.parent
        return None

    def read(self, root: Path, only: Path | None = None) -> StoreScan:
        """One entry per model folder (``model.yml`` or GGUF files)."""
        scan = StoreScan(self.id, self.title, root)
        models = root / "llamacpp" / "models"
        for folder in _model_folders(models):
            if only is not None and not (under(only, folder) or under(folder, only)):
                continue
            entry = self._entry(root, models, folder, scan.problems)
            if entry is not None and entry.files:
                scan.entries.append(entry)
        return scan

    def _entry(self, root: Path, models: Path, folder: Path, problems: list[Problem]) -> Entry | None:
        model_id = folder.relative_to(models).as_posix()
        yml = folder / "model.yml"
        if not yml.is_file():
            entry = Entry(self.id, model_id, folder, pairing="folder")
            allowed = [real(folder)]
            for f in walk_gguf(folder):
                res = inside(f, allowed)
                if res.path is not None:
                    entry.files.append(StoreFile(f, None, f.name))
            return entry
        doc = _load_yaml(yml)
        if isinstance(doc, str) or not isinstance(doc.get("model_path"), str):
            why = doc if isinstance(doc, str) else "has no model_path"
            problems.append(
                Problem(UNREADABLE, f"{model_id}: model.yml {why}", "import the model again", yml, model_id)
            )
            return None
        entry = Entry(self.id, model_id, folder, pairing="declared")
        for key, role in (("model_path", "model"), ("mmproj_path", "projector")):
            value = doc.get(key)
            if value is None or value == "":
                continue
            if not isinstance(value, str):
                problems.append(
                    Problem(
                        UNREADABLE,
                        f"{model_id}: model.yml {key} is not a path",
                        "import the model again",
                        yml,
                        model_id,
                    )
                )
                continue
            declared = Path(value)
            target = declared if declared.is_absolute() else root / declared
            if not declared.is_absolute() and not under(Path(os.path.normpath(target)), root):
                msg = f"{model_id}: {key} {value!r} leads out of the data folder"
                problems.append(Problem(ESCAPES, msg, "fix the path in model.yml", yml, model_id))
                continue
            # a relative path stays in the data folder; an absolute one is a file the user imported
            allowed = [real(target)] if declared.is_absolute() else [real(root)]
            res = inside(target, allowed)
            if res.path is None:
                code = res.code or MISSING
                hint = "import the model again" if code != ESCAPES else "fix the path in model.yml"
                problems.append(Problem(code, f"{model_id}: {key} {value!r} {res.reason}", hint, yml, model_id))
                continue
            entry.files.append(StoreFile(target, role, declared.name))  # type: ignore[arg-type]
        return entry


def _model_folders(models: Path) -> list[Path]:
    """Folders holding ``model.yml`` (searched depth-first, as Jan does), or GGUF files."""
    out: list[Path] = []
    if not models.is_dir():
        return out
    for dirpath, dirs, files in os.walk(models, followlinks=False):
        dirs.sort()
        if "model.yml" in files:
            out.append(Path(dirpath))
            dirs[:] = []
        elif any(f.lower().endswith(".gguf") for f in files) and Path(dirpath) != models:
            out.append(Path(dirpath))
    return out


def _load_yaml(path: Path) -> dict[str, Any] | str:
    import yaml

    try:
        doc = yaml.safe_load(read_small_text(path, 1024 * 1024))
    except GGUFError as e:
        return str(e)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        return f"is not valid YAML ({str(e).splitlines()[0]})"
    return doc if isinstance(doc, dict) else "is not a YAML mapping"


STORE = JanStore()
