"""Every outcome of a command is an exit code, and every exit 2 is one line on stderr.

:func:`run_guarded` runs a command and turns what it raises into that line: mmcheck's own errors,
Ctrl-C, a reader that went away (``| head``), output that cannot be written, and anything not
foreseen. The parser's own errors (typer/click) are turned into lines by ``mmcheck.cli`` before
they get here. No typer here: the ``pair`` fast path runs without it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Callable
from typing import Any

from mmcheck.errors import ExitCode, MMCheckError, error_line

#: errors writing the output can only report: the disk is full, over quota, or the device failed
_OUTPUT_ERRNOS = frozenset(getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EIO", "EFBIG") if hasattr(errno, n))

_interrupts: list[bool] = []  # non-empty once Ctrl-C was pressed during the running command


def run_guarded(command: Callable[[], int], *, in_process: bool) -> int:
    """Run ``command`` and return its exit code; no exception escapes.

    ``in_process``: called from Python (``mmcheck.cli.main(argv)``), not as the ``mmcheck``
    process, so the process's stdout is left as it is after a broken pipe or a failed write.
    """
    _interrupts.clear()
    watching = _watch_interrupts()
    try:
        return _run(command, in_process)
    finally:
        if watching:
            _unwatch_interrupts()


def _run(command: Callable[[], int], in_process: bool) -> int:
    try:
        code = command()
        if _interrupts:  # a Ctrl-C that typer turned into exit code 130: say so, as for every exit 2
            raise KeyboardInterrupt
        return code
    except MMCheckError as e:
        print(error_line(str(e), getattr(e, "url", None)), file=sys.stderr)
        return ExitCode.ERROR
    except KeyboardInterrupt:
        remote = sys.modules.get("mmcheck.remote")
        if remote is not None:
            remote.abort()  # close every connection: no thread is left waiting on a read
        print("mmcheck: interrupted", file=sys.stderr)
        return ExitCode.ERROR
    except BrokenPipeError:
        # The reader of our output went away (``mmcheck ... | head``): stop quietly.
        if not in_process:
            _detach_stdout()
        return ExitCode.OK
    except Exception as e:  # anything we did not foresee: still one line
        if isinstance(e, OSError) and e.filename is None and e.errno in _OUTPUT_ERRNOS:
            return _output_failed(e, in_process)  # stdout: a full disk, a failing device
        print(error_line(f"internal error: {type(e).__name__}: {e} (please report this)"), file=sys.stderr)
        return ExitCode.ERROR


def _watch_interrupts() -> bool:
    """On Ctrl-C, close every remote connection at once (threads blocked on a read return) and
    remember it. Only replaces Python's default handler; True when it did."""
    import signal

    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return False

    def on_sigint(signum: int, frame: Any) -> None:
        _interrupts.append(True)
        remote = sys.modules.get("mmcheck.remote")
        if remote is not None:
            remote.abort()
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: leave it alone
        return False
    return True


def _unwatch_interrupts() -> None:
    import signal

    with contextlib.suppress(ValueError, TypeError):
        if getattr(signal.getsignal(signal.SIGINT), "__name__", "") == "on_sigint":  # still ours
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _output_failed(e: OSError, in_process: bool) -> int:
    print(error_line(f"cannot write the output: {e.strerror or e}"), file=sys.stderr)
    if not in_process:  # what is still buffered cannot be written either: drop it, or exit repeats the error
        _detach_stdout()
    return ExitCode.ERROR


def _detach_stdout() -> None:
    """Point stdout at the null device, so that the flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
