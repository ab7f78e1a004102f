"""The ``pair`` fast path (``mmcheck.fastpath``) parses exactly as typer does, or not at all.

typer's declaration of ``pair`` in ``mmcheck.cli`` is the one source of the command's options. These
tests hold the fast path to it three ways:

- each option in the fast path's tables is the same option of typer's ``pair`` (name, parameter,
  flag value, choices), and every environment variable typer reads for ``pair`` turns it off;
- on generated command lines, whenever the fast path takes one, typer parses it into the same
  :class:`~mmcheck.commands.PairArgs` (hypothesis);
- the whole run (stdout, stderr, exit code) is the same through either parser.

That the fast path is actually taken, so ``pair`` starts without typer, is checked in
``tests/test_imports.py``; how much time it saves is measured by ``make bench``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmcheck import cli, fastpath
from mmcheck.commands import PairArgs
from mmcheck.exits import run_guarded
from mmcheck.render import Format
from mmcheck.settings import CommandLine
from mmcheck.testing import write_projector, write_text_model
from mmcheck.verdict import FailOn


def typer_pair_command() -> Any:
    import typer.main

    group = typer.main.get_command(cli._app_for(["pair"]))
    return group.commands["pair"]  # type: ignore[attr-defined]


def param_with(opt: str) -> Any:
    (param,) = [p for p in typer_pair_command().params if opt in (*p.opts, *p.secondary_opts)]
    return param


def typer_parse(argv: list[str]) -> list[PairArgs]:
    """What typer's ``pair`` hands to ``run_pair`` for ``argv`` (nothing: a usage error)."""
    seen: list[PairArgs] = []

    def record(args: PairArgs) -> int:
        seen.append(args)
        return 0

    with mock.patch.object(cli, "run_pair", record):
        cli.run_typer(argv)
    return seen


# ------------------------------------------------------------------------------------------------
# The tables are typer's options
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("opt", sorted(fastpath.FLAGS))
def test_each_fast_flag_is_the_same_flag_of_typers_pair(opt: str) -> None:
    name, value = fastpath.FLAGS[opt]
    param = param_with(opt)
    assert param.name == name
    assert param.is_flag and not param.multiple
    assert value is (opt in param.opts)  # --smoke sets True, its secondary --no-smoke False


@pytest.mark.parametrize("opt", sorted(fastpath.CHOICES))
def test_each_fast_choice_option_is_the_same_option_of_typers_pair(opt: str) -> None:
    name, kind = fastpath.CHOICES[opt]
    param = param_with(opt)
    assert param.name == name
    assert not param.is_flag and not param.multiple and param.nargs == 1
    assert list(param.type.choices) == [m.value for m in kind]


def test_every_parameter_the_fast_path_sets_is_a_field_it_fills() -> None:
    names = {n for n, _ in fastpath.FLAGS.values()} | {n for n, _ in fastpath.CHOICES.values()}
    assert names <= (set(PairArgs._fields) | set(CommandLine._fields)) - {"cli", "model", "mmproj"}


def test_every_environment_variable_typer_reads_for_pair_turns_the_fast_path_off() -> None:
    read = set()
    for p in typer_pair_command().params:
        envvar = p.envvar
        read |= {envvar} if isinstance(envvar, str) else set(envvar or ())
    assert read == {"MMCHECK_DB", "MMCHECK_FORMAT"}
    assert read | {"_MMCHECK_COMPLETE"} == set(fastpath.TYPER_ENVIRONMENT)  # click's completion switch


def test_pair_takes_two_arguments_as_the_fast_path_assumes() -> None:
    arguments = [p for p in typer_pair_command().params if p.param_type_name == "argument"]
    assert [(p.name, p.nargs, p.required) for p in arguments] == [("model", 1, True), ("mmproj", 1, True)]


# ------------------------------------------------------------------------------------------------
# Both parsers give the same PairArgs
# ------------------------------------------------------------------------------------------------

NOISE = ["-", "--", "-qv", "--format=json", "--fail-on=unknown", "-h", "--help", "--bogus", "-o", "out.json",
         "--select", "MM1", "--db", "db", "-c", "512", "html", "json", "unknown", "auto", "", "pair", "-V"]  # fmt: skip
VOCABULARY = sorted(fastpath.FLAGS) + sorted(fastpath.CHOICES) + [f.value for f in Format] + [f.value for f in FailOn]


def command_lines() -> st.SearchStrategy[list[str]]:
    """Two files among fast-path tokens, mostly well formed; sometimes a stray or unusual token."""
    options = st.lists(
        st.one_of(
            st.sampled_from(sorted(fastpath.FLAGS)).map(lambda f: [f]),
            st.tuples(st.sampled_from(["-f", "--format"]), st.sampled_from([f.value for f in Format])).map(list),
            st.tuples(st.just("--fail-on"), st.sampled_from([f.value for f in FailOn])).map(list),
            st.sampled_from(VOCABULARY + NOISE).map(lambda t: [t]),
        ),
        max_size=5,
    )
    names = st.sampled_from(["model.gguf", "mmproj.gguf", "hf://org/repo/m.gguf", "a b.gguf", "-x.gguf"])
    files = st.lists(names, min_size=2, max_size=2) | st.lists(names, min_size=1, max_size=3)
    return st.tuples(options, files, st.randoms(use_true_random=False)).map(
        lambda t: _interleave([tok for group in t[0] for tok in group], t[1], t[2])
    )


def _interleave(options: list[str], files: list[str], rnd: Any) -> list[str]:
    out = list(options)
    for f in files:
        out.insert(rnd.randint(0, len(out)), f)
    return ["pair", *out]


@settings(max_examples=400, deadline=None)
@given(command_lines())
def test_a_line_the_fast_path_takes_is_parsed_the_same_by_typer(argv: list[str]) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in fastpath.TYPER_ENVIRONMENT}
    with mock.patch.dict(os.environ, clean, clear=True):
        fast = fastpath.parse_pair(argv)
        if fast is not None:
            assert typer_parse(argv) == [fast]


ACCEPTED = [
    ["pair", "m.gguf", "p.gguf"],
    ["pair", "m.gguf", "p.gguf", "--no-smoke"],
    ["pair", "m.gguf", "p.gguf", "-f", "json", "--no-smoke"],
    ["pair", "m.gguf", "p.gguf", "--fail-on", "unknown", "-q"],
    ["pair", "-q", "m.gguf", "--strict-roles", "p.gguf", "--exit-zero", "-v", "--timings", "--isolated"],
    ["pair", "hf://org/repo/m.gguf", "hf://org/repo/p.gguf", "-v", "--no-cache"],
]


@pytest.mark.parametrize("argv", ACCEPTED, ids=lambda a: " ".join(a[3:]) or "plain")
def test_the_common_pair_lines_take_the_fast_path(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in fastpath.TYPER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    fast = fastpath.parse_pair(argv)
    assert fast is not None
    assert typer_parse(argv) == [fast]


@pytest.mark.parametrize(
    "argv",
    [
        ["pair", "m.gguf"],  # typer: missing argument MMPROJ
        ["pair", "m.gguf", "p.gguf", "x.gguf"],  # typer: unexpected extra argument
        ["pair", "m.gguf", "p.gguf", "-f"],  # typer: -f requires an argument
        ["pair", "m.gguf", "p.gguf", "-f", "yaml"],  # typer: invalid choice
        ["pair", "m.gguf", "p.gguf", "--format=json"],
        ["pair", "m.gguf", "p.gguf", "-qv"],
        ["pair", "m.gguf", "p.gguf", "-q", "-q"],
        ["pair", "m.gguf", "p.gguf", "--smoke", "--no-smoke"],
        ["pair", "m.gguf", "p.gguf", "-o", "out.json"],
        ["pair", "m.gguf", "p.gguf", "--help"],
        ["pair", "--", "m.gguf", "p.gguf"],
        ["pair", "m.gguf", "-"],
        ["lint", "m.gguf", "p.gguf"],
    ],
)
def test_anything_else_is_left_to_typer(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in fastpath.TYPER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    assert fastpath.parse_pair(argv) is None


@pytest.mark.parametrize("name", fastpath.TYPER_ENVIRONMENT)
def test_an_environment_variable_typer_reads_leaves_the_line_to_typer(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, "json")
    assert fastpath.parse_pair(["pair", "m.gguf", "p.gguf"]) is None


# ------------------------------------------------------------------------------------------------
# The whole run is the same
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("fastpath")
    return {
        "model": write_text_model(d / "model.gguf", n_embd=64),
        "mmproj": write_projector(d / "mmproj.gguf", n_embd_out=64),
        "wide": write_projector(d / "mmproj-wide.gguf", n_embd_out=128),
        "missing": d / "missing.gguf",
    }


@pytest.mark.parametrize(
    ("model", "mmproj", "options", "code"),
    [
        ("model", "mmproj", [], 0),
        ("model", "mmproj", ["-f", "json"], 0),
        ("model", "mmproj", ["--no-smoke", "-q", "--fail-on", "unknown"], 1),
        ("model", "wide", ["-f", "sarif"], 1),
        ("model", "wide", ["--exit-zero", "-f", "junit"], 0),
        ("model", "missing", [], 2),
        ("model", "mmproj", ["-f", "html"], 2),  # a format pair does not offer: one usage line
    ],
)
def test_the_run_is_the_same_through_either_parser(
    files: dict[str, Path],
    model: str,
    mmproj: str,
    options: list[str],
    code: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name in fastpath.TYPER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no configuration file
    argv = ["pair", str(files[model]), str(files[mmproj]), *options]
    assert fastpath.parse_pair(argv) is not None
    assert cli.main(argv) == code
    fast = capsys.readouterr()
    assert run_guarded(lambda: cli.run_typer(argv), in_process=True) == code
    slow = capsys.readouterr()
    assert (fast.out, fast.err) == (slow.out, slow.err)
    assert (fast.err.count("\n") == 1) == (code == 2)
