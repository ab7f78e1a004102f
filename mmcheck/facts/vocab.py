"""Marker-token lookup and the tokenizer fingerprint, on the lazy token arrays of a header."""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
from enum import IntEnum
from typing import NamedTuple

from mmcheck.header import GGUFArray, GGUFHeader


class TokenType(IntEnum):
    """``tokenizer.ggml.token_type`` values."""

    UNDEFINED = 0
    NORMAL = 1
    UNKNOWN = 2
    CONTROL = 3
    USER_DEFINED = 4
    UNUSED = 5
    BYTE = 6


#: Token types llama.cpp's special-token cache treats as one token when parsing with
#: ``parse_special=true`` (marker kind T: mtmd_tokenizer add_text(img_beg, true), tools/mtmd/mtmd.cpp:1361 @0c1e570).
SPECIAL_TYPES = frozenset({TokenType.CONTROL, TokenType.USER_DEFINED, TokenType.UNKNOWN})

# How tokenizers render a newline: SPM byte fallback, GPT-2 byte-level BPE.
_RENDERINGS = {"\n": ("\n", "<0x0A>", "\u010a"), "\n\n": ("\n\n", "\u010a\u010a")}


class TokenHit(NamedTuple):
    """A token found in the vocabulary: its id, the piece that matched and its token type."""

    token_id: int
    piece: str
    token_type: int | None

    @property
    def is_special(self) -> bool:
        """Whether llama.cpp will parse the text as this single token (CONTROL/USER_DEFINED/UNKNOWN)."""
        return self.token_type in SPECIAL_TYPES


class Vocab:
    """The vocabulary of a text model, looked up without decoding the whole token list."""

    def __init__(self, tokens: GGUFArray, token_types: GGUFArray | None) -> None:
        self.tokens = tokens
        self.token_types = token_types
        self._fingerprint: str | None = None
        self._found: dict[str, TokenHit | None] = {}  # a scan asks for the same markers in every pair

    def __len__(self) -> int:
        return len(self.tokens)

    def find(self, text: str) -> TokenHit | None:
        """The token whose piece is ``text`` (or its rendered form, e.g. ``\\n`` as ``<0x0A>``)."""
        if text not in self._found:
            self._found[text] = self._find(text)
        return self._found[text]

    def _find(self, text: str) -> TokenHit | None:
        for piece in _RENDERINGS.get(text, (text,)):
            index = self.tokens.index_of(piece)
            if index is not None:
                ttype = None
                if self.token_types is not None and index < len(self.token_types):
                    ttype = int(self.token_types[index])
                return TokenHit(index, piece, ttype)
        return None

    def fingerprint(self) -> str:
        """A stable hash of the token list (computed once, on first use)."""
        if self._fingerprint is None:
            self._fingerprint = "blake2b:" + self.tokens.digest()
        return self._fingerprint


def vocab_of(header: GGUFHeader) -> Vocab | None:
    """The vocabulary of a header, or None when it has no string token list."""
    tokens = header.get_array("tokenizer.ggml.tokens")
    if tokens is None or tokens.element_type.name != "STRING":
        return None
    types = header.get_array("tokenizer.ggml.token_type")
    return Vocab(tokens, types if types is not None and types.element_type.name != "STRING" else None)
