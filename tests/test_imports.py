"""Issue 11: ``mmcheck pair`` imports neither numpy nor gguf when the smoke test will not run, and
never rich.

Whether it runs is decided from the headers alone: ``--no-smoke``, a header-only or truncated file,
or a file that cannot be read at all. Each case runs ``python -X importtime -m mmcheck pair ...`` in
a subprocess and reads the modules it imported from stderr (not timed: benchmarks/run.py times it).
A control case (both files complete, smoke test on) shows that the parsing does see numpy and gguf.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mmcheck.testing import write_projector, write_text_model

HEAVY = ("numpy", "gguf")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("imports")
    out = {
        "model": write_text_model(d / "model.gguf", n_embd=64),
        "mmproj": write_projector(d / "mmproj.gguf", n_embd_out=64),
        "model-header-only": write_text_model(d / "model-ho.gguf", n_embd=64, header_only=True),
        "mmproj-header-only": write_projector(d / "mmproj-ho.gguf", n_embd_out=64, header_only=True),
    }
    data = out["model"].read_bytes()
    (d / "model-truncated.gguf").write_bytes(data[: len(data) - 4096])  # the header intact, the data cut short
    out["model-truncated"] = d / "model-truncated.gguf"
    (d / "not-gguf.gguf").write_bytes(b"this is not a GGUF file\n" * 8)
    out["not-gguf"] = d / "not-gguf.gguf"
    out["missing"] = d / "does-not-exist.gguf"
    return out


def imported(stderr: str) -> set[str]:
    """The modules a ``python -X importtime`` run imported, from its stderr."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":  # the header line
                names.add(name)
    return names


def heavy(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in HEAVY}


def pair(files: dict[str, Path], model: str, mmproj: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-X", "importtime", "-m", "mmcheck", "pair", str(files[model]), str(files[mmproj]), *args]
    # cwd: the temporary folder, so that no configuration file (pyproject.toml) is found
    return subprocess.run(cmd, capture_output=True, text=True, cwd=files["model"].parent, timeout=120)


@pytest.mark.parametrize(
    ("model", "mmproj", "args", "code"),
    [
        pytest.param("model", "mmproj", ("--no-smoke",), (0, 1), id="no-smoke"),
        pytest.param("model-header-only", "mmproj-header-only", ("--no-smoke",), (0, 1), id="header-only-no-smoke"),
        pytest.param("model-header-only", "mmproj-header-only", (), (0, 1), id="header-only"),
        pytest.param("model", "mmproj-header-only", (), (0, 1), id="projector-header-only"),
        pytest.param("model-header-only", "mmproj", (), (0, 1), id="model-header-only"),
        pytest.param("model-truncated", "mmproj", (), (0, 1), id="model-truncated"),
        pytest.param("model", "not-gguf", (), (2,), id="projector-not-gguf"),
        pytest.param("not-gguf", "mmproj", (), (2,), id="model-not-gguf"),
        pytest.param("model", "missing", (), (2,), id="projector-missing"),
    ],
)
def test_no_numpy_or_gguf_when_the_smoke_test_cannot_run(
    files: dict[str, Path], model: str, mmproj: str, args: tuple[str, ...], code: tuple[int, ...]
) -> None:
    proc = pair(files, model, mmproj, *args)
    assert proc.returncode in code, proc.stderr[-2000:]
    names = imported(proc.stderr)
    assert "mmcheck.pair" in names  # the run got as far as checking the pair
    assert heavy(names) == set(), f"imported although the smoke test cannot run: {sorted(heavy(names))[:10]}"


@pytest.mark.parametrize("args", [(), ("-f", "json")], ids=["table", "json"])
def test_the_pair_report_does_not_import_rich(files: dict[str, Path], args: tuple[str, ...]) -> None:
    """The pair table is laid out by mmcheck.render.textgrid: rich's import alone costs more than the check."""
    proc = pair(files, "model-header-only", "mmproj-header-only", "--no-smoke", *args)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    names = imported(proc.stderr)
    assert "mmcheck.render.pair_table" in names or args
    assert not {n for n in names if n.split(".")[0] == "rich"}


def test_header_only_pair_reports_the_smoke_test_as_skipped(files: dict[str, Path]) -> None:
    import json

    proc = pair(files, "model-header-only", "mmproj-header-only", "--format", "json")
    smoke = json.loads(proc.stdout)["smoke"]
    assert smoke["status"] == "skipped" and "header-only" in smoke["reason"]
    assert heavy(imported(proc.stderr)) == set()


def test_control_the_smoke_test_imports_numpy_but_not_gguf(files: dict[str, Path]) -> None:
    """With both files complete the smoke test runs: the parsing above sees numpy when it loads. gguf
    stays out: mmcheck.smoke.dequant decodes F32/F16 (and the other common types) itself."""
    proc = pair(files, "model", "mmproj", "-f", "json")
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    import json

    assert json.loads(proc.stdout)["smoke"]["status"] not in ("skipped", "error")
    names = imported(proc.stderr)
    assert {n.split(".")[0] for n in heavy(names)} == {"numpy"}
    assert "mmcheck.smoke.dequant" in names


@pytest.mark.parametrize(
    ("args", "typer_loads"),
    [
        pytest.param((), False, id="plain"),
        pytest.param(("--no-smoke",), False, id="no-smoke"),
        pytest.param(("--no-smoke", "-q", "--fail-on", "unknown"), False, id="quiet-fail-on"),
        pytest.param(("-f", "json", "--no-smoke"), False, id="json"),
        pytest.param(("-o", "report.txt"), True, id="output-option"),  # control: typer parses the rest
        pytest.param(("--format=json",), True, id="attached-value"),
    ],
)
def test_the_common_pair_lines_start_without_typer(
    files: dict[str, Path], args: tuple[str, ...], typer_loads: bool
) -> None:
    """``mmcheck.fastpath`` parses the plain ``pair`` lines; typer and its click load for anything else
    (tests/test_fastpath.py holds the two parsers to the same result)."""
    proc = pair(files, "model-header-only", "mmproj-header-only", *args)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    names = imported(proc.stderr)
    assert "mmcheck.pair" in names
    assert ("typer" in names) is typer_loads
    assert ("mmcheck.cli" in names) is typer_loads
    # importing dataclasses loads inspect, ast, dis and tokenize: ~16 ms of a pair start-up
    assert typer_loads or not names & {"dataclasses", "inspect"}


def test_no_namedtuple_is_declared_under_postponed_annotations() -> None:
    """typing.NamedTuple compiles each string annotation into a ForwardRef when its class is created,
    and ``from __future__ import annotations`` makes every annotation a string: ~40 us a field on
    every start-up. Modules declaring NamedTuples evaluate their annotations (docs/architecture.md)."""
    import ast

    package = Path(__file__).parents[1] / "mmcheck"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        postponed = any(
            isinstance(node, ast.ImportFrom)
            and node.module == "__future__"
            and any(a.name == "annotations" for a in node.names)
            for node in tree.body
        )
        records = [
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) and any(ast.unparse(b).endswith("NamedTuple") for b in node.bases)
        ]
        if postponed and records:
            offenders.append(f"{path.relative_to(package.parent)}: {', '.join(records)}")
    assert not offenders, offenders
