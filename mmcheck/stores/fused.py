"""Single-file vision models: a text model GGUF that carries its own vision tower.

Ollama marks a model vision-capable when its GGUF has ``{arch}.vision.block_count``
(ollama/ollama ``server/images.go`` ``Capabilities``, with ``fs/gguf/gguf.go`` ``KeyValue``
prefixing the architecture). Its library vision models are stored that way, one blob, no projector
layer. Upstream llama.cpp does not load the vision part of such a file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mmcheck.header.source import FilePath

if TYPE_CHECKING:
    from mmcheck.pair import Report
    from mmcheck.scan import ScanResult


def vision_keys(header: object) -> dict[str, object]:
    """The ``{arch}.vision.*`` keys of a text model header (empty when it has none)."""
    arch = getattr(header, "architecture", None)
    meta = getattr(header, "metadata", {})
    if not arch:
        return {}
    prefix = f"{arch}.vision."
    return {k: meta[k] for k in meta if k.startswith(prefix)}


def is_fused(header: object) -> bool:
    """Ollama's test: ``{arch}.vision.block_count`` is present."""
    arch = getattr(header, "architecture", None)
    return bool(arch) and arch != "clip" and f"{arch}.vision.block_count" in getattr(header, "metadata", {})


def fused_vision_notes(
    result: ScanResult, label: Callable[[FilePath], str] | None = None, only: set[FilePath] | None = None
) -> list[Report]:
    """One MM099 note per text model that is a single-file vision model."""
    from mmcheck.scan import Status, finding_note

    name = label or (lambda p: p.name)
    notes = []
    for f in result.files:
        if f.status != Status.TEXT_MODEL or f.info is None or (only is not None and f.path not in only):
            continue
        header = f.info.header
        if not is_fused(header):
            continue
        arch = header.architecture
        blocks = header.metadata.get(f"{arch}.vision.block_count")
        msg = (
            f"{name(f.path)} is a single-file vision model: its vision tower is inside the model file "
            f"({arch}.vision.block_count = {blocks}), as Ollama's own engine stores it. Ollama runs it as it is; "
            "llama.cpp and KoboldCPP load only its text part, and there is no separate mmproj to pass with it"
        )
        hint = "for llama.cpp / KoboldCPP, download the model's GGUF and its mmproj-*.gguf from the publisher instead"
        notes.append(finding_note("MM099", msg, hint, f.path))
    return notes
