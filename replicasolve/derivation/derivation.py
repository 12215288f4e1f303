"""The :class:`Derivation` a problem's replica theory is returned as, and its check result.

A derivation is a list of steps (title, sentence, sympy expression), the named expressions
a theorist uses (the free-energy functional, the saddle-point equations, energy, entropy,
the replicon) as sympy objects, their LaTeX, compiled numerical functions (Gaussian
averages by Gauss–Hermite quadrature, :mod:`replicasolve.derivation.quadrature`), and
:meth:`Derivation.check`, which solves the same problem with the package's solver and
reports how well the derived equations hold at the solver's solution
(:class:`DerivationCheck`, on the :class:`~replicasolve.results.Result` contract).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ..errors import InvalidInputError
from ..results import Result
from .quadrature import GaussianProgram

__all__ = ["Derivation", "DerivationCheck", "Step", "UnsupportedDerivationError",
           "check_verdict", "finite_or_nan", "tex_text"]


class UnsupportedDerivationError(InvalidInputError):
    """The derivation cannot handle this problem or ansatz; ``step`` names the step it
    stopped at (``"problem"``, ``"ansatz"``, ``"covariance"``, ``"check"``, ...)."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"derivation step {step!r}: {message}")
        self.step = step


@dataclass(frozen=True)
class Step:
    """One step of a derivation: a title, what was done, and the resulting expression
    (a sympy expression or ``Eq``; ``None`` for a step that is text only)."""

    title: str
    text: str
    expression: Any = None


@dataclass(frozen=True, eq=False)
class DerivationCheck(Result):
    """The derived equations at the solver's solution of the same problem.

    Attributes:
        model: the problem as text; ``method``: the ansatz (``"RS"``, ``"1RSB"``, ...).
        T, field: the state point.
        order_parameters: the solver's q_i and m_i (= its x values), by name.
        residuals: each derived saddle-point equation evaluated there, by name; 0 at an
            exact saddle (dimensionless; the Ising q-equations read q_i - E[...]).
        saddle_error: max |residual| (an m_i at the edge of [0, 1], a constrained optimum,
            is left out, and so is the q_i equation of a level of zero weight m_i = m_{i+1};
            ``settings["excluded"]`` names them).
        free_energy, free_energy_solver: f derived (per spin, energy units of H/N) and the
            solver's; ``free_energy_error`` = their |difference|; the same for ``energy`` and
            ``entropy`` (entropy per spin, in units of k_B).
        replicon, replicon_error: the derived RS replicon and its |difference| from the
            solver's (``nan`` where not derived).
        tolerance: the bound every error is held to for ``converged``.
        converged: the solver converged and every error is within ``tolerance``.
        settings: quadrature nodes and solver tolerance used.
        message: what failed, if anything.
        hessian: the derived RS Hessian eigenvalues at the solution, by sector
            (``longitudinal``, ``anomalous``, ``replicon``; > 0 is stable); empty where
            not derived (RSB ansätze).
    """

    model: str
    method: str
    T: float
    field: float
    order_parameters: dict[str, float]
    residuals: dict[str, float]
    saddle_error: float
    free_energy: float
    free_energy_solver: float
    free_energy_error: float
    energy: float
    energy_solver: float
    energy_error: float
    entropy: float
    entropy_solver: float
    entropy_error: float
    replicon: float
    replicon_error: float
    tolerance: float
    converged: bool
    settings: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    hessian: dict[str, float] = field(default_factory=dict)


def _latex(expr: Any) -> str:
    return sp.latex(expr) if expr is not None else ""


# LaTeX's special characters in prose, and the Unicode of the prose as math-mode commands,
# so that the document compiles with plain pdflatex
_TEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                 "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                 "^": r"\textasciicircum{}"}
_TEX_UNICODE = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "κ": r"\kappa", "λ": r"\lambda",
    "μ": r"\mu", "ν": r"\nu", "ξ": r"\xi", "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma",
    "τ": r"\tau", "φ": r"\phi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega",
    "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi",
    "Π": r"\Pi", "Σ": r"\Sigma", "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega",
    "Ĝ": r"\hat{G}", "ĝ": r"\hat{g}", "ℓ": r"\ell", "²": r"^{2}", "³": r"^{3}",
    "⁴": r"^{4}", "⁻": r"^{-}", "¹": r"^{1}", "₀": r"_{0}", "₁": r"_{1}",
    "½": r"\tfrac{1}{2}", "·": r"\cdot", "×": r"\times", "→": r"\to",
    "←": r"\leftarrow", "∂": r"\partial", "∈": r"\in", "∞": r"\infty", "≤": r"\le",
    "≥": r"\ge", "≈": r"\approx", "≠": r"\ne", "−": "-", "√": r"\surd", "∫": r"\int",
    "′": r"'", "±": r"\pm", "∑": r"\sum", "∏": r"\prod", "⟨": r"\langle",
    "⟩": r"\rangle", "‖": r"\|",
}
_TEX_TEXT = {"–": "--", "—": "---", "…": r"\dots{}", "’": "'", "‘": "`", "“": "``",
             "”": "''", "é": r"\'e"}


def tex_text(text: str) -> str:
    """Prose as LaTeX text for pdflatex: the special characters escaped, Greek letters and
    math symbols as math-mode commands, typographic characters as their TeX spelling; any
    other non-ASCII character as its code point (``U+XXXX``)."""
    out = []
    for c in text:
        if c in _TEX_SPECIALS:
            out.append(_TEX_SPECIALS[c])
        elif c in _TEX_UNICODE:
            out.append(f"${_TEX_UNICODE[c]}$")
        elif c in _TEX_TEXT:
            out.append(_TEX_TEXT[c])
        elif ord(c) > 127:
            out.append(f"U+{ord(c):04X}")
        else:
            out.append(c)
    return "".join(out)


@dataclass(frozen=True, eq=False)
class Derivation:
    """A replica derivation of one problem under one ansatz.

    Attributes:
        problem: the problem derived (e.g. a :class:`~replicasolve.models.pspin.MixedPSpin`).
        method: the ansatz (``RSB(k)`` or ``FullRSB()``).
        title: one line naming model and ansatz.
        steps: the steps, in order (each a :class:`Step`).
        expressions: name → sympy expression, ξ kept as the function ξ(q): ``"action"``
            (Φ = -βf before the multipliers are eliminated), ``"free_energy"`` (-βf at the
            saddle of the multipliers), ``"saddle_<var>"`` (zero at the saddle),
            ``"energy"``, ``"entropy"``, ``"replicon"``, ``"ground_state_energy"``; for full
            RSB ``"parisi_functional"`` and the PDE.
        numeric: name → the same expression with the problem's ξ substituted (what
            :meth:`evaluate` and :meth:`check` compute); empty for a formula-only ansatz.
        parameters: the symbols a numerical evaluation takes (β, h, q_i, m_i), in order.
        ground_parameters: those the ``ground_state_*`` expressions take (h, χ, x_i,
            q_0..q_{k-1}); empty where the T → 0 limit is not derived.
        checker: the function :meth:`check` calls (set by the problem's front end).
    """

    problem: Any
    method: Any
    title: str
    steps: tuple[Step, ...]
    expressions: Mapping[str, Any]
    numeric: Mapping[str, sp.Expr] = field(default_factory=dict)
    parameters: tuple[sp.Symbol, ...] = ()
    ground_parameters: tuple[sp.Symbol, ...] = ()
    checker: Callable[..., DerivationCheck] | None = field(default=None, repr=False)
    _programs: dict[Any, GaussianProgram] = field(default_factory=dict, repr=False)

    # ---------------------------------------------------------------- numerics

    def program(self, names: tuple[str, ...] | None = None, nodes: int | None = None
                ) -> GaussianProgram:
        """The compiled evaluator of ``names`` (default: every numeric expression at T > 0;
        names that all start with ``ground_state`` take :attr:`ground_parameters`)."""
        if not self.numeric:
            raise UnsupportedDerivationError(
                "numerics", f"{self.title}: the formula is not evaluated numerically")
        if names is None:
            names = tuple(n for n in self.numeric if not n.startswith("ground_state"))
        names = tuple(names)
        unknown = [n for n in names if n not in self.numeric]
        if unknown:
            raise InvalidInputError(f"unknown expressions {unknown}; known: "
                                    f"{sorted(self.numeric)}")
        key = (names, nodes)
        prog = self._programs.get(key)
        if prog is None:
            ground = all(n.startswith("ground_state") for n in names)
            params = self.ground_parameters if ground else self.parameters
            prog = GaussianProgram({n: self.numeric[n] for n in names}, params,
                                   nodes=nodes, name=self.title)
            self._programs[key] = prog
        return prog

    def evaluate(self, names: tuple[str, ...] | None = None, *, nodes: int | None = None,
                 **point: float) -> dict[str, float]:
        """The numeric expressions at ``point`` (``beta``, ``h``, ``q_0``.., ``m_1``..; for
        the ``ground_state_*`` names ``h``, ``chi``, ``x_1``..): ``{name: value}``.
        Gaussian averages by Gauss–Hermite quadrature."""
        return self.program(names, nodes)(**point)

    def check(self, **point: Any) -> DerivationCheck:
        """Solve the same problem with the package's solver at ``point`` (``T``, ``h``,
        ``options``, ``nodes``, ``tolerance``) and evaluate the derived equations at its
        solution; see :class:`DerivationCheck`. At ``T=0`` the ground-state equations
        (scaled order parameters χ = L and x_i = γ_i of the solver) are checked."""
        if self.checker is None:
            raise UnsupportedDerivationError("check", f"{self.title}: no solver to check "
                                                      "against")
        return self.checker(self, **point)

    # ---------------------------------------------------------------- rendering

    def latex(self, document: bool = False) -> str:
        """The derivation as LaTeX: one ``align*``-free block per step (``equation*``);
        ``document=True`` wraps it into an article that pdflatex compiles (the prose goes
        through :func:`tex_text`)."""
        lines = [f"\\section*{{{tex_text(self.title)}}}"]
        for i, step in enumerate(self.steps, 1):
            lines.append(f"\\paragraph{{{i}. {tex_text(step.title)}}} {tex_text(step.text)}")
            if step.expression is not None:
                lines.append("\\begin{equation*}")
                lines.append(_latex(step.expression))
                lines.append("\\end{equation*}")
        body = "\n".join(lines)
        if not document:
            return body
        return ("\\documentclass{article}\n"
                "\\usepackage{amsmath,amssymb}\n"
                "\\usepackage[margin=2cm]{geometry}\n\\allowdisplaybreaks\n"
                "\\begin{document}\n" + body + "\n\\end{document}\n")

    def markdown(self) -> str:
        """The derivation as Markdown with ``$$ ... $$`` display math."""
        lines = [f"## {self.title}", ""]
        for i, step in enumerate(self.steps, 1):
            lines.append(f"**{i}. {step.title}.** {step.text}")
            lines.append("")
            if step.expression is not None:
                lines += ["$$", _latex(step.expression), "$$", ""]
        return "\n".join(lines)

    def _repr_latex_(self) -> str:
        parts = [f"\\text{{{self.title}}}"]
        for step in self.steps:
            if step.expression is not None:
                parts.append(f"\\text{{{step.title}:}}\\quad {_latex(step.expression)}")
        return "$$\\begin{gathered}" + " \\\\ ".join(parts) + "\\end{gathered}$$"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: title, problem, method, the steps, and every expression as LaTeX and
        as ``sympy.srepr``."""
        return {
            "kind": "Derivation",
            "title": self.title,
            "problem": repr(self.problem),
            "method": getattr(self.method, "name", str(self.method)),
            "parameters": [p.name for p in self.parameters],
            "steps": [{"title": s.title, "text": s.text, "latex": _latex(s.expression)}
                      for s in self.steps],
            "expressions": {k: {"latex": _latex(v), "srepr": sp.srepr(v)}
                            for k, v in self.expressions.items()},
        }

    def __repr__(self) -> str:
        return f"Derivation({self.title!r}, {len(self.steps)} steps)"


def finite_or_nan(value: Any) -> float:
    """``float(value)``, or ``nan`` where it is not a finite number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


def check_verdict(result: Any, errors: Mapping[str, float],
                  tolerance: float) -> tuple[bool, str]:
    """The verdict of a check: ``(converged, message)``. Converged when the solver's
    ``result`` converged and every entry of ``errors`` (name → |derived − solver| or a
    residual) is at most ``tolerance``; the message says which failed."""
    bad = [name for name, v in errors.items() if not (v <= tolerance)]
    if not result.converged:
        return False, f"solver did not converge: {result.message}"
    if bad:
        return False, "beyond tolerance: " + ", ".join(f"{b} {errors[b]:.2e}" for b in bad)
    return True, ""
