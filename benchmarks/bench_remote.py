"""Benchmark remote checks (hf:// by HTTP range) against the loopback Hub with 50 ms per request.

Two pairs, each served from ``tests.hubserver`` (Hub on one port, CDN on another, 50 ms
added to every request, as a nearby CDN edge costs) and read locally for the reference:

- the 262,144-token text model of ``benchmarks/run.py`` + a 7B-class projector, ``--no-smoke``:
  cold (no header cache) and warm (cache validated with one paths-info request);
- the LLaVA-1.5-7B-shaped pair with data of ``bench_smoke`` (Q4_K 32000 x 4096 token_embd,
  F16 mlp projector), smoke test on: with multi-range requests (nginx/Apache-like servers) and
  without (S3-backed CDNs answer multi-range with the whole file).

Printed: requests, bytes fetched (and as a share of the two files), whole-process time, and the
ratio remote / local measured in the same run.

Run: ``python -m benchmarks.bench_remote``
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LATENCY_MS = 50
ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench"


def _link(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        try:
            os.link(src, dest)
        except OSError:
            shutil.copyfile(src, dest)


def _files(tree: Path) -> None:
    from benchmarks.bench_smoke import N_EMBD, VISION, write_text
    from benchmarks.run import generated_files
    from mmcheck.testing.builders import write_projector

    model, proj = generated_files()
    _link(model, tree / "bench" / "vocab262k" / model.name)
    _link(proj, tree / "bench" / "vocab262k" / proj.name)
    text = CACHE / "llava-7b-q4_k.gguf"
    mmproj = CACHE / "mmproj-llava-7b-f16.gguf"
    if not text.exists():
        write_text(text)
    if not mmproj.exists():
        write_projector(mmproj, projector_type="mlp", width=VISION, hidden=N_EMBD, n_embd_out=N_EMBD, n_layer=0,
                        image_size=336, patch_size=14, weight_type="F16")  # fmt: skip
    _link(text, tree / "bench" / "llava7b" / text.name)
    _link(mmproj, tree / "bench" / "llava7b" / mmproj.name)


def _run(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mmcheck", *args], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"mmcheck {' '.join(args)} failed: {proc.stderr.strip()}")
    doc = json.loads(proc.stdout) if "json" in args else {}
    return elapsed, doc


def _median(args: list[str], env: dict[str, str], repeat: int) -> tuple[float, dict[str, Any]]:
    _run(args, env)  # warm-up (page cache, byte-compiled modules, DB cache)
    runs = [_run(args, env) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), runs[-1][1]


def _cost(doc: dict[str, Any]) -> tuple[int, int]:
    r = [doc[side].get("remote", {}) for side in ("model", "mmproj")]
    return sum(x.get("requests", 0) for x in r), sum(x.get("bytes_fetched", 0) for x in r)


def line(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<58} {value:>26}   {note}")


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def main(repeat: int = 5) -> int:
    """Serve the pairs with 50 ms latency, time local and remote ``pair`` runs, print the numbers."""
    from tests.hubserver import serve

    print(f"Remote checks (loopback Hub + CDN, {LATENCY_MS} ms per request; medians of {repeat} runs)")
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "hub"
        _files(tree)
        hub, srv, _cdn = serve(tree)
        hub.faults["latency_ms"] = LATENCY_MS
        endpoint = f"http://127.0.0.1:{srv.server_address[1]}"
        base = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        cache = Path(tmp) / "cache"
        env = {**base, "HF_ENDPOINT": endpoint, "HF_HOME": str(Path(tmp) / "hf"), "MMCHECK_CACHE_DIR": str(cache)}

        big = tree / "bench" / "vocab262k"
        m, p = sorted(big.iterdir(), key=lambda f: "mmproj" in f.name)
        sizes = m.stat().st_size + p.stat().st_size
        local_t, _ = _median(["pair", str(m), str(p), "--no-smoke", "-f", "json"], env, repeat)
        remote = [f"hf://bench/vocab262k/{m.name}", f"hf://bench/vocab262k/{p.name}"]
        cold_t, cold = _median(["pair", *remote, "--no-smoke", "--no-cache", "-f", "json"], env, repeat)
        warm_t, warm = _median(["pair", *remote, "--no-smoke", "-f", "json"], env, repeat)
        req, nbytes = _cost(cold)
        wreq, wbytes = _cost(warm)
        metadata = 1 if warm["model"]["remote"]["cache"] == "hit" else 0
        print(f"\n  262,144-token model + 7B-class projector, --no-smoke ({_mb(sizes)} on the server)")
        line("local pair (reference)", f"{local_t * 1e3:8.0f} ms")
        line("remote pair, no header cache", f"{cold_t * 1e3:8.0f} ms = {cold_t / local_t:4.1f}x local",
             f"{req} requests, {_mb(nbytes)} ({nbytes / sizes:.0%} of the files)")  # fmt: skip
        line("remote pair, header cache warm", f"{warm_t * 1e3:8.0f} ms = {warm_t / local_t:4.1f}x local",
             f"{wreq + metadata} request(s) (paths-info), {wbytes} B of headers")  # fmt: skip

        data = tree / "bench" / "llava7b"
        m, p = sorted(data.iterdir(), key=lambda f: "mmproj" in f.name)
        sizes = m.stat().st_size + p.stat().st_size
        local_t, local = _median(["pair", str(m), str(p), "-f", "json"], env, repeat)
        remote = [f"hf://bench/llava7b/{m.name}", f"hf://bench/llava7b/{p.name}"]
        multi_t, multi = _median(["pair", *remote, "--no-cache", "-f", "json"], env, repeat)
        hub.faults["no_multirange"] = True
        single_t, single = _median(["pair", *remote, "--no-cache", "-f", "json"], env, repeat)
        hub.faults["no_multirange"] = False
        srv.shutdown()
        assert multi["verdict"] == single["verdict"] == local["verdict"]
        assert multi["smoke"]["scale_ratio"] == local["smoke"]["scale_ratio"]
        print(f"\n  LLaVA-1.5-7B-shaped pair with data, smoke test on ({_mb(sizes)} on the server)")
        line("local pair (reference)", f"{local_t * 1e3:8.0f} ms", f"smoke {local['smoke']['status']}")
        for label, t, doc in (("remote, multi-range server", multi_t, multi), ("remote, no multi-range (S3-like)",
                                                                               single_t, single)):  # fmt: skip
            req, nbytes = _cost(doc)
            line(label, f"{t * 1e3:8.0f} ms = {t / local_t:4.1f}x local",
                 f"{req} requests, {_mb(nbytes)} ({nbytes / sizes:.1%} of the files)")  # fmt: skip
        rows = local["smoke"]["embedding"]["rows_sampled"]
        print(f"  (the smoke test reads the projector's mm.* tensors and {rows} token_embd rows; same verdict and"
              " numbers as local)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
