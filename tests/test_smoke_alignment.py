"""Embedding-space evidence and baked embeddings, on pairs whose truth is known by construction.

The synthetic experiment (docs/smoke-test.md; the calibration on real tables is in
``tests/test_smoke_calibration.py``): for several seeds, two token tables A and B of the same
width with independent per-dimension profiles; an ``mlp`` projector fitted by least squares into A
and one fitted into B; both paired with the text model whose table is A.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmcheck.smoke import SmokeResult, run_smoke
from mmcheck.smoke.model import ALIGNED_FROM, MISALIGNED_BELOW
from mmcheck.testing.builders import write_projector, write_text_model
from tests.smoke_fixtures import fitted_mlp, info, mlp_projector, profiled_table, text_with_table

D, V, E, HID = 256, 2048, 64, 256
SEEDS = range(5)
Run = tuple[float, float, SmokeResult, SmokeResult]


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> list[Run]:
    out: list[Run] = []
    d = tmp_path_factory.mktemp("align")
    for seed in SEEDS:
        rng = np.random.default_rng(100 + seed)
        a, b = profiled_table(rng, V, D), profiled_table(rng, V, D)
        model = text_with_table(d / f"a{seed}.gguf", a, weight_type="F16")
        pa = mlp_projector(d / f"pa{seed}.gguf", fitted_mlp(rng, a, E, HID), E)
        pb = mlp_projector(d / f"pb{seed}.gguf", fitted_mlp(rng, b, E, HID), E)
        ra, rb = run_smoke(model, pa), run_smoke(model, pb)
        assert ra.alignment is not None and rb.alignment is not None
        out.append((ra.alignment, rb.alignment, ra, rb))
    return out


def test_alignment_separates_matched_from_foreign_projectors(experiment: list[Run]) -> None:
    matched = [m for m, _, _, _ in experiment]
    foreign = [f for _, f, _, _ in experiment]
    # measured (256 projected rows, 2048 token rows): matched 0.990-0.993, foreign 0.03-0.13
    assert min(matched) > 0.9
    assert max(foreign) < MISALIGNED_BELOW < ALIGNED_FROM < min(matched)


def test_findings_follow_the_evidence(experiment: list[Run]) -> None:
    for _, _, ra, rb in experiment:
        assert ra.status == "passed" and {f.code for f in ra.findings} == {"MM809"}
        (mm809,) = ra.findings
        assert not mm809.against and mm809.severity == "info" and ra.alignment_evidence == "for"
        assert {f.code for f in rb.findings} == {"MM805"} and rb.status == "failed"
        (mm805,) = rb.findings
        assert mm805.effect == "likely-garbage" and mm805.severity == "error" and rb.alignment_evidence == "against"
        assert ra.embedding["informative"] is True and rb.embedding["informative"] is True
        assert "evidence for the pair" in ra.summary and "evidence against the pair" in rb.summary
        assert ra.to_dict()["summary"] == ra.summary and rb.to_dict()["alignment_evidence"] == "against"


def test_scale_ratio_is_reported(experiment: list[Run]) -> None:
    for _, _, ra, _ in experiment:
        assert ra.scale_ratio is not None and 0.1 < ra.scale_ratio < 10


def test_no_verdict_when_the_table_has_no_profile(tmp_path: Path) -> None:
    # the builder's random tables have no per-dimension structure: alignment is not evidence
    write_text_model(tmp_path / "t.gguf", n_embd=D, n_layer=1)
    proj = write_projector(tmp_path / "p.gguf", projector_type="mlp", n_embd_out=D)
    r = run_smoke(info(tmp_path / "t.gguf"), info(proj))
    assert r.embedding["informative"] is False and r.embedding["text_reliability"] < 0.5
    assert not {"MM805", "MM809"} & {f.code for f in r.findings}
    assert r.alignment_evidence == "neither" and r.status == "passed"
    assert "no stable per-dimension profile" in r.summary and r.summary.endswith("not evidence either way")


def test_an_untrained_projector_is_never_evidence_for(tmp_path: Path) -> None:
    # random weights: only the tiny row-norm spread of the random matrix shapes the outputs, so the
    # profile is weak (split-half 0.67 here, at the edge of the minimum) and unrelated to the table
    model = text_with_table(tmp_path / "a.gguf", profiled_table(np.random.default_rng(5), V, D))
    proj = write_projector(tmp_path / "p.gguf", projector_type="mlp", width=E, hidden=HID, n_embd_out=D)
    r = run_smoke(model, info(proj))
    assert r.alignment is not None and abs(r.alignment) < MISALIGNED_BELOW
    codes = {f.code for f in r.findings}
    assert "MM809" not in codes
    assert ("MM805" in codes) == r.embedding["informative"]


def test_between_the_thresholds_is_not_evidence(tmp_path: Path) -> None:
    # a projector fitted to a table that is A on a third of the dimensions, a foreign B elsewhere
    rng = np.random.default_rng(11)
    a, b = profiled_table(rng, V, D), profiled_table(rng, V, D)
    mixed = np.where(np.arange(D) < D // 3, a, b)
    model = text_with_table(tmp_path / "a.gguf", a, weight_type="F16")
    r = run_smoke(model, mlp_projector(tmp_path / "p.gguf", fitted_mlp(rng, mixed, E, HID), E))
    assert r.embedding["informative"] is True and r.alignment is not None
    assert MISALIGNED_BELOW <= r.alignment < ALIGNED_FROM, r.embedding
    assert not {"MM805", "MM809"} & {f.code for f in r.findings} and r.alignment_evidence == "neither"
    assert "partly match" in r.summary and r.summary.endswith("not evidence either way")


def test_skipped_and_uncompared_summaries(tmp_path: Path) -> None:
    write_text_model(tmp_path / "t.gguf", n_embd=D, n_layer=1, header_only=True)
    proj = write_projector(tmp_path / "p.gguf", projector_type="mlp", n_embd_out=D)
    r = run_smoke(info(tmp_path / "t.gguf"), info(proj))
    assert r.status == "skipped" and r.summary.startswith("smoke test skipped")
    assert r.alignment_evidence is None and r.to_dict()["summary"] == r.summary


def test_alignment_survives_q8_0_text_embeddings(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    a = profiled_table(rng, V, D)
    model = text_with_table(tmp_path / "a.gguf", a, weight_type="Q8_0", embd_type="Q8_0")
    r = run_smoke(model, mlp_projector(tmp_path / "p.gguf", fitted_mlp(rng, a, E, HID), E))
    assert r.alignment is not None and r.alignment > 0.8 and r.status == "passed"


# -- baked embeddings ------------------------------------------------------------------------


def _pixtral_pair(tmp_path: Path, baked_from_model: bool, embd_type: str = "F32") -> object:
    rng = np.random.default_rng(3)
    table = rng.standard_normal((512, 64)).astype(np.float32) * 0.02
    write_text_model(
        tmp_path / "t.gguf",
        arch="mistral3",
        n_embd=64,
        n_layer=1,
        vocab_size=512,
        special_tokens=["[IMG]", "[IMG_BREAK]", "[IMG_END]"],
        embedding_table=table,
        embd_type=embd_type,
    )
    model = info(tmp_path / "t.gguf")
    assert model.text is not None and model.text.vocab is not None
    hit = model.text.vocab.find("[IMG_BREAK]")
    assert hit is not None
    row = table[hit.token_id] if baked_from_model else rng.standard_normal(64).astype(np.float32) * 0.02
    write_projector(tmp_path / "p.gguf", projector_type="pixtral", n_embd_out=64,
                    explicit_tensors={"v.token_embd.img_break": row})  # fmt: skip
    return run_smoke(model, info(tmp_path / "p.gguf"))


@pytest.mark.parametrize("embd_type", ["F32", "F16", "Q8_0"])
def test_baked_img_break_match_confirms_lineage(tmp_path: Path, embd_type: str) -> None:
    r = _pixtral_pair(tmp_path, True, embd_type)
    assert r.lineage_evidence == "confirmed"  # type: ignore[attr-defined]
    (f,) = [f for f in r.findings if f.code == "MM807"]  # type: ignore[attr-defined]
    # the registry's MM807: strong evidence for the pair (effect match), informational severity
    assert f.effect == "match" and not f.against and f.severity == "info"
    assert r.baked[0]["verdict"] == "match" and r.baked[0]["cosine"] > 0.99  # type: ignore[attr-defined]
    assert r.status == "passed"  # type: ignore[attr-defined]


def test_baked_img_break_mismatch_is_garbage(tmp_path: Path) -> None:
    r = _pixtral_pair(tmp_path, False)
    assert r.lineage_evidence == "contradicted"  # type: ignore[attr-defined]
    assert [f.effect for f in r.findings if f.code == "MM806"] == ["likely-garbage"]  # type: ignore[attr-defined]
    assert r.status == "failed"  # type: ignore[attr-defined]


def test_baked_not_compared_without_the_token(tmp_path: Path) -> None:
    write_text_model(tmp_path / "t.gguf", n_embd=64, n_layer=1)
    write_projector(tmp_path / "p.gguf", projector_type="pixtral", n_embd_out=64)
    r = run_smoke(info(tmp_path / "t.gguf"), info(tmp_path / "p.gguf"))
    assert r.baked[0]["verdict"] == "not-compared" and r.lineage_evidence is None
