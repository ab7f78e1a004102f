"""Generated model-hub folders laid out like the major publishers' repositories
(file names as ggml-org, bartowski, unsloth, mradermacher and lmstudio-community publish them).

Header-only files (real key names, tensor names and shapes, no weights). Each distinct file is
written once and copied under the names each publisher uses.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from mmcheck.db import CompatDB
from mmcheck.testing.builders import write_text_model
from mmcheck.testing.presets import family_markers, text_spec_for_lineage, write_family_projector

LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 2825361568\n"
)

# What each tree entry is: (kind, id, options). Kinds: model (lineage id), proj (family, variant).
TREE: dict[str, tuple[str, ...]] = {
    # ggml-org: two sizes of one family; converter names carry no size label and look alike.
    "ggml-org/llava-1.5-GGUF/llava-v1.5-7b-Q4_K_M.gguf": ("model", "vicuna-7b-v1.5"),
    "ggml-org/llava-1.5-GGUF/llava-v1.5-13b-Q4_K_M.gguf": ("model", "vicuna-13b-v1.5"),
    "ggml-org/llava-1.5-GGUF/mmproj-llava-v1.5-F16.gguf": ("proj", "llava-1.5", "llava-1.5-13b", "F16"),
    "ggml-org/llava-1.5-GGUF/mmproj-llava-v1.5-Q8_0.gguf": ("proj", "llava-1.5", "llava-1.5-7b", "Q8_0"),
    # bartowski: several quantizations, a split quant in a subfolder, a Git LFS pointer.
    "bartowski/llava-v1.5-7b-GGUF/llava-v1.5-7b-Q4_K_M.gguf": ("model", "vicuna-7b-v1.5"),
    "bartowski/llava-v1.5-7b-GGUF/llava-v1.5-7b-Q6_K.gguf": ("model", "vicuna-7b-v1.5"),
    "bartowski/llava-v1.5-7b-GGUF/llava-v1.5-7b-Q8_0/llava-v1.5-7b-Q8_0-00001-of-00002.gguf": (
        "shard", "vicuna-7b-v1.5", "0"),
    "bartowski/llava-v1.5-7b-GGUF/llava-v1.5-7b-Q8_0/llava-v1.5-7b-Q8_0-00002-of-00002.gguf": (
        "shard", "vicuna-7b-v1.5", "1"),
    "bartowski/llava-v1.5-7b-GGUF/mmproj-llava-v1.5-7b-f16.gguf": ("proj", "llava-1.5", "llava-1.5-7b", "F16"),
    "bartowski/llava-v1.5-7b-GGUF/llava-v1.5-7b-Q2_K.gguf": ("lfs",),
    # bartowski: a text-only model.
    "bartowski/Mistral-7B-Instruct-v0.2-GGUF/Mistral-7B-Instruct-v0.2-Q4_K_M.gguf": ("model", "mistral-7b-v0.2"),
    # unsloth: one projector in three precisions, no model name in it.
    "unsloth/llava-1.5-7b-hf-GGUF/llava-1.5-7b-hf-Q4_K_M.gguf": ("model", "vicuna-7b-v1.5"),
    "unsloth/llava-1.5-7b-hf-GGUF/mmproj-F16.gguf": ("proj", "llava-1.5", "llava-1.5-7b", "F16"),
    "unsloth/llava-1.5-7b-hf-GGUF/mmproj-BF16.gguf": ("proj", "llava-1.5", "llava-1.5-7b", "BF16"),
    "unsloth/llava-1.5-7b-hf-GGUF/mmproj-F32.gguf": ("proj", "llava-1.5", "llava-1.5-7b", "F32"),
    # mradermacher: static repo with two projector precisions; the i1 repo has none, and an imatrix.
    "mradermacher/llava-v1.5-13b-GGUF/llava-v1.5-13b.Q4_K_M.gguf": ("model", "vicuna-13b-v1.5"),
    "mradermacher/llava-v1.5-13b-GGUF/llava-v1.5-13b.f16.gguf": ("model", "vicuna-13b-v1.5", "F16"),
    "mradermacher/llava-v1.5-13b-GGUF/llava-v1.5-13b.mmproj-Q8_0.gguf": ("proj", "llava-1.5", "llava-1.5-13b", "Q8_0"),
    "mradermacher/llava-v1.5-13b-GGUF/llava-v1.5-13b.mmproj-f16.gguf": ("proj", "llava-1.5", "llava-1.5-13b", "F16"),
    "mradermacher/llava-v1.5-13b-i1-GGUF/llava-v1.5-13b.i1-Q4_K_M.gguf": ("model", "vicuna-13b-v1.5"),
    "mradermacher/llava-v1.5-13b-i1-GGUF/llava-v1.5-13b.imatrix.gguf": ("model", "vicuna-13b-v1.5"),
    # lmstudio-community: renamed projector.
    "lmstudio-community/llava-v1.5-13b-GGUF/llava-v1.5-13b-Q4_K_M.gguf": ("model", "vicuna-13b-v1.5"),
    "lmstudio-community/llava-v1.5-13b-GGUF/mmproj-model-f16.gguf": ("proj", "llava-1.5", "llava-1.5-13b", "F16"),
    # a projector-only repo: nothing to pair with.
    "koboldcpp/mmproj/mistral-7b-mmproj-v1.5-Q4_1.gguf": ("proj", "llava-1.5", "llava-1.5-7b", "F16"),
    # a user's mix-up: a LLaVA-7B projector beside Mistral-7B (same width, other lineage).
    "user-mixup/Mistral-7B-Instruct-v0.2-Q4_K_M.gguf": ("model", "mistral-7b-v0.2"),
    "user-mixup/mmproj-mistral-7b-f16.gguf": ("proj", "llava-1.5", "llava-1.5-7b", "F16"),
    # Qwen2-VL surgery era: a projector named *-vision-*, no "mmproj" in it; and a broken download.
    "community/Qwen2-VL-2B-Instruct/Qwen2-VL-2B-Instruct-Q4_K_M.gguf": ("model", "qwen2-vl-2b-text"),
    "community/Qwen2-VL-2B-Instruct/qwen2vl-2b-vision-f16.gguf": ("proj", "qwen2-vl", "qwen2-vl-2b", "F16"),
    "community/Qwen2-VL-2B-Instruct/broken.gguf": ("html",),
}  # fmt: skip


def _u16(v: int) -> Any:
    from gguf import GGUFValueType

    return (v, GGUFValueType.UINT16)


def _write_unique(cache: Path, entry: tuple[str, ...], db: CompatDB) -> Path:
    kind = entry[0]
    name = "-".join(entry) + ".gguf"
    path = cache / name
    if path.exists():
        return path
    if kind in ("model", "shard"):
        # a VLM's own text model has its family's marker tokens
        fams = [f for f in db.families.values() if any(v.lineage == entry[1] for v in f.variants)]
        markers = tuple(dict.fromkeys(m for f in fams for m in family_markers(f, db)))
        spec = text_spec_for_lineage(db.lineages[entry[1]], markers=markers)
        if kind == "model" and len(entry) > 2:
            spec.weight_type = spec.embd_type = entry[2]
        if kind == "shard":
            spec.extra_keys = {**spec.extra_keys, "split.no": _u16(int(entry[2])), "split.count": _u16(2)}
        write_text_model(path, spec)
    elif kind == "proj":
        family = db.families[entry[1]]
        variant = next(v for v in family.variants if v.id == entry[2])
        write_family_projector(path, family, variant, db, weight_type=entry[3])
    elif kind == "lfs":
        path.write_text(LFS_POINTER)
    else:
        path.write_text("<!DOCTYPE html><html><body>Rate limit exceeded</body></html>\n")
    return path


def build_hub(root: Path, db: CompatDB, cache: Path | None = None) -> Path:
    """Write ``TREE`` under ``root`` and return ``root``."""
    cache = cache or root.parent / (root.name + "-unique")
    cache.mkdir(parents=True, exist_ok=True)
    for rel, entry in TREE.items():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_write_unique(cache, entry, db), dest)
    return root
