"""Configuration from ``[tool.mmcheck]`` in the nearest ``pyproject.toml`` (or ``mmcheck.toml``).

Lookup starts in the working directory and walks up to the filesystem root; the first
``mmcheck.toml``, or ``pyproject.toml`` with a ``[tool.mmcheck]`` table, wins. Precedence:
command line > file > built-in defaults. ``--isolated`` ignores configuration files.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmcheck.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,no-redef]

_FORMATS = ("table", "json", "sarif", "github", "junit", "auto")
_FAIL_ON = ("mismatch", "likely-garbage", "unknown", "warning")


@dataclass(frozen=True)
class Config:
    """Settings read from a configuration file (all optional)."""

    path: Path | None = None
    format: str | None = None
    fail_on: str | None = None
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    ctx_size: int | None = None
    batch_size: int | None = None
    ubatch_size: int | None = None
    runtime: str | None = None
    runtime_version: str | None = None
    db: str | None = None
    smoke: bool | None = None
    timeout: float | None = None  # remote files: seconds per connection / read


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``mmcheck.toml`` or ``pyproject.toml`` with ``[tool.mmcheck]``, or None."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        own = d / "mmcheck.toml"
        if own.is_file():
            return own
        py = d / "pyproject.toml"
        if py.is_file():
            try:
                data = tomllib.loads(py.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            if "mmcheck" in data.get("tool", {}):
                return py
    return None


def load_config(path: Path | None) -> Config:
    """Parse and validate a configuration file (``None``: defaults)."""
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from None
    table: dict[str, Any] = data if path.name == "mmcheck.toml" else data.get("tool", {}).get("mmcheck", {})
    where = f"{path} [tool.mmcheck]" if path.name == "pyproject.toml" else str(path)
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
            name = "number" if isinstance(kind, tuple) else kind.__name__
            raise ConfigError(f"{where}: {key} must be a {name}, got {value!r}")
        values[key.replace("-", "_")] = value
    if values.get("format") not in (None, *_FORMATS):
        raise ConfigError(f"{where}: format must be one of {', '.join(_FORMATS)}")
    if "timeout" in values and values["timeout"] <= 0:
        raise ConfigError(f"{where}: timeout must be a positive number of seconds")
    if values.get("fail_on") not in (None, *_FAIL_ON):
        raise ConfigError(f"{where}: fail-on must be one of {', '.join(_FAIL_ON)}")
    for key in ("select", "ignore"):
        if not all(isinstance(x, str) for x in values.get(key, [])):
            raise ConfigError(f"{where}: {key} must be a list of rule codes or names")
    return Config(path=path, **values)
