"""Fuzz the configuration loader: any bytes as ``pyproject.toml`` or ``mmcheck.toml`` -> ``ConfigError`` at most.

Run from the repository root (``make fuzz`` installs atheris and runs every harness for a while)::

    .venv/bin/python -m pip install atheris
    .venv/bin/python -m tests.fuzz.fuzz_config -max_total_time=60

Arguments are libFuzzer's (``-help=1`` lists them). The corpus is ``.cache/fuzz/config/corpus``, seeded
on every start with valid and wrong-shape configurations; a crash is written to
``.cache/fuzz/config/artifacts/`` and replayed with ``.venv/bin/python -m tests.fuzz.fuzz_config ARTIFACT``.

An input is one byte choosing the file name (even: ``pyproject.toml``, odd: ``mmcheck.toml``; the
seeds start with ``p`` or ``m``) followed by the file's bytes. The file is looked up
(``find_config``), loaded (``load_config``) and turned into settings as the CLI does
(``settings.resolve`` then ``Settings.rules``; the compatibility database is loaded once, whatever
``db`` says, so that the input names no file to read). A crash is any exception but
``ConfigError``, or a ``ConfigError`` whose message is not one line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.fuzz import _common

NAME = "config"
atheris = _common.atheris()
_common.instrument(atheris, also=("tomllib", "tomli"))  # the TOML parser's branches guide the fuzzer too

import mmcheck.db  # noqa: E402 - imported once instrumented
from mmcheck.config import find_config, load_config  # noqa: E402
from mmcheck.errors import ConfigError  # noqa: E402
from mmcheck.settings import CommandLine, resolve  # noqa: E402

_DB = mmcheck.db.load_db()
mmcheck.db.load_db = lambda path=None: _DB  # resolve() imports it from mmcheck.db at each call
_DIR = _common.scratch(NAME)
os.chdir(_DIR)  # resolve() looks for the configuration from the working directory up
_NAMES = ("pyproject.toml", "mmcheck.toml")


def test_one_input(data: bytes) -> None:
    if not data:
        return
    name = _NAMES[data[0] & 1]
    path = _DIR / name
    (_DIR / _NAMES[1 - (data[0] & 1)]).unlink(missing_ok=True)
    path.write_bytes(data[1:])
    try:
        found = find_config(_DIR)
        if name == "mmcheck.toml" and found != path:
            raise AssertionError(f"find_config found {found}, not {path}")
        load_config(found)
        resolve(CommandLine()).rules()
    except ConfigError as e:
        if "\n" in str(e) or "\r" in str(e):
            raise AssertionError(f"a ConfigError of more than one line: {str(e)!r}") from e


_VALID = """\
[tool.mmcheck]
fail-on = "likely-garbage"
format = "table"
select = ["MM"]
ignore = ["MM601", "smoke-skipped"]
ctx-size = 8192
batch-size = 2048
ubatch-size = 512
runtime = "koboldcpp@1.98"
smoke = true
timeout = 2.5
"""

#: the wrong shapes that once raised AttributeError or TypeError (tests/test_fuzz_regressions.py)
_SHAPES = (
    "tool = 'mmcheck'\n",
    "tool = 1\n",
    "[tool]\nmmcheck = 1\n",
    "[tool.mmcheck]\nselect = 3\n",
    "[tool.mmcheck]\nignore = [1, 2]\n",
    "[tool.mmcheck]\nruntime = 'llama.cpp'\nruntime-version = 'b6907'\n",
    "[[tool.mmcheck]]\nformat = 'json'\n",
)


def _seeds(work: Path) -> _common.Seeds:
    yield "pyproject.toml", b"p" + _VALID.encode()
    yield "mmcheck.toml", b"m" + _VALID.split("\n", 1)[1].encode()
    yield "mmcheck-tool.toml", b"m" + _VALID.encode()
    yield "pyproject-other.toml", b"p[project]\nname = 'x'\n[tool.ruff]\nline-length = 100\n"
    for i, text in enumerate(_SHAPES):
        yield f"shape-{i}.toml", b"p" + text.encode()
        yield f"shape-{i}-own.toml", b"m" + text.encode()


#: TOML syntax and mmcheck's setting names and values, for the mutator to splice in (``-dict``)
_WORDS = (
    *("[tool]", "[tool.mmcheck]", "[[tool.mmcheck]]", "tool.mmcheck.", " = ", "[]", "{}", '""', "''", "'''"),
    *("true", "false", "nan", "inf", "-inf", "1e400", "-1", "0", "1979-05-27T07:32:00Z", "0x10", "\n"),
    *("format", "fail-on", "select", "ignore", "ctx-size", "batch-size", "ubatch-size", "runtime"),
    *("runtime-version", "db", "smoke", "timeout", "MM", "MM601", "smoke-skipped"),
    *("likely-garbage", "mismatch", "unknown", "warning", "json", "sarif", "llama.cpp@b6907", "koboldcpp@1.98"),
)


def main() -> None:
    corpus = _common.seed(NAME, _seeds)
    atheris.Setup(_common.libfuzzer_args(sys.argv, NAME, corpus, _WORDS), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
