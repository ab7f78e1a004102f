"""``make bench``: mmcheck's speed, as ratios against references measured in the same run.

Absolute times on a shared 2-core VM drift by 2x within minutes; ratios against a reference run in
the same process (``gguf.GGUFReader`` on the same file, ``python -c 'import numpy'`` for start-up)
hold. Each line prints the target from the issues next to the measurement.
"""

from __future__ import annotations

import contextlib
import importlib
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench"


def timeit(fn: Callable[[], object], repeat: int = 7, warmup: int = 2) -> float:
    """Median seconds of ``repeat`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def process_time(args: list[str], repeat: int = 15) -> float:
    """Median wall time of a whole process (after 3 warm-up runs)."""

    def run() -> None:
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    return timeit(run, repeat=repeat, warmup=3)


def line(label: str, value: str, target: str = "") -> None:
    print(f"  {label:<58} {value:>22}   {target}")


def generated_files() -> tuple[Path, Path]:
    """A 262,144-token text model (with data, so GGUFReader can read it) and a 7B-class projector."""
    from mmcheck.testing import write_projector, write_text_model
    from mmcheck.testing.builders import default_tokens

    CACHE.mkdir(parents=True, exist_ok=True)
    model = CACHE / "vocab262k.gguf"
    proj = CACHE / "mmproj-7b-class.gguf"
    if not model.exists():
        tokens = default_tokens(262144, ["<start_of_image>", "<end_of_image>"])
        write_text_model(model, arch="gemma3", n_embd=32, n_head=2, n_layer=1, tokens=tokens, context_length=32768)
    if not proj.exists():
        write_projector(proj, n_embd_out=32, width=1024, n_layer=23, n_head=16, image_size=336, patch_size=14,
                        header_only=True)  # fmt: skip
    return model, proj


def bench_header(path: Path, label: str) -> None:
    from gguf import GGUFReader

    from mmcheck.header import read_header

    ours = timeit(lambda: read_header(path))
    t = time.perf_counter()
    GGUFReader(path)
    ref = time.perf_counter() - t
    line(f"read_header, {label}", f"{ours * 1e3:8.1f} ms")
    line(f"gguf.GGUFReader, {label}", f"{ref * 1e3:8.1f} ms")
    line("  ratio", f"{ref / ours:8.0f}x faster", "target >= 500x")


def bench_facts(path: Path) -> None:
    from mmcheck.facts.text import text_facts
    from mmcheck.header import read_header

    def facts() -> None:
        t = text_facts(read_header(path))
        assert t.vocab is not None
        t.vocab.fingerprint()
        t.vocab.find("<start_of_image>")

    line("facts + fingerprint + marker lookup, 262k vocab", f"{timeit(facts) * 1e3:8.1f} ms", "target < 30 ms")


def bench_hostile() -> None:
    import struct

    from mmcheck.errors import GGUFError
    from mmcheck.header import read_header

    path = CACHE / "hostile-2e63-keys.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 2**63) + b"\0" * 64)

    def attempt() -> None:
        with contextlib.suppress(GGUFError):
            read_header(path)

    tracemalloc.start()
    attempt()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    line("header claiming 2^63 keys: time to fail", f"{timeit(attempt) * 1e3:8.3f} ms", "target < 10 ms")
    line("  peak Python memory", f"{peak / 1024:8.1f} KiB", "target < 100 MB")


def bench_db() -> None:
    import os
    import tempfile

    from mmcheck.db import load_db

    with tempfile.TemporaryDirectory() as d:
        os.environ["MMCHECK_CACHE_DIR"] = d
        t = time.perf_counter()
        load_db()
        cold = time.perf_counter() - t
        warm = timeit(load_db)
        del os.environ["MMCHECK_CACHE_DIR"]
    line("compat_db load, cold (YAML parse + validation)", f"{cold * 1e3:8.1f} ms")
    line("compat_db load, warm (JSON cache hit)", f"{warm * 1e3:8.1f} ms")


def bench_processes(model: Path, proj: Path, label: str) -> None:
    py = sys.executable
    numpy = process_time([py, "-c", "import numpy"])
    bare = process_time([py, "-c", "pass"])
    inspect = process_time([py, "-m", "mmcheck", "inspect", str(model)])
    pair = process_time([py, "-m", "mmcheck", "pair", str(model), str(proj), "--no-smoke", "-q"])
    line("python -c pass", f"{bare * 1e3:8.1f} ms")
    line("python -c 'import numpy' (reference)", f"{numpy * 1e3:8.1f} ms")
    line(f"mmcheck inspect, {label}", f"{inspect * 1e3:8.1f} ms = {inspect / numpy:4.2f}x numpy", "target <= 1.6x")
    line(f"mmcheck pair --no-smoke, {label}", f"{pair * 1e3:8.1f} ms = {pair / numpy:4.2f}x numpy", "target <= 2.0x")


def main() -> int:
    """Run every benchmark and print the results."""
    from mmcheck.testing import realfiles

    print("mmcheck benchmarks (medians; ratios are against references measured in this run)\n")
    model, proj = generated_files()
    print("Header reading")
    bench_header(model, "generated 262,144-token model")
    gemma = realfiles.CACHE / realfiles.GEMMA3
    if gemma.exists():
        bench_header(gemma, "real Gemma 3 270M (6.5 MB header)")
    else:
        print("  (real Gemma 3 270M not cached: `make test` fetches it; see docs/benchmarks.md)")
    bench_facts(model)
    bench_hostile()
    print("\nDatabase")
    bench_db()
    print("\nWhole processes")
    bench_processes(gemma if gemma.exists() else model, proj, "Gemma 3 270M + 7B-class projector"
                    if gemma.exists() else "262k model + 7B-class projector")  # fmt: skip
    for name in ("benchmarks.bench_smoke", "benchmarks.bench_scan", "benchmarks.bench_remote"):
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        print()
        mod.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
