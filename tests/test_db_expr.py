"""The token-expression evaluator: agrees with Python on what it allows, rejects the rest."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmcheck.db import expr
from mmcheck.db.expr import ExprError, UnknownVariableError, evaluate, parse, variables_of
from mmcheck.db.model import TokenRule

VARS = sorted(expr.ALLOWED_VARIABLES)
values = st.fixed_dictionaries({name: st.integers(0, 2000) for name in VARS})

leaf = st.one_of(st.sampled_from(VARS), st.integers(0, 1000).map(str))
# A power's base is a leaf and its exponent a small literal, so every value stays far below
# MAX_BITS and Python's own result is the reference. Nested/huge powers are tested separately.
power = st.tuples(leaf, st.integers(0, 3)).map(lambda t: f"{t[0]} ** {t[1]}")


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "//"]), children, st.booleans()).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})" if t[3] else f"{t[0]} {t[1]} {t[2]}"
    )
    unary = children.map(lambda s: f"-({s})")
    return st.one_of(binary, unary)


expressions = st.recursive(st.one_of(leaf, power), _extend, max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(expressions, values)
def test_valid_expressions_agree_with_python(text: str, variables: dict[str, int]) -> None:
    try:
        expected: object = eval(text, {"__builtins__": {}}, dict(variables))  # reference only
    except ZeroDivisionError:
        with pytest.raises(ZeroDivisionError):
            evaluate(text, variables)
        return
    assert isinstance(expected, int)
    assert evaluate(text, variables) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="image_sz patch()+-*/%.,0123456789ejx[]'\"<>=!~&|^@:lambda", max_size=40), values)
def test_arbitrary_text_is_evaluated_or_rejected_cleanly(text: str, variables: dict[str, int]) -> None:
    """Whatever the input, the only outcomes are an int, ExprError or ZeroDivisionError."""
    try:
        result = evaluate(text, variables)
    except (ExprError, ZeroDivisionError):
        return
    assert isinstance(result, int) and not isinstance(result, bool)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("image_size.bit_length()", "function calls"),
        ("image_size.real", "attribute access"),
        ("abs(image_size)", "function calls"),
        ("__import__('os').system('true')", "function calls"),
        ("(lambda: 1)()", "function calls"),
        ("[1][0]", "subscripts"),
        ("1.5 * image_size", "integer literals"),
        ("1e3", "integer literals"),
        ("'abc'", "integer literals"),
        ("True + 1", "integer literals"),
        ("image_size / patch_size", "'/' is not allowed"),
        ("image_size % 2", "'%' is not allowed"),
        ("image_size << 2", "not allowed"),
        ("image_size > 2", "comparisons"),
        ("image_size and patch_size", "'and'/'or'"),
        ("+image_size", "unary '-'"),
        ("~image_size", "unary '-'"),
        ("image_size if merge else 1", "conditional"),
        ("width * 2", "unknown variable 'width'"),
        ("", "empty"),
        ("(image_size", "invalid expression"),
        ("x" * 600, "longer than"),
    ],
)
def test_disallowed_constructs_are_rejected(text: str, fragment: str) -> None:
    with pytest.raises(ExprError, match=None) as info:
        parse(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2 ** 65", "exponent 65 exceeds 64"),
        ("image_size ** 100", "exponent 100 exceeds 64"),
        ("2 ** merge", "exponent 4000 exceeds 64"),
        ("2 ** -1", "negative exponent"),
        ("((image_size ** 64) ** 64) ** 64", "exceeds 4096 bits"),
        ("image_size ** 64 * image_size ** 64 * image_size ** 64 * image_size ** 64", "exceeds 4096 bits"),
    ],
)
def test_huge_or_fractional_powers_are_rejected(text: str, fragment: str) -> None:
    with pytest.raises(ExprError) as info:
        evaluate(text, {"image_size": 1 << 20, "merge": 4000})
    assert fragment in str(info.value)


def test_big_but_bounded_power_is_fine() -> None:
    assert evaluate("2 ** 64", {}) == 2**64
    assert evaluate("(-1) ** 64 + 0 ** 0", {}) == 2


def test_missing_variable_and_division_by_zero() -> None:
    with pytest.raises(UnknownVariableError) as info:
        evaluate("query_num + 1", {})
    assert info.value.name == "query_num"
    with pytest.raises(ZeroDivisionError):
        evaluate("image_size // merge", {"image_size": 4, "merge": 0})


def test_variables_of() -> None:
    assert variables_of("(image_size // (patch_size * merge)) ** 2") == {"image_size", "patch_size", "merge"}
    assert variables_of("64") == frozenset()


def test_token_rule_count() -> None:
    rule = TokenRule(expr="(image_size // patch_size) ** 2 // merge ** 2")
    assert rule.tokens_for({"image_size": 896, "patch_size": 14, "merge": 4}) == 256
    assert rule.tokens_for({"image_size": 896, "patch_size": 14}) is None  # merge unknown
    assert rule.tokens_for({"image_size": 896, "patch_size": 0, "merge": 4}) is None  # division by zero
    assert TokenRule(expr=None, note="no formula").tokens_for({"image_size": 1}) is None
