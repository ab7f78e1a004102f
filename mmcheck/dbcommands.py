"""``mmcheck db ...``: browse, validate and query the compatibility database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from mmcheck.errors import MMCheckError

db_app = typer.Typer(
    help="Browse, validate and query the compatibility database (compat_db/).",
    no_args_is_help=True,
    add_completion=False,
)

DbDir = Annotated[
    Path | None,
    typer.Option(
        "--db", help="Use the database in DIR (env MMCHECK_DB).", metavar="DIR", envvar="MMCHECK_DB", show_envvar=False
    ),
]
Fmt = Annotated[str, typer.Option("--format", "-f", help="table or json.")]


def _plain(obj: Any) -> Any:
    from mmcheck.db.model import as_plain

    return as_plain(obj)


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json"):
        raise typer.BadParameter(f"{fmt!r} is not one of 'table', 'json'", param_hint="'--format'")


@db_app.command("list")
def list_entries(fmt: Fmt = "table", db: DbDir = None) -> None:
    """List projector types, families, lineages and runtimes, with their sources."""
    from mmcheck.db import load_db

    _check_format(fmt)
    d = load_db(db)
    if fmt == "json":
        doc = {
            "revision": d.revision,
            "projector_types": [
                {"id": t.id, "modality": t.modality, "source": t.source, "confidence": t.confidence}
                for t in d.projector_types.values()
            ],
            "families": [
                {
                    "id": f.id,
                    "name": f.name,
                    "projector_types": list(f.projector_types),
                    "source": f.source,
                    "confidence": f.confidence,
                    "variants": [v.id for v in f.variants],
                }
                for f in d.families.values()
            ],
            "lineages": [
                {"id": lin.id, "name": lin.name, "source": lin.source, "confidence": lin.confidence}
                for lin in d.lineages.values()
            ],
            "runtimes": [{"id": r.id, "name": r.name, "source": r.source} for r in d.runtimes.values()],
        }
        typer.echo(json.dumps(doc, indent=2))
        return
    typer.echo(f"Projector types ({len(d.projector_types)}, llama.cpp {d.revision}):")
    for t in d.projector_types.values():
        w = t.width
        width = f"{w.tensor} ne[{w.dim}]" if w.tensor else w.kind
        typer.echo(f"  {t.id:18} {t.modality:6} width {width:40} [{t.confidence}] {t.source}")
    typer.echo(f"\nFamilies ({len(d.families)}):")
    for f in d.families.values():
        sizes = ", ".join(f"{v.size_label or v.id}={v.output_width or '?'}" for v in f.variants)
        typer.echo(f"  {f.id:28} {f.name} — {', '.join(f.projector_types)}; {sizes} [{f.confidence}]")
        typer.echo(f"  {'':28} source: {f.source}")
    typer.echo(f"\nLineages ({len(d.lineages)}):")
    for lin in d.lineages.values():
        typer.echo(
            f"  {lin.id:24} {lin.name} — {lin.architecture}, n_embd {lin.n_embd or '?'}, "
            f"vocab {lin.vocab_size or '?'} [{lin.confidence}]"
        )
    typer.echo(f"\nRuntimes ({len(d.runtimes)}): " + ", ".join(r.name for r in d.runtimes.values()))


@db_app.command("show")
def show(entry_id: Annotated[str, typer.Argument(metavar="ID")], db: DbDir = None) -> None:
    """Show one entry (projector type, family, variant, lineage or runtime) as JSON."""
    from mmcheck.db import load_db

    d = load_db(db)
    for kind, table in (
        ("projector_type", d.projector_types),
        ("family", d.families),
        ("lineage", d.lineages),
        ("runtime", d.runtimes),
    ):
        if entry_id in table:
            typer.echo(json.dumps({"kind": kind, **_plain(table[entry_id])}, indent=2))
            return
    for f in d.families.values():
        for v in f.variants:
            if v.id == entry_id:
                typer.echo(json.dumps({"kind": "variant", "family": f.id, **_plain(v)}, indent=2))
                return
    raise MMCheckError(f"no database entry {entry_id!r} (see `mmcheck db list`)")


@db_app.command("validate")
def validate(
    directory: Annotated[
        Path | None, typer.Argument(metavar="[DIR]", help="The database folder (same as --db).", show_default=False)
    ] = None,
    db: DbDir = None,
) -> None:
    """Validate a database folder: DIR, else --db / MMCHECK_DB, else the built-in one.

    Prints one FILE:LINE: problem per line on stdout, then the count. Exit 0 valid, 1 problems
    found, 2 the folder cannot be read.
    """
    from mmcheck.db import validate_db
    from mmcheck.db.loader import check_readable

    folder = directory or db
    check_readable(folder)
    errors = validate_db(folder)
    for e in errors:
        typer.echo(str(e))
    if errors:
        typer.echo(f"{len(errors)} error(s)")
        raise typer.Exit(1)
    typer.echo("database is valid")


@db_app.command("match")
def match(
    file: Annotated[Path, typer.Argument(metavar="FILE")],
    fmt: Fmt = "table",
    db: DbDir = None,
) -> None:
    """Which families (projector) or lineages (text model) FILE matches, ranked, with the evidence."""
    from mmcheck.db import load_db
    from mmcheck.identify import match_families, match_lineages
    from mmcheck.inspection import inspect_file

    _check_format(fmt)
    from mmcheck.errors import GGUFError

    d = load_db(db)
    try:
        info = inspect_file(file, d)
    except GGUFError as e:
        raise MMCheckError(f"{file}: {e}") from None
    rows: list[dict[str, Any]] = []
    if info.projector is not None:
        for fm in match_families(info.projector, d):
            rows.append(
                {
                    "family": fm.family.id,
                    "name": fm.family.name,
                    "variants": [v.id for v in fm.variants],
                    "width_fits": fm.width_fits,
                    "evidence": list(fm.evidence),
                }
            )
    elif info.text is not None:
        for lm in match_lineages(info.text, d):
            evidence = [*lm.identified_by, *lm.finetune_of, *lm.supported_by]
            if lm.contradicted and not evidence:
                continue
            fams = sorted({f.id for f in d.families.values() for v in f.variants if v.lineage == lm.lineage.id})
            rows.append(
                {
                    "lineage": lm.lineage.id,
                    "name": lm.lineage.name,
                    "identified": lm.identified,
                    "evidence": evidence,
                    "consistent": list(lm.consistent),
                    "converter_dependent": list(lm.weak_differences),
                    "contradictions": list(lm.contradictions),
                    "families": fams,
                }
            )
    if fmt == "json":
        typer.echo(json.dumps({"path": str(file), "kind": info.kind.value, "matches": rows}, indent=2))
        return
    if not rows:
        typer.echo(f"{file}: no family or lineage in the database matches")
        return
    typer.echo(f"{file} ({info.modality_label}):")
    for i, r in enumerate(rows, 1):
        if "family" in r:
            typer.echo(
                f"  {i}. {r['name']} ({r['family']}) — variants: {', '.join(r['variants']) or 'none of this width'}"
            )
            typer.echo(f"     evidence: {'; '.join(r['evidence'])}")
        else:
            tag = "identified" if r["identified"] else "consistent"
            typer.echo(f"  {i}. {r['name']} ({r['lineage']}) — {tag}")
            for key in ("evidence", "consistent", "converter_dependent", "contradictions"):
                if r[key]:
                    typer.echo(f"     {key}: {'; '.join(r[key])}")
            if r["families"]:
                typer.echo(f"     projector families: {', '.join(r['families'])}")
