"""MM7xx — single-file checks on the text model."""

from __future__ import annotations

from collections.abc import Iterator

from mmcheck.evidence import CERTAIN_AGAINST
from mmcheck.rules.base import Context, Hit, Severity, rule


@rule("MM701", "vocab-embedding-mismatch", severity=Severity.WARNING, scope="text")
def vocab_embedding_mismatch(ctx: Context) -> Iterator[Hit]:
    """The token list and the token-embedding table have different lengths.

    Why: Converters pad the embedding table (e.g. to a multiple of 64); a difference beyond padding
    means tokens without embeddings or a token list from another model.

    Fix: Re-convert from the original checkpoint if the difference is not padding.
    """
    if ctx.model is None or ctx.model.text is None:
        return
    t = ctx.model.text
    if t.vocab_disagrees:
        yield Hit(
            f"tokenizer has {t.vocab_size:,} tokens but token_embd.weight has {t.embd_rows:,} rows", "", file="model"
        )


@rule("MM702", "text-model-missing-keys", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="text")
def text_model_missing_keys(ctx: Context) -> Iterator[Hit]:
    """The text model lacks a key llama.cpp requires (embedding length, block count, token list).

    Why: llama.cpp fails with `key not found in model: <key>`.

    Fix: Re-convert the model.
    """
    if ctx.model is None or ctx.model.text is None:
        return
    t = ctx.model.text
    arch = t.architecture
    missing = []
    if t.n_embd is None:
        missing.append(f"{arch}.embedding_length")
    if t.n_layer is None:
        missing.append(f"{arch}.block_count")
    if t.vocab is None:
        missing.append("tokenizer.ggml.tokens")
    if missing:
        yield Hit(f"text model lacks {', '.join(missing)}", "re-convert the model", file="model")
    elif t.n_layer is not None and not 1 <= t.n_layer <= 512:
        yield Hit(f"{arch}.block_count is {t.n_layer}; llama.cpp asserts 1..512", "", file="model")
