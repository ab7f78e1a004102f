"""``mmcheck pair`` on hf:// and http:// files against the loopback hub: same answers as local files,
bounded requests and bytes, the header cache, revisions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mmcheck.header import read_header
from tests.remote.conftest import HubProcess, run

PAIR_SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "json-schema" / "pair.schema.json").read_text(encoding="utf-8")
)
MiB = 1 << 20
CHUNK = 2 * MiB

PAIRS = {
    "match": ("org/verdicts/llava-7b.gguf", "org/verdicts/mmproj-llava-7b.gguf"),
    "mismatch": ("org/verdicts/llava-13b.gguf", "org/verdicts/mmproj-llava-7b.gguf"),
    "likely-garbage": ("org/verdicts/mistral.gguf", "org/verdicts/mmproj-llava-7b.gguf"),
    "unknown": ("org/verdicts/tiny/tiny.gguf", "org/verdicts/tiny/tiny-mmproj.gguf"),
    "smoke": ("org/data/text-20k.gguf", "org/data/mmproj-fitted.gguf"),
}


def _findings(doc: dict[str, Any], prefix: str) -> list[tuple[str, str, str]]:
    """(rule, severity, message) with the file locations spelled the same way."""
    return sorted((f["rule"], f["severity"], f["message"].replace(prefix, "<dir>/")) for f in doc["findings"])


def _smoke(doc: dict[str, Any]) -> tuple[Any, ...]:
    s = doc["smoke"]
    return s["status"], s.get("scale_ratio"), s.get("alignment")


@pytest.mark.parametrize("case", list(PAIRS))
def test_remote_pair_gives_the_local_answer(hub: HubProcess, env: dict[str, str], case: str) -> None:
    model, proj = PAIRS[case]
    local = run(env, "pair", hub.local(model), hub.local(proj), "-f", "json")
    remote = run(env, "pair", f"hf://{model}", f"hf://{proj}", "-f", "json")
    assert remote.code == local.code, remote.err
    lo, re_ = json.loads(local.out), json.loads(remote.out)
    assert re_["verdict"] == lo["verdict"]
    if case != "smoke":
        assert re_["verdict"] == case
    assert _findings(re_, "hf://org/") == _findings(lo, str(hub.root / "org") + "/")
    assert _smoke(re_) == _smoke(lo)
    jsonschema.validate(re_, PAIR_SCHEMA)
    if case == "smoke":
        assert re_["smoke"]["status"] != "skipped", re_["smoke"]
    for side in ("model", "mmproj"):
        assert re_[side]["path"].startswith("hf://org/")
        r = re_[side]["remote"]
        assert r["requests"] >= 1 and r["bytes_fetched"] > 0 and r["cache"] == "miss"
        assert "remote" not in lo[side]
    # the server counted exactly the requests the client reports
    stats = hub.stats()
    assert stats["hub"] + stats["cdn"] == re_["model"]["remote"]["requests"] + re_["mmproj"]["remote"]["requests"]


def test_262k_header_costs_a_few_requests_and_at_most_one_chunk_more(hub: HubProcess, env: dict[str, str]) -> None:
    model = "org/big/gemma-262k.gguf"
    h = read_header(hub.local(model))
    assert h.header_size > 5 * MiB and h.file_size > h.header_size + CHUNK
    r = run(env, "inspect", f"hf://{model}", "-f", "json")
    assert r.code == 0, r.err
    info = json.loads(r.out)["files"][0]
    assert info["text"]["vocab_size"] == 262144
    remote = info["remote"]
    assert h.header_size <= remote["bytes_fetched"] <= h.header_size + CHUNK
    assert remote["requests"] <= 8
    stats = hub.stats()
    assert stats["hub"] + stats["cdn"] == remote["requests"]
    assert stats["cdn_bytes"] == remote["bytes_fetched"]


def test_no_smoke_pair_bytes_stay_within_headers_plus_a_chunk(hub: HubProcess, env: dict[str, str]) -> None:
    model, proj = "org/big/gemma-262k.gguf", "org/big/mmproj-gemma.gguf"
    r = run(env, "pair", f"hf://{model}", f"hf://{proj}", "--no-smoke", "-f", "json")
    doc = json.loads(r.out)
    for side, path in (("model", model), ("mmproj", proj)):
        h = read_header(hub.local(path))
        assert doc[side]["remote"]["bytes_fetched"] <= h.header_size + CHUNK


def _smoke_budget(hub: HubProcess, doc: dict[str, Any], *, row_factor: int) -> int:
    """Headers + one chunk each, every projector tensor the smoke test may read, the sampled rows
    (times ``row_factor``), and multipart headers (~128 bytes per part)."""
    text = read_header(hub.local(PAIRS["smoke"][0]))
    proj = read_header(hub.local(PAIRS["smoke"][1]))
    tensors = sum(t.nbytes for name, t in proj.tensors.items() if name.startswith("mm."))
    embd = text.tensors["token_embd.weight"]
    rows = doc["smoke"]["embedding"]["rows_sampled"]
    row_bytes = embd.nbytes // embd.shape[1]
    return text.header_size + proj.header_size + 2 * CHUNK + tensors + row_factor * rows * (row_bytes + 128)


def test_smoke_fetches_only_read_tensors_and_sampled_rows(hub: HubProcess, env: dict[str, str]) -> None:
    model, proj = PAIRS["smoke"]
    r = run(env, "pair", f"hf://{model}", f"hf://{proj}", "-f", "json", "-v")
    doc = json.loads(r.out)
    assert doc["smoke"]["status"] != "skipped"
    fetched = doc["model"]["remote"]["bytes_fetched"] + doc["mmproj"]["remote"]["bytes_fetched"]
    assert fetched <= _smoke_budget(hub, doc, row_factor=1)
    assert doc["model"]["remote"]["ranges"] == "multi"
    assert doc["model"]["remote"]["requests"] <= 40  # 4,096 rows in batches of multi-range requests
    assert "request(s)" in r.err and "hf://org/data/text-20k.gguf" in r.err


def test_smoke_without_multi_range_stays_within_four_times_the_rows(hub: HubProcess, env: dict[str, str]) -> None:
    hub.faults(no_multirange=True)  # what S3-backed CDNs do: 200 with the whole file
    model, proj = PAIRS["smoke"]
    local = json.loads(run(env, "pair", hub.local(model), hub.local(proj), "-f", "json").out)
    r = run(env, "pair", f"hf://{model}", f"hf://{proj}", "-f", "json")
    doc = json.loads(r.out)
    assert doc["verdict"] == local["verdict"] and _smoke(doc) == _smoke(local)
    assert doc["model"]["remote"]["ranges"] == "single"
    fetched = doc["model"]["remote"]["bytes_fetched"] + doc["mmproj"]["remote"]["bytes_fetched"]
    assert fetched <= _smoke_budget(hub, doc, row_factor=4) + 2 * CHUNK


def test_second_pair_makes_one_metadata_request_and_a_pinned_one_none(hub: HubProcess, env: dict[str, str]) -> None:
    model, proj = (f"hf://{p}" for p in PAIRS["match"])
    first = run(env, "pair", model, proj, "--no-smoke", "-q")
    assert first.code == 0, first.err
    hub.reset()
    second = run(env, "pair", model, proj, "--no-smoke", "-f", "json", "-v")
    doc = json.loads(second.out)
    assert doc["model"]["remote"]["cache"] == doc["mmproj"]["remote"]["cache"] == "hit"
    assert hub.stats() == {**hub.stats(), "hub": 1, "api": 1, "cdn": 0}  # one paths-info for both files
    assert "paths-info" in second.err

    sha = hub.commit("org/verdicts")
    pinned = [p.replace("hf://org/verdicts/", f"hf://org/verdicts@{sha}/") for p in (model, proj)]
    assert run(env, "pair", *pinned, "--no-smoke", "-q").code == 0
    hub.reset()
    again = run(env, "pair", *pinned, "--no-smoke", "-f", "json")
    assert json.loads(again.out)["verdict"] == "match"
    assert hub.stats()["hub"] == hub.stats()["cdn"] == 0  # a commit never changes: no request at all

    hub.reset()
    nocache = json.loads(run(env, "pair", model, proj, "--no-smoke", "--no-cache", "-f", "json").out)
    assert nocache["model"]["remote"]["cache"] == "off" and hub.stats()["cdn"] == 2


def test_offline_mode_uses_the_cache_and_says_what_is_missing(hub: HubProcess, env: dict[str, str]) -> None:
    model, proj = (f"hf://{p}" for p in PAIRS["match"])
    assert run(env, "pair", model, proj, "--no-smoke", "-q").code == 0
    hub.reset()
    offline = {**env, "HF_HUB_OFFLINE": "1"}
    r = run(offline, "pair", model, proj, "-q")
    assert (r.code, r.out.strip()) == (0, "match"), r.err
    assert hub.stats()["hub"] == hub.stats()["cdn"] == 0
    missing = run(offline, "pair", "hf://org/verdicts/mistral.gguf", proj)
    assert missing.code == 2
    assert missing.err.count("\n") == 1 and "HF_HUB_OFFLINE" in missing.err


@pytest.mark.parametrize("rev", ["@main", "@refs%2Fpr%2F1", "@refs/pr/1", "@COMMIT"])
def test_revision_forms(hub: HubProcess, env: dict[str, str], rev: str) -> None:
    rev = rev.replace("COMMIT", hub.commit("org/verdicts"))
    r = run(env, "pair", f"hf://org/verdicts{rev}/llava-7b.gguf", f"hf://org/verdicts{rev}/mmproj-llava-7b.gguf", "-q")
    assert (r.code, r.out.strip()) == (0, "match"), r.err


def test_hub_and_plain_urls(hub: HubProcess, env: dict[str, str]) -> None:
    _model, proj = PAIRS["match"]
    resolve = f"{hub.endpoint}/org/verdicts/resolve/main/llava-7b.gguf"  # a Hub URL: goes the Hub's way
    from tests.hubserver import Hub

    sha = Hub(hub.root, token="", gated=set(), private=set()).digests(hub.local(proj))[0]
    blob = f"{hub.cdn}/blobs/{sha}"  # a plain http:// URL
    r = run(env, "pair", resolve, blob, "-f", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["verdict"] == "match" and doc["mmproj"]["path"] == blob
    hub.reset()
    again = json.loads(run(env, "pair", resolve, blob, "-f", "json").out)
    assert again["mmproj"]["remote"]["cache"] == "hit"
    assert again["mmproj"]["remote"]["requests"] == 1  # one HEAD validates the plain URL's ETag


def test_inspect_lint_and_exec_take_remote_files(hub: HubProcess, env: dict[str, str], tmp_path: Path) -> None:
    model, proj = (f"hf://{p}" for p in PAIRS["match"])
    r = run(env, "inspect", model, proj)
    assert r.code == 0 and "hf://org/verdicts/llava-7b.gguf" in r.out, r.err
    r = run(env, "lint", proj, "-f", "json")
    assert r.code == 0 and json.loads(r.out)["files"][0]["path"] == proj, r.err
    exe = tmp_path / "runtime"
    exe.write_text("#!/bin/sh\necho started\n")
    exe.chmod(0o755)
    r = run(env, "exec", "--no-smoke", "--", str(exe), "-m", model, "--mmproj", proj)
    assert (r.code, r.out.strip()) == (0, "started"), r.err
    bad = run(env, "exec", "--no-smoke", "--", str(exe), "-m", "hf://org/verdicts/llava-13b.gguf", "--mmproj", proj)
    assert bad.code == 1 and "started" not in bad.out
