"""``mmcheck inspect`` end to end: formats, kinds, errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmcheck.testing import write_lora_adapter, write_projector, write_text_model
from tests.cli_helpers import run_cli


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inspect")
    return {
        "text": write_text_model(d / "model.gguf", n_embd=64, context_length=4096, name="Tiny Llama"),
        "vision": write_projector(d / "mmproj.gguf", n_embd_out=64),
        "audio": write_projector(d / "audio.gguf", projector_type="ultravox", n_embd_out=64),
        "omni": write_projector(d / "omni.gguf", projector_type="qwen2.5o", n_embd_out=64),
        "lora": write_lora_adapter(d / "lora.gguf"),
        "header_only": write_text_model(d / "ho.gguf", n_embd=4096, vocab_size=1000, n_layer=4, header_only=True),
    }


def test_json_describes_each_kind(files: dict[str, Path]) -> None:
    r = run_cli("inspect", "--format", "json", *files.values())
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["schema_version"] == 2
    assert doc["errors"] == []
    by_name = {Path(f["path"]).name: f for f in doc["files"]}
    assert by_name["model.gguf"]["status"] == "ok"
    assert by_name["lora.gguf"]["status"] in ("ok", "warning", "error")
    text = by_name["model.gguf"]
    assert text["kind"] == "text-model"
    assert text["text"]["n_embd"] == 64
    assert text["text"]["context_length"] == 4096
    assert text["text"]["vocab_size"] == 512
    assert text["text"]["tokenizer_fingerprint"].startswith("blake2b:")
    assert by_name["mmproj.gguf"]["description"] == "projector (vision)"
    assert by_name["mmproj.gguf"]["projector"]["output_width"] == 64
    assert by_name["audio.gguf"]["description"] == "projector (audio)"
    assert by_name["omni.gguf"]["description"] == "projector (vision+audio)"
    assert set(by_name["omni.gguf"]["projector"]["towers"]) == {"vision", "audio"}
    assert by_name["lora.gguf"]["kind"] == "lora-adapter"
    assert by_name["ho.gguf"]["data_status"] == "header-only"
    assert by_name["model.gguf"]["data_status"] == "complete"


def test_table_output_shows_key_facts(files: dict[str, Path]) -> None:
    r = run_cli("inspect", files["text"], files["vision"])
    assert r.code == 0, r.err
    assert "text model" in r.out and "Tiny Llama" in r.out
    assert "mm.2.weight ne[1]" in r.out
    assert "projector (vision)" in r.out


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty file"),
        (b"PK\x03\x04" + b"\0" * 100, "zip archive"),
        (b"GGUF\x03\x00\x00\x00" + b"\xff" * 16, "key/value pairs"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: bytes, fragment: str) -> None:
    p = tmp_path / "bad.gguf"
    p.write_bytes(content)
    r = run_cli("inspect", p)
    assert r.code == 2
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert lines[0].startswith(f"mmcheck: error: {p}: ")
    assert fragment in lines[0]
    assert "Traceback" not in r.err
    assert r.out == ""  # nothing could be shown: no empty table, no blank line


def test_directory_and_missing_file(tmp_path: Path, files: dict[str, Path]) -> None:
    r = run_cli("inspect", tmp_path, tmp_path / "missing.gguf", files["text"])
    assert r.code == 2
    assert "is a directory" in r.err and "no such file" in r.err
    assert "Tiny Llama" in r.out  # the good file is still shown


def test_usage_errors_exit_2() -> None:
    assert run_cli("inspect").code == 2
    assert run_cli("no-such-command").code == 2
    assert run_cli("inspect", "--format", "xml", "x.gguf").code == 2


def test_help_teaches() -> None:
    r = run_cli("--help")
    assert r.code == 0
    assert "mmcheck pair model.gguf mmproj.gguf" in r.out
    r = run_cli("inspect", "--help")
    assert r.code == 0 and "data status" in r.out.replace("\n", " ")


def test_a_git_lfs_pointer_is_an_error_finding_not_unreadable(tmp_path: Path) -> None:
    """inspect and lint apply every single-file rule; a Git LFS pointer is MM090 (exit 1), not exit 2."""
    p = tmp_path / "bad.gguf"
    p.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 9\n")
    r = run_cli("inspect", p)
    assert r.code == 1, r.err
    assert "MM090" in r.out and "git lfs pull" in r.out and r.err == ""


def test_terminal_output_uses_rich_and_pipes_get_the_same_rows(files: dict[str, Path]) -> None:
    from mmcheck.db import load_db
    from mmcheck.inspection import inspect_file
    from mmcheck.lint import Inspected, InspectResult, lint_info
    from mmcheck.render.inspect_table import info_rows, render_inspect

    db = load_db()
    info = inspect_file(files["vision"], db)
    from mmcheck.rules import RULES, Options

    result = InspectResult([Inspected(info, lint_info(info, db, list(RULES.values()), Options()))])
    plain = render_inspect(result, color=False)
    fancy = render_inspect(result, color=True)
    for label, value in info_rows(info):
        assert label in plain and value in plain
        assert label in fancy
    assert plain != fancy  # the terminal gets rich's layout
