"""The rule registry: every rule, by code. Importing this package registers them all.

Codes are grouped by hundreds: MM0xx files and roles, MM1xx width, MM2xx image tokens, MM3xx
lineage, MM4xx runtime, MM5xx projector structure, MM6xx precision, MM7xx text model, MM8xx smoke
test. Codes are stable; a renamed rule keeps its code.
"""

from __future__ import annotations

from mmcheck.errors import ConfigError
from mmcheck.rules import (  # noqa: F401
    lineage,
    quant,
    roles,
    runtime,
    scanning,
    smoke,
    stores,
    structure,
    tensors,
    text,
    tokens,
    width,
)
from mmcheck.rules.base import Context, Finding, Hit, Options, Rule, Severity, registered

RULES: dict[str, Rule] = dict(sorted(registered().items()))


def resolve(select: list[str] | None = None, ignore: list[str] | None = None) -> list[Rule]:
    """Rules enabled by ``select``/``ignore`` (codes, code prefixes like ``MM5``, or names)."""

    def matches(rule: Rule, pattern: str) -> bool:
        return rule.code.startswith(pattern.upper()) or rule.name == pattern

    for pattern in (select or []) + (ignore or []):
        if not any(matches(r, pattern) for r in RULES.values()):
            raise ConfigError(f"unknown rule code or name {pattern!r} (see `mmcheck rules`)")
    chosen = [r for r in RULES.values() if not select or any(matches(r, p) for p in select)]
    return [r for r in chosen if not any(matches(r, p) for p in ignore or [])]


def select_rules(patterns: list[str]) -> list[Rule]:
    """The rules ``patterns`` name (codes, prefixes or names); every rule when there is none.
    ``ConfigError`` for a pattern that names no rule."""
    return resolve(patterns or None)


__all__ = ["RULES", "Context", "Finding", "Hit", "Options", "Rule", "Severity", "resolve", "select_rules"]
