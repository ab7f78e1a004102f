"""SARIF 2.1.0 output, as GitHub code scanning accepts it (docs.github.com: SARIF support for code scanning).

Every rule of the registry is a ``reportingDescriptor`` (short and full description, help, default
level); every finding is a result with ``ruleId``, ``ruleIndex``, ``level``, a message, a physical
location on line 1 of the file it is about (GGUF files are binary: there is no better line) and a
stable ``partialFingerprints`` entry. The verdict of each pair is in the run's properties.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmcheck import __version__
from mmcheck.render.formats import (
    display_path,
    finding_path,
    full_message,
    level,
    pair_label,
    relative_path,
    repo_root,
    uri,
)
from mmcheck.render.json_doc import clean
from mmcheck.rules.base import Rule

if TYPE_CHECKING:
    from mmcheck.pair import Report
    from mmcheck.render import RenderContext

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "mmcheck/v1"


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    """A SARIF ``reportingDescriptor`` for ``rule`` (no empty strings: GitHub rejects them)."""
    full = f"{rule.summary} {rule.why}".strip() if rule.why else rule.summary
    help_text = f"Fix: {rule.fix}" if rule.fix else rule.summary
    markdown = f"**{rule.code} {rule.name}**\n\n{rule.summary}"
    if rule.why:
        markdown += f"\n\n*Why:* {rule.why}"
    if rule.fix:
        markdown += f"\n\n*Fix:* {rule.fix}"
    props: dict[str, Any] = {"tags": ["mmcheck", "gguf", rule.scope], "scope": rule.scope}
    if rule.effect:
        props["effect"] = rule.effect
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary or rule.name},
        "fullDescription": {"text": full or rule.name},
        "help": {"text": help_text or rule.name, "markdown": markdown},
        "defaultConfiguration": {"level": level(rule.severity)},
        "properties": props,
    }


def _location(path: str, root: Path, description: str | None = None) -> dict[str, Any]:
    loc: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": uri(path, root)},
            "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1},
        }
    }
    if relative_path(path, root) is not None:
        loc["physicalLocation"]["artifactLocation"]["uriBaseId"] = "%SRCROOT%"
    if description:
        loc["message"] = {"text": description}
    return loc


def render(reports: Sequence[Report], context: RenderContext) -> str:
    """The SARIF log of ``reports`` (one run); a scan adds its matrix to the run's properties."""
    properties = None
    if context.scan is not None:
        result = context.scan
        chosen = {str(m): str(c.mmproj) for m, c in result.chosen().items()}
        properties = {"scan": {"matrix": result.matrix(), "chosen": chosen}}
    return render_sarif(reports, properties=properties, root=context.root)


def render_sarif(reports: Sequence[Report], *, properties: Mapping[str, Any] | None = None,
                 root: Path | None = None) -> str:  # fmt: skip
    """The SARIF log (one run) for ``reports``, as indented JSON."""
    root = root or repo_root()
    from mmcheck.rules import RULES

    table = RULES
    index = {code: i for i, code in enumerate(table)}
    results: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for report in reports:
        rel_model = uri(report.model_path, root)
        rel_mmproj = uri(report.mmproj_path, root) if report.mmproj_path else ""
        for f in report.findings:
            path = finding_path(report, f)
            base = f"{f.rule}|{rel_model}|{rel_mmproj}|{uri(path, root)}"
            n = seen.get(base, 0)
            seen[base] = n + 1
            digest = hashlib.sha256(f"{base}|{n}".encode()).hexdigest()[:32]
            context = f" [{report.verdict.value}: {pair_label(report, root)}]"
            result: dict[str, Any] = {
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": {"text": full_message(f) + context},
                "locations": [_location(path, root)],
                "partialFingerprints": {FINGERPRINT_KEY: digest},
                "properties": {
                    "verdict": report.verdict.value,
                    "model": display_path(report.model_path, root),
                    "mmproj": display_path(report.mmproj_path, root) if report.mmproj_path else None,
                },
            }
            if f.rule in index:
                result["ruleIndex"] = index[f.rule]
            related = [p for p in (report.model_path, report.mmproj_path) if p and p != path]
            if related:
                result["relatedLocations"] = [
                    {**_location(p, root, "text model" if p == report.model_path else "projector"), "id": i}
                    for i, p in enumerate(related)
                ]
            results.append(result)
    run_props: dict[str, Any] = {
        "verdict": _worst(reports),
        "pairs": [
            {
                "model": display_path(r.model_path, root),
                "mmproj": display_path(r.mmproj_path, root) if r.mmproj_path else None,
                "verdict": r.verdict.value,
                "error": r.error,
            }
            for r in reports
        ],
    }
    run_props.update(properties or {})
    run = {
        "tool": {
            "driver": {
                "name": "mmcheck",
                "semanticVersion": __version__,
                "version": __version__,
                "rules": [rule_descriptor(r) for r in table.values()],
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"uri": root.as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": run_props,
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(clean(log), indent=2, ensure_ascii=False)  # names that are not UTF-8, as \xNN


def _worst(reports: Sequence[Report]) -> str | None:
    if not reports:
        return None
    return max(reports, key=lambda r: r.verdict.rank).verdict.value
