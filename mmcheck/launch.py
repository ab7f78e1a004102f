"""``mmcheck exec``: a launcher pre-flight. Check the pair, then start the runtime only if it passes.

    mmcheck exec --model M --mmproj P [--fail-on ...] -- koboldcpp --model M --mmproj P ...

Exit codes: CMD's own exit code when it ran (on POSIX mmcheck replaces itself with CMD, so signals
and the exit code are CMD's); 1 when the pair does not pass ``--fail-on`` (the report goes to
stderr and CMD is not started); 2 when CMD cannot be found or a file cannot be read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from mmcheck.errors import ExitCode, error_line
from mmcheck.verdict import FailOn

if TYPE_CHECKING:
    from mmcheck.db import CompatDB
    from mmcheck.pair import Report
    from mmcheck.rules import Options
    from mmcheck.runtimes import RuntimeSpec

# Options runtimes take the two files by: llama.cpp tools, llama-server, koboldcpp,
# llama-cpp-python's server (--clip_model_path).
MODEL_FLAGS = ("-m", "--model")
MMPROJ_FLAGS = ("--mmproj", "-mm", "--clip_model_path")


@dataclass(frozen=True)
class Preflight:
    """The outcome of the check: the report and whether CMD may start."""

    report: Report
    passed: bool
    message: str  # one line for stderr when it did not pass


def files_from_command(cmd: Sequence[str]) -> tuple[str | None, str | None]:
    """The model and projector paths a runtime command line names (``-m``/``--model``,
    ``--mmproj``; ``--flag=value`` too), or None for each it does not name."""
    model = mmproj = None
    for i, arg in enumerate(cmd):
        name, eq, value = arg.partition("=")
        if not eq:
            value = cmd[i + 1] if i + 1 < len(cmd) else ""
        if name in MODEL_FLAGS and value and model is None:
            model = value
        elif name in MMPROJ_FLAGS and value and mmproj is None:
            mmproj = value
    return model, mmproj


def preflight(
    model: str | os.PathLike[str],
    mmproj: str | os.PathLike[str],
    *,
    fail_on: FailOn = FailOn.likely_garbage,
    smoke: bool = True,
    db: CompatDB | None = None,
    options: Options | None = None,
) -> Preflight:
    """Check the pair as the runtime will see it (strict roles: ``model`` must be the text model).
    ``options`` carries the runtime (``runtime``/``runtime_version``) for the MM405 check."""
    from mmcheck.pair import check_pair

    report = check_pair(model, mmproj, smoke=smoke, strict_roles=True, db=db, options=options)
    if report.error is not None:
        return Preflight(report, False, error_line(report.error, report.error_path))
    if report.fails(fail_on):
        why = f"mmcheck: not starting: verdict {report.verdict.value} (--fail-on {fail_on.value})"
        return Preflight(report, False, why)
    return Preflight(report, True, "")


def report_text(report: Report) -> str:
    """The ``pair`` table report as plain text (for stderr)."""
    from mmcheck.render import RenderContext
    from mmcheck.render.pair_table import render_pair

    text = render_pair(report, RenderContext(command="pair"))
    return text if text.endswith("\n") else text + "\n"


def resolve_command(cmd: Sequence[str]) -> str | None:
    """The executable CMD names (a path, or a name on PATH), or None when there is none."""
    if not cmd:
        return None
    exe = cmd[0]
    if os.sep in exe or (os.altsep and os.altsep in exe):
        return exe if os.path.isfile(exe) and os.access(exe, os.X_OK) else None
    return shutil.which(exe)


def run_command(cmd: Sequence[str], *, replace: bool = False) -> int:
    """Run CMD and return its exit code (128 + N when killed by signal N, as shells do).

    ``replace=True`` (POSIX only) replaces this process with CMD (``os.execv``) and never returns
    on success. Returns 2 with a message on stderr when CMD cannot be found or started.
    """
    exe = resolve_command(cmd)
    if exe is None:
        print(error_line(f"command not found: {cmd[0] if cmd else '(none)'}"), file=sys.stderr)
        return ExitCode.ERROR
    argv = [exe, *cmd[1:]]
    try:
        if replace and os.name == "posix":
            sys.stdout.flush()
            sys.stderr.flush()
            os.execv(exe, argv)
        proc = subprocess.run(argv, check=False)
    except OSError as e:
        print(error_line(f"cannot run {cmd[0]}: {e.strerror or e}"), file=sys.stderr)
        return ExitCode.ERROR
    except KeyboardInterrupt:
        return 130
    return proc.returncode if proc.returncode >= 0 else 128 - proc.returncode


def exec_checked(
    model: str | os.PathLike[str] | None,
    mmproj: str | os.PathLike[str] | None,
    cmd: Sequence[str],
    *,
    fail_on: FailOn = FailOn.likely_garbage,
    smoke: bool = True,
    db: CompatDB | None = None,
    replace: bool = False,
    stderr: TextIO | None = None,
    runtime: RuntimeSpec | None = None,
    detect: bool = True,
) -> int:
    """Check the pair, then run CMD only if it passes; return the exit code (see the module doc).

    ``model``/``mmproj`` default to the ``-m``/``--model`` and ``--mmproj`` values in CMD.
    ``runtime`` is the runtime to check the projector type against; when it is None and ``detect``
    is set, it is detected from CMD (:func:`mmcheck.runtimes.detect_runtime`), and a line on
    stderr says what was detected.
    """
    err = stderr or sys.stderr
    if not cmd:
        print(error_line("no command given (mmcheck exec ... -- CMD ARGS...)"), file=err)
        return ExitCode.ERROR
    if resolve_command(cmd) is None:
        print(error_line(f"command not found: {cmd[0]}"), file=err)
        return ExitCode.ERROR
    found_model, found_mmproj = files_from_command(cmd)
    model = model if model is not None else found_model
    mmproj = mmproj if mmproj is not None else found_mmproj
    if model is None or mmproj is None:
        missing = "--model" if model is None else "--mmproj"
        print(error_line(f"no {missing} given, and CMD does not name one"), file=err)
        return ExitCode.ERROR
    from mmcheck.rules import Options

    if runtime is None and detect:
        from mmcheck.runtimes import detect_runtime

        runtime = detect_runtime(cmd, resolve_command(cmd))
        if runtime is not None:
            print(f"mmcheck: runtime detected: {runtime} (override with --runtime)", file=err)
    options = Options(runtime=runtime.runtime, runtime_version=runtime.version) if runtime else Options()
    result = preflight(model, mmproj, fail_on=fail_on, smoke=smoke, db=db, options=options)
    if result.report.error is not None:
        print(result.message, file=err)
        return ExitCode.ERROR
    if not result.passed:
        err.write(report_text(result.report))
        print(result.message, file=err)
        return ExitCode.FINDINGS
    return run_command(cmd, replace=replace)


__all__ = ["Preflight", "exec_checked", "files_from_command", "preflight", "run_command"]
