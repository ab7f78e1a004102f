"""Run the mmcheck CLI in-process or as a real subprocess and capture everything."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """``python -m mmcheck ARGS`` in a subprocess: the exact process a user runs."""
    proc = subprocess.run(
        [sys.executable, "-m", "mmcheck", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
