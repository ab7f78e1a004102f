"""What a command does once its arguments are parsed: settings, format, report, exit code.

No typer here: ``mmcheck.cli`` (typer) and ``mmcheck.fastpath`` (the common ``pair`` command lines,
parsed without typer) both end in :func:`run_pair`, so a report does not depend on which of them
parsed the command line. The other commands share the helpers.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from mmcheck.errors import ExitCode, UsageError, error_line
from mmcheck.render import FORMATS_OF, Command, Format, RenderContext
from mmcheck.settings import CommandLine, Settings

if TYPE_CHECKING:
    from mmcheck.pair import Report


def file_arg(raw: str) -> Any:
    """A FILE argument: a ``Path``, or a ``RemotePath`` for ``hf://``/``http(s)://`` (``Path``
    would fold ``hf://`` into ``hf:/``)."""
    from mmcheck.header.source import as_file_path

    return as_file_path(raw)


def resolve_settings(cli: CommandLine, *, smoke_default: bool = True) -> Settings:
    """The command line over the configuration file over the defaults (``ConfigError``: exit 2)."""
    from mmcheck.settings import resolve

    return resolve(cli, smoke_default=smoke_default)


def output_format(settings: Settings, command: Command) -> Format:
    """The output format of ``command``; ``UsageError`` when it offers no such format."""
    fmt = settings.fmt.resolved()
    offered = FORMATS_OF[command]
    if fmt not in offered:
        names = ", ".join(f.value for f in offered)
        raise UsageError(
            "Invalid value for '--format' (or MMCHECK_FORMAT, or the configuration's format): "
            f"'{fmt.value}' is not a format of {command} (one of {names}, auto) (see `mmcheck {command} --help`)"
        )
    return fmt


def render_context(settings: Settings, command: Command, output: Path | None, **kw: Any) -> RenderContext:
    """How to render for where the report goes: colour and width only on a terminal."""
    stream_is_tty = output is None and sys.stdout.isatty()
    color = stream_is_tty and "NO_COLOR" not in os.environ
    width = 80
    if stream_is_tty:
        import shutil  # only for a terminal: shutil's import costs a few ms a pipe does not need

        width = shutil.get_terminal_size((80, 24)).columns
    return RenderContext(command=command, fail_on=settings.fail_on, color=color, width=max(width, 60), **kw)


def write_reports(
    fmt: Format, reports: "list[Report]", context: RenderContext, output: Path | None, inputs: list[Any]
) -> None:
    """Render ``reports`` and write them to ``output`` (stdout: None); under GitHub Actions with
    ``-f github``, also the job's step summary."""
    from mmcheck.output import append_step_summary, emit
    from mmcheck.render import render

    emit(render(fmt, reports, context), output, inputs)
    if fmt == Format.github:
        from mmcheck.render.github import step_summary

        append_step_summary(step_summary(reports, root=context.root))


def report_transfers(verbose: bool) -> None:
    """With -v: one line per remote file on stderr (requests made, bytes fetched, cache)."""
    remote = sys.modules.get("mmcheck.remote")
    if not verbose or remote is None:
        return
    ts = remote.transfers()
    for t in ts:
        print(f"mmcheck: {t.describe()}", file=sys.stderr)
    if ts:
        total_r, total_b = sum(t.requests for t in ts), sum(t.bytes for t in ts)
        print(f"mmcheck: remote total: {total_r} request(s), {total_b} bytes", file=sys.stderr)


class PairArgs(NamedTuple):
    """A parsed ``mmcheck pair`` command line."""

    model: str
    mmproj: str
    cli: CommandLine
    quiet: bool = False
    strict_roles: bool = False
    exit_zero: bool = False
    timings: bool = False
    verbose: bool = False
    output: Path | None = None


def run_pair(args: PairArgs) -> int:
    """Check the pair, write the report and return the exit code (errors are ``MMCheckError``)."""
    from mmcheck.pair import check_pair

    settings = resolve_settings(args.cli)
    out_fmt = output_format(settings, "pair")
    inputs = [file_arg(args.model), file_arg(args.mmproj)]
    report = check_pair(
        inputs[0], inputs[1], smoke=settings.smoke, strict_roles=args.strict_roles, db=settings.db,
        options=settings.options, select=settings.select, ignore=settings.ignore,
    )  # fmt: skip
    report_transfers(args.verbose)
    if report.error is not None:
        print(error_line(report.error, report.error_path), file=sys.stderr)
        return ExitCode.ERROR
    context = render_context(
        settings, "pair", args.output, quiet=args.quiet, timings=args.timings, verbose=args.verbose
    )
    write_reports(out_fmt, [report], context, args.output, inputs)
    if report.fails(settings.fail_on) and not args.exit_zero:
        return ExitCode.FINDINGS
    return ExitCode.OK
