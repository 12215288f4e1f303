"""Tests of the whitelist formula parser replicasolve.symbolic.parse."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from numpy.polynomial import hermite_e
from scipy import special

from replicasolve.errors import InvalidInputError
from replicasolve.symbolic.parse import (
    ALLOWED_CONSTANTS,
    ALLOWED_FUNCTIONS,
    formula_symbols,
    parse_formula,
)

X = sympy.Symbol("x", real=True)
Q = sympy.Symbol("q", real=True)
POINTS = (-2.3, -0.7, 0.0, 0.4, 1.9)


def value(expr: sympy.Expr, x: float, name: str = "x") -> float:
    sym = sympy.Symbol(name, real=True)
    out = complex(sympy.N(expr.subs(sym, sympy.Rational(repr(x))), 30))
    assert abs(out.imag) < 1e-12
    return out.real


def test_issue_example_equals_hand_built_expression():
    got = parse_formula("x*erf(x) + 0.1*sin(3*x)")
    want = X * sympy.erf(X) + sympy.Rational(1, 10) * sympy.sin(3 * X)
    assert got == want
    assert sympy.simplify(got - want) == 0


def test_symbols_are_real_and_named_by_caller():
    expr = parse_formula("q^3/2 + q**4/4", variables={"q"})
    assert expr == Q**3 / 2 + Q**4 / 4
    assert all(s.is_real for s in expr.free_symbols)
    assert formula_symbols(expr) == {"q"}
    assert formula_symbols(parse_formula("pi + 1")) == set()


def test_decimals_become_exact_rationals():
    assert parse_formula("0.1") == sympy.Rational(1, 10)
    assert parse_formula("2.5e-3") == sympy.Rational(1, 400)
    assert parse_formula("1_000.5") == sympy.Rational(2001, 2)
    assert parse_formula("1e3") == sympy.Integer(1000)
    assert parse_formula("0.10000000000000000001") == sympy.Rational(10**19 + 1, 10**20)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("x^2", X**2),
        ("x^2^3", X**8),  # right associative like **
        ("x**2^3", X**8),
        ("2*x^3 - x**2", 2 * X**3 - X**2),
        ("-x^2", -(X**2)),
        ("(x+1)^(1/2)", sympy.sqrt(X + 1)),
    ],
)
def test_caret_is_power(text, want):
    assert parse_formula(text) == want


def test_constants():
    assert parse_formula("pi") == sympy.pi
    assert parse_formula("e") == sympy.E
    assert parse_formula("E*x") == sympy.E * X
    assert set(ALLOWED_CONSTANTS) == {"pi", "E", "e"}
    with pytest.raises(InvalidInputError, match="inf"):
        parse_formula("inf")


def _sig(x):
    return 1 / (1 + math.exp(-x))


# independent reference implementations (math / numpy / scipy), one per whitelisted name
REFERENCE = {
    "exp(x)": math.exp,
    "log(x + 3)": lambda x: math.log(x + 3),
    "sqrt(x + 3)": lambda x: math.sqrt(x + 3),
    "sin(x)": math.sin,
    "cos(x)": math.cos,
    "tan(x/2)": lambda x: math.tan(x / 2),
    "tanh(x)": math.tanh,
    "sinh(x)": math.sinh,
    "cosh(x)": math.cosh,
    "atan(x)": math.atan,
    "arctan(x)": np.arctan,
    "erf(x)": math.erf,
    "erfc(x)": special.erfc,
    "abs(x)": abs,
    "Abs(x)": np.abs,
    "sign(x)": np.sign,
    "Heaviside(x)": lambda x: np.heaviside(x, 0.5),
    "step(x)": lambda x: np.heaviside(x, 0.5),
    "max(x, 0.5, -x)": lambda x: max(x, 0.5, -x),
    "Max(x, 1)": lambda x: max(x, 1),
    "min(x, 0.5)": lambda x: min(x, 0.5),
    "Min(x, -x, 1)": lambda x: min(x, -x, 1),
    "relu(x)": lambda x: max(0.0, x),
    "sigmoid(x)": _sig,
    "softplus(x)": lambda x: math.log1p(math.exp(x)),
    "gelu(x)": lambda x: 0.5 * x * (1 + math.erf(x / math.sqrt(2))),
    "silu(x)": lambda x: x * special.expit(x),
    "swish(x)": lambda x: x * _sig(x),
    "leaky_relu(x, 0.1)": lambda x: x if x > 0 else 0.1 * x,
    "leaky_relu(x, 1/3)": lambda x: x if x > 0 else x / 3,
    "hermite(3, x)": lambda x: x**3 - 3 * x,
    "hermite(0, x)": lambda x: 1.0,
    "hermite(7, x)": lambda x: hermite_e.hermeval(x, [0] * 7 + [1]),
    "hermite(30, x)": lambda x: hermite_e.hermeval(x, [0] * 30 + [1]),
}


def test_reference_covers_every_whitelisted_function():
    used = {text.split("(")[0] for text in REFERENCE}
    assert used == set(ALLOWED_FUNCTIONS)


@pytest.mark.parametrize("text", sorted(REFERENCE))
def test_function_matches_reference(text):
    expr = parse_formula(text)
    for x in POINTS:
        want = float(REFERENCE[text](x))
        assert value(expr, x) == pytest.approx(want, rel=1e-10, abs=1e-10), (text, x)


def test_hermite_is_probabilists_and_expanded():
    assert parse_formula("hermite(3, x)") == X**3 - 3 * X
    assert parse_formula("hermite(4, x)") == X**4 - 6 * X**2 + 3


def test_allowed_functions_is_read_only():
    with pytest.raises(TypeError):
        ALLOWED_FUNCTIONS["eval"] = ALLOWED_FUNCTIONS["exp"]  # type: ignore[index]
    assert ALLOWED_FUNCTIONS["exp"].arity == 1
    assert ALLOWED_FUNCTIONS["max"].arity == (2, 64)


@pytest.mark.parametrize(
    ("text", "piece"),
    [
        ("__import__('os').system('ls')", "system"),
        ("__import__('os')", "__import__"),
        ("x.__class__", "__class__"),
        ("().__class__", "__class__"),
        ("lambda: 1", "lambda"),
        ("[x for x in y]", "comprehension"),
        ("'abc'", "abc"),
        ("b'abc'", "bytes"),
        ("x if x else 1", "conditional"),
        ("y", "'y'"),
        ("foo(x)", "'foo'"),
        ("sin(x, x)", "sin"),
        ("exp()", "exp"),
        ("max(x)", "max"),
        ("max(" + ", ".join(["x"] * 65) + ")", "2 to 64 arguments"),
        ("exp(x)**10**10", "10**10"),
        ("x**10**10", "exponent"),
        ("10**10**10", "exponent"),
        ("(9**999)**999", "9**999"),
        ("9**9999", "exponent"),
        ("99**3000", "99**3000"),
        ("x==1", "=="),
        ("x < 1 < 2", "<"),
        ("x and 1", "and"),
        ("not x", "not"),
        ("~x", "~"),
        ("x % 2", "%"),
        ("x // 2", "//"),
        ("sin(x=1)", "x="),
        ("sin(**d)", "**"),
        ("sin(*x)", "starred"),
        ("x[0]", "subscript"),
        ("(x := 1)", ":="),
        ("[x, 1]", "list"),
        ("(x, 1)", "tuple"),
        ("{x: 1}", "dict"),
        ("1j*x", "complex"),
        ("True", "True"),
        ("None", "None"),
        ("f'{x}'", "f-string"),
        ("sin", "'sin'"),
        ("x(2)", "'x'"),
        ("(x+1)(2)", "(x+1)(2)"),
        ("1" * 150, "integer literal"),
        ("1e999", "1e999"),
        ("1/0", "finite"),
        ("oo", "oo"),
        ("nan", "nan"),
        ("leaky_relu(x, 2)", "leaky_relu"),
        ("leaky_relu(x, x)", "leaky_relu"),
        ("hermite(31, x)", "hermite"),
        ("hermite(1.5, x)", "hermite"),
        ("hermite(x, x)", "hermite"),
        ("x+", "syntax error at column"),
        ("((x)", "syntax error"),
        ("x^^2", "column 3"),
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 5000, "too long"),
        ("+".join(["x"] * 400), "too complex"),
    ],
)
def test_rejections_name_the_offending_piece(text, piece):
    with pytest.raises(InvalidInputError) as info:
        parse_formula(text)
    message = str(info.value)
    assert piece in message
    assert "\n" not in message


def test_unknown_name_message_lists_allowed_variables():
    with pytest.raises(InvalidInputError, match=r"unknown name 'x'.*only q"):
        parse_formula("x + q", variables=["q"])


def test_invalid_input_error_is_value_error_and_bad_arguments():
    with pytest.raises(ValueError):
        parse_formula("y")
    with pytest.raises(InvalidInputError, match="string"):
        parse_formula(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="sin"):
        parse_formula("1", variables=["sin"])
    with pytest.raises(InvalidInputError, match="variable"):
        parse_formula("1", variables=["not a name"])


# ---------------------------------------------------------------- property-based tests

# (text template, math reference) for generated unary nodes; sqrt and log may leave their
# domain, then the reference raises and the example is discarded.
_UNARY = [
    ("sin({})", math.sin),
    ("cos({})", math.cos),
    ("tanh({})", math.tanh),
    ("atan({})", math.atan),
    ("erf({})", math.erf),
    ("erfc({})", math.erfc),
    ("abs({})", abs),
    ("exp({})", math.exp),
    ("sqrt({})", math.sqrt),
    ("log({})", math.log),
    ("sigmoid({})", lambda v: 1 / (1 + math.exp(-v))),
    ("softplus({})", lambda v: math.log(1 + math.exp(v))),
    ("relu({})", lambda v: max(0.0, v)),
    ("gelu({})", lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2)))),
    ("hermite(2, {})", lambda v: v * v - 1),
    ("(-{})", lambda v: -v),
]
_BINARY = [
    ("({} + {})", lambda a, b: a + b),
    ("({} - {})", lambda a, b: a - b),
    ("({} * {})", lambda a, b: a * b),
    ("({} / {})", lambda a, b: a / b),
    ("max({}, {})", max),
    ("min({}, {})", min),
]


@st.composite
def _leaf(draw):
    kind = draw(st.sampled_from(["x", "int", "dec", "const"]))
    if kind == "x":
        return ("x", None)
    if kind == "int":
        n = draw(st.integers(0, 9))
        return (str(n), float(n))
    if kind == "dec":
        n = draw(st.integers(1, 99))
        return (f"{n / 10}", n / 10)
    name = draw(st.sampled_from(["pi", "e"]))
    return (name, math.pi if name == "pi" else math.e)


def _extend(children):
    unary = st.tuples(st.sampled_from(_UNARY), children).map(
        lambda t: (t[0][0].format(t[1][0]), ("u", t[0][1], t[1]))
    )
    binary = st.tuples(st.sampled_from(_BINARY), children, children).map(
        lambda t: (t[0][0].format(t[1][0], t[2][0]), ("b", t[0][1], t[1], t[2]))
    )
    power = st.tuples(children, st.integers(0, 3), st.sampled_from(["^", "**"])).map(
        lambda t: (f"({t[0][0]}){t[2]}{t[1]}", ("p", t[1], t[0]))
    )
    return st.one_of(unary, binary, power)


_TREES = st.recursive(_leaf().map(lambda leaf: (leaf[0], ("l", leaf[1]))), _extend, max_leaves=8)


def _reference(node, x: float, scale: list[float]) -> float:
    kind = node[0]
    if kind == "l":
        out = x if node[1] is None else node[1]
    elif kind == "u":
        out = node[1](_reference(node[2][1], x, scale))
    elif kind == "b":
        out = node[1](_reference(node[2][1], x, scale), _reference(node[3][1], x, scale))
    else:
        out = _reference(node[2][1], x, scale) ** node[1]
    out = float(out)
    if not math.isfinite(out) or abs(out) > 1e8:
        raise OverflowError
    scale[0] = max(scale[0], abs(out))
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_TREES, x=st.sampled_from(POINTS))
def test_random_whitelisted_trees_parse_and_match_math(tree, x):
    text, node = tree
    scale = [1.0]
    try:
        want = _reference(node, x, scale)
    except (ArithmeticError, ValueError):
        assume(False)
    expr = parse_formula(text)
    assert formula_symbols(expr) <= {"x"}
    got = value(expr, x)
    # cancellation in the float reference is bounded by its largest intermediate value
    assert got == pytest.approx(want, rel=1e-9, abs=1e-9 * scale[0]), text


_FORMULA_CHARS = "x()+-*/^.,0123456789 eapisnqrtxmhgl_[]'=<>!@%&|~:;{}\"\\#\t\n"


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
        st.text(st.sampled_from(_FORMULA_CHARS), max_size=40),
        st.text(max_size=20),
    )
)
def test_junk_text_raises_only_invalid_input_error(text):
    try:
        expr = parse_formula(text)
    except InvalidInputError as err:
        assert "\n" not in str(err)
    else:
        assert isinstance(expr, sympy.Expr)
        assert formula_symbols(expr) <= {"x"}
