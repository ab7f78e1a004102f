"""What a GGUF file is, judged by its content (never by its name)."""

from __future__ import annotations

from enum import Enum

from mmcheck.db.model import MODALITIES
from mmcheck.header import GGUFHeader


class FileKind(str, Enum):
    """The role a GGUF file can play."""

    TEXT_MODEL = "text-model"
    PROJECTOR = "projector"
    LORA_ADAPTER = "lora-adapter"
    IMATRIX = "imatrix"
    SHARD = "shard"  # a later shard of a split model: tensors only, the metadata is in shard 1
    OTHER = "other"

    @property
    def description(self) -> str:
        """What the kind is, in words (``a LoRA adapter``)."""
        return {
            FileKind.TEXT_MODEL: "a text model",
            FileKind.PROJECTOR: "a projector (mmproj)",
            FileKind.LORA_ADAPTER: "a LoRA adapter",
            FileKind.IMATRIX: "an importance matrix (imatrix)",
            FileKind.SHARD: "a later shard of a split model",
            FileKind.OTHER: "neither a text model nor a projector",
        }[self]


def classify(header: GGUFHeader) -> FileKind:
    """Classify a header: a projector if its arch is ``clip``, its ``general.type`` says so, or it
    has an encoder flag (the test Ollama applies on import); a text model if it has an
    ``{arch}.embedding_length``."""
    arch = header.architecture
    gtype = (header.get_str("general.type") or "").lower()
    if header.split is not None and header.split.shard > 0:
        return FileKind.SHARD
    if (
        arch == "clip"
        or gtype in ("mmproj", "projector")
        or any(header.get_bool(f"clip.has_{m}_encoder") for m in MODALITIES)
    ):
        return FileKind.PROJECTOR
    if gtype == "adapter" or any(k.startswith("adapter.") for k in header.metadata):
        return FileKind.LORA_ADAPTER
    if gtype == "imatrix" or any(k.startswith("imatrix.") for k in header.metadata):
        return FileKind.IMATRIX
    if arch and header.get_int(f"{arch}.embedding_length") is not None:
        return FileKind.TEXT_MODEL
    return FileKind.OTHER
