"""The documentation is generated from, or checked against, the code it describes."""

from __future__ import annotations

import os
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
    assert "$ mmcheck pair " in first_block
    assert "make demo" in text and "make test" in text


def test_the_readme_sample_is_what_the_demo_pair_prints(tmp_path: Path) -> None:
    """The first sample in the README is real output: `make demo`'s mismatch pair, line for line."""
    import subprocess
    import sys

    from mmcheck.testing.demo import write_demo

    write_demo(tmp_path)
    block = (ROOT / "README.md").read_text(encoding="utf-8").split("```")[1]
    lines = block.splitlines()[1:]  # drop the "console" info string
    command = lines[0].removeprefix("$ ").split()
    shown = [ln for ln in lines[1:] if ln != "..."]
    env = {**os.environ, "COLUMNS": "80"}
    out = subprocess.run(
        [sys.executable, "-m", "mmcheck", *command[1:]], capture_output=True, text=True, cwd=tmp_path, env=env
    ).stdout.splitlines()
    assert shown == out[: len(shown)], (block, out)


def test_ci_runs_make_test_and_nothing_else() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith("set ")
    ]
    assert lines == ["make test"]


# Phrases that point at notes outside the repository instead of at a primary source.
_NOT_SOURCES = ("domain.md", "style.md", "benchmarks.md §", "team brief", "the brief", "/work/", "wiki page not read")


def _offending(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace").lower()
    return [p for p in _NOT_SOURCES if p in text]


def test_database_entries_cite_primary_sources_only() -> None:
    bad = {
        str(p.relative_to(ROOT)): hits for p in sorted((ROOT / "compat_db").rglob("*.yaml")) if (hits := _offending(p))
    }
    assert not bad, bad


def test_user_facing_text_never_mentions_internal_notes() -> None:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "mmcheck").rglob("*.py"))]
    bad = {str(p.relative_to(ROOT)): hits for p in files if (hits := _offending(p))}
    assert not bad, bad
