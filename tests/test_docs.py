"""The documentation is generated from, or checked against, the code it describes."""

from __future__ import annotations

from pathlib import Path

from mmcheck.docsgen import rules_markdown
from mmcheck.rules import RULES

ROOT = Path(__file__).resolve().parents[1]


def test_rules_md_is_generated_from_the_registry() -> None:
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == rules_markdown(), "run `make docs`"


def test_every_rule_code_appears_in_the_reference() -> None:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for code in RULES:
        assert f"### {code}" in text


def test_readme_starts_with_pair_and_shows_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = text.split("```")[1]
    assert "mmcheck pair model.gguf mmproj.gguf" in first_block
    assert "make demo" in text and "make test" in text


def test_ci_runs_make_test_and_nothing_else() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith("set ")
    ]
    assert lines == ["make test"]
