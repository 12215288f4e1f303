"""The replica free energy of a mixed p-spin model, derived step by step by sympy.

Model: a centred Gaussian Hamiltonian with E H(σ) H(σ') = N ξ(σ·σ'/N), a field term
-h Σ_i σ_i, Gibbs weight exp(-βH); Ising spins σ ∈ {±1}^N (counting measure) or spherical
spins |σ|² = N (uniform probability measure). The steps, each computed from the one before
and each checking itself (a failed check raises :class:`DerivationCheckError`):

1. :func:`disorder_average` — E exp(-β Σ_a H(σ^a)) = exp(β² N/2 Σ_{a,b} ξ(q_ab)), the
   Gaussian integral done by sympy (Sherrington & Kirkpatrick, PRL 35, 1792 (1975)).
2. :func:`hierarchy` — the k-step Parisi ansatz on n × n replica matrices (blocks of sizes
   n = m_0 > m_1 > ... > m_k > m_{k+1} = 1): pair counts per level and the eigenvalues of a
   hierarchical matrix, checked on explicit matrices (Mézard, Parisi & Virasoro, *Spin
   Glass Theory and Beyond*, 1987, ch. III).
3. :func:`ising_action` — Lagrange multipliers λ_i fixing q_i, the quadratic form
   Σ_{a≠b} λ_ab σ_a σ_b written level by level as squares of block sums, one
   Hubbard–Stratonovich Gaussian z_i per level, the single-site trace 2 cosh, and the limit
   n → 0 taken as d/dn at n = 0 of ln E_z[...^n] by differentiating under unevaluated
   sympy Integrals. :func:`spherical_action` — the same with a matrix of multipliers Λ and
   the Gaussian integral over spins: -1/2 ln det Λ + β²h²/2 1ᵀΛ⁻¹1 (Crisanti & Sommers,
   Z. Phys. B 87, 341 (1992)).
4. :func:`saddle` — stationarity: ∂/∂q_i gives λ_i = β² ξ'(q_i) (solved by sympy); the
   remaining equations in q_i (Gaussian integration by parts applied) and in m_i; for
   spherical spins Λ is eliminated exactly, leaving the Crisanti–Sommers functional.
5. :func:`rs_replicon` — the Hessian of the replica-symmetric action in the replicon sector
   (rows of δq_ab summing to zero, de Almeida & Thouless, J. Phys. A 11, 983 (1978)):
   1 - β² ξ''(q) E_z sech⁴(h_eff) (Ising), 1 - β² ξ''(q)(1 - q)² (spherical);
   :func:`rs_hessian` — all three sectors (longitudinal, anomalous, replicon) from the
   finite-n eigenvalues of a permutation-invariant pair matrix, at n → 0.
6. :func:`parisi_formula` — the full-RSB functional as a formula (Parisi PDE for Ising
   spins, Crisanti–Sommers for spherical ones).

Gaussian averages E_z[g] are sympy ``Integral(φ(z) g, (z, -oo, oo))`` objects with
φ(z) = exp(-z²/2)/√(2π) (see :func:`gaussian_average`); the numerics evaluate them by
Gauss–Hermite quadrature. ξ is the undefined function ``xi``; :func:`specialize`
substitutes a concrete ξ(q). Symbols are created by name with fixed assumptions, so equal
names give equal symbols across calls. Results are cached. Imports sympy only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from replicasolve.errors import InvalidInputError, ReplicaSolveError

__all__ = [
    "MAX_K",
    "Action",
    "DerivationCheckError",
    "GroundState",
    "Hierarchy",
    "KStepRecursion",
    "ParisiFormula",
    "RSHessian",
    "Saddle",
    "action",
    "average_parts",
    "beta_symbol",
    "disorder_average",
    "expectation_integrands",
    "field_symbol",
    "gaussian_average",
    "gaussian_density",
    "ground_state",
    "hierarchy",
    "ising_action",
    "ising_recursion",
    "ising_recursion_instance",
    "linear_averages",
    "pair_sector_eigenvalues",
    "parisi_formula",
    "rs_hessian",
    "rs_replicon",
    "saddle",
    "simplify_averages",
    "specialize",
    "spherical_action",
    "stein",
    "xi_function",
]

#: Largest number of RSB steps derived step by step (the nesting depth of the Ising
#: averages grows with k; k ≤ 2 keeps every derivation to seconds). Larger k: the k-step
#: recursion :func:`ising_recursion` as a formula.
MAX_K = 2

_SPINS = ("ising", "spherical")


class DerivationCheckError(ReplicaSolveError, RuntimeError):
    """A symbolic derivation step failed its own consistency check (a bug, not bad input)."""


def _require(condition: bool, message: str) -> None:
    # not `assert`: the checks are part of the derivation and must survive `python -O`
    if not condition:
        raise DerivationCheckError(message)


# ----------------------------------------------------------------------------------------
# Symbols and Gaussian averages
# ----------------------------------------------------------------------------------------

_BETA = sp.Symbol("beta", positive=True)
_H = sp.Symbol("h", real=True)
_N = sp.Symbol("n", real=True)
_XI = sp.Function("xi")
_Q = sp.Symbol("q", real=True)


def beta_symbol() -> sp.Symbol:
    """The inverse temperature β (positive)."""
    return _BETA


def field_symbol() -> sp.Symbol:
    """The external field h (real)."""
    return _H


def xi_function() -> sp.FunctionClass:
    """The undefined covariance function ``xi`` (ξ(q)); :func:`specialize` replaces it."""
    return _XI


def _q(i: int) -> sp.Symbol:
    return sp.Symbol(f"q_{i}", real=True)


def _m(i: int) -> sp.Symbol:
    return sp.Symbol(f"m_{i}", positive=True)


def _lam(i: int) -> sp.Symbol:
    return sp.Symbol(f"lambda_{i}", real=True)


def _z(i: int) -> sp.Symbol:
    return sp.Symbol(f"z_{i}", real=True)


def gaussian_density(z: sp.Symbol) -> sp.Expr:
    """φ(z) = exp(-z²/2)/√(2π), the standard normal density."""
    return sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)


def gaussian_average(g: sp.Expr, z: sp.Symbol) -> sp.Integral:
    """E_z[g] for z ~ N(0, 1), as the unevaluated ``Integral(φ(z) g, (z, -oo, oo))``."""
    return sp.Integral(gaussian_density(z) * g, (z, -sp.oo, sp.oo))


def _is_average(e: sp.Basic) -> bool:
    if not isinstance(e, sp.Integral) or len(e.limits) != 1:
        return False
    lim = e.limits[0]
    return len(lim) == 3 and lim[1] == -sp.oo and lim[2] == sp.oo


def average_parts(integral: sp.Integral) -> tuple[sp.Symbol, sp.Expr]:
    """(z, g) of an average E_z[g] built by :func:`gaussian_average`."""
    z = integral.limits[0][0]
    g = integral.function / gaussian_density(z)
    if g.has(sp.exp(-z**2 / 2)) or g.has(sp.exp(z**2 / 2)):  # φ spread over a sum
        g = sp.powsimp(sp.expand(g, deep=False))
    return z, g


def simplify_averages(expr: sp.Expr) -> sp.Expr:
    """Evaluate the averages whose integrand does not depend on their variable: E_z[c] = c
    (a normalised density)."""

    def one(e: sp.Integral) -> sp.Expr:
        z, g = average_parts(e)
        return g if not g.has(z) else e

    return expr.replace(_is_average, one)


def expectation_integrands(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every average E_z[g] replaced by g (innermost first).

    Two expressions built of averages over the same variables are equal if this map makes
    their difference simplify to 0 (E is linear): the sufficient test the derivation uses
    to compare with a textbook formula.
    """
    return expr.replace(_is_average, lambda e: average_parts(e)[1])


def linear_averages(expr: sp.Expr) -> sp.Expr:
    """Linearity of every average: E_z[Σ_j c_j g_j(z)] = Σ_j c_j E_z[g_j] with the c_j
    free of z (innermost averages first), so that factors of an outer variable leave an
    inner average."""

    def one(e: sp.Integral) -> sp.Expr:
        z, g = average_parts(e)
        terms = sp.Add.make_args(sp.expand(g, deep=False, power_base=False, power_exp=False,
                                           log=False, multinomial=False))
        out = sp.Integer(0)
        for term in terms:
            c, rest = term.as_independent(z, as_Add=False)
            out += c * (gaussian_average(rest, z) if rest.has(z) else rest)
        return out

    return expr.replace(_is_average, one)


def stein(expr: sp.Expr) -> sp.Expr:
    """Gaussian integration by parts in every average: E_z[z A(z)] = E_z[A'(z)] (Stein's
    lemma; φ'(z) = -z φ(z)). Removes the 1/√λ that d/dλ of E f(√λ z) produces."""

    def one(e: sp.Integral) -> sp.Expr:
        z, g = average_parts(e)
        g = sp.expand(g, deep=False, power_base=False, power_exp=False, log=False,
                      multinomial=False)
        a = g.coeff(z, 1)
        if a == 0:
            return linear_averages(e)
        rest = sp.expand(g - z * a, deep=False)
        new = sp.diff(a, z) + rest
        # factors free of z leave the average again, to meet (and cancel) the 1/√λ outside
        return linear_averages(gaussian_average(new, z))

    return expr.replace(_is_average, one)


# ----------------------------------------------------------------------------------------
# Step 1: the disorder average
# ----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def disorder_average() -> sp.Expr:
    """E_X exp(-β X) for a centred Gaussian X of variance s², by integration: exp(β² s²/2).

    With X = Σ_a H(σ^a), s² = Σ_{a,b} E H(σ^a) H(σ^b) = N Σ_{a,b} ξ(q_ab): the replicated
    weight exp(β² N/2 Σ_{a,b} ξ(q_ab)). Returns the exponent β² s²/2 in the symbol ``s``.
    """
    x = sp.Symbol("X", real=True)
    s = sp.Symbol("s", positive=True)
    density = sp.exp(-x**2 / (2 * s**2)) / sp.sqrt(2 * sp.pi * s**2)
    average = sp.integrate(density * sp.exp(-_BETA * x), (x, -sp.oo, sp.oo))
    exponent = sp.simplify(sp.log(average))
    _require(sp.simplify(exponent - _BETA**2 * s**2 / 2) == 0,
             f"disorder average: ln E exp(-βX) = {exponent}, expected β²s²/2")
    return exponent


# ----------------------------------------------------------------------------------------
# Step 2: the hierarchical (Parisi) ansatz
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hierarchy:
    """The k-step ansatz on n × n replica matrices with block sizes m_0 = n > m_1 > ... >
    m_k > m_{k+1} = 1.

    Attributes:
        k: RSB steps.
        q: overlaps q_0..q_k (level i: replicas in a common block of size m_i, not m_{i+1}).
        m: block sizes m_1..m_k (the Parisi x_i of the solvers; x(q) = m_{i+1} on
            [q_i, q_{i+1})).
        sizes: (n, m_1, ..., m_k, 1).
        pair_counts: ordered pairs a ≠ b at level i, n (m_i - m_{i+1}).
    """

    k: int
    q: tuple[sp.Symbol, ...]
    m: tuple[sp.Symbol, ...]
    sizes: tuple[sp.Expr, ...]
    pair_counts: tuple[sp.Expr, ...]

    def eigenvalues(self, diag: sp.Expr, levels: tuple[sp.Expr, ...]
                    ) -> list[tuple[sp.Expr, sp.Expr]]:
        """(eigenvalue, multiplicity) of the hierarchical matrix with ``diag`` on the
        diagonal and ``levels[i]`` at level i: μ_{k+1} = diag - p_k, μ_j = μ_{j+1} +
        m_j (p_j - p_{j-1}) (p_{-1} = 0, m_0 = n), multiplicity n/m_j - n/m_{j-1}
        (n/m_{k+1} - n/m_k for μ_{k+1}; 1 for μ_0)."""
        s = self.sizes
        mu = [sp.Integer(0)] * (self.k + 2)
        mu[self.k + 1] = diag - levels[self.k]
        for j in range(self.k, -1, -1):
            below = levels[j - 1] if j >= 1 else 0
            mu[j] = mu[j + 1] + s[j] * (levels[j] - below)
        out = [(mu[0], sp.Integer(1))]
        for j in range(1, self.k + 2):
            out.append((mu[j], _N / s[j] - _N / s[j - 1]))
        return out


def _block_matrix(sizes: list[int], diag, levels) -> sp.Matrix:
    n = sizes[0]

    def entry(a: int, b: int):
        if a == b:
            return diag
        level = 0
        for i in range(1, len(sizes) - 1):
            if a // sizes[i] == b // sizes[i]:
                level = i
        return levels[level]

    return sp.Matrix(n, n, entry)


@lru_cache(maxsize=8)
def hierarchy(k: int) -> Hierarchy:
    """The k-step ansatz (step 2), checked on an explicit matrix with n = 2^{k+1}, block
    sizes 2^{k}, ..., 2: pair counts and the eigenvalues' determinant and trace."""
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= MAX_K:
        raise InvalidInputError(f"derivation step 'ansatz': k must be in 0..{MAX_K}, got {k!r}")
    q = tuple(_q(i) for i in range(k + 1))
    m = tuple(_m(i) for i in range(1, k + 1))
    sizes = (_N, *m, sp.Integer(1))
    counts = tuple(_N * (sizes[i] - sizes[i + 1]) for i in range(k + 1))
    h = Hierarchy(k=k, q=q, m=m, sizes=sizes, pair_counts=counts)
    # the check, on explicit numbers
    concrete = [2 ** (k + 1 - i) for i in range(k + 1)] + [1]
    sub = {_N: concrete[0], **{m[i]: concrete[i + 1] for i in range(k)}}
    # distinct integers for the diagonal and the levels: exact, and fast at n = 2^{k+1}
    d = sp.Integer(101)
    p = [sp.Integer(v) for v in (2, 3, 5, 7, 11)[:k + 1]]
    mat = _block_matrix(concrete, d, p)
    for i in range(k + 1):
        count = sum(1 for a in range(concrete[0]) for b in range(concrete[0])
                    if a != b and mat[a, b] == p[i])
        _require(counts[i].subs(sub) == count, f"ansatz: pair count of level {i}")
    eig = h.eigenvalues(d, tuple(p))
    det = sp.prod([mu.subs(sub) ** mult.subs(sub) for mu, mult in eig])
    _require(det == mat.det(method="bareiss"), "ansatz: eigenvalues (det)")
    tr = sum(mu.subs(sub) * mult.subs(sub) for mu, mult in eig)
    _require(sp.expand(tr - mat.trace()) == 0, "ansatz: eigenvalues (trace)")
    return h


# ----------------------------------------------------------------------------------------
# Step 3: the replica action and its n -> 0 limit
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """The replica action of one ansatz.

    Attributes:
        spins: ``"ising"`` or ``"spherical"``.
        k: RSB steps.
        replicated: G(n) = lim ln E Z^n / N at the saddle's ansatz, a function of n (and of
            the order parameters and multipliers); G(0) = 0.
        functional: Φ = d G/d n at n = 0 = -βf as a function of the order parameters q_i,
            m_i and the multipliers (``multipliers``), before any is eliminated.
        multipliers: the Lagrange multipliers: λ_0..λ_k (Ising; Λ_ab = λ_i at level i) or
            (Λ_d, Λ_0..Λ_k) (spherical: Λ_d on the diagonal, fixing |σ|² = N).
        hierarchy: the ansatz (step 2).
    """

    spins: str
    k: int
    replicated: sp.Expr
    functional: sp.Expr
    multipliers: tuple[sp.Symbol, ...]
    hierarchy: Hierarchy


def _xi_part(h: Hierarchy) -> sp.Expr:
    # β²/2 Σ_{a,b} ξ(q_ab): n diagonal terms ξ(1), and the pairs level by level
    s2 = _N * _XI(1) + sum(c * _XI(q) for c, q in zip(h.pair_counts, h.q, strict=True))
    return disorder_average().subs(sp.Symbol("s", positive=True), sp.sqrt(s2))


def _n_limit(g: sp.Expr, what: str) -> sp.Expr:
    g0 = simplify_averages(g.subs(_N, 0))
    _require(sp.simplify(g0) == 0, f"{what}: G(n=0) = {g0} is not 0")
    phi = simplify_averages(sp.diff(g, _N).subs(_N, 0))
    return sp.expand(phi, deep=False)


def _ising_decomposition_check(k: int) -> None:
    """½ Σ_{a≠b} λ_ab σ_a σ_b = ½ Σ_i (λ_i - λ_{i-1}) Σ_blocks S_B² - ½ λ_k n, for every
    configuration of n = 2^{k+1} Ising spins."""
    concrete = [2 ** (k + 1 - i) for i in range(k + 1)] + [1]
    n = concrete[0]
    # both sides are linear in the λ_i: checking with λ_i = e_i (unit vectors) is exact
    for unit in range(k + 1):
        lam = [1 if i == unit else 0 for i in range(k + 1)]
        mat = _block_matrix(concrete, 0, lam)
        for spins in itertools.product((1, -1), repeat=n):
            lhs2 = sum(int(mat[a, b]) * spins[a] * spins[b]
                       for a in range(n) for b in range(n))
            rhs2 = -lam[k] * n
            for i in range(k + 1):
                size = concrete[i]
                diff = lam[i] - (lam[i - 1] if i else 0)
                rhs2 += diff * sum(sum(spins[b:b + size]) ** 2 for b in range(0, n, size))
            _require(lhs2 == rhs2, "Ising action: block decomposition of Σλσσ")


@lru_cache(maxsize=8)
def ising_action(k: int) -> Action:
    """Ising spins (step 3): G(n) = β²/2 Σ_ab ξ(q_ab) - ½ Σ_{a≠b} λ_ab q_ab - ½ λ_k n
    + ln W_0, with nested Hubbard–Stratonovich averages
    W_k = E_{z_k}[(2 cosh y)^{m_k}], W_i = E_{z_i}[W_{i+1}^{m_i/m_{i+1}}], W_0 =
    E_{z_0}[W_1^{n/m_1}], y = βh + Σ_i √(λ_i - λ_{i-1}) z_i; Φ = dG/dn at n = 0."""
    h = hierarchy(k)
    if k <= 2:
        _ising_decomposition_check(k)
    lam = tuple(_lam(i) for i in range(k + 1))
    y = _BETA * _H + sum(sp.sqrt(lam[i] - (lam[i - 1] if i else 0)) * _z(i)
                         for i in range(k + 1))
    s = h.sizes
    inner = (2 * sp.cosh(y)) ** s[k]
    w = gaussian_average(inner, _z(k))
    for i in range(k - 1, -1, -1):
        w = gaussian_average(w ** (s[i] / s[i + 1]), _z(i))
    lagrange = -sp.Rational(1, 2) * sum(c * l * q for c, l, q in
                                         zip(h.pair_counts, lam, h.q, strict=True))
    g = _xi_part(h) + lagrange - lam[k] * _N / 2 + sp.log(w)
    phi = _n_limit(g, "Ising action")
    return Action(spins="ising", k=k, replicated=g, functional=phi, multipliers=lam,
                  hierarchy=h)


@lru_cache(maxsize=8)
def spherical_action(k: int) -> Action:
    """Spherical spins (step 3): G(n) = β²/2 Σ_ab ξ(q_ab) + ½ Tr ΛQ + ln ∫dσ
    exp(-½σᵀΛσ + βh 1ᵀσ) - n(½ + ½ ln 2π) (the last term normalises the uniform measure
    on the sphere); the Gaussian integral is (2π)^{n/2} det(Λ)^{-1/2} exp(β²h²/2 1ᵀΛ⁻¹1),
    det and 1ᵀΛ⁻¹1 = n/μ_0 from the hierarchical eigenvalues; Φ = dG/dn at n = 0."""
    h = hierarchy(k)
    lam_d = sp.Symbol("Lambda_d", real=True)
    lam = tuple(sp.Symbol(f"Lambda_{i}", real=True) for i in range(k + 1))
    eig = h.eigenvalues(lam_d, lam)
    tr = _N * lam_d + sum(c * l * q for c, l, q in zip(h.pair_counts, lam, h.q, strict=True))
    logdet = sum(mult * sp.log(mu) for mu, mult in eig)
    mu0 = eig[0][0]
    g = (_xi_part(h) + tr / 2 - logdet / 2 + _BETA**2 * _H**2 * _N / (2 * mu0) - _N / 2)
    phi = _n_limit(g, "spherical action")
    return Action(spins="spherical", k=k, replicated=g, functional=phi,
                  multipliers=(lam_d, *lam), hierarchy=h)


def action(spins: str, k: int) -> Action:
    """:func:`ising_action` or :func:`spherical_action`."""
    if spins == "ising":
        return ising_action(k)
    if spins == "spherical":
        return spherical_action(k)
    raise InvalidInputError(f"derivation step 'action': spins must be one of {_SPINS}, "
                            f"got {spins!r}")


# ----------------------------------------------------------------------------------------
# Step 4: the saddle point
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Saddle:
    """Stationarity of the action (step 4).

    Attributes:
        spins, k: the model's spins and the RSB steps.
        multipliers: {multiplier: its value at the saddle} (λ_i = β² ξ'(q_i) for Ising; Λ
            in terms of q, m, h for spherical spins).
        functional: -βf with the multipliers eliminated, a function of β, h, q_i, m_i.
        equations: {name: expression} whose zeros are the saddle point: ``"q_i"`` (Ising:
            -2 ∂Φ/∂λ_i after Gaussian integration by parts, divided by the pair weight
            d/dn [n (m_i - m_{i+1})] at n = 0, so that it reads q_i - E[...];
            spherical: ∂Φ/∂q_i of the reduced functional) and ``"m_i"`` (∂Φ/∂m_i).
        order_parameters: (q_0..q_k, m_1..m_k).
        lagrange_relations: {λ_i: β² ξ'(q_i)} from ∂Φ/∂q_i = 0 (both spin types; for
            spherical spins λ_i = -Λ_i).
    """

    spins: str
    k: int
    multipliers: dict
    functional: sp.Expr
    equations: dict
    order_parameters: tuple[sp.Symbol, ...]
    lagrange_relations: dict


def _pull_beta(expr: sp.Expr) -> sp.Expr:
    # √(β² ξ'(q_i) - β² ξ'(q_{i-1})) = β √(ξ'(q_i) - ξ'(q_{i-1})): no 0/0 in ∂/∂β where
    # two levels merge (q_i = q_{i-1})
    return expr.replace(lambda e: e.is_Pow and e.exp == sp.S.Half,
                        lambda e: sp.sqrt(sp.factor_terms(e.base)))


@lru_cache(maxsize=16)
def saddle(spins: str, k: int) -> Saddle:
    """The saddle-point equations of :func:`action` (step 4)."""
    act = action(spins, k)
    h = act.hierarchy
    phi = act.functional
    weights = [sp.expand(sp.diff(c, _N).subs(_N, 0)) for c in h.pair_counts]  # -m_1, m_i - m_{i+1}
    equations: dict[str, sp.Expr] = {}
    relations: dict[sp.Symbol, sp.Expr] = {}
    if spins == "ising":
        lam = act.multipliers
        sol = sp.solve([sp.diff(phi, q) for q in h.q], list(lam), dict=True)
        _require(len(sol) == 1, f"Ising saddle: ∂Φ/∂q = 0 has {len(sol)} solutions for λ")
        relations = {lam_i: sp.simplify(sol[0][lam_i]) for lam_i in lam}
        for i, lam_i in enumerate(lam):
            _require(sp.simplify(relations[lam_i] - _BETA**2 * sp.Subs(
                sp.Derivative(_XI(_Q), _Q), _Q, h.q[i]).doit()) == 0,
                f"Ising saddle: λ_{i} = {relations[lam_i]}, expected β² ξ'(q_{i})")
        multipliers = dict(relations)
        reduced = _pull_beta(phi.subs(relations))
        for i, lam_i in enumerate(lam):
            eq = -stein(linear_averages(sp.diff(phi, lam_i))) * 2 / weights[i]
            equations[f"q_{i}"] = _pull_beta(simplify_averages(sp.expand(eq).subs(relations)))
    else:
        lam_d, *lam = act.multipliers
        # solve in the eigenvalues of Λ on 1⊥ (μ_1..μ_{k+1}) and Λ_0: Φ is then linear in
        # Λ_0 and the solution is unique (in Λ itself sympy returns a spurious root)
        u = [sp.Symbol(f"mu_{j}", positive=True) for j in range(1, k + 2)]
        to_u = {lam[0]: lam[0]}
        for j in range(1, k + 1):
            to_u[lam[j]] = to_u[lam[j - 1]] + (u[j - 1] - u[j]) / h.m[j - 1]
        to_u[lam_d] = to_u[lam[k]] + u[k]
        phi_u = phi.subs(to_u)
        unknowns = [lam[0], *u]
        # the system is triangular: ∂/∂Λ_0 fixes μ_1, ∂/∂μ_j (j ≥ 2) fixes μ_j, then
        # ∂/∂μ_1 fixes Λ_0; solved one unknown at a time
        pending = {v: sp.diff(phi_u, v) for v in unknowns}
        solution: dict[sp.Symbol, sp.Expr] = {}
        while pending:
            progress = False
            for v, eq in list(pending.items()):
                eq = eq.subs(solution)
                left = [w for w in unknowns if w not in solution and eq.has(w)]
                if len(left) != 1:
                    continue
                roots = sp.solve(eq, left[0])
                _require(len(roots) == 1,
                         f"spherical saddle: ∂Φ/∂{v} = 0 has {len(roots)} roots in {left[0]}")
                solution[left[0]] = sp.factor(sp.cancel(roots[0]))
                del pending[v]
                progress = True
            _require(progress, "spherical saddle: ∂Φ/∂Λ = 0 is not triangular")
        multipliers = {v: sp.factor(sp.cancel(to_u[v].subs(solution)))
                       for v in act.multipliers}
        # the Lagrange relations from ∂Φ/∂q = 0 (the same form as Ising's, λ = -Λ)
        rel = sp.solve([sp.diff(phi, q) for q in h.q], list(lam), dict=True)
        _require(len(rel) == 1, "spherical saddle: ∂Φ/∂q = 0 does not fix Λ_i")
        relations = {_lam(i): sp.simplify(-rel[0][l_i]) for i, l_i in enumerate(lam)}
        # ln μ_j = -ln D_j with D_j = 1/μ_j > 0 (1 - q_k, 1 - q_k + m_k (q_k - q_{k-1}), ...)
        logs = {sp.log(v): -sp.log(sp.expand(sp.cancel(1 / solution[v]))) for v in u}
        reduced = phi_u.subs(logs).subs(solution)
        for i, q in enumerate(h.q):
            equations[f"q_{i}"] = sp.diff(reduced, q) / weights[i]
    for i, m in enumerate(h.m, start=1):
        equations[f"m_{i}"] = sp.diff(reduced, m)
    return Saddle(spins=spins, k=k, multipliers=multipliers, functional=reduced,
                  equations=equations, order_parameters=(*h.q, *h.m),
                  lagrange_relations=relations)


# ----------------------------------------------------------------------------------------
# Step 5: the replicon eigenvalue of the RS Hessian
# ----------------------------------------------------------------------------------------


def _replica_moment(indices: tuple[int, ...], t: sp.Expr, z: sp.Symbol) -> sp.Expr:
    # ⟨σ_a σ_b ...⟩ under the RS replica measure at n -> 0, after the HS step: σ_a² = 1 and
    # each replica left over contributes one tanh(y) (they decouple at fixed z)
    odd = [a for a in set(indices) if indices.count(a) % 2 == 1]
    return gaussian_average(t ** len(odd), z) if odd else sp.Integer(1)


@lru_cache(maxsize=4)
def rs_replicon(spins: str) -> sp.Expr:
    """The replicon eigenvalue of the RS Hessian (step 5), normalised so that > 0 is stable.

    The second variation of G along δq_ab = δλ_ab ∝ v_ab with Σ_b v_ab = 0 (4 replicas;
    :func:`replicasolve.symbolic.replica.replicon_vector`) is a 2 × 2 form
    [[β² ξ''(q), -1], [-1, r]] in (δq, δλ) per unit |v|², with r the single-site term's
    curvature: Ising, r = Σ v_ab v_cd (⟨σ_aσ_bσ_cσ_d⟩ - ⟨σ_aσ_b⟩⟨σ_cσ_d⟩)/|v|² = E sech⁴(y);
    spherical, r = ½ Tr(Λ⁻¹δΛΛ⁻¹δΛ)/|v|² = (1 - q)² (only Λ⁻¹'s 1/(1-q) eigenvalue
    survives: δΛ 1 = 0). The replicon is -det of the form: 1 - β² ξ''(q) r.
    """
    from replicasolve.symbolic.replica import pairs, replicon_vector

    q = _q(0)
    pr = pairs(4)
    v = replicon_vector(4)
    norm = sum(x * x for x in v)
    if spins == "ising":
        z = _z(0)
        y = _BETA * _H + _BETA * sp.sqrt(sp.Subs(sp.Derivative(_XI(_Q), _Q), _Q, q).doit()) * z
        t = sp.tanh(y)
        r = sp.Integer(0)
        for (a, b), va in zip(pr, v, strict=True):
            for (c, d), vb in zip(pr, v, strict=True):
                if va and vb:
                    conn = (_replica_moment((a, b, c, d), t, z)
                            - _replica_moment((a, b), t, z) * _replica_moment((c, d), t, z))
                    r += va * vb * conn
        r = stein(sp.expand(r / norm))
        r = gaussian_average(sp.simplify(expectation_integrands(r)), z)
        _require(sp.simplify(expectation_integrands(r) - sp.sech(y) ** 4) == 0,
                 f"Ising replicon: curvature {r} is not E sech^4")
    elif spins == "spherical":
        a, b = sp.symbols("a b", real=True)  # Λ = a I + b J, eigenvalue a on 1⊥
        lam = a * sp.eye(4) + b * sp.ones(4, 4)
        dlam = sp.zeros(4, 4)
        for (i, j), x in zip(pr, v, strict=True):
            dlam[i, j] = dlam[j, i] = x
        inv = lam.inv()
        r = sp.simplify((inv * dlam * inv * dlam).trace() / 2 / norm)
        # the saddle's a: ∂Φ/∂Λ_0 = 0 gives μ_1 = Λ_d - Λ_0 = 1/(1 - q)
        sad = saddle("spherical", 0)
        lam_d, lam_0 = spherical_action(0).multipliers
        mu1 = sp.simplify(sad.multipliers[lam_d] - sad.multipliers[lam_0])
        _require(sp.simplify(mu1 - 1 / (1 - q)) == 0, f"spherical replicon: μ_1 = {mu1}")
        r = sp.simplify(r.subs(a, mu1))
        _require(sp.simplify(r - (1 - q) ** 2) == 0, f"spherical replicon: curvature {r}")
    else:
        raise InvalidInputError(f"derivation step 'replicon': unknown spins {spins!r}")
    xi2 = sp.Subs(sp.Derivative(_XI(_Q), _Q, 2), _Q, q).doit()
    form = sp.Matrix([[_BETA**2 * xi2, -1], [-1, r]])
    return sp.expand(-form.det())


# ----------------------------------------------------------------------------------------
# Step 5a: the whole RS Hessian, its three sectors
# ----------------------------------------------------------------------------------------

_N = sp.Symbol("n")
_SECTORS = ("longitudinal", "anomalous", "replicon")


def pair_sector_eigenvalues(P: sp.Expr, Q: sp.Expr, R: sp.Expr,
                            n: sp.Expr = _N) -> dict[str, sp.Expr]:
    """The eigenvalues of a matrix M on the n(n-1)/2 replica pairs invariant under replica
    permutations, with entries P = M_(ab),(ab), Q = M_(ab),(ac) (one shared replica),
    R = M_(ab),(cd) (none shared): longitudinal (vector v_ab = 1, multiplicity 1),
    anomalous (v_ab = u_a + u_b with Σu = 0; n - 1) and replicon (Σ_b v_ab = 0;
    n(n-3)/2) (de Almeida & Thouless, J. Phys. A 11, 983 (1978)). Checked on the explicit
    matrix and eigenvectors of n = 6 replicas."""
    vals = {"longitudinal": P + 2 * (n - 2) * Q + (n - 2) * (n - 3) / 2 * R,
            "anomalous": P + (n - 4) * Q - (n - 3) * R,
            "replicon": P - 2 * Q + R}
    _check_pair_sectors()
    return vals


@lru_cache(maxsize=1)
def _check_pair_sectors() -> None:
    from replicasolve.symbolic.replica import pairs, replicon_vector

    P, Q, R = sp.symbols("P Q R")
    n = 6
    pr = pairs(n)
    m = sp.Matrix(len(pr), len(pr), lambda i, j: (
        P if pr[i] == pr[j] else Q if set(pr[i]) & set(pr[j]) else R))
    u = [1, -1, 0, 0, 0, 0]
    vecs = {"longitudinal": [1] * len(pr),
            "anomalous": [u[a] + u[b] for a, b in pr],
            "replicon": replicon_vector(n)}
    expect = {"longitudinal": P + 2 * (n - 2) * Q + sp.Rational((n - 2) * (n - 3), 2) * R,
              "anomalous": P + (n - 4) * Q - (n - 3) * R,
              "replicon": P - 2 * Q + R}
    for name, v in vecs.items():
        col = sp.Matrix(v)
        _require(sp.expand(m * col - expect[name] * col) == sp.zeros(len(pr), 1),
                 f"RS Hessian: the {name} vector is not an eigenvector at n = {n}")


@dataclass(frozen=True)
class RSHessian:
    """The RS Hessian of the replicated action and its three sectors (step 5a).

    Attributes:
        spins: ``"ising"`` or ``"spherical"``.
        block: what the entries P, Q, R are: the connected single-site correlator of
            σ_aσ_b (Ising, the (δλ, δλ) block of the Hessian in (δq, δλ)) or the curvature
            of -½ ln det Q in the off-diagonal Q_ab (spherical, Crisanti–Sommers form with
            Q_aa = 1 fixed and the multipliers eliminated).
        entries: {"P", "Q", "R"}: the block's three distinct entries at n → 0 (spherical:
            as functions of n).
        block_sectors: the block's eigenvalue per sector as a function of n.
        curvature: c_X = the λλ-block eigenvalue per sector at n → 0 (spherical: 1/K_X,
            the Legendre dual of the Q-curvature K_X).
        eigenvalues: λ_X = 1 - β² ξ''(q) c_X per sector, normalised so that > 0 is stable
            (the -det of the 2 × 2 form [[β²ξ'', -1], [-1, c_X]] in (δq, δλ)).
    """

    spins: str
    block: str
    entries: dict
    block_sectors: dict
    curvature: dict
    eigenvalues: dict


@lru_cache(maxsize=4)
def rs_hessian(spins: str) -> RSHessian:
    """The three eigenvalues of the RS Hessian (step 5a): longitudinal, anomalous and
    replicon, derived from the finite-n sector formulas of
    :func:`pair_sector_eigenvalues` and the limit n → 0.

    Ising: the second variation of G(n) in (δq_ab, δλ_ab) has the blocks β²ξ''(q) 1, -1
    and C_(ab),(cd) = ⟨σ_aσ_bσ_cσ_d⟩ - ⟨σ_aσ_b⟩⟨σ_cσ_d⟩ (the single-site measure's
    connected correlator; 2 × 2 per sector since both blocks are permutation invariant).
    At n → 0, c_L = c_A = E(1 - t²)(1 - 3t²) and c_R = E(1 - t²)², t = tanh(βh + β√ξ'(q) z)
    (SK: λ_L = 1 - β²(1 - 4q + 3r), de Almeida & Thouless 1978). Spherical: the
    Crisanti–Sommers G(Q) = β²/2 Σ_ab ξ(Q_ab) + ½ ln det Q + β²h²/2 Σ_ab Q_ab, whose
    curvature in Q_ab is β²ξ''(q) - K with K from Q⁻¹ of the RS matrix at symbolic n;
    c_X = 1/K_X. The replicon agrees with :func:`rs_replicon` (checked).
    """
    q = _q(0)
    if spins == "ising":
        z = _z(0)
        y = _BETA * _H + _BETA * sp.sqrt(sp.Subs(sp.Derivative(_XI(_Q), _Q), _Q, q).doit()) * z
        t = sp.tanh(y)

        def conn(a: tuple[int, ...], b: tuple[int, ...]) -> sp.Expr:
            return (_replica_moment(a + b, t, z)
                    - _replica_moment(a, t, z) * _replica_moment(b, t, z))

        entries = {"P": conn((0, 1), (0, 1)), "Q": conn((0, 1), (0, 2)),
                   "R": conn((0, 1), (2, 3))}
        block = pair_sector_eigenvalues(entries["P"], entries["Q"], entries["R"])
        curvature = {}
        for name, val in block.items():
            c0 = sp.expand(val.subs(_N, 0))
            c0 = gaussian_average(sp.factor(expectation_integrands(linear_averages(
                sp.expand(c0)))), z) if c0.has(sp.Integral) else c0
            curvature[name] = c0
        target = {"longitudinal": (1 - t**2) * (1 - 3 * t**2),
                  "anomalous": (1 - t**2) * (1 - 3 * t**2), "replicon": (1 - t**2) ** 2}
        for name, c0 in curvature.items():
            _require(sp.simplify(expectation_integrands(c0) - target[name]) == 0,
                     f"RS Hessian: Ising {name} curvature {c0}")
        # the verified factored integrands read as the textbook forms
        curvature = {name: gaussian_average(target[name], z) for name in curvature}
        block_name = "connected correlator of σ_aσ_b (δλ block)"
    elif spins == "spherical":
        # Q = (1 - q) I + q J has inverse g0 I + g1 J (solved for symbolic n); the
        # curvature of ½ ln det Q along pairs (ab), (cd) is -(G_ac G_bd + G_ad G_bc)
        g0, g1 = sp.symbols("g_0 g_1")
        sol = sp.solve([(1 - q) * g0 - 1, (1 - q) * g1 + q * g0 + _N * q * g1], [g0, g1],
                       dict=True)
        _require(len(sol) == 1, "RS Hessian: no unique inverse of the RS matrix")
        gd = sp.simplify(sol[0][g0] + sol[0][g1])
        go = sp.simplify(sol[0][g1])
        entries = {"P": gd**2 + go**2, "Q": gd * go + go**2, "R": 2 * go**2}
        block = {k_: sp.factor(sp.simplify(v)) for k_, v in
                 pair_sector_eigenvalues(entries["P"], entries["Q"], entries["R"]).items()}
        curvature = {k_: sp.factor(sp.simplify(1 / v.subs(_N, 0))) for k_, v in block.items()}
        _require(sp.simplify(curvature["replicon"] - (1 - q) ** 2) == 0,
                 f"RS Hessian: spherical replicon curvature {curvature['replicon']}")
        _require(sp.simplify(curvature["longitudinal"] - curvature["anomalous"]) == 0,
                 "RS Hessian: spherical longitudinal and anomalous differ at n = 0")
        block_name = "curvature of -½ ln det Q in Q_ab (Crisanti–Sommers form)"
    else:
        raise InvalidInputError(f"derivation step 'Hessian': unknown spins {spins!r}")
    xi2 = sp.Subs(sp.Derivative(_XI(_Q), _Q, 2), _Q, q).doit()
    eig = {name: 1 - _BETA**2 * xi2 * c for name, c in curvature.items()}
    _require(sp.simplify(expectation_integrands(eig["replicon"] - rs_replicon(spins))) == 0,
             "RS Hessian: the replicon differs from the replicon step")
    return RSHessian(spins=spins, block=block_name, entries=entries, block_sectors=block,
                     curvature=curvature, eigenvalues=eig)


# ----------------------------------------------------------------------------------------
# Step 5b: the ground state, T -> 0
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroundState:
    """The T → 0 limit of the saddle (step 5b).

    Attributes:
        spins, k: as in :class:`Saddle`.
        energy: e_0 = lim_{T→0} f as a function of the scaled order parameters (spherical:
            χ = lim β(1 - q_k) and x_i = lim β m_i, with q_0..q_{k-1} and h; Ising RS: no
            free parameter left).
        variables: the scaled order parameters (χ, x_1..x_k, q_0..q_{k-1}); empty for Ising.
        equations: {name: ∂e_0/∂variable}: zero at the ground-state saddle.
        substitution: how the T > 0 order parameters scale (q_k = 1 - χT, m_i = x_i T).
    """

    spins: str
    k: int
    energy: sp.Expr
    variables: tuple[sp.Symbol, ...]
    equations: dict
    substitution: dict


_T = sp.Symbol("T", positive=True)
_CHI = sp.Symbol("chi", positive=True)


@lru_cache(maxsize=8)
def ground_state(spins: str, k: int) -> GroundState:
    """e_0 = lim_{T→0} f (step 5b). Spherical spins, any k: q_k = 1 - χT, m_i = x_i T, ξ
    near 1 replaced by its Taylor polynomial of order 2, the limit by sympy (Crisanti &
    Sommers 1992; e_0 = -√(ξ'(1) + h²) for RS at the stationary χ). Ising spins, RS:
    T ln 2cosh(y/T) → |y| (cosh is even; the limit is taken by sympy for y > 0), the rest
    of T Φ → 0 at q = 1 - χT: e_0 = -E_z|h + √ξ'(1) z|, integrated in closed form
    (SK: -√(2/π) at h = 0); Ising spins, k ≥ 1: see :func:`_ising_ground_state_rsb`
    (SK 1RSB: e_0 = -(1/x) E ln E' e^{x|√q_0 z + √(1-q_0) z'|} + x(1 - q_0²)/4, Parisi
    1979)."""
    sad = saddle(spins, k)
    h = hierarchy(k)
    xs = tuple(sp.Symbol(f"x_{i}", positive=True) for i in range(1, k + 1))
    sub = {_BETA: 1 / _T, h.q[k]: 1 - _CHI * _T, **{m: x * _T for m, x in zip(h.m, xs,
                                                                             strict=True)}}
    near_one = _XI(1 - _CHI * _T)
    taylor = near_one.series(_T, 0, 3).removeO()
    if spins == "spherical":
        e = -(sad.functional * _T).subs(sub).subs(near_one, taylor)
        e0 = sp.limit(sp.expand_log(e, force=True), _T, 0, "+")
        _require(not e0.has(sp.Limit), "ground state: sympy could not take T -> 0")
        e0 = sp.expand_log(sp.simplify(sp.expand_log(e0, force=True)), force=True)
        variables = (_CHI, *xs, *h.q[:k])
    elif spins == "ising" and k == 0:
        w = sp.Symbol("w", positive=True)
        lim = sp.limit(_T * sp.log(2 * sp.cosh(w / _T)), _T, 0, "+")
        _require(lim == w, f"ground state: T ln 2cosh(w/T) -> {lim}, expected w")
        avg = [a for a in sad.functional.atoms(sp.Integral) if _is_average(a)]
        _require(len(avg) == 1, "ground state: expected one average in the RS action")
        (a,) = avg
        z, _ = average_parts(a)
        rest = -(sad.functional - a) * _T
        # every ξ here is evaluated at 1 or at 1 - χT: its Taylor polynomial at 1 serves
        c = sp.symbols("c_0:3", real=True)
        poly = c[0] + c[1] * (_Q - 1) + c[2] * (_Q - 1) ** 2 / 2
        rest = specialize(rest.subs(sub), poly)
        rest0 = sp.limit(sp.expand(rest), _T, 0, "+")
        _require(rest0 == 0, f"ground state: the non-average part tends to {rest0}")
        # E_z|h + a z|, a = √ξ'(1) > 0, integrated by sympy on both sides of z* = -h/a
        a_ = sp.Symbol("a", positive=True)
        phi = gaussian_density(z)
        root = -_H / a_
        mean_abs = (sp.integrate(phi * (_H + a_ * z), (z, root, sp.oo))
                    - sp.integrate(phi * (_H + a_ * z), (z, -sp.oo, root)))
        mean_abs = sp.simplify(mean_abs)
        _require(not mean_abs.has(sp.Integral), "ground state: E|h + a z| not integrated")
        _require(sp.simplify(mean_abs.subs(_H, 0) - a_ * sp.sqrt(2 / sp.pi)) == 0,
                 "ground state: E|a z| is not a √(2/π)")
        e0 = -mean_abs.subs(a_, sp.sqrt(sp.Subs(sp.Derivative(_XI(_Q), _Q), _Q, 1)))
        variables = ()
    elif spins == "ising":
        e0 = _ising_ground_state_rsb(sad.functional, h, xs, sub)
        variables = (*xs, *h.q[:k])
    else:
        raise InvalidInputError(
            f"derivation step 'ground state': not derived for {spins} spins with k = {k}")
    equations = {v.name: sp.diff(e0, v) for v in variables}
    return GroundState(spins=spins, k=k, energy=e0, variables=variables, equations=equations,
                       substitution=sub)


@lru_cache(maxsize=1)
def _mean_exp_abs() -> tuple[sp.Symbol, sp.Symbol, sp.Symbol, sp.Expr]:
    """E_z exp(x|a + b z|) for b > 0, x > 0, as e^{x²b²/2}[e^{xa} Φ(a/b + xb) + e^{-xa}
    Φ(xb - a/b)], Φ(u) = (1 + erf(u/√2))/2: each half-line integral ∫_r^∞ φ(z) e^{cz} dz
    = e^{c²/2} Φ(c - r) (completing the square) is proved by sympy through its derivative
    in r and its vanishing as r → ∞ (seconds faster than sympy's own integration, which
    returns the same thing)."""
    a, b, x = sp.Symbol("a", real=True), sp.Symbol("b", positive=True), sp.Symbol(
        "x", positive=True)
    r, cc = sp.Symbol("r", real=True), sp.Symbol("c", real=True)

    def big_phi(u: sp.Expr) -> sp.Expr:
        return (1 + sp.erf(u / sp.sqrt(2))) / 2

    tail = sp.exp(cc**2 / 2) * big_phi(cc - r)
    _require(sp.simplify(sp.diff(tail, r) + gaussian_density(r) * sp.exp(cc * r)) == 0,
             "ground state: d/dr of the half-line Gaussian integral")
    _require(sp.simplify(tail.subs(r, sp.oo)) == 0, "ground state: the tail does not vanish")
    # ∫_{-a/b}^∞ φ e^{x(a+bz)} + ∫_{-∞}^{-a/b} φ e^{-x(a+bz)}; z -> -z in the second
    upper = sp.exp(x * a) * tail.subs({cc: x * b, r: -a / b})
    lower = sp.exp(-x * a) * tail.subs({cc: x * b, r: a / b})
    return a, b, x, upper + lower


def _ising_ground_state_rsb(functional: sp.Expr, h: Hierarchy, xs: tuple[sp.Symbol, ...],
                            sub: dict) -> sp.Expr:
    """e_0 = -lim_{T→0} T(-βf) of the Ising k-step functional, k ≥ 1 (step 5b): with
    m_i = x_i T and q_k = 1 - χT, (2cosh(w/T))^{x_k T} → exp(x_k |w|) (T ln 2cosh(w/T) →
    |w|, checked by sympy), the powers m_i/m_{i+1} → x_i/x_{i+1}, the prefactor T/m_1 →
    1/x_1; the innermost average E exp(x_k|a + b z|) in closed form; the rest of T(-βf),
    with ξ near 1 replaced by its Taylor polynomial, by sympy's limit (χ drops out)."""
    k = len(xs)
    w = sp.Symbol("w", positive=True)
    lim = sp.limit(_T * sp.log(2 * sp.cosh(w / _T)), _T, 0, "+")
    _require(lim == w, f"ground state: T ln 2cosh(w/T) -> {lim}, expected w")
    avg = [t for t in sp.Add.make_args(functional) if t.has(sp.Integral)]
    _require(len(avg) == 1 and _is_average(avg[0]),
             "ground state: expected one outer average in the k-step action")
    (outer,) = avg
    rest = functional - outer
    # the non-average part: ξ and ξ' at q_k = 1 - χT by their Taylor polynomial at 1
    c = sp.symbols("c_0:3", real=True)
    qk = h.q[k]

    def poly(q: sp.Expr) -> sp.Expr:
        return c[0] + c[1] * (q - 1) + c[2] * (q - 1) ** 2 / 2

    rest = (rest.subs(sp.Derivative(_XI(qk), qk), sp.diff(poly(qk), qk))
            .subs(_XI(qk), poly(qk)).subs(_XI(1), c[0]))
    rest0 = sp.limit(sp.expand(_T * rest.subs(sub)), _T, 0, "+")
    _require(not rest0.has(sp.Limit, _T, _CHI, sp.oo, -sp.oo, sp.zoo),
             f"ground state: the non-average part tends to {rest0}")
    xi1 = sp.Subs(sp.Derivative(_XI(_Q), _Q), _Q, 1).doit()
    rest0 = sp.factor_terms(rest0.subs({c[0]: _XI(1), c[1]: xi1}))
    # the average part: T/m_1 -> 1/x_1 and the innermost power at T -> 0; q_k -> 1
    a_sym, b_sym, x_sym, mean = _mean_exp_abs()
    z_in = _z(k)

    def is_cosh_power(e: sp.Basic) -> bool:
        return (isinstance(e, sp.Pow) and e.base.is_Mul and e.base.has(sp.cosh)
                and e.exp.has(_T))

    def zero_t(e: sp.Pow) -> sp.Expr:
        (ch,) = [f for f in sp.Mul.make_args(e.base) if isinstance(f, sp.cosh)]
        return sp.exp(sp.cancel(e.exp / _T) * sp.Abs(sp.expand(_T * ch.args[0])))

    lifted = outer.subs(sub).replace(is_cosh_power, zero_t)
    _require(not lifted.has(sp.cosh), "ground state: the innermost power was not found")
    lifted = lifted.func(_T * lifted.function, *lifted.limits).subs(_T, 0)
    _require(not lifted.has(_T), "ground state: T left in the average part")

    def is_inner(e: sp.Basic) -> bool:
        return _is_average(e) and e.limits[0][0] == z_in

    def closed(e: sp.Integral) -> sp.Expr:
        z, g = average_parts(e)
        (ex,) = [f for f in sp.Mul.make_args(g) if isinstance(f, sp.exp)]
        arg = ex.args[0]
        (ab,) = arg.atoms(sp.Abs)
        lin = sp.expand(ab.args[0])
        b_val = lin.coeff(z, 1)
        return mean.subs({a_sym: sp.expand(lin - b_val * z), b_sym: b_val,
                          x_sym: sp.cancel(arg / ab)})

    lifted = lifted.replace(is_inner, closed)
    _require(not lifted.has(sp.Abs), "ground state: the innermost average is not closed")
    return -(lifted + rest0)


# ----------------------------------------------------------------------------------------
# Step 6a: the k-step recursion, any k
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KStepRecursion:
    """The Ising k-step free energy for symbolic k (step 6a).

    Attributes:
        free_energy: -βf = ln Z_0(βh) + β²/2 [ξ(1) - ξ'(q_k) + Σ_{l=0}^{k} (m_l - m_{l+1})
            (ξ(q_l) - q_l ξ'(q_l))], m_0 = 0, m_{k+1} = 1.
        equations: the recursion: Z_{k+1}(y) = 2 cosh y;
            Z_l(y) = (E_z Z_{l+1}(y + σ_l z)^{m_l})^{1/m_l} for l = k..1;
            ln Z_0(y) = E_z ln Z_1(y + σ_0 z); σ_l = β √(ξ'(q_l) - ξ'(q_{l-1})),
            ξ'(q_{-1}) = 0.
        k, l: the symbols of the number of steps and of the level.
    """

    free_energy: sp.Expr
    equations: tuple[sp.Eq, ...]
    k: sp.Symbol
    l: sp.Symbol


@lru_cache(maxsize=1)
def ising_recursion() -> KStepRecursion:
    """The k-step recursion (step 6a) read off :func:`ising_action` (one HS Gaussian per
    level; W_l = Z_l^{m_l}); :func:`ising_recursion_instance` builds it for a given k, and
    the tests compare that with the step-by-step derivation for k = 0..:data:`MAX_K`."""
    k = sp.Symbol("k", integer=True, nonnegative=True)
    l = sp.Symbol("l", integer=True, nonnegative=True)
    y, z = sp.symbols("y z", real=True)
    q = sp.IndexedBase("q")
    m = sp.IndexedBase("m")
    zf = sp.Function("Z")
    xi1 = sp.Function("xi'")
    sigma = _BETA * sp.sqrt(xi1(q[l]) - xi1(q[l - 1]))
    eqs = (
        sp.Eq(zf(k + 1, y), 2 * sp.cosh(y)),
        sp.Eq(zf(l, y), gaussian_average(zf(l + 1, y + sigma * z) ** m[l], z) ** (1 / m[l])),
        sp.Eq(sp.log(zf(0, y)), gaussian_average(sp.log(zf(1, y + sigma.subs(l, 0) * z)), z)),
        sp.Eq(xi1(q[-1]), 0),
    )
    f = (sp.log(zf(0, _BETA * _H)) + _BETA**2 / 2 * (
        _XI(1) - xi1(q[k]) + sp.Sum((m[l] - m[l + 1]) * (_XI(q[l]) - q[l] * xi1(q[l])),
                                    (l, 0, k))))
    return KStepRecursion(free_energy=f, equations=eqs, k=k, l=l)


def ising_recursion_instance(k: int) -> sp.Expr:
    """-βf of :func:`ising_recursion` written out for ``k`` steps, in the symbols of
    :func:`hierarchy` (q_i, m_i) and with ξ' as the derivative of ``xi``."""
    h = hierarchy(k) if k <= MAX_K else None
    q = h.q if h else tuple(_q(i) for i in range(k + 1))
    m = (sp.Integer(0), *(h.m if h else tuple(_m(i) for i in range(1, k + 1))), sp.Integer(1))

    def xi1(x: sp.Expr) -> sp.Expr:
        return sp.Subs(sp.Derivative(_XI(_Q), _Q), _Q, x).doit()

    def sig(i: int) -> sp.Expr:
        below = xi1(q[i - 1]) if i else 0
        return _BETA * sp.sqrt(xi1(q[i]) - below)

    y = _BETA * _H + sum(sig(i) * _z(i) for i in range(k + 1))
    inner = 2 * sp.cosh(y)  # Z_{k+1}
    for i in range(k, 0, -1):
        inner = gaussian_average(inner ** m[i], _z(i)) ** (1 / m[i])
    ln_z0 = gaussian_average(sp.log(inner), _z(0))
    penalty = _XI(1) - xi1(q[k]) + sum((m[i] - m[i + 1]) * (_XI(q[i]) - q[i] * xi1(q[i]))
                                       for i in range(k + 1))
    return ln_z0 + _BETA**2 / 2 * penalty


# ----------------------------------------------------------------------------------------
# Step 6: full RSB as a formula
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParisiFormula:
    """The full-RSB functional as typeset formulas (not solved symbolically).

    Attributes:
        spins: ``"ising"`` or ``"spherical"``.
        free_energy: -βf as a functional of x(q).
        equations: the PDE and its boundary condition (Ising), or the definition of D(q)
            (spherical), as sympy ``Eq`` objects.
    """

    spins: str
    free_energy: sp.Expr
    equations: tuple[sp.Eq, ...]


@lru_cache(maxsize=4)
def parisi_formula(spins: str) -> ParisiFormula:
    """Full RSB (step 6). Ising (Parisi 1980; Talagrand, Ann. Math. 163, 221 (2006)):
    -βf = ln 2 + Φ(0, βh) - β²/2 ∫_0^1 x(t) t ξ''(t) dt with
    ∂_t Φ + β²/2 ξ''(t)[∂²_y Φ + x(t)(∂_y Φ)²] = 0, Φ(1, y) = ln cosh y; the k-step
    :func:`ising_action` is this with a step x(t) (Cole–Hopf per level). Spherical
    (Crisanti & Sommers 1992): -βf = ½[β² ∫_0^1 x ξ' dq + β² h² D(0) + ∫_0^{q_M} dq/D(q)
    + ln(1 - q_M)], D(q) = ∫_q^1 x(s) ds."""
    t, y, s = sp.symbols("t y s", real=True)
    x = sp.Function("x")
    if spins == "ising":
        big_phi = sp.Function("Phi")
        xi2 = sp.Subs(sp.Derivative(_XI(t), t, 2), t, t).doit()
        pde = sp.Eq(sp.Derivative(big_phi(t, y), t) + _BETA**2 / 2 * xi2 * (
            sp.Derivative(big_phi(t, y), y, 2) + x(t) * sp.Derivative(big_phi(t, y), y) ** 2),
            0)
        bc = sp.Eq(big_phi(1, y), sp.log(sp.cosh(y)))
        f = (sp.log(2) + big_phi(0, _BETA * _H)
             - _BETA**2 / 2 * sp.Integral(x(t) * t * xi2, (t, 0, 1)))
        return ParisiFormula(spins=spins, free_energy=f, equations=(pde, bc))
    if spins == "spherical":
        qm = sp.Symbol("q_M", real=True)
        d = sp.Function("D")
        xi1 = sp.Derivative(_XI(t), t)
        f = sp.Rational(1, 2) * (_BETA**2 * sp.Integral(x(t) * xi1, (t, 0, 1))
                                 + _BETA**2 * _H**2 * d(0)
                                 + sp.Integral(1 / d(t), (t, 0, qm)) + sp.log(1 - qm))
        return ParisiFormula(spins=spins, free_energy=f,
                             equations=(sp.Eq(d(t), sp.Integral(x(s), (s, t, 1))),))
    raise InvalidInputError(f"derivation step 'full RSB': unknown spins {spins!r}")


# ----------------------------------------------------------------------------------------
# Substituting a concrete ξ
# ----------------------------------------------------------------------------------------


def specialize(expr: sp.Expr, xi: sp.Expr, variable: sp.Symbol | None = None) -> sp.Expr:
    """``expr`` with the function ξ replaced by the expression ``xi`` of ``variable``
    (default the symbol ``q``), derivatives evaluated."""
    var = _Q if variable is None else variable
    lam = sp.Lambda(var, xi)
    out = expr.replace(_XI, lam)
    return out.replace(lambda e: isinstance(e, (sp.Derivative, sp.Subs)),
                       lambda e: e.doit())
