"""Configuration from ``[tool.mmcheck]`` in the nearest ``pyproject.toml`` (or ``mmcheck.toml``).

Lookup starts in the working directory and walks up to the filesystem root; the first
``mmcheck.toml``, or ``pyproject.toml`` with a ``[tool.mmcheck]`` table, wins. Precedence:
command line > file > built-in defaults. ``--isolated`` ignores configuration files.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from mmcheck.errors import ConfigError

_KIND_NAMES: dict[Any, str] = {
    str: "a string",
    int: "an integer",
    (int, float): "a number",
    list: "a list",
    bool: "true or false",
}


class Config(NamedTuple):
    """Settings read from a configuration file (all optional)."""

    path: Path | None = None
    format: str | None = None
    fail_on: str | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    ctx_size: int | None = None
    batch_size: int | None = None
    ubatch_size: int | None = None
    runtime: str | None = None
    runtime_version: str | None = None
    db: str | None = None
    smoke: bool | None = None
    timeout: float | None = None  # remote files: seconds per connection / read


def _toml() -> Any:
    """``tomllib``, imported when a file is read: most model folders have no configuration file."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found,no-redef]
    return tomllib


def _parse(path: Path) -> dict[str, Any]:
    """A TOML file as a dict; ``ConfigError`` (one line) when it cannot be read or parsed."""
    from mmcheck.errors import GGUFError
    from mmcheck.files import read_small_text

    tomllib = _toml()
    try:
        parsed: dict[str, Any] = tomllib.loads(read_small_text(path, 4 << 20))
        return parsed
    except GGUFError as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from None


def _mmcheck_table(data: dict[str, Any], path: Path) -> dict[str, Any] | None:
    """The ``[tool.mmcheck]`` table of a parsed TOML file (None: there is none)."""
    tool = data.get("tool")
    if tool is None:
        return None
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: [tool] must be a table, got {type(tool).__name__} {tool!r}")
    table = tool.get("mmcheck")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.mmcheck] must be a table, got {type(table).__name__} {table!r}")
    return table


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``mmcheck.toml``, or ``pyproject.toml`` with ``[tool.mmcheck]``, or None.

    A ``pyproject.toml`` that is not valid TOML on the way is an error (``ConfigError``), as in ruff:
    mmcheck cannot tell whether it was meant to configure it.
    """
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        own = d / "mmcheck.toml"
        if _is_file(own):
            return own
        py = d / "pyproject.toml"
        if _is_file(py) and _mmcheck_table(_parse(py), py) is not None:
            return py
    return None


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; a folder we may not look into holds no configuration we can use."""
    try:
        return path.is_file()
    except OSError:
        return False


def load_config(path: Path | None) -> Config:
    """Parse and validate a configuration file (``None``: defaults).

    ``mmcheck.toml`` holds the settings at its top level; a ``[tool.mmcheck]`` table (as in
    ``pyproject.toml``) is accepted there too.
    """
    if path is None:
        return Config()
    data = _parse(path)
    table = _mmcheck_table(data, path)
    if path.name == "pyproject.toml":
        where = f"{path} [tool.mmcheck]"
        table = table or {}
    elif table is not None and set(data) == {"tool"}:
        where = f"{path} [tool.mmcheck]"
    else:
        table, where = data, str(path)
    known: dict[str, Any] = {
        "format": str,
        "fail-on": str,
        "select": list,
        "ignore": list,
        "ctx-size": int,
        "batch-size": int,
        "ubatch-size": int,
        "runtime": str,
        "runtime-version": str,
        "db": str,
        "smoke": bool,
        "timeout": (int, float),
    }
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        kind = known[key]
        if not isinstance(value, kind) or (kind in (int, (int, float)) and isinstance(value, bool)):
            raise ConfigError(f"{where}: {key} must be {_KIND_NAMES[kind]}, got {value!r}")
        values[key.replace("-", "_")] = value
    from mmcheck.render import Format
    from mmcheck.verdict import FailOn

    formats = [f.value for f in Format]
    fail_on = [f.value for f in FailOn]
    if values.get("format") not in (None, *formats):
        raise ConfigError(f"{where}: format must be one of {', '.join(formats)}, got {values['format']!r}")
    if "timeout" in values and not 0 < values["timeout"] < 1e6:  # NaN and inf fail too
        raise ConfigError(f"{where}: timeout must be a positive number of seconds, got {values['timeout']!r}")
    for key in ("ctx_size", "batch_size", "ubatch_size"):
        if key in values and values[key] <= 0:
            name = key.replace("_", "-")
            raise ConfigError(f"{where}: {name} must be a positive number of tokens, got {values[key]!r}")
    if values.get("fail_on") not in (None, *fail_on):
        raise ConfigError(f"{where}: fail-on must be one of {', '.join(fail_on)}, got {values['fail_on']!r}")
    for key in ("select", "ignore"):
        if not all(isinstance(x, str) for x in values.get(key, [])):
            raise ConfigError(f"{where}: {key} must be a list of rule codes or names")
    return Config(path=path, **values)
