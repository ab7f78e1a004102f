"""Plumbing: the database's own entries are consistent with the identification code.

These tests build files *from* compat_db, so they can only show that the database agrees with
itself and that every entry is reachable; they prove nothing about real files. Whether verdicts
hold on files people download is tests/test_corpus_verdicts.py's job (independent real-world
headers), and the identification logic itself is tests/test_identify.py's (a database written there).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mmcheck.db import CompatDB, Family, FamilyVariant, load_db
from mmcheck.identify import candidates, match_families, names_match
from mmcheck.inspection import inspect_file
from mmcheck.pair import check_pair
from mmcheck.testing.presets import family_markers, write_family_projector, write_lineage_model
from mmcheck.verdict import Verdict

DB = load_db()
ALL_VARIANTS = [(f, v) for f in DB.families.values() for v in f.variants]
CHEAT_SHEET = {
    "llava-phi-3-mini", "xtuner-llava-llama-3-8b", "llava-1.5", "llava-1.6", "llava-next-video",
    "llava-llama-3.1-8b-unhinged", "mobilevlm", "mobilevlm-v2", "minicpm-llama3-v2.5", "minicpm-v-2.6",
    "sharegpt4v", "bunny",
}  # fmt: skip
MODERN = {
    "gemma-3", "gemma-3n", "gemma-4", "qwen2-vl", "qwen2.5-vl", "qwen3-vl", "qwen2.5-omni", "pixtral-mistral-small",
    "smolvlm", "internvl", "llama-4", "kimi-vl", "minicpm-v-4", "glm-4v", "cogvlm", "phi-4-multimodal", "lfm2-vl",
    "yi-vl", "ultravox", "voxtral", "qwen2-audio",
}  # fmt: skip


def test_database_covers_the_cheat_sheet_and_modern_families() -> None:
    assert set(DB.families) >= CHEAT_SHEET | MODERN
    for fam in DB.families.values():
        assert fam.source and fam.confidence in ("confirmed", "reported", "inferred")


@pytest.mark.parametrize("family_id", sorted(DB.families))
def test_every_family_projector_is_recognised(tmp_path: Path, db: CompatDB, family_id: str) -> None:
    # type + encoder signature, whatever the widths (some are unknown: null)
    fam = db.families[family_id]
    variant = next((v for v in fam.variants if v.output_width), fam.variants[0])
    proj = write_family_projector(tmp_path / "p.gguf", fam, variant, db, n_embd_out=variant.output_width or 2048)
    p = inspect_file(proj, db).projector
    assert p is not None
    assert family_id in {m.family.id for m in match_families(p, db)}


@pytest.mark.parametrize(("family", "variant"), ALL_VARIANTS, ids=[v.id for _, v in ALL_VARIANTS])
def test_variant_is_a_candidate_exactly_when_its_width_is_known(
    tmp_path: Path, db: CompatDB, family: Family, variant: FamilyVariant
) -> None:
    width = variant.output_width or 4095  # a width no variant has
    proj = write_family_projector(tmp_path / "mmproj.gguf", family, variant, db, n_embd_out=width)
    p = inspect_file(proj, db).projector
    assert p is not None
    ids = {c.variant.id for c in candidates(p, db)[0]}
    if variant.output_width is None:
        assert variant.id not in ids  # an unknown width never explains a projector
    else:
        assert variant.id in ids, ids


WITH_OWN_TEXT = [
    (f, v)
    for f, v in ALL_VARIANTS
    if v.output_width and v.lineage in DB.lineages and v.text_name_patterns and DB.lineages[v.lineage].n_embd
]


@pytest.mark.parametrize(("family", "variant"), WITH_OWN_TEXT, ids=[v.id for _, v in WITH_OWN_TEXT])
def test_variant_with_its_own_text_model_is_a_match(
    tmp_path: Path, db: CompatDB, family: Family, variant: FamilyVariant
) -> None:
    lineage = db.lineages[variant.lineage or ""]
    name = variant.id.replace("-", " ")
    assert names_match(variant.text_name_patterns, [name]), f"{variant.id}: its patterns miss its own id"
    n_embd = lineage.n_embd or 0
    assert variant.output_width is not None and variant.output_width % n_embd == 0, "width is not n_embd x k"
    deepstack = variant.output_width // n_embd - 1
    extra = {"deepstack_layers": deepstack} if deepstack else {}
    proj = write_family_projector(tmp_path / "mmproj.gguf", family, variant, db, name=None)
    model = write_lineage_model(
        tmp_path / "model.gguf", lineage, name=name, markers=family_markers(family, db), **extra
    )
    report = check_pair(model, proj, smoke=False, db=db)
    assert report.verdict == Verdict.MATCH, [(f.rule, f.message) for f in report.findings]
