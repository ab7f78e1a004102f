"""text-generation-webui's folders: ``user_data/models`` and ``user_data/mmproj``.

Facts from oobabooga/text-generation-webui ``docs/Multimodal Tutorial.md`` at 34f1cd8: GGUF models
go to ``user_data/models``, projectors to ``user_data/mmproj``, and the user picks the projector
for a model in the Model tab's "Multimodal (vision)" menu: no file says which fits which. So mmcheck
checks every model against every projector of ``user_data/mmproj`` (and of the model's own folder),
by content. Older versions kept models in ``models/`` at the install's top level.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from mmcheck.stores.base import Entry, Problem, StoreFile, StoreScan, inside, real, under, walk_gguf


class TextGenStore:
    """Reads a text-generation-webui ``user_data`` folder."""

    id = "textgen-webui"
    title = "text-generation-webui folder"
    layout = "models/ and mmproj/ folders (user_data/)"

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """None: the web UI lives wherever it was unpacked; name it."""
        return []

    def detect(self, path: Path, named: bool = False) -> Path | None:
        """A ``user_data`` folder (or the install above it) with ``models/`` and ``mmproj/``."""
        p = Path(os.path.abspath(path))
        if named and (p / "models").is_dir():
            return p
        for d in (p / "user_data", p, *p.parents):
            if (d / "models").is_dir() and (d / "mmproj").is_dir() and (d.name == "user_data" or d == p):
                return d
        return None

    def read(self, root: Path, only: Path | None = None) -> StoreScan:
        """One entry per model file (per folder for split or foldered models) and one for ``mmproj/``."""
        scan = StoreScan(self.id, self.title, root)
        models, mmproj = root / "models", root / "mmproj"
        groups: dict[Path, list[Path]] = {}
        for f in walk_gguf(models):
            key = f if f.parent == models else models / f.relative_to(models).parts[0]
            groups.setdefault(key, []).append(f)
        for key, files in groups.items():
            if only is not None and not (under(only, key) or under(key, only) or under(only, mmproj)):
                continue
            name = "models/" + key.relative_to(models).as_posix()
            scan.entries.append(self._entry(name, key, files, scan.problems))
        projs = walk_gguf(mmproj)
        if projs:
            scan.entries.append(self._entry("mmproj/", mmproj, projs, scan.problems))
        scan.entries = [e for e in scan.entries if e.files]
        return scan

    def _entry(self, name: str, location: Path, files: list[Path], problems: list[Problem]) -> Entry:
        entry = Entry(self.id, name, location, pairing="all")
        for f in files:
            res = inside(f, [real(f)])  # the user's own folder: links are followed, dangling ones reported
            if res.path is None:
                problems.append(
                    Problem(res.code or "MM097", f"{name}: {f.name} {res.reason}", "download it again", f, name)
                )
            else:
                entry.files.append(StoreFile(f, None, f.name))
        return entry


STORE = TextGenStore()
