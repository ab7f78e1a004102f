"""Run llama.cpp (llama-cpp-python 0.3.36) on one (text model, mmproj) pair and classify it.

Each pair runs ``run_case.py`` under the oracle venv's python in its own subprocess, because
llama.cpp aborts (SIGABRT) or segfaults (SIGSEGV) on some malformed projectors. The outcome is:

* ``crashed`` -- the process died from a signal (negative return code), or timed out;
* ``refused`` -- llama.cpp reported an error we recognise on stderr (or Python saw a failure);
  ``message`` is llama.cpp's own line, e.g. ``mismatch between text model (n_embd = 64) and
  mmproj (n_embd = 65)``;
* ``loaded`` -- the script reached ``STAGE done``: model loaded, mtmd context created (with its
  warm-up encode), the image tokenized, encoded and decoded.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tests.oracle.oracle_env import ensure_oracle_python, oracle_test_image

Outcome = Literal["loaded", "refused", "crashed"]

RUN_CASE = Path(__file__).resolve().with_name("run_case.py")
DEFAULT_TIMEOUT_S = 180.0
STDERR_TAIL_LINES = 40

# llama.cpp's refusal messages, most specific first. Each pattern's first match on stderr
# (the whole line, stripped) becomes OracleResult.message.
REFUSAL_PATTERNS: tuple[str, ...] = (
    r"mismatch between text model \(n_embd = \d+\) and mmproj \(n_embd = \d+\)",
    r"mismatch between vision and audio mmproj",
    r"unknown projector type: .*",
    r"unknown vision projector type .*",
    r"unexpected (vision|audio) projector type .*",
    r"CLIP cannot be used as main model.*",
    r"Key not found: .*",
    r"key not found in model: .*",
    r"unable to find tensor .*",
    r"tensor '[^']*' has wrong shape.*",
    r"tensor already loaded: .*",
    r"value \d+ for key '.*' exceeds INT32_MAX",
    r"unknown model architecture: .*",
    r"key \S+ has wrong type .*",
    r"image_mean/image_std arrays must have at least 3 elements.*",
    r"n_merge \(\d+\) must be .*",
    r"feature layer index .* out of range.*",
    r"both use_gelu and use_silu are set to true",
    r"failed to load CLIP model from .*",
    r"Failed to load CLIP model from .*",
    r"error loading model: .*",
    r"Failed to load model from file.*",
    r"Failed to load mtmd context.*",
)
_REFUSAL_RES = tuple(re.compile(p) for p in REFUSAL_PATTERNS)


@dataclass(frozen=True)
class OracleResult:
    """What llama.cpp did with one pair."""

    outcome: Outcome
    stage: str
    message: str
    returncode: int | None
    stderr_tail: str

    def describe(self) -> str:
        """One line: outcome, stage and message."""
        return f"{self.outcome} at {self.stage}: {self.message}"


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _last_stage(stdout: str) -> str:
    stage = "start"
    for line in stdout.splitlines():
        if line.startswith("STAGE "):
            stage = line[len("STAGE ") :].strip()
    return stage


def _final_json(stdout: str) -> dict[str, object] | None:
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                return None
            return value if isinstance(value, dict) else None
    return None


def find_refusal(stderr: str) -> str | None:
    """Return llama.cpp's refusal message found in ``stderr`` (most specific pattern first)."""
    for regex in _REFUSAL_RES:
        match = regex.search(stderr)
        if match:
            return match.group(0).strip()
    return None


def _crash_message(stderr: str) -> str:
    for pattern in (r"GGML_ASSERT\(.*\) failed", r"GGML_ABORT.*", r".*: fatal error.*", r"terminate called.*"):
        match = re.search(pattern, stderr)
        if match:
            return match.group(0).strip()
    return ""


def run_oracle(
    model: Path | str,
    mmproj: Path | str,
    *,
    image: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> OracleResult:
    """Run llama.cpp on ``(model, mmproj)`` in a subprocess and classify what happened."""
    python = ensure_oracle_python()
    image = oracle_test_image() if image is None else image
    cmd = [str(python), str(RUN_CASE), "--model", str(model), "--mmproj", str(mmproj), "--image", str(image)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return OracleResult("crashed", _last_stage(out), f"timeout after {timeout:.0f} s", None, _tail(err))

    stage = _last_stage(proc.stdout)
    tail = _tail(proc.stderr)
    if proc.returncode < 0:
        detail = _crash_message(proc.stderr)
        message = _signal_name(proc.returncode) + (f": {detail}" if detail else "")
        return OracleResult("crashed", stage, message, proc.returncode, tail)
    if stage == "done" and proc.returncode == 0:
        return OracleResult("loaded", stage, "", proc.returncode, tail)
    refusal = find_refusal(proc.stderr)
    final = _final_json(proc.stdout)
    if refusal is None and final is not None and final.get("error"):
        refusal = str(final["error"])
    if refusal is not None:
        return OracleResult("refused", stage, refusal, proc.returncode, tail)
    # exited non-zero without a recognisable message: e.g. abort() caught as exit code 134
    detail = _crash_message(proc.stderr) or f"exit code {proc.returncode}"
    return OracleResult("crashed", stage, detail, proc.returncode, tail)


def _tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    return "\n".join(text.splitlines()[-lines:])
