"""The common ``mmcheck pair`` command lines, parsed without importing typer.

Importing typer and the click it carries costs more than half of ``python -c 'import numpy'``,
most of a header-only ``pair`` run. :func:`parse_pair` takes only the plainest form of the
command: ``pair MODEL MMPROJ`` with flags from :data:`FLAGS` and the choice options of
:data:`CHOICES`, each given at most once, as separate tokens, in any order. Anything else
(``--help``, ``--opt=value``, ``-qv``, ``--``, a value option such as ``-o``, a wrong
value, a repeated option, an environment variable typer would read) returns None and typer parses
the line as it always has, so every usage error and every help text still comes from typer.

typer's declaration of ``pair`` in ``mmcheck.cli`` stays the one source: ``tests/test_fastpath.py``
checks every option here against it, and that both parsers give the same :class:`PairArgs`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import Enum

from mmcheck.commands import PairArgs, run_pair
from mmcheck.render import Format
from mmcheck.settings import CommandLine
from mmcheck.verdict import FailOn

#: flag -> (the parameter of ``cli.pair`` it sets, the value)
FLAGS: dict[str, tuple[str, bool]] = {
    "--smoke": ("smoke", True),
    "--no-smoke": ("smoke", False),
    "-q": ("quiet", True),
    "--quiet": ("quiet", True),
    "--strict-roles": ("strict_roles", True),
    "--exit-zero": ("exit_zero", True),
    "--isolated": ("isolated", True),
    "--timings": ("timings", True),
    "--no-cache": ("no_cache", True),
    "-v": ("verbose", True),
    "--verbose": ("verbose", True),
}

#: option taking one value -> (the parameter it sets, the enum of its values)
CHOICES: dict[str, tuple[str, type[Enum]]] = {
    "-f": ("fmt", Format),
    "--format": ("fmt", Format),
    "--fail-on": ("fail_on", FailOn),
}

#: environment variables typer reads for ``pair`` (any of them set: typer parses), and click's
#: shell-completion switch
TYPER_ENVIRONMENT: tuple[str, ...] = ("MMCHECK_DB", "MMCHECK_FORMAT", "_MMCHECK_COMPLETE")

_PAIR_FIELDS = frozenset(PairArgs._fields) - {"cli"}


def parse_pair(argv: Sequence[str]) -> PairArgs | None:
    """``argv`` (without the program name) as a :class:`PairArgs`, or None for typer to parse."""
    if len(argv) < 3 or argv[0] != "pair" or any(name in os.environ for name in TYPER_ENVIRONMENT):
        return None
    values: dict[str, object] = {}
    files: list[str] = []
    tokens = iter(argv[1:])
    for token in tokens:
        if not token.startswith("-"):
            files.append(token)
            continue
        value: object
        if token in FLAGS:
            name, value = FLAGS[token]
        elif token in CHOICES:
            name, kind = CHOICES[token]
            try:
                value = kind(next(tokens, None))
            except ValueError:
                return None  # missing or not one of the choices: typer says which
        else:
            return None
        if name in values:
            return None
        values[name] = value
    if len(files) != 2:
        return None
    cli = CommandLine(**{k: v for k, v in values.items() if k not in _PAIR_FIELDS})  # type: ignore[arg-type]
    rest = {k: v for k, v in values.items() if k in _PAIR_FIELDS}
    return PairArgs(files[0], files[1], cli, **rest)  # type: ignore[arg-type]


def preload(argv: Sequence[str]) -> None:
    """Import the modules that running ``argv`` will use (the console entry does it while the
    garbage collector is off)."""
    if parse_pair(argv) is None:
        import mmcheck.cli
    else:
        import mmcheck.pair  # noqa: F401


def dispatch(argv: Sequence[str]) -> int:
    """Run the command line ``argv``: through :func:`parse_pair` when it takes it, else typer."""
    args = parse_pair(argv)
    if args is not None:
        return run_pair(args)
    from mmcheck.cli import run_typer

    return run_typer(list(argv))
