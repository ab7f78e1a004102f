"""Benchmark the projection smoke test on a LLaVA-1.5-7B-shaped pair.

Projector: ``mlp``, 1024 -> 4096 -> 4096, F16 (encoder omitted: 0 blocks). Text model: a
32000 x 4096 Q4_K ``token_embd`` (random Q4_K blocks with small finite scales) and one tiny
block. Both are generated into a temporary directory. Target: < 300 ms for the whole smoke test.

Each round also runs the smoke test with the settings used before the calibration (16 projected
rows, 4096 token rows; ``REFERENCE``), interleaved with the defaults, so the cost ratio is taken
in the same run under the same load (budget: defaults <= 1.2 x reference, docs/smoke-test.md).

Run: ``python -m benchmarks.bench_smoke``
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFValueType, GGUFWriter

from mmcheck.db import load_db
from mmcheck.inspection import inspect_file
from mmcheck.smoke import run_smoke
from mmcheck.testing.builders import write_projector

TARGET_MS = 300.0
#: the settings before the calibration (n_tokens, embd_sample), run as the same-run reference
REFERENCE = {"n_tokens": 16, "embd_sample": 4096}
#: the defaults may cost at most this much more than the reference
RATIO_BUDGET = 1.2
VOCAB, N_EMBD, VISION = 32000, 4096, 1024


def _q4k_blocks(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """Random Q4_K blocks (144 bytes per 256 values) whose f16 scales d/dmin are 0.002."""
    raw = rng.integers(0, 256, size=(rows, cols // 256, 144), dtype=np.uint8)
    scale = np.frombuffer(np.float16(0.002).tobytes(), dtype=np.uint8)
    raw[:, :, 0:2] = scale
    raw[:, :, 2:4] = scale
    return raw.reshape(rows, cols // 256 * 144)


def write_text(path: Path) -> Path:
    """A llama text model: Q4_K token_embd (32000 x 4096), vocabulary, one small block."""
    rng = np.random.default_rng(0)
    w = GGUFWriter(path, "llama")
    for key, value in (
        ("embedding_length", N_EMBD),
        ("block_count", 1),
        ("context_length", 4096),
        ("feed_forward_length", 256),
        ("attention.head_count", 32),
        ("vocab_size", VOCAB),
    ):
        w.add_key_value(f"llama.{key}", value, GGUFValueType.UINT32)  # fmt: skip
    w.add_key_value("tokenizer.ggml.model", "llama", GGUFValueType.STRING)
    tokens = ["<unk>", "<s>", "</s>"] + [f"\u2581tok{i}" for i in range(VOCAB - 3)]
    w.add_key_value("tokenizer.ggml.tokens", tokens, GGUFValueType.ARRAY)
    w.add_tensor("token_embd.weight", _q4k_blocks(rng, VOCAB, N_EMBD), raw_dtype=GGMLQuantizationType.Q4_K)
    w.add_tensor("blk.0.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def main(repeats: int = 7) -> int:
    """Generate the pair, run the smoke test ``repeats`` times (and the reference), print the times."""
    db = load_db()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        write_text(d / "llava-7b-q4_k.gguf")
        write_projector(d / "mmproj-llava-7b-f16.gguf", projector_type="mlp", width=VISION, hidden=N_EMBD,
                        n_embd_out=N_EMBD, n_layer=0, image_size=336, patch_size=14, weight_type="F16")  # fmt: skip
        print(f"generated the pair in {time.perf_counter() - t0:.1f} s")
        model = inspect_file(d / "llava-7b-q4_k.gguf", db)
        proj = inspect_file(d / "mmproj-llava-7b-f16.gguf", db)
        runs, ref = [], []
        for _ in range(repeats):  # interleaved: both see the same machine load
            runs.append(run_smoke(model, proj))
            ref.append(run_smoke(model, proj, **REFERENCE))  # type: ignore[arg-type]
    last = runs[-1]
    print(f"status: {last.status} ({last.reason}); scale_ratio={last.scale_ratio}, alignment={last.alignment}")
    print("stages (last run):")
    for s in last.stages:
        print(f"  {s['name']:<8} {s['op']:<11} {s['input_shape']!s:>12} -> {s['output_shape']!s:<12} {s['ms']:8.1f} ms")
    print("timings (median of runs, ms):")
    for key in ("read", "dequantize", "forward", "embedding", "total"):
        print(f"  {key:<11} {statistics.median(r.timings[key] for r in runs):8.1f}")
    total = statistics.median(r.timings["total"] for r in runs)
    first = runs[0].timings["total"]
    print(f"total: median {total:.1f} ms (first, cold cache: {first:.1f} ms); target < {TARGET_MS:.0f} ms: "
          f"{'OK' if total < TARGET_MS else 'OVER'}")  # fmt: skip
    stages = ("dequantize", "forward", "embedding")
    ref_total = statistics.median(r.timings["total"] for r in ref)
    ratio = total / ref_total if ref_total > 0 else float("inf")
    e = last.embedding
    print(f"rows: {e.get('output_rows')} projected, {e.get('rows_sampled')} token rows; reference "
          f"{REFERENCE['n_tokens']}/{REFERENCE['embd_sample']}: median {ref_total:.1f} ms "
          f"({', '.join(f'{k} {statistics.median(r.timings[k] for r in ref):.1f}' for k in stages)}); "
          f"ratio {ratio:.2f} (budget {RATIO_BUDGET}): {'OK' if ratio <= RATIO_BUDGET else 'OVER'}")  # fmt: skip
    return 0 if last.status != "skipped" else 1


if __name__ == "__main__":
    sys.exit(main())
