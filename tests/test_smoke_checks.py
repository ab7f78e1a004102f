"""Smoke test: every corruption is detected and named; skipped inputs; every listed type runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mmcheck.smoke import N_TOKENS, run_smoke
from mmcheck.testing.builders import write_projector, write_text_model
from tests.smoke_fixtures import info

W, H, OUT = 32, 64, 64  # encoder width, projector hidden, text width


@pytest.fixture(scope="module")
def text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("smoke") / "text.gguf"
    write_text_model(path, n_embd=OUT, n_layer=1)
    return path


def _mlp(tmp_path: Path, **kw: object) -> Path:
    return write_projector(tmp_path / "mmproj.gguf", projector_type="mlp", width=W, hidden=H, n_embd_out=OUT, **kw)


def _codes(result: object) -> set[str]:
    return {f.code for f in result.findings}  # type: ignore[attr-defined]


def test_intact_mlp_passes_with_stage_records(text: Path, tmp_path: Path) -> None:
    r = run_smoke(info(text), info(_mlp(tmp_path)))
    assert r.status == "passed", r.reason
    assert [s["name"] for s in r.stages] == ["mm.0", "gelu", "mm.2"]
    assert r.stages[0]["input_shape"] == [N_TOKENS, W] and r.stages[-1]["output_shape"] == [N_TOKENS, OUT]
    assert r.stages[0]["tensors"] == ["mm.0.weight", "mm.0.bias"]
    d = r.to_dict()
    json.dumps(d)
    assert set(d) >= {"status", "reason", "stages", "scale_ratio", "alignment", "baked", "findings"}
    assert "timings" not in d and not any("ms" in s for s in d["stages"])  # deterministic by default
    assert set(r.to_dict(timings=True)["timings"]) == {"read", "dequantize", "forward", "embedding", "total"}


@pytest.mark.parametrize(
    ("corruption", "code", "needle"),
    [
        ({"explicit_tensors": {"mm.2.weight": np.full((OUT, H), np.nan, np.float32)}}, "MM802", "NaN"),
        (
            {"explicit_tensors": {"mm.2.weight": np.where(np.eye(OUT, H) > 0, np.inf, 0.1).astype(np.float32)}},
            "MM802",
            "NaN/Inf",
        ),
        ({"explicit_tensors": {"mm.0.weight": np.zeros((H, W), np.float32)}}, "MM802", "all zero"),
        ({"explicit_tensors": {"mm.2.weight": np.full((OUT, H), 0.5, np.float32)}}, "MM802", "constant"),
        ({"override_shapes": {"mm.2.bias": (OUT - 1,)}}, "MM801", "bias mm.2.bias has length 63"),
        (
            {"override_shapes": {"mm.2.weight": (H // 2, OUT)}},
            "MM801",
            "takes 32 inputs but the previous stage outputs 64",
        ),
        ({"drop_tensors": ["mm.2.weight", "mm.2.bias"]}, "MM801", "missing layer: tensor mm.2.weight"),
        ({"drop_tensors": ["mm.2.bias"]}, "MM801", "missing layer: tensor mm.2.bias"),
    ],
    ids=["nan", "inf", "zeros", "constant", "bias-length", "no-chain", "missing-last-layer", "missing-bias"],
)
def test_corruption_is_named(text: Path, tmp_path: Path, corruption: dict, code: str, needle: str) -> None:
    r = run_smoke(info(text), info(_mlp(tmp_path, **corruption)))
    assert r.status == "failed"
    hits = [f for f in r.findings if f.code == code]
    assert hits, r.findings
    assert needle in hits[0].message
    expected_effect = "mismatch" if code == "MM801" else "likely-garbage"
    assert hits[0].effect == expected_effect


def test_nan_weights_also_give_non_finite_output(text: Path, tmp_path: Path) -> None:
    bad = np.full((OUT, H), np.nan, np.float32)
    r = run_smoke(info(text), info(_mlp(tmp_path, explicit_tensors={"mm.2.weight": bad})))
    assert {"MM802", "MM803"} <= _codes(r)


def test_output_width_mismatch(tmp_path: Path) -> None:
    write_text_model(tmp_path / "wide.gguf", n_embd=96, n_layer=1)
    r = run_smoke(info(tmp_path / "wide.gguf"), info(_mlp(tmp_path)))
    assert "MM804" in _codes(r) and r.status == "failed"


def test_header_only_is_skipped(text: Path, tmp_path: Path) -> None:
    proj = _mlp(tmp_path, header_only=True)
    r = run_smoke(info(text), info(proj))
    assert r.status == "skipped" and "header-only" in r.reason
    assert [f.code for f in r.findings] == ["MM808"]
    write_text_model(tmp_path / "t.gguf", n_embd=OUT, header_only=True)
    r = run_smoke(info(tmp_path / "t.gguf"), info(_mlp(tmp_path)))
    assert r.status == "skipped" and "header-only" in r.reason


def test_truncated_is_skipped(text: Path, tmp_path: Path) -> None:
    proj = _mlp(tmp_path)
    data = proj.read_bytes()
    proj.write_bytes(data[: len(data) - 100])
    r = run_smoke(info(text), info(proj))
    assert r.status == "skipped" and "truncated" in r.reason


def test_unexpected_errors_become_skipped(text: Path, tmp_path: Path) -> None:
    proj = _mlp(tmp_path)
    pinfo = info(proj)
    proj.unlink()  # the header was read; the data is gone
    r = run_smoke(info(text), pinfo)
    assert r.status == "skipped" and "unexpected error" in r.reason and "Traceback" not in r.reason


LISTED = [
    "mlp", "mlp_norm", "ldp", "ldpv2", "resampler", "qwen2vl_merger", "qwen2.5vl_merger", "qwen3vl_merger",
    "gemma3", "gemma3nv", "gemma4v", "idefics3", "pixtral", "internvl", "llama4", "lfm2", "kimivl", "phi4",
    "glm4v", "cogvlm", "janus_pro", "ultravox", "voxtral", "qwen2a",
]  # fmt: skip


@pytest.mark.parametrize("ptype", LISTED)
def test_every_listed_type_runs_its_full_chain(text: Path, tmp_path: Path, ptype: str) -> None:
    proj = write_projector(tmp_path / "p.gguf", projector_type=ptype, n_embd_out=OUT)
    r = run_smoke(info(text), info(proj))
    assert r.status == "passed", (r.reason, r.findings)
    assert r.embedding["towers"][0]["full_definition"] is True
    assert r.stages and r.stages[-1]["output_shape"][1] == OUT


def test_qwen3vl_deepstack_concatenates(tmp_path: Path) -> None:
    write_text_model(tmp_path / "t.gguf", arch="qwen3vl", n_embd=OUT, n_layer=1, deepstack_layers=2)
    proj = write_projector(tmp_path / "p.gguf", projector_type="qwen3vl_merger", n_embd_out=OUT, deepstack_layers=2)
    r = run_smoke(info(tmp_path / "t.gguf"), info(proj))
    assert r.status == "passed", r.findings
    assert r.stages[-1]["output_shape"] == [N_TOKENS, 3 * OUT]
    assert r.scale_ratio is not None  # compared on the main path's columns


@pytest.mark.parametrize("ptype", ["step3vl", "minimax_m3", "deepseekocr", "hunyuanvl", "qwen3a"])
def test_other_types_run_the_final_layer(text: Path, tmp_path: Path, ptype: str) -> None:
    proj = write_projector(tmp_path / "p.gguf", projector_type=ptype, n_embd_out=OUT)
    r = run_smoke(info(text), info(proj))
    assert r.status == "passed", r.findings
    assert r.embedding["towers"][0]["full_definition"] is False
    assert len(r.stages) == 1 and r.stages[0]["output_shape"][1] == OUT


def test_a_kimivl_norm_of_the_merged_width_is_flagged(text: Path, tmp_path: Path) -> None:
    # llama.cpp normalizes each patch at the encoder width before merging; a norm sized for the
    # merged width does not fit (this was once the fixture builder's own mistake).
    proj = write_projector(
        tmp_path / "p.gguf",
        projector_type="kimivl",
        n_embd_out=OUT,
        override_shapes={"mm.input_norm.weight": (32 * 4,)},
    )
    r = run_smoke(info(text), info(proj))
    assert "MM801" in _codes(r)


@pytest.mark.parametrize("qtype", ["Q8_0", "Q4_K", "F16", "Q5_0"])
def test_quantized_text_embeddings(tmp_path: Path, qtype: str) -> None:
    write_text_model(tmp_path / "t.gguf", n_embd=256, n_layer=1, weight_type=qtype, embd_type=qtype)
    proj = write_projector(tmp_path / "p.gguf", projector_type="mlp", n_embd_out=256)
    r = run_smoke(info(tmp_path / "t.gguf"), info(proj), embd_sample=300)
    assert r.status == "passed", r.findings
    assert r.scale_ratio is not None and np.isfinite(r.scale_ratio) and r.scale_ratio > 0
    assert r.embedding["rows_sampled"] == 300


def test_quantized_projector_weights(text: Path, tmp_path: Path) -> None:
    proj = write_projector(tmp_path / "p.gguf", projector_type="mlp", width=64, n_embd_out=OUT, weight_type="Q8_0")
    r = run_smoke(info(text), info(proj))
    assert r.status == "passed", r.findings


def test_import_is_cheap() -> None:
    import subprocess
    import sys

    code = "import sys, mmcheck.smoke; print('numpy' in sys.modules, 'gguf' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
