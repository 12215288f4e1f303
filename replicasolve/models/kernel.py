"""The kernel problem: ξ(q) = K_{L+1}(q) of a random MLP, as a problem object.

``replicasolve.solve(Kernel("tanh", depth=2), method="closed")`` is
:func:`replicasolve.kernels.compose.xi_function` on the same contract as every other
problem: the method is the route (``"auto"``, ``"closed"``, ``"quadrature"``, ``"ode"``),
the options its resolution (``{"degree": ..., "order": ...}``), the result a member of the
ξ family (:class:`replicasolve.kernels.xi.XiResult`: callable, ``derivatives``,
``errors_at``, ``converged``, ``errors``, ``to_dict()``, ``table()``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..kernels.compose import MAX_DEPTH
from ..validation import finite_real

__all__ = ["Kernel"]


def _variances(value: Any, name: str, lowest_open: bool) -> float | tuple[float, ...]:
    values = [value] if np.ndim(value) == 0 else list(value)
    out = tuple(finite_real(v, name) for v in values)
    if not out or any((v <= 0) if lowest_open else (v < 0) for v in out):
        raise InvalidInputError(
            f"{name} must be {'> 0' if lowest_open else '>= 0'} (one value, or one per "
            f"layer), got {value!r}")
    return out[0] if np.ndim(value) == 0 else out


@dataclass(frozen=True, eq=False)
class Kernel:
    """ξ(q) = K_{L+1}(q) of a random MLP with ``depth`` hidden layers (the covariance of the
    network's output over inputs with overlap q; the input layer's variance included).

    Attributes:
        activation: a name (``"tanh"``, ``"relu"``, ``"erf"``, ...), a formula in x or an
            ``Activation``.
        depth: hidden layers, ``0 <= L <= MAX_DEPTH``, or ``math.inf`` for the shaped deep
            limit (with ``shape``).
        sigma_w2: weight variance σ_w² > 0 (W ~ N(0, σ_w²/fan_in)), one value or one per
            layer (L + 1 values).
        sigma_b2: bias variance σ_b² ≥ 0, one value or L + 1.
        shape: the shaping of the deep limit (see :func:`~replicasolve.kernels.compose.
            xi_function`), or None.
    """

    activation: Any
    depth: int | float
    sigma_w2: float | Sequence[float] = 1.0
    sigma_b2: float | Sequence[float] = 0.0
    shape: float | tuple[float, float] | None = None

    def __post_init__(self) -> None:
        d = self.depth
        if not (d == math.inf and not isinstance(d, bool)):
            if isinstance(d, bool) or not isinstance(d, (int, np.integer)) \
                    or not 0 <= d <= MAX_DEPTH:
                raise InvalidInputError(
                    f"depth must be an integer in [0, {MAX_DEPTH}] or math.inf, got {d!r}")
            object.__setattr__(self, "depth", int(d))
        object.__setattr__(self, "sigma_w2", _variances(self.sigma_w2, "sigma_w2", True))
        object.__setattr__(self, "sigma_b2", _variances(self.sigma_b2, "sigma_b2", False))

    def at(self, **changes: Any) -> Kernel:
        """A copy with fields changed, e.g. ``kernel.at(depth=3)``."""
        return dataclasses.replace(self, **changes)
