"""The header cache: keyed by (URL, validator), bounded in size (least recently used go first),
silent on damage."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mmcheck.remote import cache


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMCHECK_CACHE_DIR", str(tmp_path))


def test_entries_are_keyed_by_url_and_validator() -> None:
    cache.store("hf://a/b/x.gguf", "etag1", 1000, b"GGUF-1", 1 << 20)
    cache.store("hf://a/b/x.gguf", "etag2", 1000, b"GGUF-2", 1 << 20)
    e1, e2 = cache.lookup("hf://a/b/x.gguf", "etag1"), cache.lookup("hf://a/b/x.gguf", "etag2")
    assert e1 is not None and e1.header == b"GGUF-1" and e1.size == 1000
    assert e2 is not None and e2.header == b"GGUF-2"
    assert cache.lookup("hf://a/b/x.gguf", "etag3") is None
    assert cache.lookup("hf://a/b/y.gguf", "etag1") is None
    assert cache.has("hf://a/b/x.gguf") and not cache.has("hf://a/b/y.gguf")
    latest = cache.latest("hf://a/b/x.gguf")
    assert latest is not None and latest.header in (b"GGUF-1", b"GGUF-2")


def test_the_directory_stays_under_its_limit_least_recently_used_first() -> None:
    limit = 10_000
    for i in range(8):
        cache.store(f"https://h/{i}.gguf", "v", 10, bytes(3000), limit)
        path = cache.directory() / next(
            n for n in os.listdir(cache.directory()) if n.startswith(cache._url_key(f"https://h/{i}.gguf"))
        )
        os.utime(path, (time.time() - 100 + i, time.time() - 100 + i))
        cache.lookup("https://h/0.gguf", "v")  # keep touching the first: it is used, not old
    total = sum(p.stat().st_size for p in cache.directory().iterdir())
    assert total <= limit
    assert cache.lookup("https://h/0.gguf", "v") is not None  # recently used: kept
    assert cache.lookup("https://h/1.gguf", "v") is None  # least recently used: gone
    assert cache.lookup("https://h/7.gguf", "v") is not None


def test_damaged_or_foreign_entries_are_misses() -> None:
    cache.store("https://h/x.gguf", "v", 10, b"GGUF", 1 << 20)
    (entry,) = cache.directory().iterdir()
    entry.write_bytes(b"garbage")
    assert cache.lookup("https://h/x.gguf", "v") is None
    assert cache.latest("https://h/x.gguf") is None


def test_an_unwritable_cache_is_silent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("MMCHECK_CACHE_DIR", str(blocker))
    cache.store("https://h/x.gguf", "v", 10, b"GGUF", 1 << 20)
    assert cache.lookup("https://h/x.gguf", "v") is None
