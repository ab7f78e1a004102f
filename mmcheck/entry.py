"""The ``mmcheck`` console script and ``python -m mmcheck``: the CLI, in a process of its own.

A check is a short process, and CPython's cyclic garbage collector costs it a fifth of its time
without freeing anything that matters: about 50 collections while the CLI's modules load (they
free a few hundred objects), and full collections over every live object while the interpreter
shuts down. So this entry

- turns the collector off while the CLI's modules load (imports make almost no cyclic garbage);
- moves everything alive then into the permanent generation (``gc.freeze``), so no collection
  during the run walks it, and turns the collector back on, so a long ``scan`` still frees its
  cycles;
- freezes again when the command is done, so the collections at exit skip everything still alive.
  Every file mmcheck writes is closed before then; the standard streams are flushed by the
  interpreter as usual.

Only this entry does it: ``mmcheck.cli.main(argv)`` and the Python API leave the collector alone.
The modules loaded with the collector off are the ones the command line will use: for the common
``pair`` lines that ``mmcheck.fastpath`` parses, typer is not among them. The measurements are in
docs/benchmarks.md.
"""

import gc
import sys


def main() -> int:
    """Run the CLI on ``sys.argv`` and return its exit code."""
    args = sys.argv[1:]
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        from mmcheck.fastpath import dispatch, preload

        preload(args)
        from mmcheck.exits import run_guarded
    except KeyboardInterrupt:  # Ctrl-C while the modules load: the CLI's own handler is not set yet
        print("mmcheck: interrupted", file=sys.stderr)
        return 2  # ExitCode.ERROR, as for every other interruption
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
    try:
        return run_guarded(lambda: dispatch(args), in_process=False)
    finally:
        gc.freeze()
