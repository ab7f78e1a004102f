"""`mmcheck pair` and `mmcheck lint` end to end: every verdict, exit code, format and option."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mmcheck.db import load_db
from mmcheck.testing import write_projector, write_text_model
from mmcheck.testing.presets import write_family_projector, write_lineage_model
from tests.cli_helpers import run_cli


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    d = tmp_path_factory.mktemp("pairs")
    db = load_db()
    llava = db.families["llava-1.5"]
    v7 = next(v for v in llava.variants if v.id == "llava-1.5-7b")
    proj = write_family_projector(d / "mmproj-llava-7b.gguf", llava, v7, db, name="Llava 1.5 7b Hf")
    own = write_lineage_model(d / "llava-7b.gguf", db.lineages["vicuna-7b-v1.5"], name="llava-v1.5-7b")
    big = write_lineage_model(d / "llava-13b.gguf", db.lineages["vicuna-13b-v1.5"], name="llava-v1.5-13b")
    mistral = write_lineage_model(d / "mistral.gguf", db.lineages["mistral-7b-v0.2"], name="Mistral 7B Instruct v0.2")
    tiny_m = write_text_model(d / "tiny.gguf", n_embd=64)
    tiny_p = write_projector(d / "tiny-mmproj.gguf", n_embd_out=64)
    return {
        "match": (own, proj),
        "mismatch": (big, proj),
        "likely-garbage": (mistral, proj),
        "unknown": (tiny_m, tiny_p),
    }


@pytest.mark.parametrize(("verdict", "code"), [("match", 0), ("unknown", 0), ("likely-garbage", 1), ("mismatch", 1)])
def test_verdicts_and_default_exit_codes(pairs, verdict: str, code: int) -> None:  # type: ignore[no-untyped-def]
    model, proj = pairs[verdict]
    r = run_cli("pair", model, proj, "--format", "json")
    assert r.code == code, r.err
    doc = json.loads(r.out)
    assert doc["schema_version"] == 2
    assert doc["verdict"] == verdict
    assert set(doc) >= {"model", "mmproj", "findings", "smoke", "why"}
    # the LLaVA-shaped files are header-only copies: no weights to run; the tiny pair has data. A
    # mismatch never reaches the smoke test.
    expected_status = {"match": "skipped", "likely-garbage": "skipped", "mismatch": "skipped", "unknown": "passed"}
    assert doc["smoke"]["status"] == expected_status[verdict], doc["smoke"]
    if verdict == "mismatch":
        assert "failed earlier checks" in doc["smoke"]["reason"]
    for f in doc["findings"]:
        assert set(f) >= {"rule", "severity", "message", "hint"}


@pytest.mark.parametrize(
    ("verdict", "fail_on", "code"),
    [
        ("unknown", "unknown", 1),
        ("match", "unknown", 0),
        ("likely-garbage", "mismatch", 0),
        ("mismatch", "mismatch", 1),
        ("match", "warning", 0),
        ("unknown", "warning", 1),
    ],
)
def test_fail_on(pairs, verdict: str, fail_on: str, code: int) -> None:  # type: ignore[no-untyped-def]
    model, proj = pairs[verdict]
    r = run_cli("pair", model, proj, "--fail-on", fail_on, "--quiet", "--no-smoke")
    assert r.code == code, r.out + r.err
    assert r.out.strip() == verdict


def test_exit_zero_and_quiet(pairs) -> None:  # type: ignore[no-untyped-def]
    model, proj = pairs["mismatch"]
    r = run_cli("pair", model, proj, "--exit-zero", "-q")
    assert r.code == 0 and r.out.strip() == "mismatch"


def test_table_output(pairs) -> None:  # type: ignore[no-untyped-def]
    model, proj = pairs["mismatch"]
    r = run_cli("pair", model, proj)
    assert r.code == 1
    assert "MISMATCH" in r.out and "MM101" in r.out and "5,120" in r.out and "4,096" in r.out


def test_either_order(pairs) -> None:  # type: ignore[no-untyped-def]
    model, proj = pairs["match"]
    r = run_cli("pair", proj, model, "--format", "json", "--no-smoke")
    doc = json.loads(r.out)
    assert doc["verdict"] == "match"
    assert any(f["rule"] == "MM001" for f in doc["findings"])
    r = run_cli("pair", proj, model, "--strict-roles", "-q", "--no-smoke")
    assert r.code == 1 and r.out.strip() == "mismatch"


def test_unreadable_input_is_exit_2(tmp_path: Path, pairs) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n")
    model, _ = pairs["match"]
    r = run_cli("pair", model, bad)
    assert r.code == 2
    expected = "this is a Git LFS pointer, not the model; run `git lfs pull` to fetch the real file (at byte 0)"
    assert r.err.strip() == f"mmcheck: error: {bad}: {expected}"
    assert "Traceback" not in r.err


def test_usage_errors_are_exit_2(pairs) -> None:  # type: ignore[no-untyped-def]
    model, proj = pairs["match"]
    assert run_cli("pair", model).code == 2
    assert run_cli("pair", model, proj, "--fail-on", "never").code == 2
    r = run_cli("pair", model, proj, "--select", "MM999")
    assert r.code == 2 and "unknown rule" in r.err


def test_config_file(tmp_path: Path, pairs) -> None:  # type: ignore[no-untyped-def]
    model, proj = pairs["likely-garbage"]
    (tmp_path / "pyproject.toml").write_text('[tool.mmcheck]\nfail-on = "mismatch"\nformat = "json"\n')
    r = run_cli("pair", model, proj, "--no-smoke", cwd=tmp_path)
    assert r.code == 0 and json.loads(r.out)["verdict"] == "likely-garbage"
    r = run_cli("pair", model, proj, "--no-smoke", "--isolated", "-q", cwd=tmp_path)
    assert r.code == 1
    (tmp_path / "pyproject.toml").write_text('[tool.mmcheck]\nfail-on = "sometimes"\n')
    r = run_cli("pair", model, proj, cwd=tmp_path)
    assert r.code == 2 and "fail-on must be one of" in r.err


def test_output_file(tmp_path: Path, pairs) -> None:  # type: ignore[no-untyped-def]
    model, proj = pairs["match"]
    out = tmp_path / "report.json"
    r = run_cli("pair", model, proj, "-f", "json", "-o", out, "--no-smoke")
    assert r.code == 0 and r.out == ""
    assert json.loads(out.read_text())["verdict"] == "match"


def test_lint(tmp_path: Path) -> None:
    good = write_projector(tmp_path / "good.gguf")
    broken = write_projector(tmp_path / "broken.gguf", override_shapes={"mm.2.weight": (48, 64)})
    text = write_text_model(tmp_path / "t.gguf", embd_rows=600)
    r = run_cli("lint", good, "--format", "json")
    assert r.code == 0 and json.loads(r.out)["files"][0]["findings"] == []
    r = run_cli("lint", broken, text, "--format", "json")
    assert r.code == 1
    files = {Path(f["path"]).name: f for f in json.loads(r.out)["files"]}
    assert {f["rule"] for f in files["broken.gguf"]["findings"]} >= {"MM503"}
    assert {f["rule"] for f in files["t.gguf"]["findings"]} == {"MM701"}


def test_rules_command_lists_the_registry() -> None:
    from mmcheck.rules import RULES

    r = run_cli("rules", "--format", "json")
    assert r.code == 0
    assert [x["code"] for x in json.loads(r.out)] == list(RULES)


def test_db_commands(tmp_path: Path, pairs) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("db", "list", "--format", "json")
    doc = json.loads(r.out)
    assert len(doc["projector_types"]) >= 64 and all(f["source"] for f in doc["families"])
    assert run_cli("db", "show", "llava-1.5").code == 0
    assert run_cli("db", "show", "nope").code == 2
    assert run_cli("db", "validate").code == 0
    model, proj = pairs["match"]
    m = json.loads(run_cli("db", "match", proj, "--format", "json").out)
    assert m["matches"][0]["family"] == "llava-1.5"
    m = json.loads(run_cli("db", "match", model, "--format", "json").out)
    assert m["matches"][0]["lineage"] == "vicuna-7b-v1.5"
    bad = tmp_path / "db"
    bad.mkdir()
    (bad / "projector_types.yaml").write_text("schema_version: 1\ntypes:\n  - id: x\n")
    r = run_cli("db", "validate", bad)
    assert r.code == 1 and "projector_types.yaml:3" in r.out and r.err == ""
    r = run_cli("db", "validate", "--db", bad)
    assert r.code == 1 and "projector_types.yaml:3" in r.out
    r = run_cli("db", "validate", env={**os.environ, "MMCHECK_DB": str(bad)})
    assert r.code == 1 and "projector_types.yaml:3" in r.out
    r = run_cli("db", "validate", tmp_path / "absent")
    assert r.code == 2 and r.err.count("\n") == 1 and r.err.startswith("mmcheck: error:")
