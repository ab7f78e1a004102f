"""MM2xx — image tokens: marker tokens in the text vocabulary, context and batch sizes."""

from __future__ import annotations

from collections.abc import Iterator

from mmcheck.evidence import CERTAIN_AGAINST, WEAK_AGAINST
from mmcheck.rules.base import Context, Hit, Severity, rule


@rule("MM201", "marker-token-missing", severity=Severity.WARNING, evidence=WEAK_AGAINST)
def marker_token_missing(ctx: Context) -> Iterator[Hit]:
    """A marker token the runtime inserts around images is not in the text model's vocabulary.

    Why: llama.cpp wraps image embeddings in family-specific markers (e.g. `<start_of_image>` for
    Gemma 3, `<|vision_start|>` for Qwen2-VL). A missing marker is tokenized as plain text, or
    looked up as token -1, without any error: the model misreads the image.

    Fix: Use a text model of the projector's family; a model without these tokens was not trained
    with this projector's family (a projector someone built for this very model is the exception:
    the lineage rules weigh that).
    """
    if not ctx.is_pair:
        return
    assert ctx.model is not None and ctx.mmproj is not None and ctx.model.text is not None
    vocab = ctx.model.text.vocab
    if vocab is None:
        return
    assert ctx.mmproj.projector is not None
    for tower in ctx.mmproj.projector.towers.values():
        missing = [text for text, kind in tower.markers if kind == "T" and vocab.find(text) is None]
        if missing:
            shown = ", ".join(repr(m) for m in missing)
            yield Hit(
                f"{tower.type_id} projector: marker token(s) {shown} not in the text vocabulary "
                f"({len(vocab):,} tokens)",
                "use a text model of the projector's family",
                file="model",
            )


@rule("MM205", "lookup-marker-missing", severity=Severity.ERROR, evidence=CERTAIN_AGAINST)
def lookup_marker_missing(ctx: Context) -> Iterator[Hit]:
    """A token the runtime looks up by its text (not parses) is missing from the vocabulary.

    Why: For lookup markers (e.g. idefics3's `\\n\\n` and `<global-img>`) llama.cpp scans the vocab for
    the exact piece and pushes token -1 when it is absent; decoding then aborts
    (`GGML_ASSERT(idx >= 0)`, observed with llama.cpp 0c1e570 through the oracle suite).

    Fix: Use a text model of the projector's family (its tokenizer has these pieces).
    """
    if not ctx.is_pair:
        return
    assert ctx.model is not None and ctx.mmproj is not None and ctx.model.text is not None
    vocab = ctx.model.text.vocab
    assert ctx.mmproj.projector is not None
    if vocab is None:
        return
    for tower in ctx.mmproj.projector.towers.values():
        missing = sorted({text for text, kind in tower.markers if kind == "L" and vocab.find(text) is None})
        if missing:
            yield Hit(
                f"{tower.type_id} looks up {', '.join(repr(m) for m in missing)} in the vocabulary and the text "
                "model has no such token: the runtime aborts at the first image",
                "use a text model of the projector's family",
                file="model",
            )


@rule("MM202", "marker-token-not-special", severity=Severity.WARNING, evidence=WEAK_AGAINST)
def marker_token_not_special(ctx: Context) -> Iterator[Hit]:
    """A marker token exists in the vocabulary but is a normal token, not a control/user-defined one.

    Why: llama.cpp parses the marker text with `parse_special=true`; only CONTROL, USER_DEFINED or
    UNKNOWN tokens become one token. A NORMAL token with the same text is split into pieces.

    Fix: Use the text model published with the projector (its tokenizer marks these tokens special).
    """
    if not ctx.is_pair:
        return
    assert ctx.model is not None and ctx.mmproj is not None and ctx.model.text is not None
    vocab = ctx.model.text.vocab
    if vocab is None or vocab.token_types is None:
        return
    assert ctx.mmproj.projector is not None
    for tower in ctx.mmproj.projector.towers.values():
        for text, kind in tower.markers:
            if kind != "T":
                continue
            hit = vocab.find(text)
            if hit is not None and not hit.is_special:
                yield Hit(
                    f"marker {text!r} is token {hit.token_id} of type {hit.token_type}, not CONTROL/USER_DEFINED",
                    "the runtime will split it into pieces; use the family's own text model",
                    file="model",
                )


def _worst_tokens(ctx: Context) -> tuple[int, str] | None:
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return None
    tower = ctx.mmproj.projector.towers.get("vision")
    if tower is None or tower.tokens is None or tower.tokens.worst_case is None:
        return None
    return tower.tokens.worst_case, tower.type_id or "?"


@rule("MM203", "context-too-small-for-image", severity=Severity.WARNING)
def context_too_small(ctx: Context) -> Iterator[Hit]:
    """The context cannot hold one image's tokens.

    Why: KoboldCpp silently drops the image (`Media excluded - Context size too low`),
    llama-cpp-python raises `Prompt exceeds n_ctx`, llama.cpp refuses the prompt.

    Fix: Raise the context size (`-c`), or lower the image token budget (`--image-max-tokens`).
    """
    if not ctx.is_pair:
        return
    worst = _worst_tokens(ctx)
    assert ctx.model is not None and ctx.model.text is not None
    n_ctx = ctx.options.ctx_size or ctx.model.text.context_length
    if worst is None or n_ctx is None:
        return
    tokens, type_id = worst
    if tokens > n_ctx:
        source = "--ctx-size" if ctx.options.ctx_size else "the model's context length"
        yield Hit(
            f"one image can take {tokens:,} tokens ({type_id}) but {source} is {n_ctx:,}",
            "raise the context size or limit image tokens",
        )


@rule("MM204", "batch-too-small-for-image", severity=Severity.WARNING)
def batch_too_small(ctx: Context) -> Iterator[Hit]:
    """One image's tokens exceed the micro-batch (non-causal projectors) or the batch.

    Why: Non-causal image decoding (Gemma 3, Gemma 4, ...) needs the whole image in one micro-batch:
    llama.cpp asserts `non-causal attention requires n_ubatch >= n_tokens` (default `-ub 512`).
    Any image larger than `-b` (default 2048) asserts `n_tokens_all <= cparams.n_batch`.

    Fix: Start the runtime with `-ub` (and `-b`) at least the image token count.
    """
    if ctx.mmproj is None or ctx.mmproj.projector is None:
        return
    tower = ctx.mmproj.projector.towers.get("vision")
    worst = _worst_tokens(ctx)
    if tower is None or worst is None or tower.spec is None:
        return
    tokens, type_id = worst
    non_causal = tower.spec.non_causal
    if non_causal == "conditional" and ctx.model is not None and ctx.model.text is not None:
        non_causal = ctx.model.text.n_embd not in (1536, 2560)  # gemma4v: causal on E2B/E4B (mtmd.cpp:2184-2186)
    if non_causal and tokens > ctx.options.ubatch_size:
        yield Hit(
            f"{type_id} decodes images non-causally: up to {tokens:,} tokens in one micro-batch, "
            f"but the micro-batch is {ctx.options.ubatch_size}",
            f"start the runtime with -ub {tokens} (or more)",
        )
    elif tokens > ctx.options.batch_size:
        yield Hit(
            f"one image can take {tokens:,} tokens, more than the batch size {ctx.options.batch_size}",
            f"start the runtime with -b {tokens} (or more)",
        )
