"""What a new user meets in the first ten minutes: no hangs, no false "clean", one-line errors,
deterministic machine output and the CLI habits of ruff / mypy / pip-audit.

Each test names the defect it guards against; every one of them failed before its fix.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mmcheck.errors import printable
from mmcheck.testing import write_projector, write_text_model
from tests import gguf_bytes as gb
from tests.cli_helpers import run_cli


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("pair")
    model = write_text_model(d / "model.gguf", n_embd=64)
    proj = write_projector(d / "mmproj.gguf", n_embd_out=64)
    return model, proj


def _one_error_line(err: str, fragment: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("mmcheck: error: "), err
    assert fragment in lines[0], err
    assert "Traceback" not in err


# --- FIFOs and devices: never opened, never a hang ------------------------------------------------


def _run_with_timeout(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # a regression (opening the FIFO) blocks forever: the timeout turns that into a failure
    return subprocess.run(
        [sys.executable, "-m", "mmcheck", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=60
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_fifo_in_a_scanned_folder_is_reported_not_opened(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    for f in pair:
        shutil.copy(f, tmp_path)
    os.mkfifo(tmp_path / "pipe.gguf")
    proc = _run_with_timeout("scan", ".", "-f", "json", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    unreadable = [f for f in doc["files"] if f["status"] == "unreadable"]
    assert [Path(f["path"]).name for f in unreadable] == ["pipe.gguf"]
    assert "named pipe" in unreadable[0]["error"]
    # the pair beside it is still checked
    assert any(p["verdict"] for p in doc["pairs"])
    table = _run_with_timeout("scan", ".", cwd=tmp_path)
    assert "MM091" in table.stdout and "pipe.gguf: pipe.gguf" not in table.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
@pytest.mark.parametrize("command", ["pair", "lint", "inspect", "scan", "suggest"])
def test_a_fifo_given_by_name_is_one_line_and_exit_2(tmp_path: Path, pair: tuple[Path, Path], command: str) -> None:
    fifo = tmp_path / "pipe.gguf"
    os.mkfifo(fifo)
    args: list[str | Path] = [command, fifo]
    if command == "pair":
        args.append(pair[1])
    proc = _run_with_timeout(*args)
    if command == "scan":  # a scan lists what it found, the FIFO among the unreadable files
        assert "named pipe" in proc.stdout and proc.returncode == 1, proc.stdout + proc.stderr
        return
    assert proc.returncode == 2, proc.stdout + proc.stderr
    _one_error_line(proc.stderr, "named pipe (FIFO), not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_suggest_says_which_candidates_it_could_not_look_at(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    for f in pair:
        shutil.copy(f, tmp_path)
    os.mkfifo(tmp_path / "pipe.gguf")
    (tmp_path / "cut.gguf").write_bytes(pair[0].read_bytes()[:100])  # the header cut short
    (tmp_path / "lfs.gguf").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\n")
    for fmt in ("table", "json"):
        proc = _run_with_timeout("suggest", tmp_path / "mmproj.gguf", "-f", fmt)
        assert proc.returncode == 0, proc.stderr  # the model beside it fits; the skipped files do not change that
        warnings = proc.stderr.splitlines()
        named = [line.split(": ")[2] for line in warnings]  # mmcheck: warning: PATH: reason (skipped)
        assert named == [str(tmp_path / n) for n in ("cut.gguf", "lfs.gguf", "pipe.gguf")]
        assert all(line.startswith("mmcheck: warning: ") and line.endswith("(skipped)") for line in warnings)
        assert "named pipe" in warnings[2] and "Git LFS pointer" in warnings[1]
        if fmt == "json":
            json.loads(proc.stdout)  # stdout holds the document alone
    from mmcheck.scan import suggest

    skipped: list[tuple[str, str]] = []
    assert [Path(r.model_path).name for r in suggest(tmp_path / "mmproj.gguf", skipped=skipped)] == ["model.gguf"]
    assert sorted(Path(p).name for p, _ in skipped) == ["cut.gguf", "lfs.gguf", "pipe.gguf"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full (a device whose writes fail) here")
@pytest.mark.parametrize("args", [["pair", "MODEL", "MMPROJ"], ["pair", "MODEL", "MMPROJ", "-f", "json"],
                                  ["scan", "DIR"], ["--version"], ["pair", "--help"]])  # fmt: skip
def test_output_that_cannot_be_written_is_one_line_and_exit_2(pair: tuple[Path, Path], args: list[str]) -> None:
    given = {"MODEL": str(pair[0]), "MMPROJ": str(pair[1]), "DIR": str(pair[0].parent)}
    with open("/dev/full", "w") as full:  # every write fails with ENOSPC, as on a full disk
        proc = subprocess.run(
            [sys.executable, "-m", "mmcheck", *(given.get(a, a) for a in args)],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "mmcheck: error: cannot write the output: No space left on device\n"


def test_a_character_device_is_refused_without_reading(pair: tuple[Path, Path]) -> None:
    proc = _run_with_timeout("pair", "/dev/zero", pair[1])  # reading it would never end
    assert proc.returncode == 2
    _one_error_line(proc.stderr, "/dev/zero")


# --- lint and inspect apply every single-file rule ------------------------------------------------


def test_lint_reports_a_truncated_download_as_an_error(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    data = pair[1].read_bytes()
    cut = tmp_path / "mmproj-partial.gguf"
    cut.write_bytes(data[: len(data) - 4096])
    r = run_cli("lint", cut)
    assert r.code == 1, r.out + r.err
    assert "MM006" in r.out and "error" in r.out
    j = json.loads(run_cli("lint", "-f", "json", cut).out)
    assert j["files"][0]["status"] == "error"
    assert "MM006" in {f["rule"] for f in j["files"][0]["findings"]}
    i = run_cli("inspect", cut)
    assert i.code == 1 and "MM006" in i.out, i.out


def test_lint_reports_a_big_endian_file(tmp_path: Path) -> None:
    data, _ = gb.minimal(order=">")
    f = tmp_path / "be.gguf"
    f.write_bytes(data)
    r = run_cli("lint", f)
    assert r.code in (1, 2), r.out + r.err
    assert "big-endian" in (r.out + r.err).lower()
    assert "ok" not in r.out.split(":")[-1]


def test_lint_reports_a_nested_array(tmp_path: Path) -> None:
    kvs = [
        ("general.architecture", gb.STR, "llama"),
        ("llama.embedding_length", gb.U32, 8),
        ("odd.nested", gb.ARR, (gb.ARR, [(gb.U32, [1, 2]), (gb.U32, [3])])),
    ]
    data, _ = gb.minimal(kvs=kvs)
    f = tmp_path / "nested.gguf"
    f.write_bytes(data)
    r = run_cli("lint", f)
    assert r.code == 1, r.out + r.err
    assert "nested" in r.out


def test_a_later_shard_is_named_as_such(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    # gguf-split writes only split.no / split.count / split.tensors.count into a later shard
    # (ggml-org/llama.cpp tools/gguf-split/gguf-split.cpp@0c1e570, gguf_split::split_start)
    kvs = [("split.no", gb.U16, 1), ("split.count", gb.U16, 3), ("split.tensors.count", gb.I32, 290)]
    data, _ = gb.build(kvs, [gb.Tensor("blk.20.ffn_up.weight", (8, 4))])
    shard = tmp_path / "Model-Q4_K_M-00002-of-00003.gguf"
    shard.write_bytes(data)
    r = run_cli("pair", shard, pair[1])
    assert r.code == 1
    assert "MM008" in r.out and "shard 2 of 3" in r.out
    assert "Model-Q4_K_M-00001-of-00003.gguf" in r.out
    assert "both files are projectors" not in r.out and "is a other" not in r.out
    lint = run_cli("lint", shard)
    assert lint.code == 1 and "MM008" in lint.out


def test_lint_on_a_clean_file_is_ok_even_with_fail_on_unknown(pair: tuple[Path, Path]) -> None:
    r = run_cli("lint", "--fail-on", "unknown", *pair)
    assert r.code == 0, r.out + r.err
    assert "unknown" not in r.out
    assert r.out.count(": ok") == 2


def test_lint_takes_folders(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    shutil.copy(pair[0], sub / "deep.gguf")
    shutil.copy(pair[1], tmp_path / "top.gguf")
    (tmp_path / "notes.txt").write_text("not a model")
    r = run_cli("lint", ".", cwd=tmp_path)
    assert r.code == 0, r.out + r.err
    assert "deep.gguf" in r.out and "top.gguf" in r.out and "notes.txt" not in r.out
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_cli("lint", empty)
    assert r.code == 0 and "No GGUF files found" in r.err


# --- files and settings -------------------------------------------------------------------------


def test_output_onto_an_input_is_refused_and_the_input_kept(pair: tuple[Path, Path]) -> None:
    before = pair[0].read_bytes()
    r = run_cli("pair", *pair, "-o", pair[0])
    assert r.code == 2
    _one_error_line(r.err, "refusing to write the report over it")
    assert pair[0].read_bytes() == before


@pytest.mark.parametrize(
    "text",
    [
        "[tool.mmcheck\nselect = 1",  # not TOML
        "tool = 'mmcheck'",
        "tool = 1",
        "[tool]\nmmcheck = 1",
        "[tool.mmcheck]\nselect = 3",
        "[tool.mmcheck]\nnot_a_setting = true",
    ],
)
def test_a_bad_pyproject_is_one_line_and_exit_2(tmp_path: Path, pair: tuple[Path, Path], text: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    r = run_cli("pair", *pair, cwd=tmp_path)
    assert r.code == 2, r.out + r.err
    _one_error_line(r.err, "pyproject.toml")


def test_the_readme_block_works_in_mmcheck_toml(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    (tmp_path / "mmcheck.toml").write_text('[tool.mmcheck]\nignore = ["MM007"]\nformat = "json"\n')
    r = run_cli("pair", *pair, cwd=tmp_path)
    assert r.code == 0, r.err
    assert "MM007" not in {f["rule"] for f in json.loads(r.out)["findings"]}


# --- verdict and messages ---------------------------------------------------------------------------


def test_ignoring_the_width_rule_never_claims_the_widths_fit(tmp_path: Path) -> None:
    model = write_text_model(tmp_path / "m.gguf", n_embd=96)
    proj = write_projector(tmp_path / "p.gguf", n_embd_out=64)
    r = run_cli("pair", model, proj, "--ignore", "MM101", "--no-smoke")
    assert "widths fit" not in r.out
    assert "width check was not run" in r.out
    # the smoke test, when it runs, still measures the width and refuses the pair
    smoke = run_cli("pair", model, proj, "--ignore", "MM101")
    assert smoke.code == 1 and "widths fit" not in smoke.out


@pytest.mark.parametrize("case", ["two-models", "two-projectors", "same-file"])
def test_role_errors_say_what_is_missing(tmp_path: Path, pair: tuple[Path, Path], case: str) -> None:
    model, proj = pair
    other = tmp_path / "other.gguf"
    shutil.copy(model if case == "two-models" else proj, other)
    args = {"two-models": (model, other), "two-projectors": (proj, other), "same-file": (proj, proj)}[case]
    r = run_cli("pair", *args)
    assert r.code == 1
    expected = {
        "two-models": "no projector (mmproj, general.architecture `clip`) was given",
        "two-projectors": "both files are projectors: no text model",
        "same-file": "the same projector was given twice",
    }[case]
    assert expected in " ".join(r.out.split()), r.out
    assert "text model  " not in r.out  # neither file is labelled with a role it does not have


# --- errors -------------------------------------------------------------------------------------


# Run as an unprivileged user: root reads every file, so the check needs a real user. The
# interpreter may live where that user cannot read (/root/.pyenv), so everything is imported, and
# one warm-up run made on readable files, before the privileges are dropped.
_AS_USER = """
import contextlib, importlib, io, os, pkgutil, sys
import mmcheck
for m in pkgutil.walk_packages(mmcheck.__path__, "mmcheck."):
    if ".testing" not in m.name and not m.name.endswith("__main__"):
        try:
            importlib.import_module(m.name)
        except ImportError:
            pass
from mmcheck.cli import main
import json
uid, warm, real = int(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
sys.argv = ["mmcheck", *warm]
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    main(warm)
sys.argv = ["mmcheck", *real]
if uid >= 0:
    os.setgid(uid)
    os.setuid(uid)
sys.exit(main(real))
"""


@pytest.mark.skipif(not hasattr(os, "setuid"), reason="POSIX only")
def test_permission_denied_as_a_non_root_user(pair: tuple[Path, Path]) -> None:
    uid = 65534 if os.geteuid() == 0 else -1  # nobody
    # pytest's own temp folders are private to root: this one must be open to the unprivileged user
    base = Path(tempfile.mkdtemp(prefix="mmcheck-permissions-"))
    try:
        base.chmod(0o755)
        model, proj = (Path(shutil.copy(p, base)) for p in pair)
        for p in (model, proj):
            p.chmod(0o644)
        secret = base / "secret.gguf"
        shutil.copy(pair[0], secret)
        secret.chmod(0)
        locked = base / "locked"
        locked.mkdir()
        shutil.copy(pair[1], locked / "hidden.gguf")
        locked.chmod(0o700 if uid >= 0 else 0)
        # the clone itself may sit in a folder only root can read (mktemp -d): give the user a database copy
        db_copy = Path(shutil.copytree(Path(__file__).resolve().parents[1] / "compat_db", base / "compat_db"))
        for f in [db_copy, *db_copy.rglob("*")]:
            f.chmod(0o755 if f.is_dir() else 0o644)
        env = {**os.environ, "HOME": str(base), "XDG_CACHE_HOME": str(base / "cache"), "MMCHECK_DB": str(db_copy)}

        def as_user(warm: list[str], *args: str | Path) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-c", _AS_USER, str(uid), json.dumps(warm), json.dumps(list(map(str, args)))],
                capture_output=True, text=True, env=env, timeout=120, cwd=base,
            )  # fmt: skip

        r = as_user(["pair", str(model), str(proj)], "pair", secret, proj)
        assert r.returncode == 2, r.stdout + r.stderr
        _one_error_line(r.stderr, "secret.gguf: permission denied")
        # an unreadable folder in a recursive scan is reported, not skipped
        s = as_user(["scan", "-r", str(model.parent), "-f", "json"], "scan", "-r", base, "-f", "json")
        doc = json.loads(s.stdout)
        assert any("locked" in f["path"] for f in doc["unreadable_folders"]), s.stdout
        assert s.returncode == 1
        # a database folder, or a database file, the user cannot read is one line, never "internal error"
        (db_copy / "families").chmod(0)
        for command in (["pair", model, proj], ["db", "show", "siglip"], ["db", "validate"]):
            d = as_user(["rules"], *command)
            assert d.returncode == 2, (command, d.stdout + d.stderr)
            _one_error_line(d.stderr, "families: cannot list the folder: Permission denied")
        (db_copy / "families").chmod(0o755)
        (db_copy / "runtimes.yaml").chmod(0)
        d = as_user(["rules"], "pair", model, proj)
        assert d.returncode == 2, d.stdout + d.stderr
        _one_error_line(d.stderr, "runtimes.yaml: cannot read: Permission denied")
    finally:
        (base / "locked").chmod(0o700)
        for folder in base.rglob("*"):
            if folder.is_dir():
                folder.chmod(0o755)
        shutil.rmtree(base)


def test_non_utf8_file_names_in_every_format(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    raw = os.fsencode(tmp_path) + b"/mod\xe8le-\xff.gguf"
    shutil.copy(pair[0], raw)
    name = os.fsdecode(raw)
    from mmcheck.render import FORMATS_OF

    for fmt in (f.value for f in FORMATS_OF["pair"]):
        proc = subprocess.run(
            [sys.executable, "-m", "mmcheck", "pair", name, str(pair[1]), "-f", fmt], capture_output=True, timeout=60
        )
        assert proc.returncode == 0, (fmt, proc.stderr)
        assert b"Traceback" not in proc.stderr and b"internal error" not in proc.stderr
        text = proc.stdout.decode("utf-8")  # strict: no lone surrogates, no undecodable bytes
        assert "mod" in text or fmt == "github", fmt  # github annotates findings only
        if fmt == "json":
            json.loads(text)
        if fmt == "sarif":
            json.loads(text)
    # a scan pairs it with the projector beside it: the name is also a key of the matrix (json,
    # sarif) and a row of the table and the html page
    shutil.copy(pair[1], tmp_path / "mmproj.gguf")
    for fmt in (f.value for f in FORMATS_OF["scan"]):
        scan = subprocess.run(
            [sys.executable, "-m", "mmcheck", "scan", str(tmp_path), "-f", fmt], capture_output=True, timeout=60
        )
        assert b"internal error" not in scan.stderr and b"Traceback" not in scan.stderr, (fmt, scan.stderr)
        text = scan.stdout.decode("utf-8")  # strict, as above
        # json and sarif are checked as documents below; github and junit list findings only
        assert "mod\\xe8le-\\xff" in text or fmt in ("github", "junit", "json", "sarif"), fmt
        if fmt in ("json", "sarif"):
            doc = json.loads(text)
            matrix = doc["matrix"] if fmt == "json" else doc["runs"][0]["properties"]["scan"]["matrix"]
            ((projector, row),) = matrix.items()
            assert projector.endswith("/mmproj.gguf") and [*row] == [printable(name)], matrix
        if fmt == "json":
            assert len(doc["files"]) == 2
    for command, fmts in (("lint", FORMATS_OF["lint"]), ("suggest", FORMATS_OF["suggest"])):
        args = [str(tmp_path)] if command == "lint" else [name, str(tmp_path)]
        for fmt in (f.value for f in fmts):
            proc = subprocess.run(
                [sys.executable, "-m", "mmcheck", command, *args, "-f", fmt], capture_output=True, timeout=60
            )
            assert proc.returncode == 0, (command, fmt, proc.stderr)
            text = proc.stdout.decode("utf-8")
            if fmt in ("json", "sarif"):
                json.loads(text)


# --- deterministic machine output ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit"])
def test_two_runs_give_byte_identical_output(pair: tuple[Path, Path], fmt: str) -> None:
    first, second = (run_cli("pair", *pair, "-f", fmt) for _ in range(2))
    assert first.out == second.out
    assert "seconds" not in first.out and "timings" not in first.out


def test_timings_only_on_request(pair: tuple[Path, Path]) -> None:
    doc = json.loads(run_cli("pair", *pair, "-f", "json", "--timings").out)
    assert doc["timings"]["total_seconds"] >= 0
    assert "timings" not in json.loads(run_cli("pair", *pair, "-f", "json").out)


def test_smoke_findings_share_the_finding_shape(pair: tuple[Path, Path]) -> None:
    from mmcheck.rules import RULES

    doc = json.loads(run_cli("pair", *pair, "-f", "json").out)
    for f in doc["findings"]:
        assert set(f) >= {"rule", "severity", "message"} and "code" not in f
        assert f["severity"] == RULES[f["rule"]].severity.value


# --- CLI habits -------------------------------------------------------------------------------


def test_version_flag_and_version_in_json(pair: tuple[Path, Path]) -> None:
    from mmcheck import __version__

    for flag in ("--version", "-V"):
        r = run_cli(flag)
        assert r.code == 0 and r.out.strip() == f"mmcheck {__version__}"
    assert json.loads(run_cli("pair", *pair, "-f", "json").out)["mmcheck_version"] == __version__


def test_shell_completion_is_offered() -> None:
    r = run_cli("--show-completion", "bash", env={**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert r.code == 0, r.err
    assert "complete" in r.out and "mmcheck" in r.out


def test_comma_lists_and_rule_lookup(pair: tuple[Path, Path]) -> None:
    doc = json.loads(run_cli("pair", *pair, "-f", "json", "--select", "MM0,MM1").out)
    assert {f["rule"][:3] for f in doc["findings"]} <= {"MM0", "MM1"}
    r = run_cli("rules", "MM101")
    assert r.code == 0 and "MM101" in r.out and "projector-width-mismatch" in r.out and "fix:" in r.out
    assert "MM102" not in r.out
    bad = run_cli("rules", "MM9999")
    assert bad.code == 2
    _one_error_line(bad.err, "MM9999")


@pytest.mark.parametrize("command", ["", "pair", "lint", "inspect", "scan", "suggest", "rules", "exec", "db"])
def test_help_fits_columns_without_duplicated_notes(command: str) -> None:
    env = {**os.environ, "COLUMNS": "72", "TERM": "dumb"}
    r = run_cli(*([command] if command else []), "--help", env=env)
    assert r.code == 0, r.err
    too_long = [ln for ln in r.out.splitlines() if len(ln) > 72]
    assert not too_long, too_long
    for note in ("[env var", "[default"):
        assert r.out.count(note) <= 1 or note == "[default", r.out


def test_no_gguf_files_found_is_a_plain_line(tmp_path: Path) -> None:
    r = run_cli("scan", tmp_path)
    assert r.code == 0
    assert r.out.strip() == "No GGUF files found."


def test_usage_errors_are_one_line(pair: tuple[Path, Path]) -> None:
    for args in (("pair",), ("pair", *pair, "--format", "xml"), ("pair", *pair, "--no-such-flag"), ("frobnicate",)):
        r = run_cli(*args)
        assert r.code == 2, args
        _one_error_line(r.err, "")


def test_header_struct_is_untouched_by_a_run(pair: tuple[Path, Path]) -> None:
    """Never write to an input: the bytes and mtime of both files survive every command."""
    before = [(p.read_bytes(), p.stat().st_mtime_ns) for p in pair]
    for args in (("pair", *pair), ("lint", *pair), ("inspect", *pair), ("scan", pair[0].parent)):
        run_cli(*args)
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in pair] == before
    assert struct.unpack("<I", pair[0].read_bytes()[:4]) == (0x46554747,)
