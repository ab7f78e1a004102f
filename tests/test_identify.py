"""Every identification and evidence branch, on a small database written here (not compat_db).

The families, lineages and files below are made up for the test: each case changes one fact and
asserts the verdict and the rule that carries it, so a regression in the logic fails here whatever
the shipped database says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mmcheck.db import CompatDB, Encoder, Family, FamilyVariant, Lineage, load_db
from mmcheck.evidence import CERTAIN_AGAINST, STRONG_AGAINST, STRONG_FOR, WEAK_AGAINST
from mmcheck.identify import compare_lineage, vocab_relation
from mmcheck.inspection import inspect_file
from mmcheck.pair import check_pair
from mmcheck.rules import RULES
from mmcheck.rules.base import Finding
from mmcheck.testing import write_projector, write_text_model
from mmcheck.verdict import Verdict, decide

SHARED_FP = "blake2b:00000000000000000000000000000001"

CLIP = Encoder(name="test CLIP", embedding_length=64, block_count=2, image_size=32, patch_size=8, head_count=4)


def lineage(id: str, **kw: Any) -> Lineage:
    base = dict(
        name=id.replace("-", " ").title(),
        architecture="llama",
        n_embd=128,
        n_layer=4,
        n_head=4,
        n_head_kv=4,
        n_ff=512,
        vocab_size=1000,
        tokenizer_model="llama",
        source="test",
    )
    base.update(kw)
    return Lineage(id=id, **base)  # type: ignore[arg-type]


LINEAGES = {
    "basellm-7b": lineage("basellm-7b", name_patterns=(r"basellm[- _]?7b",)),
    "tuned-7b": lineage("tuned-7b", derived_from="basellm-7b", name_patterns=(r"tuned[- _]?7b",)),
    "other-7b": lineage("other-7b", n_head_kv=2, n_ff=640, name_patterns=(r"other[- _]?7b",)),
    "bpe-7b": lineage("bpe-7b", vocab_size=5000, tokenizer_model="gpt2", tokenizer_pre=("bpe-a",),
                      vocab_sizes=(4990,), name_patterns=(r"bpe[- _]?7b",)),
    "fp-a": lineage("fp-a", tokenizer_fingerprints=(SHARED_FP,)),
    "fp-b": lineage("fp-b", tokenizer_fingerprints=(SHARED_FP,)),
}  # fmt: skip


def variant(id: str, lin: str | None, width: int | None = 128, names: tuple[str, ...] = ()) -> FamilyVariant:
    return FamilyVariant(id=id, lineage=lin, output_width=width, text_name_patterns=names)


def family(
    id: str, variants: tuple[FamilyVariant, ...], finetunes: str = "yes", types: tuple[str, ...] = ("mlp",)
) -> Family:
    return Family(id=id, name=id.upper(), projector_types=types, encoder=CLIP, variants=variants,
                  finetunes_work=finetunes, source="test")  # type: ignore[arg-type]  # fmt: skip


FAMILIES = {
    # one recipe, two base models: the header cannot tell them apart
    "vlm": family(
        "vlm",
        (
            variant("vlm-tuned", "tuned-7b", names=(r"vlm[- _]?tuned",)),
            variant("vlm-other", "other-7b", names=(r"vlm[- _]?other",)),
            variant("vlm-wide", "other-7b", width=None),  # width unknown: never a candidate
        ),
    ),
    # a co-trained VLM with its own marker tokens (internvl type: <img> </img>)
    "cotrained": family("cotrained", (variant("cot-bpe", "bpe-7b", names=(r"cot[- _]?vlm",)),), "no", ("internvl",)),
}


@pytest.fixture(scope="module")
def mini_db() -> CompatDB:
    real = load_db()
    return CompatDB(real.root, real.projector_types, LINEAGES, FAMILIES, {}, real.revision)


def text(tmp: Path, name: str | None = "Some Model", **kw: Any) -> Path:
    spec: dict[str, Any] = dict(n_embd=128, n_layer=4, n_head=4, n_head_kv=4, n_ff=512, vocab_size=1000, name=name)
    spec.update(kw)
    return write_text_model(
        tmp / f"text-{abs(hash(repr(sorted(spec.items())))) % 10**8}.gguf", header_only=True, **spec
    )


def proj(tmp: Path, **kw: Any) -> Path:
    spec: dict[str, Any] = dict(projector_type="mlp", n_embd_out=128, width=64, n_layer=2, n_head=4, image_size=32,
                                patch_size=8, name=None)  # fmt: skip
    spec.update(kw)
    return write_projector(tmp / f"proj-{abs(hash(repr(sorted(spec.items())))) % 10**8}.gguf", header_only=True, **spec)


def verdict(db: CompatDB, model: Path, mmproj: Path) -> tuple[Verdict, dict[str, Finding]]:
    r = check_pair(model, mmproj, smoke=False, db=db)
    assert r.error is None
    return r.verdict, {f.rule: f for f in r.findings}


def test_vlm_own_name_is_a_match_and_says_who_shares_the_header(tmp_path: Path, mini_db: CompatDB) -> None:
    v, f = verdict(mini_db, text(tmp_path, "VLM Tuned 7B"), proj(tmp_path))
    assert v == Verdict.MATCH and "vlm-tuned" in f["MM301"].message
    assert "vlm-other" in f["MM307"].message and "vlm-wide" not in f["MM307"].message


def test_base_llm_name_with_a_header_several_lineages_share_stays_unknown(tmp_path: Path, mini_db: CompatDB) -> None:
    v, f = verdict(mini_db, text(tmp_path, "Tuned 7B Instruct"), proj(tmp_path))
    assert v == Verdict.UNKNOWN
    assert "says which one" in f["MM302"].message and "MM301" not in f


def test_projector_name_picks_the_variant(tmp_path: Path, mini_db: CompatDB) -> None:
    # the projector says it is vlm-tuned: the base model's name is then enough (finetunes_work yes)
    v, f = verdict(mini_db, text(tmp_path, "Tuned 7B Instruct"), proj(tmp_path, name="vlm-tuned projector"))
    assert v == Verdict.MATCH and "base model of vlm-tuned" in f["MM301"].message


def test_projector_named_for_another_lineage_is_garbage(tmp_path: Path, mini_db: CompatDB) -> None:
    # text model shaped like tuned-7b; projector named vlm-other (other-7b: 2 kv heads, ff 640)
    v, f = verdict(mini_db, text(tmp_path, "Tuned 7B"), proj(tmp_path, name="vlm-other"))
    assert v == Verdict.LIKELY_GARBAGE
    assert "kv heads 4, not 2" in f["MM303"].message and "tuned-7b" not in f["MM303"].message


def test_every_candidate_contradicted_is_garbage_and_names_only_candidates(tmp_path: Path, mini_db: CompatDB) -> None:
    # a BPE model of the same width: neither tuned-7b nor other-7b
    v, f = verdict(mini_db, text(tmp_path, None, vocab_size=5000, tokenizer_model="gpt2"), proj(tmp_path))
    assert v == Verdict.LIKELY_GARBAGE
    msg = f["MM303"].message
    assert "vlm-tuned" in msg and "vlm-other" in msg and "vlm-wide" not in msg and "cot-bpe" not in msg


def test_unknown_width_variant_never_explains_a_projector(tmp_path: Path, mini_db: CompatDB) -> None:
    # a 256-wide projector of the vlm recipe: no variant has that width (vlm-wide's is unknown)
    v, f = verdict(mini_db, text(tmp_path, None, n_embd=256, vocab_size=5000, tokenizer_model="gpt2"),
                   proj(tmp_path, n_embd_out=256))  # fmt: skip
    assert v == Verdict.UNKNOWN and "MM303" not in f
    assert "a width no recorded variant has" in f["MM302"].message
    assert "other-7b" not in f["MM302"].message.lower() and "vlm-wide" not in f["MM302"].message


def test_sibling_of_the_projectors_base_is_unknown(tmp_path: Path, mini_db: CompatDB) -> None:
    # the text model is the base model; the projector was trained with a fine-tune of it
    v, f = verdict(mini_db, text(tmp_path, "BaseLLM 7B Chat"), proj(tmp_path, name="vlm-tuned"))
    assert v == Verdict.UNKNOWN and "siblings" in f["MM302"].message


def test_shared_fingerprint_supports_but_does_not_identify(tmp_path: Path, mini_db: CompatDB) -> None:
    model = inspect_file(text(tmp_path, None), mini_db)
    assert model.text is not None and model.text.vocab is not None
    fp = model.text.vocab.fingerprint()
    two = {"fp-a": lineage("fp-a", tokenizer_fingerprints=(fp,)), "fp-b": lineage("fp-b", tokenizer_fingerprints=(fp,))}
    shared = mini_db._replace(lineages=two)
    comp = compare_lineage(model.text, shared.lineages["fp-a"], shared)
    assert not comp.identified and comp.supported_by and "2 lineages share" in comp.supported_by[0]
    unique = mini_db._replace(lineages={"fp-a": lineage("fp-a", tokenizer_fingerprints=(fp,))})
    assert compare_lineage(model.text, unique.lineages["fp-a"], unique).identified


@pytest.mark.parametrize(
    ("n", "relation"),
    [(5000, "same"), (4990, "same"), (5100, "near"), (4100, "near"), (32000, "far"), (3500, "far")],
)
def test_vocab_sizes_trimmed_padded_or_far(n: int, relation: str) -> None:
    assert vocab_relation(n, LINEAGES["bpe-7b"])[0] == relation


def test_converter_dependent_differences_never_reject(tmp_path: Path, mini_db: CompatDB) -> None:
    # the co-trained VLM's own text model, with another pre-tokenizer label and a trimmed vocab
    tokens = ["<unk>", "<s>", "</s>", "<img>", "</img>", *[f"t{i}" for i in range(4939)]]
    model = text(tmp_path, "COT VLM 7B", vocab_size=None, tokens=tokens, tokenizer_model="gpt2",
                 tokenizer_pre="bpe-b", special_tokens=["<img>", "</img>"])  # fmt: skip
    p = proj(tmp_path, projector_type="internvl", merge=2)
    v, f = verdict(mini_db, model, p)
    assert v == Verdict.MATCH, f
    assert "pre-tokenizer 'bpe-b'" in f["MM308"].message and "vocab 4944" in f["MM308"].message
    assert f["MM308"].evidence == WEAK_AGAINST


def test_co_trained_family_on_its_base_model(tmp_path: Path, mini_db: CompatDB) -> None:
    p = proj(tmp_path, projector_type="internvl", merge=2)
    with_markers = text(tmp_path, "BPE 7B Instruct", vocab_size=5000, tokenizer_model="gpt2",
                        special_tokens=["<img>", "</img>"])  # fmt: skip
    v, f = verdict(mini_db, with_markers, p)
    assert v == Verdict.UNKNOWN and "trains its language model together" in f["MM306"].message
    # the base model lacks the VLM's added marker tokens: it is demonstrably not the VLM's text model
    plain = text(tmp_path, "BPE 7B Instruct", vocab_size=5000, tokenizer_model="gpt2")
    v, f = verdict(mini_db, plain, p)
    assert v == Verdict.LIKELY_GARBAGE and "'<img>'" in f["MM303"].message


@pytest.mark.parametrize(("finetunes", "expected"), [("yes", Verdict.MATCH), ("no", Verdict.UNKNOWN)])
def test_third_party_finetune_of_the_vlm(tmp_path: Path, mini_db: CompatDB, finetunes: str, expected: Verdict) -> None:
    fams = {"vlm": FAMILIES["vlm"]._replace(finetunes_work=finetunes)}
    db = mini_db._replace(families=fams)
    v, f = verdict(db, text(tmp_path, "VLM Tuned 7B Abliterated", finetune="abliterated"), proj(tmp_path))
    assert v == expected
    if expected == Verdict.UNKNOWN:
        assert "fine-tune" in f["MM302"].message


def test_no_family_and_no_evidence_is_unknown_with_what_is_missing(tmp_path: Path, mini_db: CompatDB) -> None:
    v, f = verdict(mini_db, text(tmp_path), proj(tmp_path, projector_type="gemma3", image_size=48, merge=2))
    assert v == Verdict.UNKNOWN and "match no family" in f["MM302"].message


def _finding(code: str) -> Finding:
    r = RULES[code]
    return Finding(r.code, r.name, r.severity, "m", "", r.evidence)


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["MM809"], Verdict.MATCH),  # measured alignment alone is evidence for
        (["MM805"], Verdict.LIKELY_GARBAGE),  # measured misalignment alone is evidence against
        (["MM809", "MM303"], Verdict.UNKNOWN),  # conflict
        (["MM301", "MM805"], Verdict.UNKNOWN),  # conflict
        (["MM301", "MM308", "MM201", "MM305"], Verdict.MATCH),  # weak against never decides
        (["MM308", "MM201", "MM304", "MM305", "MM306"], Verdict.UNKNOWN),
        (["MM301", "MM101"], Verdict.MISMATCH),  # certain wins
        ([], Verdict.UNKNOWN),
    ],
)
def test_verdict_policy(codes: list[str], expected: Verdict) -> None:
    assert decide(_finding(c) for c in codes) == expected


def test_registry_evidence_classes() -> None:
    assert RULES["MM101"].evidence == CERTAIN_AGAINST and RULES["MM303"].evidence == STRONG_AGAINST
    assert RULES["MM301"].evidence == STRONG_FOR and RULES["MM809"].evidence == STRONG_FOR
    for code in ("MM201", "MM202", "MM304", "MM305", "MM306", "MM308"):
        assert RULES[code].evidence == WEAK_AGAINST, code
