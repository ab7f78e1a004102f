"""The human-readable table of ``mmcheck inspect``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mmcheck.errors import printable
from mmcheck.inspection import FileInfo, info_to_dict, quantization_summary
from mmcheck.render.lint_table import finding_lines

if TYPE_CHECKING:
    from mmcheck.lint import InspectResult


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, tuple):
        if len(set(v)) == 1:
            return f"{v[0]} (×{len(v)} layers)"
        return f"per layer {min(v)}–{max(v)}"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def info_rows(info: FileInfo) -> list[tuple[str, str]]:
    """(label, value) rows describing one file."""
    h = info.header
    rows: list[tuple[str, str]] = [
        ("kind", info.modality_label),
        ("architecture", _fmt(h.architecture)),
    ]
    t = info.text
    if t is not None:
        rows += [
            ("name", _fmt(t.name)),
            ("n_embd", _fmt(t.n_embd) + (f" (n_embd_inp {t.n_embd_inp:,})" if t.n_embd_inp != t.n_embd else "")),
            ("context length", _fmt(t.context_length)),
            ("layers", _fmt(t.n_layer)),
            ("heads / kv heads", f"{_fmt(t.n_head)} / {_fmt(t.n_head_kv)}"),
            ("feed-forward", _fmt(t.n_ff)),
            ("vocab", _fmt(t.vocab_size) + (f" (token_embd rows {t.embd_rows:,})" if t.vocab_disagrees else "")),
            ("tokenizer", f"{_fmt(t.tokenizer_model)} / pre {_fmt(t.tokenizer_pre)}"),
            ("rope", t.rope_type),
        ]
        if t.vocab is not None:
            rows.append(("tokenizer fingerprint", t.vocab.fingerprint()))
    p = info.projector
    if p is not None:
        rows.append(("name", _fmt(p.name)))
        if p.legacy_untyped:
            rows.append(("projector type", f"none (legacy file; tensors suggest {p.inferred_type or '?'})"))
        for m, tower in p.towers.items():
            label = tower.type_id or "—"
            if tower.declared_type and tower.declared_type != tower.type_id:
                label += f" (declared {tower.declared_type})"
            if not tower.known and tower.type_id:
                label += " — unknown to llama.cpp"
            rows.append((f"{m} projector", label))
            w = tower.width
            rows.append((f"{m} output width", f"{w.value:,} from {w.source}" if w.value else f"? ({w.problem})"))
            if tower.tokens is not None and tower.tokens.typical is not None:
                tok = f"{tower.tokens.typical:,} per {tower.tokens.per}"
                if tower.tokens.maximum is not None:
                    tok += f" (range {_fmt(tower.tokens.minimum)}–{tower.tokens.maximum:,})"
                rows.append(("tokens", tok))
            if tower.markers:
                rows.append(("marker tokens", ", ".join(f"{text!r} ({kind})" for text, kind in tower.markers)))
            if tower.baked_embeddings:
                rows.append(("baked embeddings", ", ".join(tower.baked_embeddings)))
            if tower.text_architectures:
                rows.append(("text architectures", ", ".join(tower.text_architectures)))
            missing = [*tower.missing_keys, *tower.missing_tensors]
            if missing:
                rows.append(("missing (required)", ", ".join(missing)))
        enc = p.encoder
        if enc is not None:
            rows += [
                ("image / patch size", f"{_fmt(enc.image_size)} / {_fmt(enc.patch_size)}"),
                ("encoder width / layers / heads", f"{_fmt(enc.width)} / {_fmt(enc.n_layer)} / {_fmt(enc.n_head)}"),
                ("declared projection_dim", _fmt(enc.projection_dim)),
            ]
        a = p.audio_encoder
        if a is not None:
            rows.append(("audio encoder width / layers", f"{_fmt(a.width)} / {_fmt(a.n_layer)}"))
    quant = quantization_summary(h)
    rows += [
        ("tensors", f"{len(h.tensors):,}"),
        ("quantization", ", ".join(f"{k}×{v}" for k, v in quant.items()) or "—"),
        ("data", h.describe_data_status()),
        ("GGUF", f"v{h.version}, {h.byte_order}-endian, {len(h.metadata)} keys"),
    ]
    if h.split is not None:
        rows.append(("split", f"shard {h.split.shard + 1} of {h.split.shards}"))
    for warning in h.warnings:
        rows.append(("warning", warning))
    return rows


def _blocks(result: InspectResult) -> list[tuple[str, list[tuple[str, str]], list[str]]]:
    """(title, rows, finding lines) per file."""
    out = []
    for entry in result.files:
        r = entry.report
        rows = info_rows(entry.info) if entry.info is not None else [("kind", "Git LFS pointer (not a GGUF file)")]
        rows.append(("status", r.lint_status()))
        out.append((printable(r.model_path), [(k, printable(v)) for k, v in rows], finding_lines(r.findings)))
    return out


def render_inspect(result: InspectResult, *, color: bool = False) -> str:
    """One table per file: its facts, its status (ok, warning, error) and its findings.

    ``color`` lays the tables out with rich (for a terminal); otherwise plain aligned text, which
    also spares scripts and launchers the ~60 ms that importing rich costs.
    """
    blocks = _blocks(result)
    if not color:
        out: list[str] = []
        for title, rows, findings in blocks:
            width = max(len(label) for label, _ in rows)
            out.append(title)
            out += [f"{label.ljust(width)}  {value}" for label, value in rows]
            if findings:
                out.append("findings")
                out += findings
            out.append("")
        return "\n".join(out)
    from rich.console import Console
    from rich.table import Table

    console = Console(force_terminal=True, width=_terminal_width())
    with console.capture() as captured:
        for title, rows, findings in blocks:
            table = Table(title=title, title_justify="left", show_header=False, box=None, pad_edge=False)
            table.add_column(style="bold")
            table.add_column()
            for label, value in rows:
                table.add_row(label, value, style="red" if label == "status" and value == "error" else None)
            console.print(table, markup=False, highlight=False)
            for line in findings:
                console.print(line, markup=False, highlight=False)
            console.print()
    return captured.get()


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((80, 24)).columns


def inspect_json(result: InspectResult) -> str:
    """``inspect --format json``: each file's facts, status and findings (docs/json.md)."""
    import json

    from mmcheck import __version__
    from mmcheck.pair import SCHEMA_VERSION
    from mmcheck.render.json_doc import clean

    files = []
    for entry in result.files:
        r = entry.report
        doc: dict[str, Any] = (
            info_to_dict(entry.info) if entry.info is not None else {"path": r.model_path, "kind": "lfs-pointer"}
        )
        doc["status"] = r.lint_status()
        doc["findings"] = [f.to_dict() for f in r.findings]
        files.append(doc)
    errors = [{"path": p, "message": m} for p, m in result.errors]
    document = {"schema_version": SCHEMA_VERSION, "mmcheck_version": __version__, "files": files, "errors": errors}
    return json.dumps(clean(document), indent=2, ensure_ascii=False)
