"""Build realistic header-only files from database entries: a lineage's text model, a family's projector.

Used by the demo and by table-driven tests ("every family variant in the DB is recognised").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmcheck.db import CompatDB, Family, FamilyVariant, Lineage
from mmcheck.testing.builders import ProjectorSpec, TextModelSpec, default_tokens, write_projector, write_text_model


def text_spec_for_lineage(
    lineage: Lineage, *, name: str | None = None, markers: tuple[str, ...] = (), **overrides: Any
) -> TextModelSpec:
    """A header-only text model with the lineage's shapes (unknown numbers get plausible stand-ins).

    ``markers`` are added to the vocabulary as control tokens (a family's own text model has them).
    """
    n_embd = lineage.n_embd or 4096
    n_head = lineage.n_head or 32
    vocab = lineage.vocab_size or 32000
    spec = TextModelSpec(
        arch=lineage.architecture,
        n_embd=n_embd,
        n_layer=min(lineage.n_layer or 2, 4) if overrides.pop("few_layers", True) else (lineage.n_layer or 2),
        n_head=n_head,
        n_head_kv=lineage.n_head_kv or n_head,
        n_ff=lineage.n_ff or n_embd * 4,
        vocab_size=vocab,
        tokens=default_tokens(vocab, [m for m in markers if m not in ("\n", "\n\n")] + ["\n\n"] * ("\n\n" in markers)),
        special_tokens=tuple(m for m in markers if m != "\n"),
        tokenizer_model=lineage.tokenizer_model or "llama",
        tokenizer_pre=lineage.tokenizer_pre[0] if lineage.tokenizer_pre else None,
        rope_freq_base=lineage.rope_freq_base,
        name=name if name is not None else lineage.name,
        header_only=True,
        weight_type="Q4_K" if n_embd % 256 == 0 else "F16",
        embd_type="Q4_K" if n_embd % 256 == 0 else "F16",
    )
    # the layer count is part of the fingerprint: keep it in the metadata even with few tensors
    spec.extra_keys = {f"{lineage.architecture}.block_count": (lineage.n_layer or spec.n_layer, _u32())}
    for key, value in overrides.items():
        setattr(spec, key, value)
    return spec


def _u32() -> Any:
    from gguf import GGUFValueType

    return GGUFValueType.UINT32


def projector_spec_for_variant(family: Family, variant: FamilyVariant, db: CompatDB, **overrides: Any) -> ProjectorSpec:
    """A header-only projector with the variant's encoder signature (the family's, where the variant
    records none) and the variant's output width."""
    from mmcheck.identify import merged_encoder

    enc = merged_encoder(family, variant)
    type_id = family.projector_types[0]
    spec = ProjectorSpec(
        projector_type=type_id,
        n_embd_out=variant.output_width or 4096,
        width=(enc.embedding_length if enc and enc.embedding_length else 1024),
        n_layer=(enc.block_count if enc and enc.block_count else 2),
        n_head=(enc.head_count if enc and enc.head_count else 16),
        image_size=(enc.image_size if enc and enc.image_size else 336),
        patch_size=(enc.patch_size if enc and enc.patch_size else 14),
        name=variant.id,
        header_only=True,
    )
    for key, value in overrides.items():
        setattr(spec, key, value)
    return spec


def family_markers(family: Family, db: CompatDB) -> tuple[str, ...]:
    """The marker tokens (T and L) the runtime looks up for a family's projector types."""
    out: list[str] = []
    for t in family.projector_types:
        spec = db.projector_type(t)
        if spec is not None:
            out += [m.text for m in spec.markers if m.kind in ("T", "L") and m.text not in out]
    return tuple(out)


def write_lineage_model(path: Path, lineage: Lineage, **overrides: Any) -> Path:
    """Write a header-only text model of ``lineage``."""
    return write_text_model(path, text_spec_for_lineage(lineage, **overrides))


def write_family_projector(path: Path, family: Family, variant: FamilyVariant, db: CompatDB, **kw: Any) -> Path:
    """Write a header-only projector of ``family``'s ``variant``."""
    return write_projector(path, projector_spec_for_variant(family, variant, db, **kw))
