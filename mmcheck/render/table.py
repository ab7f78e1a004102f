"""``--format table``: what people read. Picks the layout of the command."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mmcheck.pair import Report
    from mmcheck.render import RenderContext


def render(reports: Sequence[Report], context: RenderContext) -> str:
    """The table text of ``context.command``."""
    if context.command == "pair":
        from mmcheck.render.pair_table import render_pair

        (report,) = reports
        return render_pair(report, context)
    if context.command == "lint":
        from mmcheck.render.lint_table import render_lint

        return render_lint(reports, context)
    if context.command == "suggest":
        from mmcheck.render.scan_table import render_suggestions

        return render_suggestions(context.target or "", reports)
    from mmcheck.stores.scanning import StoreScanResult

    if isinstance(context.scan, StoreScanResult):
        from mmcheck.render.store_table import render_store_scan

        return render_store_scan(context.scan)
    from mmcheck.render.scan_table import render_scan

    return render_scan(context.scan)
