"""A declarative sweep: which model, which axes, which quantity — checked before any work.

A spec is TOML (or the same structure as a Python dict)::

    name = "msk T_c vs depth"          # optional label
    quantity = "T_c"
    seed = 0                           # recorded in the output (default 0)

    [model]
    kind = "msk"                       # msk | pspin | landscape | tap | run
    variance = 2.0                     # a fixed parameter

    [axes]                             # swept parameters, in this order = the dims
    depth = [1, 2, 3, 4]               # a list of values,
    variance = {start = 1, stop = 3, num = 5}    # or start/stop/num (both ends included),
    # T = {start = 0.1, stop = 1.0, step = 0.1}  # or start/stop/step (stop included)

    [solver]                           # pspin / landscape: method, ks, tol, ...; tap / run: rtol
    method = "full"
    warm_start = true                  # pspin / landscape (default true): see below
    warm_axis = "T"                    # default: the last numeric axis

Warm starts: where the quantity supports it (:mod:`replicasolve.sweeps.quantities` says
which), the points along the warm axis (``warm_axis``; by default the last, fastest axis
that is numeric)
are computed in order within one task, each solver started from the solution of the point
before it; tasks split the other axes, so a pool or Dask cluster still runs chains in
parallel. ``warm_start`` defaults to true where supported (false elsewhere; asking for true
there is an error). A chain is at most :data:`WARM_SEGMENT` points long (the axis is cut at
fixed positions, so every executor computes the same chains and gives the same numbers);
its first point, a point after a failed or unconverged one, and the first point still
missing when an interrupted sweep is resumed are computed cold. Warm and cold values agree
to the solver tolerance.

Every problem (an unknown key, an empty axis, an axis that is not a parameter of the model,
a quantity the model cannot compute, a value out of range) is an
:class:`~replicasolve.errors.InvalidInputError` with one line saying which key and what is
allowed. The model and quantity registry is :mod:`replicasolve.sweeps.quantities`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .quantities import MODELS, WARM_KEYS, Param

__all__ = ["WARM_SEGMENT", "SweepSpec", "load_spec", "spec_from_toml"]

# the longest warm chain: the warm axis is cut into segments of this many points (at fixed
# positions), each starting cold; it bounds what a killed task loses and keeps tasks short
WARM_SEGMENT = 64

_TOP_KEYS = ("name", "quantity", "seed", "model", "axes", "solver")
_RANGE_KEYS = ("start", "stop", "num", "step")
MAX_POINTS = 10_000_000


def _allowed(keys: Any) -> str:
    return ", ".join(sorted(keys))


def _unknown(table: str, got: Mapping[str, Any], allowed: Any) -> None:
    bad = [k for k in got if k not in allowed]
    if bad:
        raise InvalidInputError(
            f"unknown key {bad[0]!r} in {table} (allowed: {_allowed(allowed)})")


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _value(name: str, p: Param, v: Any, where: str) -> Any:
    """One parameter value, checked and normalised to a plain JSON value."""
    if p.kind == "str":
        if not isinstance(v, str) or not v.strip():
            raise InvalidInputError(f"{where}: {name} must be a non-empty string, got {v!r}")
        if p.choices and v.strip() not in p.choices:
            raise InvalidInputError(
                f"{where}: {name} must be one of {', '.join(p.choices)}, got {v!r}")
        return v.strip()
    if p.kind == "ints":
        items = v.split(",") if isinstance(v, str) else v
        try:
            out = [int(x) for x in items]
            if any(isinstance(x, (bool, float)) for x in items) or len(out) < 2 \
                    or min(out) < 1:
                raise ValueError
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"{where}: {name} must be a list of at least two positive integers, "
                f"got {v!r}") from None
        return out
    if not _is_real(v) or not math.isfinite(v):
        raise InvalidInputError(f"{where}: {name} must be a finite number, got {v!r}")
    if p.kind == "int":
        if v != int(v):
            raise InvalidInputError(f"{where}: {name} must be a whole number, got {v!r}")
        v = int(v)
    else:
        v = float(v)
    if p.low is not None and (v < p.low or (p.low_open and v == p.low)):
        rel = ">" if p.low_open else ">="
        raise InvalidInputError(f"{where}: {name} must be {rel} {p.low:g}, got {v!r}")
    return v


def _axis_values(name: str, p: Param, raw: Any) -> tuple[Any, ...]:
    where = f"[axes] {name}"
    if isinstance(raw, Mapping):
        _unknown(f"[axes] {name}", raw, _RANGE_KEYS)
        if "start" not in raw or "stop" not in raw or ("num" in raw) == ("step" in raw):
            raise InvalidInputError(
                f"{where}: a range needs start, stop and exactly one of num, step")
        start, stop = raw["start"], raw["stop"]
        if not (_is_real(start) and _is_real(stop) and math.isfinite(start)
                and math.isfinite(stop)):
            raise InvalidInputError(f"{where}: start and stop must be finite numbers")
        if "num" in raw:
            num = raw["num"]
            if isinstance(num, bool) or not isinstance(num, int) or num < 1:
                raise InvalidInputError(f"{where}: num must be an integer >= 1, got {num!r}")
            if num == 1:
                values: list[Any] = [start]
            else:
                values = [start + (stop - start) * i / (num - 1) for i in range(num)]
        else:
            step = raw["step"]
            if not _is_real(step) or not step > 0 or not math.isfinite(step):
                raise InvalidInputError(f"{where}: step must be a number > 0, got {step!r}")
            count = math.floor((stop - start) / step * (1 + 1e-12) + 1e-9) + 1
            if count < 1:
                raise InvalidInputError(f"{where}: stop {stop!r} is below start {start!r}")
            if count > MAX_POINTS:
                raise InvalidInputError(f"{where}: {count} values is too many")
            values = [start + i * step for i in range(count)]
        if p.kind == "int":
            values = [round(v) if abs(v - round(v)) < 1e-9 else v for v in values]
    elif isinstance(raw, (list, tuple)):
        values = list(raw)
    else:
        raise InvalidInputError(
            f"{where}: give a list of values or a table {{start, stop, num}} / "
            f"{{start, stop, step}}, got {raw!r}")
    if not values:
        raise InvalidInputError(f"{where}: the axis has no values")
    out = tuple(_value(name, p, v, where) for v in values)
    if len(set(out)) != len(out):
        raise InvalidInputError(f"{where}: repeated values in {list(out)}")
    return out


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep.

    Attributes:
        model: the model kind (a key of :data:`replicasolve.sweeps.quantities.MODELS`).
        quantity: what is computed at each point.
        fixed: the fixed parameters (defaults filled in; ``None`` = optional, not given).
        axes: ``((name, values), ...)`` in dimension order; values are plain floats, ints or
            strings.
        solver: the ``[solver]`` settings (plain values).
        seed: recorded in the output (the built-in quantities are deterministic; a random
            quantity derives its per-point seed from this and the point's index).
        name: a free label.
    """

    model: str
    quantity: str
    fixed: Mapping[str, Any]
    axes: tuple[tuple[str, tuple[Any, ...]], ...]
    solver: Mapping[str, Any]
    seed: int = 0
    name: str = ""

    # ---------------------------------------------------------------- shape and points
    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for _, v in self.axes)

    @property
    def n_points(self) -> int:
        return math.prod(self.shape)

    def params_at(self, flat: int) -> dict[str, Any]:
        """All parameters of point ``flat`` (C order over :attr:`axes`)."""
        params = dict(self.fixed)
        for (name, values), i in zip(self.axes, _unravel(flat, self.shape), strict=True):
            params[name] = values[i]
        return params

    def points(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(flat index, parameters)`` for every point, in C order."""
        for flat, combo in enumerate(itertools.product(*(v for _, v in self.axes))):
            params = dict(self.fixed)
            params.update(zip(self.dims, combo, strict=True))
            yield flat, params

    @property
    def warm_axis(self) -> str | None:
        """The axis along which points seed each other, or ``None`` (no warm start)."""
        kind = MODELS[self.model]
        if kind.quantities[self.quantity].seeded is None \
                or not self.solver.get("warm_start", True):
            return None
        if "warm_axis" in self.solver:
            return str(self.solver["warm_axis"])
        numeric = [n for n in self.dims if kind.params[n].kind in ("float", "int")]
        return numeric[-1] if numeric else None

    def chains(self, flats: Iterator[int] | list[int]) -> list[list[int]]:
        """The points ``flats`` grouped into warm chains (each in order along the warm
        axis: consecutive indices within one :data:`WARM_SEGMENT`), ordered by their first
        point; without a warm axis every point is its own chain."""
        import numpy as np

        todo = np.zeros(self.n_points, dtype=bool)
        todo[np.fromiter(flats, dtype=np.int64)] = True
        return list(self.iter_chains(todo))

    def iter_chains(self, todo: Any, block: int = 1 << 16) -> Iterator[list[int]]:
        """The warm chains of the points marked in ``todo`` (a bool array of
        :attr:`n_points`), lazily, ordered by their first point: as :meth:`chains`, in
        memory independent of the number of points. ``todo`` is read as the iteration goes:
        changing it under a running iterator is only safe for whole chains not yet reached.
        """
        import numpy as np

        n = self.n_points
        axis = self.warm_axis
        if axis is None:
            for start in range(0, n, block):
                for i in np.flatnonzero(todo[start:start + block]):
                    yield [start + int(i)]
            return
        stride, length = self._warm_geometry(axis)
        for start in range(0, n, block):
            idx = np.arange(start, min(n, start + block))
            j = (idx // stride) % length
            prev = np.where(j > 0, idx - stride, idx)
            head = todo[idx] & ((j % WARM_SEGMENT == 0) | ~todo[prev])
            for h in np.flatnonzero(head):
                yield self._chain_from(start + int(h), todo, stride, length)

    def chain_at(self, flat: int, todo: Any) -> list[int]:
        """The warm chain of the points marked in ``todo`` that holds point ``flat``
        (``[flat]`` without a warm axis); ``flat`` must be marked."""
        axis = self.warm_axis
        if axis is None:
            return [flat]
        stride, length = self._warm_geometry(axis)
        j = (flat // stride) % length
        while j % WARM_SEGMENT and todo[flat - stride]:
            flat, j = flat - stride, j - 1
        return self._chain_from(flat, todo, stride, length)

    def _warm_geometry(self, axis: str) -> tuple[int, int]:
        """(flat-index stride, length) of the warm axis."""
        a = self.dims.index(axis)
        return math.prod(self.shape[a + 1:]), self.shape[a]

    @staticmethod
    def _chain_from(head: int, todo: Any, stride: int, length: int) -> list[int]:
        chain = [head]
        j = (head // stride) % length
        while j + 1 < length and (j + 1) % WARM_SEGMENT and todo[head + stride]:
            head, j = head + stride, j + 1
            chain.append(head)
        return chain

    # ---------------------------------------------------------------- identity
    def to_dict(self) -> dict[str, Any]:
        """The canonical plain form (what :func:`load_spec` accepts back)."""
        model = {"kind": self.model, **{k: v for k, v in self.fixed.items() if v is not None}}
        return {
            "name": self.name,
            "quantity": self.quantity,
            "seed": self.seed,
            "model": model,
            "axes": {n: list(v) for n, v in self.axes},
            "solver": dict(self.solver),
        }

    def to_json(self) -> str:
        """Canonical JSON text (axes keep their order; everything else is sorted)."""
        d = self.to_dict()
        axes = d.pop("axes")
        body = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return body[:-1] + ',"axes":' + json.dumps(axes, separators=(",", ":")) + "}"

    @property
    def key(self) -> str:
        """A hash of everything that changes the numbers (the name does not count)."""
        d = json.loads(self.to_json())
        d.pop("name")
        text = json.dumps(d, sort_keys=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def units(self, name: str) -> str:
        """Unit of a parameter or of the quantity."""
        kind = MODELS[self.model]
        if name == self.quantity:
            return kind.quantities[name].unit
        return kind.params[name].unit


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for n in reversed(shape):
        flat, i = divmod(flat, n)
        out.append(i)
    return tuple(reversed(out))


def load_spec(source: SweepSpec | Mapping[str, Any] | str | os.PathLike) -> SweepSpec:
    """Read and validate a sweep spec from a dict, a TOML file path, or a :class:`SweepSpec`.

    Raises:
        InvalidInputError: one line naming the first problem found (before any work).
    """
    if isinstance(source, SweepSpec):
        return source
    if isinstance(source, Mapping):
        return _from_dict(source)
    path = Path(source)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such spec file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc}") from None
    return spec_from_toml(text, origin=str(path))


def spec_from_toml(text: str, origin: str = "spec") -> SweepSpec:
    """Validate a spec given as TOML text."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{origin}: not valid TOML: {exc}") from None
    return _from_dict(raw)


def _from_dict(raw: Mapping[str, Any]) -> SweepSpec:
    _unknown("the spec", raw, _TOP_KEYS)
    model_t = raw.get("model")
    if not isinstance(model_t, Mapping) or "kind" not in model_t:
        raise InvalidInputError(
            f"the spec needs a [model] table with kind = one of {_allowed(MODELS)}")
    kind_name = model_t["kind"]
    if kind_name not in MODELS:
        raise InvalidInputError(
            f"unknown model kind {kind_name!r} (allowed: {_allowed(MODELS)})")
    kind = MODELS[kind_name]
    _unknown("[model]", model_t, ("kind", *kind.params))

    quantity = raw.get("quantity")
    if quantity not in kind.quantities:
        raise InvalidInputError(
            f"model {kind_name!r} cannot compute quantity {quantity!r} "
            f"(it can: {_allowed(kind.quantities)})")
    q = kind.quantities[quantity]

    axes_t = raw.get("axes", {})
    if not isinstance(axes_t, Mapping):
        raise InvalidInputError("[axes] must be a table of name = values")
    if not axes_t:
        raise InvalidInputError("[axes] is empty: a sweep needs at least one axis")
    axes = []
    for name, values in axes_t.items():
        if name not in kind.params:
            raise InvalidInputError(
                f"axis {name!r} is not a parameter of model {kind_name!r} "
                f"(its parameters: {_allowed(kind.params)})")
        p = kind.params[name]
        if not p.axis:
            raise InvalidInputError(f"{name!r} of model {kind_name!r} can only be fixed, "
                                    "not swept")
        if name in model_t:
            raise InvalidInputError(f"{name!r} is both fixed in [model] and an axis")
        axes.append((name, _axis_values(name, p, values)))

    fixed: dict[str, Any] = {}
    for name, p in kind.params.items():
        if name in axes_t:
            continue
        if name in model_t:
            fixed[name] = _value(name, p, model_t[name], "[model]")
        elif p.required:
            raise InvalidInputError(
                f"model {kind_name!r} needs {name!r} (in [model] or as an axis)")
        elif p.default is not None:
            fixed[name] = p.default
    given = set(fixed) | set(axes_t)
    for name in q.excludes:
        if name in model_t or name in axes_t:
            raise InvalidInputError(f"quantity {quantity!r} does not take {name!r}")
    for name in q.needs:
        if name not in given:
            raise InvalidInputError(
                f"quantity {quantity!r} needs {name!r} (in [model] or as an axis)")
    if kind.extra_check is not None:
        kind.extra_check(fixed, dict(axes))

    solver_t = raw.get("solver", {})
    if not isinstance(solver_t, Mapping):
        raise InvalidInputError("[solver] must be a table")
    if solver_t and not kind.solver_keys:
        raise InvalidInputError(f"model {kind_name!r} takes no [solver] settings")
    _unknown("[solver]", solver_t, kind.solver_keys)
    solver = _check_solver(dict(solver_t))
    if kind.solver_check is not None:
        kind.solver_check(solver)
    _check_warm(solver, q, kind_name, quantity, dict(axes), kind)

    seed = raw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError(f"seed must be an integer >= 0, got {seed!r}")
    name = raw.get("name", "")
    if not isinstance(name, str):
        raise InvalidInputError(f"name must be a string, got {name!r}")

    spec = SweepSpec(model=kind_name, quantity=quantity, fixed=fixed, axes=tuple(axes),
                     solver=solver, seed=seed, name=name)
    if spec.n_points > MAX_POINTS:
        raise InvalidInputError(f"{spec.n_points} points is more than {MAX_POINTS:,}")
    return spec


def _check_warm(solver: Mapping[str, Any], q: Any, kind_name: str, quantity: str,
                axes: Mapping[str, Any], kind: Any) -> None:
    """``warm_start`` is a boolean, true only where the quantity can warm start;
    ``warm_axis`` names a numeric axis, and only with warm starts on."""
    if not any(k in solver for k in WARM_KEYS):
        return
    warm = solver.get("warm_start", True)
    if not isinstance(warm, bool):
        raise InvalidInputError(f"[solver] warm_start must be true or false, got {warm!r}")
    if warm and q.seeded is None:
        raise InvalidInputError(f"[solver] warm_start: quantity {quantity!r} of model "
                                f"{kind_name!r} cannot be warm-started")
    if "warm_axis" in solver:
        name = solver["warm_axis"]
        if not warm:
            raise InvalidInputError("[solver] warm_axis needs warm_start = true")
        if not isinstance(name, str) or name not in axes:
            raise InvalidInputError(f"[solver] warm_axis must be one of the axes "
                                    f"({_allowed(axes)}), got {name!r}")
        if kind.params[name].kind not in ("float", "int"):
            raise InvalidInputError(f"[solver] warm_axis {name!r} is not a numeric axis: "
                                    "its neighbours cannot seed each other")


def _check_solver(solver: dict[str, Any]) -> dict[str, Any]:
    """Build the method and options once so that a bad setting fails before any work."""
    if not solver:
        return solver
    from ..solvers.methods import FullRSB, as_method, as_options
    from .quantities import SOLVER_OPTIONS

    if "rtol" in solver:  # the TAP models' tolerance on beta_c (tap_critical's bounds)
        rtol = solver["rtol"]
        if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not 0 < rtol < 1e-2:
            raise InvalidInputError(f"[solver] rtol must be a number in (0, 1e-2), got {rtol!r}")
    if "ks" in solver:
        ks = solver["ks"]
        if not isinstance(ks, list) or not all(isinstance(k, int) for k in ks):
            raise InvalidInputError(f"[solver] ks must be a list of integers, got {ks!r}")
        FullRSB(ks=tuple(ks))
    method = solver.get("method")
    if method is not None and method != "auto":
        as_method(method)
    as_options({k: solver[k] for k in SOLVER_OPTIONS if k in solver})
    return solver
