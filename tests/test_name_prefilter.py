"""identify.required_prefix: names_match skips compiling a name pattern whose first letters appear in
no name. The skip must never change a result: a pattern it skips could not have matched."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mmcheck.db import load_db
from mmcheck.identify import names_match, required_prefix


def unfiltered(patterns: list[str], names: list[str]) -> str | None:
    for p in patterns:
        rx = re.compile(p if p.startswith("(?i)") else "(?i)" + p)
        for n in names:
            if rx.search(n):
                return n
    return None


def db_patterns() -> list[str]:
    db = load_db()
    out = {p for lin in db.lineages.values() for p in lin.name_patterns}
    out |= {p for f in db.families.values() for v in f.variants for p in v.text_name_patterns}
    return sorted(out)


def test_every_database_pattern_gives_the_same_result_with_the_prefilter() -> None:
    db = load_db()
    names = [lin.name for lin in db.lineages.values()] + list(db.lineages)
    names += [v.id for f in db.families.values() for v in f.variants] + [f.name for f in db.families.values()]
    names += [n.upper() for n in names] + [n.replace("-", " ") for n in names]
    patterns = db_patterns()
    assert len(patterns) > 100
    assert sum(required_prefix(p) is not None for p in patterns) > 0.8 * len(patterns)  # the filter does work
    for p in patterns:
        for n in names:
            assert names_match([p], [n]) == unfiltered([p], [n]), (p, n)


def test_conservative_cases() -> None:
    assert required_prefix("(?i)gemma[- _]?3(?!n)[- _.]*12b") == "gemma"
    assert required_prefix("(?i)(?<![a-z])yi[-_ .]*34b") == "yi"
    assert required_prefix("(?i)llava?-x") == "llav"  # the optional last letter is not required
    assert required_prefix("(?i)foo|bar") is None  # alternation at the top
    assert required_prefix(r"(?i)abc\\|xyz") is None  # an escaped backslash, then alternation
    assert required_prefix("(?i)abc[(]x|yz") is None  # a parenthesis in a class opens no group
    assert required_prefix("(?i)(a|b)cd") is None
    assert required_prefix("(?i)ab{0,1}c") is None
    # case-insensitive matching folds some non-ASCII letters onto ASCII ones: those names are not filtered
    assert names_match(["(?i)kimi"], ["\u212aimi"]) == "\u212aimi"  # KELVIN SIGN
    assert names_match(["(?i)phi"], ["ph\u0131-3"]) == unfiltered(["(?i)phi"], ["ph\u0131-3"])


FRAGMENTS = [
    "a",
    "b",
    "ab",
    "ba",
    "c",
    "[ab]",
    "[-_ ]?",
    ".*",
    "(a|b)",
    "(?!c)",
    "(?<![a-z])",
    "a?",
    "b*",
    "\\.",
    "|",
    "x{2}",
    "[(]",
    "[|]",
]


@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6), st.text(alphabet="abcx._- ABC", max_size=12))
def test_a_pattern_that_matches_contains_its_prefix(parts: list[str], name: str) -> None:
    pattern = "(?i)" + "".join(parts)
    try:
        rx = re.compile(pattern)
    except re.error:
        return
    prefix = required_prefix(pattern)
    if prefix is not None and rx.search(name):
        assert prefix in name.lower(), (pattern, name, prefix)
