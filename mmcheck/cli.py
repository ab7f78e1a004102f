"""The command line: parse arguments, build the objects, run, write, exit.

Logic lives in importable modules (``mmcheck.pair``, ``mmcheck.scan``, ``mmcheck.settings``,
``mmcheck.render``, ``mmcheck.output``); each command here only turns options into a
:class:`~mmcheck.settings.CommandLine`, calls the library and writes what a reporter returns.
The plain ``pair`` lines are parsed without typer by ``mmcheck.fastpath``, checked against the
declaration of ``pair`` here; both parsers end in ``mmcheck.commands.run_pair``.

Exit codes (stable, as ruff's and mypy's): 0 ok, 1 findings at or above ``--fail-on``, 2 usage
errors, unreadable or malformed input, bad configuration and internal errors. Every exit 2 is one
line on stderr (``mmcheck: error: ...``): :func:`run_typer` turns typer's usage errors into it and
``mmcheck.exits.run_guarded`` everything else, so no exception escapes ``main()``.
"""

# No ``from __future__ import annotations`` here: typer re-evaluates every string annotation of
# every command on every run (25-40 ms); names used only for type checking are quoted instead.
import copy
import os
import shutil
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from mmcheck import __version__
from mmcheck.commands import (
    PairArgs,
    file_arg,
    output_format,
    render_context,
    report_transfers,
    resolve_settings,
    run_pair,
    write_reports,
)
from mmcheck.errors import ExitCode, GGUFError, error_line, printable
from mmcheck.render import Format
from mmcheck.settings import CommandLine
from mmcheck.verdict import FailOn


def _help_width() -> int:
    """Help text fits the terminal (``COLUMNS``), between 50 and 100 columns."""
    return max(50, min(shutil.get_terminal_size((80, 24)).columns, 100))


app = typer.Typer(
    name="mmcheck",
    help=(
        "Check that a multimodal projector (mmproj GGUF) fits a text model GGUF before you load them."
        "\n\nStart with:  mmcheck pair model.gguf mmproj.gguf"
        "\n\nExit codes: 0 ok, 1 findings at or above --fail-on, 2 usage or input errors."
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": _help_width()},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mmcheck {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """mmcheck: multimodal projector / text-model compatibility checker."""


def _full_app() -> typer.Typer:
    """The app with every command and the ``db`` group (registered on first use: a ``pair`` run
    never imports the database commands)."""
    if not app.registered_groups:
        from mmcheck.dbcommands import db_app

        app.add_typer(db_app, name="db")
    return app


# ------------------------------------------------------------------------------------------------
# Options shared by the commands (the help says what the default is; typer adds no notes of its own)
# ------------------------------------------------------------------------------------------------

_NO_NOTES = {"show_default": False, "show_envvar": False}


class ShortFormat(str, Enum):
    """Output formats of ``inspect``, ``rules`` and ``suggest``."""

    table = "table"
    json = "json"


FormatChoice = Enum("FormatChoice", {f.value: f.value for f in Format}, type=str)  # type: ignore[misc]
FailOnChoice = Enum("FailOnChoice", {f.value: f.value for f in FailOn}, type=str)  # type: ignore[misc]

DbOption = Annotated[
    Path | None,
    typer.Option("--db", metavar="DIR", envvar="MMCHECK_DB", **_NO_NOTES,
                 help="Use the compatibility database in DIR instead of the built-in one (env MMCHECK_DB)."),
]  # fmt: skip
FormatOption = Annotated[
    FormatChoice | None,  # type: ignore[valid-type]
    typer.Option("--format", "-f", envvar="MMCHECK_FORMAT", **_NO_NOTES,
                 help="table (people), json (scripts), sarif (code scanning), github (annotations), junit, "
                      "html (scan only); auto: github under GitHub Actions, else table. Default table; "
                      "env MMCHECK_FORMAT, config format."),
]  # fmt: skip
FailOnOption = Annotated[
    FailOnChoice | None,  # type: ignore[valid-type]
    typer.Option("--fail-on", **_NO_NOTES,
                 help="Exit 1 from this verdict on: mismatch, likely-garbage (default), unknown, or "
                      "warning (any warning). For one file (lint, inspect): errors fail, and warnings "
                      "too with warning."),
]  # fmt: skip
ExitZeroOption = Annotated[
    bool, typer.Option("--exit-zero", help="Exit 0 even when the result fails --fail-on (errors still exit 2).")
]
SelectOption = Annotated[
    list[str] | None,
    typer.Option("--select", metavar="RULES", help="Only these rules: codes, prefixes (MM5) or names, "
                 "comma-separated or repeated. Replaces the config's select."),
]  # fmt: skip
IgnoreOption = Annotated[
    list[str] | None,
    typer.Option("--ignore", metavar="RULES", help="Skip these rules (as --select); added to the config's ignore."),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the report to FILE (never over an input).")
]
IsolatedOption = Annotated[bool, typer.Option("--isolated", help="Ignore configuration files.")]
RuntimeOption = Annotated[
    str | None,
    typer.Option("--runtime", metavar="ID@VERSION",
                 help="The runtime you load the files with: llama.cpp@b6907, koboldcpp@1.98, ollama@0.12.3, "
                      "lmstudio@0.3.30, llama-cpp-python@0.3.16. Flags projector types it is too old for "
                      "(docs/runtimes.md). Config: runtime."),
]  # fmt: skip
TimeoutOption = Annotated[
    float | None,
    typer.Option("--timeout", min=0.001, metavar="SECONDS", **_NO_NOTES,
                 help="Remote files: seconds to wait for a connection or a read (default 10; config timeout)."),
]  # fmt: skip
NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Remote files: do not use the header cache.")]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="More detail: info findings; requests and bytes of remote files.")
]
TimingsOption = Annotated[bool, typer.Option("--timings", help="Add wall-clock timings (not deterministic).")]


def _enum(value: Any, kind: Any) -> Any:
    return None if value is None else kind(value.value)


def _exit(failed: bool, exit_zero: bool) -> None:
    if failed and not exit_zero:
        raise typer.Exit(ExitCode.FINDINGS)


# ------------------------------------------------------------------------------------------------
# inspect
# ------------------------------------------------------------------------------------------------


@app.command()
def inspect(
    files: Annotated[list[str], typer.Argument(help="GGUF files (or hf:// / https:// URLs).", metavar="FILE...")],
    fmt: Annotated[ShortFormat, typer.Option("--format", "-f", help="table (for people) or json.")] = ShortFormat.table,
    db: DbOption = None,
    isolated: IsolatedOption = False,
    timeout: TimeoutOption = None,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Say what each GGUF file is, show its key facts and its single-file findings.

    A text model shows its architecture, embedding width, context length, layers, heads, vocabulary
    and tokenizer; a projector its type(s), computed output width, encoder and tokens per image.
    Every file shows its tensors, quantization and data status, and the findings of the
    single-file rules (truncated data, big-endian, a later shard, nested arrays, a Git LFS
    pointer, ...).

    Exit codes: 0 no error finding, 1 an error finding (the runtime would refuse the file),
    2 a file cannot be read (reported on stderr; the other files are still shown).
    """
    from mmcheck.lint import inspect_many

    cli = CommandLine(isolated=isolated, db=db, timeout=timeout, no_cache=no_cache)
    settings = resolve_settings(cli)
    result = inspect_many([file_arg(f) for f in files], settings)
    for path, message in result.errors:
        typer.echo(error_line(message, path), err=True)
    from mmcheck.output import emit

    if fmt == ShortFormat.json:
        from mmcheck.render.inspect_table import inspect_json

        emit(inspect_json(result), None)
    else:
        from mmcheck.render.inspect_table import render_inspect

        table = render_inspect(result, color=sys.stdout.isatty() and "NO_COLOR" not in os.environ)
        if table.strip():  # no file could be read: the errors on stderr are the whole answer
            emit(table, None)
    report_transfers(verbose)
    if result.errors:
        raise typer.Exit(ExitCode.ERROR)
    _exit(result.fails(), False)


# ------------------------------------------------------------------------------------------------
# pair
# ------------------------------------------------------------------------------------------------


@app.command()
def pair(
    model: Annotated[str, typer.Argument(help="The text model GGUF (either order works).", metavar="MODEL")],
    mmproj: Annotated[str, typer.Argument(help="The projector (mmproj) GGUF.", metavar="MMPROJ")],
    fmt: FormatOption = None,
    fail_on: FailOnOption = None,
    exit_zero: ExitZeroOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the verdict word.")] = False,
    smoke: Annotated[
        bool | None,
        typer.Option("--smoke/--no-smoke", show_default=False, help="Run the projection smoke test (default on)."),
    ] = None,
    strict_roles: Annotated[
        bool, typer.Option("--strict-roles", help="The first file must be the text model, as a runtime's -m.")
    ] = False,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    ctx_size: Annotated[
        int | None,
        typer.Option(
            "--ctx-size",
            "-c",
            min=1,
            metavar="TOKENS",
            **_NO_NOTES,
            help="The context size you run with (default: the model's).",
        ),
    ] = None,
    ubatch_size: Annotated[
        int | None,
        typer.Option(
            "--ubatch-size",
            "-ub",
            min=1,
            metavar="TOKENS",
            **_NO_NOTES,
            help="Your micro-batch size (llama.cpp default 512).",
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size", "-b", min=1, metavar="TOKENS", **_NO_NOTES, help="Your batch size (llama.cpp default 2048)."
        ),
    ] = None,
    runtime: RuntimeOption = None,
    output: OutputOption = None,
    isolated: IsolatedOption = False,
    db: DbOption = None,
    timings: TimingsOption = False,
    timeout: TimeoutOption = None,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Check that MMPROJ fits MODEL: match, unknown, likely-garbage or mismatch.

    \b
    match           evidence that the projector was made for this model
    unknown         no evidence decides it (the report says why)
    likely-garbage  it loads, but the output will be nonsense
    mismatch        the runtime will refuse the pair or crash

    Exit codes: 0 verdict better than --fail-on, 1 at or worse,
    2 unreadable input or usage error.

    \b
    Examples:
      mmcheck pair model.gguf mmproj.gguf
      mmcheck pair model.gguf mmproj.gguf -f json --no-smoke
      mmcheck pair model.gguf mmproj.gguf --fail-on unknown -q
      mmcheck pair model.gguf mmproj.gguf --runtime koboldcpp@1.98
      mmcheck pair hf://ORG/REPO/m.gguf hf://ORG/REPO/p.gguf -v
    """
    cli = CommandLine(
        isolated=isolated, db=db, fmt=_enum(fmt, Format), fail_on=_enum(fail_on, FailOn), select=select or (),
        ignore=ignore or (), runtime=runtime, ctx_size=ctx_size, batch_size=batch_size, ubatch_size=ubatch_size,
        smoke=smoke, timeout=timeout, no_cache=no_cache,
    )  # fmt: skip
    args = PairArgs(model, mmproj, cli, quiet=quiet, strict_roles=strict_roles, exit_zero=exit_zero, timings=timings,
                    verbose=verbose, output=output)  # fmt: skip
    code = run_pair(args)
    if code != ExitCode.OK:
        raise typer.Exit(code)


# ------------------------------------------------------------------------------------------------
# lint
# ------------------------------------------------------------------------------------------------


@app.command()
def lint(
    files: Annotated[
        list[str], typer.Argument(help="GGUF files, or folders (searched recursively).", metavar="PATH...")
    ],
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
    """Check files one by one: integrity (truncated, big-endian, a later shard, nested arrays,
    Git LFS pointers); a projector's type, keys, tensors, layer chaining, precision and width;
    a text model's keys and vocabulary. Each file is ok, warning or error.

    Exit codes: 0 no error finding (with --fail-on warning: no warning either),
    1 otherwise, 2 a file cannot be read or a usage error.

    \b
    Examples:
      mmcheck lint mmproj-F16.gguf
      mmcheck lint .                 # every GGUF file below .
      mmcheck lint models/ -f sarif -o lint.sarif
    """
    from mmcheck.lint import lint_paths

    cli = CommandLine(
        isolated=isolated, db=db, fmt=_enum(fmt, Format), fail_on=_enum(fail_on, FailOn), select=select or (),
        ignore=ignore or (), runtime=runtime, timeout=timeout, no_cache=no_cache,
    )  # fmt: skip
    settings = resolve_settings(cli)
    out_fmt = output_format(settings, "lint")
    inputs = [file_arg(f) for f in files]
    result = lint_paths(inputs, settings)
    for path, message in result.errors:
        typer.echo(error_line(message, path), err=True)
    if not result.reports:
        if result.errors:
            raise typer.Exit(ExitCode.ERROR)
        typer.echo(f"No GGUF files found in {', '.join(files)}.", err=True)
        return
    context = render_context(settings, "lint", output, verbose=verbose)
    write_reports(out_fmt, result.reports, context, output, inputs)
    report_transfers(verbose)
    if result.errors:
        raise typer.Exit(ExitCode.ERROR)
    _exit(any(r.fails(settings.fail_on) for r in result.reports), exit_zero)


# ------------------------------------------------------------------------------------------------
# rules
# ------------------------------------------------------------------------------------------------


@app.command()
def rules(
    codes: Annotated[
        list[str] | None, typer.Argument(help="Rules to show in full: codes, prefixes or names.", metavar="[RULE...]")
    ] = None,
    fmt: Annotated[ShortFormat, typer.Option("--format", "-f", help="table or json.")] = ShortFormat.table,
) -> None:
    """List every rule (code, name, severity, evidence), or show the named ones in full.

    \b
    Examples:
      mmcheck rules
      mmcheck rules MM101
      mmcheck rules MM3,lineage-confirmed
    """
    from mmcheck.render.rules_table import render_rules
    from mmcheck.rules import select_rules
    from mmcheck.settings import split_codes

    chosen = select_rules(split_codes(codes or []))
    typer.echo(render_rules(chosen, full=bool(codes), as_json=fmt == ShortFormat.json))


# ------------------------------------------------------------------------------------------------
# scan, suggest, exec
# ------------------------------------------------------------------------------------------------


def _store_choice() -> Any:
    from mmcheck.stores import STORE_IDS

    return Enum("StoreChoice", {v: v for v in STORE_IDS}, type=str)  # type: ignore[misc]


StoreChoice = _store_choice()


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
    fmt: FormatOption = None,
    fail_on: FailOnOption = None,
    exit_zero: ExitZeroOption = False,
    smoke: Annotated[
        bool | None, typer.Option("--smoke/--no-smoke", show_default=False, help="Smoke-test each pair (default off).")
    ] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Parallel header reads.")] = None,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    runtime: RuntimeOption = None,
    output: OutputOption = None,
    isolated: IsolatedOption = False,
    db: DbOption = None,
    store: Annotated[
        StoreChoice | None,  # type: ignore[valid-type]
        typer.Option("--store", help="Read PATH as this store (default: detected); no PATH: its default location."),
    ] = None,
    timeout: TimeoutOption = None,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Find every GGUF file, classify it by content, and check which projector fits which text model.

    Each text model is paired with the projectors in its folder (or the nearest folder above);
    names only break ties. Model stores are read as their runtime reads them (Ollama manifests,
    Hugging Face and llama.cpp caches, LM Studio, Jan, text-generation-webui) and reported per
    entry (llava:13b, org/repo@rev). With no PATH, the default store locations are scanned.

    The scan fails (exit 1) when a file is unreadable or a Git LFS pointer,
    a store record is broken, or a projector's best pair fails --fail-on.
    Exit 2: a named path does not exist, or is not the --store named.

    \b
    Examples:
      mmcheck scan                   # the stores found on this machine
      mmcheck scan models/ -r
      mmcheck scan . -r -f sarif -o mmcheck.sarif
      mmcheck scan ~/.ollama/models -f html -o report.html
      mmcheck scan mmproj-F16.gguf   # the file and its folder-mates
      mmcheck scan hf://ORG/REPO -r  # a repository, headers by range
    """
    from mmcheck.stores.scanning import scan_paths

    cli = CommandLine(
        isolated=isolated, db=db, fmt=_enum(fmt, Format), fail_on=_enum(fail_on, FailOn), select=select or (),
        ignore=ignore or (), runtime=runtime, smoke=smoke, timeout=timeout, no_cache=no_cache,
    )  # fmt: skip
    settings = resolve_settings(cli, smoke_default=False)
    out_fmt = output_format(settings, "scan")
    inputs = [file_arg(p) for p in paths or []]
    from mmcheck.output import progress_bar

    progress = progress_bar(sys.stderr.isatty())
    try:
        result = scan_paths(
            inputs, store=store.value if store is not None else None, recursive=recursive, db=settings.db,
            smoke=settings.smoke, jobs=jobs, options=settings.options, select=settings.select,
            ignore=settings.ignore, progress=progress,
        )  # fmt: skip
    finally:
        progress.close()
    context = render_context(settings, "scan", output, scan=result, verbose=verbose)
    write_reports(out_fmt, result.reports(), context, output, inputs)
    report_transfers(verbose)
    _exit(result.fails(settings.fail_on), exit_zero)


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
    fmt: Annotated[ShortFormat, typer.Option("--format", "-f", help="table or json.")] = ShortFormat.table,
    smoke: Annotated[bool, typer.Option("--smoke/--no-smoke", help="Smoke-test each candidate.")] = False,
    isolated: IsolatedOption = False,
    db: DbOption = None,
    timeout: TimeoutOption = None,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Rank the projectors found in DIR... that fit MODEL, best first, with the evidence.

    Ranking: verdict, then evidence, the nearer folder, the name, and the precision closest to
    the model's. Exit 0 when at least one fits, 1 when none does, 2 when MODEL cannot be read.

    \b
    Examples:
      mmcheck suggest gemma-3-4b-it-Q4_K_M.gguf
      mmcheck suggest model.gguf ~/models -r --all
      mmcheck suggest model.gguf hf://ORG/REPO
    """
    from mmcheck.scan import suggest as run_suggest

    settings = resolve_settings(CommandLine(isolated=isolated, db=db, timeout=timeout, no_cache=no_cache))
    target = file_arg(model)
    skipped: list[tuple[str, str]] = []
    try:
        reports = run_suggest(
            target, [file_arg(d) for d in dirs or []], recursive=recursive, db=settings.db, smoke=smoke,
            include_all=show_all, skipped=skipped,
        )  # fmt: skip
    except GGUFError as e:
        report_transfers(verbose)
        typer.echo(error_line(str(e), getattr(e, "url", None) or model), err=True)
        raise typer.Exit(ExitCode.ERROR) from None
    report_transfers(verbose)
    context = render_context(settings, "suggest", None, target=str(target))
    write_reports(Format(fmt.value), reports, context, None, [])
    for path, why in skipped:  # never silently: a candidate that was not looked at may be the one that fits
        typer.echo(f"mmcheck: warning: {printable(path)}: {printable(why)} (skipped)", err=True)
    _exit(not any(r.ok for r in reports), False)


@app.command(
    "exec",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "allow_interspersed_args": False},
)
def exec_command(
    cmd: Annotated[list[str], typer.Argument(help="The runtime to start, with its arguments.", metavar="CMD [ARGS]")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="The text model (default: CMD's -m).")] = None,
    mmproj: Annotated[str | None, typer.Option("--mmproj", help="The projector (default: CMD's --mmproj).")] = None,
    fail_on: FailOnOption = None,
    smoke: Annotated[
        bool | None, typer.Option("--smoke/--no-smoke", show_default=False, help="Run the smoke test (default on).")
    ] = None,
    runtime: RuntimeOption = None,
    isolated: IsolatedOption = False,
    db: DbOption = None,
    timeout: TimeoutOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Check MODEL + MMPROJ, then start CMD only if the pair passes --fail-on.

    When the pair fails, the report goes to stderr and mmcheck exits 1 without starting CMD.
    Otherwise mmcheck runs CMD (on POSIX it replaces itself with CMD) and CMD's exit code is
    mmcheck's. Exit 2: CMD not found, or a file cannot be read. --model/--mmproj default to
    CMD's -m/--model and --mmproj. The runtime's version is detected (CMD --version, or the
    installed llama-cpp-python) unless --runtime or the config's runtime names it.

    \b
    Examples:
      mmcheck exec -- llama-server -m m.gguf --mmproj p.gguf
      mmcheck exec --fail-on unknown -- koboldcpp --model m.gguf \\
          --mmproj p.gguf
      mmcheck exec --runtime koboldcpp@1.101 -- koboldcpp ...
    """
    from mmcheck.launch import exec_checked

    cli = CommandLine(isolated=isolated, db=db, fail_on=_enum(fail_on, FailOn), runtime=runtime, smoke=smoke,
                      timeout=timeout, no_cache=no_cache)  # fmt: skip
    settings = resolve_settings(cli)
    code = exec_checked(
        model, mmproj, cmd, fail_on=settings.fail_on, smoke=settings.smoke, db=settings.db, replace=True,
        runtime=settings.runtime, detect=settings.runtime is None,
    )  # fmt: skip
    raise typer.Exit(code)


# ------------------------------------------------------------------------------------------------
# The entry point: every outcome is an exit code; every exit 2 is one line on stderr
# ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit code; nothing raises."""
    from mmcheck.exits import run_guarded
    from mmcheck.fastpath import dispatch

    args = sys.argv[1:] if argv is None else argv
    return run_guarded(lambda: dispatch(args), in_process=argv is not None)


def _usage_line(e: Any) -> str:
    """One line for a click usage error: what is wrong, and where to read more."""
    ctx = getattr(e, "ctx", None)
    where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    return error_line(" ".join(e.format_message().split()) + where)


def _app_for(args: list[str]) -> typer.Typer:
    """The app with only the command that ``args`` name, when they start with one.

    typer builds the click command of every registered command on every run (~15 ms for all of
    them, most of a ``pair`` run's parsing); the one being run is built the same way, from the same
    registration, so its parsing, help and errors are unchanged. Anything else (``--help``,
    ``--version``, a group, a typo) gets the whole app.
    """
    if not args or args[0].startswith("-"):
        return _full_app()
    from typer.main import get_command_name

    named = [
        c
        for c in app.registered_commands
        if c.callback and (c.name or get_command_name(c.callback.__name__)) == args[0]
    ]
    if not named:
        return _full_app()
    only = copy.copy(app)
    only.registered_commands = named
    only.registered_groups = []
    return only


def run_typer(args: list[str]) -> int:
    """Parse and run ``args`` with typer; its usage errors become one line and exit 2.

    What the commands raise otherwise (mmcheck's errors, Ctrl-C, a broken pipe) is left to
    ``mmcheck.exits.run_guarded``, which runs this.
    """
    # typer raises the exceptions of the click it runs on: ``click`` or, from typer 0.28, its own
    # vendored copy; take them from where typer's own BadParameter lives
    exceptions = sys.modules[typer.BadParameter.__module__]
    try:
        result = _app_for(args)(args=args, prog_name="mmcheck", standalone_mode=False)
    except exceptions.NoArgsIsHelpError as e:  # `mmcheck` (or a group) alone: its help, exit 0
        typer.echo(e.ctx.get_help())
        return ExitCode.OK
    except exceptions.UsageError as e:
        print(_usage_line(e), file=sys.stderr)
        return ExitCode.ERROR
    except exceptions.ClickException as e:
        print(error_line(" ".join(e.format_message().split())), file=sys.stderr)
        return ExitCode.ERROR
    except typer.Abort:
        print("mmcheck: aborted", file=sys.stderr)
        return ExitCode.ERROR
    except typer.Exit as e:
        return int(e.exit_code)
    return int(result) if isinstance(result, int) else ExitCode.OK
