"""``mmcheck exec``: start the runtime only when the pair passes; pass its exit code through."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from mmcheck.launch import exec_checked, files_from_command, preflight
from mmcheck.testing import write_projector, write_text_model
from mmcheck.verdict import FailOn
from tests.cli_helpers import run_cli


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A fitting tiny pair and a projector 128 wide that does not fit the 64-wide model."""
    d = tmp_path_factory.mktemp("launch")
    return {
        "model": write_text_model(d / "model.gguf"),
        "mmproj": write_projector(d / "mmproj.gguf"),
        "wide": write_projector(d / "mmproj-wide.gguf", n_embd_out=128),
    }


@pytest.fixture
def fake_server(tmp_path: Path) -> Path:
    """An executable that records its arguments in argv.json and exits 3."""
    script = tmp_path / "fake-server"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, pathlib\n"
        "pathlib.Path(__file__).with_name('argv.json').write_text(json.dumps(sys.argv[1:]))\n"
        "raise SystemExit(3)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_exit_code_of_cmd_is_passed_through(files: dict[str, Path]) -> None:
    r = run_cli("exec", "--model", files["model"], "--mmproj", files["mmproj"], "--",
                sys.executable, "-c", "raise SystemExit(7)")  # fmt: skip
    assert r.code == 7, r.err
    ok = run_cli("exec", "--model", files["model"], "--mmproj", files["mmproj"], "--no-smoke", "--",
                 sys.executable, "-c", "print('runtime started')")  # fmt: skip
    assert ok.code == 0 and ok.out.strip() == "runtime started"


def test_failing_pair_exits_1_without_running_cmd(files: dict[str, Path], tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    r = run_cli("exec", "--model", files["model"], "--mmproj", files["wide"], "--",
                sys.executable, "-c", f"open({str(marker)!r}, 'w')")  # fmt: skip
    assert r.code == 1
    assert not marker.exists()
    assert "MM101" in r.err and "not starting: verdict mismatch" in r.err
    assert r.out == ""


def test_fail_on_unknown_blocks_an_unconfirmed_pair(files: dict[str, Path], tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    cmd = [sys.executable, "-c", f"open({str(marker)!r}, 'w')"]
    r = run_cli("exec", "--model", files["model"], "--mmproj", files["mmproj"], "--fail-on", "unknown", "--", *cmd)
    assert r.code == 1 and not marker.exists()


def test_missing_cmd_exits_2_with_one_line(files: dict[str, Path]) -> None:
    r = run_cli(
        "exec", "--model", files["model"], "--mmproj", files["mmproj"], "--", "no-such-runtime-xyz", "--port", "1"
    )
    assert r.code == 2
    assert r.err.strip().splitlines() == ["mmcheck: error: command not found: no-such-runtime-xyz"]


def test_unreadable_model_exits_2(files: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "m.gguf").write_text("version https://git-lfs.github.com/spec/v1\n")
    r = run_cli("exec", "--model", tmp_path / "m.gguf", "--mmproj", files["mmproj"], "--", sys.executable, "-c", "0")
    assert r.code == 2 and "Git LFS pointer" in r.err


def test_files_are_taken_from_the_runtime_command_line(files: dict[str, Path], fake_server: Path) -> None:
    args = ["-m", str(files["model"]), f"--mmproj={files['mmproj']}", "--port", "5001", "--flag"]
    r = run_cli("exec", "--no-smoke", "--", fake_server, *args)
    assert r.code == 3, r.err
    assert json.loads((fake_server.parent / "argv.json").read_text()) == args


def test_runtime_options_after_cmd_are_not_mmcheck_options(files: dict[str, Path], fake_server: Path) -> None:
    # `--model` after CMD belongs to CMD (koboldcpp style), even without `--`
    r = run_cli("exec", fake_server, "--model", files["model"], "--mmproj", files["mmproj"], "--help")
    assert r.code == 3, r.err
    assert json.loads((fake_server.parent / "argv.json").read_text())[-1] == "--help"


def test_files_from_command() -> None:
    assert files_from_command(["koboldcpp", "--model", "a.gguf", "--mmproj", "b.gguf"]) == ("a.gguf", "b.gguf")
    assert files_from_command(["llama-server", "-m", "a.gguf", "-mm", "b.gguf"]) == ("a.gguf", "b.gguf")
    assert files_from_command(["llama-server", "--model=a.gguf"]) == ("a.gguf", None)
    assert files_from_command(["x"]) == (None, None)


def test_library_exec_checked_returns_the_code(files: dict[str, Path]) -> None:
    err = io.StringIO()
    code = exec_checked(files["model"], files["mmproj"], [sys.executable, "-c", "raise SystemExit(5)"], stderr=err)
    assert code == 5
    blocked = exec_checked(files["model"], files["wide"], [sys.executable, "-c", "0"], stderr=err, smoke=False)
    assert blocked == 1 and "MM101" in err.getvalue()


def test_preflight_strict_roles(files: dict[str, Path]) -> None:
    swapped = preflight(files["mmproj"], files["model"], fail_on=FailOn.mismatch, smoke=False)
    assert not swapped.passed and "MM002" in {f.rule for f in swapped.report.findings}


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_killed_cmd_reports_128_plus_signal(files: dict[str, Path]) -> None:
    cmd = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"]
    assert exec_checked(files["model"], files["mmproj"], cmd, smoke=False) == 128 + 15
