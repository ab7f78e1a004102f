"""Shared builders for the smoke-test tests: profiled embedding tables and fitted projectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mmcheck.db import load_db
from mmcheck.inspection import FileInfo, inspect_file
from mmcheck.testing.builders import write_projector, write_text_model

DB = load_db()


def profiled_table(rng: np.random.Generator, vocab: int, d: int) -> np.ndarray:
    """A token-embedding table with a per-dimension profile like a trained LLM's.

    Per-dimension std is log-normal (one dimension 6x the median, as on Gemma 3 270M) and each
    dimension has its own offset.
    """
    scale = np.exp(0.5 * rng.standard_normal(d))
    scale[rng.integers(d)] = 6.0 * np.median(scale)
    offset = 0.5 * scale * rng.standard_normal(d)
    rows = rng.standard_normal((vocab, d)) * scale + offset
    return (0.02 * rows).astype(np.float32)


def fitted_mlp(
    rng: np.random.Generator, table: np.ndarray, width: int, hidden: int, n_train: int = 4096
) -> dict[str, np.ndarray]:
    """An ``mlp`` projector whose last layer is fitted by least squares to map features into ``table``.

    Features are isotropic encoder outputs; each is assigned the token whose (random) key it is
    closest to, and mm.2 is fitted so that gelu(mm.0 x) maps onto that token's embedding row.
    """
    vocab = table.shape[0]
    w0 = (rng.standard_normal((hidden, width)) / np.sqrt(width)).astype(np.float32)
    b0 = (0.1 * rng.standard_normal(hidden)).astype(np.float32)
    keys = rng.standard_normal((vocab, width))
    x = rng.standard_normal((n_train, width))
    tok = np.argmax(x @ keys.T, axis=1)
    h = x @ w0.T + b0
    h = 0.5 * h * (1.0 + np.tanh(0.7978845608 * (h + 0.044715 * h**3)))
    design = np.hstack([h, np.ones((n_train, 1))])
    sol, *_ = np.linalg.lstsq(design, table[tok], rcond=None)
    w2, b2 = sol[:-1].T.astype(np.float32), sol[-1].astype(np.float32)
    return {"mm.0.weight": w0, "mm.0.bias": b0, "mm.2.weight": w2, "mm.2.bias": b2}


def info(path: Path) -> FileInfo:
    """Inspect a file with the bundled database."""
    return inspect_file(path, DB)


def text_with_table(path: Path, table: np.ndarray, **kw: object) -> FileInfo:
    """A text model whose token_embd is ``table``."""
    vocab, d = table.shape
    write_text_model(path, n_embd=d, n_layer=1, n_head=4, vocab_size=vocab, embedding_table=table, **kw)
    return info(path)


def mlp_projector(path: Path, tensors: dict[str, np.ndarray], width: int, **kw: object) -> FileInfo:
    """An ``mlp`` projector with the given projection tensors."""
    hidden, out = tensors["mm.0.weight"].shape[0], tensors["mm.2.weight"].shape[0]
    write_projector(
        path, projector_type="mlp", width=width, hidden=hidden, n_embd_out=out, explicit_tensors=tensors, **kw
    )
    return info(path)
