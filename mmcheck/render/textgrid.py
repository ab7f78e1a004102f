"""Styled text, word wrap and borderless grids for the terminal, with no dependency.

The ``pair`` report is what every launcher pre-flight and CI gate prints, so it is laid out here
rather than with rich, whose import and layout cost more than the whole check of a pair
(docs/benchmarks.md). Styles are rich's names for the few SGR attributes the reports use.

- :class:`Styled`: a line of text made of runs, each with a style;
- :func:`wrap`: word wrap to a width, folding words longer than a line;
- :class:`Grid`: columns separated by two spaces; the wrapping columns share what the others leave;
- :class:`Page`: the lines of a report, painted with ANSI colour or not.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["Column", "Grid", "Page", "Styled", "text_width", "wrap"]

_SGR = {"bold": "1", "dim": "2", "black": "30", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}
_SGR |= {"white": "37", "on red": "41", "on green": "42", "on yellow": "43", "on dark_orange3": "43"}
GAP = 2  # the spaces between two columns


def text_width(text: str) -> int:
    """The terminal columns ``text`` takes: 2 for East Asian wide characters, 0 for combining marks."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


Run = tuple[str, str]  # (text, style); style "" is none


def sgr(style: str) -> str:
    """The ANSI select-graphic-rendition codes of a style such as ``"bold white on red"``."""
    words = style.split()
    codes = []
    i = 0
    while i < len(words):
        if words[i] == "on" and i + 1 < len(words):
            codes.append(_SGR[f"on {words[i + 1]}"])
            i += 2
        else:
            codes.append(_SGR[words[i]])
            i += 1
    return ";".join(codes)


class Styled:
    """A piece of text made of runs, each with its own style; may hold newlines."""

    __slots__ = ("runs",)

    def __init__(self, text: str = "", style: str = "") -> None:
        self.runs: list[Run] = [(text, style)] if text else []

    def append(self, text: str, style: str = "") -> "Styled":
        """Add ``text`` in ``style``; returns ``self``."""
        if text:
            self.runs.append((text, style))
        return self

    @property
    def plain(self) -> str:
        """The text without styles."""
        return "".join(text for text, _ in self.runs)

    def width(self) -> int:
        """The length of its longest line."""
        return max((text_width(line) for line in self.plain.split("\n")), default=0)


def _styles(text: Styled) -> list[str]:
    """One style per character of ``text.plain``."""
    out: list[str] = []
    for run, style in text.runs:
        out += [style] * len(run)
    return out


def _runs(plain: str, styles: list[str], start: int, end: int) -> list[Run]:
    runs: list[Run] = []
    i = start
    while i < end:
        j = i + 1
        while j < end and styles[j] == styles[i]:
            j += 1
        runs.append((plain[i:j], styles[i]))
        i = j
    return runs


def _breaks(line: str, width: int) -> list[tuple[int, int]]:
    """(start, end) of each wrapped line of one paragraph: greedy at spaces, folding long words.
    ``width`` counts terminal columns (:func:`text_width`)."""
    if not line.isascii():
        return _breaks_by_cells(line, width)
    spans: list[tuple[int, int]] = []
    n = len(line)
    start = 0
    while n - start > width:
        cut = line.rfind(" ", start, start + width + 1)
        if cut <= start:  # a word longer than the line: fold it
            spans.append((start, start + width))
            start += width
        else:
            spans.append((start, cut))
            start = cut + 1
        while start < n and line[start] == " ":
            start += 1
    spans.append((start, n))
    return spans


def _breaks_by_cells(line: str, width: int) -> list[tuple[int, int]]:
    """:func:`_breaks` for text with wide or combining characters, one character at a time."""
    spans: list[tuple[int, int]] = []
    start, used, last_space = 0, 0, -1
    i = 0
    while i < len(line):
        w = text_width(line[i])
        if line[i] == " ":
            last_space = i
        if used + w > width and i > start:
            if last_space > start:  # break at the last space
                spans.append((start, last_space))
                start = last_space + 1
            else:  # fold the word
                spans.append((start, i))
                start = i
            while start < len(line) and line[start] == " ":
                start += 1
            used, last_space, i = 0, -1, start
            continue
        used += w
        i += 1
    spans.append((start, len(line)))
    return spans


def wrap(text: Styled, width: int) -> list[list[Run]]:
    """``text`` as lines of at most ``width`` characters (newlines kept), each a list of runs."""
    plain = text.plain
    styles = _styles(text)
    lines: list[list[Run]] = []
    offset = 0
    for paragraph in plain.split("\n"):
        for start, end in _breaks(paragraph, max(width, 1)):
            lines.append(_runs(plain, styles, offset + start, offset + end))
        offset += len(paragraph) + 1
    return lines


class Column(NamedTuple):
    """A grid column: its header, and whether its cells wrap (else they keep their width)."""

    header: str = ""
    wrap: bool = True


class Grid:
    """Rows of cells under columns, without borders: what a report's tables are."""

    def __init__(self, *columns: Column, show_header: bool = False) -> None:
        self.columns = columns
        self.show_header = show_header
        self.rows: list[tuple[Styled, ...]] = []

    def add_row(self, *cells: Styled | str) -> None:
        """Add a row; plain strings are unstyled cells."""
        self.rows.append(tuple(c if isinstance(c, Styled) else Styled(c) for c in cells))

    def widths(self, width: int) -> list[int]:
        """Each column's width: its widest cell, the wrapping ones narrowed to fit ``width``."""
        rows = self.rows + ([tuple(Styled(c.header) for c in self.columns)] if self.show_header else [])
        natural = [max((row[i].width() for row in rows), default=0) for i in range(len(self.columns))]
        room = (
            width
            - GAP * (len(self.columns) - 1)
            - sum(w for w, c in zip(natural, self.columns, strict=True) if not c.wrap)
        )
        flexible = sorted(w for w, c in zip(natural, self.columns, strict=True) if c.wrap)
        if sum(flexible) <= room:
            return natural
        # the widest wrapping columns give way first, down to a common cap
        cap, left = 0, room
        for k, w in enumerate(flexible):
            share = left // (len(flexible) - k)
            if w > share:
                cap = share
                break
            left -= w
        cap = max(cap, 8)
        return [min(w, cap) if c.wrap else w for w, c in zip(natural, self.columns, strict=True)]

    def lines(self, width: int) -> list[list[Run]]:
        """The grid laid out in ``width`` columns."""
        widths = self.widths(width)
        out: list[list[Run]] = []
        rows = list(self.rows)
        if self.show_header:
            rows.insert(0, tuple(Styled(c.header, "bold") for c in self.columns))
        for row in rows:
            cells = [
                wrap(cell, w) if c.wrap else wrap(cell, 10**6)
                for cell, w, c in zip(row, widths, self.columns, strict=True)
            ]
            for k in range(max(len(c) for c in cells)):
                line: list[Run] = []
                for i, (cell, w) in enumerate(zip(cells, widths, strict=True)):
                    runs = cell[k] if k < len(cell) else []
                    line += runs
                    pad = w - sum(text_width(t) for t, _ in runs) + (GAP if i < len(widths) - 1 else 0)
                    line.append((" " * pad, ""))
                out.append(line)
        return out


class Page:
    """The lines of a report, ``width`` wide; :meth:`text` paints them (ANSI) when ``color``."""

    def __init__(self, width: int, color: bool) -> None:
        self.width = width
        self.color = color
        self._lines: list[list[Run]] = []

    def print(self, text: Styled | str = "") -> None:
        """Add ``text``, wrapped to the width (an empty call adds a blank line)."""
        self._lines += wrap(text if isinstance(text, Styled) else Styled(text), self.width)

    def grid(self, grid: Grid) -> None:
        """Add a grid."""
        self._lines += grid.lines(self.width)

    def _paint(self, runs: Iterable[Run]) -> str:
        parts = list(runs)
        while parts and not parts[-1][1] and not parts[-1][0].strip():
            parts.pop()  # trailing padding
        if not self.color:
            return "".join(t for t, _ in parts).rstrip()
        return "".join(f"\x1b[{sgr(s)}m{t}\x1b[0m" if s else t for t, s in parts).rstrip()

    def text(self) -> str:
        """The report: lines joined, trailing spaces and blank lines dropped."""
        return "\n".join(self._paint(line) for line in self._lines).rstrip("\n")
