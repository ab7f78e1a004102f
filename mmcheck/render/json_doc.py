"""``--format json``: the documents of docs/json.md, deterministic (sorted nothing, timed nothing).

Every string passes through :func:`mmcheck.errors.printable`, so a file name that is not UTF-8
becomes ``\\xNN`` escapes instead of lone surrogates (which strict JSON readers reject).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mmcheck import __version__
from mmcheck.errors import printable
from mmcheck.pair import SCHEMA_VERSION

if TYPE_CHECKING:
    from mmcheck.pair import Report
    from mmcheck.render import RenderContext


def clean(value: Any) -> Any:
    """``value`` with every string (and dict key) made printable and every non-finite float
    ``null``, recursively: the document is strict JSON (no ``NaN`` / ``Infinity``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(str(k)): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def lint_entry(report: Report) -> dict[str, Any]:
    """One file of ``lint --format json``."""
    return {
        "path": report.model_path,
        "status": report.lint_status(),
        "findings": [f.to_dict() for f in report.findings],
    }


def document(reports: Sequence[Report], context: RenderContext) -> dict[str, Any]:
    """The JSON document of ``context.command`` (before cleaning)."""
    if context.command == "pair":
        (report,) = reports
        return {**report.to_dict(timings=context.timings), "mmcheck_version": __version__}
    if context.command == "lint":
        files = [lint_entry(r) for r in reports]
        return {"schema_version": SCHEMA_VERSION, "mmcheck_version": __version__, "files": files}
    if context.command == "scan":
        return {**context.scan.to_dict(), "mmcheck_version": __version__}
    return {
        "schema_version": SCHEMA_VERSION,
        "mmcheck_version": __version__,
        "target": context.target,
        "ranked": [r.to_dict(timings=context.timings) for r in reports],
    }


def render(reports: Sequence[Report], context: RenderContext) -> str:
    """The document as indented JSON text."""
    return json.dumps(clean(document(reports, context)), indent=2, ensure_ascii=False)
