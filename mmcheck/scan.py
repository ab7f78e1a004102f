"""``mmcheck scan``: find every GGUF under some paths, classify each by content, check every plausible
(text model, projector) pair, and say which projector fits which model.

``scan()`` never raises for a bad file (an unreadable file or a Git LFS pointer becomes a note with
a finding); only a path the caller named that does not exist raises ``MMCheckError``. Header reads
run in a thread pool. ``suggest()`` ranks the projectors that fit one text model (or the text models
one projector fits), best first.
"""

from __future__ import annotations

import errno
import gc
import os
import re
import sys
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any

from mmcheck.db import CompatDB, load_db
from mmcheck.errors import GGUFError, LFSPointerError, MMCheckError, RemoteError, printable
from mmcheck.facts.classify import FileKind
from mmcheck.files import read_head
from mmcheck.header.sniff import is_lfs_pointer
from mmcheck.header.source import FilePath, RemotePath, is_remote
from mmcheck.inspection import FileInfo, inspect_file
from mmcheck.pair import SCHEMA_VERSION, Report, SingleFileFindings, evaluate
from mmcheck.pairing import Candidate, candidate_pairs, name_affinity, precision_bits, rank_key
from mmcheck.rules import Options, Rule, resolve
from mmcheck.rules.base import Finding, Severity
from mmcheck.rules.scanning import ScanView
from mmcheck.verdict import FailOn

PathLike = str | os.PathLike[str] | RemotePath
Progress = Callable[[str, int, int], None]  # (phase, done, total)

_BLOB = re.compile(r"^sha256[-:][0-9a-f]{64}$")
_MTP = re.compile(r"(^|[-_.])mtp[-_.]")


class Status(str, Enum):
    """What the scan made of a file."""

    TEXT_MODEL = "text-model"
    PROJECTOR = "projector"
    SHARD = "shard"  # a later shard of a split model: its first shard stands for it
    EXCLUDED = "excluded"  # imatrix / mtp files, skipped by name
    OTHER = "other"  # a LoRA adapter, an imatrix, or another GGUF that is neither role
    LFS_POINTER = "lfs-pointer"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class ScannedFile:
    """One file the scan found."""

    path: FilePath
    status: Status
    info: FileInfo | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "path": str(self.path),
            "status": self.status.value,
            "kind": self.info.kind.value if self.info is not None else None,
            "error": self.error,
        }


@dataclass(frozen=True)
class PairCheck:
    """One checked pair and what ranks it."""

    report: Report
    model: FilePath
    mmproj: FilePath
    distance: int
    affinity: int
    bits_gap: int

    @property
    def ok(self) -> bool:
        """The projector fits the model (verdict match or unknown)."""
        return self.report.ok

    def key_for_model(self) -> tuple[int | str, ...]:
        """Rank among the projectors of one model (best first)."""
        return rank_key(self.report, distance=self.distance, affinity=self.affinity, bits_gap=self.bits_gap,
                        other=str(self.mmproj))  # fmt: skip

    def key_for_projector(self) -> tuple[int | str, ...]:
        """Rank among the text models of one projector (best first)."""
        return rank_key(self.report, distance=self.distance, affinity=self.affinity, bits_gap=self.bits_gap,
                        other=str(self.model))  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the findings, not the full file descriptions)."""
        return {
            "model": str(self.model),
            "mmproj": str(self.mmproj),
            "verdict": self.report.verdict.value,
            "ok": self.ok,
            "distance": self.distance,
            "findings": [f.to_dict() for f in self.report.findings],
            "smoke": self.report.smoke_dict(),
        }


@dataclass
class ScanResult:
    """Everything a scan found: files, checked pairs, and notes (findings about single files)."""

    files: list[ScannedFile]
    pairs: list[PairCheck]
    notes: list[Report] = field(default_factory=list)
    unreadable_folders: list[tuple[Path, str]] = field(default_factory=list)  # (folder, why) not scanned

    def paths(self, status: Status) -> list[FilePath]:
        """The files with ``status``, in scan order."""
        return [f.path for f in self.files if f.status == status]

    def pairs_of_projector(self, mmproj: FilePath) -> list[PairCheck]:
        """The pairs of one projector, best first."""
        return self._by_projector.get(mmproj, [])

    def pairs_of_model(self, model: FilePath) -> list[PairCheck]:
        """The pairs of one text model, best first."""
        return self._by_model.get(model, [])

    @cached_property
    def _by_projector(self) -> dict[FilePath, list[PairCheck]]:
        out: dict[FilePath, list[PairCheck]] = {}
        for p in self.pairs:
            out.setdefault(p.mmproj, []).append(p)
        return {k: sorted(v, key=PairCheck.key_for_projector) for k, v in out.items()}

    @cached_property
    def _by_model(self) -> dict[FilePath, list[PairCheck]]:
        out: dict[FilePath, list[PairCheck]] = {}
        for p in self.pairs:
            out.setdefault(p.model, []).append(p)
        return {k: sorted(v, key=PairCheck.key_for_model) for k, v in out.items()}

    def matrix(self) -> dict[str, dict[str, str]]:
        """projector -> text model -> verdict, for every checked pair."""
        out: dict[str, dict[str, str]] = {}
        for p in self.pairs:
            out.setdefault(str(p.mmproj), {})[str(p.model)] = p.report.verdict.value
        return out

    def chosen(self) -> dict[FilePath, PairCheck]:
        """For each text model with a fitting projector, the best pair (what a launcher should use)."""
        out: dict[FilePath, PairCheck] = {}
        for m in self.paths(Status.TEXT_MODEL):
            fitting = [p for p in self.pairs_of_model(m) if p.ok]
            if fitting:
                out[m] = fitting[0]
        return out

    def models_without_projector(self) -> list[FilePath]:
        """Text models no projector in reach fits (text-only models included)."""
        chosen = self.chosen()
        return [m for m in self.paths(Status.TEXT_MODEL) if m not in chosen]

    def projectors_without_model(self) -> list[FilePath]:
        """Projectors that fit no text model in reach (including those with none in reach)."""
        return [p for p in self.paths(Status.PROJECTOR) if not any(c.ok for c in self.pairs_of_projector(p))]

    def reports(self) -> list[Report]:
        """The reports worth showing in CI formats: each projector's best pair(s) — all of its pairs
        when none fits — and the notes. Pairs of a projector with another model's quantizations
        (a 4B projector against the 12B model beside it) are in the matrix, not here."""
        out: list[Report] = []
        for proj in self.paths(Status.PROJECTOR):
            ranked = self.pairs_of_projector(proj)
            if not ranked:
                continue
            best = ranked[0].report.verdict
            out += [c.report for c in ranked if c.report.verdict == best or not ranked[0].ok]
        return out + self.notes

    def fails(self, fail_on: FailOn = FailOn.likely_garbage) -> bool:
        """Whether the scan should fail a CI job: an error note (an unreadable file or folder, an LFS
        pointer, a broken store record), a projector whose best pair fails ``fail_on``, or
        (``unknown``/``warning``) a projector with nothing to check."""
        if any(f.severity == Severity.ERROR for n in self.notes for f in n.findings):
            return True
        if fail_on == FailOn.warning and any(f.severity != Severity.INFO for n in self.notes for f in n.findings):
            return True
        for proj in self.paths(Status.PROJECTOR):
            ranked = self.pairs_of_projector(proj)
            if not ranked:
                if fail_on in (FailOn.unknown, FailOn.warning):
                    return True
            elif ranked[0].report.fails(fail_on):
                return True
        return False

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``mmcheck scan --format json``."""
        return {
            "schema_version": SCHEMA_VERSION,
            "files": [f.to_dict() for f in self.files],
            "pairs": [p.to_dict() for p in self.pairs],
            "matrix": self.matrix(),
            "chosen": {str(m): str(p.mmproj) for m, p in self.chosen().items()},
            "models_without_projector": [str(p) for p in self.models_without_projector()],
            "projectors_without_model": [str(p) for p in self.projectors_without_model()],
            "notes": [f.to_dict() for n in self.notes for f in n.findings],
            "unreadable_folders": [{"path": str(d), "reason": why} for d, why in self.unreadable_folders],
        }


# ------------------------------------------------------------------------------------------------
# Finding the files
# ------------------------------------------------------------------------------------------------


def is_gguf_name(path: FilePath) -> bool:
    """A file the scan looks at: ``*.gguf`` (any case), or an Ollama blob ``sha256-<hex>``."""
    return path.name.lower().endswith(".gguf") or bool(_BLOB.match(path.name))


def is_excluded_name(path: FilePath) -> bool:
    """imatrix and MTP (multi-token-prediction draft) files are never paired (as in common/download.cpp@0c1e570)."""
    name = path.name.lower()
    return "imatrix" in name or bool(_MTP.search(name))


def discover(
    paths: Iterable[PathLike], *, recursive: bool = False, unreadable: list[tuple[Path, str]] | None = None
) -> list[FilePath]:
    """The files to scan, deduplicated, in a stable order.

    A directory contributes its GGUF files (and with ``recursive`` those of every non-hidden
    subfolder); a file contributes itself and the GGUF files beside it (its folder-mates), which is
    what a pre-commit hook that receives single files needs. Raises ``MMCheckError`` for a path
    that does not exist. A remote path (``hf://ORG/REPO[@REV][/FOLDER]``) lists the repository's
    GGUF files; a remote file brings its folder-mates when its folder can be listed. Folders that
    cannot be listed are appended to ``unreadable`` as (folder, reason) when it is given.
    """
    seen: dict[str, FilePath] = {}
    skipped: list[tuple[Path, str]] = [] if unreadable is None else unreadable

    def add(p: FilePath) -> None:
        key = p.url if isinstance(p, RemotePath) else os.path.realpath(p)
        if key not in seen:
            seen[key] = p

    for raw in paths:
        if is_remote(raw):
            for f in _remote_files(RemotePath(str(raw)), recursive):
                add(f)
            continue
        p = Path(raw)
        if p.is_dir():
            for f in gguf_files_below(p, recursive=recursive, unreadable=skipped):
                add(f)
        elif p.exists() or p.is_symlink():
            add(p)
            for f in gguf_files_below(p.parent, recursive=False, unreadable=skipped):
                add(f)
        else:
            raise MMCheckError(f"{printable(p)}: no such file or directory")
    return list(seen.values())


def _remote_files(p: RemotePath, recursive: bool) -> list[FilePath]:
    """A remote folder's GGUF files, or a remote file and (when listable) its folder-mates."""
    from mmcheck.remote import list_gguf

    if not p.name.lower().endswith(".gguf"):
        return list(list_gguf(p, recursive=recursive))
    if not p.url.startswith("hf://"):
        return [p]
    return [p, *list_gguf(p.parent, recursive=False)]


def gguf_files_below(d: Path, *, recursive: bool, unreadable: list[tuple[Path, str]]) -> list[Path]:
    """The GGUF files in folder ``d`` (with ``recursive``, in every non-hidden subfolder too), sorted
    per folder. Folders that cannot be listed are appended to ``unreadable`` as (folder, reason)."""

    def skipped(e: OSError) -> None:
        where = Path(e.filename) if e.filename is not None else d
        unreadable.append((where, _reason(e)))

    out: list[Path] = []
    if recursive:
        for root, dirs, files in os.walk(d, onerror=skipped):
            dirs[:] = sorted(x for x in dirs if not x.startswith("."))
            out += [Path(root) / f for f in sorted(files) if is_gguf_name(Path(f))]
    else:
        try:
            entries = sorted(d.iterdir())
        except OSError as e:
            skipped(e)
            entries = []
        out = [f for f in entries if is_gguf_name(f) and not f.is_dir()]
    return [f for f in out if not _BLOB.match(f.name) or _has_gguf_magic(f)]


def _reason(e: OSError) -> str:
    if e.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return str(e.strerror or e)


def _has_gguf_magic(path: Path) -> bool:
    try:
        return read_head(path, 4) == b"GGUF"
    except GGUFError:
        return False


def read_file(path: FilePath, db: CompatDB) -> ScannedFile:
    """Read and classify one file; never raises."""
    if is_excluded_name(path):
        return ScannedFile(path, Status.EXCLUDED)
    if isinstance(path, RemotePath):
        return _read_remote_file(path, db)
    try:
        head = read_head(path, 64)
    except GGUFError as e:
        return ScannedFile(path, Status.UNREADABLE, error=str(e))
    if is_lfs_pointer(head):
        return ScannedFile(path, Status.LFS_POINTER, error="Git LFS pointer, not the model")
    try:
        info = inspect_file(path, db)
    except GGUFError as e:
        return ScannedFile(path, Status.UNREADABLE, error=str(e))
    except Exception as e:  # a reader bug must not end a scan of a thousand files
        return ScannedFile(path, Status.UNREADABLE, error=f"internal error reading the file: {type(e).__name__}: {e}")
    return _classified(path, info)


def _read_remote_file(path: RemotePath, db: CompatDB) -> ScannedFile:
    """A remote file: content problems become notes as for local files; fetch failures (access,
    network, server faults) end the scan (``RemoteError``), since they say nothing about the file."""
    try:
        info = inspect_file(path, db)
    except RemoteError:
        raise
    except LFSPointerError:
        return ScannedFile(path, Status.LFS_POINTER, error="Git LFS pointer, not the model")
    except GGUFError as e:
        return ScannedFile(path, Status.UNREADABLE, error=str(e))
    return _classified(path, info)


def _classified(path: FilePath, info: FileInfo) -> ScannedFile:
    split = info.header.split
    if split is not None and split.shard > 0:
        return ScannedFile(path, Status.SHARD, info)
    if info.kind == FileKind.TEXT_MODEL:
        return ScannedFile(path, Status.TEXT_MODEL, info)
    if info.kind == FileKind.PROJECTOR:
        return ScannedFile(path, Status.PROJECTOR, info)
    return ScannedFile(path, Status.OTHER, info)


def read_files(paths: Sequence[FilePath], db: CompatDB, *, jobs: int | None = None,
               progress: Progress | None = None) -> list[ScannedFile]:  # fmt: skip
    """Read every file's header in a thread pool; results in the order of ``paths``."""
    # Parsing is CPU-bound under the GIL: threads pay off when reads wait on the disk (cold cache,
    # network mounts), so a few are enough.
    workers = jobs or min(4, (os.cpu_count() or 1) + 2)
    if workers <= 1 or len(paths) < 4:
        out = []
        for i, p in enumerate(paths):
            out.append(read_file(p, db))
            if progress is not None:
                progress("read", i + 1, len(paths))
        return out
    results: list[ScannedFile | None] = [None] * len(paths)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(read_file, p, db): i for i, p in enumerate(paths)}
        for done, fut in enumerate(as_completed(futures), start=1):
            results[futures[fut]] = fut.result()
            if progress is not None:
                progress("read", done, len(paths))
    return [r for r in results if r is not None]


# ------------------------------------------------------------------------------------------------
# Checking the pairs
# ------------------------------------------------------------------------------------------------


def scan(
    paths: Iterable[PathLike],
    *,
    recursive: bool = False,
    db: CompatDB | PathLike | None = None,
    smoke: bool = False,
    jobs: int | None = None,
    options: Options | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan ``paths`` (directories, or files plus their folder-mates) and check every candidate pair.

    ``smoke`` is off by default: a scan reads headers only. Raises ``MMCheckError`` only for a
    named path that does not exist or an invalid rule selection.
    """
    database = db if isinstance(db, CompatDB) else load_db(None if db is None else Path(db))
    rules = resolve(select, ignore)
    with _gc_paused():
        return _scan(paths, recursive, database, rules, options or Options(), smoke, jobs, progress)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a scan allocates millions of small acyclic objects (tensor
    infos, findings) and the collector's passes over them cost ~15 % of the scan time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _scan(paths: Iterable[PathLike], recursive: bool, database: CompatDB, rules: list[Rule], options: Options,
          smoke: bool, jobs: int | None, progress: Progress | None) -> ScanResult:  # fmt: skip
    unreadable: list[tuple[Path, str]] = []
    found = discover(paths, recursive=recursive, unreadable=unreadable)
    files = read_files(found, database, jobs=jobs, progress=progress)
    models = [f.path for f in files if f.status == Status.TEXT_MODEL]
    projs = [f.path for f in files if f.status == Status.PROJECTOR]
    checked = check_candidates(
        files, candidate_pairs(models, projs), database, rules, options, smoke=smoke, progress=progress
    )
    result = ScanResult(files, checked, unreadable_folders=unreadable)
    result.notes = scan_notes(ScanView(result), rules)
    return result


def check_candidates(files: Sequence[ScannedFile], candidates: Sequence[Candidate], database: CompatDB,
                     rules: list[Rule], options: Options, *, smoke: bool = False,
                     progress: Progress | None = None) -> list[PairCheck]:  # fmt: skip
    """Check each candidate pair among already-read ``files`` (the store-aware scan chooses its
    candidates from the stores' records, then calls this)."""
    by_path = {f.path: f for f in files}
    bits = {f.path: precision_bits(f.info) for f in files if f.status in (Status.TEXT_MODEL, Status.PROJECTOR)}
    single_file: SingleFileFindings = {}  # a projector's own findings, once for all the models beside it
    pairs = []
    for i, c in enumerate(candidates):
        pairs.append(_check(c, by_path, bits, database, rules, options, smoke=smoke, single_file=single_file))
        if progress is not None:
            progress("pair", i + 1, len(candidates))
    return pairs


def _check(c: Candidate, by_path: dict[FilePath, ScannedFile], bits: dict[FilePath, int], db: CompatDB,
           rules: list[Rule], options: Options, *, smoke: bool,
           single_file: SingleFileFindings) -> PairCheck:  # fmt: skip
    m, p = by_path[c.model].info, by_path[c.mmproj].info
    assert m is not None and p is not None
    report = evaluate(m, p, db, rules, options, smoke=smoke, strict=False, single_file=single_file)
    gap = abs(bits[c.model] - bits[c.mmproj])
    return PairCheck(report, c.model, c.mmproj, c.distance, name_affinity(c.model, c.mmproj), gap)


def scan_notes(view: ScanView, rules: Sequence[Rule]) -> list[Report]:
    """The scan rules' findings over ``view``, one single-file report (a note) per finding."""
    return [note(f) for r in rules if r.scope == "scan" for f in r.run_scan(view)]


def note(finding: Finding) -> Report:
    """A scan note: a one-finding report about the file (or folder) the finding names."""
    from mmcheck.verdict import decide

    return Report(decide([finding]), [finding], finding.file or "", None, smoke_requested=False,
                  rules_run=(finding.rule,))  # fmt: skip


# ------------------------------------------------------------------------------------------------
# suggest
# ------------------------------------------------------------------------------------------------


def suggest(
    model: PathLike,
    dirs: Sequence[PathLike] = (),
    *,
    recursive: bool = False,
    db: CompatDB | PathLike | None = None,
    smoke: bool = False,
    include_all: bool = False,
    jobs: int | None = None,
    skipped: list[tuple[str, str]] | None = None,
) -> list[Report]:
    """The projectors in ``dirs`` (default: MODEL's folder) that fit MODEL, best first.

    Ranked by verdict, then evidence (match findings, fewer errors and warnings), then the nearer
    folder, the name and the closer precision. When MODEL is a projector, ranks the text models it
    fits instead. ``include_all`` also returns the pairs that do not fit (after the fitting ones).
    Raises ``GGUFError`` when MODEL itself is unreadable. Candidates that could not be looked at
    (unreadable files, Git LFS pointers, folders that cannot be listed) are appended to
    ``skipped`` as (path, reason) when it is given.
    """
    database = db if isinstance(db, CompatDB) else load_db(None if db is None else Path(db))
    target: FilePath = RemotePath(str(model)) if is_remote(model) else Path(model)
    info = inspect_file(target, database)
    want = Status.TEXT_MODEL if info.kind == FileKind.PROJECTOR else Status.PROJECTOR
    roots: list[PathLike] = list(dirs) or [target.parent]
    folders: list[tuple[Path, str]] = []
    candidates = [p for p in discover(roots, recursive=recursive, unreadable=folders) if _key(p) != _key(target)]
    found = read_files(candidates, database, jobs=jobs)
    if skipped is not None:
        skipped += [(str(d), why) for d, why in folders]
        skipped += [(str(f.path), f.error or f.status.value) for f in found if f.status in _NOT_LOOKED_AT]
    rules = resolve()
    checks = []
    single_file: SingleFileFindings = {}  # MODEL's own findings, once for all candidates
    for f in found:
        if f.status != want or f.info is None:
            continue
        m, p = (info, f.info) if want == Status.PROJECTOR else (f.info, info)
        report = evaluate(m, p, database, rules, Options(), smoke=smoke, strict=False, single_file=single_file)
        dist = _distance(target.parent, f.path.parent)
        gap = abs(precision_bits(m) - precision_bits(p))
        key = rank_key(report, distance=dist, affinity=name_affinity(m.path, p.path), bits_gap=gap, other=str(f.path))
        checks.append((key, report))
    ranked = [r for _, r in sorted(checks, key=lambda kr: kr[0])]
    return ranked if include_all else [r for r in ranked if r.ok]


#: what ``suggest`` reports as skipped: files it could not look at (not those that are another kind)
_NOT_LOOKED_AT = (Status.UNREADABLE, Status.LFS_POINTER)


def _key(p: FilePath) -> str:
    return p.url if isinstance(p, RemotePath) else os.path.realpath(p)


def _distance(a: FilePath, b: FilePath) -> int:
    if isinstance(a, RemotePath) or isinstance(b, RemotePath):
        if type(a) is not type(b):
            return 1 << 20  # a local model and remote projectors (or the reverse): no folder relation
        sa, sb = str(a).split("/"), str(b).split("/")
        shared = next((i for i, (x, y) in enumerate(zip(sa, sb, strict=False)) if x != y), min(len(sa), len(sb)))
        return len(sa) - shared + len(sb) - shared
    ra, rb = Path(os.path.realpath(a)), Path(os.path.realpath(b))
    if ra == rb:
        return 0
    common = Path(os.path.commonpath([ra, rb]))
    return len(ra.relative_to(common).parts) + len(rb.relative_to(common).parts)


__all__ = [
    "PairCheck", "ScanResult", "ScannedFile", "Status", "check_candidates", "discover", "gguf_files_below", "note",
    "read_file", "scan", "scan_notes", "suggest",
]  # fmt: skip


class _CallableModule(types.ModuleType):
    """``mmcheck.scan`` names both this module and its ``scan`` function (the package exports the
    function lazily). Once the module is imported, Python binds the package attribute to the module;
    making the module callable keeps ``mmcheck.scan([...])`` working either way."""

    def __call__(self, *args: Any, **kwargs: Any) -> ScanResult:
        return scan(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
