"""``scan`` and ``suggest`` on hf:// repositories, the Python API on remote paths, and the local path
staying free of the network stack."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.remote.conftest import HubProcess, run


def _names(paths: list[str]) -> list[str]:
    return sorted(p.rsplit("/", 1)[-1] for p in paths)


def test_scan_a_repository_like_a_folder(hub: HubProcess, env: dict[str, str]) -> None:
    local = json.loads(run(env, "scan", hub.local("org/verdicts"), "-r", "-f", "json").out)
    r = run(env, "scan", "hf://org/verdicts", "-r", "-f", "json", "-v")
    assert r.code == 0, r.err
    remote = json.loads(r.out)
    assert _names([f["path"] for f in remote["files"]]) == _names([f["path"] for f in local["files"]])
    assert all(f["path"].startswith("hf://org/verdicts/") for f in remote["files"])
    verdicts = {(p["model"].rsplit("/", 1)[-1], p["mmproj"].rsplit("/", 1)[-1], p["verdict"]) for p in remote["pairs"]}
    expected = {(p["model"].rsplit("/", 1)[-1], p["mmproj"].rsplit("/", 1)[-1], p["verdict"]) for p in local["pairs"]}
    assert verdicts == expected
    assert "listing" in r.err
    # a repository listing tells the size and ETag of every file: a second scan fetches no header
    hub.reset()
    assert run(env, "scan", "hf://org/verdicts", "-r", "-f", "json").code == 0
    assert hub.stats()["cdn"] == 0 and hub.stats()["api"] == 1


def test_scan_without_recursion_and_a_remote_file_with_its_folder_mates(hub: HubProcess, env: dict[str, str]) -> None:
    top = json.loads(run(env, "scan", "hf://org/verdicts", "-f", "json").out)
    assert "tiny.gguf" not in _names([f["path"] for f in top["files"]])
    one = json.loads(run(env, "scan", "hf://org/verdicts/tiny/tiny-mmproj.gguf", "-f", "json").out)
    assert _names([f["path"] for f in one["files"]]) == ["tiny-mmproj.gguf", "tiny.gguf"]


def test_scan_paginated_listing_and_lfs_pointers(hub: HubProcess, env: dict[str, str]) -> None:
    hub.faults(page_size=2)
    r = run(env, "scan", "hf://org/broken", "-f", "json")
    doc = json.loads(r.out)
    status = {f["path"].rsplit("/", 1)[-1]: f["status"] for f in doc["files"]}
    assert status == {"pointer.gguf": "lfs-pointer", "mmproj-llava-7b.gguf": "projector"}
    assert r.code == 1  # an LFS pointer fails a scan, as locally


def test_scan_of_a_gated_repository_is_one_line(env: dict[str, str]) -> None:
    r = run(env, "scan", "hf://gated/pair")
    assert r.code == 2 and r.err.count("\n") == 1 and "gated repository gated/pair" in r.err, r.err


def test_suggest_ranks_a_repositorys_projectors_without_download(hub: HubProcess, env: dict[str, str]) -> None:
    r = run(env, "suggest", hub.local("org/verdicts/llava-7b.gguf"), "hf://org/verdicts", "-r", "-f", "json", "-a")
    assert r.code == 0, r.err
    ranked = json.loads(r.out)["ranked"]
    assert ranked[0]["mmproj"]["path"] == "hf://org/verdicts/mmproj-llava-7b.gguf"
    assert ranked[0]["verdict"] == "match"
    for doc in ranked:
        assert doc["mmproj"]["remote"]["bytes_fetched"] < 1 << 20  # headers only
    r = run(env, "suggest", "hf://org/verdicts/mistral.gguf", "hf://org/verdicts")
    assert r.code == 1  # nothing fits Mistral-7B here
    r = run(env, "suggest", "hf://org/verdicts/mmproj-llava-7b.gguf")  # a projector: rank the models beside it
    assert r.code == 0 and "llava-7b.gguf" in r.out, r.err


@pytest.fixture
def api_env(hub: HubProcess, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test process itself pointed at the loopback hub (and guarded to loopback)."""
    import socket

    for k in ("HF_ENDPOINT", "MMCHECK_CACHE_DIR", "HF_HOME", "MMCHECK_RETRY_WAIT"):
        monkeypatch.setenv(k, env[k])
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "ENDPOINT", hub.endpoint)
    real = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> None:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "localhost"):
            raise AssertionError(f"a test connected to {address!r}")
        real(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


def test_python_api_on_remote_paths(hub: HubProcess, api_env: None) -> None:
    import mmcheck
    from mmcheck.header import RemotePath

    h = mmcheck.read_header("hf://org/verdicts/llava-7b.gguf")
    assert isinstance(h.path, RemotePath) and h.architecture == "llama"
    assert h.source.transfer.requests >= 1
    report = mmcheck.check_pair("hf://org/verdicts/llava-7b.gguf", "hf://org/verdicts/mmproj-llava-7b.gguf")
    assert report.verdict.value == "match" and report.ok
    bad = mmcheck.check_pair("hf://org/verdicts/llava-7b.gguf", "hf://org/verdicts/none.gguf")
    assert bad.error is not None and bad.error_path == "hf://org/verdicts/none.gguf"
    # (from the module: once ``mmcheck.scan`` the module is imported, it shadows the lazy export)
    from mmcheck.scan import scan, suggest

    result = scan(["hf://org/verdicts"], recursive=True)
    assert any(p.ok for p in result.pairs)
    fits = suggest(hub.local("org/verdicts/llava-7b.gguf"), ["hf://org/verdicts"])
    assert [r.mmproj_path for r in fits] == ["hf://org/verdicts/mmproj-llava-7b.gguf"]
    with pytest.raises(mmcheck.GGUFError, match="no such file"):
        mmcheck.read_header("hf://org/verdicts/none.gguf")


def test_local_runs_import_nothing_remote(hub: HubProcess, tmp_path: Path) -> None:
    model, proj = str(hub.local("org/verdicts/llava-7b.gguf")), str(hub.local("org/verdicts/mmproj-llava-7b.gguf"))
    code = f"""
import sys
from mmcheck.cli import main
main(["pair", {model!r}, {proj!r}, "-q"])
main(["scan", {str(hub.local("org/verdicts"))!r}, "-f", "json"])
bad = [m for m in sys.modules if m.split(".")[0] in ("http", "huggingface_hub", "httpx2", "ssl", "socket")
       or m.startswith(("mmcheck.remote.", "urllib.request"))]
print(bad)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
