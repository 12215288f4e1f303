"""Safe parsing of user formulas (activations φ(x), covariance functions ξ(q)) into sympy.

Theorists type formulas such as ``"x*erf(x) + 0.1*sin(3*x)"`` or ``"q^3/2 + q^4/4"`` on the
command line and in config files. Handing such text to ``eval`` or ``sympy.sympify`` would
run arbitrary Python (``sympify`` itself calls ``eval``), so this module never does: the text
is parsed with :func:`ast.parse` (which only builds a syntax tree and executes nothing) and the
tree is walked against a whitelist. Every node that is not a number, an allowed variable, a
named constant, an arithmetic operator or a call of a whitelisted function is rejected with
:class:`~replicasolve.errors.InvalidInputError` and a one-line message naming the offending
piece.

Choices worth knowing:

* ``^`` means power (as theorists write it); it is translated to ``**`` token by token, so
  ``**`` and ``^`` can be mixed freely.
* Decimal literals become exact rationals of the digits written: ``0.1`` is ``1/10`` and
  ``2.5e-3`` is ``1/400``, never the binary float nearest to them. Symbolic derivations
  (kernels, Hessians, critical temperatures) then stay exact, and ``evalf`` can still produce
  any precision afterwards.
* Variables are ``sympy.Symbol(name, real=True)``: activations and overlaps are real, which
  lets sympy simplify ``sqrt(x**2)`` to ``Abs(x)`` and so on.
* Sizes are capped (text length, syntax-tree nodes, integer literal digits, power exponents,
  digits of exact numeric powers, and the number of terms that multiplying the formula out
  would produce, :func:`expansion_terms`) so that a formula can neither hang sympy nor
  exhaust memory. ``(1+x)**1000`` (1001 terms) is accepted; ``hermite(30, hermite(30, x))``
  (about 10^11 multinomial terms) is not.
* Symbolic work on an accepted formula that can still be slow (limits, integrals, domains)
  runs under :func:`time_limit`, which raises :class:`SymbolicTimeout` so that the caller
  can fall back to a numeric method or refuse the formula.
* The result must be finite as an expression: formulas that sympy reduces to ``zoo``, ``oo``
  or ``nan`` (``1/0``, ``log(0)``) are rejected. The formula is not evaluated at any point.
"""

from __future__ import annotations

import ast
import io
import math
import signal
import threading
import time
import tokenize
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import NamedTuple

import sympy

from replicasolve.errors import InvalidInputError

__all__ = [
    "ALLOWED_CONSTANTS",
    "ALLOWED_FUNCTIONS",
    "MAX_EXPANSION_TERMS",
    "MAX_EXPONENT",
    "MAX_INT_DIGITS",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_POWER_DIGITS",
    "FunctionSpec",
    "SymbolicTimeout",
    "as_expression",
    "degree_bound",
    "expansion_terms",
    "formula_symbols",
    "parse_formula",
    "time_limit",
]

#: Longest accepted formula text, in characters.
MAX_LENGTH = 2000
#: Most syntax-tree nodes accepted (operators, operands, calls; contexts not counted).
MAX_NODES = 500
#: Most decimal digits of an integer literal (and of the mantissa of a decimal literal).
MAX_INT_DIGITS = 100
#: Largest absolute value of a numeric power exponent (``x**1000`` is fine, ``x**10**10`` not).
MAX_EXPONENT = 1000
#: Most decimal digits an exact numeric power such as ``9**999`` may produce (below Python's
#: 4300-digit limit on int -> str, so the result can still be printed).
MAX_POWER_DIGITS = 4000
#: Most terms that multiplying a formula out may produce (before like terms are collected):
#: sympy's multinomial expansion takes about 10 µs per term, so 10^5 terms is about a second.
MAX_EXPANSION_TERMS = 100_000
#: Largest |decimal exponent| of a decimal literal (``1e300`` is fine, ``1e999`` not).
_MAX_DECIMAL_EXPONENT = 300
#: Most arguments of max/min (sympy compares them pairwise, so many are slow).
_MAX_MINMAX_ARGS = 64
#: Largest n accepted in ``hermite(n, x)``.
_MAX_HERMITE_DEGREE = 30


class FunctionSpec(NamedTuple):
    """How a whitelisted function is called and built.

    ``arity`` is either an exact number of arguments or a ``(min, max)`` range where ``max``
    may be ``None`` (unbounded). ``build`` receives the already-built sympy arguments and
    returns the sympy expression; it raises :class:`InvalidInputError` for bad argument
    values (``leaky_relu`` slope outside [0, 1], ``hermite`` degree not a small integer).
    """

    arity: int | tuple[int, int | None]
    build: Callable[..., sympy.Expr]


def _sigmoid(x: sympy.Expr) -> sympy.Expr:
    return 1 / (1 + sympy.exp(-x))


def _softplus(x: sympy.Expr) -> sympy.Expr:
    return sympy.log(1 + sympy.exp(x))


def _gelu(x: sympy.Expr) -> sympy.Expr:
    return x * (1 + sympy.erf(x / sympy.sqrt(2))) / 2


def _silu(x: sympy.Expr) -> sympy.Expr:
    return x * _sigmoid(x)


def _relu(x: sympy.Expr) -> sympy.Expr:
    return sympy.Max(0, x)


def _leaky_relu(x: sympy.Expr, a: sympy.Expr) -> sympy.Expr:
    # Max(x, a*x) equals the leaky ReLU only for 0 <= a <= 1, hence the check.
    ok = False
    if a.is_number and a.is_real:
        try:
            ok = bool(a >= 0) and bool(a <= 1)
        except TypeError:  # pragma: no cover - undecidable comparison
            ok = False
    if not ok:
        raise InvalidInputError(f"leaky_relu slope must be a number between 0 and 1, got '{a}'")
    return sympy.Max(x, a * x)


def _hermite(n: sympy.Expr, x: sympy.Expr) -> sympy.Expr:
    # Probabilists' He_n from sympy's physicists' H_n: He_n(x) = 2^(-n/2) H_n(x/sqrt(2)).
    if not (isinstance(n, sympy.Integer) and 0 <= int(n) <= _MAX_HERMITE_DEGREE):
        raise InvalidInputError(
            f"hermite degree must be an integer between 0 and {_MAX_HERMITE_DEGREE}, got '{n}'"
        )
    k = int(n)
    # expand in a dummy variable, then substitute: expanding hermite(30, hermite(30, x))
    # directly would multiply out a degree-900 polynomial
    t = sympy.Dummy("t", real=True)
    poly = sympy.expand(sympy.hermite(k, t / sympy.sqrt(2)) / sympy.sqrt(2) ** k)
    return poly.subs(t, x)


def _unary(f: Callable[[sympy.Expr], sympy.Expr]) -> FunctionSpec:
    return FunctionSpec(1, f)


ALLOWED_FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType(
    {
        "exp": _unary(sympy.exp),
        "log": _unary(sympy.log),
        "sqrt": _unary(sympy.sqrt),
        "sin": _unary(sympy.sin),
        "cos": _unary(sympy.cos),
        "tan": _unary(sympy.tan),
        "tanh": _unary(sympy.tanh),
        "sinh": _unary(sympy.sinh),
        "cosh": _unary(sympy.cosh),
        "atan": _unary(sympy.atan),
        "arctan": _unary(sympy.atan),
        "erf": _unary(sympy.erf),
        "erfc": _unary(sympy.erfc),
        "abs": _unary(sympy.Abs),
        "Abs": _unary(sympy.Abs),
        "sign": _unary(sympy.sign),
        "Heaviside": _unary(sympy.Heaviside),
        "step": _unary(sympy.Heaviside),
        "max": FunctionSpec((2, _MAX_MINMAX_ARGS), sympy.Max),
        "Max": FunctionSpec((2, _MAX_MINMAX_ARGS), sympy.Max),
        "min": FunctionSpec((2, _MAX_MINMAX_ARGS), sympy.Min),
        "Min": FunctionSpec((2, _MAX_MINMAX_ARGS), sympy.Min),
        "relu": _unary(_relu),
        "sigmoid": _unary(_sigmoid),
        "softplus": _unary(_softplus),
        "gelu": _unary(_gelu),
        "silu": _unary(_silu),
        "swish": _unary(_silu),
        "leaky_relu": FunctionSpec(2, _leaky_relu),
        "hermite": FunctionSpec(2, _hermite),
    }
)
"""Whitelisted functions: name -> :class:`FunctionSpec` (arity, builder).

``relu(x) = Max(0, x)``, ``sigmoid(x) = 1/(1+exp(-x))``, ``softplus(x) = log(1+exp(x))``,
``gelu(x) = x(1+erf(x/√2))/2``, ``silu(x) = swish(x) = x·sigmoid(x)``,
``leaky_relu(x, a) = Max(x, a·x)`` for a number 0 ≤ a ≤ 1, ``hermite(n, x)`` is the
probabilists' Hermite polynomial He_n (expanded), ``step`` is ``Heaviside`` (value 1/2 at 0),
``max``/``min`` take 2 to 64 arguments.
"""

ALLOWED_CONSTANTS: Mapping[str, sympy.Expr] = MappingProxyType(
    {"pi": sympy.pi, "E": sympy.E, "e": sympy.E}
)
"""Named constants a formula may use: ``pi`` and Euler's number as ``E`` or ``e``."""

_REJECTED_CONSTANTS = frozenset({"inf", "oo", "nan", "zoo", "infinity", "Infinity", "I", "j"})

_BINOPS: Mapping[type[ast.operator], Callable[[sympy.Expr, sympy.Expr], sympy.Expr]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}

_OP_SYMBOLS: Mapping[type[ast.AST], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitXor: "^", ast.BitOr: "|",
    ast.BitAnd: "&", ast.LShift: "<<", ast.RShift: ">>", ast.Invert: "~", ast.Not: "not",
    ast.UAdd: "+", ast.USub: "-", ast.And: "and", ast.Or: "or", ast.Eq: "==",
    ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Is: "is",
    ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip

_NODE_WORDS: Mapping[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "generator expression",
    ast.IfExp: "conditional expression",
    ast.NamedExpr: "assignment expression ':='",
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Set: "set",
    ast.Dict: "dict",
    ast.Starred: "starred argument",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slice",
}


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _translate_carets(text: str) -> tuple[str, dict[int, list[int]]]:
    """Replace each ``^`` operator token by ``**``; return the text and caret columns per line.

    Working on tokens (not characters) leaves ``**`` and anything inside string literals
    alone. Text that does not tokenize is returned unchanged; ``ast.parse`` then reports it.
    """
    carets: dict[int, list[int]] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.OP and tok.string == "^":
                carets.setdefault(tok.start[0], []).append(tok.start[1])
    except (tokenize.TokenError, SyntaxError, ValueError):
        return text, {}
    if not carets:
        return text, {}
    lines = text.splitlines(keepends=True)
    for row, cols in carets.items():
        line = lines[row - 1]
        for col in sorted(cols, reverse=True):
            line = line[:col] + "**" + line[col + 1 :]
        lines[row - 1] = line
    return "".join(lines), carets


def _syntax_message(err: SyntaxError, text: str, carets: dict[int, list[int]]) -> str:
    lineno = err.lineno or 1
    offset = err.offset or 1
    # map the column back to the text as typed (each ^ became two characters)
    shift = 0
    for k, col in enumerate(sorted(carets.get(lineno, []))):
        if offset - 1 > col + k:
            shift += 1
    col = max(offset - shift, 1)
    where = f"column {col}" if "\n" not in text else f"line {lineno}, column {col}"
    reason = err.msg or "invalid syntax"
    return f"syntax error at {where}: {reason}: '{_clip(text)}'"


class _Builder:
    """Walks a checked syntax tree and builds the sympy expression."""

    def __init__(self, source: str, symbols: Mapping[str, sympy.Symbol]):
        self.source = source
        self.symbols = symbols

    def piece(self, node: ast.AST) -> str:
        try:
            seg = ast.get_source_segment(self.source, node)
        except Exception:  # pragma: no cover - defensive
            seg = None
        return _clip(seg) if seg else type(node).__name__

    def reject(self, what: str, node: ast.AST) -> InvalidInputError:
        return InvalidInputError(f"{what} is not allowed in a formula: '{self.piece(node)}'")

    def allowed_names(self) -> str:
        names = sorted(self.symbols)
        return ", ".join(names) if names else "no variables"

    def build(self, node: ast.AST) -> sympy.Expr:
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand)
            if isinstance(node.op, ast.USub):
                return -self.build(node.operand)
            raise self.reject(f"operator '{_OP_SYMBOLS[type(node.op)]}'", node)
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Compare):
            ops = " ".join(_OP_SYMBOLS.get(type(op), "?") for op in node.ops)
            raise self.reject(f"comparison '{ops}'", node)
        if isinstance(node, ast.BoolOp):
            raise self.reject(f"boolean operator '{_OP_SYMBOLS[type(node.op)]}'", node)
        word = _NODE_WORDS.get(type(node), f"'{type(node).__name__}' expression")
        raise self.reject(word, node)

    def constant(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self.reject(f"constant {value!r}", node)
        if isinstance(value, str):
            raise self.reject("string literal", node)
        if isinstance(value, bytes):
            raise self.reject("bytes literal", node)
        if isinstance(value, complex):
            raise self.reject("complex number", node)
        if isinstance(value, int):
            if value.bit_length() > MAX_INT_DIGITS * 3.33:
                raise InvalidInputError(
                    f"integer literal too long (more than {MAX_INT_DIGITS} digits): "
                    f"'{self.piece(node)}'"
                )
            return sympy.Integer(value)
        if isinstance(value, float):
            return self.decimal(node, value)
        raise self.reject(f"constant of type {type(value).__name__}", node)  # pragma: no cover

    def decimal(self, node: ast.Constant, value: float) -> sympy.Expr:
        # Exact rational of the digits as written: 0.1 -> 1/10 (see module docstring).
        seg = ast.get_source_segment(self.source, node) or repr(value)
        try:
            dec = Decimal(seg.replace("_", ""))
        except InvalidOperation:  # pragma: no cover - the tokenizer accepted it
            dec = Decimal(repr(value))
        if not dec.is_finite():  # pragma: no cover - literals are finite
            raise InvalidInputError(f"number is not finite: '{_clip(seg)}'")
        _sign, digits, exponent = dec.as_tuple()
        assert isinstance(exponent, int)
        if len(digits) > MAX_INT_DIGITS or abs(dec.adjusted()) > _MAX_DECIMAL_EXPONENT:
            raise InvalidInputError(
                f"number out of range (at most {MAX_INT_DIGITS} digits and exponent "
                f"±{_MAX_DECIMAL_EXPONENT}): '{_clip(seg)}'"
            )
        mantissa = int("".join(map(str, digits)) or "0")
        if exponent >= 0:
            return sympy.Integer(mantissa * 10**exponent)
        return sympy.Rational(mantissa, 10**-exponent)

    def name(self, node: ast.Name) -> sympy.Expr:
        ident = node.id
        if ident in self.symbols:
            return self.symbols[ident]
        if ident in ALLOWED_CONSTANTS:
            return ALLOWED_CONSTANTS[ident]
        if ident.startswith("__"):
            raise InvalidInputError(f"name '{ident}' is not allowed in a formula")
        if ident in ALLOWED_FUNCTIONS:
            raise InvalidInputError(f"function '{ident}' used without arguments")
        if ident in _REJECTED_CONSTANTS:
            raise InvalidInputError(
                f"constant '{ident}' is not allowed: formulas must be finite and real"
            )
        raise InvalidInputError(
            f"unknown name '{ident}': the formula may use only {self.allowed_names()}"
            " (and the constants pi, e)"
        )

    def binop(self, node: ast.BinOp) -> sympy.Expr:
        op = type(node.op)
        if op is ast.Pow:
            return self.power(node)
        if op not in _BINOPS:
            raise self.reject(f"operator '{_OP_SYMBOLS.get(op, op.__name__)}'", node)
        left = self.build(node.left)
        right = self.build(node.right)
        return _BINOPS[op](left, right)

    def power(self, node: ast.BinOp) -> sympy.Expr:
        base = self.build(node.left)
        expo = self.build(node.right)
        if expo.is_number:
            try:
                size = abs(complex(expo.evalf(15)))
            except (TypeError, ValueError):  # pragma: no cover - defensive
                size = math.inf
            if not size <= MAX_EXPONENT:
                raise InvalidInputError(
                    f"exponent too large (limit {MAX_EXPONENT}): '{self.piece(node)}'"
                )
            if isinstance(base, sympy.Rational) and isinstance(expo, sympy.Rational):
                p, q = abs(int(base.p)), int(base.q)
                digits = max(p.bit_length(), q.bit_length()) * math.log10(2) * float(abs(expo))
                if digits > MAX_POWER_DIGITS:
                    raise InvalidInputError(
                        f"number too large (more than {MAX_POWER_DIGITS} digits): "
                        f"'{self.piece(node)}'"
                    )
        return sympy.Pow(base, expo)

    def call(self, node: ast.Call) -> sympy.Expr:
        func = node.func
        if not isinstance(func, ast.Name):
            # e.g. __import__('os').system(...): building the callee raises the precise
            # message (attribute access, subscript, ...); a plain expression is rejected here
            self.build(func)
            raise self.reject("call of an expression", node)
        fname = func.id
        if fname not in ALLOWED_FUNCTIONS:
            if fname.startswith("__"):
                raise InvalidInputError(f"name '{fname}' is not allowed in a formula")
            if fname in self.symbols or fname in ALLOWED_CONSTANTS:
                raise InvalidInputError(f"'{fname}' is not a function: '{self.piece(node)}'")
            raise InvalidInputError(
                f"unknown function '{fname}': allowed functions are "
                + ", ".join(sorted(ALLOWED_FUNCTIONS))
            )
        if node.keywords:
            kw = node.keywords[0]
            shown = f"{kw.arg}=" if kw.arg is not None else "**"
            raise InvalidInputError(
                f"keyword argument '{shown}' is not allowed in a formula: '{self.piece(node)}'"
            )
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.reject("starred argument", arg)
        spec = ALLOWED_FUNCTIONS[fname]
        lo, hi = (spec.arity, spec.arity) if isinstance(spec.arity, int) else spec.arity
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            if hi is None:
                want = f"at least {lo} arguments"
            elif lo == hi:
                want = f"{lo} argument" + ("s" if lo != 1 else "")
            else:
                want = f"{lo} to {hi} arguments"
            raise InvalidInputError(
                f"function '{fname}' takes {want}, got {n}: '{self.piece(node)}'"
            )
        args = [self.build(a) for a in node.args]
        return spec.build(*args)


def _check_variables(variables: Collection[str]) -> dict[str, sympy.Symbol]:
    if isinstance(variables, str):
        variables = (variables,)
    symbols: dict[str, sympy.Symbol] = {}
    for name in variables:
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("__"):
            raise InvalidInputError(f"invalid variable name {name!r}")
        if name in ALLOWED_FUNCTIONS or name in ALLOWED_CONSTANTS:
            raise InvalidInputError(
                f"variable name '{name}' clashes with a function or constant of the same name"
            )
        symbols[name] = sympy.Symbol(name, real=True)
    return symbols


def parse_formula(text: str, variables: Collection[str] = ("x",)) -> sympy.Expr:
    """Parse a user formula into a sympy expression, without executing any of the text.

    Parameters
    ----------
    text
        The formula, e.g. ``"x*erf(x) + 0.1*sin(3*x)"`` or ``"q^2/2 + q^4/4"``. Accepted:
        numbers (decimals become exact rationals: ``0.1`` is ``1/10``), the names in
        ``variables``, the constants ``pi``, ``E``/``e``, unary ``+ -``, binary
        ``+ - * / **`` and ``^`` (power), parentheses, and calls of the functions in
        :data:`ALLOWED_FUNCTIONS` with the right number of positional arguments.
    variables
        Names the formula may use, e.g. ``("x",)`` for an activation or ``("q",)`` for a
        covariance function ξ(q). A single string is one name. Each becomes
        ``sympy.Symbol(name, real=True)``.

    Returns
    -------
    sympy.Expr
        The expression; its free symbols are among ``variables``.

    Raises
    ------
    InvalidInputError
        For anything else, with a one-line message naming the offending piece: syntax errors
        (with the column), unknown names or functions, wrong arity, attribute access,
        subscripts, strings, comparisons, too long or too large input, non-finite results.
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"formula must be a string, got {type(text).__name__}")
    symbols = _check_variables(variables)
    if len(text) > MAX_LENGTH:
        raise InvalidInputError(f"formula too long: {len(text)} characters (limit {MAX_LENGTH})")
    stripped = text.strip()
    if not stripped:
        raise InvalidInputError("empty formula")
    if "\x00" in stripped:
        raise InvalidInputError("formula contains a NUL character")
    source, carets = _translate_carets(stripped)
    try:
        with warnings.catch_warnings():
            # e.g. "'int' object is not callable" for 2(x): the rejection below says it better
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except SyntaxError as err:
        raise InvalidInputError(_syntax_message(err, stripped, carets)) from None
    except (ValueError, RecursionError, MemoryError) as err:
        raise InvalidInputError(f"formula could not be parsed: {err}") from None

    count = 0
    for node in ast.walk(tree.body):
        if not isinstance(node, ast.expr_context | ast.operator | ast.unaryop | ast.cmpop):
            count += 1
    if count > MAX_NODES:
        raise InvalidInputError(f"formula too complex: {count} terms (limit {MAX_NODES})")

    builder = _Builder(source, symbols)
    try:
        expr = builder.build(tree.body)
    except RecursionError:  # pragma: no cover - bounded by MAX_NODES
        raise InvalidInputError("formula nested too deeply") from None

    if not isinstance(expr, sympy.Expr):  # pragma: no cover - every builder returns Expr
        raise InvalidInputError(f"formula is not an expression: '{_clip(stripped)}'")
    for bad in (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        if expr.has(bad):
            raise InvalidInputError(
                f"formula is not finite (sympy reduces it to something containing {bad}): "
                f"'{_clip(stripped)}'"
            )
    terms = expansion_terms(expr)
    if terms > MAX_EXPANSION_TERMS:
        raise InvalidInputError(
            f"formula too large: multiplying it out would produce more than "
            f"{MAX_EXPANSION_TERMS} terms: '{_clip(stripped)}'"
        )
    extra = formula_symbols(expr) - set(symbols)
    if extra:  # pragma: no cover - guaranteed by construction; kept as a safety net
        raise InvalidInputError(f"formula uses unexpected symbols: {', '.join(sorted(extra))}")
    return expr


def expansion_terms(expr: sympy.Basic, limit: int = MAX_EXPANSION_TERMS) -> int:
    """How many terms multiplying ``expr`` out would produce, before like terms are collected.

    Counted on the tree without expanding anything: a sum has the terms of its summands, a
    product the product of its factors' counts, ``b**n`` (integer n) the number of monomials
    of degree |n| in ``b``'s terms, C(t + |n| - 1, |n|) (what sympy's multinomial expansion
    enumerates), and a function call is one term. The largest count of any subexpression is
    returned, saturated at ``limit + 1`` (anything above ``limit`` is "too many").
    ``(1+x)**1000`` gives 1001; ``hermite(30, hermite(30, x))`` gives more than 10^11.
    """
    cap = limit + 1
    seen: dict[sympy.Basic, int] = {}
    worst = 1

    def count(node: sympy.Basic) -> int:
        nonlocal worst
        if node in seen:
            return seen[node]
        if isinstance(node, sympy.Add):
            n = min(cap, sum(count(a) for a in node.args))
        elif isinstance(node, sympy.Mul):
            n = 1
            for a in node.args:
                n = min(cap, n * count(a))
        elif isinstance(node, sympy.Pow):
            t = count(node.base)
            count(node.exp)
            e = node.exp
            if t > 1 and isinstance(e, sympy.Integer) and e != 0:
                k = abs(int(e))
                n = min(cap, math.comb(t + k - 1, k)) if k < cap else cap
            else:
                n = t
        else:
            for a in node.args:
                count(a)
            n = 1
        seen[node] = n
        worst = max(worst, n)
        return n

    count(expr)
    return min(worst, cap)


def degree_bound(expr: sympy.Basic, symbol: sympy.Symbol) -> int:
    """An upper bound on the degree of ``expr`` in ``symbol``, read off the tree.

    Counted without expanding: the symbol has degree 1, a sum the largest degree of its
    summands, a product the sum, ``b**n`` (integer n) |n| times the degree of ``b``, any other
    power and any function of the symbol (sin, exp, ...) at least degree 1 (so
    ``sin(x)**1000`` has degree bound 1000: it is a power 1000 of a function of x). Exact
    for polynomials written without cancellations.
    """
    seen: dict[sympy.Basic, int] = {}

    def deg(node: sympy.Basic) -> int:
        if node in seen:
            return seen[node]
        if node == symbol:
            d = 1
        elif not node.has(symbol):
            d = 0
        elif isinstance(node, sympy.Add):
            d = max(deg(a) for a in node.args)
        elif isinstance(node, sympy.Mul):
            d = sum(deg(a) for a in node.args)
        elif isinstance(node, sympy.Pow) and isinstance(node.exp, sympy.Integer):
            d = abs(int(node.exp)) * deg(node.base)
        else:
            d = max([1, *(deg(a) for a in node.args)])
        seen[node] = d
        return d

    return deg(expr)


class SymbolicTimeout(Exception):
    """Symbolic work on a formula ran past the time given to it by :func:`time_limit`."""


class _Alarm(BaseException):
    # BaseException, so that sympy's own ``except Exception`` clauses do not swallow it
    pass


@contextmanager
def time_limit(seconds: float, what: str = "symbolic computation") -> Iterator[None]:
    """Run the body for at most ``seconds`` of CPU time, else raise SymbolicTimeout.

    CPU time, not wall-clock time: a budget that holds on an idle machine must hold on a
    loaded one too (a closed form that fell back to quadrature only because other processes
    took the cores would make the tier depend on the machine's load). sympy is pure Python,
    so a profiling interval timer (``SIGPROF``: this process's CPU time; ``SIGALRM`` stays
    free for others, e.g. pytest-timeout) can interrupt it between any two bytecodes; the
    interrupt is re-sent every 50 ms of CPU time until the body has left, in case a library
    swallows the first one. A profiling timer that was already armed (an outer
    ``time_limit``) keeps its deadline: it is chained, not replaced, and
    re-armed with its remaining time on exit. Outside the main thread, or where the platform
    has no ``setitimer``, signals cannot be used and the body runs unbounded (the size caps
    of :func:`parse_formula` still hold).
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    start = time.process_time()
    deadline = start + max(float(seconds), 1e-3)
    prev_handler = signal.getsignal(signal.SIGPROF)
    prev_delay, prev_interval = signal.getitimer(signal.ITIMER_PROF)
    prev_deadline = start + prev_delay if prev_delay > 0 else math.inf
    fired = False

    def on_alarm(signum: int, frame: object) -> None:
        nonlocal fired
        now = time.process_time()
        if now >= prev_deadline - 1e-3 and callable(prev_handler):
            prev_handler(signum, frame)  # the outer timer's turn (it usually raises)
        if now >= deadline - 1e-3:
            fired = True
            signal.setitimer(signal.ITIMER_PROF, 0.05, 0.05)
            raise _Alarm
        signal.setitimer(signal.ITIMER_PROF, max(min(deadline, prev_deadline) - now, 1e-3))

    signal.signal(signal.SIGPROF, on_alarm)
    signal.setitimer(signal.ITIMER_PROF, max(min(deadline, prev_deadline) - start, 1e-3))
    try:
        yield
    except _Alarm:
        if not fired:  # pragma: no cover - an outer handler's own _Alarm
            raise
        raise SymbolicTimeout(f"{what} took longer than {seconds:g} s of CPU time") from None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, prev_handler)
        if math.isfinite(prev_deadline):
            left = max(prev_deadline - time.process_time(), 1e-3)
            signal.setitimer(signal.ITIMER_PROF, left, prev_interval)


def formula_symbols(expr: sympy.Basic) -> set[str]:
    """Names of the free symbols of ``expr`` (e.g. ``{"x"}``), to see what a formula uses."""
    return {str(s) for s in expr.free_symbols}


def as_expression(obj: object, what: str = "expression") -> sympy.Expr:
    """A scalar sympy expression from a sympy object or a number (never from text).

    Strings are refused here on purpose: user text goes through :func:`parse_formula`.
    ``sympify(strict=True)`` converts only numbers and sympy objects, never evaluates text.
    """
    if isinstance(obj, str):
        raise InvalidInputError(f"{what} given as text: parse it with parse_formula first")
    try:
        expr = sympy.sympify(obj, strict=True)
    except (sympy.SympifyError, TypeError) as exc:
        raise InvalidInputError(f"{what} must be a sympy expression, got {obj!r}") from exc
    if not isinstance(expr, sympy.Expr):
        raise InvalidInputError(
            f"{what} must be a scalar sympy expression, got {type(expr).__name__}: {expr}"
        )
    return expr
