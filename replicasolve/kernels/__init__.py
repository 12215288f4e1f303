"""Gaussian dual activation kernels E[φ(u)φ(v)] and their composition over depth.

**Which function to call.** For ξ(q) = K_{L+1}(q), the covariance of a random MLP's
output over its input overlap q, call :func:`replicasolve.kernels.compose.xi_function`::

    xi_function(act, depth, sigma_w2=1.0, sigma_b2=0.0, *, tier="auto", degree=96,
                order=200, progress=None, shape=None)

Whatever the route, it returns one family, :class:`replicasolve.kernels.xi.XiResult`
(a :class:`replicasolve.results.Result`): ``xi(q)``, ``xi.derivatives(q)`` → (ξ, ξ', ξ'',
ξ'''), ``xi.errors_at(q)``, ``converged``, ``tier``, ``to_dict()``, ``table()``; each can be
handed to ``MixedPSpin(xi, spins=...)``.

**Tiers**, one vocabulary for the single-layer kernel (:data:`replicasolve.kernels.dual.TIERS`:
``"auto"``, ``"closed"``, ``"hermite"``, ``"quadrature"``, ``"monte-carlo"``) and for ξ
(:data:`replicasolve.kernels.compose.XI_TIERS`: ``"auto"``, ``"closed"``, ``"quadrature"``,
``"ode"``), from exact to approximate; each is tested against the next one down:

- ``"closed"``: the closed form derived by sympy — of one layer's kernel
  (:func:`~replicasolve.kernels.dual.dual_kernel`), or of ξ composed symbolically through the
  depth (:class:`~replicasolve.kernels.closed_xi.ClosedXi`); checked against the tables
  (``tests/test_closed_xi.py``) and against quadrature (``tests/test_tier_agreement.py``,
  ``tests/test_xi_family.py``);
- ``"auto"`` (ξ): :class:`~replicasolve.kernels.compose.XiFunction`, each layer map tabulated
  from its closed form where one exists, else from quadrature (per layer in ``.tiers``);
- ``"quadrature"``: Gauss–Hermite (:mod:`replicasolve.kernels.numeric`); for ξ, the tables
  built from quadrature alone, checked against the pointwise quadrature recursion
  :func:`~replicasolve.kernels.numeric.compose_depth` (``tests/test_compose.py``,
  ``tests/test_kernel_error_bounds.py``) and that against sampled networks
  (``tests/test_random_mlp.py``);
- ``"hermite"`` (one layer, equal variances: the Mehler series) and ``"monte-carlo"`` (one
  layer, sampling: the bottom check of the quadrature);
- ``"ode"`` (ξ): the shaped deep limit L → ∞ (``xi_function(act, math.inf, shape=...)``,
  :mod:`replicasolve.kernels.shaped`), a different network — the activation shaped with the
  depth — checked against the discrete recursion at growing depth (``tests/test_shaped.py``).

Submodules (import them explicitly; this package imports nothing heavy):

- :mod:`replicasolve.kernels.compose` – the entry point :func:`xi_function` and the tabulated
  :class:`XiFunction`;
- :mod:`replicasolve.kernels.xi` – the family's base :class:`XiResult`;
- :mod:`replicasolve.kernels.closed_xi` – :func:`closed_xi`, ξ as one sympy expression;
- :mod:`replicasolve.kernels.shaped` – the shaped deep limit (ODEs in t = l/L);
- :mod:`replicasolve.kernels.dual` – one layer's dual kernel, every tier;
- :mod:`replicasolve.kernels.numeric` – Gauss–Hermite quadrature and Monte Carlo tiers for any
  vectorised activation, Price's-theorem derivatives and the pointwise depth composition
  :func:`compose_depth` / :func:`compose_depth_derivatives` (arrays, the tables' reference);
- :mod:`replicasolve.kernels.activation` – activations from names or formulas.
"""
