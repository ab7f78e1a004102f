"""A real HTTP server process on loopback, serving generated GGUF files in the Hub's URL layout.

``hub`` (session) starts ``python -m tests.hubserver`` on 127.0.0.1 with free ports over a
tree generated into a temporary directory (nothing binary is committed), and stops it at the end.
``env`` (per test) is the environment a remote ``mmcheck`` subprocess runs with: ``HF_ENDPOINT`` at
the loopback hub, a fresh mmcheck cache, an empty Hugging Face home (no token), fast retries, and
``tests/netguard`` on ``PYTHONPATH`` so the process cannot connect anywhere but 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mmcheck.db import load_db
from mmcheck.testing import write_projector, write_text_model
from mmcheck.testing.builders import default_tokens
from mmcheck.testing.presets import write_family_projector, write_lineage_model
from tests.cli_helpers import Run
from tests.smoke_fixtures import fitted_mlp, profiled_table

NETGUARD = Path(__file__).resolve().parents[1] / "netguard"
TOKEN = "hf_loopback_token"
LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 2825361568\n"
)


def build_tree(root: Path) -> dict[str, Any]:
    """Write the repositories; return what the tests need to know about them."""
    db = load_db()
    v = root / "org" / "verdicts"
    v.mkdir(parents=True)
    llava = db.families["llava-1.5"]
    v7 = next(x for x in llava.variants if x.id == "llava-1.5-7b")
    write_family_projector(v / "mmproj-llava-7b.gguf", llava, v7, db, name="Llava 1.5 7b Hf")
    write_lineage_model(v / "llava-7b.gguf", db.lineages["vicuna-7b-v1.5"], name="llava-v1.5-7b")
    write_lineage_model(v / "llava-13b.gguf", db.lineages["vicuna-13b-v1.5"], name="llava-v1.5-13b")
    write_lineage_model(v / "mistral.gguf", db.lineages["mistral-7b-v0.2"], name="Mistral 7B Instruct v0.2")
    sub = v / "tiny"
    sub.mkdir()
    write_text_model(sub / "tiny.gguf", n_embd=64)
    write_projector(sub / "tiny-mmproj.gguf", n_embd_out=64)

    # a pair with data: the smoke test reads the projector's tensors and 4,096 of 20,000 embedding rows
    d = root / "org" / "data"
    d.mkdir(parents=True)
    rng = np.random.default_rng(7)
    table = profiled_table(rng, 20000, 64)
    write_text_model(d / "text-20k.gguf", n_embd=64, n_layer=1, n_head=4, vocab_size=20000, embedding_table=table)
    tensors = fitted_mlp(rng, table, 32, 96)
    write_projector(d / "mmproj-fitted.gguf", projector_type="mlp", width=32, hidden=96, n_embd_out=64,
                    explicit_tensors=tensors)  # fmt: skip

    # a 262,144-token vocabulary (with a small token_embd, so the file is longer than its header)
    b = root / "org" / "big"
    b.mkdir(parents=True)
    tokens = default_tokens(262144, ["<start_of_image>", "<end_of_image>"])
    write_text_model(b / "gemma-262k.gguf", arch="gemma3", n_embd=16, n_head=2, n_layer=1, tokens=tokens,
                     context_length=32768)  # fmt: skip
    write_projector(b / "mmproj-gemma.gguf", n_embd_out=16, header_only=True)

    for repo in ("gated/pair", "priv/pair"):
        (root / repo).mkdir(parents=True)
        for name in ("llava-7b.gguf", "mmproj-llava-7b.gguf"):
            shutil.copyfile(v / name, root / repo / name)

    broken = root / "org" / "broken"
    broken.mkdir(parents=True)
    (broken / "pointer.gguf").write_text(LFS_POINTER)
    shutil.copyfile(v / "mmproj-llava-7b.gguf", broken / "mmproj-llava-7b.gguf")
    return {"root": root}


@dataclass
class HubProcess:
    """The running server: its endpoint, control and counters."""

    root: Path
    endpoint: str
    cdn: str
    proc: subprocess.Popen[str]

    def _post(self, path: str, doc: dict[str, Any]) -> Any:
        req = urllib.request.Request(self.endpoint + path, data=json.dumps(doc).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def faults(self, **faults: Any) -> None:
        """Set faults (merged into the current ones)."""
        self._post("/_control", faults)

    def reset(self) -> None:
        """No faults, counters at zero."""
        self._post("/_reset", {})

    def stats(self) -> dict[str, int]:
        """Requests the Hub and CDN served, and CDN body bytes sent."""
        with urllib.request.urlopen(self.endpoint + "/_stats", timeout=10) as r:
            return dict(json.loads(r.read()))

    def commit(self, repo: str) -> str:
        """The repository's commit id (what a pinned revision names)."""
        from tests.hubserver import Hub

        return Hub(self.root, token="", gated=set(), private=set()).commit(self.root / repo)

    def local(self, repo_path: str) -> Path:
        """The local copy of ``ORG/REPO/PATH``."""
        return self.root / repo_path


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    root = tmp_path_factory.mktemp("hub")
    build_tree(root)
    repo = str(Path(__file__).resolve().parents[2])  # tests.hubserver lives in the repository, not the wheel
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(NETGUARD), repo, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.hubserver", "--root", str(root), "--token", TOKEN,
         "--gated", "gated/pair", "--private", "priv/pair"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    doc = json.loads(line)
    h = HubProcess(root, doc["endpoint"], doc["cdn"], proc)
    yield h
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def db_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An mmcheck cache dir holding only the compatibility database's JSON cache (copied per test)."""
    d = tmp_path_factory.mktemp("dbcache")
    subprocess.run([sys.executable, "-c", "from mmcheck.db import load_db; load_db()"], check=True,
                   env={**os.environ, "MMCHECK_CACHE_DIR": str(d)})  # fmt: skip
    return d


@pytest.fixture
def env(hub: HubProcess, db_cache: Path, tmp_path: Path) -> dict[str, str]:
    """The environment of a remote mmcheck subprocess (see the module doc)."""
    hub.reset()
    cache = tmp_path / "mmcheck-cache"
    shutil.copytree(db_cache, cache)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING")) and "proxy" not in k.lower()}
    return {
        **base,
        "HF_ENDPOINT": hub.endpoint,
        "HF_HOME": str(tmp_path / "hf-home"),
        "MMCHECK_CACHE_DIR": str(cache),
        "MMCHECK_RETRY_WAIT": "0.02",
        "PYTHONPATH": os.pathsep.join([str(NETGUARD), os.environ.get("PYTHONPATH", "")]),
    }


def run(env: dict[str, str], *args: str | Path, timeout: float = 120) -> Run:
    """``python -m mmcheck ARGS`` with the remote test environment."""
    proc = subprocess.run([sys.executable, "-m", "mmcheck", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout)  # fmt: skip
    return Run(proc.returncode, proc.stdout, proc.stderr)
