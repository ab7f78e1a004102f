"""A tiny, safe evaluator for the token-count expressions of ``projector_types.yaml``.

An expression is integer arithmetic over a few named variables, e.g.
``"(image_size // patch_size) ** 2 // merge ** 2"``. It is parsed with :mod:`ast` and walked by
hand; nothing is ever passed to :func:`eval`. Allowed: non-negative integer literals, the
variable names given by the caller, binary ``+ - * // **``, unary ``-`` and parentheses.
Everything else (attribute access, calls, floats, ``/``, comparisons, ...) is rejected with an
:class:`ExprError` that says what was found.

Guards: an exponent must be in ``0..MAX_EXPONENT``, and no value (literal, intermediate or
result) may exceed ``MAX_BITS`` bits, so a hostile database cannot make mmcheck hang or eat
memory.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterable, Mapping

__all__ = [
    "ALLOWED_VARIABLES",
    "MAX_BITS",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "ExprError",
    "UnknownVariableError",
    "evaluate",
    "parse",
    "variables_of",
]

#: The variables a token expression may use (see docs/compat-db.md).
ALLOWED_VARIABLES: frozenset[str] = frozenset({"image_size", "patch_size", "merge", "query_num"})
#: Largest exponent accepted by ``**``.
MAX_EXPONENT = 64
#: Largest magnitude (in bits) of any value during evaluation.
MAX_BITS = 4096
#: Longest expression text accepted.
MAX_LENGTH = 500

_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.FloorDiv: "//",
    ast.Pow: "**",
}

_HINTS: dict[type[ast.AST], str] = {
    ast.Div: "'/' is not allowed (use '//' for integer division)",
    ast.Mod: "'%' is not allowed",
    ast.Attribute: "attribute access is not allowed",
    ast.Call: "function calls are not allowed",
    ast.Subscript: "subscripts are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and'/'or' are not allowed",
    ast.IfExp: "conditional expressions are not allowed",
    ast.Lambda: "lambda is not allowed",
}


class ExprError(ValueError):
    """An expression is not allowed, or cannot be evaluated safely."""


class UnknownVariableError(ExprError):
    """An expression uses a variable that was not supplied (at evaluation time)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"variable {name!r} has no value")


def parse(text: str, allowed: Iterable[str] = ALLOWED_VARIABLES) -> ast.expr:
    """Parse and check ``text``; return its AST (the body of an ``eval``-mode tree).

    Raises :class:`ExprError` for syntax errors, disallowed constructs and names not in
    ``allowed``.
    """
    if not isinstance(text, str):
        raise ExprError(f"expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression is longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ExprError("expression is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "1if"
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"invalid expression {text!r}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. NUL bytes, absurd nesting
        raise ExprError(f"invalid expression {text!r}: {exc}") from None
    try:
        _check(tree.body, frozenset(allowed), text)
    except RecursionError:
        raise ExprError(f"expression {text!r} is nested too deeply") from None
    return tree.body


def variables_of(text: str) -> frozenset[str]:
    """The variable names an (allowed) expression uses."""
    return frozenset(n.id for n in ast.walk(parse(text)) if isinstance(n, ast.Name))


def evaluate(text: str, variables: Mapping[str, int], allowed: Iterable[str] | None = None) -> int:
    """Evaluate ``text`` with integer ``variables``.

    ``allowed`` defaults to :data:`ALLOWED_VARIABLES` plus the keys of ``variables``.
    Raises :class:`UnknownVariableError` when a variable has no value, :class:`ZeroDivisionError`
    on ``// 0`` and :class:`ExprError` for anything disallowed or too large.
    """
    names = ALLOWED_VARIABLES | frozenset(variables) if allowed is None else frozenset(allowed)
    return _eval(parse(text, names), variables, text)


def _check(node: ast.AST, names: frozenset[str], text: str) -> None:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int):
            raise ExprError(f"only integer literals are allowed, got {value!r} in {text!r}")
        _bound(value, text)
    elif isinstance(node, ast.Name):
        if node.id not in names:
            known = ", ".join(sorted(names))
            raise ExprError(f"unknown variable {node.id!r} in {text!r} (allowed: {known})")
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            hint = _HINTS.get(type(node.op), f"operator {type(node.op).__name__} is not allowed")
            raise ExprError(f"{hint} in {text!r}")
        _check(node.left, names, text)
        _check(node.right, names, text)
        if isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) and isinstance(node.right.value, int):
            _power_bounds(node.right.value, text)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub):
            raise ExprError(f"only unary '-' is allowed in {text!r}")
        _check(node.operand, names, text)
    else:
        hint = _HINTS.get(type(node), f"{type(node).__name__} is not allowed")
        raise ExprError(f"{hint} in {text!r}")


def _bound(value: int, text: str) -> int:
    if value.bit_length() > MAX_BITS:
        raise ExprError(f"value exceeds {MAX_BITS} bits while evaluating {text!r}")
    return value


def _eval(node: ast.expr, variables: Mapping[str, int], text: str) -> int:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int)  # checked by parse()
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in variables:
            raise UnknownVariableError(node.id)
        value = variables[node.id]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ExprError(f"variable {node.id!r} must be an int, got {type(value).__name__}")
        return _bound(value, text)
    if isinstance(node, ast.UnaryOp):
        return -_eval(node.operand, variables, text)
    if isinstance(node, ast.BinOp):
        left = _eval(node.left, variables, text)
        right = _eval(node.right, variables, text)
        op = type(node.op)
        if op is ast.Add:
            return _bound(left + right, text)
        if op is ast.Sub:
            return _bound(left - right, text)
        if op is ast.Mult:
            return _bound(left * right, text)
        if op is ast.FloorDiv:
            return left // right  # ZeroDivisionError propagates
        if op is ast.Pow:
            return _power(left, right, text)
    raise ExprError(f"cannot evaluate {ast.dump(node)} in {text!r}")  # unreachable after parse()


def _power_bounds(exponent: int, text: str) -> None:
    if exponent < 0:
        raise ExprError(f"negative exponent {exponent} in {text!r}")
    if exponent > MAX_EXPONENT:
        raise ExprError(f"exponent {exponent} exceeds {MAX_EXPONENT} in {text!r}")


def _power(base: int, exponent: int, text: str) -> int:
    _power_bounds(exponent, text)
    if base not in (-1, 0, 1) and (base.bit_length() - 1) * exponent > MAX_BITS:
        raise ExprError(f"value exceeds {MAX_BITS} bits while evaluating {text!r}")
    return _bound(base**exponent, text)
