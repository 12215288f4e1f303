"""sympy expressions → numba-compiled, disk-cached, vectorised numpy functions.

After pycalphad's ``codegen/sympydiff_utils.py`` (a function, its gradient and Hessian
compiled together, memoised) and tensorwaves' sympy backend (deterministic argument order,
common-subexpression elimination).

:func:`compile_expressions` takes several expressions and a list of argument symbols and

1. checks that every free symbol is one of the arguments (the argument order is exactly
   the order given),
2. eliminates common subexpressions across all expressions at once (``sympy.cse``),
3. prints a Python module of plain scalar ``math`` code: one ``@njit`` kernel returning a
   tuple of all outputs, and one ``@njit`` loop over 1-D float64 arrays,
4. names the module by the sha256 of a canonical description (``srepr`` of the
   expressions, the argument names, :data:`FORMAT_VERSION` and numba's version), writes it
   atomically into ``cache_dir()/codegen/`` and imports it from there, so numba's on-disk
   cache (next to the file) is reused by later processes,
5. memoises the imported module in-process by its path.

:func:`value_gradient_hessian` builds ``f``, ``∂f/∂a_i`` and the upper triangle of
``∂²f/∂a_i∂a_j`` and compiles them in one module (one CSE pass).

numba is imported (through :mod:`replicasolve.jit`) only when a generated module is
imported, never at the import of this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import os
import pathlib
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import sympy
from sympy.printing.codeprinter import PrintMethodNotImplementedError
from sympy.printing.pycode import PythonCodePrinter

from replicasolve.errors import InvalidInputError

__all__ = [
    "FORMAT_VERSION",
    "CompiledFunctions",
    "ValueGradientHessian",
    "compile_expressions",
    "value_gradient_hessian",
]

#: Bump when the generated source changes for the same expressions (invalidates caches).
FORMAT_VERSION = 2  # 2: generated modules import replicasolve.jit (was replicasolve._numba)

# sympy function classes whose Python printing is supported by numba in nopython mode.
_SUPPORTED_FUNCTIONS: tuple[type, ...] = (
    sympy.exp,
    sympy.log,
    sympy.sin,
    sympy.cos,
    sympy.tan,
    sympy.asin,
    sympy.acos,
    sympy.atan,
    sympy.atan2,
    sympy.sinh,
    sympy.cosh,
    sympy.tanh,
    sympy.asinh,
    sympy.acosh,
    sympy.atanh,
    sympy.erf,
    sympy.erfc,
    sympy.gamma,
    sympy.loggamma,
    sympy.Abs,
    sympy.sign,
    sympy.floor,
    sympy.ceiling,
    sympy.Max,
    sympy.Min,
    sympy.Piecewise,
    sympy.Heaviside,
)

_lock = threading.Lock()
_modules: dict[str, ModuleType] = {}


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class CompiledFunctions:
    """Compiled outputs of :func:`compile_expressions`.

    Calling it with one array-like per argument (broadcast together) returns a dict
    ``{name: ndarray}`` when the expressions were given as a mapping, else a tuple of
    arrays, each of the broadcast shape (0-d for scalar inputs).
    """

    names: tuple[str, ...]
    args: tuple[str, ...]
    hash: str
    source_path: pathlib.Path
    as_dict: bool
    _module: ModuleType

    @property
    def kernel(self):
        """The scalar ``@njit`` kernel ``kernel(a0, a1, ...) -> tuple`` (callable from
        other numba code)."""
        return self._module.kernel

    @property
    def loop(self):
        """The ``@njit`` loop ``loop(n, a0, a1, ..., out)`` over 1-D float64 arrays,
        writing output ``i`` of element ``k`` to ``out[i, k]``."""
        return self._module.loop

    def evaluate(self, *arrays) -> tuple[tuple[int, ...], np.ndarray]:
        """All outputs as one ``(n_outputs, *shape)`` float64 array, and the shape."""
        if len(arrays) != len(self.args):
            raise InvalidInputError(
                f"expected {len(self.args)} arrays for arguments {list(self.args)}, "
                f"got {len(arrays)}"
            )
        try:
            values = [np.asarray(a, dtype=np.float64) for a in arrays]
            broadcast = np.broadcast_arrays(*values) if values else []
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"arguments are not broadcastable real arrays: {exc}") from exc
        shape = broadcast[0].shape if broadcast else ()
        size = int(np.prod(shape, dtype=np.int64))
        flat = [np.ascontiguousarray(b).reshape(-1) for b in broadcast]
        out = np.empty((len(self.names), size), dtype=np.float64)
        self._module.loop(size, *flat, out)
        return shape, out.reshape((len(self.names), *shape))

    def __call__(self, *arrays):
        _, out = self.evaluate(*arrays)
        if self.as_dict:
            return {name: out[i] for i, name in enumerate(self.names)}
        return tuple(out[i] for i in range(len(self.names)))

    def __repr__(self) -> str:
        return (
            f"CompiledFunctions(names={self.names!r}, args={self.args!r}, "
            f"hash={self.hash[:12]!r}..., source_path={str(self.source_path)!r})"
        )


@dataclass(frozen=True, eq=False)
class ValueGradientHessian:
    """``f``, its gradient and Hessian compiled together (see :func:`value_gradient_hessian`).

    ``vgh(*arrays)`` returns ``(f, grad, hess)`` with shapes ``(...)``, ``(..., n)`` and
    ``(..., n, n)``; :meth:`value`, :meth:`gradient` and :meth:`hessian` return one of
    them (each evaluates the shared kernel once).
    """

    compiled: CompiledFunctions
    n: int

    @property
    def hash(self) -> str:
        return self.compiled.hash

    @property
    def source_path(self) -> pathlib.Path:
        return self.compiled.source_path

    def __call__(self, *arrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        shape, out = self.compiled.evaluate(*arrays)
        n = self.n
        value = out[0]
        grad = np.moveaxis(out[1 : n + 1], 0, -1)
        hess = np.empty((*shape, n, n), dtype=np.float64)
        k = n + 1
        for i in range(n):
            for j in range(i, n):
                hess[..., i, j] = out[k]
                hess[..., j, i] = out[k]
                k += 1
        return value, np.ascontiguousarray(grad), hess

    def value(self, *arrays) -> np.ndarray:
        return self(*arrays)[0]

    def gradient(self, *arrays) -> np.ndarray:
        return self(*arrays)[1]

    def hessian(self, *arrays) -> np.ndarray:
        return self(*arrays)[2]


# --------------------------------------------------------------------------- public API


def compile_expressions(
    exprs: Mapping[str, sympy.Expr] | Sequence[sympy.Expr],
    args: Sequence[sympy.Symbol],
    *,
    name: str | None = None,
) -> CompiledFunctions:
    """Compile ``exprs`` (a mapping name → expression, or a sequence) as functions of
    ``args``, in that order; see the module docstring. ``name`` only labels the generated
    file's header comment (it does not change the hash)."""
    if isinstance(exprs, Mapping):
        names = tuple(str(k) for k in exprs)
        expr_list = [exprs[k] for k in exprs]
        as_dict = True
    elif isinstance(exprs, Sequence) and not isinstance(exprs, (str, bytes)):
        expr_list = list(exprs)
        names = tuple(f"f{i}" for i in range(len(expr_list)))
        as_dict = False
    else:
        raise InvalidInputError(
            f"exprs must be a mapping or a sequence of sympy expressions, got {type(exprs)}"
        )
    if not expr_list:
        raise InvalidInputError("no expressions to compile")
    if as_dict and len(set(names)) != len(names):
        raise InvalidInputError(f"duplicate output names: {names}")

    expr_list = [_sympify(e) for e in expr_list]
    arg_list = _check_args(args)
    _check_free_symbols(expr_list, arg_list)
    for e in expr_list:
        _check_supported(e)

    digest = _hash(expr_list, arg_list)
    source = _generate_source(expr_list, arg_list, digest, name)
    module = _load_module(digest, source)
    return CompiledFunctions(
        names=names,
        args=tuple(a.name for a in arg_list),
        hash=digest,
        source_path=pathlib.Path(module.__file__),
        as_dict=as_dict,
        _module=module,
    )


def value_gradient_hessian(
    expr: sympy.Expr, args: Sequence[sympy.Symbol], *, name: str | None = None
) -> ValueGradientHessian:
    """Compile ``f``, ``∇f`` and the Hessian of ``f`` with respect to ``args`` together."""
    expr = _sympify(expr)
    arg_list = _check_args(args)
    _check_free_symbols([expr], arg_list)
    grad = [sympy.diff(expr, a) for a in arg_list]
    hess = [
        sympy.diff(grad[i], arg_list[j])
        for i in range(len(arg_list))
        for j in range(i, len(arg_list))
    ]
    compiled = compile_expressions([expr, *grad, *hess], arg_list, name=name)
    return ValueGradientHessian(compiled=compiled, n=len(arg_list))


# --------------------------------------------------------------------------- validation


def _sympify(e) -> sympy.Expr:
    from .parse import as_expression

    e = as_expression(e)
    if e.has(sympy.I):
        raise InvalidInputError(f"complex expressions are not supported: {e}")
    return e


def _check_args(args: Sequence[sympy.Symbol]) -> list[sympy.Symbol]:
    if isinstance(args, sympy.Symbol):
        args = [args]
    arg_list = list(args)
    bad = [a for a in arg_list if not isinstance(a, sympy.Symbol)]
    if bad:
        raise InvalidInputError(f"arguments must be sympy Symbols, got {bad}")
    names = [a.name for a in arg_list]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidInputError(f"argument names must be distinct; repeated: {dup}")
    return arg_list


def _check_free_symbols(exprs: list[sympy.Expr], args: list[sympy.Symbol]) -> None:
    free = set().union(*(e.free_symbols for e in exprs))
    extra = free - set(args)
    if extra:
        names = sorted(s.name for s in extra)
        msg = f"expressions depend on symbols not in args: {', '.join(names)}"
        if {s.name for s in extra} & {a.name for a in args}:
            msg += (
                " (a symbol with the same name but different assumptions, e.g. real=True, "
                "is a different symbol)"
            )
        raise InvalidInputError(msg)


def _check_supported(expr: sympy.Expr) -> None:
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Function) and not isinstance(node, _SUPPORTED_FUNCTIONS):
            raise InvalidInputError(
                f"function {type(node).__name__} in {node} is not supported by the numba "
                f"code generator (supported: "
                f"{', '.join(sorted(f.__name__ for f in _SUPPORTED_FUNCTIONS))})"
            )
        if isinstance(node, (sympy.Derivative, sympy.Integral, sympy.Sum, sympy.Product)):
            raise InvalidInputError(f"unevaluated {type(node).__name__} cannot be compiled: {node}")
        if isinstance(node, sympy.Piecewise) and node.args[-1].cond != sympy.true:
            raise InvalidInputError(
                f"Piecewise without a default (True) branch cannot be compiled: {node}"
            )
        if node in (sympy.zoo, sympy.nan):
            raise InvalidInputError(f"expression contains {node}: {expr}")


# --------------------------------------------------------------------------- generation


def _hash(exprs: list[sympy.Expr], args: list[sympy.Symbol]) -> str:
    try:
        numba_version = importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        numba_version = "none"
    canonical = "\n".join(
        [
            f"replicasolve.codegen format {FORMAT_VERSION}",
            f"numba {numba_version}",
            "args " + repr([a.name for a in args]),
            *(sympy.srepr(e) for e in exprs),
        ]
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Printer(PythonCodePrinter):
    def _print_Heaviside(self, expr):  # Heaviside(x, H0) as a ternary, any sympy version
        return self._print(expr.rewrite(sympy.Piecewise))


def _generate_source(
    exprs: list[sympy.Expr], args: list[sympy.Symbol], digest: str, name: str | None
) -> str:
    # Positional argument names a0, a1, ...: user symbol names need not be identifiers.
    # Same assumptions, so that rebuilding the expressions changes nothing.
    params = [sympy.Symbol(f"a{i}", **a.assumptions0) for i, a in enumerate(args)]
    renamed = [e.xreplace(dict(zip(args, params, strict=True))) for e in exprs]
    replacements, reduced = sympy.cse(renamed, symbols=sympy.numbered_symbols("t"))
    printer = _Printer({"fully_qualified_modules": True, "strict": True})

    def p(e) -> str:
        try:
            return printer.doprint(e)
        except PrintMethodNotImplementedError as exc:
            raise InvalidInputError(f"cannot generate numba code for {e}: {exc}") from exc

    sig = ", ".join(f"a{i}" for i in range(len(args)))
    body = [f"    {s} = {p(v)}" for s, v in replacements]
    outs = [repr(float(e)) if e.is_Number and e.is_finite else f"float({p(e)})" for e in reduced]
    label = f" ({name})" if name else ""
    lines = [
        f'"""Generated by replicasolve.symbolic.codegen{label}; do not edit.',
        "",
        f"format {FORMAT_VERSION}, sha256 {digest}",
        "arguments: " + ", ".join(f"a{i} = {a.name}" for i, a in enumerate(args)),
        '"""',
        "",
        "import math",
        "",
        "from replicasolve.jit import njit",
        "",
        "",
        "@njit",
        f"def kernel({sig}):",
        *body,
        f"    return ({', '.join(outs)},)",
        "",
        "",
        "@njit",
        f"def loop(n, {sig + ', ' if sig else ''}out):",
        "    for k in range(n):",
        f"        r = kernel({', '.join(f'a{i}[k]' for i in range(len(args)))})",
        *(f"        out[{i}, k] = r[{i}]" for i in range(len(outs))),
        "",
    ]
    return "\n".join(lines)


def _write_atomic(path: pathlib.Path, source: str) -> None:
    """Write ``source`` to ``path`` unless identical content is already there (keeping
    the file's mtime, which numba's cache index checks)."""
    try:
        if path.read_text() == source:
            return
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(source)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _load_module(digest: str, source: str) -> ModuleType:
    from replicasolve.jit import cache_dir  # imports numba

    directory = cache_dir() / "codegen"
    directory.mkdir(parents=True, exist_ok=True)
    modname = f"rs_{digest}"
    path = directory / f"{modname}.py"
    key = str(path)
    with _lock:
        module = _modules.get(key)
        if module is not None:
            return module
        _write_atomic(path, source)
        spec = importlib.util.spec_from_file_location(modname, path)
        if spec is None or spec.loader is None:  # pragma: no cover
            raise ImportError(f"cannot import generated module {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(modname, None)
            raise
        _modules[key] = module
        return module
