"""Where reports go: stdout, or ``-o FILE``, never over an input and never over a model file."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mmcheck.errors import MMCheckError


def _is_model_file(path: Path) -> bool:
    from mmcheck.errors import GGUFError
    from mmcheck.files import read_head
    from mmcheck.header.sniff import is_lfs_pointer

    try:
        head = read_head(path, 64)
    except GGUFError:
        return False
    return head[:4] == b"GGUF" or is_lfs_pointer(head)


def check_output(output: Path, inputs: Iterable[str | os.PathLike[str]]) -> None:
    """Refuse to write a report over one of the inputs, or over any GGUF file (``MMCheckError``)."""
    if not output.exists():
        return
    for given in inputs:
        try:
            same = os.path.samefile(output, given)
        except (OSError, ValueError, TypeError):
            same = False
        if same:
            raise MMCheckError(f"{output}: is one of the input files; refusing to write the report over it")
    if output.is_dir():
        raise MMCheckError(f"{output}: is a directory; -o takes a file name")
    if _is_model_file(output):
        raise MMCheckError(f"{output}: is a GGUF file (or its Git LFS pointer); refusing to write the report over it")


def emit(text: str, output: Path | None, inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Write ``text`` (and a final newline) to stdout or to ``output``."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    check_output(output, inputs)
    try:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as e:
        raise MMCheckError(f"{output}: cannot write the report: {e.strerror or e}") from None


def append_step_summary(markdown: str) -> None:
    """Append to ``$GITHUB_STEP_SUMMARY`` when set (GitHub shows only 10 annotations per level)."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown)
    except OSError:
        pass  # the annotations already carry the findings


def progress_bar(enabled: bool) -> Any:
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


__all__ = ["append_step_summary", "check_output", "emit", "progress_bar"]
