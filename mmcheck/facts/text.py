"""Facts about a text model, extracted from its header only."""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
from typing import NamedTuple

from mmcheck.facts.vocab import Vocab, vocab_of
from mmcheck.header import GGUFHeader

# llama.cpp derives the rope type from the architecture (llama_model_rope_type(), src/llama-model.cpp:3023 @0c1e570).
MROPE_ARCHES = frozenset({"qwen2vl", "paddleocr"})
IMROPE_ARCHES = frozenset({"qwen3vl", "qwen3vlmoe", "qwen35", "qwen35moe", "qwen4exp", "qwen3tts"})
CONDITIONAL_MROPE_ARCHES = frozenset({"glm4", "glm4moe", "hunyuan_vl", "bailingmoe3"})
DEEPSTACK_ARCHES = frozenset({"qwen3vl", "qwen3vlmoe"})


class BaseModel(NamedTuple):
    """One ``general.base_model.{i}.*`` entry."""

    name: str | None = None
    organization: str | None = None
    version: str | None = None
    repo_url: str | None = None


class TextFacts(NamedTuple):
    """What mmcheck knows about a text model."""

    architecture: str
    n_embd: int | None
    n_embd_inp: int | None  # what llama.cpp compares with the projector's width
    deepstack_layers: int
    context_length: int | None
    n_layer: int | None
    n_head: int | tuple[int, ...] | None
    n_head_kv: int | tuple[int, ...] | None
    n_ff: int | tuple[int, ...] | None
    vocab_size: int | None  # length of tokenizer.ggml.tokens
    embd_rows: int | None  # token_embd.weight ne[1]
    tokenizer_model: str | None
    tokenizer_pre: str | None
    rope_type: str  # "norm/neox" | "mrope" | "imrope"
    rope_sections: tuple[int, ...] | None
    rope_freq_base: float | None
    name: str | None
    basename: str | None
    size_label: str | None
    finetune: str | None
    version: str | None
    organization: str | None
    urls: tuple[str, ...]  # general.url / repo_url / source.url / source.repo_url: where this file came from
    base_models: tuple[BaseModel, ...]
    file_type: int | None
    has_chat_template: bool
    add_bos: bool | None
    vocab: Vocab | None = None

    @property
    def vocab_disagrees(self) -> bool:
        """Token list length and token_embd rows both known and different."""
        return self.vocab_size is not None and self.embd_rows is not None and self.vocab_size != self.embd_rows

    def own_names(self) -> list[str]:
        """The names this file gives itself: general.name, basename, the converter's composite
        (basename size_label finetune version) and its source URLs. Base models are not included."""
        out = [s for s in (self.name, self.basename) if s]
        if self.basename:
            parts = [p for p in (self.basename, self.size_label, self.finetune, self.version) if p]
            out.append(" ".join(parts))
        out += list(self.urls)
        return list(dict.fromkeys(out))

    def base_model_names(self) -> list[str]:
        """The names and repository URLs of the models ``general.base_model.*`` says this one derives from."""
        out: list[str] = []
        for bm in self.base_models:
            out += [s for s in (bm.name, bm.repo_url) if s]
            if bm.organization and bm.name:
                out.append(f"{bm.organization}/{bm.name}")
        return list(dict.fromkeys(out))

    def name_strings(self) -> list[str]:
        """Every name-like string: own names, then base models."""
        return self.own_names() + [n for n in self.base_model_names() if n not in self.own_names()]


def _scalar_or_tuple(header: GGUFHeader, key: str) -> int | tuple[int, ...] | None:
    v = header.get_int(key)
    if v is not None:
        return v
    arr = header.get_array(key)
    if arr is not None and arr.element_type.name not in ("STRING", "ARRAY"):
        return tuple(int(x) for x in arr.tolist())
    return None


def text_facts(header: GGUFHeader) -> TextFacts:
    """Extract ``TextFacts`` from a text-model header (no I/O)."""
    arch = header.architecture or ""
    n_embd = header.get_int(f"{arch}.embedding_length")
    deepstack = (header.get_int(f"{arch}.n_deepstack_layers") or 0) if arch in DEEPSTACK_ARCHES else 0
    n_embd_inp = n_embd
    if n_embd is not None and deepstack:
        n_embd_inp = n_embd * (1 + deepstack)
    if arch == "gemma4-assistant":
        n_embd_inp = header.get_int(f"{arch}.embedding_length_out") or n_embd
    sections_arr = header.get_array(f"{arch}.rope.dimension_sections")
    sections = tuple(int(x) for x in sections_arr.tolist()) if sections_arr is not None else None
    if arch in MROPE_ARCHES:
        rope = "mrope"
    elif arch in IMROPE_ARCHES:
        rope = "imrope"
    elif arch in CONDITIONAL_MROPE_ARCHES and sections and len(sections) > 1 and sections[0] > 0 and sections[1] > 0:
        rope = "mrope"
    else:
        rope = "norm/neox"
    vocab = vocab_of(header)
    embd = header.tensors.get("token_embd.weight")
    base_models = []
    for i in range(header.get_int("general.base_model.count") or 0):
        p = f"general.base_model.{i}."
        base_models.append(
            BaseModel(
                name=header.get_str(p + "name"),
                organization=header.get_str(p + "organization"),
                version=header.get_str(p + "version"),
                repo_url=header.get_str(p + "repo_url"),
            )
        )
    return TextFacts(
        architecture=arch,
        n_embd=n_embd,
        n_embd_inp=n_embd_inp,
        deepstack_layers=deepstack,
        context_length=header.get_int(f"{arch}.context_length"),
        n_layer=header.get_int(f"{arch}.block_count"),
        n_head=_scalar_or_tuple(header, f"{arch}.attention.head_count"),
        n_head_kv=_scalar_or_tuple(header, f"{arch}.attention.head_count_kv"),
        n_ff=_scalar_or_tuple(header, f"{arch}.feed_forward_length"),
        vocab_size=len(vocab) if vocab is not None else None,
        embd_rows=embd.shape[1] if embd is not None and len(embd.shape) >= 2 else None,
        tokenizer_model=header.get_str("tokenizer.ggml.model"),
        tokenizer_pre=header.get_str("tokenizer.ggml.pre"),
        rope_type=rope,
        rope_sections=sections,
        rope_freq_base=header.get_float(f"{arch}.rope.freq_base"),
        name=header.get_str("general.name"),
        basename=header.get_str("general.basename"),
        size_label=header.get_str("general.size_label"),
        finetune=header.get_str("general.finetune"),
        version=header.get_str("general.version"),
        organization=header.get_str("general.organization"),
        urls=tuple(
            u
            for k in ("general.url", "general.repo_url", "general.source.url", "general.source.repo_url")
            if (u := header.get_str(k))
        ),
        base_models=tuple(base_models),
        file_type=header.get_int("general.file_type"),
        has_chat_template=header.get_str("tokenizer.chat_template") is not None,
        add_bos=header.get_bool("tokenizer.ggml.add_bos_token"),
        vocab=vocab,
    )
