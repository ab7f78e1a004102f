"""Shared builders for the smoke-test tests: profiled embedding tables and fitted projectors.

Real tables (calibration, docs/smoke-test.md): :func:`real_table` reads rows of a real file's
``token_embd.weight``; :func:`foreign_table` makes another real table the same width (column
selection, see its docstring); :func:`fitted_linear` fits a ``gemma3``-type matrix the way
``globalmm`` does, :func:`fitted_mlp` an ``mlp`` (LLaVA-style) projector.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

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


Regime = Literal["isotropic", "anisotropic"]


def features(rng: np.random.Generator, n: int, width: int, regime: Regime = "isotropic") -> np.ndarray:
    """Encoder features to fit on: isotropic N(0, I), or anisotropic like real encoder outputs.

    Anisotropic: a power-law spectrum (the k-th coordinate's std ∝ k^-1/2) plus a per-dimension
    mean offset (real ViT features are not centred). The spectrum's basis does not matter: keys
    and random layers below are isotropic, so any rotation of the features is equivalent.
    """
    if regime == "isotropic":
        return rng.standard_normal((n, width))
    spec = np.arange(1, width + 1) ** -0.5
    spec /= np.sqrt((spec**2).mean())
    mu = 0.5 * rng.standard_normal(width)
    return rng.standard_normal((n, width)) * spec + mu


def least_squares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``argmin |x b - y|`` through the normal equations (10x faster than ``lstsq`` here)."""
    g = x.T @ x
    g[np.diag_indices_from(g)] += 1e-8 * float(np.trace(g)) / len(g)
    out: np.ndarray = np.linalg.solve(g, x.T @ y)
    return out


def fitted_mlp(
    rng: np.random.Generator,
    table: np.ndarray,
    width: int,
    hidden: int,
    n_train: int = 4096,
    regime: Regime = "isotropic",
) -> dict[str, np.ndarray]:
    """An ``mlp`` projector whose last layer is fitted by least squares to map features into ``table``.

    Features (:func:`features`) are each assigned the token whose (random) key is closest in
    direction, and mm.2 (with its bias) is fitted so that gelu(mm.0 x) maps onto that token's row;
    mm.0 is random (a random-features fit, not an end-to-end training).
    """
    if len(table) > 4096:
        table = table[rng.choice(len(table), 4096, replace=False)]
    vocab = table.shape[0]
    w0 = (rng.standard_normal((hidden, width)) / np.sqrt(width)).astype(np.float32)
    b0 = (0.1 * rng.standard_normal(hidden)).astype(np.float32)
    keys = rng.standard_normal((vocab, width))
    x = features(rng, n_train, width, regime)
    tok = np.argmax((x / np.linalg.norm(x, axis=1, keepdims=True)) @ keys.T, axis=1)
    h = x @ w0.T + b0
    h = 0.5 * h * (1.0 + np.tanh(0.7978845608 * (h + 0.044715 * h**3)))
    design = np.hstack([h, np.ones((n_train, 1))])
    sol = least_squares(design, table[tok].astype(np.float64))
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


def fitted_linear(
    rng: np.random.Generator,
    table: np.ndarray,
    width: int = 1152,
    n_train: int = 4096,
    n_concepts: int = 1000,
    regime: Regime = "isotropic",
) -> np.ndarray:
    """A ``gemma3``-type projection matrix (width × d) fitted the way ``globalmm`` 0.2.2 fits it.

    globalmm (``projector.py``): concept words' rows of the LLM's table; per image the top-3
    concepts by cosine similarity, weights clamped at 0 and normalised, blended into the target
    row; ``W = lstsq(X, Y)`` without intercept (solved here through the normal equations). Here
    the concepts are ``n_concepts`` rows of ``table`` with random keys and X are
    :func:`features` instead of SigLIP means.
    """
    x = features(rng, n_train, width, regime)
    concepts = table[rng.choice(len(table), n_concepts, replace=False)].astype(np.float64)
    keys = rng.standard_normal((n_concepts, width))
    keys /= np.linalg.norm(keys, axis=1, keepdims=True)
    sims = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ keys.T
    top = np.argpartition(-sims, 3, axis=1)[:, :3]
    w = np.clip(np.take_along_axis(sims, top, axis=1), 0.0, None)
    w /= np.maximum(w.sum(axis=1, keepdims=True), 1e-8)
    y = (w[..., None] * concepts[top]).sum(axis=1)
    return least_squares(x, y).astype(np.float32)


def gemma3_projector(path: Path, matrix: np.ndarray) -> FileInfo:
    """A projector shaped like globalmm's output: ``clip.projector_type = gemma3``, SigLIP
    so400m-384 tower keys (width 1152, patch 14; no encoder blocks written), scale factor 3,
    ``mm.input_projection.weight`` ne = [d_llm, 1152] = ``matrix`` (1152 × d), ``mm.soft_emb_norm``
    ones, no ``general.name``."""
    width, d = matrix.shape
    write_projector(
        path,
        projector_type="gemma3",
        width=width,
        n_layer=0,
        n_head=16,
        image_size=384,
        patch_size=14,
        merge=3,
        n_embd_out=d,
        name=None,
        explicit_tensors={"mm.input_projection.weight": matrix, "mm.soft_emb_norm.weight": np.ones(width)},
    )
    return info(path)


_WORD = re.compile(r"^[\u0120\u2581][a-z]{3,12}$")  # GPT-2 "Ġword" / SentencePiece "▁word"


def real_table(path: Path, rows: Literal["words", "random"] = "words", n: int = 8192, seed: int = 0) -> np.ndarray:
    """Rows of a real file's ``token_embd.weight`` (float32).

    ``words``: tokens that are a whole lower-case English word with its leading-space marker
    (what globalmm's concept words map to), at most ``n`` of them; ``random``: ``n`` random rows.
    """
    from mmcheck.smoke.tensors import TensorReader

    fi = info(path)
    assert fi.text is not None and fi.text.vocab is not None
    reader = TensorReader(fi.header)
    n_rows = reader.header.tensors["token_embd.weight"].shape[1]
    rng = np.random.default_rng(seed)
    if rows == "words":
        tokens = fi.text.vocab.tokens.tolist()
        idx = np.array([i for i, t in enumerate(tokens) if isinstance(t, str) and _WORD.match(t)], dtype=np.int64)
        if len(idx) > n:
            idx = rng.choice(idx, n, replace=False)
    else:
        idx = rng.choice(n_rows, min(n, n_rows), replace=False)
    return reader.read_rows("token_embd.weight", np.sort(idx).astype(np.int64))


def foreign_table(other: np.ndarray, d: int, rng: np.random.Generator) -> np.ndarray:
    """Another real model's table brought to width ``d`` by choosing whole columns.

    A model of the same width trained independently has its own per-dimension profile in its own
    basis: nothing ties its dimension i to ours. Whole real columns keep that (each column keeps
    its trained scale and offset), a random rotation or PCA would mix dimensions and erase the
    profile (an easier, unrealistic foreign table). Wider -> narrower (Gemma 640 -> 576): a seeded
    random subset of ``d`` columns, in their order. Narrower -> wider (SmolLM2 576 -> 640): all
    columns plus ``d - width`` drawn with replacement, each with its rows shuffled (not a copy),
    all in a seeded random order.
    """
    width = other.shape[1]
    if width >= d:
        return other[:, np.sort(rng.choice(width, d, replace=False))]
    extra = rng.choice(width, d - width, replace=True)
    cols = [other[rng.permutation(len(other)), c] for c in extra]
    wide = np.hstack([other, np.stack(cols, axis=1)])
    return wide[:, rng.permutation(d)]
