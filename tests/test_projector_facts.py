"""Projector facts: the width llama.cpp computes, for every projector type in the database.

The fixture builder lays out each type's tensors with its own table (``projector_tensors``, from
llama.cpp's loader); the facts read the width through the database's width rule. The two are
written independently, so this test catches a wrong tensor name or ne index in either.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mmcheck.db import CompatDB, load_db
from mmcheck.inspection import inspect_file
from mmcheck.testing import write_projector

OUT = 96
DB = load_db()

# clip_n_mmproj_embd (tools/mtmd/clip.cpp:5966 @0c1e570): the exceptions to
# "the width is the projector's output dimension"
SPECIAL = {
    "qwen3vl_merger": OUT * (1 + 2),  # x (1 + deepstack layers); the builder writes 2
    "granite4_vision": 2 * OUT,  # len(feature_layer) x projection_dim; the builder writes 2 feature layers
    "gemma3na": None,  # no width case: llama.cpp aborts
}


@pytest.mark.parametrize("type_id", sorted(DB.projector_types))
def test_width_of_every_type(tmp_path: Path, db: CompatDB, type_id: str) -> None:
    path = write_projector(
        tmp_path / f"{type_id}.gguf",
        projector_type=type_id,
        n_embd_out=OUT,
        deepstack_layers=2 if type_id == "qwen3vl_merger" else 0,
        header_only=True,
    )
    p = inspect_file(path, db).projector
    assert p is not None
    assert p.output_width == SPECIAL.get(type_id, OUT), p.primary
    tower = p.primary
    assert tower is not None and tower.known
    if type_id not in ("qwen2.5o",):
        assert tower.type_id == type_id
    assert not tower.missing_tensors, tower.missing_tensors
    assert not tower.missing_keys, tower.missing_keys


def test_mlp_becomes_mlp_norm_when_mm3_exists(tmp_path: Path, db: CompatDB) -> None:
    # a Yi-VL style file: labelled "mlp" but carrying the mlp_norm tensors (mm.0, mm.1, mm.3, mm.4)
    path = write_projector(
        tmp_path / "yi.gguf", projector_type="mlp_norm", n_embd_out=OUT, extra_keys={"clip.projector_type": "mlp"}
    )
    p = inspect_file(path, db).projector
    assert p is not None and p.primary is not None
    assert p.primary.declared_type == "mlp"
    assert p.primary.type_id == "mlp_norm"
    assert p.primary.width.source == "mm.3.bias ne[0]"
    assert p.output_width == OUT


def test_qwen25o_remaps_per_modality(tmp_path: Path, db: CompatDB) -> None:
    p = inspect_file(write_projector(tmp_path / "o.gguf", projector_type="qwen2.5o", n_embd_out=OUT), db).projector
    assert p is not None
    assert p.towers["vision"].type_id == "qwen2.5vl_merger"
    assert p.towers["audio"].type_id == "qwen2a"
    assert p.towers["vision"].width.value == p.towers["audio"].width.value == OUT


def test_modality_specific_type_key_fallback(tmp_path: Path, db: CompatDB) -> None:
    path = write_projector(tmp_path / "v.gguf", type_key="clip.vision.projector_type", n_embd_out=OUT)
    p = inspect_file(path, db).projector
    assert p is not None and p.primary is not None
    assert p.primary.type_key == "clip.vision.projector_type"
    assert p.output_width == OUT


def test_legacy_file_without_type_is_flagged_and_inferred(tmp_path: Path, db: CompatDB) -> None:
    path = write_projector(
        tmp_path / "old.gguf", projector_type=None, legacy_flags={"clip.has_llava_projector": True}, n_embd_out=OUT
    )
    p = inspect_file(path, db).projector
    assert p is not None
    assert p.legacy_untyped and p.inferred_type == "mlp"
    assert p.legacy_flags["has_llava_projector"] is True
    # checked as the type its tensors show (width, structure, family), with no declared type
    assert p.primary is not None and p.primary.type_id == "mlp" and p.primary.declared_type is None
    assert p.primary.width.value == OUT


def test_projection_dim_is_reported_not_trusted(tmp_path: Path, db: CompatDB) -> None:
    p = inspect_file(write_projector(tmp_path / "x.gguf", n_embd_out=64, projection_dim=4096), db).projector
    assert p is not None and p.encoder is not None
    assert p.encoder.projection_dim == 4096
    assert p.output_width == 64


@pytest.mark.parametrize(
    ("type_id", "image", "patch", "merge", "expected"),
    [
        ("mlp", 336, 14, None, 576),  # LLaVA-1.5: 24 x 24 patches
        ("ldp", 336, 14, None, 144),  # MobileVLM: np / 4
        ("ldpv2", 336, 14, None, 144),
        ("gemma3", 896, 14, 4, 256),  # Gemma 3: 64 x 64 patches merged 4 x 4
        ("idefics3", 512, 16, 4, 64),  # SmolVLM-style: np / m^2 per tile
    ],
)
def test_tokens_per_image(tmp_path: Path, db: CompatDB, type_id: str, image: int, patch: int, merge, expected) -> None:  # type: ignore[no-untyped-def]
    path = write_projector(
        tmp_path / "t.gguf", projector_type=type_id, image_size=image, patch_size=patch, merge=merge, header_only=True
    )
    p = inspect_file(path, db).projector
    assert p is not None and p.primary is not None and p.primary.tokens is not None
    assert p.primary.tokens.typical == expected


def test_markers_and_baked_embeddings(tmp_path: Path, db: CompatDB) -> None:
    g = inspect_file(write_projector(tmp_path / "g.gguf", projector_type="gemma3", header_only=True), db).projector
    assert g is not None and ("<start_of_image>", "T") in g.towers["vision"].markers
    px = inspect_file(write_projector(tmp_path / "p.gguf", projector_type="pixtral", header_only=True), db).projector
    assert px is not None and "v.token_embd.img_break" in px.towers["vision"].baked_embeddings


def test_quantization_types_are_reported(tmp_path: Path, db: CompatDB) -> None:
    p = inspect_file(write_projector(tmp_path / "q.gguf", weight_type="Q8_0", width=64, hidden=64), db).projector
    assert p is not None
    assert p.projector_tensor_types.get("Q8_0", 0) >= 2
