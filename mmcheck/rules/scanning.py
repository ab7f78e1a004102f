"""Rules over a whole scan (``mmcheck scan``): files it cannot pair, and what the pairing found.

Their checks read a :class:`ScanView` (the scan's result, the files to report on and how to name
them) instead of a pair's ``Context``, and run once per scan; ``--select``/``--ignore`` apply as
for every rule. The store rules MM096-MM099 (``mmcheck.rules.stores``) work the same way. Codes
MM090-MM099 are reserved for them.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

from mmcheck.errors import printable
from mmcheck.evidence import CERTAIN_AGAINST
from mmcheck.rules.base import Hit, Severity, rule

if TYPE_CHECKING:
    from mmcheck.header.source import FilePath
    from mmcheck.scan import PairCheck, ScannedFile, ScanResult
    from mmcheck.stores.base import Problem


def _file_name(path: "FilePath") -> str:
    return printable(path.name)


def _everything(path: "FilePath") -> bool:
    return True


class ScanView(NamedTuple):
    """What the scan rules look at.

    ``covers`` picks the files to report on (a store scan reports its plain folders and its stores
    with different words), ``label`` names a file in a message, ``store`` says the files are entries
    of a model store (re-download hints, pairs within an entry), ``problems`` are the records a
    store reader could not use.
    """

    result: "ScanResult"
    covers: "Callable[[FilePath], bool]" = _everything
    label: "Callable[[FilePath], str]" = _file_name
    store: bool = False
    problems: "Sequence[Problem]" = ()

    def files(self, status: str) -> "list[ScannedFile]":
        """The covered files the scan gave ``status`` (``projector``, ``unreadable``...)."""
        return [f for f in self.result.files if f.status == status and self.covers(f.path)]

    def pairs_of_model(self, model: "FilePath") -> "list[PairCheck]":
        """A text model's pairs, best first (in a store: only those within its own entry)."""
        ranked = self.result.pairs_of_model(model)
        if not self.store:
            return ranked
        from mmcheck.stores.scanning import CROSS_ENTRY

        return [c for c in ranked if c.distance < CROSS_ENTRY]


def lfs_pointer_message(name: str) -> str:
    """MM090's message, for a scan and for ``lint`` alike."""
    return f"{name} is a Git LFS pointer (a small text file), not the GGUF it stands for"


@rule("MM090", "git-lfs-pointer", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="scan")
def git_lfs_pointer(view: ScanView) -> Iterator[Hit]:
    """A `.gguf` file is a Git LFS pointer (a small text file), not the model.

    Why: The repository was cloned without Git LFS (or with `GIT_LFS_SKIP_SMUDGE=1`), so the file
    holds `version https://git-lfs...`, an oid and a size. Every runtime rejects it. `lint` and
    `inspect` report it too.

    Fix: Run `git lfs pull` (in CI: `actions/checkout` with `lfs: true`).
    """
    where = " in the repository it came from" if view.store else ""
    for f in view.files("lfs-pointer"):
        yield Hit(lfs_pointer_message(view.label(f.path)), f"run `git lfs pull`{where}", path=f.path)


@rule("MM091", "unreadable-file", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="scan")
def unreadable_file(view: ScanView) -> Iterator[Hit]:
    """A `.gguf` file found by the scan is not a readable GGUF file, or a folder cannot be listed.

    Why: A corrupt, truncated-in-the-header or mis-named file cannot be loaded by any runtime; the
    message says what the file looks like instead (HTML error page, safetensors, zip, a FIFO...).
    A folder the scan cannot list (permission denied) hides whatever it holds, so it is reported
    rather than skipped.

    Fix: Download or convert the file again; for a folder, fix its permissions or leave it out.
    """
    hint = "download the model again" if view.store else "download or convert the file again"
    for f in view.files("unreadable"):
        special = "not a regular file" in (f.error or "")
        yield Hit(
            f"{view.label(f.path)} is not a readable GGUF file: {f.error}",
            "rename it or move it out of the folder" if special else hint,
            path=f.path,
        )
    if view.store:
        return
    for folder, why in view.result.unreadable_folders:
        msg = f"folder {printable(folder)} cannot be read ({why}): the files in it were not scanned"
        yield Hit(msg, "fix its permissions, or scan without it", path=folder)


@rule("MM092", "projector-fits-no-model", severity=Severity.WARNING, scope="scan")
def projector_fits_no_model(view: ScanView) -> Iterator[Hit]:
    """A projector was checked against the text models beside it and fits none of them.

    Why: A repository that ships a projector ships it for its text model; when no text model in
    its folder (or the folders above) fits, the projector belongs to another model. The pair
    findings say why each pairing fails.

    Fix: Upload the projector converted from this model, or move it next to its own model.
    """
    hint = "download the projector published with the model" if view.store else (
        "upload the projector converted from this model"
    )  # fmt: skip
    beside = "it was checked with" if view.store else "beside it"
    for f in view.files("projector"):
        ranked = view.result.pairs_of_projector(f.path)
        if ranked and not ranked[0].ok:
            names = ", ".join(f"{view.label(c.model)} ({c.report.verdict.value})" for c in ranked[:4])
            more = f" and {len(ranked) - 4} more" if len(ranked) > 4 else ""
            msg = f"{view.label(f.path)} fits none of the {len(ranked)} text model(s) {beside}: {names}{more}"
            yield Hit(msg, hint, path=f.path)


@rule("MM093", "projector-without-model", severity=Severity.INFO, scope="scan")
def projector_without_model(view: ScanView) -> Iterator[Hit]:
    """A projector has no text model in its folder or the folders above it, so nothing was checked.

    Why: Projector-only repositories (e.g. community projectors meant for any fine-tune of a base)
    are legitimate, but the scan cannot say which model the projector fits.

    Fix: Nothing, or run `mmcheck suggest PROJECTOR DIR` to find the models it fits.
    """
    where = "in its entry or in the store" if view.store else "in its folder or above it"
    for f in view.files("projector"):
        if not view.result.pairs_of_projector(f.path):
            msg = f"{view.label(f.path)}: no text model {where} to check it against"
            yield Hit(msg, f"run `mmcheck suggest {printable(f.path)} DIR`", path=f.path)


@rule("MM094", "several-projectors-fit", severity=Severity.INFO, scope="scan")
def several_projectors_fit(view: ScanView) -> Iterator[Hit]:
    """Several projectors fit the same text model(s); the scan names the one it would choose.

    Why: Repositories ship one projector in several precisions (F16, BF16, F32, Q8_0). They are
    interchangeable, but a launcher must pick one: mmcheck picks the best verdict, then the
    strongest evidence, the nearest folder, the name, and the precision closest to the model's.

    Fix: Nothing; pass the projector you want explicitly.
    """
    if view.store:
        return  # a store entry declares its projector: there is nothing to choose
    groups: dict[tuple[FilePath, ...], list[FilePath]] = {}
    for f in view.files("text-model"):
        ranked = [c for c in view.result.pairs_of_model(f.path) if c.ok]
        if len(ranked) < 2:
            continue
        best = ranked[0].report.verdict
        tied = tuple(c.mmproj for c in ranked if c.report.verdict == best)
        if len(tied) > 1:
            groups.setdefault(tied, []).append(f.path)
    for tied, models in groups.items():
        others = ", ".join(view.label(p) for p in tied[1:])
        who = view.label(models[0]) + (f" and {len(models) - 1} other text model(s)" if len(models) > 1 else "")
        msg = f"{len(tied)} projectors fit {who}: choosing {view.label(tied[0])} over {others}"
        yield Hit(msg, "pass the projector you want explicitly", path=tied[0])


@rule("MM095", "model-fits-no-projector", severity=Severity.WARNING, scope="scan")
def model_fits_no_projector(view: ScanView) -> Iterator[Hit]:
    """A text model has projectors beside it, but none of them fits it.

    Why: In a model repository every quantization should work with the published projector; a
    quantization that fits none was usually converted from another model or uploaded by mistake.
    (A text-only model in a folder shared with other models' projectors triggers this too.)

    Fix: Check which model the file was converted from; re-upload it or move it.
    """
    for f in view.files("text-model"):
        ranked = view.pairs_of_model(f.path)
        if ranked and not any(c.ok for c in ranked):
            if view.store:
                msg = f"{view.label(f.path)}: none of the {len(ranked)} projector(s) of its entry fits it"
                hint = "check which model the projector was made for"
            else:
                msg = f"{view.label(f.path)} has {len(ranked)} projector(s) beside it and none fits it"
                hint = "check which model this file was converted from"
            yield Hit(msg, hint, path=f.path)
