"""Reporters: one module per output format, each ``render(reports, context) -> str``.

:class:`Format` is the one list of formats (the CLI's ``--format`` choices, the config file's
``format`` values); :func:`render` picks the module. Reporters return text and never write: the
CLI alone writes stdout, ``-o FILE`` and ``$GITHUB_STEP_SUMMARY``. Each module imports rich (or
anything heavy) only when it is used.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
import importlib
import os
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from mmcheck.verdict import FailOn

if TYPE_CHECKING:
    from mmcheck.pair import Report


class Format(str, Enum):
    """Output formats. ``auto`` is ``github`` under GitHub Actions, else ``table``."""

    table = "table"
    json = "json"
    sarif = "sarif"
    github = "github"
    junit = "junit"
    html = "html"
    auto = "auto"

    def resolved(self) -> "Format":
        """The concrete format (``auto`` resolved from the environment)."""
        if self is Format.auto:
            return Format.github if os.environ.get("GITHUB_ACTIONS") == "true" else Format.table
        return self


Command = Literal["pair", "lint", "scan", "suggest"]
#: the formats each command offers (``auto`` with all of them)
FORMATS_OF: dict[Command, tuple[Format, ...]] = {
    "pair": (Format.table, Format.json, Format.sarif, Format.github, Format.junit),
    "lint": (Format.table, Format.json, Format.sarif, Format.github, Format.junit),
    "scan": (Format.table, Format.json, Format.sarif, Format.github, Format.junit, Format.html),
    "suggest": (Format.table, Format.json),
}


class RenderContext(NamedTuple):
    """What a reporter needs besides the reports.

    ``scan`` is the whole scan result for ``scan`` (its matrix, notes, stores); ``target`` the
    file ``suggest`` ranked against. ``timings`` adds wall-clock numbers (off by default, so that
    machine output is the same on every run). ``root`` is the folder paths are shown relative to.
    """

    command: Command = "pair"
    fail_on: FailOn = FailOn.likely_garbage
    quiet: bool = False
    color: bool = False
    width: int = 80
    timings: bool = False
    verbose: bool = False
    root: Path | None = None
    scan: Any = None
    target: str | None = None


_MODULES = {
    Format.table: "mmcheck.render.table",
    Format.json: "mmcheck.render.json_doc",
    Format.sarif: "mmcheck.render.sarif",
    Format.github: "mmcheck.render.github",
    Format.junit: "mmcheck.render.junit",
    Format.html: "mmcheck.render.html",
}


def render(fmt: Format, reports: "Sequence[Report]", context: RenderContext) -> str:
    """The text of ``reports`` in ``fmt`` (``auto`` is resolved first)."""
    module = importlib.import_module(_MODULES[fmt.resolved()])
    text: str = module.render(reports, context)
    return text


__all__ = ["FORMATS_OF", "Command", "Format", "RenderContext", "render"]
