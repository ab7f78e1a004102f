"""Where the start-up of ``mmcheck pair`` goes: ``python -X importtime`` of whole runs, by package.

Not part of ``make bench`` (it only explains its numbers). Each command runs ``--runs`` times; the
table shows the median per run of the summed self times of each group of modules (numpy, gguf,
typer, rich, mmcheck's own, the standard library). ``-X importtime`` inflates every import by
about the same factor, so compare rows with each other, not with the wall times of ``make bench``.

Run: ``python -m benchmarks.bench_startup [--runs N] [--tree DIR]...``. ``--tree``: a folder holding
a copy of the ``mmcheck`` package (and ``compat_db``) to measure instead of this working tree, e.g.
``git archive HEAD mmcheck compat_db | tar -x -C /tmp/head``; several trees are measured round-robin.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
from pathlib import Path

CORE: tuple[str, ...] = ("mmcheck.rules", "mmcheck.identify", "mmcheck.db", "mmcheck.facts", "mmcheck.header")
CORE += ("mmcheck.evidence", "mmcheck.verdict", "mmcheck.structure")
GROUPS = (
    ("numpy", ("numpy",)),
    ("gguf", ("gguf",)),
    ("yaml", ("yaml", "_yaml")),
    ("typer (+ its vendored click)", ("typer", "shellingham", "annotated_doc")),
    ("click (the separate package)", ("click",)),
    ("rich", ("rich", "pygments", "markdown_it", "mdurl")),
    ("mmcheck: rules, identify, db, facts, header", CORE),
    ("mmcheck: smoke test", ("mmcheck.smoke",)),
    ("mmcheck: stores, dbcommands, runtimes", ("mmcheck.stores", "mmcheck.dbcommands", "mmcheck.runtimes")),
    ("mmcheck: the rest", ("mmcheck",)),
)


def group_of(module: str) -> str:
    for label, prefixes in GROUPS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return label
    return "standard library and the rest"


def import_times(args: list[str], cwd: Path) -> dict[str, float]:
    """Milliseconds of self import time per group in one ``-X importtime`` run of ``args`` in ``cwd``
    (``python -m`` imports the ``mmcheck`` found there first)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True, cwd=cwd)
    out: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        head, _, name = line.rpartition("|")
        self_us = head.split(":", 1)[1].split("|")[0].strip()
        if not self_us.isdigit():
            continue  # the header line
        key = group_of(name.strip())
        out[key] = out.get(key, 0.0) + int(self_us) / 1000
    return out


Samples = dict[str, list[dict[str, float]]]  # command -> one {group: ms} per run


def measure(commands: dict[str, list[str]], trees: list[Path], runs: int) -> dict[Path, Samples]:
    """``runs`` rounds; in each, every command once in every tree (so that all see the same load)."""
    samples: dict[Path, Samples] = {t: {k: [] for k in commands} for t in trees}
    for _ in range(runs):
        for tree in trees:
            for key, args in commands.items():
                samples[tree][key].append(import_times(args, tree))
    return samples


def table(samples: Samples, runs: int) -> None:
    commands = list(samples)
    labels = [g for g, _ in GROUPS] + ["standard library and the rest"]
    width = max(len(k) for k in commands) + 2
    head = f"ms of import time (median of {runs} runs)"
    print(f"  {head:<46}" + "".join(f"{k:>{width}}" for k in commands))
    totals = {k: 0.0 for k in commands}
    for label in labels:
        row = {k: statistics.median(s.get(label, 0.0) for s in samples[k]) for k in commands}
        for k in commands:
            totals[k] += row[k]
        if any(v >= 0.05 for v in row.values()):
            print(f"  {label:<46}" + "".join(f"{row[k]:>{width}.1f}" for k in commands))
    print(f"  {'total':<46}" + "".join(f"{totals[k]:>{width}.1f}" for k in commands))


def main(argv: list[str] | None = None) -> int:
    """Print the import-time table of the ``mmcheck pair`` runs that ``make bench`` times."""
    from benchmarks.run import ROOT, gemma27b_pair, smollm2_pair

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tree", type=Path, action="append", default=[],
                    help="a folder holding a copy of the mmcheck package to measure (repeatable)")  # fmt: skip
    ns = ap.parse_args(argv)
    trees = [t.resolve() for t in ns.tree] or [ROOT]
    for tree in trees:
        compileall.compile_dir(tree / "mmcheck", quiet=1)  # as installed: no run compiles a stale module
    big, big_proj = gemma27b_pair()
    mm = ["-m", "mmcheck", "pair"]
    commands = {
        "numpy": ["-c", "import numpy"],
        "--no-smoke": [*mm, str(big), str(big_proj), "--no-smoke"],
        "-q": [*mm, str(big), str(big_proj), "--no-smoke", "-q"],
        "header-only": [*mm, str(big), str(big_proj)],
    }
    small = smollm2_pair()
    if small is not None:
        commands["smoke"] = [*mm, str(small[0]), str(small[1])]
    samples = measure(commands, trees, ns.runs)
    for tree in trees:
        print(f"python -X importtime, by package: {tree}")
        print("  --no-smoke, -q, header-only: the Gemma-3-27B-shaped header-only pair; smoke: SmolLM2-135M + fitted")
        table(samples[tree], ns.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
