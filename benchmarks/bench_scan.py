"""``mmcheck scan`` on 1,000 generated header-only GGUF files (issue 6 target: under 5 s).

100 repositories of 10 files each, laid out like a publisher's: 8 quantizations of one text model
and 2 projector precisions (F16, Q8_0). The text models have real vocabularies (32,000 to 64,000 tokens for
the LLaMA/Yi families, 152,064 for Qwen2.5-VL), so each header is 0.85-3 MB, as real ones are.
Identical files are hard links of one generated file (the scanner reads each path on its own).
Run with ``python -m benchmarks.bench_scan`` or as part of ``make bench``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench"
TREE = CACHE / "scan1000"
QUANTS = ("Q2_K", "Q3_K_M", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "F16")
# (text lineage, projector family, projector variant, repositories)
KINDS = (
    ("vicuna-7b-v1.5", "llava-1.5", "llava-1.5-7b", 40),
    ("vicuna-13b-v1.5", "llava-1.5", "llava-1.5-13b", 30),
    ("yi-6b", "yi-vl", "yi-vl-6b", 20),
    ("qwen2.5-vl-7b-text", "qwen2.5-vl", "qwen2.5-vl-7b", 10),
)


def generate() -> Path:
    """Write the tree once (about a minute); later runs reuse it."""
    stamp = TREE / ".complete"
    if stamp.exists():
        return TREE
    from mmcheck.db import load_db
    from mmcheck.testing.presets import write_family_projector, write_lineage_model

    db = load_db()
    shutil.rmtree(TREE, ignore_errors=True)
    unique = CACHE / "scan1000-unique"
    unique.mkdir(parents=True, exist_ok=True)
    repo = 0
    for lineage, fam, var, count in KINDS:
        family = db.families[fam]
        variant = next(v for v in family.variants if v.id == var)
        models = {}
        for q in ("Q4_K", "Q8_0", "F16"):
            path = unique / f"{lineage}-{q}.gguf"
            if not path.exists():
                write_lineage_model(path, db.lineages[lineage], weight_type=q, embd_type=q)
            models[q] = path
        projs = {}
        for prec in ("F16", "Q8_0"):
            path = unique / f"mmproj-{var}-{prec}.gguf"
            if not path.exists():
                write_family_projector(path, family, variant, db, weight_type=prec)
            projs[prec] = path
        for _ in range(count):
            d = TREE / f"publisher{repo % 7}" / f"{lineage}-finetune{repo}-GGUF"
            d.mkdir(parents=True)
            for q in QUANTS:
                src = models["F16" if q == "F16" else ("Q8_0" if q == "Q8_0" else "Q4_K")]
                os.link(src, d / f"{lineage}-finetune{repo}-{q}.gguf")
            for prec, src in projs.items():
                os.link(src, d / f"mmproj-{lineage}-finetune{repo}-{prec}.gguf")
            repo += 1
    stamp.touch()
    return TREE


def main() -> None:
    """Print the scan time of the 1,000-file tree (in-process and as a whole ``mmcheck scan``)."""
    from mmcheck.db import load_db
    from mmcheck.scan import scan

    tree = generate()
    db = load_db()
    n_files = sum(1 for _ in tree.rglob("*.gguf"))
    times = []
    result = None
    for _ in range(3):
        t = time.perf_counter()
        result = scan([tree], recursive=True, db=db)
        times.append(time.perf_counter() - t)
    assert result is not None
    best, worst = min(times), max(times)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mmcheck", "scan", str(tree), "-r", "--format", "json"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # fmt: skip
    whole = time.perf_counter() - t
    print("Directory scan (issue 6)")
    print(f"  {'files / pairs checked / fitting pairs':<58} {n_files:>6} / {len(result.pairs)} / "
          f"{sum(1 for p in result.pairs if p.ok)}")  # fmt: skip
    print(f"  {'scan() of 1,000 headers, best / worst of 3':<58} {best:8.2f} s / {worst:.2f} s   target < 5 s")
    print(f"  {'  per file':<58} {best / n_files * 1e3:8.2f} ms")
    print(f"  {'mmcheck scan -r --format json (whole process, exit ' + str(proc.returncode) + ')':<58} {whole:8.2f} s")


if __name__ == "__main__":
    main()
