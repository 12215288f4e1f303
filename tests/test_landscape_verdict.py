"""The RS/RSB verdict of a finite-width RS saddle (models.landscape_verdict) and the numbers
derived for reporting (reported)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from replicasolve.reported import error_floor, relative_difference
from replicasolve.solvers.landscape_verdict import GAIN_FLOOR, rs_or_rsb


def test_local_tests_alone() -> None:
    v = rs_or_rsb(True)
    assert (v.character, v.local_only, v.noise) == ("RS", True, None)
    assert v.criterion == "replicon and layer pivots (local stability)"
    assert rs_or_rsb(False).character == "RSB"
    assert rs_or_rsb(False, local_tests=("replicon",)).criterion == \
        "replicon (local stability)"


def test_gain_counts_only_above_the_noise() -> None:
    # ten quadrature resolutions, floored at GAIN_FLOOR
    assert rs_or_rsb(True, 2e-8, 1e-9).character == "RSB"
    assert rs_or_rsb(True, 0.9e-8, 1e-9).character == "RS"
    assert rs_or_rsb(True, 0.5 * GAIN_FLOOR, 1e-14).character == "RS"
    assert rs_or_rsb(True, 2 * GAIN_FLOOR, 1e-14).character == "RSB"
    assert rs_or_rsb(True, math.nan, 1e-9).character == "RS"
    v = rs_or_rsb(True, 1e-3, 1e-14, local_tests=("replicon",))
    assert v.noise == GAIN_FLOOR and v.resolution == GAIN_FLOOR / 10
    assert v.criterion == "replicon and the 1RSB optimum"
    assert rs_or_rsb(True, 0.0, 1e-9).criterion == \
        "replicon, layer pivots and the 1RSB optimum"


def test_unstable_saddle_is_rsb_whatever_the_gain() -> None:
    v = rs_or_rsb(False, 0.0, 1e-9)
    assert v.character == "RSB" and not v.locally_stable


def test_gain_needs_its_resolution() -> None:
    with pytest.raises(ValueError, match="resolution"):
        rs_or_rsb(True, 1e-3)
    with pytest.raises(ValueError, match="local test"):
        rs_or_rsb(True, local_tests=())


def test_reported_numbers() -> None:
    assert relative_difference(1.1, 1.0) == pytest.approx(0.1, rel=1e-12)
    values = np.array([1.0, 0.0, -2.0])
    err = error_floor(values, np.array([0.0, 0.0, 1e-3]))
    assert err[0] == 8 * np.finfo(float).eps and err[1] == 0.0 and err[2] == 1e-3
