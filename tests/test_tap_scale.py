"""TAP at any coupling scale: A(β; sJ) = s A(sβ; J) exactly, so β_c(sJ) = β_c(J)/s.

Found by fuzzing the command line: ``demo --variance 1e300`` overflowed the Onsager
diagonal Σ J² (a traceback), and ``--variance 1e-150`` left LOBPCG at residuals of 1e-77.
"""

from __future__ import annotations

import math

import pytest

from replicasolve.cli import main
from replicasolve.tap.bonds import DenseBonds, random_layered
from replicasolve.tap.critical import tap_critical

# β_c is located to rtol = 1e-10 by each solve; two solves agree to a few times that, and
# 1e-8 leaves room for the λ_min tolerance near the tangency of the corrected definition
TOL = 1e-8


@pytest.mark.parametrize("scale", [1e-150, 1e-30, 1e6, 1e30, 1e150])
@pytest.mark.parametrize("definition", ["corrected", "plain"])
def test_beta_c_scales_inversely_with_the_couplings(scale: float, definition: str) -> None:
    # at 1e6 the couplings are solved as they are (inside the solver's comfortable range):
    # an independent check of the identity itself; the other scales go through the
    # rescaled path
    bonds = random_layered([40, 30, 20], 2.0, seed=3)
    ref = tap_critical(bonds, definition=definition)
    big = tap_critical(bonds.scaled(scale), definition=definition)
    assert big.converged and ref.converged
    assert big.beta_c * scale == pytest.approx(ref.beta_c, rel=TOL)
    assert big.T_c / scale == pytest.approx(ref.T_c, rel=TOL)
    assert big.lambda_at_min / scale == pytest.approx(ref.lambda_at_min, rel=1e-6,
                                                       abs=1e-9)
    assert big.crossed == ref.crossed
    assert big.mode == pytest.approx(ref.mode, abs=1e-6)
    for c_big, c in zip(big.variance_factors, ref.variance_factors, strict=True):
        assert c_big / scale**2 == pytest.approx(c, rel=1e-12)


def test_dense_and_threshold_scale_too() -> None:
    bonds = DenseBonds.sk(60, seed=1)
    ref = tap_critical(bonds, definition="threshold", threshold=0.05)
    s = 1e-120
    small = tap_critical(bonds.scaled(s), definition="threshold", threshold=0.05 * s)
    assert small.beta_c * s == pytest.approx(ref.beta_c, rel=TOL)
    assert small.threshold == pytest.approx(0.05 * s, rel=1e-15)


def test_zero_couplings_are_refused() -> None:
    from replicasolve.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="zero"):
        tap_critical(random_layered([5, 5], 2.0, seed=0).scaled(0.0))


@pytest.mark.parametrize("variance", ["1e300", "1e-150"])
def test_demo_at_extreme_variances(variance: str, capsys: pytest.CaptureFixture[str]) -> None:
    # the theory's and the instance's beta_c differ by the same relative amount at any scale
    import json

    assert main(["demo", "--json", "--variance", variance]) == 0
    out = json.loads(capsys.readouterr().out)
    assert main(["demo", "--json"]) == 0
    base = json.loads(capsys.readouterr().out)
    c = float(variance)
    assert out["msk"]["T_c"] / math.sqrt(c / 2) == pytest.approx(base["msk"]["T_c"],
                                                                     rel=1e-12)
    assert out["tap"]["T_c"] / math.sqrt(c / 2) == pytest.approx(base["tap"]["T_c"], rel=TOL)


@pytest.mark.parametrize("scale", [1e-150, 1e6, 1e150])
def test_the_minimum_scales_too(scale: float) -> None:
    # λ(β; sJ) = s λ(sβ; J): β* ∝ 1/s and λ* ∝ s. At 1e6 the couplings are solved as they
    # are, an independent check of the identity; the other scales are rescaled inside.
    # β* is found to rtol = 1e-10 by each solve (TOL as above); λ* at a flat minimum
    # is second order in the β error, so it agrees far better than β*
    from replicasolve.tap.critical import tap_minimum

    bonds = random_layered([40, 30, 20], 2.0, seed=3)
    ref = tap_minimum(bonds)
    big = tap_minimum(bonds.scaled(scale))
    assert big.converged and ref.converged
    assert big.beta * scale == pytest.approx(ref.beta, rel=TOL)
    assert big.value / scale == pytest.approx(ref.value, rel=1e-9, abs=1e-12)
