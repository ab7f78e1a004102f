"""Property tests for what the remote path parses or computes from untrusted bytes and headers:
``Content-Range`` values, incremental header parsing from a partial buffer, span coalescing,
multipart answers and ``RemotePath`` names."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmcheck.errors import GGUFError
from mmcheck.header.reader import _parse, parse_source
from mmcheck.header.source import ByteSource, RemotePath
from mmcheck.remote.http import format_range, parse_content_range
from mmcheck.remote.source import coalesce, coalesce_budget
from tests import gguf_bytes as gb

# -- Content-Range ------------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_content_range_never_raises_and_is_consistent(value: str) -> None:
    cr = parse_content_range(value)
    if cr is not None:
        assert 0 <= cr.start < cr.end
        assert cr.total is None or cr.end <= cr.total


@settings(max_examples=300, deadline=None)
@given(start=st.integers(0, 2**50), length=st.integers(1, 2**30), extra=st.integers(0, 2**30), star=st.booleans())
def test_content_range_round_trips(start: int, length: int, extra: int, star: bool) -> None:
    total = "*" if star else str(start + length + extra)
    cr = parse_content_range(f"bytes {start}-{start + length - 1}/{total}")
    assert cr is not None and (cr.start, cr.end) == (start, start + length)
    assert cr.total == (None if star else start + length + extra)


@settings(max_examples=200, deadline=None)
@given(a=st.integers(0, 2**40), b=st.integers(0, 2**40), t=st.integers(0, 2**40))
def test_inverted_or_overlong_ranges_are_refused(a: int, b: int, t: int) -> None:
    cr = parse_content_range(f"bytes {a}-{b}/{t}")
    assert (cr is not None) == (a <= b < t)


# -- incremental parsing ------------------------------------------------------------------------


class Partial(ByteSource):
    """A file of which only the first ``avail`` bytes are held; ``extend`` grows it in ``step`` bytes."""

    remote = True

    def __init__(self, data: bytes, first: int, step: int) -> None:
        self.path = RemotePath("https://example.invalid/x.gguf")
        self.data = data
        self.size = len(data)
        self.avail = min(max(first, 8), self.size)
        self.step = step
        self.asked: list[int] = []

    def view(self) -> tuple[Any, int]:
        return bytearray(self.data[: self.avail]), self.avail

    def extend(self, end: int) -> None:
        assert self.avail < end <= self.size  # never asked for bytes past the file or already held
        self.asked.append(end)
        self.avail = min(max(end, self.avail + self.step), self.size)


def _outcome(fn: Any) -> Any:
    try:
        h = fn()
    except GGUFError as e:
        return ("error", str(e))
    keys = {k: _value(v) for k, v in h.metadata.items()}
    return ("ok", keys, h.tensors, h.header_size, h.data_offset, h.data_status)


def _value(v: Any) -> Any:
    if not hasattr(v, "tolist"):
        return v
    try:
        return v.tolist()
    except GGUFError as e:  # decoded lazily: a bad element is an error of the array, not the parse
        return ("bad", str(e))


_VALID, _LAYOUT = gb.minimal()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), max_size=4),
    cut=st.integers(1, len(_VALID)),
    first=st.integers(1, len(_VALID)),
    step=st.integers(1, 64),
)
def test_a_partial_buffer_parses_exactly_like_the_whole_file(
    edits: list[tuple[int, int]], cut: int, first: int, step: int
) -> None:
    data = bytearray(_VALID)
    for pos, byte in edits:
        data[pos] = byte
    raw = bytes(data[:cut])
    whole = _outcome(lambda: _parse(RemotePath("https://example.invalid/x.gguf"), raw, len(raw), len(raw)))
    src = Partial(raw, first, step)
    part = _outcome(lambda: parse_source(src))
    assert part == whole
    if whole[0] == "ok":
        assert src.avail <= max(whole[3], min(max(first, 8), len(raw))) + step  # never much past the header


@settings(max_examples=100, deadline=None)
@given(
    tokens=st.lists(st.text(min_size=0, max_size=20), min_size=1, max_size=300),
    first=st.integers(8, 200),
    step=st.integers(1, 32),
)
def test_string_arrays_ask_only_for_bytes_they_need(tokens: list[str], first: int, step: int) -> None:
    raw, lay = gb.build([("tokenizer.ggml.tokens", gb.ARR, (gb.STR, tokens))], [gb.Tensor("t", (4,))])
    src = Partial(raw, first, step)
    h = parse_source(src)
    assert h.get("tokenizer.ggml.tokens").tolist() == tokens
    for end in src.asked:
        assert end <= lay.header_end  # every request was for bytes of the header


# -- coalescing -----------------------------------------------------------------------------------

spans_st = st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 5000)), min_size=1, max_size=60).map(
    lambda xs: sorted((s, s + n) for s, n in xs)
)


@settings(max_examples=300, deadline=None)
@given(spans=spans_st, gap=st.integers(0, 10**5), budget=st.integers(0, 10**6))
def test_coalesced_groups_cover_every_span(spans: list[tuple[int, int]], gap: int, budget: int) -> None:
    for groups in (coalesce(spans, gap), coalesce_budget(spans, budget)):
        assert groups[0][2] == 0 and groups[-1][3] == len(spans)
        for (gs, ge, i, j), nxt in zip(groups, [*groups[1:], None], strict=True):
            assert all(gs <= s and e <= ge for s, e in spans[i:j])
            if nxt is not None:
                assert j == nxt[2] and nxt[0] > ge  # contiguous indices, disjoint and ordered
    merged = coalesce_budget(spans, budget)
    union = coalesce(spans, 0)
    needed = sum(e - s for s, e, _, _ in union)
    assert sum(e - s for s, e, _, _ in merged) <= needed + budget  # the gaps fetched stay within budget
    assert len(format_range([(s, e) for s, e, _, _ in merged])) > 6


# -- names ----------------------------------------------------------------------------------------

segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=12).filter(
    lambda t: t not in (".", "..")
)


@settings(max_examples=200, deadline=None)
@given(
    org=segment,
    repo=segment,
    rev=st.one_of(st.none(), segment, st.just("refs/pr/12")),
    path=st.lists(segment, max_size=4),
)
def test_remote_path_parents_stop_at_the_repository(org: str, repo: str, rev: str | None, path: list[str]) -> None:
    root = f"hf://{org}/{repo}" + (f"@{rev}" if rev else "")
    p = RemotePath("/".join([root, *path]))
    seen = 0
    while not p.is_root:
        assert p.parent != p
        p = p.parent
        seen += 1
        assert seen <= len(path)
    assert str(p) == root and p.parent == p
    if path:
        assert RemotePath("/".join([root, *path])).name == path[-1]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_remote_path_never_raises(url: str) -> None:
    with contextlib.suppress(ValueError):
        p = RemotePath("https://" + url)
        _ = (p.name, p.parent, str(p), hash(p))
