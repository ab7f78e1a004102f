"""Verdicts on real-world headers (tests/corpus): files people download, described from public sources.

Every expected verdict is justified in the pair's ``why`` from its sources (load logs, model cards,
configs), not from mmcheck's output and not from compat_db. See tests/corpus/README.md.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from mmcheck.pair import check_pair
from tests.corpus.builder import Pair, build_pair, headers, pairs

PAIRS = pairs()
MIN_HEADERS = 40


def _explain(report: object) -> str:
    lines = [f"verdict {report.verdict.value}: {report.basis}"]  # type: ignore[attr-defined]
    for f in report.findings:  # type: ignore[attr-defined]
        ev = f"{f.evidence.direction.value}/{f.evidence.strength.value}" if f.evidence else "-"
        lines.append(f"  {f.rule} {f.severity.value} [{ev}] {f.message}")
    return "\n".join(lines)


def test_corpus_is_large_and_cited() -> None:
    hs = headers()
    assert len(hs) >= MIN_HEADERS, f"the corpus has {len(hs)} headers, fewer than {MIN_HEADERS}"
    roles = Counter(h.role for h in hs.values())
    assert roles["text-model"] >= 15 and roles["projector"] >= 15, roles
    for h in hs.values():
        assert all(s["url"].startswith(("http://", "https://", "ggml-org/", "PyPI ")) for s in h.sources), h.id
    verdicts = Counter(p.expected for p in PAIRS)
    # every verdict class is represented, so that each can be got wrong
    assert set(verdicts) == {"match", "unknown", "likely-garbage", "mismatch"}, verdicts


@pytest.mark.parametrize("pair", PAIRS, ids=[p.id for p in PAIRS])
def test_corpus_pair_verdict(tmp_path: Path, pair: Pair) -> None:
    model, mmproj = build_pair(pair, tmp_path)
    report = check_pair(model, mmproj, smoke=False)
    assert report.error is None, report.error
    assert report.verdict.value == pair.expected, f"{pair.why}\n{_explain(report)}"
    fired = {f.rule for f in report.findings}
    missing = set(pair.expect_rules) - fired
    assert not missing, f"expected rules {sorted(missing)} did not fire\n{_explain(report)}"


def test_corpus_agrees_with_llama_cpp_width_rule(tmp_path: Path) -> None:
    """llama.cpp refuses exactly the pairs whose widths differ; mmcheck must say mismatch for those,
    and only for those or for other certain refusals. Prints the verdict table for the record."""
    table: Counter[tuple[str, str]] = Counter()
    for pair in PAIRS:
        model, mmproj = build_pair(pair, tmp_path / pair.id)
        report = check_pair(model, mmproj, smoke=False)
        t, p = report.model.text, report.mmproj.projector  # type: ignore[union-attr]
        widths_differ = t is not None and p is not None and t.n_embd_inp != p.output_width
        rule = "refuses (width)" if widths_differ else "loads"
        table[(rule, report.verdict.value)] += 1
        if widths_differ:
            assert report.verdict.value == "mismatch", pair.id
    print("\nllama.cpp width rule x mmcheck verdict over the corpus:")
    for (rule, verdict), n in sorted(table.items()):
        print(f"  {rule:16} {verdict:15} {n}")
