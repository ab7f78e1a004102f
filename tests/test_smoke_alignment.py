"""Embedding-space evidence and baked embeddings, on pairs whose truth is known by construction.

The experiment behind MM805's threshold (docs/smoke-test.md): for several seeds, two token tables
A and B of the same width with independent per-dimension profiles; an ``mlp`` projector fitted by
least squares into A and one fitted into B; both paired with the text model whose table is A.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmcheck.smoke import run_smoke
from mmcheck.smoke.embedding_space import ALIGNMENT_THRESHOLD
from mmcheck.testing.builders import write_projector, write_text_model
from tests.smoke_fixtures import fitted_mlp, info, mlp_projector, profiled_table, text_with_table

D, V, E, HID = 256, 2048, 64, 256
SEEDS = range(5)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[float, float, object, object]]:
    out = []
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


def test_alignment_separates_matched_from_foreign_projectors(experiment: list) -> None:
    matched = [m for m, _, _, _ in experiment]
    foreign = [f for _, f, _, _ in experiment]
    # measured: matched 0.93-0.95, foreign -0.05-0.12 (docs/smoke-test.md)
    assert min(matched) > 0.8
    assert max(foreign) < 0.2
    assert min(matched) - max(foreign) > 0.6
    assert max(foreign) < ALIGNMENT_THRESHOLD < min(matched)


def test_mm805_fires_only_on_the_foreign_projector(experiment: list) -> None:
    for _, _, ra, rb in experiment:
        assert ra.status == "passed" and not [f for f in ra.findings if f.code == "MM805"]
        mm805 = [f for f in rb.findings if f.code == "MM805"]
        assert mm805 and mm805[0].effect == "likely-garbage" and mm805[0].severity == "warning"
        assert rb.embedding["informative"] is True


def test_scale_ratio_is_reported(experiment: list) -> None:
    for _, _, ra, _ in experiment:
        assert ra.scale_ratio is not None and 0.1 < ra.scale_ratio < 10


def test_no_verdict_when_the_table_has_no_profile(tmp_path: Path) -> None:
    # the builder's random tables have no per-dimension structure: alignment is not evidence
    write_text_model(tmp_path / "t.gguf", n_embd=D, n_layer=1)
    proj = write_projector(tmp_path / "p.gguf", projector_type="mlp", n_embd_out=D)
    r = run_smoke(info(tmp_path / "t.gguf"), info(proj))
    assert r.embedding["informative"] is False
    assert "MM805" not in {f.code for f in r.findings}


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
    row = table[hit.index] if baked_from_model else rng.standard_normal(64).astype(np.float32) * 0.02
    write_projector(tmp_path / "p.gguf", projector_type="pixtral", n_embd_out=64,
                    explicit_tensors={"v.token_embd.img_break": row})  # fmt: skip
    return run_smoke(model, info(tmp_path / "p.gguf"))


@pytest.mark.parametrize("embd_type", ["F32", "F16", "Q8_0"])
def test_baked_img_break_match_confirms_lineage(tmp_path: Path, embd_type: str) -> None:
    r = _pixtral_pair(tmp_path, True, embd_type)
    assert r.lineage_evidence == "confirmed"  # type: ignore[attr-defined]
    (f,) = [f for f in r.findings if f.code == "MM807"]  # type: ignore[attr-defined]
    assert f.effect is None and f.severity == "info"
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
