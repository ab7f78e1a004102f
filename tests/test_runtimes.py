"""The runtime the user has (issue 14 part 2): --runtime parsing, the version table's edge cases,
the MM405/MM406 findings, config wiring and `mmcheck exec`'s detection."""

from __future__ import annotations

import shutil
import stat
import sys
from pathlib import Path

import pytest

from mmcheck.db import CompatDB, load_db, validate_db
from mmcheck.errors import ConfigError
from mmcheck.runtimes import RuntimeSpec, detect_runtime, parse_runtime, type_support
from mmcheck.testing import write_projector, write_text_model
from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1] / "compat_db"


def status(db: CompatDB, spec: str, type_id: str) -> str:
    return type_support(db, parse_runtime(spec, db), type_id).status


# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("llama.cpp@b6907", RuntimeSpec("llama.cpp", "b6907")),
        ("llama.cpp@6907", RuntimeSpec("llama.cpp", "b6907")),
        ("llamacpp@b6907", RuntimeSpec("llama.cpp", "b6907")),
        ("llama.cpp@0c1e570", RuntimeSpec("llama.cpp", "0c1e570")),
        ("KoboldCpp@1.98", RuntimeSpec("koboldcpp", "1.98")),
        ("ollama@v0.12.3", RuntimeSpec("ollama", "0.12.3")),
        ("lmstudio@0.3.30", RuntimeSpec("lmstudio", "0.3.30")),
        ("llama-cpp-python@0.3.16", RuntimeSpec("llama-cpp-python", "0.3.16")),
    ],
)
def test_parse_runtime(db: CompatDB, text: str, want: RuntimeSpec) -> None:
    assert parse_runtime(text, db) == want


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("vllm@0.6", "unknown runtime 'vllm'"),
        ("llama.cpp", "has no version"),
        ("koboldcpp@", "has no version"),
        ("llama.cpp@latest", "is not a build"),
        ("koboldcpp@1.98-rc1", "is not a version"),
        ("ollama@0.12.x", "is not a version"),
        ("@1.2", "unknown runtime"),
    ],
)
def test_malformed_runtime_is_one_clear_error(db: CompatDB, text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_runtime(text, db)


def test_runtime_version_from_the_config_key(db: CompatDB) -> None:
    assert parse_runtime("koboldcpp", db, "1.98") == RuntimeSpec("koboldcpp", "1.98")
    with pytest.raises(ConfigError, match="names a version and runtime-version gives another"):
        parse_runtime("koboldcpp@1.98", db, "1.99")


# --- the shipped table: exactly the first version, one before, unknown -----------------------


@pytest.mark.parametrize(
    ("spec", "type_id", "want"),
    [
        # llama.cpp builds: exact boundaries read from the master history
        ("llama.cpp@b3557", "resampler", "yes"),  # the first build
        ("llama.cpp@b3556", "resampler", "no"),  # one before
        ("llama.cpp@b2470", "ldpv2", "yes"),
        ("llama.cpp@b2469", "ldpv2", "no"),
        ("llama.cpp@b1950", "mlp", "yes"),  # before the type table: every projector was an MLP
        ("llama.cpp@b1950", "ldp", "no"),
        ("llama.cpp@b6887", "qwen3vl_merger", "yes"),  # reported first build
        ("llama.cpp@b6886", "qwen3vl_merger", "no"),
        ("llama.cpp@b5000", "gemma3", "unknown"),  # between b3972 (without) and b6646 (with)
        ("llama.cpp@b9493", "gemma4uv", "yes"),
        ("llama.cpp@b9492", "gemma4uv", "no"),
        ("llama.cpp@b9000", "kimik25", "unknown"),  # newer than every known type list
        ("llama.cpp@0c1e570", "gemma4uv", "yes"),  # the reference revision
        ("llama.cpp@7f8ef50cc", "cogvlm", "yes"),  # a commit that is a known build
        # llama-cpp-python: every sdist's vendored clip-impl.h
        ("llama-cpp-python@0.3.16", "qwen3vl_merger", "no"),
        ("llama-cpp-python@0.3.16", "gemma3", "yes"),
        ("llama-cpp-python@0.3.36", "gemma4uv", "yes"),
        ("llama-cpp-python@0.3.37", "gemma4uv", "yes"),  # newer than all: known since 0.3.36
        ("llama-cpp-python@0.2.90", "gemma3", "unknown"),  # older than every snapshot
        # KoboldCpp: tagged sources up to 1.76, then a public thread for Qwen3-VL
        ("koboldcpp@1.62", "ldpv2", "yes"),
        ("koboldcpp@1.61.2", "ldpv2", "no"),
        ("koboldcpp@1.101", "qwen3vl_merger", "yes"),
        ("koboldcpp@1.100.1", "qwen3vl_merger", "no"),
        ("koboldcpp@1.98", "gemma3", "unknown"),
        # Ollama: vendored sources up to 0.24, then llama.cpp releases (LLAMA_CPP_VERSION)
        ("ollama@0.13.2", "qwen3vl_merger", "yes"),
        ("ollama@0.13.1", "qwen3vl_merger", "no"),
        ("ollama@0.12", "gemma3", "yes"),  # 0.12 == 0.12.0, between two snapshots that have it
        ("ollama@0.30.4", "gemma4uv", "yes"),  # bundles b9493
        ("ollama@0.30.3", "gemma4uv", "no"),  # bundles b9479
        # LM Studio: nothing recorded
        ("lmstudio@0.3.30", "gemma3", "unknown"),
    ],
)
def test_version_table_edges(db: CompatDB, spec: str, type_id: str, want: str) -> None:
    s = type_support(db, parse_runtime(spec, db), type_id)
    assert s.status == want, s.reason


def test_no_names_the_first_version_and_the_last_without(db: CompatDB) -> None:
    s = type_support(db, parse_runtime("llama.cpp@b3556", db), "resampler")
    assert s.first_known == "b3557" and "b3557" in s.reason
    s = type_support(db, parse_runtime("koboldcpp@1.98", db), "qwen3vl_merger")
    assert s.first_known == "1.101"
    s = type_support(db, parse_runtime("ollama@0.30.3", db), "gemma4uv")
    assert s.via == "llama.cpp b9479" and s.first_known == "b9493"


def test_every_snapshot_type_set_only_grows_or_says_why(db: CompatDB) -> None:
    """Drops are explicit; the reconstructed sets of the newest snapshots hold the reference types."""
    from mmcheck.runtimes import _snapshots

    lcpp = _snapshots(db.runtimes["llama-cpp-python"])
    assert lcpp[-1][1].version == "0.3.36"
    assert lcpp[-1][2] == frozenset(t for t in db.projector_types if t != "mlp_norm")


# --- the logic, on a database of our own -------------------------------------------------------

TOY = """\
schema_version: 1
runtimes:
  - id: llama.cpp
    name: llama.cpp
    versioning: build
    versions:
      - {version: "b100", snapshot: true, adds: [mlp], source: test}
      - {version: "b200", snapshot: true, adds: [ldp], source: test}
      - {version: "b300", adds: [gemma3], source: test}
      - {version: "b400", snapshot: true, adds: [gemma3, pixtral], drops: [ldp], source: test}
    source: test
    confidence: confirmed
  - id: koboldcpp
    name: KoboldCpp
    source: test
    confidence: confirmed
  - id: bundler
    name: Bundler
    versions:
      - {version: "1.0", llama_cpp_build: b250, source: test}
      - {version: "2.0", snapshot: true, adds: [mlp, ldp], source: test}
      - {version: "2.2", snapshot: true, adds: [pixtral], source: test}
    source: test
    confidence: confirmed
"""


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> CompatDB:
    d = tmp_path_factory.mktemp("toydb")
    shutil.copy(ROOT / "projector_types.yaml", d / "projector_types.yaml")
    shutil.copytree(ROOT / "lineages", d / "lineages")
    (d / "runtimes.yaml").write_text(TOY)
    return load_db(d)


@pytest.mark.parametrize(
    ("spec", "type_id", "want"),
    [
        ("llama.cpp@b100", "mlp", "yes"),
        ("llama.cpp@b150", "ldp", "unknown"),  # added between b100 and b200
        ("llama.cpp@b200", "ldp", "yes"),
        ("llama.cpp@b250", "ldp", "unknown"),  # dropped between b200 and b400
        ("llama.cpp@b400", "ldp", "no"),
        ("llama.cpp@b299", "gemma3", "no"),  # an exact first version wins over the snapshots
        ("llama.cpp@b300", "gemma3", "yes"),
        ("llama.cpp@b350", "pixtral", "unknown"),
        ("llama.cpp@b50", "pixtral", "no"),  # older than all, and absent from the oldest
        ("llama.cpp@b50", "mlp", "unknown"),  # older than all, present in the oldest
        ("llama.cpp@b999", "pixtral", "yes"),
        ("bundler@1.0", "ldp", "unknown"),  # bundles b250: ldp was dropped between b200 and b400
        ("bundler@2.1", "ldp", "yes"),
        ("bundler@2.1", "pixtral", "unknown"),
        ("bundler@2.2", "pixtral", "yes"),
        ("bundler@1.5", "mlp", "unknown"),  # no bundled build known, older than every snapshot
    ],
)
def test_logic(toy: CompatDB, spec: str, type_id: str, want: str) -> None:
    s = type_support(toy, parse_runtime(spec, toy), type_id)
    assert s.status == want, s.reason
    if spec == "bundler@1.0":
        assert s.via == "llama.cpp b250"


def _runtimes_file(tmp_path: Path, versions: str) -> str:
    shutil.copy(ROOT / "projector_types.yaml", tmp_path / "projector_types.yaml")
    shutil.copytree(ROOT / "lineages", tmp_path / "lineages")
    (tmp_path / "runtimes.yaml").write_text(
        "schema_version: 1\n"
        "runtimes:\n"
        "  - {id: llama.cpp, name: llama.cpp, versioning: build, source: t, confidence: confirmed}\n"
        "  - id: koboldcpp\n"
        "    name: KoboldCpp\n"
        "    versions:\n" + versions + "    source: t\n    confidence: confirmed\n"
    )
    return "\n".join(str(e) for e in validate_db(tmp_path))


def test_schema_checks_snapshot_order_and_drops(tmp_path: Path) -> None:
    errors = _runtimes_file(
        tmp_path,
        '      - {version: "2.0", snapshot: true, adds: [mlp, ldp], source: t}\n'
        '      - {version: "1.5", snapshot: true, adds: [pixtral], source: t}\n'
        '      - {version: "2.2", snapshot: true, drops: [gemma3], source: t}\n',
    )
    assert "'1.5' is not after the previous snapshot" in errors
    assert "drops 'gemma3', which no earlier snapshot has" in errors


def test_schema_checks_version_fields(tmp_path: Path) -> None:
    errors = _runtimes_file(
        tmp_path,
        '      - {version: "2.1", drops: [ldp], source: t}\n'
        '      - {version: "2.3", llama_cpp_build: "250x", llama_cpp_commit: "zz", source: t}\n'
        '      - {version: "2.x", source: t}\n'
        '      - {version: "2.4", snapshot: true, adds: [nonesuch], source: t}\n',
    )
    assert "drops is only allowed on a snapshot entry" in errors
    assert "llama_cpp_build '250x'" in errors and "llama_cpp_commit 'zz'" in errors
    assert "version '2.x' is not a dotted version" in errors
    assert "unknown type 'nonesuch'" in errors


# --- findings and verdicts -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def qwen3(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("qwen3")
    return {
        "model": write_text_model(d / "model.gguf", arch="qwen3vl", deepstack_layers=0),
        "mmproj": write_projector(d / "mmproj.gguf", projector_type="qwen3vl_merger"),
    }


def test_too_old_runtime_is_a_mismatch(qwen3: dict[str, Path]) -> None:
    r = run_cli("pair", qwen3["model"], qwen3["mmproj"], "--no-smoke", "-f", "json",
                "--runtime", "llama-cpp-python@0.3.16")  # fmt: skip
    assert r.code == 1, r.err
    import json

    doc = json.loads(r.out)
    assert doc["verdict"] == "mismatch"
    mm405 = [f for f in doc["findings"] if f["rule"] == "MM405"]
    assert mm405 and "0.3.16" in mm405[0]["message"] and mm405[0]["severity"] == "error"
    assert "llama-cpp-python" in mm405[0]["hint"]


def test_new_enough_runtime_changes_nothing(qwen3: dict[str, Path]) -> None:
    base = run_cli("pair", qwen3["model"], qwen3["mmproj"], "--no-smoke", "-q")
    new = run_cli("pair", qwen3["model"], qwen3["mmproj"], "--no-smoke", "-q", "--runtime", "llama-cpp-python@0.3.36")
    assert new.code == base.code and new.out == base.out


def test_unknown_support_is_an_info_finding(qwen3: dict[str, Path]) -> None:
    r = run_cli("pair", qwen3["model"], qwen3["mmproj"], "--no-smoke", "--runtime", "lmstudio@0.3.30")
    assert "MM406" in r.out and "not known" in r.out
    assert "MM405" not in r.out


def test_malformed_runtime_exits_2_with_one_line(qwen3: dict[str, Path]) -> None:
    for bad in ("vllm@1", "llama.cpp@latest", "koboldcpp"):
        r = run_cli("pair", qwen3["model"], qwen3["mmproj"], "--runtime", bad)
        assert r.code == 2, (bad, r.err)
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("mmcheck: error:"), r.err


def test_lint_and_config_take_the_runtime(qwen3: dict[str, Path], tmp_path: Path) -> None:
    r = run_cli("lint", qwen3["mmproj"], "--runtime", "koboldcpp@1.100.1")
    assert r.code == 1 and "MM405" in r.out and "1.101" in r.out
    (tmp_path / "mmcheck.toml").write_text('runtime = "koboldcpp"\nruntime-version = "1.98"\n')
    r = run_cli("lint", qwen3["mmproj"], cwd=tmp_path)
    assert r.code == 1 and "MM405" in r.out
    (tmp_path / "mmcheck.toml").write_text('runtime = "koboldcpp@1.101"\n')
    r = run_cli("lint", qwen3["mmproj"], cwd=tmp_path)
    assert "MM405" not in r.out
    (tmp_path / "mmcheck.toml").write_text('runtime = "kobold-ish@1"\n')
    r = run_cli("lint", qwen3["mmproj"], cwd=tmp_path)
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    (tmp_path / "mmcheck.toml").write_text('runtime-version = "1.98"\n')
    r = run_cli("lint", qwen3["mmproj"], cwd=tmp_path)
    assert r.code == 2 and "runtime-version is set but runtime is not" in r.err


# --- exec: detection -----------------------------------------------------------------------------


def _fake(tmp_path: Path, name: str, body: str) -> Path:
    script = tmp_path / name
    script.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_detect_llama_cpp_koboldcpp_ollama(tmp_path: Path) -> None:
    server = _fake(tmp_path, "llama-server", "print('version: 6840 (3cfa9c3f1)', file=sys.stderr)")
    assert detect_runtime([str(server), "-m", "x"]) == RuntimeSpec("llama.cpp", "b6840")
    nobuild = _fake(tmp_path, "llama-mtmd-cli", "print('version: 0 (0c1e57098)')")
    assert detect_runtime([str(nobuild)]) == RuntimeSpec("llama.cpp", "0c1e57098")
    kobold = _fake(tmp_path, "koboldcpp", "print('1.100.1')")
    assert detect_runtime([str(kobold), "--model", "m"]) == RuntimeSpec("koboldcpp", "1.100.1")
    ollama = _fake(tmp_path, "ollama", "print('ollama version is 0.12.3')")
    assert detect_runtime([str(ollama), "serve"]) == RuntimeSpec("ollama", "0.12.3")
    py = _fake(tmp_path, "python3", "print('0.3.16')")
    assert detect_runtime([str(py), "-m", "llama_cpp.server"]) == RuntimeSpec("llama-cpp-python", "0.3.16")


def test_detect_gives_up_quietly(tmp_path: Path) -> None:
    slow = _fake(tmp_path, "llama-server", "time.sleep(30)")
    assert detect_runtime([str(slow)], timeout=0.5) is None
    garbage = _fake(tmp_path, "koboldcpp", "print('no version here')")
    assert detect_runtime([str(garbage)]) is None
    assert detect_runtime(["/bin/true"]) is None  # not a runtime we know
    assert detect_runtime([]) is None


def test_exec_blocks_a_runtime_too_old_for_the_type(qwen3: dict[str, Path], tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    server = _fake(
        tmp_path,
        "llama-server",
        "if '--version' in sys.argv:\n    print('version: 6840 (3cfa9c3f1)'); raise SystemExit(0)\n"
        f"open({str(marker)!r}, 'w')",
    )
    cmd = [str(server), "-m", str(qwen3["model"]), "--mmproj", str(qwen3["mmproj"])]
    r = run_cli("exec", "--no-smoke", "--", *cmd)
    assert r.code == 1 and not marker.exists(), r.err
    assert "runtime detected: llama.cpp@b6840" in r.err and "MM405" in r.err
    # told otherwise, it starts
    r = run_cli("exec", "--no-smoke", "--runtime", "llama.cpp@b7108", "--", *cmd)
    assert r.code == 0 and marker.exists(), r.err
    assert "runtime detected" not in r.err


def test_shipped_database_is_valid() -> None:
    assert validate_db(ROOT) == []


def test_runtimes_doc_lists_every_recorded_version(db: CompatDB) -> None:
    text = (ROOT.parent / "docs" / "runtimes.md").read_text(encoding="utf-8")
    for rt in db.runtimes.values():
        for rv in rt.versions:
            if rv.version is not None:
                assert f"| {rv.version} |" in text, (rt.id, rv.version)
    assert "/work/" not in text  # cites public sources only
