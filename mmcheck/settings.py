"""Settings of a run: the command line over the configuration file over the built-in defaults.

The CLI parses arguments into :class:`CommandLine`; :func:`resolve` reads the configuration file
(unless ``isolated``), loads the compatibility database and returns :class:`Settings`, the one
object commands read. Nothing here prints or exits: errors are ``ConfigError`` (exit 2).
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from mmcheck.config import Config, find_config, load_config
from mmcheck.errors import ConfigError
from mmcheck.render import Format
from mmcheck.verdict import FailOn

if TYPE_CHECKING:
    from mmcheck.db import CompatDB
    from mmcheck.rules import Options, Rule
    from mmcheck.runtimes import RuntimeSpec


class CommandLine(NamedTuple):
    """What the command line said (None: not given)."""

    isolated: bool = False
    db: Path | None = None
    fmt: Format | None = None
    fail_on: FailOn | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    runtime: str | None = None
    ctx_size: int | None = None
    batch_size: int | None = None
    ubatch_size: int | None = None
    smoke: bool | None = None
    timeout: float | None = None
    no_cache: bool = False


class Settings(NamedTuple):
    """Everything a command needs to run, resolved."""

    config: Config
    db: "CompatDB"
    fmt: Format
    fail_on: FailOn
    select: list[str] | None
    ignore: list[str] | None
    options: "Options"
    runtime: "RuntimeSpec | None"
    smoke: bool

    def rules(self) -> "list[Rule]":
        """The enabled rules (``ConfigError`` for an unknown code or name)."""
        from mmcheck.rules import resolve as resolve_rules

        return resolve_rules(self.select, self.ignore)


def split_codes(values: Iterable[str]) -> list[str]:
    """``["MM1,MM3", "MM5"]`` -> ``["MM1", "MM3", "MM5"]``: rule lists may be comma-separated."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def load_settings_file(isolated: bool) -> Config:
    """The configuration file's settings (defaults when ``isolated`` or when there is none)."""
    return Config() if isolated else load_config(find_config())


def resolve(cli: CommandLine, *, smoke_default: bool = True) -> Settings:
    """Combine the command line, the configuration file and the defaults."""
    from mmcheck.db import load_db
    from mmcheck.rules import Options

    cfg = load_settings_file(cli.isolated)
    db = load_db(cli.db or (Path(cfg.db) if cfg.db else None))
    fmt = cli.fmt or Format(cfg.format or "table")
    fail_on = cli.fail_on or FailOn(cfg.fail_on or FailOn.likely_garbage.value)
    select = split_codes(cli.select) or split_codes(cfg.select) or None
    ignore = split_codes([*cfg.ignore, *cli.ignore]) or None
    runtime = _runtime(cfg, cli.runtime, db)
    options = Options(
        ctx_size=cli.ctx_size or cfg.ctx_size,
        batch_size=cli.batch_size or cfg.batch_size or 2048,
        ubatch_size=cli.ubatch_size or cfg.ubatch_size or 512,
        runtime=runtime.runtime if runtime is not None else None,
        runtime_version=runtime.version if runtime is not None else None,
    )
    smoke = cli.smoke if cli.smoke is not None else (cfg.smoke if cfg.smoke is not None else smoke_default)
    _remote(cfg, cli.timeout, cli.no_cache)
    return Settings(cfg, db, fmt, fail_on, select, ignore, options, runtime, smoke)


def _runtime(cfg: Config, runtime: str | None, db: "CompatDB") -> "RuntimeSpec | None":
    """--runtime, else the config's ``runtime`` (+ ``runtime-version``), or None."""
    if runtime is not None:
        from mmcheck.runtimes import parse_runtime  # imported only when a runtime is named (start-up)

        return parse_runtime(runtime, db)
    if cfg.runtime:
        from mmcheck.runtimes import parse_runtime

        return parse_runtime(cfg.runtime, db, cfg.runtime_version)
    if cfg.runtime_version:
        raise ConfigError(f"{cfg.path}: runtime-version is set but runtime is not")
    return None


def _remote(cfg: Config, timeout: float | None, no_cache: bool) -> None:
    """Apply --timeout / --no-cache (and the config's ``timeout``) to remote reads, if any."""
    t: Any = timeout if timeout is not None else getattr(cfg, "timeout", None)
    if t is None and not no_cache:
        return
    from mmcheck.remote import configure

    configure(**({"timeout": float(t)} if t is not None else {}), **({"cache": False} if no_cache else {}))


__all__ = ["CommandLine", "Settings", "load_settings_file", "resolve", "split_codes"]
