"""``mmcheck rules``: the registry as a list, as full descriptions, or as JSON."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mmcheck.rules import Rule


def rule_dict(r: Rule) -> dict[str, Any]:
    """The JSON form of one rule (also the SARIF ``rules[]`` source of truth for its texts)."""
    return {
        "code": r.code,
        "name": r.name,
        "severity": r.severity.value,
        "effect": r.effect,
        "evidence": None
        if r.evidence is None
        else {"direction": r.evidence.direction.value, "strength": r.evidence.strength.value},
        "scope": r.scope,
        "summary": r.summary,
        "why": r.why,
        "fix": r.fix,
    }


def _label(r: Rule) -> str:
    effect = f" -> {r.effect}" if r.effect else ""
    return f"[{r.severity.value}{effect}]"


def render_rules(rules: Sequence[Rule], *, full: bool, as_json: bool, width: int = 80) -> str:
    """One line per rule; with ``full``, each rule's summary, why and fix wrapped to ``width``."""
    if as_json:
        return json.dumps([rule_dict(r) for r in rules], indent=2)
    if not full:
        lines = []
        for r in rules:
            lines.append(f"{r.code}  {r.name}  {_label(r)}")
            lines += textwrap.wrap(r.summary, width=width, initial_indent="    ", subsequent_indent="    ")
        return "\n".join(lines)
    blocks = []
    for r in rules:
        lines = [f"{r.code} {r.name} {_label(r)}", f"  scope: {r.scope}"]
        for title, text in (("", r.summary), ("why: ", r.why), ("fix: ", r.fix)):
            if text:
                lines += textwrap.wrap(title + text, width=width, initial_indent="  ", subsequent_indent="  ")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
