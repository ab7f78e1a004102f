"""Property tests for the other parsers of untrusted input: file sniffing and the config file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mmcheck.config import load_config
from mmcheck.errors import ConfigError, GGUFError
from mmcheck.header import read_header
from mmcheck.header.sniff import describe_non_gguf


@settings(deadline=None)
@given(head=st.binary(max_size=600), size=st.integers(0, 2**40))
def test_sniff_always_returns_one_line(head: bytes, size: int) -> None:
    text = describe_non_gguf(head, size)
    assert text and "\n" not in text


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300).filter(lambda b: not b.startswith(b"GGUF")))
def test_any_non_gguf_bytes_give_a_gguferror(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.gguf"
        p.write_bytes(data)
        try:
            read_header(p)
        except GGUFError as e:
            assert str(e)
        else:  # pragma: no cover - a non-GGUF file must never parse
            raise AssertionError("parsed a file without the GGUF magic")


toml_values = st.one_of(
    st.integers(-5, 10**6),
    st.booleans(),
    st.text(max_size=12),
    st.lists(st.text(max_size=6), max_size=3),
)
keys = st.sampled_from(
    ["format", "fail-on", "select", "ignore", "ctx-size", "batch-size", "ubatch-size", "smoke", "db", "colour", "x"]
)


def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').encode("unicode_escape").decode() + '"'
    assert isinstance(v, list)
    return "[" + ", ".join(_toml(x) for x in v) + "]"


@settings(max_examples=200, deadline=None)
@given(table=st.dictionaries(keys, toml_values, max_size=5), garbage=st.text(max_size=20))
def test_config_files_load_or_raise_configerror(table: dict[str, object], garbage: str) -> None:
    body = "[tool.mmcheck]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in table.items())
    with tempfile.TemporaryDirectory() as d:
        for text in (body, body + garbage):
            p = Path(d) / "pyproject.toml"
            p.write_text(text, encoding="utf-8")
            try:
                cfg = load_config(p)
            except ConfigError as e:
                assert str(p) in str(e)
            else:
                assert cfg.path == p
