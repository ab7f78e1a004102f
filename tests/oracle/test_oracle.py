"""Prove the oracle case table against llama.cpp itself: one subprocess run per case."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mmcheck.pair import check_pair
from tests.oracle.cases import CASES, OracleCase
from tests.oracle.harness import OracleResult, run_oracle

ORACLE_PROPERTY = "oracle_outcome"  # same key as conftest.ORACLE_PROPERTY
MAX_FILE_BYTES = 1_000_000  # every generated GGUF stays tiny

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="session")
def oracle_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for every generated pair of the session."""
    return tmp_path_factory.mktemp("oracle-pairs")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_oracle_case(case: OracleCase, oracle_workdir: Path, record_property: Callable[[str, object], None]) -> None:
    """llama.cpp's observed outcome on the pair equals the table's expectation."""
    model_path, mmproj_path = case.materialize(oracle_workdir)
    for path in (model_path, mmproj_path):
        if not case.name.startswith("real-") or path == mmproj_path:  # real models come from PyPI
            assert path.stat().st_size < MAX_FILE_BYTES, f"{path.name} is {path.stat().st_size} bytes"
    result: OracleResult = run_oracle(model_path, mmproj_path)
    # mmcheck, with roles fixed as the runtime gets them, and the smoke test on (its default)
    report = check_pair(model_path, mmproj_path, strict_roles=True, smoke=True)
    verdict = report.verdict.value
    fired = {f.rule for f in report.findings}
    agrees = (verdict == "mismatch") == (result.outcome != "loaded") and (not case.rule or case.rule in fired)
    record_property(
        ORACLE_PROPERTY, (case.name, case.expected, result.outcome, result.stage, result.message, verdict, agrees)
    )
    detail = f"{case.name}: {case.why}\nobserved {result.describe()}\n--- stderr tail ---\n{result.stderr_tail}"
    assert result.outcome == case.expected, detail
    if case.message:
        assert case.message in result.message, detail
    findings = "\n".join(f"  {f.rule} {f.message}" for f in report.findings)
    expected_rule = case.rule or "-"
    assert agrees, f"mmcheck says {verdict} (expected rule {expected_rule}) but llama.cpp {result.outcome}:\n{findings}"
