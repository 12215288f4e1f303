r"""Closed-form (tier 1) and Hermite-series (tier 2) Gaussian dual kernels, derived by sympy.

The dual kernel of an activation φ is

    K(k1, k2, c) = E[φ(u) φ(v)],   (u, v) ~ N(0, [[k1, c], [c, k2]])

(Cho & Saul 2009, "Kernel methods for deep learning"). Nothing here is a
hand-typed answer: every closed form is the result of a Gaussian integral that sympy performs.
Write u = sqrt(k1) z1 and v = (c / sqrt(k1)) z1 + sqrt(k2 - c²/k1) z2 with z1, z2 i.i.d. N(0, 1).

Strategies of :func:`dual_kernel`, tried in this order (each is bounded: a strategy only runs on
the structure it is made for, and anything else returns ``None`` at once):

1. **Polynomial × Gaussian-exponential class.** φ is a sum of at most 8 terms x^n exp(q(x))
   (n ≤ 12) with q a polynomial of degree ≤ 2 whose x² coefficient is ≤ 0, after sin, cos,
   sinh, cosh are rewritten as exponentials (so polynomials, exp/sin/cos/sinh/cosh of linear
   arguments, their products, and Gaussians exp(-a x²) are covered). The integrals over z2 and
   then z1 are done term by term with the template ∫ z^n exp(-A z² + B z) dz, which sympy
   integrates once for n = 0 (the n-th template is its n-th B-derivative, i.e.
   differentiation under the integral sign).
   E.g. sin gives e^{-(k1+k2)/2} sinh c and cos gives e^{-(k1+k2)/2} cosh c.
2. **Positively homogeneous piecewise φ** = p·x₊ⁿ + q·x₋ⁿ with n ∈ {0, 1, 2} (x₊ = max(0, x),
   x₋ = max(0, -x)): ReLU, leaky ReLU, a·Max(0, x) + b·x, |x|, Heaviside step, sign, ReLU². The
   arc-cosine kernel J_n (Cho & Saul 2009) is derived by sympy in polar coordinates
   z1 = r cos ϕ, z2 = r sin ϕ: u = sqrt(k1) r cos ϕ, v = sqrt(k2) r cos(ϕ - θ) with
   θ = acos(c / sqrt(k1 k2)); the radial integral ∫ r^{2n+1} e^{-r²/2} dr separates and the
   angular one runs over the wedge θ - π/2 < ϕ < π/2 where both are positive. For n = 1 this is
   (sqrt(k1 k2)/2π)(sin θ + (π - θ) cos θ), for n = 0 it is (π - θ)/(2π). Then
   K = (p² + q²) J_n(c) + 2 p q J_n(-c).
3. **Price's theorem** (Price 1958; Williams 1997, "Computing with infinite networks", for
   erf). For odd φ whose derivative is a single Gaussian term A exp(-a² x²) (φ = A erf(a x)):
   ∂K/∂c = E[φ'(u) φ'(v)] at fixed k1, k2 is computed by strategy 1, and sympy integrates it in
   c from 0, where K = E φ(u) E φ(v) = 0. For erf(a x) this yields
   (2/π) asin(2a²c / sqrt((1 + 2a²k1)(1 + 2a²k2))).

tanh, sigmoid, softplus, ... have no closed form here: :func:`dual_kernel` returns ``None``.

Tier 2 (:func:`hermite_coefficients`, :func:`hermite_kernel`) is Mehler's expansion
(Mehler 1866; O'Donnell 2014, "Analysis of Boolean Functions", ch. 11): for k1 = k2 = k and
ρ = c/k, K = Σ_n a_n² ρ^n with a_n = E[φ(sqrt(k) z) He_n(z)] / sqrt(n!).

Only sympy (and the standard library) is imported at module level; mpmath, sympy's own
dependency, is imported lazily for the numeric fallback of :func:`hermite_coefficients`.
"""

from __future__ import annotations

from functools import cache, lru_cache

import sympy

from ..errors import InvalidInputError

__all__ = ["derivative_kernels", "dual_kernel", "hermite_coefficients", "hermite_kernel"]

# Internal symbols: variances, covariance, sqrt(k2 - c²/k1), Gaussian variables.
_K1 = sympy.Symbol("k1", positive=True)
_K2 = sympy.Symbol("k2", positive=True)
_C = sympy.Symbol("c", real=True)
_T = sympy.Symbol("t_", positive=True)
_Z = sympy.Symbol("z_", real=True)
_Z2 = sympy.Symbol("z2_", real=True)
_A = sympy.Symbol("A_", positive=True)
_B = sympy.Symbol("B_")
_Y = sympy.Symbol("y_", positive=True)

_NONSMOOTH = (sympy.Max, sympy.Min, sympy.Abs, sympy.Heaviside, sympy.sign, sympy.Piecewise)
_TRIG = [sympy.sin, sympy.cos, sympy.sinh, sympy.cosh]
_SIMPLIFY_MAX_OPS = 600
# class 1 is only tried on small φ: at most this many terms x^n exp(q(x)) with n at most
# _CLASS1_MAX_POWER (the product φ(u)φ(v) has the square of the terms, each a symbolic
# Gaussian integral; sin(x)**10, 11 terms, took 25 s). Larger φ go to the numeric tiers.
_CLASS1_MAX_TERMS = 8
_CLASS1_MAX_POWER = 12


class _Unsupported(Exception):
    """The expression is outside the class a strategy handles."""


# ----------------------------------------------------------------------------- validation


def _check_expr(expr, x) -> sympy.Expr:
    if not isinstance(x, sympy.Symbol):
        raise InvalidInputError(f"x must be a sympy Symbol, got {x!r}")
    if isinstance(expr, str):
        from .parse import parse_formula

        return parse_formula(expr, variables=(x.name,)).subs(sympy.Symbol(x.name, real=True), x)
    from .parse import as_expression

    return as_expression(expr, "activation")


def _as_expr(value, name: str) -> sympy.Expr:
    try:
        out = sympy.sympify(value, strict=True)
    except (sympy.SympifyError, TypeError) as exc:
        raise InvalidInputError(
            f"{name} must be a number or sympy expression, got {value!r}"
        ) from exc
    if not isinstance(out, sympy.Expr):
        raise InvalidInputError(f"{name} must be a number or sympy expression, got {value!r}")
    if out.is_number and (out.is_real is False or not out.is_finite):
        raise InvalidInputError(f"{name} must be real and finite, got {value!r}")
    return out


def _check_kcc(k1, k2, c) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr]:
    k1, k2, c = _as_expr(k1, "k1"), _as_expr(k2, "k2"), _as_expr(c, "c")
    for name, k in (("k1", k1), ("k2", k2)):
        if k.is_positive is False:
            raise InvalidInputError(f"{name} must be > 0, got {k}")
    if k1.is_number and k2.is_number and c.is_number:
        excess = float(abs(c) - sympy.sqrt(k1 * k2))
        if excess > 1e-12 * float(sympy.sqrt(k1 * k2)):
            raise InvalidInputError(f"|c| must be <= sqrt(k1 k2), got c={c}, k1={k1}, k2={k2}")
    return k1, k2, c


def _check_nmax(n_max) -> int:
    if isinstance(n_max, bool) or not isinstance(n_max, int) or n_max < 0:
        raise InvalidInputError(f"n_max must be an int >= 0, got {n_max!r}")
    if n_max > 200:
        raise InvalidInputError(f"n_max must be <= 200, got {n_max}")
    return n_max


# ----------------------------------------------------------------------------- Gaussian engine


@cache
def _template(n: int) -> sympy.Expr:
    """∫ z^n exp(-A z² + B z) dz over R (A > 0): sympy integrates n = 0, then ∂^n/∂B^n."""
    if n == 0:
        return sympy.simplify(
            sympy.integrate(
                sympy.exp(-_A * _Z**2 + _B * _Z), (_Z, -sympy.oo, sympy.oo), conds="none"
            )
        )
    return sympy.factor(sympy.diff(_template(n - 1), _B))


def _exp_poly_form(expr: sympy.Expr, z: sympy.Symbol) -> list[tuple[sympy.Expr, int, sympy.Expr]]:
    """Split expr into terms coeff · z^n · exp(arg) (arg polynomial in z), or raise _Unsupported."""
    out = []
    for term in sympy.Add.make_args(sympy.expand(expr)):
        coeff, dep = term.as_independent(z, as_Add=False)
        n, arg = 0, sympy.S.Zero
        for f in sympy.Mul.make_args(dep):
            if f == z:
                n += 1
            elif f.is_Pow and f.base == z and f.exp.is_Integer and f.exp > 0:
                n += int(f.exp)
            elif isinstance(f, sympy.exp):
                arg += f.args[0]
            elif f.is_Pow and isinstance(f.base, sympy.exp) and f.exp.is_Integer:
                arg += f.exp * f.base.args[0]
            elif f == 1:
                continue
            else:
                raise _Unsupported(f)
        if not arg.is_polynomial(z):
            raise _Unsupported(arg)
        out.append((coeff, n, sympy.expand(arg)))
    return out


def _gauss_expect(expr: sympy.Expr, z: sympy.Symbol) -> sympy.Expr:
    """E[expr] over z ~ N(0, 1) for expr = Σ poly(z) exp(quadratic(z))."""
    total = sympy.S.Zero
    for coeff, n, arg in _exp_poly_form(expr, z):
        poly = sympy.Poly(arg - z**2 / 2, z)
        if poly.degree() > 2:
            raise _Unsupported(arg)
        a2 = poly.coeff_monomial(z**2)
        a1 = poly.coeff_monomial(z)
        a0 = poly.coeff_monomial(1)
        if (-a2).is_positive is False:
            raise _Unsupported(arg)
        value = _template(n).subs({_A: -a2, _B: a1}, simultaneous=True)
        total += coeff * sympy.exp(a0) * value / sympy.sqrt(2 * sympy.pi)
    return total


def _class1(expr: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """expr with trig/hyperbolic rewritten as exp, if it is in class 1, else raise _Unsupported."""
    rewritten = expr.rewrite(_TRIG, sympy.exp)
    terms = _exp_poly_form(rewritten, x)
    if len(terms) > _CLASS1_MAX_TERMS or any(n > _CLASS1_MAX_POWER for _, n, _ in terms):
        raise _Unsupported(expr)
    for _, _, arg in terms:
        poly = sympy.Poly(arg, x)
        if poly.degree() > 2 or (poly.degree() == 2 and not poly.LC().is_nonpositive):
            raise _Unsupported(arg)
    return rewritten


def _tidy(expr: sympy.Expr) -> sympy.Expr:
    expr = sympy.expand(sympy.powsimp(sympy.expand(expr), combine="exp"))
    if sympy.count_ops(expr) <= _SIMPLIFY_MAX_OPS:
        expr = sympy.simplify(expr)
    return expr


# ----------------------------------------------------------------------------- strategies


def _strategy_gaussian(phi: sympy.Expr, x: sympy.Symbol, cov: sympy.Expr) -> sympy.Expr:
    """Strategy 1, in terms of _K1, _K2 and the covariance ``cov``."""
    phi_e = _class1(phi, x)
    s1 = sympy.sqrt(_K1)
    u = s1 * _Z
    v = cov / s1 * _Z + _T * _Z2
    inner = _gauss_expect(phi_e.subs(x, u) * phi_e.subs(x, v), _Z2)
    outer = _gauss_expect(inner, _Z)
    outer = outer.subs(_T, sympy.sqrt(_K2 - cov**2 / _K1))
    return _tidy(outer)


def _homogeneous_parts(phi: sympy.Expr, x: sympy.Symbol) -> tuple[int, sympy.Expr, sympy.Expr]:
    """(n, p, q) with φ(x) = p x₊ⁿ + q x₋ⁿ, n ∈ {0, 1, 2}, or raise _Unsupported."""
    if not phi.has(*_NONSMOOTH):
        raise _Unsupported(phi)
    plus = sympy.simplify(phi.subs(x, _Y))
    minus = sympy.simplify(phi.subs(x, -_Y))
    for n in (0, 1, 2):
        p = sympy.simplify(plus / _Y**n)
        q = sympy.simplify(minus / _Y**n)
        if not p.has(_Y) and not q.has(_Y) and not p.has(*_NONSMOOTH) and not q.has(*_NONSMOOTH):
            return n, p, q
    raise _Unsupported(phi)


@cache
def _arccos_kernel(n: int) -> sympy.Expr:
    """J_n = E[u₊ⁿ v₊ⁿ] in terms of _K1, _K2, _C, derived in polar coordinates by sympy."""
    r = sympy.Symbol("r", positive=True)
    ang = sympy.Symbol("phi", real=True)
    theta = sympy.Symbol("theta", positive=True)
    radial = sympy.integrate(r ** (2 * n + 1) * sympy.exp(-(r**2) / 2), (r, 0, sympy.oo))
    angular = sympy.integrate(
        sympy.cos(ang) ** n * sympy.cos(ang - theta) ** n, (ang, theta - sympy.pi / 2, sympy.pi / 2)
    )
    j_theta = sympy.simplify(
        (_K1 * _K2) ** sympy.Rational(n, 2) * radial * angular / (2 * sympy.pi)
    )
    return j_theta.subs(theta, sympy.acos(_C / sympy.sqrt(_K1 * _K2)))


def _strategy_homogeneous(phi: sympy.Expr, x: sympy.Symbol, cov: sympy.Expr) -> sympy.Expr:
    n, p, q = _homogeneous_parts(phi, x)
    j = _arccos_kernel(n)
    out = (p**2 + q**2) * j.subs(_C, cov) + 2 * p * q * j.subs(_C, -cov)
    return sympy.simplify(out)


def _strategy_price(phi: sympy.Expr, x: sympy.Symbol, cov: sympy.Expr) -> sympy.Expr:
    if sympy.simplify(phi.subs(x, -x) + phi) != 0:
        raise _Unsupported(phi)  # K(c = 0) = (E φ)² would need another integral
    dphi = sympy.diff(phi, x)
    terms = _exp_poly_form(_class1(dphi, x), x)
    if len(terms) != 1 or terms[0][1] != 0:
        # bounded: only φ' = A exp(-a x² + b x) (erf-type φ); sums make sympy's c-integral slow
        raise _Unsupported(phi)
    cp = sympy.Symbol("cp_", real=True)
    dk = sympy.simplify(sympy.factor(_strategy_gaussian(dphi, x, cp)))
    kernel = sympy.integrate(dk, (cp, 0, cov), conds="none")
    if kernel.has(sympy.Integral):
        raise _Unsupported(phi)
    return sympy.simplify(kernel)


@lru_cache(maxsize=256)
def _dual_kernel_internal(phi: sympy.Expr, x: sympy.Symbol) -> sympy.Expr | None:
    for strategy in (_strategy_gaussian, _strategy_homogeneous, _strategy_price):
        try:
            return strategy(phi, x, _C)
        except (_Unsupported, sympy.PolynomialError):
            continue
    return None


def _to_user(expr: sympy.Expr, k1, k2, c) -> sympy.Expr:
    return expr.subs({_K1: k1, _K2: k2, _C: c}, simultaneous=True)


# ----------------------------------------------------------------------------- public API


def dual_kernel(expr, x: sympy.Symbol, k1, k2, c) -> sympy.Expr | None:
    """Closed form of E[φ(u) φ(v)], (u, v) ~ N(0, [[k1, c], [c, k2]]), derived by sympy.

    Args:
        expr: φ as a sympy expression in ``x`` (or a formula string, parsed by
            :func:`replicasolve.symbolic.parse.parse_formula`).
        x: the variable of φ.
        k1, k2, c: variances and covariance (numbers or sympy expressions; numbers are
            checked: k1, k2 > 0 and |c| <= sqrt(k1 k2)).

    Returns:
        The kernel as a sympy expression, or ``None`` when no strategy of the module docstring
        applies (e.g. tanh, sigmoid): this is decided structurally, without long integrations.

    References: Cho & Saul 2009 (arc-cosine kernels); Williams 1997 (erf); Price 1958.

    Raises:
        InvalidInputError: expr or x of the wrong type, k <= 0 or |c| > sqrt(k1 k2).
    """
    phi = _check_expr(expr, x)
    k1, k2, c = _check_kcc(k1, k2, c)
    out = _dual_kernel_internal(phi, x)
    return None if out is None else _to_user(out, k1, k2, c)


def derivative_kernels(expr, x: sympy.Symbol, k1, k2, c) -> tuple[sympy.Expr | None, ...]:
    """(E[φ'(u)φ'(v)], E[φ''(u)φ''(v)]) in closed form, each ``None`` where unavailable.

    Each is first sought as :func:`dual_kernel` of the derivative of φ; failing that (e.g. the
    Dirac delta in ReLU''), as ∂^j K/∂c^j at fixed k1, k2 of the closed form K of φ, which equals
    E[φ^(j)(u) φ^(j)(v)] by Price's theorem (Price 1958).
    """
    phi = _check_expr(expr, x)
    k1, k2, c = _check_kcc(k1, k2, c)
    base = _dual_kernel_internal(phi, x)
    out: list[sympy.Expr | None] = []
    for j in (1, 2):
        dj = sympy.diff(phi, x, j)
        kernel = _dual_kernel_internal(dj, x) if not dj.has(sympy.DiracDelta) else None
        if kernel is None and base is not None:
            kernel = sympy.simplify(sympy.diff(base, _C, j))
        out.append(None if kernel is None else _to_user(kernel, k1, k2, c))
    return tuple(out)


@cache
def _half_moment(j: int) -> sympy.Expr:
    """∫_0^∞ z^j e^{-z²/2} dz / sqrt(2π), integrated by sympy."""
    return sympy.integrate(_Z**j * sympy.exp(-(_Z**2) / 2), (_Z, 0, sympy.oo)) / sympy.sqrt(
        2 * sympy.pi
    )


def _hermite_exact(phi, x, k, n_max) -> list[sympy.Expr] | None:
    s = sympy.sqrt(k)
    he = [sympy.expand(sympy.hermite_prob(n, _Z)) for n in range(n_max + 1)]
    norm = [sympy.sqrt(sympy.factorial(n)) for n in range(n_max + 1)]
    try:  # class 1: one Gaussian expectation per coefficient
        phi_e = _class1(phi, x).subs(x, s * _Z)
        return [_tidy(_gauss_expect(phi_e * he[n], _Z) / norm[n]) for n in range(n_max + 1)]
    except (_Unsupported, sympy.PolynomialError):
        pass
    try:  # class 2: half-line moments of p (s z)^m and q (s |z|)^m
        m, p, q = _homogeneous_parts(phi, x)
        out = []
        for n in range(n_max + 1):
            poly = sympy.Poly(_Z**m * he[n], _Z)
            half = sum(coef * _half_moment(mon[0]) for mon, coef in poly.terms())
            out.append(sympy.simplify(s**m * (p + q * (-1) ** n) * half / norm[n]))
        return out
    except (_Unsupported, sympy.PolynomialError):
        pass
    # Stein / Gaussian integration by parts: E[f(z) He_n(z)] = E[f^(n)(z)], so for odd φ with
    # φ' in class 1, a_n = k^{n/2} E[φ^(n)(s z)] / sqrt(n!) (and a_0 = 0).
    try:
        if sympy.simplify(phi.subs(x, -x) + phi) != 0:
            return None
        out = [sympy.S.Zero]
        deriv = sympy.diff(phi, x)
        for n in range(1, n_max + 1):
            de = _class1(deriv, x).subs(x, s * _Z)
            out.append(_tidy(s**n * _gauss_expect(de, _Z) / norm[n]))
            deriv = sympy.diff(deriv, x)
        return out
    except (_Unsupported, sympy.PolynomialError):
        return None


def _hermite_mpmath(phi, x, k, n_max, dps: int = 30) -> list[sympy.Expr]:
    import mpmath

    if not k.is_number or phi.free_symbols - {x}:
        raise InvalidInputError(
            "no exact Hermite coefficients for this φ: the numeric fallback needs a numeric k "
            "and no free parameters"
        )
    f = sympy.lambdify(x, phi, modules="mpmath")
    out = []
    with mpmath.workdps(dps + 10):
        s = mpmath.sqrt(mpmath.mpf(str(sympy.Float(k, dps + 10))))
        for n in range(n_max + 1):

            def integrand(z, n=n):
                return f(s * z) * mpmath.hermite(n, z / mpmath.sqrt(2)) * mpmath.exp(-(z**2) / 2)

            # He_n(z) = 2^{-n/2} H_n(z / sqrt 2)
            val = mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf])
            val = (
                val
                / mpmath.sqrt(2 * mpmath.pi)
                / mpmath.sqrt(2) ** n
                / mpmath.sqrt(mpmath.factorial(n))
            )
            out.append(sympy.Float(val, dps))
    return out


def hermite_coefficients(expr, x: sympy.Symbol, k, n_max: int) -> list[sympy.Expr]:
    """Mehler/Hermite coefficients a_n = E[φ(sqrt(k) z) He_n(z)] / sqrt(n!), n = 0..n_max.

    With these, for k1 = k2 = k and ρ = c/k, K = Σ_n a_n² ρ^n (Mehler's formula; O'Donnell 2014,
    "Analysis of Boolean Functions", ch. 11). Exact (sympy) for φ in class 1, for positively
    homogeneous φ (half-line moments) and for odd φ with φ' in class 1 (Stein's identity
    E[f(z) He_n(z)] = E[f^(n)(z)]); otherwise mpmath quadrature at 30 digits, which needs a
    numeric k and φ without free parameters.
    """
    phi = _check_expr(expr, x)
    n_max = _check_nmax(n_max)
    k = _as_expr(k, "k")
    if k.is_positive is False:
        raise InvalidInputError(f"k must be > 0, got {k}")
    exact = _hermite_exact(phi, x, k, n_max)
    return exact if exact is not None else _hermite_mpmath(phi, x, k, n_max)


def _second_moment(phi, x, k) -> sympy.Expr:
    """E[φ(sqrt(k) z)²]."""
    try:
        return _tidy(_gauss_expect(_class1(phi, x).subs(x, sympy.sqrt(k) * _Z) ** 2, _Z))
    except (_Unsupported, sympy.PolynomialError):
        pass
    closed = _dual_kernel_internal(phi, x)
    if closed is not None:
        return sympy.simplify(_to_user(closed, k, k, k))
    import mpmath

    f = sympy.lambdify(x, phi, modules="mpmath")
    with mpmath.workdps(40):
        s = mpmath.sqrt(mpmath.mpf(str(sympy.Float(k, 40))))
        val = mpmath.quad(
            lambda z: f(s * z) ** 2 * mpmath.exp(-(z**2) / 2), [-mpmath.inf, 0, mpmath.inf]
        ) / mpmath.sqrt(2 * mpmath.pi)
        return sympy.Float(val, 30)


def hermite_kernel(expr, x: sympy.Symbol, k, rho, n_max: int) -> tuple[sympy.Expr, sympy.Expr]:
    """Truncated Mehler series K ≈ Σ_{n ≤ n_max} a_n² ρ^n and a rigorous truncation bound.

    For k1 = k2 = k and ρ = c/k ∈ [-1, 1] (a_n from :func:`hermite_coefficients`):

        |K - Σ_{n≤N} a_n² ρ^n| = |Σ_{n>N} a_n² ρ^n| ≤ |ρ|^{N+1} Σ_{n>N} a_n²
                                = |ρ|^{N+1} (E φ(sqrt(k) z)² - Σ_{n≤N} a_n²),

    by Parseval (Σ_n a_n² = E φ²). Returns ``(value, bound)``, both sympy expressions (exact
    where the coefficients are; the bound is clamped at 0 against rounding when numeric).
    """
    phi = _check_expr(expr, x)
    n_max = _check_nmax(n_max)
    rho = _as_expr(rho, "rho")
    if rho.is_number and abs(float(rho)) > 1 + 1e-12:
        raise InvalidInputError(f"rho must lie in [-1, 1], got {rho}")
    coeffs = hermite_coefficients(phi, x, k, n_max)
    k = _as_expr(k, "k")
    value = sum(a**2 * rho**n for n, a in enumerate(coeffs))
    tail = _second_moment(phi, x, k) - sum(a**2 for a in coeffs)
    bound = tail * sympy.Abs(rho) ** (n_max + 1)
    if bound.is_number:
        bound = sympy.Max(sympy.S.Zero, bound)
    return value, bound
