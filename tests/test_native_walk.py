"""The C walk of string arrays (mmcheck/header/_walk.c) against the Python walk it accelerates.

The C walk only ever answers for arrays that fit in the held bytes; for everything else it returns
None and the Python walk reports the error. Random arrays, in both byte orders, with corrupted
lengths and cut short at random points, must give the same end and checkpoints, or no answer
where the Python walk raises."""

from __future__ import annotations

import struct

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mmcheck.errors import GGUFError
from mmcheck.header import reader
from mmcheck.header.arrays import CHECKPOINT_EVERY
from mmcheck.header.reader import NeedBytes, _walk_strings_python

native = reader._native


def test_the_accelerator_is_built_by_the_install() -> None:
    # make test installs with hatch_build.py, and this machine has a C compiler: a missing module
    # means the build hook failed (its message is in pip's output) and every header read is slower
    assert native is not None


def encode(tokens: list[bytes], order: str) -> bytes:
    return b"".join(struct.pack(order + "Q", len(t)) + t for t in tokens)


arrays = st.lists(st.binary(max_size=40), max_size=3 * CHECKPOINT_EVERY // 2)


@settings(max_examples=150, deadline=None)
@given(
    tokens=arrays,
    order=st.sampled_from("<>"),
    prefix=st.binary(max_size=9),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
    corrupt=st.one_of(st.none(), st.tuples(st.integers(min_value=0), st.integers(0, 255))),
    held=st.one_of(st.none(), st.integers(min_value=0)),
)
def test_same_answer_as_the_python_walk(
    tokens: list[bytes], order: str, prefix: bytes, cut: int | None, corrupt: tuple[int, int] | None, held: int | None
) -> None:
    data = bytearray(prefix + encode(tokens, order) + b"tail")
    if corrupt is not None:
        data[corrupt[0] % len(data)] = corrupt[1]
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    blob = bytes(data)
    size = len(blob)
    start = len(prefix)
    # the reader's preconditions (parse_array_at): the array starts in the held bytes, and its count
    # leaves at least 8 bytes per element in the file
    assume(start <= size and 8 * len(tokens) <= size - start)
    avail = None if held is None else start + held % (size - start + 1)
    assert native is not None
    ours = native.walk(blob, start, len(tokens), size if avail is None else avail, order == ">", CHECKPOINT_EVERY)
    try:
        reference: tuple[int, list[int]] | None = _walk_strings_python(
            blob, start, len(tokens), size, order, "k", avail
        )
    except (GGUFError, NeedBytes):
        reference = None
    if ours is None:
        assert reference is None, "the C walk refused an array the Python walk accepts"
    else:
        assert ours == reference


def test_it_reads_mmap_and_memoryview() -> None:
    import mmap
    import tempfile

    blob = encode([b"a", b"bc", b""], "<")
    assert native is not None
    assert native.walk(memoryview(blob), 0, 3, len(blob), False, 2) == (len(blob), [0, 19])  # elements at 0, 9, 19
    with tempfile.TemporaryFile() as fh:
        fh.write(blob)
        fh.flush()
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            assert native.walk(mm, 0, 3, len(blob), False, 1024) == (len(blob), [0])


def test_lengths_that_would_overflow_are_refused() -> None:
    assert native is not None
    blob = struct.pack("<Q", 2**64 - 1) + b"x" * 16
    assert native.walk(blob, 0, 1, len(blob), False, 1024) is None
    assert native.walk(blob, 2**63, 1, len(blob), False, 1024) is None  # a start past the held bytes
