"""The ``table`` output of a store-aware ``mmcheck scan``: one block per store, one line (or a few)
per entry as the store names it — ``llava:13b``, ``org/repo@rev``, ``publisher/repo`` — then what to
use and the notes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mmcheck.header.source import FilePath
from mmcheck.render.formats import display_path, full_message
from mmcheck.render.scan_table import MARK, _reason, projector_blocks

if TYPE_CHECKING:
    from mmcheck.stores.base import Entry
    from mmcheck.stores.scanning import StoreScanResult


def render_store_scan(result: StoreScanResult, *, root: Path | None = None) -> str:
    """The scan as text: what was scanned, each entry's pairs, the choices, the notes."""
    from mmcheck.scan import Status
    from mmcheck.stores.fused import is_fused

    root = root or Path.cwd()
    lines = list(result.messages)
    if not result.files:
        lines.append("No GGUF files found.")
    lines.append("")
    infos = {f.path: f for f in result.files}
    chosen = result.chosen()
    for sc in result.stores:
        if not sc.entries:
            continue
        lines.append(f"{sc.title} {sc.root}")
        for e in sc.entries:
            lines.append(f"  {e.name}" + (f"  [{e.detail}]" if e.detail else ""))
            pairs = result.pairs_of_entry(e)
            for c in pairs:
                v = c.report.verdict.value
                why = "" if c.ok else f"  — {_reason(c.report)}"
                use = "  <- use" if chosen.get(c.model) is c and len(pairs) > 1 else ""
                pair = f"{_in_entry(result, e, c.model)} + {_in_entry(result, e, c.mmproj)}"
                lines.append(f"    {MARK[v]} {v:<15} {pair}{use}{why}")
            if not pairs:
                kinds = {infos[f.path].status for f in e.files if f.path in infos}
                fused = any(
                    f.path in infos and infos[f.path].info is not None and is_fused(infos[f.path].info.header)  # type: ignore[union-attr]
                    for f in e.files
                )
                if fused:
                    lines.append("    single-file vision model: no separate projector (see MM099 below)")
                elif Status.PROJECTOR in kinds and e.pairing == "all":
                    lines.append("    projectors: checked with each model above")
                elif Status.PROJECTOR in kinds:
                    lines.append("    projector only: no text model to check it against")
                elif Status.TEXT_MODEL in kinds:
                    lines.append("    text only: no projector")
                else:
                    lines.append("    no readable GGUF (see the notes)")
        lines.append("")
    plain_projs = [p for p in result.paths(Status.PROJECTOR) if p not in result.labels]
    lines += projector_blocks(result, plain_projs, lambda m, _p: _name(result, m, root), root)
    plain_chosen = {m: c for m, c in chosen.items() if m not in result.labels}
    if plain_chosen:
        lines.append("Use (text model -> projector):")
        for model, c in plain_chosen.items():
            lines.append(
                f"  {_name(result, model, root)} -> {_name(result, c.mmproj, root)} ({c.report.verdict.value})"
            )
        lines.append("")
    if result.notes:
        lines.append("Notes:")
        for n in result.notes:
            for fd in n.findings:
                where = _name(result, fd.file or n.model_path, root)
                text = full_message(fd) if fd.message.startswith(where) else f"{where}: {full_message(fd)}"
                lines.append(f"  {fd.rule} {fd.severity.value:<7} {text}")
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def _name(result: StoreScanResult, path: FilePath | str, root: Path) -> str:
    key = Path(path) if isinstance(path, str) else path
    return result.labels[key] if key in result.labels else display_path(key, root)


def _in_entry(result: StoreScanResult, entry: Entry, path: FilePath) -> str:
    """A file as its entry names it (``model``, ``mmproj-F16.gguf``), else with its entry's name."""
    for f in entry.files:
        if f.path == path:
            return f.role if entry.store == "ollama" and f.role else f.label
    return result.label(path)
