"""The command line: parse arguments, call the library, render, return an exit code.

Exit codes (stable, like ruff/mypy): 0 ok, 1 findings at or above ``--fail-on``, 2 usage errors,
unreadable or malformed input, bad configuration and internal errors. ``main()`` wraps the typer
app so that no exception ever escapes as a traceback or as typer's default exit code 1.
"""

from __future__ import annotations

import contextlib
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from mmcheck.errors import ConfigError, GGUFError, MMCheckError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

app = typer.Typer(
    name="mmcheck",
    help=(
        "Check that a multimodal projector (mmproj GGUF) fits a text model GGUF before you load them.\n\n"
        "Start with:  mmcheck pair model.gguf mmproj.gguf\n\n"
        "Exit codes: 0 ok, 1 findings at or above --fail-on, 2 usage or input errors."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root() -> None:
    """mmcheck: multimodal projector / text-model compatibility checker."""


def _register_db() -> None:
    from mmcheck.dbcommands import db_app

    app.add_typer(db_app, name="db")


_register_db()


class InspectFormat(str, Enum):
    """Output formats of ``inspect``."""

    table = "table"
    json = "json"


DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Use the compatibility database in DIR instead of the built-in one (env: MMCHECK_DB).",
        metavar="DIR",
        envvar="MMCHECK_DB",
    ),
]


def load_database(db: Path | None) -> Any:
    """Load the compatibility database (the built-in one, or ``db``)."""
    from mmcheck.db import load_db

    return load_db(db)


# ------------------------------------------------------------------------------------------------
# Remote paths (issue 13): hf://ORG/REPO[@REV]/PATH and http(s):// URLs wherever a file is accepted
# ------------------------------------------------------------------------------------------------

TimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--timeout", min=0.001, metavar="SECONDS",
        help="Remote files: seconds to wait for a connection or a read (default 10; config `timeout`).",
    ),
]  # fmt: skip
NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Remote files: do not use the header cache.")]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Remote files: print requests made and bytes fetched per file.")
]


def file_arg(raw: str) -> Any:
    """A FILE argument: a ``Path``, or a ``RemotePath`` for ``hf://``/``http(s)://`` (typer's ``Path``
    would fold ``hf://`` into ``hf:/``)."""
    from mmcheck.header.source import as_file_path

    return as_file_path(raw)


def _remote_setup(cfg: Any, timeout: float | None, no_cache: bool) -> None:
    """Apply --timeout / --no-cache (and the config's ``timeout``) to remote reads."""
    t = timeout if timeout is not None else getattr(cfg, "timeout", None)
    if t is None and not no_cache:
        return
    from mmcheck.remote import configure

    configure(**({"timeout": float(t)} if t is not None else {}), **({"cache": False} if no_cache else {}))


def _transfer_report(verbose: bool) -> None:
    """With -v: one line per remote file on stderr (requests made, bytes fetched, cache)."""
    remote = sys.modules.get("mmcheck.remote")
    if not verbose or remote is None:
        return
    ts = remote.transfers()
    for t in ts:
        typer.echo(f"mmcheck: {t.describe()}", err=True)
    if ts:
        total_r, total_b = sum(t.requests for t in ts), sum(t.bytes for t in ts)
        typer.echo(f"mmcheck: remote total: {total_r} request(s), {total_b} bytes", err=True)


def error_line(message: str, path: str | os.PathLike[str] | None = None) -> str:
    """``mmcheck: error: FILE: message`` — the one line every error becomes."""
    return f"mmcheck: error: {path}: {message}" if path is not None else f"mmcheck: error: {message}"


@app.command()
def inspect(
    files: Annotated[
        list[str], typer.Argument(help="GGUF files to describe (or hf:// / https:// URLs).", metavar="FILE...")
    ],
    fmt: Annotated[InspectFormat, typer.Option("--format", "-f", help="table (for people) or json.")] = (
        InspectFormat.table
    ),
    db: DbOption = None,
    timeout: TimeoutOption = None,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Say what each GGUF file is and show its key facts.

    A text model shows its architecture, embedding width, context length, layers, heads, vocabulary
    and tokenizer; a projector shows its projector type(s), computed output width, encoder and
    tokens per image. Every file shows its tensor count, quantization types and data status
    (complete, header-only or truncated). Unreadable files are reported on stderr and make the
    exit code 2; the other files are still shown.
    """
    from mmcheck.inspection import info_to_dict, inspect_file

    loaded: list[Any] = []

    def database() -> Any:  # loaded on the first projector only: text models do not need it
        if not loaded:
            loaded.append(load_database(db))
        return loaded[0]

    _remote_setup(None, timeout, no_cache)
    infos = []
    failed = False
    for f in files:
        try:
            infos.append(inspect_file(file_arg(f), database))
        except GGUFError as e:
            typer.echo(error_line(str(e), f), err=True)
            failed = True
    if fmt == InspectFormat.json:
        import json

        typer.echo(json.dumps({"schema_version": 1, "files": [info_to_dict(i) for i in infos]}, indent=2))
    else:
        from mmcheck.render.inspect_table import render_inspect

        render_inspect(infos)
    _transfer_report(verbose)
    if failed:
        raise typer.Exit(EXIT_ERROR)


class PairFormat(str, Enum):
    """Output formats of ``pair`` and ``lint``."""

    table = "table"
    json = "json"
    sarif = "sarif"
    github = "github"
    junit = "junit"
    auto = "auto"


FailOnChoice = Enum("FailOnChoice", {v: v for v in ("mismatch", "likely-garbage", "unknown", "warning")}, type=str)  # type: ignore[misc]

SelectOption = Annotated[
    list[str] | None,
    typer.Option("--select", help="Only these rules (codes, prefixes like MM5, or names). Repeatable.", metavar="RULE"),
]
IgnoreOption = Annotated[
    list[str] | None,
    typer.Option("--ignore", help="Skip these rules (codes, prefixes or names). Repeatable.", metavar="RULE"),
]
FormatOption = Annotated[
    PairFormat | None,
    typer.Option(
        "--format",
        "-f",
        help="table (people), json (scripts), sarif (code scanning), github (annotations), junit; "
        "auto = github under GitHub Actions, else table. Env: MMCHECK_FORMAT.",
        envvar="MMCHECK_FORMAT",
    ),
]
FailOnOption = Annotated[
    FailOnChoice | None,  # type: ignore[valid-type]
    typer.Option(
        "--fail-on",
        help="Exit 1 from this verdict on: mismatch, likely-garbage (default), unknown, or warning (any warning).",
    ),
]
ExitZeroOption = Annotated[
    bool, typer.Option("--exit-zero", help="Exit 0 even when the result fails --fail-on (errors still exit 2).")
]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.", metavar="FILE")]
IsolatedOption = Annotated[bool, typer.Option("--isolated", help="Ignore configuration files.")]
RuntimeOption = Annotated[
    str | None,
    typer.Option(
        "--runtime",
        help="The runtime you load the files with, as ID@VERSION: llama.cpp@b6907, koboldcpp@1.98, "
        "ollama@0.12.3, lmstudio@0.3.30, llama-cpp-python@0.3.16. Flags projector types it is too old for "
        "(docs/runtimes.md). Config: runtime.",
        metavar="ID@VERSION",
    ),
]


def _settings(isolated: bool) -> Any:
    from mmcheck.config import Config, find_config, load_config

    return Config() if isolated else load_config(find_config())


def _database_for(cfg: Any, db: Path | None) -> Any:
    """The database: --db / MMCHECK_DB, else the config file's ``db``, else the built-in one."""
    return load_database(db or (Path(cfg.db) if cfg.db else None))


def _threshold(cfg: Any, fail_on: Any) -> Any:
    """--fail-on, else the config file's ``fail-on``, else likely-garbage."""
    from mmcheck.verdict import FailOn

    return FailOn(fail_on.value if fail_on is not None else (cfg.fail_on or "likely-garbage"))


def _rule_filters(cfg: Any, select: list[str] | None, ignore: list[str] | None) -> tuple[Any, Any]:
    """(select, ignore): the command line's --select replaces the config's; --ignore adds to it."""
    return select or cfg.select or None, (ignore or []) + cfg.ignore or None


def _runtime(cfg: Any, runtime: str | None, database: Any) -> Any:
    """The runtime from --runtime, else the config's ``runtime`` (+ ``runtime-version``), or None.
    A malformed value is a ConfigError (one line, exit 2)."""
    from mmcheck.runtimes import parse_runtime

    if runtime is not None:
        return parse_runtime(runtime, database)
    if cfg.runtime:
        return parse_runtime(cfg.runtime, database, cfg.runtime_version)
    if cfg.runtime_version:
        raise ConfigError(f"{cfg.path}: runtime-version is set but runtime is not")
    return None


def _options(
    cfg: Any,
    *,
    ctx_size: int | None = None,
    batch_size: int | None = None,
    ubatch_size: int | None = None,
    runtime: Any = None,
) -> Any:
    """Rule options from the command line, then the config file, then llama.cpp's defaults.
    ``runtime`` is a resolved :class:`mmcheck.runtimes.RuntimeSpec` (see :func:`_runtime`)."""
    from mmcheck.rules import Options

    return Options(
        ctx_size=ctx_size or cfg.ctx_size,
        batch_size=batch_size or cfg.batch_size or 2048,
        ubatch_size=ubatch_size or cfg.ubatch_size or 512,
        runtime=runtime.runtime if runtime is not None else None,
        runtime_version=runtime.version if runtime is not None else None,
    )


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
    else:
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as e:
            raise MMCheckError(f"cannot write {output}: {e.strerror or e}") from None


def _resolve_format(fmt: Enum | None, cfg: Any) -> str:
    name = fmt.value if fmt is not None else (cfg.format or "table")
    if name == "auto":
        return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "table"
    return str(name)


@app.command()
def pair(
    model: Annotated[str, typer.Argument(help="The text model GGUF (either order works).", metavar="MODEL")],
    mmproj: Annotated[str, typer.Argument(help="The projector (mmproj) GGUF.", metavar="MMPROJ")],
    fmt: FormatOption = None,
    fail_on: FailOnOption = None,
    exit_zero: ExitZeroOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the verdict word.")] = False,
    smoke: Annotated[
        bool | None, typer.Option("--smoke/--no-smoke", help="Run the projection smoke test (default: on).")
    ] = None,
    strict_roles: Annotated[
        bool, typer.Option("--strict-roles", help="The first file must be the text model, as a runtime's -m.")
    ] = False,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    ctx_size: Annotated[
        int | None, typer.Option("--ctx-size", "-c", help="The context size you run with (default: the model's).")
    ] = None,
    ubatch_size: Annotated[
        int | None, typer.Option("--ubatch-size", "-ub", help="Your micro-batch size (llama.cpp default 512).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", "-b", help="Your batch size (llama.cpp default 2048).")
    ] = None,
    runtime: RuntimeOption = None,
    output: OutputOption = None,
    isolated: IsolatedOption = False,
    db: DbOption = None,
    timeout: TimeoutOption = None,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Check that MMPROJ fits MODEL: match, unknown, likely-garbage or mismatch.

    \b
    match           the projector fits and is known to be made for this model (or its base)
    unknown         widths fit, nothing contradicts, but nothing confirms either
    likely-garbage  it will load, but the output will be nonsense (another lineage)
    mismatch        the runtime will refuse the pair or crash

    \b
    Exit codes: 0 verdict better than --fail-on, 1 at or worse, 2 unreadable input or usage error.
    Examples:
      mmcheck pair model.gguf mmproj.gguf
      mmcheck pair model.gguf mmproj.gguf --format json --no-smoke
      mmcheck pair model.gguf mmproj.gguf --fail-on unknown --quiet
      mmcheck pair model.gguf mmproj.gguf --runtime koboldcpp@1.98
      mmcheck pair hf://ORG/REPO/model-Q4_K_M.gguf hf://ORG/REPO/mmproj-F16.gguf -v
    """
    from mmcheck.pair import check_pair

    cfg = _settings(isolated)
    database = _database_for(cfg, db)
    spec = _runtime(cfg, runtime, database)
    options = _options(cfg, ctx_size=ctx_size, batch_size=batch_size, ubatch_size=ubatch_size, runtime=spec)
    run_smoke = smoke if smoke is not None else (cfg.smoke if cfg.smoke is not None else True)
    rule_select, rule_ignore = _rule_filters(cfg, select, ignore)
    _remote_setup(cfg, timeout, no_cache)
    report = check_pair(
        file_arg(model),
        file_arg(mmproj),
        smoke=run_smoke,
        strict_roles=strict_roles,
        db=database,
        options=options,
        select=rule_select,
        ignore=rule_ignore,
    )
    _transfer_report(verbose)
    if report.error is not None:
        raise typer.Exit(_report_error(report))
    threshold = _threshold(cfg, fail_on)
    _render_pair(report, _resolve_format(fmt, cfg), quiet=quiet, output=output)
    if report.fails(threshold) and not exit_zero:
        raise typer.Exit(EXIT_FINDINGS)


def _report_error(report: Any) -> int:
    typer.echo(error_line(report.error, report.error_path), err=True)
    return EXIT_ERROR


def _render_pair(report: Any, fmt: str, *, quiet: bool, output: Path | None) -> None:
    if fmt == "json":
        import json

        _emit(json.dumps(report.to_dict(), indent=2), output)
    elif fmt == "table":
        from mmcheck.render.pair_table import render_report

        if output is not None:
            import contextlib
            import io

            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                render_report(report, quiet=quiet)
            _emit(buf.getvalue().rstrip("\n"), output)
        else:
            render_report(report, quiet=quiet)
    else:
        from mmcheck.render import formats

        _emit(formats.render([report], fmt), output)


@app.command()
def lint(
    files: Annotated[list[str], typer.Argument(help="GGUF files to check one by one.", metavar="FILE...")],
    fmt: FormatOption = None,
    fail_on: FailOnOption = None,
    exit_zero: ExitZeroOption = False,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    runtime: RuntimeOption = None,
    output: OutputOption = None,
    isolated: IsolatedOption = False,
    db: DbOption = None,
    timeout: TimeoutOption = None,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Check single files: a projector's type, required keys and tensors, layer chaining,
    quantization, declared vs actual width, legacy flags; a text model's vocabulary vs embedding
    shape and required keys. Exit codes as for `pair` (default --fail-on likely-garbage)."""
    import json

    from mmcheck.pair import lint_file
    from mmcheck.rules import resolve

    cfg = _settings(isolated)
    database = _database_for(cfg, db)
    rules = resolve(*_rule_filters(cfg, select, ignore))
    threshold = _threshold(cfg, fail_on)
    options = _options(cfg, runtime=_runtime(cfg, runtime, database))
    _remote_setup(cfg, timeout, no_cache)
    reports = []
    failed_read = False
    for f in files:
        try:
            reports.append(lint_file(file_arg(f), db=database, rules=rules, options=options))
        except GGUFError as e:
            typer.echo(error_line(str(e), f), err=True)
            failed_read = True
    name = _resolve_format(fmt, cfg)
    if name == "json":
        _emit(json.dumps({"schema_version": 1, "files": [_lint_dict(r) for r in reports]}, indent=2), output)
    elif name == "table":
        for r in reports:
            typer.echo(f"{r.model_path}: {len(r.findings)} finding(s)")
            for fd in r.findings:
                typer.echo(f"  {fd.rule} {fd.severity.value:7} {fd.message}" + (f" — {fd.hint}" if fd.hint else ""))
    else:
        from mmcheck.render import formats

        _emit(formats.render(reports, name), output)
    _transfer_report(verbose)
    if failed_read:
        raise typer.Exit(EXIT_ERROR)
    if not exit_zero and any(r.fails(threshold) for r in reports):
        raise typer.Exit(EXIT_FINDINGS)


def _lint_dict(r: Any) -> dict[str, Any]:
    return {"path": r.model_path, "verdict": r.verdict.value, "findings": [f.to_dict() for f in r.findings]}


@app.command()
def rules(
    fmt: Annotated[InspectFormat, typer.Option("--format", "-f", help="table or json.")] = InspectFormat.table,
) -> None:
    """List every rule: code, name, severity, verdict effect and documentation."""
    import json

    from mmcheck.rules import RULES

    if fmt == InspectFormat.json:
        doc = [
            {
                "code": r.code,
                "name": r.name,
                "severity": r.severity.value,
                "effect": r.effect,
                "scope": r.scope,
                "summary": r.summary,
                "why": r.why,
                "fix": r.fix,
            }
            for r in RULES.values()
        ]
        typer.echo(json.dumps(doc, indent=2))
        return
    for r in RULES.values():
        effect = f" -> {r.effect}" if r.effect else ""
        typer.echo(f"{r.code}  {r.name}  [{r.severity.value}{effect}]")
        typer.echo(f"    {r.summary}")
        if r.fix:
            typer.echo(f"    fix: {r.fix}")


# ------------------------------------------------------------------------------------------------
# scan, suggest, exec (issue 6): thin wrappers over mmcheck.scan and mmcheck.launch
# ------------------------------------------------------------------------------------------------


def _progress_bar(enabled: bool) -> Any:
    """A ``progress(phase, done, total)`` callback drawing a rich bar on stderr for long scans
    (100+ files or pairs), and only when stderr is a terminal; plus a ``close()`` to end it."""
    state: dict[str, Any] = {"bar": None, "tasks": {}}

    def progress(phase: str, done: int, total: int) -> None:
        if not enabled or total < 100:
            return
        bar = state["bar"]
        if bar is None:
            from rich.console import Console
            from rich.progress import Progress

            bar = state["bar"] = Progress(console=Console(stderr=True), transient=True)
            bar.start()
        if phase not in state["tasks"]:
            label = "reading headers" if phase == "read" else "checking pairs"
            state["tasks"][phase] = bar.add_task(label, total=total)
        bar.update(state["tasks"][phase], completed=done)

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].stop()

    progress.close = close  # type: ignore[attr-defined]
    return progress


_STORE_IDS = ("ollama", "lmstudio", "hf-cache", "llama-cache", "jan", "textgen-webui")  # mmcheck.stores.STORE_IDS
StoreChoice = Enum("StoreChoice", {v: v for v in _STORE_IDS}, type=str)  # type: ignore[misc]
_SCAN_FORMATS = ("table", "json", "sarif", "github", "junit", "html", "auto")
ScanFormat = Enum("ScanFormat", {v: v for v in _SCAN_FORMATS}, type=str)  # type: ignore[misc]


@app.command()
def scan(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Folders, files (their folder-mates come too), stores or hf://ORG/REPO. Default: the stores found.",
            metavar="PATH...",
        ),
    ] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Also scan subfolders.")] = False,
    fmt: Annotated[
        ScanFormat | None,  # type: ignore[valid-type]
        typer.Option(
            "--format",
            "-f",
            help="table, json, sarif, github, junit, html (one self-contained page: "
            "-o report.html), or auto. Env: MMCHECK_FORMAT.",
            envvar="MMCHECK_FORMAT",
        ),
    ] = None,
    fail_on: FailOnOption = None,
    exit_zero: ExitZeroOption = False,
    smoke: Annotated[bool, typer.Option("--smoke/--no-smoke", help="Smoke-test each pair (default: off).")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Parallel header reads.")] = None,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    runtime: RuntimeOption = None,
    output: OutputOption = None,
    isolated: IsolatedOption = False,
    db: DbOption = None,
    store: Annotated[
        StoreChoice | None,  # type: ignore[valid-type]
        typer.Option(
            "--store", help="Read PATH as this store (default: auto-detected); no PATH: its default location."
        ),
    ] = None,
    timeout: TimeoutOption = None,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Find every GGUF file, classify it by content, and check which projector fits which text model.

    Each text model is paired with the projectors in its folder (or, when there are none, in the
    nearest folder above it); names only break ties. The report is a matrix per projector, the
    projector to use for each text model, the text models no projector fits, the projectors that
    fit nothing, and notes (Git LFS pointers, unreadable files, several fitting projectors).

    Model stores are read as their runtime reads them (Ollama manifests, Hugging Face cache
    snapshots, LM Studio, llama.cpp's -hf cache, Jan, text-generation-webui): reported per entry
    (llava:13b, org/repo@rev), paired by the store's own records first. With no PATH, the default
    store locations that exist are scanned.

    \b
    The scan fails (exit 1) when a file is unreadable or a Git LFS pointer, a store record is
    broken, or a projector's best pair fails --fail-on (default likely-garbage). Exit 2: a named
    path does not exist or is not the --store named.
    Examples:
      mmcheck scan                          # the Ollama / HF / LM Studio / llama.cpp stores found
      mmcheck scan ~/.ollama/models -f html -o report.html
      mmcheck scan models/ --recursive
      mmcheck scan . -r --format sarif -o mmcheck.sarif
      mmcheck scan mmproj-F16.gguf          # the file and its folder-mates (the pre-commit hook)
      mmcheck scan hf://ORG/REPO -r         # a Hugging Face repository, headers read by range
    """
    import json

    from mmcheck.stores.scanning import scan_paths as run_scan

    cfg = _settings(isolated)
    database = _database_for(cfg, db)
    options = _options(cfg, runtime=_runtime(cfg, runtime, database))
    rule_select, rule_ignore = _rule_filters(cfg, select, ignore)
    progress = _progress_bar(sys.stderr.isatty())
    _remote_setup(cfg, timeout, no_cache)
    try:
        result = run_scan(
            [file_arg(p) for p in paths] if paths else [],
            store=store.value if store is not None else None,
            recursive=recursive,
            db=database,
            smoke=smoke,
            jobs=jobs,
            options=options,
            select=rule_select,
            ignore=rule_ignore,
            progress=progress,
        )
    finally:
        progress.close()
    threshold = _threshold(cfg, fail_on)
    name = _resolve_format(fmt, cfg)
    if name == "json":
        _emit(json.dumps(result.to_dict(), indent=2), output)
    elif name == "table" and hasattr(result, "stores"):
        from mmcheck.render.store_table import render_store_scan

        _emit(render_store_scan(result), output)  # type: ignore[arg-type]
    elif name == "table":
        from mmcheck.render.scan_table import render_scan

        _emit(render_scan(result), output)
    elif name == "html":
        from mmcheck.render.html import render_html

        _emit(render_html(result), output)
    else:
        from mmcheck.render import formats

        extra = {"matrix": result.matrix(), "chosen": {str(m): str(c.mmproj) for m, c in result.chosen().items()}}
        _emit(formats.render(result.reports(), name, properties={"scan": extra}), output)
    _transfer_report(verbose)
    if result.fails(threshold) and not exit_zero:
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def suggest(
    model: Annotated[str, typer.Argument(help="The text model (or a projector: rank text models).", metavar="MODEL")],
    dirs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Where to look (default: MODEL's folder); hf://ORG/REPO lists a repository.", metavar="DIR..."
        ),
    ] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Also look in subfolders.")] = False,
    show_all: Annotated[bool, typer.Option("--all", "-a", help="Also list the files that do not fit.")] = False,
    fmt: Annotated[InspectFormat, typer.Option("--format", "-f", help="table or json.")] = InspectFormat.table,
    smoke: Annotated[bool, typer.Option("--smoke/--no-smoke", help="Smoke-test each candidate.")] = False,
    db: DbOption = None,
    timeout: TimeoutOption = None,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Rank the projectors found in DIR... that fit MODEL, best first, with the evidence.

    Ranking: verdict, then evidence (lineage confirmed, fewer warnings), the nearer folder, the
    name, and the precision closest to the model's. Exit 0 when at least one fits, 1 when none does,
    2 when MODEL cannot be read.

    \b
    Examples:
      mmcheck suggest gemma-3-4b-it-Q4_K_M.gguf
      mmcheck suggest model.gguf ~/models --recursive --all
      mmcheck suggest model.gguf hf://ORG/REPO      # rank a repository's projectors, no download
    """
    import json

    from mmcheck.scan import suggest as run_suggest

    _remote_setup(_settings(False), timeout, no_cache)
    try:
        database = load_database(db)
        roots = [file_arg(d) for d in dirs or []]
        reports = run_suggest(
            file_arg(model), roots, recursive=recursive, db=database, smoke=smoke, include_all=show_all
        )
    except GGUFError as e:
        _transfer_report(verbose)
        typer.echo(error_line(str(e), getattr(e, "url", None) or model), err=True)
        raise typer.Exit(EXIT_ERROR) from None
    _transfer_report(verbose)
    if fmt == InspectFormat.json:
        doc = {"schema_version": 1, "target": str(model), "ranked": [r.to_dict() for r in reports]}
        typer.echo(json.dumps(doc, indent=2))
    else:
        from mmcheck.render.scan_table import render_suggestions

        typer.echo(render_suggestions(file_arg(model), reports))
    if not any(r.ok for r in reports):
        raise typer.Exit(EXIT_FINDINGS)


@app.command(
    "exec",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "allow_interspersed_args": False},
)
def exec_command(
    cmd: Annotated[list[str], typer.Argument(help="The runtime to start, with its arguments.", metavar="CMD [ARGS]")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="The text model (default: CMD's -m).")] = None,
    mmproj: Annotated[str | None, typer.Option("--mmproj", help="The projector (default: CMD's --mmproj).")] = None,
    fail_on: FailOnOption = None,
    smoke: Annotated[bool, typer.Option("--smoke/--no-smoke", help="Run the smoke test first (default: on).")] = True,
    runtime: RuntimeOption = None,
    isolated: IsolatedOption = False,
    db: DbOption = None,
    timeout: TimeoutOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Check MODEL + MMPROJ, then start CMD only if the pair passes --fail-on.

    When the pair fails, the report goes to stderr and mmcheck exits 1 without starting CMD.
    Otherwise mmcheck runs CMD (on POSIX it replaces itself with CMD) and CMD's exit code is
    mmcheck's. Exit 2: CMD not found, or a file cannot be read. --model/--mmproj default to the
    values of -m/--model and --mmproj in CMD. The runtime's version is detected (CMD --version, or
    the installed llama-cpp-python) unless --runtime or the config's runtime names it.

    \b
    Examples:
      mmcheck exec -- llama-server -m model.gguf --mmproj mmproj.gguf --port 8080
      mmcheck exec --model m.gguf --mmproj p.gguf --fail-on unknown -- koboldcpp --model m.gguf --mmproj p.gguf
      mmcheck exec --runtime koboldcpp@1.101 -- koboldcpp --model m.gguf --mmproj p.gguf
      mmcheck exec -- python -m llama_cpp.server --model m.gguf --clip_model_path p.gguf
    """
    from mmcheck.launch import exec_checked

    cfg = _settings(isolated)
    threshold = _threshold(cfg, fail_on)
    database = _database_for(cfg, db)
    _remote_setup(cfg, timeout, no_cache)
    spec = _runtime(cfg, runtime, database)
    code = exec_checked(
        model, mmproj, cmd, fail_on=threshold, smoke=smoke, db=database, replace=True, runtime=spec, detect=spec is None
    )
    raise typer.Exit(code)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising (also the console-script entry)."""
    args = sys.argv[1:] if argv is None else argv
    interrupted = _watch_interrupts()
    try:
        return _run(args, interrupted, in_process=argv is not None)
    finally:
        _unwatch_interrupts()


def _run(args: list[str], interrupted: list[bool], *, in_process: bool) -> int:
    try:
        result = app(args=args, prog_name="mmcheck", standalone_mode=False)
        if interrupted:  # typer turns Ctrl-C into exit code 130; say so, as for every other exit 2
            raise KeyboardInterrupt
    except MMCheckError as e:
        print(error_line(str(e), getattr(e, "url", None)), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        remote = sys.modules.get("mmcheck.remote")
        if remote is not None:
            remote.abort()  # close every connection: no thread is left waiting on a read
        print("mmcheck: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK if in_process else _quiet_broken_pipe()
    except Exception as e:  # click's usage errors, and anything we did not foresee
        show = getattr(e, "show", None)
        if callable(show) and hasattr(e, "exit_code"):  # a click UsageError/ClickException
            show()
            code = int(e.exit_code)
            return EXIT_ERROR if code not in (0,) else code
        if type(e).__name__ == "Abort":
            print("mmcheck: aborted", file=sys.stderr)
            return EXIT_ERROR
        print(f"mmcheck: internal error: {type(e).__name__}: {e} (please report this)", file=sys.stderr)
        return EXIT_ERROR
    return int(result) if isinstance(result, int) else EXIT_OK


def _watch_interrupts() -> list[bool]:
    """On Ctrl-C, close every remote connection at once (threads blocked on a read return) and
    remember it; a list that is non-empty once interrupted. Only replaces Python's default handler."""
    import signal

    seen: list[bool] = []
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return seen

    def on_sigint(signum: int, frame: Any) -> None:
        seen.append(True)
        remote = sys.modules.get("mmcheck.remote")
        if remote is not None:
            remote.abort()
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread: leave it alone
        signal.signal(signal.SIGINT, on_sigint)
    return seen


def _unwatch_interrupts() -> None:
    import signal

    with contextlib.suppress(ValueError, TypeError):
        if getattr(signal.getsignal(signal.SIGINT), "__name__", "") == "on_sigint":
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _quiet_broken_pipe() -> int:
    # The reader of our output went away (``mmcheck ... | head``): stop quietly.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    return EXIT_OK
