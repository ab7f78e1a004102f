"""Rules the directory scanner (``mmcheck scan``) reports: files it cannot pair, and pairing outcomes.

These rules are not about one pair, so their checks yield nothing from a ``Context``: the scanner
(``mmcheck.scan``) builds their findings itself. They live in the registry so that ``mmcheck
rules``, the docs and the SARIF ``rules[]`` describe them like every other rule. Codes MM090-MM099
are reserved for the scanner.
"""

from __future__ import annotations

from collections.abc import Iterator

from mmcheck.evidence import CERTAIN_AGAINST
from mmcheck.rules.base import Context, Hit, Severity, rule


def _nothing(ctx: Context) -> Iterator[Hit]:
    return iter(())


@rule("MM090", "git-lfs-pointer", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="pair")
def git_lfs_pointer(ctx: Context) -> Iterator[Hit]:
    """A `.gguf` file is a Git LFS pointer (a small text file), not the model.

    Why: The repository was cloned without Git LFS (or with `GIT_LFS_SKIP_SMUDGE=1`), so the file
    holds `version https://git-lfs...`, an oid and a size. Every runtime rejects it.

    Fix: Run `git lfs pull` (in CI: `actions/checkout` with `lfs: true`).
    """
    return _nothing(ctx)


@rule("MM091", "unreadable-file", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="pair")
def unreadable_file(ctx: Context) -> Iterator[Hit]:
    """A `.gguf` file found by the scan is not a readable GGUF file.

    Why: A corrupt, truncated-in-the-header or mis-named file cannot be loaded by any runtime; the
    message says what the file looks like instead (HTML error page, safetensors, zip, ...).

    Fix: Download or convert the file again.
    """
    return _nothing(ctx)


@rule("MM092", "projector-fits-no-model", severity=Severity.WARNING, scope="projector")
def projector_fits_no_model(ctx: Context) -> Iterator[Hit]:
    """A projector was checked against the text models beside it and fits none of them.

    Why: A repository that ships a projector ships it for its text model; when no text model in
    its folder (or the folders above) fits, the projector belongs to another model. The pair
    findings say why each pairing fails.

    Fix: Upload the projector converted from this model, or move it next to its own model.
    """
    return _nothing(ctx)


@rule("MM093", "projector-without-model", severity=Severity.INFO, scope="projector")
def projector_without_model(ctx: Context) -> Iterator[Hit]:
    """A projector has no text model in its folder or the folders above it, so nothing was checked.

    Why: Projector-only repositories (e.g. community projectors meant for any fine-tune of a base)
    are legitimate, but the scan cannot say which model the projector fits.

    Fix: Nothing, or run `mmcheck suggest PROJECTOR DIR` to find the models it fits.
    """
    return _nothing(ctx)


@rule("MM094", "several-projectors-fit", severity=Severity.INFO, scope="pair")
def several_projectors_fit(ctx: Context) -> Iterator[Hit]:
    """Several projectors fit the same text model(s); the scan names the one it would choose.

    Why: Repositories ship one projector in several precisions (F16, BF16, F32, Q8_0). They are
    interchangeable, but a launcher must pick one: mmcheck picks the best verdict, then the
    strongest evidence, the nearest folder, the name, and the precision closest to the model's.

    Fix: Nothing; pass the projector you want explicitly.
    """
    return _nothing(ctx)


@rule("MM095", "model-fits-no-projector", severity=Severity.WARNING, scope="text")
def model_fits_no_projector(ctx: Context) -> Iterator[Hit]:
    """A text model has projectors beside it, but none of them fits it.

    Why: In a model repository every quantization should work with the published projector; a
    quantization that fits none was usually converted from another model or uploaded by mistake.
    (A text-only model in a folder shared with other models' projectors triggers this too.)

    Fix: Check which model the file was converted from; re-upload it or move it.
    """
    return _nothing(ctx)


SCAN_CODES = ("MM090", "MM091", "MM092", "MM093", "MM094", "MM095")
