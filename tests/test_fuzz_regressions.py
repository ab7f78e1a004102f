"""Reproducers found by the fuzz harnesses (tests/fuzz/, docs/fuzzing.md), one test each."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from mmcheck.config import find_config, load_config
from mmcheck.errors import ConfigError, GGUFError
from mmcheck.header import read_header
from mmcheck.header.reader import MAX_ARRAY_NESTING
from mmcheck.pair import Report, check_pair
from mmcheck.testing.builders import write_projector, write_text_model
from mmcheck.verdict import Verdict
from tests import gguf_bytes as gb
from tests.cli_helpers import Run, run_cli

W, H, OUT = 32, 64, 64  # encoder width, projector hidden, text width


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("fuzz-pair")
    text = write_text_model(d / "text.gguf", n_embd=OUT, n_layer=1)
    proj = write_projector(d / "mmproj.gguf", projector_type="mlp", width=W, hidden=H, n_embd_out=OUT)
    return text, proj


def _one_error_line(r: Run) -> str:
    lines = r.err.splitlines()
    assert r.code == 2, (r.code, r.err)
    assert len(lines) == 1, r.err
    assert lines[0].startswith("mmcheck: error: "), r.err
    assert "internal error" not in lines[0], r.err  # main()'s last resort: an exception nobody expected
    return lines[0]


# -- arrays nested ~1000 deep: RecursionError ----------------------------------------------------------


def _nested(levels: int) -> tuple[bytes, int]:
    """A tensor-less GGUF whose one key ``deep`` holds ``levels`` arrays nested in each other (12 bytes
    each: about 12 KB for 992), and the offset of the array header at level ``MAX_ARRAY_NESTING``.

    Built by hand: ``gguf_bytes.value`` recurses per level, and gguf-py writes no nested arrays.
    """
    head, lay = gb.build([], n_kv=1)
    first = lay.kv_start + len(gb.s("deep")) + 4  # after the key name and its value type (ARRAY)
    chain = struct.pack("<IQ", gb.ARR, 1) * (levels - 1) + struct.pack("<IQ", gb.U8, 0)
    data = head + gb.s("deep") + struct.pack("<I", gb.ARR) + chain
    return data, first + (MAX_ARRAY_NESTING - 1) * 12


def test_992_nested_arrays_are_a_gguf_error_not_a_recursion_error(tmp_path: Path) -> None:
    data, offset = _nested(992)
    assert 11_000 < len(data) < 13_000
    path = tmp_path / "deep.gguf"
    path.write_bytes(data)
    with pytest.raises(GGUFError) as exc:  # a RecursionError is not a GGUFError: it fails here
        read_header(path)
    assert exc.value.key == "deep" and exc.value.offset == offset, str(exc.value)
    assert f"nested more than {MAX_ARRAY_NESTING} levels" in str(exc.value)


def test_the_nesting_cap_is_exactly_max_array_nesting(tmp_path: Path) -> None:
    path = tmp_path / "at-cap.gguf"
    path.write_bytes(_nested(MAX_ARRAY_NESTING)[0])
    h = read_header(path)  # the deepest chain accepted: parsed, with ggml's refusal as a warning
    assert any("nested array" in w for w in h.warnings)
    level = h.metadata["deep"]
    for _ in range(MAX_ARRAY_NESTING - 1):
        (level,) = list(level)
    assert len(level) == 0
    path.write_bytes(_nested(MAX_ARRAY_NESTING + 1)[0])
    with pytest.raises(GGUFError, match="nested more than"):
        read_header(path)


@pytest.mark.parametrize("role", ["model", "mmproj"])
def test_check_pair_reports_deep_nesting_without_raising(tmp_path: Path, pair: tuple[Path, Path], role: str) -> None:
    deep = tmp_path / "deep.gguf"
    deep.write_bytes(_nested(992)[0])
    model, proj = (deep, pair[1]) if role == "model" else (pair[0], deep)
    report = check_pair(model, proj, smoke=True)
    assert isinstance(report, Report)
    assert report.verdict == Verdict.MISMATCH
    assert report.error is not None and "nested more than" in report.error
    assert report.error_path == str(deep)


def test_cli_prints_one_error_line_for_deep_nesting(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    deep = tmp_path / "deep.gguf"
    deep.write_bytes(_nested(992)[0])
    line = _one_error_line(run_cli("pair", pair[0], deep))
    assert str(deep) in line and "nested more than" in line and "RecursionError" not in line


# -- valid TOML, wrong shape: AttributeError / TypeError ------------------------------------------------

_SHAPES = {
    "tool-is-a-string": "tool = 'mmcheck'\n",
    "tool-is-an-integer": "tool = 1\n",
    "tool-mmcheck-is-an-integer": "[tool]\nmmcheck = 1\n",
    "select-is-an-integer": "[tool.mmcheck]\nselect = 3\n",
    "ignore-holds-integers": "[tool.mmcheck]\nignore = [1, 2]\n",
}


@pytest.mark.parametrize("file_name", ["pyproject.toml", "mmcheck.toml"])
@pytest.mark.parametrize("text", _SHAPES.values(), ids=_SHAPES.keys())
def test_a_wrong_shape_config_is_one_error_line(
    tmp_path: Path, pair: tuple[Path, Path], file_name: str, text: str
) -> None:
    config = tmp_path / file_name
    config.write_text(text)
    with pytest.raises(ConfigError) as exc:  # not AttributeError / TypeError
        load_config(find_config(tmp_path))
    assert str(config) in str(exc.value)
    line = _one_error_line(run_cli("pair", *pair, "--no-smoke", cwd=tmp_path))
    assert str(config) in line


# -- ±inf or huge weights: numpy RuntimeWarnings on stderr ----------------------------------------------


def _with_inf_rows(src: Path, dst: Path, tensor: str) -> Path:
    """A copy of the F16 projector ``src`` whose ``tensor`` data is +inf (0x7C00) throughout."""
    info = read_header(src)
    t = info.tensors[tensor]
    data = bytearray(src.read_bytes())
    start = info.data_offset + t.offset
    data[start : start + t.nbytes] = b"\x00\x7c" * (t.nbytes // 2)
    dst.write_bytes(bytes(data))
    return dst


def _damaged(kind: str, tmp_path: Path, src: Path) -> Path:
    if kind == "inf-f16-bytes":  # inf in the first layer: inf * 0 in the matmul ("invalid value")
        return _with_inf_rows(src, tmp_path / "inf.gguf", "mm.0.weight")
    huge = 3e38 if kind == "huge-first-layer" else 1e30  # finite, but overflow the matmul / the statistics
    name = "mm.0.weight" if kind == "huge-first-layer" else "mm.2.weight"
    shape = (H, W) if name == "mm.0.weight" else (OUT, H)
    signs = np.where(np.random.default_rng(0).random(shape) < 0.5, -1.0, 1.0)
    return write_projector(
        tmp_path / f"{kind}.gguf",
        projector_type="mlp",
        width=W,
        hidden=H,
        n_embd_out=OUT,
        weight_type="F32",
        explicit_tensors={name: (signs * huge).astype(np.float32)},
    )


@pytest.mark.parametrize("kind", ["inf-f16-bytes", "huge-first-layer", "huge-last-layer"])
def test_overflowing_weights_write_no_runtime_warning(tmp_path: Path, pair: tuple[Path, Path], kind: str) -> None:
    proj = _damaged(kind, tmp_path, pair[1])
    r = run_cli("pair", pair[0], proj, "--format", "json")
    assert "RuntimeWarning" not in r.err and "Warning" not in r.err, r.err
    assert r.err == "", r.err
    assert r.code in (0, 1), (r.code, r.err)
    if kind != "huge-last-layer":  # non-finite stage output: the smoke test says so
        assert r.code == 1 and '"MM803"' in r.out, r.out
    if kind == "inf-f16-bytes":
        assert '"MM802"' in r.out and "NaN/Inf" in r.out, r.out


def _refuse(token: str) -> None:
    raise ValueError(f"{token} is not JSON")


def test_huge_finite_outputs_give_strict_json(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    """Found by fuzz_check_pair: outputs of ~1e20 overflowed float32 squares in the embedding
    statistics, and the report said ``"scale_ratio": Infinity``. The statistics now accumulate in
    float64, and no JSON document holds a non-finite number."""
    r = run_cli("pair", pair[0], _damaged("huge-last-layer", tmp_path, pair[1]), "--format", "json")
    doc = json.loads(r.out, parse_constant=_refuse)
    ratio = doc["smoke"].get("scale_ratio")
    assert ratio is None or ratio > 1e6, ratio  # measured, and far from the model's own scale
