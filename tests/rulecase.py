"""One-line rule tests: build a pair with the fixture builder, get the fired rule codes back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmcheck.pair import Report, check_pair
from mmcheck.rules import Options
from mmcheck.testing import write_projector, write_text_model


def run_pair(tmp: Path, model: dict[str, Any] | None = None, proj: dict[str, Any] | None = None, **kw: Any) -> Report:
    """Check a generated pair (tiny, width 64 by default) without the smoke test."""
    m = write_text_model(tmp / "model.gguf", **{"n_embd": 64, **(model or {})})
    p = write_projector(tmp / "mmproj.gguf", **{"n_embd_out": 64, **(proj or {})})
    kw.setdefault("smoke", False)
    kw.setdefault("options", Options())
    return check_pair(m, p, **kw)


def codes(report: Report) -> set[str]:
    """The rule codes that fired."""
    return {f.rule for f in report.findings}
