"""MM0xx — which file is which, and whether each can be loaded at all."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mmcheck.evidence import CERTAIN_AGAINST
from mmcheck.facts.classify import FileKind
from mmcheck.header import DataStatus
from mmcheck.rules.base import Context, Hit, Severity, rule


@rule("MM001", "arguments-reordered", severity=Severity.INFO, scope="pair")
def arguments_reordered(ctx: Context) -> Iterator[Hit]:
    """The projector was given first; mmcheck swapped the arguments and checked the pair.

    Why: `mmcheck pair` accepts the two files in either order and finds the projector by content.
    A runtime does not: passing the projector as the model fails (`CLIP cannot be used as main
    model, use it with --mmproj instead`).

    Fix: Nothing to fix for mmcheck; make sure your launcher passes the projector with --mmproj.
    """
    for note in ctx.role_notes:
        yield Hit(note, "pass the projector with --mmproj and the text model with -m/--model")


@rule("MM002", "roles-swapped", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="pair")
def roles_swapped(ctx: Context) -> Iterator[Hit]:
    """The file in the model slot is a projector and the file in the projector slot is a text model.

    Why: With roles fixed (`--strict-roles`, `mmcheck exec`, `mmcheck.check_pair`), the runtime gets
    the files as given: llama.cpp refuses the projector as main model (`CLIP cannot be used as main
    model`).

    Fix: Swap the two paths.
    """
    if ctx.swapped_strict:
        yield Hit(
            "the model argument is a projector and the mmproj argument is a text model",
            "swap them: the text model goes to -m/--model, the projector to --mmproj",
            file="model",
        )


_NO_PROJECTOR = "no projector (mmproj, general.architecture `clip`) was given"
_NO_TEXT_MODEL = "no text model (the LLM GGUF passed with -m/--model) was given"


@rule("MM003", "no-projector", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="pair")
def no_projector(ctx: Context) -> Iterator[Hit]:
    """Neither file is a projector.

    Why: A text GGUF in the projector slot fails with `Failed to load CLIP model`; two text models
    cannot form a pair.

    Fix: Pass the projector file (general.architecture `clip`, often named `mmproj-*.gguf`). A text
    model repo usually ships it next to the quantized models.
    """
    if ctx.mmproj is not None or ctx.model is None or ctx.model.kind != FileKind.TEXT_MODEL:
        return
    if ctx.same_file:
        what = f"the same text model was given twice: {_NO_PROJECTOR}"
    elif ctx.other_text:
        what = f"both files are text models: {_NO_PROJECTOR}"
    else:
        what = _NO_PROJECTOR
    yield Hit(what, "pass the projector (mmproj) GGUF as the second file", file="mmproj")


@rule("MM004", "no-text-model", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="pair")
def no_text_model(ctx: Context) -> Iterator[Hit]:
    """Neither file is a text model.

    Why: A projector in the model slot fails with `CLIP cannot be used as main model`.

    Fix: Pass the text model (the GGUF whose general.architecture is an LLM such as `llama`).
    """
    if ctx.model is not None or ctx.mmproj is None:
        return
    if ctx.same_file:
        what = f"the same projector was given twice: {_NO_TEXT_MODEL}"
    elif len([f for f in ctx.files if f.kind == FileKind.PROJECTOR]) > 1:
        what = f"both files are projectors: {_NO_TEXT_MODEL}"
    else:
        what = _NO_TEXT_MODEL
    yield Hit(what, "pass the text model GGUF as the first file", file="model")


@rule("MM005", "not-a-model-file", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="pair")
def not_a_model_file(ctx: Context) -> Iterator[Hit]:
    """One of the files is neither a text model nor a projector (a LoRA adapter, an imatrix, ...).

    Why: Runtimes cannot use a LoRA adapter or an importance matrix as a model or a projector; a
    projector registered as an adapter (`ADAPTER` in an Ollama Modelfile) fails to load.

    Fix: Pass the text model and the projector; adapters go to --lora.
    """
    for info in ctx.unusable:
        if info.kind == FileKind.SHARD:
            continue  # MM008 says what a later shard is
        yield Hit(f"{info.path} is {info.kind.description}, not a text model or a projector", "check the file paths")


@rule("MM006", "truncated-file", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="file")
def truncated_file(ctx: Context) -> Iterator[Hit]:
    """A file's tensor data ends before the header says it should.

    Why: The runtime fails reading tensor data (`failed to read tensor data binary blob`), typically
    after an interrupted download.

    Fix: Download the file again and compare its size or sha256 with the published one.
    """
    for info in ctx.files:
        if info is not None and info.header.data_status == DataStatus.TRUNCATED:
            h = info.header
            yield Hit(
                f"{info.path.name} is {h.describe_data_status()}",
                f"re-download it: {h.expected_file_size - h.file_size:,} bytes are missing",
                path=info.path,
            )


@rule("MM007", "header-only-file", severity=Severity.INFO, scope="file")
def header_only_file(ctx: Context) -> Iterator[Hit]:
    """A file holds only its header (no tensor data): the verdict rests on metadata alone.

    Why: Header-only copies are convenient for checks, but no runtime can load them and the
    projection smoke test cannot run.

    Fix: Nothing, if this is intended; otherwise fetch the full file.
    """
    for info in ctx.files:
        if info is not None and info.header.data_status == DataStatus.HEADER_ONLY and info.header.tensors:
            yield Hit(f"{info.path.name} is header-only (no tensor data)", "", path=info.path)


@rule("MM008", "not-first-shard", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="file")
def not_first_shard(ctx: Context) -> Iterator[Hit]:
    """A split model was given by a shard other than the first.

    Why: Runtimes open a split model by its first shard (`*-00001-of-0000N.gguf`), which holds the
    metadata; later shards carry tensors only.

    Fix: Pass the `-00001-of-` shard.
    """
    for info in ctx.files:
        if info is not None and info.header.split is not None and info.header.split.shard > 0:
            s = info.header.split
            first = re.sub(r"-\d{5}-of-(\d{5})", r"-00001-of-\1", info.path.name)
            first_hint = first if first != info.path.name else "-00001-of-..."
            yield Hit(
                f"{info.path.name} is shard {s.shard + 1} of {s.shards} of a split model: it holds tensors only, "
                "the metadata a runtime (and mmcheck) reads is in the first shard",
                f"pass the first shard ({first_hint})",
                path=info.path,
            )


@rule("MM009", "big-endian-file", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="file")
def big_endian_file(ctx: Context) -> Iterator[Hit]:
    """A file is big-endian.

    Why: ggml refuses big-endian GGUF files on little-endian hosts (`is there a mismatch between the
    host and model endianness?`); mmcheck reads them, runtimes on x86/ARM do not.

    Fix: Use the little-endian file (re-convert without --bigendian).
    """
    for info in ctx.files:
        if info is not None and info.header.byte_order == "big":
            yield Hit(f"{info.path.name} is big-endian", "re-convert it as little-endian", path=info.path)


@rule("MM010", "nested-array", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="file")
def nested_array(ctx: Context) -> Iterator[Hit]:
    """A metadata value is an array of arrays.

    Why: The GGUF spec allows nested arrays but ggml refuses them (`key '%s' has invalid GGUF type 9`).

    Fix: Rewrite the key as a flat array.
    """
    for info in ctx.files:
        if info is not None:
            for w in info.header.warnings:
                if "nested array" in w:
                    yield Hit(f"{info.path.name}: {w}", "flatten the array", path=info.path)
