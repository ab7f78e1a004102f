"""Shared fixtures: generated GGUF files (never committed) and the compatibility database."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def db():  # type: ignore[no-untyped-def]
    """The shipped compatibility database."""
    from mmcheck.db import load_db

    return load_db()


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write raw bytes to a file in tmp_path and return its path."""

    def _write(data: bytes, name: str = "file.gguf") -> Path:
        p = tmp_path / name
        p.write_bytes(data)
        return p

    return _write
