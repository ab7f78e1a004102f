"""Single-file vision models: a text model GGUF that carries its own vision tower.

Ollama marks a model vision-capable when its GGUF has ``{arch}.vision.block_count``
(ollama/ollama ``server/images.go`` ``Capabilities``, with ``fs/gguf/gguf.go`` ``KeyValue``
prefixing the architecture). Its library vision models are stored that way, one blob, no projector
layer. Upstream llama.cpp does not load the vision part of such a file.
"""

from __future__ import annotations


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
