"""The store-aware ``mmcheck scan``: find the stores under the given paths (or the default ones),
read their records, and check each entry's pairs — the store's own declarations first, then, for a
projector its entry gives no text model, every text model of the same store by content.

``scan_paths()`` is the one entry point. Paths that are no store go through the folder scan
(``mmcheck.scan``) unchanged; with no store at all, the result *is* that scan's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from mmcheck.db import CompatDB, load_db
from mmcheck.errors import MMCheckError
from mmcheck.header.source import FilePath, RemotePath
from mmcheck.pairing import Candidate, candidate_pairs
from mmcheck.rules import Options, resolve
from mmcheck.rules.scanning import ScanView
from mmcheck.scan import (
    PairCheck,
    Progress,
    ScannedFile,
    ScanResult,
    Status,
    check_candidates,
    discover,
    read_files,
    scan_notes,
)
from mmcheck.scan import _gc_paused as gc_paused
from mmcheck.stores import STORES, get
from mmcheck.stores.base import Entry, Store, StoreScan, real

PathLike = str | os.PathLike[str]
CROSS_ENTRY = 3  # the distance given to a pair found by content across entries (ranks after declared ones)


@dataclass
class Target:
    """One store to read: which, where, and (for a named path inside it) which part."""

    store: Store
    root: Path
    only: Path | None = None
    named: Path | None = None  # the path the user gave, when they gave one


@dataclass
class Plan:
    """What a scan reads: stores, plain folders/files, and what it says about what it looked for."""

    targets: list[Target] = field(default_factory=list)
    plain: list[FilePath] = field(default_factory=list)  # folders, files and remote paths (hf://, URLs)
    messages: list[str] = field(default_factory=list)


def plan_scan(
    paths: Sequence[PathLike],
    store: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Plan:
    """Decide what to read. No paths: the default locations of ``store`` (or of every store) that
    exist. Paths: each one's store, auto-detected (or ``store``), else a plain folder or file.
    Raises ``MMCheckError`` for a named path that does not exist or is not the named store."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    plan = Plan()
    if not paths:
        stores = [get(store)] if store else list(STORES.values())
        looked: list[str] = []
        seen: set[Path] = set()
        for s in stores:
            for root in s.default_roots(env, home):
                looked.append(str(root))
                if root.is_dir() and real(root) not in seen:
                    seen.add(real(root))
                    plan.targets.append(Target(s, root))
        if not plan.targets:
            what = get(store).title if store else "model store"
            where = ", ".join(looked) if looked else "no default location: name its folder"
            plan.messages.append(f"No {what} found (looked in: {where}).")
        return plan
    for raw in paths:
        if isinstance(raw, RemotePath):
            plan.plain.append(raw)  # a remote repository or file: a plain scan, never a store
            continue
        p = Path(raw)
        if not p.exists() and not p.is_symlink():
            raise MMCheckError(f"{p}: no such file or directory")
        if store:
            s = get(store)
            found = s.detect(p, named=True)
            if found is None:
                article = "an" if s.title[0] in "AEIOU" else "a"
                raise MMCheckError(f"{p}: not {article} {s.title} (expected {s.layout})")
            plan.targets.append(_target(s, found, p))
            continue
        for s in STORES.values():
            found = s.detect(p)
            if found is not None:
                plan.targets.append(_target(s, found, p))
                break
        else:
            plan.plain.append(p)
    return plan


def _target(s: Store, root: Path, named: Path) -> Target:
    only = None if real(named) == real(root) else Path(os.path.abspath(named))
    return Target(s, root, only, named)


@dataclass
class StoreScanResult(ScanResult):
    """A scan that read stores: the folder scan's result plus the stores, their entries, labels for
    every store file (``llava:13b [projector]``) and which pairs belong to which entry."""

    stores: list[StoreScan] = field(default_factory=list)
    labels: dict[FilePath, str] = field(default_factory=dict)
    label_parts: dict[Path, tuple[str, str]] = field(default_factory=dict)  # (entry, file) for narrow columns
    entry_pairs: dict[tuple[str, str], list[tuple[FilePath, FilePath]]] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    def label(self, path: FilePath | str) -> str:
        """How to name a file: its store label, else its path."""
        return self.labels.get(Path(path), str(path))

    def pairs_of_entry(self, entry: Entry) -> list[PairCheck]:
        """The checked pairs of one entry, best first per model."""
        keys = set(self.entry_pairs.get((entry.store, entry.name), []))
        found = [p for p in self.pairs if (p.model, p.mmproj) in keys]
        return sorted(found, key=lambda p: (str(p.model), p.key_for_model()))

    def status_of(self, path: FilePath) -> Status | None:
        """What the scan made of one file."""
        return self._status.get(path)

    @property
    def _status(self) -> dict[FilePath, Status]:
        return {f.path: f.status for f in self.files}

    def to_dict(self) -> dict[str, Any]:
        """The folder scan's JSON document plus ``stores`` (entries, their files and pairs) and
        ``messages``."""
        doc = super().to_dict()
        stores = []
        for s in self.stores:
            d = s.to_dict()
            for e, ed in zip(s.entries, d["entries"], strict=True):
                ed["pairs"] = [
                    {"model": str(p.model), "mmproj": str(p.mmproj), "verdict": p.report.verdict.value}
                    for p in self.pairs_of_entry(e)
                ]
            stores.append(d)
        doc["stores"] = stores
        doc["labels"] = {str(k): v for k, v in self.labels.items()}
        doc["messages"] = self.messages
        return doc


def scan_paths(
    paths: Sequence[PathLike],
    *,
    store: str | None = None,
    recursive: bool = False,
    db: CompatDB | PathLike | None = None,
    smoke: bool = False,
    jobs: int | None = None,
    options: Options | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    progress: Progress | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> ScanResult:
    """``mmcheck scan``: stores where there are stores, folders elsewhere (see the module doc).

    Returns a plain ``ScanResult`` when no store is involved, else a ``StoreScanResult``.
    """
    from mmcheck.scan import scan as folder_scan

    plan = plan_scan(paths, store, env=env, home=home)
    if not plan.targets and plan.plain:
        return folder_scan(
            plan.plain,
            recursive=recursive,
            db=db,
            smoke=smoke,
            jobs=jobs,
            options=options,
            select=select,
            ignore=ignore,
            progress=progress,
        )
    database = db if isinstance(db, CompatDB) else load_db(None if db is None else Path(db))
    rules = resolve(select, ignore)
    with gc_paused():
        return _scan(plan, recursive, database, rules, options or Options(), smoke, jobs, progress)


def _scan(
    plan: Plan,
    recursive: bool,
    database: CompatDB,
    rules: Any,
    options: Options,
    smoke: bool,
    jobs: int | None,
    progress: Progress | None,
) -> StoreScanResult:
    scans = []
    for t in plan.targets:
        sc = t.store.read(t.root, t.only)
        named = real(t.named) if t.named is not None else None
        for prob in sc.problems:  # the user named this very record and it is bad: one error line
            if named is not None and real(prob.path) == named and t.only is not None:
                raise MMCheckError(f"{t.named}: {prob.message}")
        scans.append(sc)
    # by path, not by real path: one blob under two snapshot folders is two files, each paired in its folder
    store_paths = list(dict.fromkeys(f.path for sc in scans for e in sc.entries for f in e.files))
    unreadable: list[tuple[Path, str]] = []
    plain_paths = discover(plan.plain, recursive=recursive, unreadable=unreadable) if plan.plain else []
    known = {real(p) for p in store_paths}
    plain_paths = [p for p in plain_paths if real(cast(Path, p)) not in known]
    files = read_files(store_paths + plain_paths, database, jobs=jobs, progress=progress)
    status = {f.path: f for f in files}

    candidates: dict[tuple[FilePath, FilePath], int] = {}
    entry_pairs: dict[tuple[str, str], list[tuple[FilePath, FilePath]]] = {}
    for sc in scans:
        for key, found in _store_candidates(sc, status).items():
            entry_pairs[key] = [(m, p) for m, p, _ in found]
            for m, p, d in found:
                candidates[(m, p)] = min(candidates.get((m, p), d), d)
    plain_models = [p for p in plain_paths if status[p].status == Status.TEXT_MODEL]
    plain_projs = [p for p in plain_paths if status[p].status == Status.PROJECTOR]
    for c in candidate_pairs(plain_models, plain_projs):
        candidates[(c.model, c.mmproj)] = c.distance
    ordered = [
        Candidate(m, p, d) for (m, p), d in sorted(candidates.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))
    ]
    pairs = check_candidates(files, ordered, database, rules, options, smoke=smoke, progress=progress)

    result = StoreScanResult(
        files, pairs, unreadable_folders=unreadable, stores=scans, entry_pairs=entry_pairs, messages=list(plan.messages)
    )
    result.label_parts = _labels(scans)
    result.labels = {p: f"{a} {b}".strip() for p, (a, b) in result.label_parts.items()}
    store_set = set(store_paths)
    notes = scan_notes(ScanView(result, covers=lambda p: p not in store_set), rules)  # the plain folders
    notes += _store_notes(result, scans, store_set, rules)
    result.notes = notes
    result.messages += [_summary(sc) for sc in scans]
    return result


def _store_candidates(
    sc: StoreScan, status: dict[FilePath, ScannedFile]
) -> dict[tuple[str, str], list[tuple[FilePath, FilePath, int]]]:
    """(store, entry name) -> [(model, projector, distance)]: declared pairs first, then content."""
    out: dict[tuple[str, str], list[tuple[FilePath, FilePath, int]]] = {}

    def files_of(e: Entry, kind: Status) -> list[FilePath]:
        return [f.path for f in e.files if f.path in status and status[f.path].status == kind]

    all_models = list(dict.fromkeys(m for e in sc.entries for m in files_of(e, Status.TEXT_MODEL)))
    pooled_projs = list(
        dict.fromkeys(p for e in sc.entries if e.pairing == "all" for p in files_of(e, Status.PROJECTOR))
    )
    for e in sc.entries:
        models, projs = files_of(e, Status.TEXT_MODEL), files_of(e, Status.PROJECTOR)
        pairs: list[tuple[FilePath, FilePath, int]] = []
        if e.pairing == "declared":
            pairs = [(m, p, 0) for m in models for p in projs]
        elif e.pairing == "folder":
            pairs = [(c.model, c.mmproj, c.distance) for c in candidate_pairs(models, projs)]
        else:  # "all": any model of the store with any projector of the store (listed with the models)
            pairs = [(m, p, 0 if m.parent == p.parent else 1) for m in models for p in pooled_projs]
        if projs and not models and e.pairing != "all":
            # a projector-only entry: by content, against every text model of the store
            pairs = [(m, p, CROSS_ENTRY) for p in projs for m in all_models]
        out[(e.store, e.name)] = list(dict.fromkeys(pairs))
    return out


def _labels(scans: list[StoreScan]) -> dict[Path, tuple[str, str]]:
    """path -> (entry part, file part): (``llava:13b (+1 other entry)``, ``[projector]``)."""
    names: dict[Path, list[str]] = {}
    suffix: dict[Path, str] = {}
    for sc in scans:
        for e in sc.entries:
            for f in e.files:
                names.setdefault(f.path, [])
                if e.name not in names[f.path]:
                    names[f.path].append(e.name)
                suffix.setdefault(f.path, f"[{f.role}]" if sc.store == "ollama" else f.label)

    def join(n: list[str]) -> str:
        return n[0] if len(n) == 1 else f"{n[0]} (+{len(n) - 1} other entr{'y' if len(n) == 2 else 'ies'})"

    return {p: (join(n), suffix[p]) for p, n in names.items()}


def _summary(sc: StoreScan) -> str:
    n = len(sc.entries)
    extra = f"; {sc.skipped} without GGUF files not shown" if sc.skipped else ""
    bad = f"; {len(sc.problems)} problem(s)" if sc.problems else ""
    return f"Scanned the {sc.title} at {sc.root}: {n} entr{'y' if n == 1 else 'ies'} with GGUF files{extra}{bad}."


def _store_notes(result: StoreScanResult, scans: list[StoreScan], store_set: set[Path], rules: Any) -> list[Any]:
    """The scan rules over the store files (in the stores' words), store problems included."""
    problems = [prob for sc in scans for prob in sc.problems]
    view = ScanView(result, covers=lambda p: p in store_set, label=result.label, store=True, problems=problems)
    return scan_notes(view, rules)


__all__ = ["Plan", "StoreScanResult", "Target", "plan_scan", "scan_paths"]
