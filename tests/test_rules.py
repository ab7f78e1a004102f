"""Each rule fires on a generated pair built to trigger it, and stays silent on a clean pair."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mmcheck.rules import RULES, Options
from mmcheck.verdict import Verdict
from tests.rulecase import codes, run_pair

TINY = {"image_size": 32, "patch_size": 8}

# (rule, model kwargs, projector kwargs, check_pair kwargs, expected verdict)
FIRING: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], Verdict | None]] = [
    ("MM101", {"n_embd": 65}, {}, {}, Verdict.MISMATCH),
    ("MM102", {}, {"drop_tensors": ["mm.2.weight"]}, {}, Verdict.MISMATCH),
    ("MM103", {}, {"projector_type": "qwen2.5o", "override_shapes": {"mm.a.fc.weight": (32, 63), "mm.a.fc.bias": (63,)}}, {}, Verdict.MISMATCH),
    ("MM201", {"arch": "gemma3"}, {"projector_type": "gemma3", "merge": 2}, {}, None),
    ("MM202", {"arch": "gemma3", "tokens": ["<unk>", "<s>", "</s>", "<start_of_image>", "<end_of_image>", *[f"t{i}" for i in range(60)]]}, {"projector_type": "gemma3", "merge": 2}, {}, None),
    ("MM203", {"context_length": 8}, {}, {}, None),
    ("MM204", {"arch": "gemma3", "special_tokens": ["<start_of_image>", "<end_of_image>"]}, {"projector_type": "gemma3", "image_size": 896, "patch_size": 14, "merge": 2}, {}, None),
    ("MM205", {"special_tokens": []}, {"projector_type": "idefics3"}, {}, Verdict.MISMATCH),
    ("MM304", {"arch": "qwen2"}, {"projector_type": "qwen2vl_merger"}, {}, Verdict.UNKNOWN),  # weak alone
    ("MM305", {"arch": "qwen2"}, {}, {}, Verdict.UNKNOWN),  # weak alone: third parties build projectors
    ("MM401", {}, {"projector_type": "mlp_v9"}, {}, Verdict.MISMATCH),
    ("MM402", {}, {"projector_type": None}, {}, Verdict.MISMATCH),
    ("MM403", {"arch": "qwen3vl", "deepstack_layers": 0}, {"projector_type": "qwen3vl_merger"}, {}, None),
    ("MM404", {}, {"legacy_flags": {"clip.has_llava_projector": True}}, {}, None),
    ("MM501", {}, {"drop_keys": ["clip.vision.patch_size"]}, {}, Verdict.MISMATCH),
    ("MM502", {}, {"projector_type": "pixtral", "drop_tensors": ["v.token_embd.img_break"]}, {}, Verdict.MISMATCH),
    ("MM503", {}, {"override_shapes": {"mm.2.weight": (48, 64)}}, {}, Verdict.MISMATCH),
    ("MM504", {}, {"override_shapes": {"mm.2.bias": (63,)}}, {}, Verdict.MISMATCH),
    ("MM505", {}, {"projector_type": "idefics3", "merge": 0}, {}, Verdict.MISMATCH),
    ("MM506", {}, {"override_shapes": {"v.position_embd.weight": (32, 10)}}, {}, Verdict.MISMATCH),
    ("MM507", {}, {"extra_keys": {"clip.vision.image_size": (32, __import__("gguf").GGUFValueType.INT32)}}, {}, Verdict.MISMATCH),
    ("MM508", {}, {"extra_keys": {"clip.use_silu": True}}, {}, Verdict.MISMATCH),
    ("MM509", {}, {"projection_dim": 4096}, {}, None),
    ("MM510", {"arch": "qwen2vl", "rope_sections": [8, 12, 12, 0]}, {"projector_type": "qwen2.5vl_merger", "projection_dim": 4096}, {}, Verdict.MISMATCH),
    ("MM601", {}, {"weight_type": "Q4_0", "width": 64, "hidden": 64}, {}, None),
    ("MM602", {}, {"weight_type": "BF16"}, {}, None),
    ("MM701", {"embd_rows": 600}, {}, {}, None),
    ("MM702", {"drop_keys": ["llama.block_count"]}, {}, {}, Verdict.MISMATCH),
    ("MM009", {"endianness": "big"}, {}, {}, Verdict.MISMATCH),
]  # fmt: skip


@pytest.mark.parametrize(("code", "model", "proj", "kw", "verdict"), FIRING, ids=[c[0] for c in FIRING])
def test_rule_fires(tmp_path: Path, code: str, model, proj, kw, verdict) -> None:  # type: ignore[no-untyped-def]
    report = run_pair(tmp_path, model, proj, **kw)
    fired = codes(report)
    assert code in fired, [(f.rule, f.message) for f in report.findings]
    finding = next(f for f in report.findings if f.rule == code)
    assert finding.message and finding.rule in RULES
    if verdict is not None:
        assert report.verdict == verdict, [(f.rule, f.message) for f in report.findings]


def test_clean_pair_fires_no_warning_or_error(tmp_path: Path) -> None:
    report = run_pair(tmp_path)
    bad = [f for f in report.findings if f.severity.value != "info"]
    assert not bad, bad
    assert report.verdict == Verdict.UNKNOWN  # a tiny unnamed model: nothing confirms the lineage
    assert "MM302" in codes(report)


@pytest.mark.parametrize("code", [c[0] for c in FIRING])
def test_rule_silent_on_clean_pair(tmp_path: Path, code: str) -> None:
    assert code not in codes(run_pair(tmp_path))


def test_every_registered_rule_is_documented() -> None:
    for r in RULES.values():
        assert r.summary and r.why and r.fix, r.code
        assert r.code.startswith("MM") and len(r.code) == 5
        assert r.name == r.name.lower() and " " not in r.name
        assert (r.effect is None) == (r.severity.value != "error") or r.effect == "match"


def test_either_order_and_strict_roles(tmp_path: Path) -> None:
    from mmcheck.pair import check_pair
    from mmcheck.testing import write_projector, write_text_model

    m = write_text_model(tmp_path / "m.gguf")
    p = write_projector(tmp_path / "p.gguf")
    lenient = check_pair(p, m, strict_roles=False, smoke=False)
    assert "MM001" in codes(lenient) and lenient.verdict != Verdict.MISMATCH
    strict = check_pair(p, m, strict_roles=True, smoke=False)
    assert "MM002" in codes(strict) and strict.verdict == Verdict.MISMATCH


def test_role_errors(tmp_path: Path) -> None:
    from mmcheck.pair import check_pair
    from mmcheck.testing import write_lora_adapter, write_projector, write_text_model

    m = write_text_model(tmp_path / "m.gguf")
    m2 = write_text_model(tmp_path / "m2.gguf")
    p = write_projector(tmp_path / "p.gguf")
    p2 = write_projector(tmp_path / "p2.gguf")
    lora = write_lora_adapter(tmp_path / "l.gguf")
    assert "MM003" in codes(check_pair(m, m2, smoke=False))
    assert "MM004" in codes(check_pair(p, p2, smoke=False))
    r = check_pair(m, lora, smoke=False)
    assert "MM005" in codes(r) and r.verdict == Verdict.MISMATCH


def test_truncated_and_header_only(tmp_path: Path) -> None:
    from mmcheck.pair import check_pair
    from mmcheck.testing import write_projector, write_text_model

    m = write_text_model(tmp_path / "m.gguf")
    p = write_projector(tmp_path / "p.gguf")
    data = p.read_bytes()
    (tmp_path / "cut.gguf").write_bytes(data[: len(data) - 100])
    r = check_pair(m, tmp_path / "cut.gguf", smoke=False)
    assert "MM006" in codes(r) and r.verdict == Verdict.MISMATCH
    ho = write_projector(tmp_path / "ho.gguf", header_only=True)
    assert "MM007" in codes(check_pair(m, ho, smoke=False))


def test_select_and_ignore(tmp_path: Path) -> None:
    r = run_pair(tmp_path, {"n_embd": 65}, {}, ignore=["MM101"])
    assert "MM101" not in codes(r)
    r = run_pair(tmp_path, {"n_embd": 65}, {}, select=["MM1"])
    assert codes(r) == {"MM101"}
    from mmcheck.errors import ConfigError

    with pytest.raises(ConfigError):
        run_pair(tmp_path, {}, {}, select=["MM999"])


def test_ctx_size_option(tmp_path: Path) -> None:
    assert "MM203" in codes(run_pair(tmp_path, {}, {}, options=Options(ctx_size=4)))
    assert "MM203" not in codes(run_pair(tmp_path, {}, {}, options=Options(ctx_size=4096)))
