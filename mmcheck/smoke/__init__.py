"""Projection smoke test: run the projector's real matmuls against the text model's embedding space.

``run_smoke(model, mmproj)`` reads only the projection tensors of the projector and a sample of the
text model's ``token_embd`` rows, dequantizes them (``mmcheck.smoke.dequant``), runs a numpy forward pass
on seeded synthetic encoder features and reports shape errors (MM801), bad weights (MM802),
non-finite outputs (MM803), a wrong output width (MM804), embedding-space evidence against (MM805)
or for (MM809) the pair, and baked-embedding evidence (MM806/MM807). It never raises: unreadable
inputs give ``skipped`` (MM808). ``SmokeResult.summary`` says in plain words what was measured.

numpy is imported lazily, inside ``run_smoke`` (gguf only for a tensor type mmcheck does not decode
itself): importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmcheck.smoke.model import SmokeFinding, SmokeResult

if TYPE_CHECKING:
    from mmcheck.inspection import FileInfo

__all__ = ["EMBD_SAMPLE", "N_TOKENS", "SmokeFinding", "SmokeResult", "run_smoke"]

#: projected rows (after the type's patch merge): enough for a stable output profile (docs/smoke-test.md)
N_TOKENS = 256
#: token-embedding rows sampled from ``token_embd.weight``
EMBD_SAMPLE = 2048


def run_smoke(
    model: FileInfo,
    mmproj: FileInfo,
    *,
    n_tokens: int = N_TOKENS,
    seed: int = 0,
    embd_sample: int = EMBD_SAMPLE,
) -> SmokeResult:
    """Run the smoke test of ``mmproj`` against ``model``. Never raises, except ``RemoteError``
    when a remote file cannot be fetched (a server without ``Range`` or offline mode skips).

    ``n_tokens`` rows of synthetic encoder features (times the merge factor) are projected;
    ``embd_sample`` token-embedding rows are compared with them (seeded by ``seed``).
    """
    import time

    from mmcheck.errors import RemoteError
    from mmcheck.smoke.model import skipped

    t0 = time.perf_counter()
    try:
        from mmcheck.smoke.runner import run

        return run(model, mmproj, n_tokens=n_tokens, seed=seed, embd_sample=embd_sample)
    except RemoteError:
        raise  # a remote file failed mid-read (HTTP error, changed file...): an error, not a skip
    except Exception as exc:  # the contract is "never raise" (for the files themselves)
        ms = (time.perf_counter() - t0) * 1000.0
        return skipped(f"unexpected error: {type(exc).__name__}: {exc}", {"total": ms})
