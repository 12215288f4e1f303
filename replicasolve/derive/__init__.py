"""Replica derivations of a stated model: the action, saddle point and Hessian by sympy,
checked against the solvers.

``derive(problem, ansatz)`` returns a :class:`Derivation` (steps, expressions as sympy,
LaTeX, compiled numerics, ``check(T=..., h=...)``). Supported: ``MixedPSpin`` (Ising and
spherical) under ``RS()``, ``RSB(k)`` (k ≤ 2 step by step; larger k, Ising: the k-step
recursion as a formula) and ``FullRSB()`` (the formula).
"""

from __future__ import annotations

from typing import Any

from .derivation import Derivation, DerivationCheck, Step, UnsupportedDerivationError

__all__ = ["Derivation", "DerivationCheck", "Step", "UnsupportedDerivationError", "derive"]


def derive(problem: Any, ansatz: Any) -> Derivation:
    """The replica derivation of ``problem`` under ``ansatz`` (see
    :func:`replicasolve.derive.pspin.derive_pspin`).

    Raises:
        UnsupportedDerivationError: the problem or ansatz is not derived (the message and
            ``.step`` say at which step it stopped).
    """
    from ..models.pspin import MixedPSpin

    if isinstance(problem, MixedPSpin):
        from .pspin import derive_pspin

        return derive_pspin(problem, ansatz)
    raise UnsupportedDerivationError(
        "problem", f"{type(problem).__name__} is not derived yet (MixedPSpin is)")
