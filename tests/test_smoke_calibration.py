"""Calibration of the embedding-space evidence (MM805 / MM809) on the real embedding tables.

Text models: the real SmolLM2-135M-Instruct (576) and Gemma-3-270M (640) files from PyPI
(``tests.realfiles``). Projectors, generated into tmp dirs with ``mmcheck.testing``
builders and run by the real smoke test against the real file:

- ``linear``: a ``gemma3``-type projector shaped like ``globalmm``'s (one 1152 × d matrix fitted by
  least squares onto the table's rows, :func:`tests.smoke_fixtures.fitted_linear`);
- ``mlp``: a LLaVA-style ``mlp`` (1024 → d → d, mm.2 fitted by least squares,
  :func:`tests.smoke_fixtures.fitted_mlp`).

Each is fitted to the model's own table (``own``), to the other real model's table brought to the
same width by column selection (``foreign``, :func:`tests.smoke_fixtures.foreign_table`), or to
the own table with its columns permuted (``permuted``: the same profile values at other
dimensions), on isotropic or anisotropic encoder features. ``python -m tests.test_smoke_calibration``
prints the full distribution (docs/smoke-test.md); the tests run a subset of it.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest

from mmcheck.evidence import Direction
from mmcheck.inspection import FileInfo
from mmcheck.smoke import SmokeResult, run_smoke
from mmcheck.smoke.model import ALIGNED_FROM, MISALIGNED_BELOW
from tests import realfiles
from tests.smoke_fixtures import (
    Regime,
    fitted_linear,
    fitted_mlp,
    foreign_table,
    gemma3_projector,
    info,
    mlp_projector,
    real_table,
)

pytestmark = pytest.mark.realfiles

Kind = Literal["linear", "mlp"]
Target = Literal["own", "foreign", "permuted"]
MODELS = ("smollm2", "gemma3")


@dataclass(frozen=True)
class Tables:
    """A real model and the tables its projectors are fitted to."""

    model: FileInfo
    own: np.ndarray  # word-token rows of its own table
    other: np.ndarray  # word-token rows of the other real model's table (its own width)

    @property
    def d(self) -> int:
        return int(self.own.shape[1])

    def target(self, which: Target, rng: np.random.Generator) -> np.ndarray:
        if which == "own":
            return self.own
        if which == "permuted":
            return self.own[:, rng.permutation(self.d)]
        return foreign_table(self.other, self.d, rng)


def load_tables() -> dict[str, Tables]:
    """Both real models with their own and foreign fitting tables."""
    paths = {"smollm2": realfiles.smollm2(), "gemma3": realfiles.gemma3_270m()}
    words = {k: real_table(p) for k, p in paths.items()}
    return {
        "smollm2": Tables(info(paths["smollm2"]), words["smollm2"], words["gemma3"]),
        "gemma3": Tables(info(paths["gemma3"]), words["gemma3"], words["smollm2"]),
    }


def fit_projector(
    tmp: Path, tables: Tables, kind: Kind, target: Target, seed: int, regime: Regime = "isotropic"
) -> FileInfo:
    """A projector of ``kind`` fitted (seed ``seed``) to ``target`` of ``tables``, written into ``tmp``."""
    rng = np.random.default_rng(1000 + seed)
    table = tables.target(target, rng)
    path = tmp / f"{kind}-{target}-{regime}-{seed}-{tables.d}.gguf"
    if kind == "linear":
        return gemma3_projector(path, fitted_linear(rng, table, regime=regime))
    return mlp_projector(path, fitted_mlp(rng, table, 1024, tables.d, regime=regime), 1024)


def numbers(r: SmokeResult) -> dict[str, Any]:
    e = r.embedding
    return {
        "alignment": r.alignment,
        "std": e.get("std_alignment"),
        "rms": e.get("rms_alignment"),
        "text_rel": e.get("text_reliability"),
        "out_rel": e.get("output_reliability"),
        "informative": e.get("informative"),
        "evidence": e.get("evidence"),
    }


def codes(r: SmokeResult) -> set[str]:
    return {f.code for f in r.findings}


# -- tests ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables() -> dict[str, Tables]:
    return load_tables()


@pytest.fixture(scope="module")
def projectors(tables: dict[str, Tables], tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], FileInfo]:
    tmp = tmp_path_factory.mktemp("calib")
    out: dict[tuple[str, ...], FileInfo] = {}
    for model in MODELS:
        for kind in ("linear", "mlp"):
            for target in ("own", "foreign"):
                for seed, regime in ((0, "isotropic"), (1, "anisotropic")):
                    proj = fit_projector(tmp, tables[model], kind, target, seed, regime)  # type: ignore[arg-type]
                    out[(model, kind, target, regime)] = proj
    return out


CASES = [(m, k, r) for m in MODELS for k in ("linear", "mlp") for r in ("isotropic", "anisotropic")]


@pytest.mark.parametrize(("model", "kind", "regime"), CASES)
def test_projector_fitted_to_the_real_table_is_evidence_for(
    tables: dict[str, Tables], projectors: dict[tuple[str, ...], FileInfo], model: str, kind: str, regime: str
) -> None:
    r = run_smoke(tables[model].model, projectors[(model, kind, "own", regime)])
    assert r.status == "passed", r.reason
    assert r.embedding["informative"] is True, numbers(r)
    assert r.alignment is not None and r.alignment >= ALIGNED_FROM + 0.15, numbers(r)  # measured >= 0.80
    assert "MM809" in codes(r) and "MM805" not in codes(r)
    (f,) = [f for f in r.findings if f.code == "MM809"]
    assert not f.against and f.severity == "info" and f.name == "embedding-space-aligned"
    assert r.alignment_evidence == "for" and r.summary.endswith("evidence for the pair")


@pytest.mark.parametrize(("model", "kind", "regime"), CASES)
def test_projector_fitted_to_another_real_table_is_evidence_against(
    tables: dict[str, Tables], projectors: dict[tuple[str, ...], FileInfo], model: str, kind: str, regime: str
) -> None:
    r = run_smoke(tables[model].model, projectors[(model, kind, "foreign", regime)])
    assert r.embedding["informative"] is True, numbers(r)
    assert r.alignment is not None and r.alignment < MISALIGNED_BELOW - 0.05, numbers(r)  # measured <= 0.08
    assert "MM805" in codes(r) and "MM809" not in codes(r)
    assert r.status == "failed" and r.alignment_evidence == "against"
    assert r.summary.endswith("evidence against the pair")


@pytest.mark.parametrize("model", MODELS)
def test_sixteen_rows_were_not_informative_the_defaults_are(
    tables: dict[str, Tables], projectors: dict[tuple[str, ...], FileInfo], model: str
) -> None:
    # the tester's finding: with 16 projected rows the output profile is too noisy to count
    proj = projectors[(model, "mlp", "own", "isotropic")]
    old = run_smoke(tables[model].model, proj, n_tokens=16, embd_sample=4096)
    assert old.embedding["informative"] is False, numbers(old)
    assert old.embedding["output_reliability"] < 0.5  # also below the previous minimum
    assert not codes(old) & {"MM805", "MM809"}
    assert "not informative" in old.summary and old.summary.endswith("not evidence either way")
    new = run_smoke(tables[model].model, proj)
    assert new.embedding["output_rows"] == 256 and new.embedding["informative"] is True
    assert new.embedding["output_reliability"] > 0.8 and "MM809" in codes(new)


@pytest.mark.parametrize("model", MODELS)
def test_permuted_columns_are_not_aligned(tables: dict[str, Tables], tmp_path: Path, model: str) -> None:
    # same profile values, other dimensions: alignment is about which dimension, not the spread
    r = run_smoke(tables[model].model, fit_projector(tmp_path, tables[model], "linear", "permuted", 2))
    assert r.alignment is not None and r.alignment < MISALIGNED_BELOW and "MM805" in codes(r)


# -- the full calibration (python -m tests.test_smoke_calibration) ----------------------------


@pytest.mark.parametrize(("model", "kind", "regime"), CASES)
def test_the_measurement_decides_the_verdict_of_a_projector_the_database_does_not_know(
    tables: dict[str, Tables], projectors: dict[tuple[str, ...], FileInfo], model: str, kind: str, regime: str
) -> None:
    # A projector made for this model by another tool (globalmm's gemma3-type matrix, a LLaVA-style
    # mlp): nothing in its header names a model, so the header evidence is weak at most. Measured
    # alignment with the model's own table makes it a match; fitted to another table, likely-garbage.
    from mmcheck.pair import check_pair
    from mmcheck.verdict import Verdict

    model_path = tables[model].model.path
    own = check_pair(model_path, projectors[(model, kind, "own", regime)].path)
    assert own.verdict == Verdict.MATCH, [(f.rule, f.message) for f in own.findings]
    assert [f.rule for f in own.evidence(Direction.FOR)] == ["MM809"]
    foreign = check_pair(model_path, projectors[(model, kind, "foreign", regime)].path)
    assert foreign.verdict == Verdict.LIKELY_GARBAGE, [(f.rule, f.message) for f in foreign.findings]
    assert "MM805" in {f.rule for f in foreign.findings}


def calibrate(seeds: range = range(5)) -> Iterator[tuple[str, str, str, str, int, dict[str, Any]]]:
    """Every (model, kind, regime, target, seed) case with its numbers at the default settings."""
    tables = load_tables()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for model in MODELS:
            for kind in ("linear", "mlp"):
                for regime in ("isotropic", "anisotropic"):
                    for target in ("own", "foreign", "permuted"):
                        for seed in seeds:
                            proj = fit_projector(tmp, tables[model], kind, target, seed, regime)  # type: ignore[arg-type]
                            row = numbers(run_smoke(tables[model].model, proj))
                            row["16 rows: out_rel"] = numbers(run_smoke(tables[model].model, proj, n_tokens=16))[
                                "out_rel"
                            ]
                            yield model, kind, regime, target, seed, row
                            proj.path.unlink()


def main() -> int:
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for model, kind, regime, target, seed, row in calibrate():
        print(
            model, kind, regime, target, seed, {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}
        )
        sys.stdout.flush()
        groups.setdefault((model, kind, regime, target), []).append(row)

    def mmm(rows: list[dict[str, Any]], key: str) -> str:
        v = [r[key] for r in rows]
        return f"{min(v):+.2f} / {statistics.median(v):+.2f} / {max(v):+.2f}"

    print("\n| table | projector | features | fitted to | n | alignment min / median / max | output reliability | "
          "text reliability | output reliability at 16 rows | evidence |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (model, kind, regime, target), rows in groups.items():
        ev = ", ".join(f"{e} {sum(r['evidence'] == e for r in rows)}" for e in ("for", "neither", "against"))
        cells = [model, kind, regime, target, str(len(rows))]
        cells += [mmm(rows, k) for k in ("alignment", "out_rel", "text_rel", "16 rows: out_rel")] + [ev]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
