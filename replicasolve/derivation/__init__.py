"""Replica derivations of a stated model: the action, saddle point and Hessian by sympy,
checked against the solvers.

``derive(problem, ansatz)`` returns a :class:`Derivation` (steps, expressions as sympy,
LaTeX, compiled numerics, ``check(...)``). Supported:

- ``MixedPSpin`` (Ising and spherical) under ``RS()``, ``RSB(k)`` (k ≤ 2 step by step;
  larger k, Ising: the k-step recursion as a formula) and ``FullRSB()`` (the formula):
  :func:`replicasolve.derivation.pspin.derive_pspin`;
- ``MSK`` (the paramagnet's action, Hessian and T_c) under ``RS()``:
  :func:`replicasolve.derivation.msk.derive_msk`, and the same with symbolic sizes and
  variances, :func:`replicasolve.derivation.msk.derive_msk_symbolic`;
- ``RandomMLPLandscape`` (ξ derived from the kernel recursion where it has a closed form,
  then the spherical p-spin derivation) and ``FiniteWidthLandscape`` (depth 1, RS):
  :func:`replicasolve.derivation.landscape.derive_landscape`.
"""

from __future__ import annotations

from typing import Any

from .derivation import Derivation, DerivationCheck, Step, UnsupportedDerivationError

__all__ = ["Derivation", "DerivationCheck", "Step", "UnsupportedDerivationError", "derive",
           "derive_msk_symbolic"]


def derive(problem: Any, ansatz: Any = None) -> Derivation:
    """The replica derivation of ``problem`` under ``ansatz`` (module docstring; ``None``
    is ``RS()``).

    Raises:
        UnsupportedDerivationError: the problem or ansatz is not derived (the message and
            ``.step`` say at which step it stopped).
    """
    from ..models.landscape import FiniteWidthLandscape, RandomMLPLandscape
    from ..models.msk import MSK
    from ..models.pspin import MixedPSpin

    if isinstance(problem, MixedPSpin):
        from ..solvers.methods import RS
        from .pspin import derive_pspin

        return derive_pspin(problem, RS() if ansatz is None else ansatz)
    if isinstance(problem, MSK):
        from .msk import derive_msk

        return derive_msk(problem, ansatz)
    if isinstance(problem, (RandomMLPLandscape, FiniteWidthLandscape)):
        from .landscape import derive_landscape

        return derive_landscape(problem, ansatz)
    raise UnsupportedDerivationError(
        "problem", f"a {type(problem).__name__} is not derived: derive takes a MixedPSpin, "
        "MSK, RandomMLPLandscape or FiniteWidthLandscape")


def derive_msk_symbolic(n_spin_layers: int, ansatz: Any = None) -> Derivation:
    """The MSK derivation with symbolic sizes and variances (α_l, C_l) for
    ``n_spin_layers`` layers of spins (:func:`replicasolve.derivation.msk.derive_msk_symbolic`);
    ``ansatz`` must be ``None`` or ``RS()``."""
    from ..solvers.methods import RS
    from .msk import derive_msk_symbolic as symbolic

    if ansatz is not None and ansatz != RS() and ansatz != "rs":
        raise UnsupportedDerivationError(
            "ansatz", f"the MSK derivation is the paramagnet's (RS), not {ansatz!r}")
    return symbolic(n_spin_layers)
