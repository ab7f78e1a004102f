"""Pytest wiring for the llama.cpp oracle suite: the ``oracle`` marker and an outcome table."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `mmcheck` and `tests.oracle` importable under plain `pytest`
    sys.path.insert(0, str(REPO_ROOT))

# test_oracle.py records each observation with record_property(ORACLE_PROPERTY, (name, expected,
# observed, stage, message)); the summary hook reads them back from the test reports.
ORACLE_PROPERTY = "oracle_outcome"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``oracle`` marker."""
    config.addinivalue_line(
        "markers",
        "oracle: runs generated GGUF pairs through llama.cpp (llama-cpp-python 0.3.36, built once "
        "into .cache/oracle/); slow on first use",
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print llama.cpp's outcome and mmcheck's verdict for every oracle case, and the agreement."""
    rows: list[tuple[str, ...]] = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for key, value in getattr(report, "user_properties", ()):
                if key == ORACLE_PROPERTY:
                    rows.append(tuple(str(v) for v in value))
    if not rows:
        return
    rows.sort()
    w_name = max(len(r[0]) for r in rows)
    terminalreporter.section("llama.cpp oracle: outcomes and mmcheck verdicts")
    terminalreporter.write_line(f"{'case':<{w_name}}  {'llama.cpp':<9}  {'stage':<10}  {'mmcheck':<14}  agree  message")
    agreed = 0
    for name, _expected, observed, stage, message, verdict, agrees in rows:
        ok = agrees == "True"
        agreed += ok
        mark = "yes" if ok else "NO"
        terminalreporter.write_line(
            f"{name:<{w_name}}  {observed:<9}  {stage:<10}  {verdict:<14}  {mark:<5}  {message[:90]}"
        )
    pct = 100.0 * agreed / len(rows)
    terminalreporter.write_line(f"agreement: {agreed}/{len(rows)} cases ({pct:.1f} %)")
