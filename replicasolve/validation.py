"""Input checks shared by the public API: one clear message per problem, never a clip."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .errors import InvalidInputError

__all__ = ["InvalidInputError", "layer_sizes", "positive_beta", "variances"]


def layer_sizes(sizes: Sequence[int] | str) -> tuple[int, ...]:
    """Layer sizes ``N_0, ..., N_L`` as positive ints (accepts ``"784,512,10"``)."""
    if isinstance(sizes, str):
        parts = [p.strip() for p in sizes.split(",")]
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise InvalidInputError(
                f"layer sizes must be a comma list of whole numbers, got {sizes!r}"
            ) from None
    else:
        values = list(sizes)
    if len(values) < 2:
        raise InvalidInputError(
            f"need at least two layers (one weight matrix), got {len(values)} size(s)"
        )
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or int(v) != v:
            raise InvalidInputError(f"layer size {i} must be a whole number, got {v!r}")
        if v <= 0:
            raise InvalidInputError(f"layer size {i} must be positive, got {v}")
        out.append(int(v))
    return tuple(out)


def variances(value: float | Sequence[float] | str, n_weights: int) -> tuple[float, ...]:
    """Weight variance factors ``C_l`` (weights ~ N(0, C_l / N_{l-1})), one per weight matrix.

    A single number applies to every weight matrix; a list must have one entry per matrix.
    """
    if isinstance(value, str):
        try:
            vals = [float(p) for p in value.split(",")]
        except ValueError:
            raise InvalidInputError(
                f"variance must be a number or a comma list of numbers, got {value!r}"
            ) from None
    elif np.ndim(value) == 0:
        vals = [float(value)]  # type: ignore[arg-type]
    else:
        vals = [float(v) for v in value]  # type: ignore[union-attr]
    if len(vals) == 1:
        vals = vals * n_weights
    if len(vals) != n_weights:
        raise InvalidInputError(
            f"got {len(vals)} variances for {n_weights} weight matrices: give one value, "
            f"or one per weight matrix"
        )
    for i, v in enumerate(vals):
        if not np.isfinite(v) or v <= 0:
            raise InvalidInputError(f"variance C_{i + 1} must be positive and finite, got {v}")
        if v < np.finfo(float).tiny:
            # a subnormal carries fewer than 53 bits: every digit derived from it would be
            # less precise than the library claims
            raise InvalidInputError(
                f"variance C_{i + 1} = {v:g} is below the smallest normal float "
                f"({np.finfo(float).tiny:g}); rescale the problem"
            )
    return tuple(vals)


def positive_beta(beta: float, name: str = "beta") -> float:
    """An inverse temperature: finite and > 0."""
    b = float(beta)
    if not np.isfinite(b) or b <= 0:
        raise InvalidInputError(f"{name} must be positive and finite, got {beta}")
    return b


def finite_real(value: object, name: str) -> float:
    """``value`` as a finite float, or an :class:`InvalidInputError` naming ``name``."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v):
        raise InvalidInputError(f"{name} must be finite, got {value!r}")
    return v
