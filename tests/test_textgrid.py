"""The plain-text layout of the pair report (mmcheck.render.textgrid): wrapping keeps every word
and never passes the width unless a column cannot shrink; colour only adds SGR codes."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mmcheck.render import RenderContext
from mmcheck.render.textgrid import Column, Grid, Page, Styled, sgr, text_width, wrap

ANSI = re.compile(r"\x1b\[[0-9;]*m")
words = st.lists(st.text(alphabet="abcdefghij→—≠,.()/", min_size=1, max_size=30), min_size=0, max_size=40)


@given(words, st.integers(min_value=1, max_value=100))
def test_wrap_keeps_every_word_and_fits_the_width(ws: list[str], width: int) -> None:
    text = Styled(" ".join(ws), "bold")
    lines = ["".join(t for t, _ in line) for line in wrap(text, width)]
    assert all(len(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == "".join(ws)  # nothing lost, nothing added
    assert all(style == "bold" for line in wrap(text, width) for _, style in line)


def test_wrap_breaks_at_spaces_and_folds_only_words_longer_than_a_line() -> None:
    lines = ["".join(t for t, _ in line) for line in wrap(Styled("aaa bbb ccc"), 7)]
    assert lines == ["aaa bbb", "ccc"]
    lines = ["".join(t for t, _ in line) for line in wrap(Styled("x /a/very/long/path.gguf"), 8)]
    assert lines == ["x", "/a/very/", "long/pat", "h.gguf"]
    assert len(wrap(Styled("one\ntwo"), 80)) == 2  # newlines are kept


def test_styles_follow_their_text_across_a_wrap() -> None:
    text = Styled("plain words ").append("red words here", "red")
    lines = wrap(text, 12)
    assert [(t, s) for t, s in lines[1]] == [("red words", "red")]
    assert lines[0][-1] == ("plain words", "")


@given(st.lists(st.tuples(st.text("abc ", max_size=20), st.text("xyz ", max_size=120)), max_size=8),
       st.integers(min_value=30, max_value=120))  # fmt: skip
def test_grid_lines_fit_when_the_fixed_columns_do(rows: list[tuple[str, str]], width: int) -> None:
    grid = Grid(Column(wrap=False), Column())
    for a, b in rows:
        grid.add_row(a, b)
    fixed = max((len(a) for a, _ in rows), default=0)
    page = Page(width, color=False)
    page.grid(grid)
    out = page.text().splitlines()
    if fixed + 2 + 8 <= width:
        assert all(len(line) <= width for line in out), out
    assert "".join(out).replace(" ", "") == "".join(a + b for a, b in rows).replace(" ", "")


def test_colour_only_adds_sgr_codes() -> None:
    def page(color: bool) -> str:
        p = Page(40, color)
        p.print(Styled(" MISMATCH ", "bold white on red").append("  the runtime will refuse the pair"))
        g = Grid(Column("rule", wrap=False), Column("message"), show_header=True)
        g.add_row(Styled("MM101", "red"), Styled("projector outputs 4096, text model expects 5120"))
        p.grid(g)
        return p.text()

    plain, painted = page(False), page(True)
    assert "\x1b[1;37;41m MISMATCH \x1b[0m" in painted
    assert "\x1b[31mMM101\x1b[0m" in painted
    assert ANSI.sub("", painted) == plain
    assert "\x1b" not in plain
    assert sgr("bold white on dark_orange3") == "1;37;43"  # as rich's "standard" colour system maps it


def test_pair_report_in_colour_has_the_plain_reports_text(tmp_path: Path) -> None:
    from mmcheck.pair import check_pair
    from mmcheck.render.pair_table import render_pair
    from mmcheck.testing import write_projector, write_text_model

    model = write_text_model(tmp_path / "m.gguf", n_embd=64, header_only=True)
    proj = write_projector(tmp_path / "p.gguf", n_embd_out=32, header_only=True)
    report = check_pair(model, proj)
    plain = render_pair(report, RenderContext(width=80, color=False))
    painted = render_pair(report, RenderContext(width=80, color=True))
    assert ANSI.sub("", painted) == plain
    assert "\x1b[1;37;41m MISMATCH \x1b[0m" in painted and "≠" in plain


wide_words = st.lists(st.text(alphabet="ab-通义千问模型文件é\u0301", min_size=1, max_size=12), max_size=20)


@given(wide_words, st.integers(min_value=2, max_value=60))
def test_wrap_counts_terminal_columns_for_wide_and_combining_characters(ws: list[str], width: int) -> None:
    text = Styled(" ".join(ws))
    lines = ["".join(t for t, _ in line) for line in wrap(text, width)]
    assert all(text_width(line) <= width for line in lines), lines
    assert "".join(lines).replace(" ", "") == "".join(ws)


def test_text_width() -> None:
    assert text_width("model.gguf") == 10
    assert text_width("模型.gguf") == 9  # two wide characters
    assert text_width("e\u0301") == 1  # a combining accent takes no column
