"""Rules the store-aware scan (``mmcheck scan`` on an Ollama, LM Studio, Hugging Face or llama.cpp
cache, a Jan or text-generation-webui folder) reports about the store itself.

Like the scanner's MM090-MM095 (``mmcheck.rules.scanning``), they are scan-scope rules: their checks
read a ``ScanView``. MM096-MM098 report the records a store reader could not use (the readers in
``mmcheck.stores`` say what and where); MM099 looks at every text model's header. Codes MM096-MM099.
"""

from __future__ import annotations

from collections.abc import Iterator

from mmcheck.evidence import CERTAIN_AGAINST
from mmcheck.rules.base import Hit, Severity, rule
from mmcheck.rules.scanning import ScanView


def _problems(view: ScanView, code: str) -> Iterator[Hit]:
    for p in view.problems:
        if p.code == code:
            yield Hit(p.message, p.hint, path=p.path)


@rule("MM096", "store-entry-unreadable", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="scan")
def store_entry_unreadable(view: ScanView) -> Iterator[Hit]:
    """A store's own record of a model cannot be read: an Ollama manifest that is not valid JSON or
    not a manifest, a layer digest that is not `sha256:<64 hex>`, a Jan `model.yml` without a model.

    Why: The runtime reads the same record to find the model's files; when it cannot parse it, the
    model is unusable there too (Ollama's manifest reader skips it with a "bad manifest" warning).
    The rest of the store is still scanned.

    Fix: Pull or import the model again (`ollama pull NAME`, re-download in the app); delete the
    broken record if the model is gone.
    """
    return _problems(view, "MM096")


@rule("MM097", "store-file-missing", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="scan")
def store_file_missing(view: ScanView) -> Iterator[Hit]:
    """A file a store entry declares is not there: a missing Ollama blob, a dangling or looping
    Hugging Face cache symlink, a Jan `model.yml` naming a file that does not exist.

    Why: An interrupted download, a cache cleaned by hand, or blobs deleted to free space leave
    records pointing at nothing; the runtime fails to load the model with a file-not-found error.

    Fix: Download the model again (`ollama pull NAME`, `hf download REPO`, `llama-server -hf REPO`).
    """
    return _problems(view, "MM097")


@rule("MM098", "store-path-escapes", severity=Severity.ERROR, evidence=CERTAIN_AGAINST, scope="scan")
def store_path_escapes(view: ScanView) -> Iterator[Hit]:
    """A store entry points outside the store: a symlink or declared path that resolves to a file
    outside the store's folder. mmcheck does not follow it.

    Why: Stores keep every file under their own root (Ollama `blobs/`, the Hugging Face cache's
    `blobs/`). A path leading elsewhere was edited by hand or planted; reading it could leak or
    hang on any file of the machine, so the scan reports it instead.

    Fix: Re-download the entry; if you moved the store, move the files with it rather than
    symlinking out of it.
    """
    return _problems(view, "MM098")


@rule("MM099", "single-file-vision-model", severity=Severity.INFO, scope="scan")
def single_file_vision_model(view: ScanView) -> Iterator[Hit]:
    """A text model GGUF carries its own vision tower (`<arch>.vision.*` keys): an Ollama
    single-file vision model, with no separate projector to pass.

    Why: Ollama's own engine stores its library vision models (Gemma 3, Qwen 2.5 VL, ...) as one
    GGUF holding both the text model and the vision encoder, and marks the model vision-capable
    from `<arch>.vision.block_count`. Upstream llama.cpp (and so KoboldCPP, LM Studio and
    llama-cpp-python) does not load the vision part of such a file: loaded there, it is a
    text-only model, and there is no separate mmproj in the store to pass with it.

    Fix: For llama.cpp / KoboldCPP, download the model's GGUF and its `mmproj-*.gguf` from the
    publisher (e.g. `ggml-org/<model>-GGUF`) instead of copying the Ollama blob; in Ollama it
    works as it is.
    """
    from mmcheck.stores.fused import is_fused

    for f in view.files("text-model"):
        if f.info is None or not is_fused(f.info.header):
            continue
        arch = f.info.header.architecture
        blocks = f.info.header.metadata.get(f"{arch}.vision.block_count")
        msg = (
            f"{view.label(f.path)} is a single-file vision model: its vision tower is inside the model file "
            f"({arch}.vision.block_count = {blocks}), as Ollama's own engine stores it. Ollama runs it as it is; "
            "llama.cpp and KoboldCPP load only its text part, and there is no separate mmproj to pass with it"
        )
        hint = "for llama.cpp / KoboldCPP, download the model's GGUF and its mmproj-*.gguf from the publisher instead"
        yield Hit(msg, hint, path=f.path)
