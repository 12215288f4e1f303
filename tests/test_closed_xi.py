"""Closed-form ξ(q) through depth (sympy + codegen) vs the tabulated composition."""

from __future__ import annotations

import numpy as np
import pytest

from replicasolve.kernels.closed_xi import closed_xi
from replicasolve.kernels.compose import xi_function

Q = np.linspace(-1.0, 1.0, 11)


@pytest.mark.parametrize(("name", "depth"), [("sin", 2), ("erf", 2), ("linear", 3),
                                             ("relu", 2), ("cos", 1)])
def test_two_independent_paths_agree(name: str, depth: int) -> None:
    c = closed_xi(name, depth, 1.5, 0.1)
    assert c is not None and c.latex
    got = np.array(c.derivatives(Q))
    tab = np.array(xi_function(name, depth, 1.5, 0.1).derivatives(Q))
    finite = np.isfinite(tab) & np.isfinite(got)
    # closed form compiled by codegen vs tables of exact sympy derivatives, cubic-Hermite
    # interpolated (relu: 1/sqrt singularity at q = ±1 handled by both as ±inf)
    scale = np.maximum(1.0, np.abs(tab))
    assert np.all(np.abs(got - tab)[finite] <= 1e-9 * scale[finite])
    assert np.all(np.isfinite(got[0]))  # ξ itself is finite on all of [-1, 1]
    # interior derivatives are all evaluated; only the domain edge may be left NaN
    assert np.all(np.isfinite(got[:, 1:-1]) == np.isfinite(tab[:, 1:-1]))


def test_linear_exact_expression() -> None:
    import sympy as sp

    c = closed_xi("linear", 2, 2, 1)
    q = c.q
    # K1 = 1 + 2q, K2 = 1 + 2 K1, K3 = 1 + 2 K2: exact rationals kept by sympy
    assert sp.simplify(c.expr - (7 + 8 * q)) == 0


def test_no_closed_form_is_none() -> None:
    assert closed_xi("tanh", 2, 1.5, 0.1) is None
