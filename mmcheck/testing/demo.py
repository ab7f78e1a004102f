"""``python -m mmcheck.testing.demo DIR``: write the sample files ``make demo`` checks.

A LLaVA-1.5-7B-shaped pair (header-only copies: real key names, tensor names and shapes, no weights),
a 13B text model the 7B projector does not fit, and a Mistral-7B model for the same-width,
different-lineage case.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mmcheck.db import load_db
from mmcheck.testing.presets import write_family_projector, write_lineage_model


def write_demo(directory: Path) -> list[Path]:
    """Write the demo files into ``directory`` and return their paths."""
    db = load_db()
    directory.mkdir(parents=True, exist_ok=True)
    llava = db.families["llava-1.5"]
    v7 = next(v for v in llava.variants if v.id == "llava-1.5-7b")
    out = [
        write_lineage_model(directory / "tinyllava-7b-f16.gguf", db.lineages["vicuna-7b-v1.5"], name="llava-v1.5-7b"),
        write_family_projector(directory / "mmproj-tinyllava-7b-f16.gguf", llava, v7, db, name="Llava 1.5 7b Hf"),
        write_lineage_model(
            directory / "tinyllava-13b-f16.gguf", db.lineages["vicuna-13b-v1.5"], name="llava-v1.5-13b"
        ),
        write_lineage_model(
            directory / "mistral-7b-instruct-f16.gguf", db.lineages["mistral-7b-v0.2"], name="Mistral 7B Instruct v0.2"
        ),
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point: write the demo files into the directory given (default ``demo``)."""
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0] if args else "demo")
    for p in write_demo(directory):
        print(f"wrote {p} ({p.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
