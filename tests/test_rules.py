"""Rule registry and engine behaviour; each rule's own cases are in tests/fixtures/rules/ (test_rule_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmcheck.rules import RULES, Options
from mmcheck.verdict import Verdict
from tests.rulecase import codes, run_pair

TINY = {"image_size": 32, "patch_size": 8}


def test_clean_pair_fires_no_warning_or_error(tmp_path: Path) -> None:
    report = run_pair(tmp_path)
    bad = [f for f in report.findings if f.severity.value != "info"]
    assert not bad, bad
    assert report.verdict == Verdict.UNKNOWN  # a tiny unnamed model: nothing confirms the lineage
    assert "MM302" in codes(report)


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


def test_each_rules_docstring_reads_as_with_inspect_cleandoc() -> None:
    """``split_doc`` reads a rule's docstring without ``inspect`` (kept out of a ``pair`` start-up);
    it must give every rule the summary, why and fix the ``inspect.cleandoc`` reading gave."""
    import inspect

    from mmcheck.rules import registered
    from mmcheck.rules.base import split_doc

    def with_cleandoc(doc: str) -> tuple[str, str, str]:
        paras = [p.strip() for p in inspect.cleandoc(doc).split("\n\n") if p.strip()]
        summary = paras[0].replace("\n", " ") if paras else ""
        why = " ".join(p.removeprefix("Why:").strip().replace("\n", " ") for p in paras if p.startswith("Why:"))
        fix = " ".join(p.removeprefix("Fix:").strip().replace("\n", " ") for p in paras if p.startswith("Fix:"))
        return summary, why, fix

    rules = registered()
    assert len(rules) > 60
    for code, r in rules.items():
        doc = r.check.__doc__ or ""
        assert split_doc(doc) == with_cleandoc(doc), code
        assert r.summary, code
