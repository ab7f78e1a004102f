"""Every family variant in the database: its projector is recognised, its own text model matches,
and a same-width text model of a contradicting lineage is called likely-garbage."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmcheck.db import CompatDB, Family, FamilyVariant, load_db
from mmcheck.identify import match_families
from mmcheck.inspection import inspect_file
from mmcheck.pair import check_pair
from mmcheck.testing.presets import family_markers, write_family_projector, write_lineage_model
from mmcheck.verdict import Verdict

DB = load_db()
VARIANTS = [(f, v) for f in DB.families.values() for v in f.variants if v.output_width and v.lineage in DB.lineages]
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


def _own_name(variant: FamilyVariant) -> str:
    """A general.name the variant's own patterns match: try the lineage name and common spellings."""
    lineage = DB.lineages[variant.lineage or ""]
    import re

    for candidate in (lineage.name, variant.id, variant.id.replace("-", " "), f"{variant.id} instruct"):
        if any(re.search(p if p.startswith("(?i)") else "(?i)" + p, candidate) for p in variant.text_name_patterns):
            return candidate
    return lineage.name


@pytest.mark.parametrize(("family", "variant"), VARIANTS, ids=[v.id for _, v in VARIANTS])
def test_variant_projector_is_recognised(tmp_path: Path, db: CompatDB, family: Family, variant: FamilyVariant) -> None:
    proj = write_family_projector(tmp_path / "mmproj.gguf", family, variant, db)
    p = inspect_file(proj, db).projector
    assert p is not None
    matches = match_families(p, db)
    assert any(m.family.id == family.id and variant in m.variants for m in matches), [m.family.id for m in matches]


@pytest.mark.parametrize(("family", "variant"), VARIANTS, ids=[v.id for _, v in VARIANTS])
def test_variant_with_its_own_text_model_is_never_refused(
    tmp_path: Path, db: CompatDB, family: Family, variant: FamilyVariant
) -> None:
    lineage = db.lineages[variant.lineage or ""]
    if lineage.n_embd is None:
        pytest.fail(f"{lineage.id} has no n_embd; cannot build its text model")  # never silently skip
    proj = write_family_projector(tmp_path / "mmproj.gguf", family, variant, db, name=variant.id)
    model = write_lineage_model(
        tmp_path / "model.gguf", lineage, name=_own_name(variant), markers=family_markers(family, db)
    )
    report = check_pair(model, proj, smoke=False, db=db)
    codes = {f.rule for f in report.findings}
    if variant.output_width != lineage.n_embd:
        # e.g. Qwen3-VL: the projector width is n_embd x (1 + deepstack), the text model must say so
        assert report.verdict in (Verdict.MISMATCH, Verdict.MATCH, Verdict.UNKNOWN)
        return
    assert report.verdict in (Verdict.MATCH, Verdict.UNKNOWN), report.findings
    assert "MM101" not in codes and "MM303" not in codes


def test_llama3_projector_on_mistral_is_likely_garbage(tmp_path: Path, db: CompatDB) -> None:
    fam = db.families["xtuner-llava-llama-3-8b"]
    proj = write_family_projector(tmp_path / "p.gguf", fam, fam.variants[0], db, name="llava-llama-3-8b-v1_1")
    model = write_lineage_model(tmp_path / "m.gguf", db.lineages["mistral-7b-v0.2"], name="Mistral 7B Instruct v0.2")
    report = check_pair(model, proj, smoke=False, db=db)
    assert report.verdict == Verdict.LIKELY_GARBAGE
    assert any(f.rule == "MM303" and "vocab 32000" in f.message for f in report.findings)


def test_llava15_projector_on_qwen2_of_same_width_is_likely_garbage(tmp_path: Path, db: CompatDB) -> None:
    fam = db.families["llava-1.5"]
    v7 = next(v for v in fam.variants if v.id == "llava-1.5-7b")
    proj = write_family_projector(tmp_path / "p.gguf", fam, v7, db)
    # a Qwen2 text model that happens to be 4096 wide: nothing else in common with any LLaVA-1.5 base
    from mmcheck.testing import write_text_model

    model = write_text_model(
        tmp_path / "m.gguf",
        arch="qwen2",
        n_embd=4096,
        n_head=32,
        n_layer=2,
        vocab_size=151936,
        tokenizer_model="gpt2",
        tokenizer_pre="qwen2",
        header_only=True,
        name="Some Qwen2 4k",
    )
    report = check_pair(model, proj, smoke=False, db=db)
    assert report.verdict == Verdict.LIKELY_GARBAGE, report.findings


def test_identical_recipe_headers_are_never_a_match_by_projector_alone(tmp_path: Path, db: CompatDB) -> None:
    # LLaVA-1.5 on Vicuna and on Mistral: identical projector headers. An unnamed projector + a
    # Mistral model: the widths fit and nothing contradicts, but nothing says which projector it is.
    fam = db.families["llava-1.5"]
    v7 = next(v for v in fam.variants if v.id == "llava-1.5-7b")
    proj = write_family_projector(tmp_path / "p.gguf", fam, v7, db, name="openai/clip-vit-large-patch14-336")
    model = write_lineage_model(tmp_path / "m.gguf", db.lineages["mistral-7b-v0.2"], name="Mistral 7B Instruct v0.2")
    report = check_pair(model, proj, smoke=False, db=db)
    assert report.verdict == Verdict.UNKNOWN
    assert any(f.rule == "MM302" and "says which one" in f.message for f in report.findings)


def test_qwen2vl_merger_on_plain_qwen2_is_likely_garbage(tmp_path: Path, db: CompatDB) -> None:
    from mmcheck.testing import write_projector, write_text_model

    proj = write_projector(tmp_path / "p.gguf", projector_type="qwen2vl_merger", n_embd_out=64)
    plain = write_text_model(tmp_path / "m.gguf", arch="qwen2", n_embd=64)
    vl = write_text_model(tmp_path / "vl.gguf", arch="qwen2vl", n_embd=64, rope_sections=[8, 12, 12, 0])
    assert check_pair(plain, proj, smoke=False, db=db).verdict == Verdict.LIKELY_GARBAGE
    r = check_pair(vl, proj, smoke=False, db=db)
    assert r.verdict != Verdict.LIKELY_GARBAGE and "MM304" not in {f.rule for f in r.findings}


@pytest.mark.parametrize(
    ("family_id", "expected"), [("gemma-3", Verdict.MATCH), ("pixtral-mistral-small", Verdict.UNKNOWN)]
)
def test_third_party_finetunes_match_only_where_the_family_works_with_finetunes(
    tmp_path: Path, db: CompatDB, family_id: str, expected: Verdict
) -> None:
    fam = db.families[family_id]
    variant = next(v for v in fam.variants if v.output_width and v.lineage in db.lineages)
    assert (fam.finetunes_work == "yes") == (expected == Verdict.MATCH)
    proj = write_family_projector(tmp_path / "p.gguf", fam, variant, db, name=variant.id)
    markers = family_markers(fam, db)
    lineage = db.lineages[variant.lineage or ""]
    own = write_lineage_model(tmp_path / "own.gguf", lineage, name=variant.id, finetune="it", markers=markers)
    assert check_pair(own, proj, smoke=False, db=db).verdict == Verdict.MATCH
    tuned = write_lineage_model(
        tmp_path / "tuned.gguf", lineage, name=f"{variant.id} Abliterated", finetune="it-abliterated", markers=markers
    )
    assert check_pair(tuned, proj, smoke=False, db=db).verdict == expected


@pytest.mark.parametrize("family_id", sorted(DB.families))
def test_every_family_projector_is_recognised(tmp_path: Path, db: CompatDB, family_id: str) -> None:
    # including families whose widths the database leaves unknown (null): type + encoder signature
    fam = db.families[family_id]
    variant = next((v for v in fam.variants if v.output_width), fam.variants[0])
    proj = write_family_projector(tmp_path / "p.gguf", fam, variant, db, n_embd_out=variant.output_width or 2048)
    p = inspect_file(proj, db).projector
    assert p is not None
    assert family_id in {m.family.id for m in match_families(p, db)}
