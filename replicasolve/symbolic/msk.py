"""Multilayer Sherrington–Kirkpatrick (MSK) model: replica-symmetric action and T_c, by sympy.

Model (Barney, Winer & Galitski, arXiv 2408.06421, section on layered networks as spin
models): Ising spins s ∈ {±1} in layers l = 0..L with N_l spins each,

    H(s) = - Σ_{l=1..L} Σ_{i∈l, j∈l-1} W^l_ij s^l_i s^{l-1}_j,    W^l_ij iid N(0, C_l / N_{l-1}),

and α_l = N_l / N for a reference size N (only ratios of the α_l enter T_c).

Every formula below is computed by sympy from the step before it; nothing is typed in as
the answer, and each step checks itself (a failed check raises :class:`DerivationCheckError`):

1. :func:`disorder_average_exponent` — the Gaussian average over one weight, and the replica
   bookkeeping that turns it into β² C_l α_l q_l q_{l-1} per replica pair and per spin
   (Sherrington & Kirkpatrick, PRL 35, 1792 (1975); Mézard, Parisi & Virasoro, *Spin Glass
   Theory and Beyond*, 1987, ch. II).
2. :func:`ising_overlap_entropy` — the entropy of fixing the overlap of two Ising replicas,
   a Legendre transform of ln(4 cosh λ): -q²/2 - q⁴/12 + O(q⁶).
3. :func:`rs_quadratic_action` — the sum of the two, to second order in the layer overlaps:
   -1/2 Σ_l α_l q_l² + β² Σ_l C_l α_l q_l q_{l-1}.
4. :func:`rs_hessian` and :func:`critical_condition_matrix` — the paramagnet is stable while
   diag(α) - β² M is positive definite; symmetrised, β_c^{-2} = λ_max(K) with
   K_{l,l-1} = C_l sqrt(α_l / α_{l-1}).
5. :func:`identical_layer_spectrum`, :func:`critical_temperature_identical`,
   :func:`deep_limit` — identical layers: K = C × (path-graph adjacency), eigenvalues
   2C cos(πk/(L+2)), T_c = sqrt(2C cos(π/(L+2))) → sqrt(2C) as L → ∞; two layers: sqrt(C).
6. :func:`critical_temperature_explicit` — for an explicit L, det(Hessian) = 0 solved as a
   polynomial and compared (exact algebra plus 60-digit arithmetic) with step 5.

Symbols are created by name with fixed assumptions (``q_l`` real, ``alpha_l``, ``C_l``,
``beta``, ``C`` positive), so two calls return symbols that compare equal and can be used to
substitute into each other's results. Results are cached; all returned matrices are
immutable. This module imports sympy only (no numpy, numba or torch).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from replicasolve.errors import InvalidInputError, ReplicaSolveError

__all__ = [
    "DerivationCheckError",
    "DisorderAverage",
    "ExplicitCriticalTemperature",
    "IdenticalLayerSpectrum",
    "IdenticalLayerTc",
    "LayerSymbols",
    "OverlapEntropy",
    "RSQuadraticAction",
    "critical_condition_matrix",
    "critical_temperature_explicit",
    "critical_temperature_identical",
    "deep_limit",
    "disorder_average_exponent",
    "identical_layer_spectrum",
    "ising_overlap_entropy",
    "layer_symbols",
    "rs_hessian",
    "rs_quadratic_action",
]

#: Largest L accepted by :func:`critical_temperature_explicit`; deeper explicit checks
#: cost seconds each and add nothing that the symbolic-L derivation does not cover.
MAX_EXPLICIT_L = 24

#: Largest series order accepted by :func:`ising_overlap_entropy`.
MAX_ENTROPY_ORDER = 40


class DerivationCheckError(ReplicaSolveError, RuntimeError):
    """A symbolic derivation step failed its own consistency check (a bug, not bad input)."""


def _require(condition: bool, message: str) -> None:
    # Not `assert`: the checks are part of the derivation and must survive `python -O`.
    if not condition:
        raise DerivationCheckError(message)


def _is_zero(expr: sp.Expr) -> bool:
    return sp.simplify(expr) == 0


def _check_int(value: object, name: str, lowest: int, highest: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidInputError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < lowest or (highest is not None and value > highest):
        upper = "" if highest is None else f" and <= {highest}"
        raise InvalidInputError(f"{name} must be >= {lowest}{upper}, got {value}")
    return value


# ----------------------------------------------------------------------------------------
# Symbols
# ----------------------------------------------------------------------------------------

_BETA = sp.Symbol("beta", positive=True)
_C = sp.Symbol("C", positive=True)
_ALPHA = sp.Symbol("alpha", positive=True)


@dataclass(frozen=True)
class LayerSymbols:
    """The sympy symbols of an MSK model with ``n_spin_layers`` = L + 1 spin layers.

    Attributes:
        q: overlaps ``q_0 .. q_L`` (real), one per spin layer; length L + 1.
        alpha: layer fractions ``alpha_0 .. alpha_L`` = N_l / N (positive); length L + 1.
        C: weight variances ``C_1 .. C_L`` (positive); length L, so ``C[l - 1]`` is C_l,
            the variance scale of the weights from layer l - 1 into layer l.
        beta: inverse temperature (positive).
    """

    q: tuple[sp.Symbol, ...]
    alpha: tuple[sp.Symbol, ...]
    C: tuple[sp.Symbol, ...]
    beta: sp.Symbol

    @property
    def n_spin_layers(self) -> int:
        """Number of spin layers, L + 1."""
        return len(self.q)


def layer_symbols(n_spin_layers: int) -> LayerSymbols:
    """Return the named symbols q_l, alpha_l, C_l, beta of an MSK model.

    Args:
        n_spin_layers: number of spin layers L + 1 (at least 2, so there is one weight layer).

    Returns:
        A :class:`LayerSymbols`; equal names give equal symbols across calls.

    Raises:
        InvalidInputError: ``n_spin_layers`` is not an integer >= 2.
    """
    n = _check_int(n_spin_layers, "n_spin_layers", 2)
    return LayerSymbols(
        q=tuple(sp.Symbol(f"q_{l}", real=True) for l in range(n)),
        alpha=tuple(sp.Symbol(f"alpha_{l}", positive=True) for l in range(n)),
        C=tuple(sp.Symbol(f"C_{l}", positive=True) for l in range(1, n)),
        beta=_BETA,
    )


# ----------------------------------------------------------------------------------------
# Step 1: disorder average and replica bookkeeping
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisorderAverage:
    """Gaussian average of one replicated weight and the coupling term it produces.

    Attributes:
        average: E_w exp(β w x) for w ~ N(0, σ²), computed by integration:
            exp(β² σ² x² / 2).
        exponent: ln of ``average``, β² σ² x² / 2.
        pair_coefficient: coefficient of q^l_ab q^{l-1}_ab, per replica pair a < b and per
            spin (divided by N), after summing ``exponent`` over all i ∈ l, j ∈ l-1 with
            x = Σ_a s^{l,a}_i s^{l-1,a}_j and σ² = C/N_{l-1}: β² C α (α = N_l/N).
        annealed_per_replica: the q-independent part (diagonal a = b), per replica and per
            spin: β² C α / 2, the annealed energy term.
        w, x, sigma, beta, C, alpha: the symbols used (α and C stand for α_l and C_l).
    """

    average: sp.Expr
    exponent: sp.Expr
    pair_coefficient: sp.Expr
    annealed_per_replica: sp.Expr
    w: sp.Symbol
    x: sp.Symbol
    sigma: sp.Symbol
    beta: sp.Symbol
    C: sp.Symbol
    alpha: sp.Symbol


def _overlap_matrix(
    prefix: str, n_replicas: int
) -> tuple[sp.Matrix, dict[tuple[int, int], sp.Symbol]]:
    """Symmetric replica overlap matrix with Q_aa = 1 (Ising) and symbols off the diagonal."""
    pairs = {
        (a, b): sp.Symbol(f"{prefix}_{a}{b}", real=True)
        for a in range(n_replicas)
        for b in range(a + 1, n_replicas)
    }

    def entry(a: int, b: int) -> sp.Expr:
        if a == b:
            return sp.Integer(1)
        return pairs[(min(a, b), max(a, b))]

    return sp.Matrix(n_replicas, n_replicas, entry), pairs


@lru_cache(maxsize=1)
def disorder_average_exponent() -> DisorderAverage:
    """Average exp(β w x) over a Gaussian weight and turn it into the replica coupling term.

    The replicated partition function contains, for each weight W^l_ij, the factor
    exp(β W^l_ij x_ij) with x_ij = Σ_a s^{l,a}_i s^{l-1,a}_j. Sympy integrates it against the
    N(0, σ²) density, giving exp(β² σ² x² / 2). Summing x_ij² over i ∈ l, j ∈ l-1 gives
    N_l N_{l-1} Σ_ab Q^l_ab Q^{l-1}_ab (checked here on explicit replicated spins), with
    Q_ab = (1/N_l) Σ_i s^a_i s^b_i and Q_aa = 1 for Ising spins. With σ² = C_l/N_{l-1} and
    N_l = α_l N, the off-diagonal pairs (a ≠ b counted twice) give β² C_l α_l q^l_ab q^{l-1}_ab
    per pair a < b and per spin; this is read off by differentiation, with a check that
    different replica pairs do not mix.

    Returns:
        A :class:`DisorderAverage` (scalars only, no shapes).

    References:
        Sherrington & Kirkpatrick, PRL 35, 1792 (1975); Mézard, Parisi & Virasoro (1987),
        ch. II; Barney, Winer & Galitski, arXiv 2408.06421.

    Raises:
        DerivationCheckError: a step of the derivation fails its check.
    """
    w = sp.Symbol("w", real=True)
    x = sp.Symbol("x", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    beta, C, alpha = _BETA, _C, _ALPHA

    density = sp.exp(-(w**2) / (2 * sigma**2)) / sp.sqrt(2 * sp.pi * sigma**2)
    _require(_is_zero(sp.integrate(density, (w, -sp.oo, sp.oo)) - 1), "Gaussian not normalised")
    average = sp.simplify(sp.integrate(sp.exp(beta * w * x) * density, (w, -sp.oo, sp.oo)))
    exponent = sp.expand(sp.expand_log(sp.log(average), force=True))
    # The bookkeeping below needs the exponent to be a pure x² term (Gaussian, mean zero).
    x2_coefficient = exponent.coeff(x, 2)
    _require(_is_zero(exponent - x2_coefficient * x**2), "exponent is not quadratic in x")

    # Bookkeeping identity on explicit replicated spins (3 replicas so that distinct pairs
    # exist, unequal layer sizes so that N_l and N_{l-1} cannot be confused):
    # Σ_ij (Σ_a s_i^a s_j^a)² = Σ_ab (Σ_i s_i^a s_i^b)(Σ_j s_j^a s_j^b).
    n_rep, n_out, n_in = 3, 2, 3
    s_out = sp.Matrix(n_out, n_rep, lambda i, a: sp.Symbol(f"s_{i}^{a}"))
    s_in = sp.Matrix(n_in, n_rep, lambda j, a: sp.Symbol(f"t_{j}^{a}"))
    lhs = sum(
        sum(s_out[i, a] * s_in[j, a] for a in range(n_rep)) ** 2
        for i in range(n_out)
        for j in range(n_in)
    )
    gram_out, gram_in = s_out.T * s_out, s_in.T * s_in  # = N_l Q^l and N_{l-1} Q^{l-1}
    rhs = sum(gram_out[a, b] * gram_in[a, b] for a in range(n_rep) for b in range(n_rep))
    _require(sp.expand(lhs - rhs) == 0, "Σ_ij x_ij² ≠ N_l N_{l-1} Σ_ab Q^l_ab Q^{l-1}_ab")
    ising = {s**2: 1 for s in (*s_out, *s_in)}
    _require(
        all(gram_out[a, a].subs(ising) == n_out for a in range(n_rep)),
        "Ising self-overlap Q_aa is not 1",
    )

    # Same sum in terms of overlap symbols, with the model's variance and layer sizes.
    N, N_in = sp.symbols("N N_in", positive=True)
    Q_out, pairs_out = _overlap_matrix("p", n_rep)
    Q_in, pairs_in = _overlap_matrix("r", n_rep)
    overlap_sum = sum(Q_out[a, b] * Q_in[a, b] for a in range(n_rep) for b in range(n_rep))
    sum_x2 = (alpha * N) * N_in * overlap_sum  # N_l = α N
    per_spin = sp.expand(x2_coefficient.subs(sigma, sp.sqrt(C / N_in)) * sum_x2 / N)
    pair_coefficient = sp.simplify(sp.diff(per_spin, pairs_out[(0, 1)], pairs_in[(0, 1)]))
    _require(
        sp.diff(per_spin, pairs_out[(0, 1)], pairs_in[(0, 2)]) == 0,
        "different replica pairs mix at second order",
    )
    _require(
        all(
            _is_zero(sp.diff(per_spin, pairs_out[p], pairs_in[p]) - pair_coefficient)
            for p in pairs_out
        ),
        "replica pairs do not all carry the same coupling",
    )
    at_zero = per_spin.subs(dict.fromkeys((*pairs_out.values(), *pairs_in.values()), 0))
    annealed_per_replica = sp.simplify(at_zero / n_rep)
    _require(
        pair_coefficient.free_symbols <= {beta, C, alpha},
        "the coupling still depends on the layer sizes, not only on α",
    )
    return DisorderAverage(
        average=average,
        exponent=exponent,
        pair_coefficient=pair_coefficient,
        annealed_per_replica=annealed_per_replica,
        w=w,
        x=x,
        sigma=sigma,
        beta=beta,
        C=C,
        alpha=alpha,
    )


# ----------------------------------------------------------------------------------------
# Step 2: entropy of a fixed overlap between two Ising replicas
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverlapEntropy:
    """Entropy per spin of fixing the overlap q of two Ising replicas (relative to free).

    Attributes:
        exact: inf_λ [φ(λ) - λ q] - φ(0) with φ(λ) = ln Σ_{s1,s2=±1} exp(λ s1 s2); equal to
            -[(1+q)/2 ln(1+q) + (1-q)/2 ln(1-q)] for |q| < 1.
        series: Taylor polynomial of ``exact`` in q up to and including q**order
            (-q²/2 - q⁴/12 for order 4).
        order: the highest power kept.
        cumulant: φ(λ), which sympy writes as ln(2 e^λ + 2 e^{-λ}) = ln(4 cosh λ).
        conjugate: the stationary λ(q) (= atanh q), the real branch of φ'(λ) = q.
        q, lam: the symbols.
    """

    exact: sp.Expr
    series: sp.Expr
    order: int
    cumulant: sp.Expr
    conjugate: sp.Expr
    q: sp.Symbol
    lam: sp.Symbol


@lru_cache(maxsize=1)
def _overlap_entropy_exact() -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Symbol, sp.Symbol]:
    q = sp.Symbol("q", real=True)
    lam = sp.Symbol("lambda", real=True)
    cumulant = sp.log(sum(sp.exp(lam * s1 * s2) for s1 in (1, -1) for s2 in (1, -1)))
    _require(_is_zero(cumulant - sp.log(4 * sp.cosh(lam))), "φ(λ) ≠ ln(4 cosh λ)")
    # φ is convex (φ'' = 1/cosh² λ > 0), so the stationary point is the infimum.
    roots = sp.solve(sp.Eq(sp.diff(cumulant, lam), q), lam)
    # The real branch is the one through λ(0) = 0; the other is shifted by iπ.
    real_branch = [r for r in roots if _is_zero(r.subs(q, 0))]
    _require(len(real_branch) == 1, f"expected one real Legendre branch, got {roots}")
    conjugate = real_branch[0]
    _require(_is_zero(sp.tanh(conjugate).rewrite(sp.exp) - q), "λ(q) is not atanh q")
    exact = sp.simplify(cumulant.subs(lam, conjugate) - conjugate * q - cumulant.subs(lam, 0))
    return exact, cumulant, conjugate, q, lam


def ising_overlap_entropy(order: int = 4) -> OverlapEntropy:
    """Entropy of fixing the overlap q between two Ising replicas, and its series in q.

    The number of spin pairs (s1, s2) ∈ {±1}^N × {±1}^N with Σ_i s1_i s2_i = N q grows like
    exp(N [φ(0) + s(q)]) with s(q) = inf_λ [φ(λ) - λ q] - φ(0) (Cramér / Legendre
    transform), φ(λ) = ln Σ_{s1,s2} exp(λ s1 s2). Sympy computes φ, solves φ'(λ) = q, and
    expands: s(q) = -q²/2 - q⁴/12 + O(q⁶). At second order the n-replica entropy is a sum of
    this over replica pairs (distinct pairs first couple at third order, via Tr Q³).

    Args:
        order: highest power of q kept in ``series`` (2 <= order <= 40).

    Returns:
        An :class:`OverlapEntropy` (scalar expressions in the symbol ``q``).

    Raises:
        InvalidInputError: ``order`` is not an integer in [2, 40].
        DerivationCheckError: a step of the derivation fails its check.

    References:
        Mézard, Parisi & Virasoro (1987), ch. II; Sherrington & Kirkpatrick (1975).
    """
    order = _check_int(order, "order", 2, MAX_ENTROPY_ORDER)
    exact, cumulant, conjugate, q, lam = _overlap_entropy_exact()
    series = sp.expand(sp.series(exact, q, 0, order + 1).removeO())
    # The paramagnet q = 0 must be a stationary point of the entropy: no q⁰ or q¹ term.
    _require(series.coeff(q, 0) == 0 and series.coeff(q, 1) == 0, "entropy not stationary at q=0")
    return OverlapEntropy(
        exact=exact,
        series=series,
        order=order,
        cumulant=cumulant,
        conjugate=conjugate,
        q=q,
        lam=lam,
    )


# ----------------------------------------------------------------------------------------
# Step 3: replica-symmetric action to second order
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RSQuadraticAction:
    """Replica-symmetric MSK action per replica pair and per spin, to second order in q.

    Attributes:
        expr: -1/2 Σ_{l=0..L} α_l q_l² + β² Σ_{l=1..L} C_l α_l q_l q_{l-1}.
        symbols: the :class:`LayerSymbols` it is written in.
    """

    expr: sp.Expr
    symbols: LayerSymbols

    @property
    def q(self) -> tuple[sp.Symbol, ...]:
        """Layer overlaps q_0 .. q_L."""
        return self.symbols.q

    @property
    def alpha(self) -> tuple[sp.Symbol, ...]:
        """Layer fractions alpha_0 .. alpha_L."""
        return self.symbols.alpha

    @property
    def C(self) -> tuple[sp.Symbol, ...]:
        """Weight variances C_1 .. C_L (``C[l - 1]`` is C_l)."""
        return self.symbols.C

    @property
    def beta(self) -> sp.Symbol:
        """Inverse temperature."""
        return self.symbols.beta


@lru_cache(maxsize=64)
def _rs_quadratic_action(n: int) -> RSQuadraticAction:
    sym = layer_symbols(n)
    entropy = ising_overlap_entropy(order=2)
    coupling = disorder_average_exponent()
    # Layer l holds N_l = α_l N spins, each contributing the two-replica entropy s(q_l).
    entropy_terms = sum(
        (sym.alpha[l] * entropy.series.subs(entropy.q, sym.q[l]) for l in range(n)),
        sp.Integer(0),
    )
    coupling_terms = sum(
        (
            coupling.pair_coefficient.subs({coupling.C: sym.C[l - 1], coupling.alpha: sym.alpha[l]})
            * sym.q[l]
            * sym.q[l - 1]
            for l in range(1, n)
        ),
        sp.Integer(0),
    )
    return RSQuadraticAction(expr=sp.expand(entropy_terms + coupling_terms), symbols=sym)


def rs_quadratic_action(n_spin_layers: int) -> RSQuadraticAction:
    """Replica-symmetric action of the MSK model per replica pair and per spin, to O(q²).

    Built from :func:`ising_overlap_entropy` (one entropy term α_l s(q_l) per layer) and
    :func:`disorder_average_exponent` (one coupling β² C_l α_l q_l q_{l-1} per weight layer):

        S(q) = -1/2 Σ_{l=0..L} α_l q_l² + β² Σ_{l=1..L} C_l α_l q_l q_{l-1}.

    Args:
        n_spin_layers: number of spin layers L + 1 (>= 2).

    Returns:
        An :class:`RSQuadraticAction`; ``expr`` is a scalar in the L + 1 symbols ``q``.

    Raises:
        InvalidInputError: ``n_spin_layers`` is not an integer >= 2.

    References:
        Barney, Winer & Galitski, arXiv 2408.06421; Mézard, Parisi & Virasoro (1987).
    """
    return _rs_quadratic_action(_check_int(n_spin_layers, "n_spin_layers", 2))


# ----------------------------------------------------------------------------------------
# Step 4: Hessian and the critical-condition matrix
# ----------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _rs_hessian(n: int) -> sp.ImmutableMatrix:
    action = _rs_quadratic_action(n)
    q = action.q
    hessian = sp.hessian(action.expr, q).subs(dict.fromkeys(q, 0))
    return sp.ImmutableMatrix(hessian)


def rs_hessian(n_spin_layers: int) -> sp.ImmutableMatrix:
    """Hessian of :func:`rs_quadratic_action` with respect to the q_l, at q = 0.

    Args:
        n_spin_layers: number of spin layers L + 1 (>= 2).

    Returns:
        Immutable (L+1) × (L+1) sympy matrix, tridiagonal: diagonal -α_l, off-diagonal
        H_{l,l-1} = H_{l-1,l} = β² C_l α_l. Symbols as in :func:`layer_symbols`.

    Raises:
        InvalidInputError: ``n_spin_layers`` is not an integer >= 2.

    References:
        Barney, Winer & Galitski, arXiv 2408.06421.
    """
    return _rs_hessian(_check_int(n_spin_layers, "n_spin_layers", 2))


@lru_cache(maxsize=64)
def _critical_condition_matrix(n: int) -> sp.ImmutableMatrix:
    sym = layer_symbols(n)
    beta = sym.beta
    stability = -_rs_hessian(n)  # = diag(α) - β² M; the paramagnet is stable while PD
    scale = sp.diag(*(1 / sp.sqrt(a) for a in sym.alpha))
    # D^{-1/2} (diag(α) - β² M) D^{-1/2} = I - β² K keeps positive definiteness (congruence)
    # and makes the condition an ordinary symmetric eigenvalue problem.
    scaled = scale * stability * scale
    K = ((sp.eye(n) - scaled) / beta**2).applyfunc(sp.simplify)
    _require(all(beta not in e.free_symbols for e in K), "K depends on β")
    _require(K.is_symmetric(), "K is not symmetric")
    return sp.ImmutableMatrix(K)


def critical_condition_matrix(n_spin_layers: int) -> sp.ImmutableMatrix:
    """The symmetric matrix K with β_c^{-2} = λ_max(K), derived from :func:`rs_hessian`.

    The paramagnet q = 0 is stable while -Hessian = diag(α) - β² M is positive definite.
    Scaling by D^{-1/2} = diag(α)^{-1/2} on both sides (a congruence, which preserves
    definiteness) gives I - β² K, so stability holds exactly while β² λ_max(K) < 1.

    Args:
        n_spin_layers: number of spin layers L + 1 (>= 2).

    Returns:
        Immutable (L+1) × (L+1) sympy matrix, tridiagonal with zero diagonal and
        K_{l,l-1} = K_{l-1,l} = C_l sqrt(α_l / α_{l-1}). Symbols as in :func:`layer_symbols`.

    Raises:
        InvalidInputError: ``n_spin_layers`` is not an integer >= 2.

    References:
        Barney, Winer & Galitski, arXiv 2408.06421.
    """
    return _critical_condition_matrix(_check_int(n_spin_layers, "n_spin_layers", 2))


# ----------------------------------------------------------------------------------------
# Step 5: identical layers, symbolic depth
# ----------------------------------------------------------------------------------------

_L = sp.Symbol("L", integer=True, positive=True)
_K_INDEX = sp.Symbol("k", integer=True, positive=True)
_LAYER = sp.Symbol("l", integer=True)


@dataclass(frozen=True)
class IdenticalLayerSpectrum:
    """Spectrum of K for identical layers (C_l = C, α_l equal), L + 1 spin layers.

    Attributes:
        eigenvalue: eigenvalue of K, C · 2 cos(π k / (L + 2)), k = 1..L+1.
        adjacency_eigenvalue: eigenvalue of the path-graph adjacency, 2 cos(π k / (L + 2)).
        eigenvector: component l (l = 0..L) of the eigenvector, sin(π k (l + 1) / (L + 2)).
        L, k, l, C: the symbols (L, k positive integers, l integer, C positive).
    """

    eigenvalue: sp.Expr
    adjacency_eigenvalue: sp.Expr
    eigenvector: sp.Expr
    L: sp.Symbol
    k: sp.Symbol
    l: sp.Symbol
    C: sp.Symbol


def _trig_zero(expr: sp.Expr) -> bool:
    # expand_trig splits sin/cos of sums so that the identities cancel term by term.
    return sp.simplify(sp.expand_trig(sp.expand(expr))) == 0 or sp.trigsimp(expr) == 0


@lru_cache(maxsize=1)
def identical_layer_spectrum() -> IdenticalLayerSpectrum:
    """Eigenpairs of K for identical layers, with the number of layers L + 1 symbolic.

    For C_l = C and equal α_l, :func:`critical_condition_matrix` reduces to C times the
    adjacency matrix A of the path graph on L + 1 nodes (checked for 2..6 layers). Sympy
    then verifies, for symbolic L and k, that v_l = sin(π k (l + 1)/(L + 2)) satisfies
    (A v)_l = 2 cos(π k/(L + 2)) v_l in the interior rows and in both boundary rows
    (row 0 has no v_{-1}; row L has no v_{L+1} and needs sin(π k) = 0 for integer k).
    For k = 1..L+1 the vectors are non-zero (v_0 = sin(πk/(L+2)) ≠ 0) and the
    eigenvalues distinct, so these are all L + 1 eigenpairs.

    Returns:
        An :class:`IdenticalLayerSpectrum` (scalar expressions in L, k, l, C).

    Raises:
        DerivationCheckError: the eigen-equation or the reduction K = C·A fails.

    References:
        Barney, Winer & Galitski, arXiv 2408.06421 (the closed form for T_c).
    """
    L, k, l, C = _L, _K_INDEX, _LAYER, _C

    for n in range(2, 7):
        sym = layer_symbols(n)
        identical = {**dict.fromkeys(sym.alpha, _ALPHA), **dict.fromkeys(sym.C, C)}
        path = sp.Matrix(n, n, lambda i, j: 1 if abs(i - j) == 1 else 0)
        K = critical_condition_matrix(n).subs(identical)
        _require((K - C * path).applyfunc(sp.simplify).is_zero_matrix, f"K ≠ C·A for n={n}")

    theta = sp.pi * k / (L + 2)
    mu = 2 * sp.cos(theta)

    def v(j: sp.Expr) -> sp.Expr:
        return sp.sin(theta * (j + 1))

    _require(_trig_zero(v(l - 1) + v(l + 1) - mu * v(l)), "interior row of A v = μ v fails")
    _require(_trig_zero(v(1) - mu * v(0)), "first row of A v = μ v fails")
    _require(_trig_zero(v(L - 1) - mu * v(L)), "last row of A v = μ v fails")
    # Why the last row holds: it is the interior identity with the missing v_{L+1} = 0.
    _require(v(L + 1) == 0, "v_{L+1} = sin(π k) does not vanish")
    return IdenticalLayerSpectrum(
        eigenvalue=C * mu,
        adjacency_eigenvalue=mu,
        eigenvector=v(l),
        L=L,
        k=k,
        l=l,
        C=C,
    )


@dataclass(frozen=True)
class IdenticalLayerTc:
    """Critical temperature of the MSK model with identical layers.

    Attributes:
        T_c: sqrt(2 C cos(π / (L + 2))), L + 1 spin layers.
        beta_c: 1 / T_c as sympy solved it.
        two_layers: ``T_c`` at L = 1 (bipartite SK), sqrt(C).
        L, C: the symbols.
    """

    T_c: sp.Expr
    beta_c: sp.Expr
    two_layers: sp.Expr
    L: sp.Symbol
    C: sp.Symbol


@lru_cache(maxsize=1)
def critical_temperature_identical() -> IdenticalLayerTc:
    """T_c for identical layers by solving the stability condition of the top eigenvalue.

    The scaled stability matrix I - β² K has eigenvalues 1 - β² · 2C cos(πk/(L+2)). The
    cosine decreases on (0, π) and πk/(L+2) ∈ (0, π) for k = 1..L+1, so k = 1 reaches zero
    first; sympy solves 1 - β² · 2C cos(π/(L+2)) = 0 for β > 0.

    Returns:
        An :class:`IdenticalLayerTc`.

    Raises:
        DerivationCheckError: no unique positive β_c, or two layers do not give sqrt(C).

    References:
        Barney, Winer & Galitski, arXiv 2408.06421.
    """
    spectrum = identical_layer_spectrum()
    L, C, beta = spectrum.L, spectrum.C, _BETA
    top = spectrum.eigenvalue.subs(spectrum.k, 1)
    solutions = sp.solve(sp.Eq(1 - beta**2 * top, 0), beta)
    # sympy may not know cos(π/(L+2)) > 0 symbolically; at L = 1 the sign is decidable.
    positive = [s for s in solutions if s.subs(L, 1).is_positive]
    _require(len(positive) == 1, f"expected one positive β_c, got {solutions}")
    beta_c = positive[0]
    # T_c > 0, so T_c = sqrt(T_c²); this puts it in the published form sqrt(2C cos(π/(L+2))).
    T_c = sp.sqrt(sp.simplify(1 / beta_c**2))
    # Squared because sympy cannot tell the sign of cos(π/(L+2)) for symbolic L; both are
    # principal square roots, hence non-negative, so the squares decide.
    _require(_is_zero(T_c**2 * beta_c**2 - 1), "T_c is not 1/β_c")
    two_layers = sp.simplify(T_c.subs(L, 1))
    _require(_is_zero(two_layers - sp.sqrt(C)), f"two layers give {two_layers}, not sqrt(C)")
    return IdenticalLayerTc(T_c=T_c, beta_c=beta_c, two_layers=two_layers, L=L, C=C)


@lru_cache(maxsize=1)
def deep_limit() -> sp.Expr:
    """Limit L → ∞ of the identical-layer T_c, computed by sympy: sqrt(2C).

    Returns:
        Scalar expression in the symbol ``C`` (positive), equal to sqrt(2) sqrt(C).

    References:
        Barney, Winer & Galitski, arXiv 2408.06421.
    """
    tc = critical_temperature_identical()
    return sp.limit(tc.T_c, tc.L, sp.oo)


# ----------------------------------------------------------------------------------------
# Step 6: explicit depth, det(Hessian) = 0
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExplicitCriticalTemperature:
    """T_c for identical layers at an explicit L, from det(Hessian) = 0.

    Attributes:
        L: number of weight layers (L + 1 spin layers).
        T_c: exact sympy number times sqrt(C): sqrt(C / u*), u* = β_c² C the smallest
            positive root of ``polynomial`` (radicals or a ``CRootOf``).
        closed_form: :func:`critical_temperature_identical` at this L.
        polynomial: det(-Hessian) / α^{L+1} as a polynomial in ``u`` = β² C; it equals
            det(I - u A), A the path-graph adjacency.
        u: the symbol of ``polynomial``.
        checked_C: the values of C at which ``T_c`` and ``closed_form`` were compared.
        max_abs_error: largest |T_c - closed_form| over ``checked_C`` at 60 digits.
    """

    L: int
    T_c: sp.Expr
    closed_form: sp.Expr
    polynomial: sp.Expr
    u: sp.Symbol
    checked_C: tuple[sp.Rational, ...]
    max_abs_error: float


_DIGITS = 60
_MATCH_TOL = sp.Float(10) ** (-(_DIGITS - 10))


@lru_cache(maxsize=32)
def _critical_temperature_explicit(L: int) -> ExplicitCriticalTemperature:
    n = L + 1
    sym = layer_symbols(n)
    C, alpha, beta = _C, _ALPHA, sym.beta
    u = sp.Symbol("u", positive=True)
    # With β² = u / C every entry is an integer times α or u α, so the determinant is an
    # exact polynomial in ZZ[u, α]; the checks below confirm that C and α drop out.
    replace = {
        **dict.fromkeys(sym.alpha, alpha),
        **dict.fromkeys(sym.C, C),
        beta: sp.sqrt(u / C),
    }
    stability = (-rs_hessian(n)).xreplace(replace)
    # Exact determinant over the polynomial ring ZZ[u, α] (DomainMatrix): expanding a
    # symbolic Berkowitz determinant instead grows exponentially with L.
    matrix = stability.to_DM()
    det = sp.Poly(matrix.domain.to_sympy(matrix.det()), alpha, u)
    # A common α must factor out as α^{L+1}: it cannot move the transition.
    alpha_degrees = {monomial[0] for monomial in det.monoms()}
    _require(alpha_degrees == {n}, f"det(-H) is not α^{n} × P(β²C) for L={L}")
    polynomial = sp.expand(det.as_expr() / alpha**n)
    _require(polynomial.free_symbols <= {u}, f"det(-H) depends on more than β²C: {polynomial}")
    poly = sp.Poly(polynomial, u)

    positive_roots = [r for r in sp.real_roots(poly) if r.is_positive]
    _require(bool(positive_roots), f"det(-H) has no positive root for L={L}")
    u_star = min(positive_roots, key=lambda r: r.evalf(_DIGITS))
    T_c = sp.sqrt(C / u_star)

    closed_form = critical_temperature_identical().T_c.subs(_L, L)
    target = sp.simplify(C / closed_form**2)  # = 1 / (2 cos(π/(L+2))), the closed-form u*
    # Exact algebra: the closed-form u* is a root of the determinant polynomial.
    minimal = sp.Poly(sp.minimal_polynomial(target, u), u)
    _require(poly.rem(minimal).is_zero, f"closed form is not a root of det(-H) for L={L}")
    # It is the smallest positive root (the one that fixes β_c): identified numerically,
    # at 60 digits, among exactly isolated roots.
    _require(
        abs((u_star - target).evalf(_DIGITS)) < _MATCH_TOL,
        f"smallest root {u_star} is not the closed form {target} for L={L}",
    )

    checked_C = (sp.Rational(1, 2), sp.Integer(1), sp.Integer(2), sp.Rational(7, 3))
    errors = [abs((T_c - closed_form).subs(C, c).evalf(_DIGITS)) for c in checked_C]
    max_abs_error = float(max(errors))
    _require(max_abs_error < float(_MATCH_TOL), f"T_c differs from closed form for L={L}")
    return ExplicitCriticalTemperature(
        L=L,
        T_c=T_c,
        closed_form=closed_form,
        polynomial=polynomial,
        u=u,
        checked_C=checked_C,
        max_abs_error=max_abs_error,
    )


def critical_temperature_explicit(L: int) -> ExplicitCriticalTemperature:
    """T_c for identical layers at an explicit depth, by solving det(Hessian) = 0.

    The Hessian of :func:`rs_hessian` with C_l = C and α_l = α is built for L + 1 spin
    layers; its determinant, as a polynomial in u = β² C, is solved exactly (radicals or
    ``CRootOf``), and the smallest positive root gives β_c. The result is compared with
    :func:`critical_temperature_identical`: exactly (the minimal polynomial of the closed-form
    u* divides the determinant polynomial) and at 60 digits (same root; same T_c at several C).

    Args:
        L: number of weight layers, 1 <= L <= 24 (L + 1 spin layers).

    Returns:
        An :class:`ExplicitCriticalTemperature`.

    Raises:
        InvalidInputError: ``L`` is not an integer in [1, 24].
        DerivationCheckError: the explicit and closed-form T_c disagree.

    References:
        Barney, Winer & Galitski, arXiv 2408.06421.
    """
    return _critical_temperature_explicit(_check_int(L, "L", 1, MAX_EXPLICIT_L))
