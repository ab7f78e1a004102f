"""Hand-written validation primitives over :class:`~mmcheck.db.nodes.Node` trees.

A checker is a callable ``(node, label) -> value`` that raises :class:`Invalid` (with the line
of the offending node) when the node does not fit. :class:`Obj` wraps one YAML mapping: it
reports unknown keys, and its :meth:`Obj.get` runs a checker on a field, records the error and
returns the default, so that validation goes on and collects every error of a file.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from mmcheck.db.nodes import Node
from mmcheck.errors import DBError

T = TypeVar("T")
Checker = Callable[[Node, str], Any]

ID_RE = re.compile(r"[a-z0-9][a-z0-9_.+-]*\Z")


class Invalid(Exception):
    """One validation error at one line."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class Reported(Exception):
    """Errors were already recorded in the context (e.g. several bad list items)."""


class Ctx:
    """Collects the errors of one file (``file`` is relative to the DB root)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[DBError] = []

    def error(self, message: str, line: int | None) -> None:
        """Record an error at ``line``."""
        self.errors.append(DBError(message, file=self.file, line=line))

    def checked(self, checker: Callable[[Node, str], T], node: Node, label: str) -> T | None:
        """Run ``checker``; on failure record the error and return ``None``."""
        try:
            return checker(node, label)
        except Invalid as exc:
            record(self, exc)
        except Reported:
            pass
        return None


class Obj:
    """A YAML mapping under validation. ``failed`` turns true on the first error in it."""

    def __init__(self, ctx: Ctx, node: Node, label: str, allowed: Iterable[str]) -> None:
        self.ctx = ctx
        self.node = node
        self.label = label
        self.failed = False
        self.fields: dict[str, Node] = {}
        if not isinstance(node.value, dict):
            self._fail(f"{label} must be a mapping, got {node.kind}", node.line)
            return
        self.fields = node.value
        allowed_set = set(allowed)
        for key in self.fields:
            if key not in allowed_set:
                self._fail(
                    f"{label}: unknown key {key!r}{_suggest(key, allowed_set)}", node.key_lines.get(key, node.line)
                )

    def _fail(self, message: str, line: int | None) -> None:
        self.failed = True
        self.ctx.error(message, line)

    def line(self, key: str | None = None) -> int:
        """Line of the field's value (or of the mapping itself)."""
        if key is not None and key in self.fields:
            return self.fields[key].line
        return self.node.line

    def get(self, key: str, checker: Checker, *, required: bool = False, default: Any = None) -> Any:
        """Check field ``key`` with ``checker``; missing/invalid fields give ``default``."""
        if key not in self.fields:
            if required and isinstance(self.node.value, dict):
                self._fail(f"{self.label}: missing required field {key!r}", self.node.line)
            return default
        try:
            return checker(self.fields[key], f"{self.label}: {key}")
        except Invalid as exc:
            self.failed = True
            record(self.ctx, exc)
        except Reported:
            self.failed = True
        return default


def _suggest(key: str, allowed: set[str]) -> str:
    import difflib  # error path only

    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- checkers -------------------------------------------------------------------------------


def nullable(checker: Checker) -> Checker:
    """Accept ``null`` (as ``None``) or whatever ``checker`` accepts."""

    def check(node: Node, label: str) -> Any:
        return None if node.value is None else checker(node, label)

    return check


def string(node: Node, label: str) -> str:
    """A string (numbers are not silently turned into strings: quote them)."""
    if not isinstance(node.value, str):
        raise Invalid(f"{label} must be a string, got {node.kind}", node.line)
    return node.value


def text(node: Node, label: str) -> str:
    """A free-text string; ``null`` means empty."""
    return "" if node.value is None else string(node, label)


def nonempty(node: Node, label: str) -> str:
    """A non-blank string."""
    value = string(node, label)
    if not value.strip():
        raise Invalid(f"{label} must not be empty", node.line)
    return value


def literal(node: Node, label: str) -> str:
    """A non-empty string that may be all whitespace (a marker such as ``"\\n"``)."""
    value = string(node, label)
    if not value:
        raise Invalid(f"{label} must not be empty", node.line)
    return value


def ident(node: Node, label: str) -> str:
    """An id: lower-case ``[a-z0-9][a-z0-9_.+-]*``."""
    value = string(node, label)
    if not ID_RE.match(value):
        raise Invalid(f"{label} {value!r} is not a valid id (lower-case [a-z0-9][a-z0-9_.+-]*)", node.line)
    return value


def integer(minimum: int | None = 0, maximum: int | None = None) -> Checker:
    """An integer (not a boolean) in ``minimum..maximum``."""

    def check(node: Node, label: str) -> int:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"{label} must be an integer, got {node.kind}", node.line)
        if minimum is not None and value < minimum:
            raise Invalid(f"{label} must be >= {minimum}, got {value}", node.line)
        if maximum is not None and value > maximum:
            raise Invalid(f"{label} must be <= {maximum}, got {value}", node.line)
        return value

    return check


def number(node: Node, label: str) -> float:
    """A real number (int or float)."""
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"{label} must be a number, got {node.kind}", node.line)
    return float(value)


def boolean(node: Node, label: str) -> bool:
    """``true`` or ``false``."""
    if not isinstance(node.value, bool):
        raise Invalid(f"{label} must be true or false, got {node.kind}", node.line)
    return node.value


def enum(*choices: str, bools: dict[bool, str] | None = None) -> Checker:
    """One of ``choices``. ``bools`` maps YAML 1.1 booleans (``yes``/``no``) to choices."""

    def check(node: Node, label: str) -> str:
        value = node.value
        if bools is not None and isinstance(value, bool):
            return bools[value]
        if not isinstance(value, str) or value not in choices:
            shown = repr(value) if isinstance(value, str) else node.kind
            raise Invalid(f"{label} must be one of {', '.join(choices)}; got {shown}", node.line)
        return value

    return check


def listof(item: Checker, *, unique: bool = False) -> Checker:
    """A list whose items all pass ``item``; each bad item is reported at its own line."""

    def check(node: Node, label: str) -> tuple[Any, ...]:
        if not isinstance(node.value, list):
            raise Invalid(f"{label} must be a list, got {node.kind}", node.line)
        out: list[Any] = []
        errors: list[Invalid] = []
        reported = False
        seen: set[Any] = set()
        for i, child in enumerate(node.value):
            try:
                value = item(child, f"{label}[{i}]")
            except _Many as exc:
                errors.extend(exc.errors)
                continue
            except Invalid as exc:
                errors.append(exc)
                continue
            except Reported:
                reported = True
                continue
            if unique and value in seen:
                errors.append(Invalid(f"{label}[{i}]: duplicate entry {value!r}", child.line))
            seen.add(value)
            out.append(value)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise _Many(errors)
        if reported:
            raise Reported
        return tuple(out)

    return check


class _Many(Invalid):
    """Several errors of one list; :func:`record` unpacks them."""

    def __init__(self, errors: list[Invalid]) -> None:
        super().__init__(errors[0].message, errors[0].line)
        self.errors = errors


def regex(node: Node, label: str) -> str:
    """A Python regular expression that compiles."""
    value = string(node, label)
    try:
        re.compile(value)
    except re.error as exc:
        raise Invalid(f"{label}: invalid regular expression {value!r}: {exc}", node.line) from None
    return value


def date(node: Node, label: str) -> str:
    """A date ``YYYY-MM-DD`` (a YAML date), or a partial ``YYYY-MM`` / ``YYYY`` string."""
    value = node.value
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and 1970 <= value <= 2100:
        return str(value)
    if isinstance(value, str) and re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
        return value
    raise Invalid(f"{label} must be a date YYYY-MM-DD (or YYYY-MM), got {value!r}", node.line)


def strmap(key: Checker, value: Checker) -> Checker:
    """A mapping with checked string keys and values; returned as a plain ``dict``."""

    def check(node: Node, label: str) -> dict[str, Any]:
        if not isinstance(node.value, dict):
            raise Invalid(f"{label} must be a mapping, got {node.kind}", node.line)
        out: dict[str, Any] = {}
        errors: list[Invalid] = []
        for k, child in node.value.items():
            try:
                key(Node(k, node.key_lines.get(k, node.line)), f"{label} key")
                out[k] = value(child, f"{label}.{k}")
            except Invalid as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise _Many(errors)
        return out

    return check


def record(ctx: Ctx, exc: Invalid) -> None:
    """Record ``exc`` (all of them, for a multi-error list) in ``ctx``."""
    for err in exc.errors if isinstance(exc, _Many) else [exc]:
        ctx.error(err.message, err.line)
