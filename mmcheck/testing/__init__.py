"""Fixture builders: small, realistic GGUF files written with ``gguf.GGUFWriter``.

Imports numpy and gguf, so nothing on mmcheck's checking path imports this package.
"""

from mmcheck.testing.builders import (
    ProjectorSpec,
    TextModelSpec,
    write_lora_adapter,
    write_projector,
    write_text_model,
)

__all__ = ["ProjectorSpec", "TextModelSpec", "write_lora_adapter", "write_projector", "write_text_model"]
