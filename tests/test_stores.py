"""The store-aware scan on generated stores with the real layouts (tests/store_trees.py)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from mmcheck.stores.hf_cache import hub_cache
from mmcheck.stores.lmstudio import lmstudio_home, models_folder
from mmcheck.stores.ollama import display_name
from mmcheck.stores.scanning import StoreScanResult, scan_paths
from mmcheck.verdict import FailOn
from tests import store_trees as st
from tests.cli_helpers import run_cli


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, db: Any) -> dict[str, Any]:
    """A home with every store, good and bad contents."""
    t = tmp_path_factory.mktemp("stores")
    files = st.Files(db, t / "unique")
    home = t / "home"
    ollama = st.build_ollama(home / ".ollama" / "models", files)
    bad = st.break_ollama(ollama, t / "outside-ollama")
    hub = home / ".cache" / "huggingface" / "hub"
    snaps = st.build_hf_cache(hub, files)
    broken_snap = st.break_hf_cache(hub, files, t / "outside-hf")
    lms = st.build_lmstudio(home, files)
    jan = st.build_jan(t / "jan-data", files, t / "outside-jan")
    tgw = st.build_textgen(t / "text-generation-webui", files)
    llama = st.build_llama_cache(t / "llama-cache", files)
    return {"t": t, "home": home, "files": files, "ollama": ollama.root, "bad": bad, "hub": hub, "snaps": snaps,
            "broken_snap": broken_snap, "lms": lms, "jan": jan, "tgw": tgw, "llama": llama}  # fmt: skip


def _scan(paths: list[Path], world: dict[str, Any], db: Any, **kw: Any) -> StoreScanResult:
    res = scan_paths(paths, db=db, env=kw.pop("env", {}), home=world["home"], **kw)
    assert isinstance(res, StoreScanResult)
    return res


def _entries(res: StoreScanResult, store: str) -> dict[str, Any]:
    return {e.name: e for sc in res.stores if sc.store == store for e in sc.entries}


def _verdicts(res: StoreScanResult, store: str) -> dict[str, list[str]]:
    return {n: [p.report.verdict.value for p in res.pairs_of_entry(e)] for n, e in _entries(res, store).items()}


def _rules(res: StoreScanResult) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for n in res.notes for f in n.findings]


# ------------------------------------------------------------------------------------------------
# Ollama
# ------------------------------------------------------------------------------------------------


def test_ollama_names_follow_display_shortest() -> None:
    assert display_name("registry.ollama.ai", "library", "llava", "13b") == "llava:13b"
    assert display_name("registry.ollama.ai", "alice", "m", "latest") == "alice/m:latest"
    assert display_name("hf.co", "ggml-org", "x-GGUF", "Q4_K_M") == "hf.co/ggml-org/x-GGUF:Q4_K_M"


def test_ollama_reports_per_entry_and_pairs_by_the_manifest(world: dict[str, Any], db: Any) -> None:
    res = _scan([world["ollama"]], world, db)
    v = _verdicts(res, "ollama")
    assert v["llava:13b"] == ["match"] and v["llava:latest"] == ["match"]  # one blob pair, two tags
    assert v["hf.co/ggml-org/llava-1.5-7b-GGUF:Q4_K_M"] == ["match"]
    assert v["alice/mistral-vision:latest"] == ["likely-garbage"]
    assert v["alice/llava-wrong:13b"] == ["mismatch"]
    assert v["mistral:7b"] == [] and v["gemma3:12b"] == []
    # every pair is declared: no model was checked with another manifest's projector
    assert len(res.pairs) == 4
    entry = _entries(res, "ollama")["llava:13b"]
    assert {f.role for f in entry.files} == {"model", "projector"}
    assert all(f.path.name.startswith("sha256-") for f in entry.files)
    assert res.label(entry.files[1].path).endswith("[projector]")


def test_ollama_single_file_vision_model_is_explained(world: dict[str, Any], db: Any) -> None:
    res = _scan([world["ollama"]], world, db)
    mm099 = [m for r, m in _rules(res) if r == "MM099"]
    assert len(mm099) == 1 and mm099[0].startswith("gemma3:12b [model] is a single-file vision model")
    assert "llama.cpp and KoboldCPP load only its text part" in mm099[0]
    assert not any(r == "MM099" and "mistral" in m for r, m in _rules(res))


def test_ollama_bad_contents_are_findings_and_the_rest_is_scanned(world: dict[str, Any], db: Any) -> None:
    res = _scan([world["ollama"]], world, db)
    rules = _rules(res)
    assert any(r == "MM096" and "broken:latest" in m and "not valid JSON" in m for r, m in rules)
    assert any(r == "MM097" and "missing:latest" in m and "does not exist" in m for r, m in rules)
    assert any(r == "MM098" and "traversal:latest" in m for r, m in rules)
    assert any(r == "MM098" and "linked:latest" in m and "outside the store" in m for r, m in rules)
    # the blob symlinked out of the store is never read
    outside = world["t"] / "outside-ollama" / "not-a-blob.gguf"
    assert all(os.path.realpath(f.path) != str(outside) for f in res.files)
    assert _verdicts(res, "ollama")["llava:13b"] == ["match"]
    assert res.fails(FailOn.mismatch)


def test_ollama_models_env_and_named_blob(world: dict[str, Any], db: Any) -> None:
    res = _scan([], world, db, store="ollama", env={"OLLAMA_MODELS": str(world["ollama"])})
    assert [sc.root for sc in res.stores] == [world["ollama"]]
    blob = _entries(res, "ollama")["gemma3:12b"].files[0].path
    one = _scan([blob], world, db)  # a blob brings the entries that use it
    assert list(_entries(one, "ollama")) == ["gemma3:12b"]


def test_a_copied_ollama_blob_is_explained_in_a_folder_scan(world: dict[str, Any], db: Any, tmp_path: Path) -> None:
    from mmcheck.scan import scan

    res = _scan([world["ollama"]], world, db)
    blob = _entries(res, "ollama")["gemma3:12b"].files[0].path
    shutil.copyfile(blob, tmp_path / "gemma3-12b.gguf")
    plain = scan([tmp_path], db=db)
    assert [f.rule for n in plain.notes for f in n.findings] == ["MM099"]


# ------------------------------------------------------------------------------------------------
# Hugging Face cache, llama.cpp cache
# ------------------------------------------------------------------------------------------------


def test_hf_cache_entries_per_snapshot_with_refs(world: dict[str, Any], db: Any) -> None:
    res = _scan([world["hub"]], world, db)
    entries = _entries(res, "hf-cache")
    c = st.COMMITS["ggml-org/llava-1.5-GGUF"]
    llava = entries[f"ggml-org/llava-1.5-GGUF@{c[:12]}"]
    assert llava.extra["refs"] == ["main"] and llava.extra["revision"] == c
    assert f"ggml-org/llava-1.5-GGUF@{st.COMMITS['ggml-org/llava-1.5-GGUF@old'][:12]}" in entries  # no ref
    assert "google/gemma-3-12b-it" not in " ".join(entries)  # safetensors only: counted, not shown
    assert [sc.skipped for sc in res.stores] == [1]
    pairs = {(p.model.name, p.mmproj.name): p.report.verdict.value for p in res.pairs_of_entry(llava)}
    assert pairs[("llava-v1.5-7b-Q4_K_M.gguf", "mmproj-llava-v1.5-7b-f16.gguf")] == "match"
    assert pairs[("llava-v1.5-13b-Q4_K_M.gguf", "mmproj-llava-v1.5-13b-f16.gguf")] == "match"
    chosen = {m.name: c.mmproj.name for m, c in res.chosen().items() if m.parent == llava.location}
    assert chosen == {"llava-v1.5-7b-Q4_K_M.gguf": "mmproj-llava-v1.5-7b-f16.gguf",
                      "llava-v1.5-13b-Q4_K_M.gguf": "mmproj-llava-v1.5-13b-f16.gguf"}  # fmt: skip


def test_hf_cache_follows_shared_blob_chains_inside_the_cache(world: dict[str, Any], db: Any) -> None:
    res = _scan([world["hub"]], world, db)
    unsloth = _entries(res, "hf-cache")[
        f"unsloth/llava-1.5-7b-hf-GGUF@{st.COMMITS['unsloth/llava-1.5-7b-hf-GGUF'][:12]}"
    ]
    assert [p.report.verdict.value for p in res.pairs_of_entry(unsloth)] == ["match"]
    target = Path(os.path.realpath(unsloth.files[0].path))
    assert target.parent.parent == world["hub"] / "blobs"  # <cache>/blobs/<2 hex>/<hash>


def test_hf_cache_projector_only_repo_is_paired_by_content(world: dict[str, Any], db: Any) -> None:
    res = _scan([world["hub"]], world, db)
    kobold = _entries(res, "hf-cache")[f"koboldcpp/mmproj@{st.COMMITS['koboldcpp/mmproj'][:12]}"]
    verdicts = {p.model.name: p.report.verdict.value for p in res.pairs_of_entry(kobold)}
    assert verdicts["llava-v1.5-7b-Q4_K_M.gguf"] == "match"
    assert verdicts["llava-v1.5-13b-Q4_K_M.gguf"] == "mismatch"


def test_hf_cache_dangling_loop_and_escaping_links(world: dict[str, Any], db: Any) -> None:
    res = _scan([world["hub"]], world, db)
    rules = _rules(res)
    assert any(r == "MM097" and "gone-Q8_0.gguf is a dangling symlink" in m for r, m in rules)
    assert sum(1 for r, m in rules if r == "MM097" and "symlink loop" in m) == 2
    assert any(r == "MM098" and "escape-Q4_K_M.gguf resolves to" in m for r, m in rules)
    assert all("elsewhere" not in os.path.realpath(f.path) for f in res.files)
    broken = _entries(res, "hf-cache")[f"someone/broken-GGUF@{st.COMMITS['someone/broken-GGUF'][:12]}"]
    assert [p.report.verdict.value for p in res.pairs_of_entry(broken)] == ["match"]  # the good files still


def test_hf_cache_locations_from_the_environment(tmp_path: Path) -> None:
    h = tmp_path
    assert hub_cache({}, h) == h / ".cache" / "huggingface" / "hub"
    assert hub_cache({"XDG_CACHE_HOME": "/x"}, h) == Path("/x/huggingface/hub")
    assert hub_cache({"HF_HOME": "/hf"}, h) == Path("/hf/hub")
    assert hub_cache({"HF_HOME": "/hf", "HUGGINGFACE_HUB_CACHE": "/old"}, h) == Path("/old")
    assert hub_cache({"HF_HUB_CACHE": "/new", "HUGGINGFACE_HUB_CACHE": "/old"}, h) == Path("/new")


def test_a_named_repo_folder_scans_only_that_repo(world: dict[str, Any], db: Any) -> None:
    res = _scan([world["snaps"]["unsloth"]], world, db)
    assert [e.name.split("@")[0] for e in _entries(res, "hf-cache").values()] == ["unsloth/llava-1.5-7b-hf-GGUF"]


def test_llama_cache_repos_and_docker_files(world: dict[str, Any], db: Any) -> None:
    res = _scan([], world, db, store="llama-cache", env={"LLAMA_CACHE": str(world["llama"])})
    entries = _entries(res, "llama-cache")
    assert set(entries) == {"ggml-org/llava-1.5-7b-GGUF@444444444444", "llama-cache/ (loose files)"}
    assert _verdicts(res, "llama-cache")["ggml-org/llava-1.5-7b-GGUF@444444444444"] == ["match"]
    assert [f.label for f in entries["llama-cache/ (loose files)"].files] == ["ai_mistral_latest.gguf"]


# ------------------------------------------------------------------------------------------------
# LM Studio, Jan, text-generation-webui
# ------------------------------------------------------------------------------------------------


def test_lmstudio_entries_per_publisher_repo(world: dict[str, Any], db: Any) -> None:
    res = _scan([world["lms"]], world, db)
    v = _verdicts(res, "lmstudio")
    assert v == {"lmstudio-community/llava-v1.5-13b-GGUF": ["match"], "second-state/Llava-v1.5-7B-GGUF": ["mismatch"],
                 "TheBloke/Mistral-7B-Instruct-v0.2-GGUF": []}  # fmt: skip


def test_lmstudio_home_resolution(tmp_path: Path) -> None:
    assert lmstudio_home({}, tmp_path) == tmp_path / ".lmstudio"
    (tmp_path / ".cache" / "lm-studio").mkdir(parents=True)
    assert lmstudio_home({}, tmp_path) == tmp_path / ".cache" / "lm-studio"
    (tmp_path / ".lmstudio-home-pointer").write_text(str(tmp_path / "elsewhere") + "\n")
    assert lmstudio_home({}, tmp_path) == tmp_path / "elsewhere"
    assert lmstudio_home({"LMSTUDIO_HOME": "/opt/lms"}, tmp_path) == Path("/opt/lms")
    lms = tmp_path / "elsewhere"
    lms.mkdir()
    assert models_folder(lms) == lms / "models"
    (lms / "settings.json").write_text(json.dumps({"downloadsFolder": "/big/disk/models"}))
    assert models_folder(lms) == Path("/big/disk/models")


def test_jan_model_yml_declarations(world: dict[str, Any], db: Any) -> None:
    res = _scan([world["jan"]], world, db)
    v = _verdicts(res, "jan")
    assert v["llava-1.5-7b"] == ["match"]
    assert v["ggml-org/llava-1.5-13b"] == ["mismatch"]  # a model id with a slash
    assert v["imported-13b"] == ["match"]  # an absolute mmproj_path: a file the user imported
    rules = _rules(res)
    assert any(r == "MM098" and "escaping" in m for r, m in rules)
    assert any(r == "MM097" and "gone" in m for r, m in rules)
    assert any(r == "MM096" and "broken-yml" in m for r, m in rules)


def test_textgen_every_model_with_every_projector(world: dict[str, Any], db: Any) -> None:
    res = _scan([world["tgw"].parent], world, db)
    v = _verdicts(res, "textgen-webui")
    assert sorted(v["models/llava-v1.5-7b-Q4_K_M.gguf"]) == ["match", "mismatch"]
    assert sorted(v["models/mistral-7b-instruct-v0.2.Q4_K_M.gguf"]) == ["likely-garbage", "mismatch"]
    assert v["mmproj/"] == []  # its pairs are listed with the models
    assert len(res.pairs) == 6


# ------------------------------------------------------------------------------------------------
# The command line
# ------------------------------------------------------------------------------------------------


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA", "HF_", "HUGGINGFACE", "LLAMA_", "LMSTUDIO"))
    }
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), **extra)
    return env


def test_cli_no_path_scans_the_default_stores(world: dict[str, Any]) -> None:
    r = run_cli("scan", "--exit-zero", env=_env(world["home"]))
    assert r.code == 0, r.err
    assert f"Scanned the Ollama store at {world['ollama']}" in r.out
    assert f"Scanned the Hugging Face cache at {world['hub']}" in r.out
    assert "Scanned the LM Studio models folder" in r.out
    assert "  llava:13b\n    ✓ match           model + projector" in r.out
    assert "MM096" in r.out and "MM099" in r.out


def test_cli_no_store_found_is_one_plain_line(tmp_path: Path) -> None:
    r = run_cli("scan", env=_env(tmp_path))
    assert r.code == 0, r.err
    assert r.out.startswith("No model store found (looked in: ")
    r = run_cli("scan", "--store", "ollama", env=_env(tmp_path))
    assert r.code == 0 and r.out.startswith(f"No Ollama store found (looked in: {tmp_path / '.ollama' / 'models'})")


def test_cli_exit_codes_for_bad_store_contents(world: dict[str, Any]) -> None:
    env = _env(world["home"])
    assert run_cli("scan", world["ollama"], env=env).code == 1  # broken manifests fail the scan, not the run
    r = run_cli("scan", world["bad"]["broken"], env=env)  # the user named the broken manifest
    assert r.code == 2 and r.err.count("\n") == 1 and "not valid JSON" in r.err, r.err
    r = run_cli("scan", "--store", "ollama", world["lms"], env=env)
    assert r.code == 2 and "not an Ollama store (expected manifests/ and blobs/ folders)" in r.err, r.err
    good = run_cli("scan", world["snaps"]["unsloth"], env=env)
    assert good.code == 0, good.out + good.err


def test_cli_json_has_the_stores(world: dict[str, Any]) -> None:
    r = run_cli("scan", world["ollama"], "-f", "json", "--exit-zero", env=_env(world["home"]))
    doc = json.loads(r.out)
    assert doc["schema_version"] == 2
    (store,) = doc["stores"]
    assert store["store"] == "ollama"
    llava = next(e for e in store["entries"] if e["name"] == "llava:13b")
    assert [p["verdict"] for p in llava["pairs"]] == ["match"]
    assert {f["role"] for f in llava["files"]} == {"model", "projector"}
    assert {p["rule"] for p in store["problems"]} == {"MM096", "MM097", "MM098"}


def test_the_cli_offers_every_store() -> None:
    from mmcheck.cli import StoreChoice
    from mmcheck.stores import STORE_IDS, STORES

    assert [c.value for c in StoreChoice] == list(STORE_IDS) and set(STORES) == set(STORE_IDS)
