"""The launcher API: ``mmcheck.check_pair`` never raises on bad files; ``.ok``, ``.to_dict()``; the
JSON of ``pair --format json`` matches docs/json-schema/pair.schema.json."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mmcheck
from mmcheck.testing import write_projector, write_text_model
from tests.cli_helpers import run_cli
from tests.hub_tree import LFS_POINTER

ROOT = Path(__file__).resolve().parents[1]
PAIR_SCHEMA = json.loads((ROOT / "docs" / "json-schema" / "pair.schema.json").read_text(encoding="utf-8"))


def _valid(doc: dict) -> None:  # type: ignore[type-arg]
    jsonschema.Draft202012Validator(PAIR_SCHEMA).validate(doc)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny loadable pair (with weights, so the smoke test runs)."""
    d = tmp_path_factory.mktemp("api")
    return write_text_model(d / "model.gguf"), write_projector(d / "mmproj.gguf")


BAD_FILES = {
    "missing": None,
    "empty": b"",
    "html": b"<!DOCTYPE html><html>429 Too Many Requests</html>",
    "lfs-pointer": LFS_POINTER.encode(),
    "gguf-magic-only": b"GGUF",
    "absurd-counts": b"GGUF" + struct.pack("<IQQ", 3, 2**62, 2**62),
    "truncated-kv": b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1000) + b"gen",
}


@pytest.mark.parametrize("name", list(BAD_FILES))
@pytest.mark.parametrize("slot", ["model", "mmproj"])
def test_check_pair_never_raises_on_bad_files(name: str, slot: str, pair: tuple[Path, Path], tmp_path: Path) -> None:
    bad = tmp_path / f"{name}.gguf"
    content = BAD_FILES[name]
    if content is not None:
        bad.write_bytes(content)
    model, mmproj = (bad, pair[1]) if slot == "model" else (pair[0], bad)
    report = mmcheck.check_pair(model, mmproj)
    assert report.error and report.error_path == str(bad)
    assert report.verdict == mmcheck.Verdict.MISMATCH and not report.ok and report.fails()
    doc = json.loads(json.dumps(report.to_dict()))
    _valid(doc)
    assert doc["error"]["path"] == str(bad)


def test_check_pair_on_a_directory_does_not_raise(pair: tuple[Path, Path]) -> None:
    report = mmcheck.check_pair(pair[0].parent, pair[1])
    assert report.error and not report.ok


def test_raise_errors_raises(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    (tmp_path / "x.gguf").write_bytes(b"nope")
    with pytest.raises(mmcheck.GGUFError):
        mmcheck.check_pair(tmp_path / "x.gguf", pair[1], raise_errors=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=256), prefix=st.sampled_from([b"", b"GGUF", b"GGUF\x03\x00\x00\x00"]))
def test_check_pair_never_raises_on_random_bytes(data: bytes, prefix: bytes, pair: tuple[Path, Path],
                                                 tmp_path: Path) -> None:  # fmt: skip
    bad = tmp_path / "random.gguf"
    bad.write_bytes(prefix + data)
    report = mmcheck.check_pair(pair[0], bad, smoke=False)
    assert isinstance(report, mmcheck.Report)
    # random bytes are either unreadable or, at best, a GGUF that is no projector: never a usable pair
    assert report.error is not None or report.verdict == mmcheck.Verdict.MISMATCH, report.findings


def test_good_pair_ok_and_to_dict(pair: tuple[Path, Path]) -> None:
    report = mmcheck.check_pair(*pair)
    assert report.ok and report.error is None
    assert report.verdict in (mmcheck.Verdict.MATCH, mmcheck.Verdict.UNKNOWN)
    doc = report.to_dict()
    _valid(doc)
    assert doc["smoke"]["status"] == "passed"
    assert doc["model"]["kind"] == "text-model" and doc["mmproj"]["kind"] == "projector"


def test_swapped_files_are_a_mismatch_for_a_launcher(pair: tuple[Path, Path]) -> None:
    report = mmcheck.check_pair(pair[1], pair[0])
    assert not report.ok and "MM002" in {f.rule for f in report.findings}


def test_cli_pair_json_matches_the_schema(pair: tuple[Path, Path], tmp_path: Path) -> None:
    r = run_cli("pair", *pair, "--format", "json")
    assert r.code == 0, r.err
    _valid(json.loads(r.out))
    write_projector(tmp_path / "wide.gguf", n_embd_out=128)
    bad = run_cli("pair", pair[0], tmp_path / "wide.gguf", "--format", "json", "--no-smoke")
    assert bad.code == 1
    doc = json.loads(bad.out)
    _valid(doc)
    assert doc["verdict"] == "mismatch" and doc["smoke"]["status"] == "skipped"


def test_import_mmcheck_is_lazy() -> None:
    code = (
        "import sys, mmcheck; heavy = [m for m in ('mmcheck.pair', 'mmcheck.db', 'numpy', 'typer', 'rich') "
        "if m in sys.modules]; print(mmcheck.__version__, heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0.1.0 []"


def test_public_api_names() -> None:
    for name in ("check_pair", "Report", "read_header", "scan", "suggest", "Verdict", "__version__"):
        assert hasattr(mmcheck, name), name
    assert set(mmcheck.__all__) >= {"check_pair", "Report", "read_header", "scan", "suggest", "Verdict"}
    with pytest.raises(AttributeError):
        mmcheck.no_such_thing  # noqa: B018


def test_version_matches_pyproject() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{mmcheck.__version__}"' in text


def test_read_header_is_exported(pair: tuple[Path, Path]) -> None:
    header = mmcheck.read_header(pair[1])
    assert header.architecture == "clip"


def test_mmcheck_scan_stays_callable_after_the_submodule_is_imported(pair: tuple[Path, Path]) -> None:
    """``import mmcheck.scan`` binds the package attribute to the module; the documented
    ``mmcheck.scan([...])`` must still work (in a fresh interpreter, in both import orders)."""
    import subprocess
    import sys

    folder = str(pair[0].parent)
    for first in ("import mmcheck.scan, mmcheck", "import mmcheck"):
        code = f"{first}\nr = mmcheck.scan([{folder!r}])\nprint(type(r).__name__, len(r.files))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split()[0] == "ScanResult" and int(out.stdout.split()[1]) >= 2
