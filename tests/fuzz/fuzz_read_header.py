"""Fuzz the GGUF header reader: any bytes -> ``read_header`` returns a header or raises ``GGUFError``.

Run from the repository root (``make fuzz`` installs atheris and runs every harness for a while)::

    .venv/bin/python -m pip install atheris
    .venv/bin/python -m tests.fuzz.fuzz_read_header -max_total_time=60

Arguments are libFuzzer's (``-help=1`` lists them). The corpus is ``.cache/fuzz/read_header/corpus``,
seeded on every start with generated header-only files (``mmcheck.testing.builders``) and a few
hand-built ones (``tests/gguf_bytes.py``); a crash is written to ``.cache/fuzz/read_header/artifacts/``
and replayed with ``.venv/bin/python -m tests.fuzz.fuzz_read_header ARTIFACT``.

Checked for every input, beyond "no exception but ``GGUFError``":

- the lazy arrays of a parsed header decode (``tolist``, ``digest``, indexing, ``index_of``), raising
  at most ``GGUFError`` (a string element that is not UTF-8), and agree with each other;
- the same bytes parsed from a buffer that holds only a prefix and grows when the parser asks
  (``NeedBytes``, the remote path) give the same header, or the same error.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path
from typing import Any

from tests.fuzz import _common

NAME = "read_header"
atheris = _common.atheris()
_common.instrument(atheris)

from mmcheck.errors import GGUFError  # noqa: E402 - imported once instrumented
from mmcheck.header import GGUFArray, GGUFHeader, read_header  # noqa: E402
from mmcheck.header.reader import parse_source  # noqa: E402
from mmcheck.header.source import ByteSource  # noqa: E402
from mmcheck.header.types import ValueType  # noqa: E402

_WORK = _common.scratch(NAME)
_FILE = _WORK / "input.gguf"


class _Growing(ByteSource):
    """The file's first ``avail`` bytes, grown when the parser asks (remote-style).

    For one input in four it grows to exactly the byte the parser asked for (a parser that reads
    past what it asked for fails there); otherwise at least twice as far (every restart re-parses
    from byte 0: exact growth costs a restart per tensor info).
    """

    remote = True

    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        self.data = data
        self.size = len(data)
        self.avail = min(16, self.size)
        self.exact = len(data) % 4 == 0

    def view(self) -> tuple[Any, int]:
        return self.data[: self.avail], self.avail  # exactly the held bytes: reading past them fails

    def extend(self, end: int) -> None:
        if not self.avail < end <= self.size:
            raise AssertionError(f"asked for bytes up to {end} holding {self.avail} of {self.size}")
        self.avail = end if self.exact else max(end, min(2 * self.avail, self.size))


def _value(v: Any) -> Any:
    """A comparable, fully decoded form of a metadata value (checking the lazy array's accessors)."""
    if not isinstance(v, GGUFArray):
        return v
    try:
        items = [_value(sub) for sub in v] if v.element_type == ValueType.ARRAY else v.tolist()
    except GGUFError as e:  # decoded lazily: a bad element is an error of the array, not of the parse
        return ("bad", str(e))
    if len(items) != len(v):
        raise AssertionError(f"{v!r}: tolist() has {len(items)} elements")
    if items and v.element_type != ValueType.ARRAY:
        for i in {0, len(items) // 2, len(items) - 1}:
            if v[i] != items[i] and items[i] == items[i]:  # (NaN != NaN)
                raise AssertionError(f"{v!r}[{i}] is {v[i]!r}, tolist() has {items[i]!r}")
    if v.element_type == ValueType.STRING:
        for text in items[:4] + items[-2:]:
            if v.index_of(text) != items.index(text):
                raise AssertionError(f"{v!r}.index_of({text!r}) is {v.index_of(text)}, not {items.index(text)}")
    return (v.element_type, v.digest(), items)


def _outcome(parse: Any) -> Any:
    try:
        h: GGUFHeader = parse()
    except GGUFError as e:
        return ("error", str(e))
    metadata = {k: _value(v) for k, v in h.metadata.items()}
    return ("ok", metadata, h.tensors, h.header_size, h.data_offset, h.data_status, h.warnings)


def test_one_input(data: bytes) -> None:
    _FILE.write_bytes(data)
    local = _outcome(lambda: read_header(_FILE))
    if data[:4] == b"GGUF":  # (other files are described from their first 512 bytes, which a remote probe holds)
        grown = _outcome(lambda: parse_source(_Growing(_FILE, data)))
        if repr(grown) != repr(local):  # repr: NaN metadata values compare unequal
            raise AssertionError(f"partial-buffer parse differs:\n  local {local!r}\n  grown {grown!r}")


def _seeds(work: Path) -> _common.Seeds:
    from tests import gguf_bytes as gb

    yield "text-header.gguf", _common.text_model(work / "t.gguf", header_only=True).read_bytes()
    yield "text-header-be.gguf", _common.text_model(work / "t.gguf", header_only=True, endianness="big").read_bytes()
    yield from _common.projector_seeds(work, header_only=True)
    yield "minimal.gguf", gb.minimal()[0]
    yield "minimal-be.gguf", gb.minimal(order=">")[0]
    nested = (gb.ARR, [(gb.U32, [1, 2]), (gb.STR, ["a", "b"]), (gb.ARR, [(gb.F32, [0.5])])])
    yield "nested.gguf", gb.build([("n", gb.ARR, nested), ("after", gb.U32, 7)])[0]
    # the reproducer of the nesting cap: 992 levels of array-of-array (docs/fuzzing.md)
    deep = struct.pack("<IQ", gb.ARR, 1) * 991 + struct.pack("<IQ", gb.U8, 0)
    yield "deep.gguf", b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + gb.s("deep") + struct.pack("<I", gb.ARR) + deep


def main() -> None:
    corpus = _common.seed(NAME, _seeds)
    atheris.Setup(_common.libfuzzer_args(sys.argv, NAME, corpus), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
