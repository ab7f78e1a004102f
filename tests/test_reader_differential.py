"""read_header agrees with gguf.GGUFReader on generated files of every kind the builder writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmcheck.header import read_header
from mmcheck.testing import write_lora_adapter, write_projector, write_text_model
from tests.differential import assert_same_as_gguf_reader

CASES = {
    "llama-f16": lambda p: write_text_model(p),
    "llama-q8": lambda p: write_text_model(p, weight_type="Q8_0", n_embd=64),
    "llama-q4k": lambda p: write_text_model(p, weight_type="Q4_K", n_embd=256, n_ff=256),
    "gemma4-per-layer-kv": lambda p: write_text_model(p, arch="gemma4", n_head_kv=[1, 2], n_ff=[128, 256]),
    "qwen2vl-mrope": lambda p: write_text_model(p, arch="qwen2vl", rope_sections=[8, 12, 12, 0]),
    "big-endian": lambda p: write_text_model(p, endianness="big"),
    "mlp-projector": lambda p: write_projector(p),
    "qwen25vl-projector": lambda p: write_projector(p, projector_type="qwen2.5vl_merger"),
    "audio-projector": lambda p: write_projector(p, projector_type="ultravox"),
    "omni-projector": lambda p: write_projector(p, projector_type="qwen2.5o"),
    "lora": lambda p: write_lora_adapter(p),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_as_gguf_reader(tmp_path: Path, case: str) -> None:
    path = CASES[case](tmp_path / f"{case}.gguf")
    assert assert_same_as_gguf_reader(path) > 3


def test_split_model_is_recognised(tmp_path: Path) -> None:
    import numpy as np
    from gguf import GGUFWriter

    w = GGUFWriter(tmp_path / "m.gguf", "llama", split_max_tensors=2)
    w.add_uint32("llama.embedding_length", 8)
    for i in range(5):
        w.add_tensor(f"blk.{i}.w", np.zeros((2, 8), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    shards = sorted(tmp_path.glob("m-*-of-*.gguf"))
    assert len(shards) == 3
    first = read_header(shards[0])
    assert first.split is not None and (first.split.shard, first.split.shards, first.split.tensors_count) == (0, 3, 5)
    assert first.get_int("llama.embedding_length") == 8
    last = read_header(shards[2])
    assert last.split is not None and last.split.shard == 2
    assert "llama.embedding_length" not in last.metadata
