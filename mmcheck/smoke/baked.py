"""Baked-in embeddings: rows a projector copied from its text model's embedding table.

pixtral's ``v.token_embd.img_break`` is the text model's ``[IMG_BREAK]`` row. Equal within
quantization error is strong lineage evidence (MM807); clearly different means the image-row
separators land as garbage in another model (MM806). Tensors whose token is not known (e.g.
deepseek4v ``v.token_embd.img_*``, cogvlm ``v.boi``, which are trained, not copied) are not compared.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmcheck.facts.text import TextFacts
from mmcheck.smoke.model import SmokeFinding
from mmcheck.smoke.tensors import TensorReader

#: type -> baked tensor -> candidate token texts in the text vocabulary
BAKED_TOKENS: dict[str, dict[str, tuple[str, ...]]] = {
    "pixtral": {"v.token_embd.img_break": ("[IMG_BREAK]",)},
}

#: cosine at or above which two rows are "the same row, quantized"
MATCH_COSINE = 0.95
#: norm ratio band for a match
MATCH_NORM = (0.8, 1.25)
#: cosine below which two rows are clearly different
MISMATCH_COSINE = 0.5


def compare_baked(
    type_id: str, proj: TensorReader, text: TextFacts, model: TensorReader
) -> tuple[list[dict[str, Any]], list[SmokeFinding]]:
    """Compare each known baked tensor with the text model's row for its token."""
    records: list[dict[str, Any]] = []
    findings: list[SmokeFinding] = []
    embd_info = model.info("token_embd.weight")
    for tensor, tokens in BAKED_TOKENS.get(type_id, {}).items():
        info = proj.info(tensor)
        if info is None:
            continue
        rec: dict[str, Any] = {"tensor": tensor, "token": tokens[0], "token_id": None, "verdict": "not-compared"}
        hit = None
        if text.vocab is not None:
            for tok in tokens:
                hit = text.vocab.find(tok)
                if hit is not None:
                    rec["token"] = tok
                    break
        if hit is None or embd_info is None:
            rec["reason"] = "token not in the text vocabulary" if hit is None else "text model has no token_embd"
            records.append(rec)
            continue
        rec["token_id"] = hit.token_id
        baked = proj.read(tensor).reshape(-1)
        if baked.shape[0] != embd_info.shape[0] or hit.token_id >= embd_info.n_elements // embd_info.shape[0]:
            rec["reason"] = f"width {baked.shape[0]} differs from the text embedding width {embd_info.shape[0]}"
            records.append(rec)
            continue
        row = model.read_rows("token_embd.weight", np.array([hit.token_id], dtype=np.int64))[0]
        nb, nr = float(np.linalg.norm(baked)), float(np.linalg.norm(row))
        cos = float(baked @ row / (nb * nr)) if nb > 0 and nr > 0 else 0.0
        ratio = nb / nr if nr > 0 else float("inf")
        rel = float(np.linalg.norm(baked - row) / nr) if nr > 0 else float("inf")
        rec.update({"cosine": cos, "norm_ratio": ratio, "relative_error": rel})
        if cos >= MATCH_COSINE and MATCH_NORM[0] <= ratio <= MATCH_NORM[1]:
            rec["verdict"] = "match"
            findings.append(
                SmokeFinding(
                    "MM807",
                    f"{tensor} equals the text model's {rec['token']} embedding (cosine {cos:.3f}): "
                    "the projector was built from this model's lineage",
                    "strong lineage evidence; nothing to do",
                )
            )
        elif cos < MISMATCH_COSINE:
            rec["verdict"] = "mismatch"
            findings.append(
                SmokeFinding(
                    "MM806",
                    f"{tensor} differs from the text model's {rec['token']} embedding (cosine {cos:.3f}): "
                    "the projector was baked from another model",
                    "the image-row separators reach this model as foreign vectors: use the projector "
                    "released with this text model",
                )
            )
        else:
            rec["verdict"] = "inconclusive"
        records.append(rec)
    return records, findings
