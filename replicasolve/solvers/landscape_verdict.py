"""RS or RSB: the verdict on a replica-symmetric saddle of the finite-width landscape,
from its local stability and, where one was searched, the 1RSB optimum's gain over it.

The solvers report the pieces (the replicon and the layer pivots of the RS saddle, the
1RSB gain in -beta f and the quadrature resolution of that gain); this module is the one
place that turns them into a verdict, so that every caller (the ``landscape`` command, a
sweep, a notebook) applies the same noise rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["GAIN_FLOOR", "GAIN_NOISE_FACTOR", "LandscapeVerdict", "rs_or_rsb"]

#: a 1RSB gain counts only above this many quadrature resolutions: the gain is a difference
#: of two free energies, each computed to about one resolution
GAIN_NOISE_FACTOR = 10.0
#: and never below this absolute level, where the saddle-point solvers' own tolerances
#: (not the quadrature) limit the difference
GAIN_FLOOR = 1e-10


@dataclass(frozen=True)
class LandscapeVerdict:
    """The character of an RS saddle and what decided it.

    Attributes:
        character: ``"RS"`` or ``"RSB"``.
        criterion: the tests that decided it, in words, e.g. ``"replicon, layer pivots
            and the 1RSB optimum"``, or ``"replicon and layer pivots (local stability)"``
            when no 1RSB optimum was searched (an RS verdict then only means locally
            stable: a discontinuous 1RSB transition does not show in the replicon).
        locally_stable: what the local tests said (the replicon, and the pivots at depth
            >= 2, all positive).
        gain: the 1RSB optimum's gain over RS in -beta f, or None (not searched).
        noise: the gain it had to exceed to count, ``max(GAIN_NOISE_FACTOR * resolution,
            GAIN_FLOOR)``, or None.
        resolution: ``noise / GAIN_NOISE_FACTOR``: the quadrature resolution of the gain,
            raised to the floor where it is below it (None when no gain was given).
    """

    character: str
    criterion: str
    locally_stable: bool
    gain: float | None = None
    noise: float | None = None
    resolution: float | None = None

    @property
    def local_only(self) -> bool:
        """True when no 1RSB optimum entered the verdict."""
        return self.gain is None


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def rs_or_rsb(locally_stable: bool, gain: float | None = None,
              resolution: float | None = None, *,
              local_tests: Sequence[str] = ("replicon", "layer pivots")) -> LandscapeVerdict:
    """RS or RSB for a finite-width RS saddle.

    RSB when the local tests fail (``locally_stable`` False: a negative replicon or layer
    pivot), or when a 1RSB optimum was searched and its ``gain`` over RS in -beta f exceeds
    the noise ``max(GAIN_NOISE_FACTOR * resolution, GAIN_FLOOR)``; RS otherwise. A gain
    within the noise is read as none: the quadrature cannot tell it from zero. A NaN gain
    never counts as a gain.

    Args:
        locally_stable: the verdict of the local tests on the RS saddle.
        gain: the 1RSB optimum's gain over RS (a lower bound when it is the best of several
            starts), or None when none was searched.
        resolution: the quadrature resolution of ``gain`` (required with it).
        local_tests: the names of the local tests, for the criterion.

    Returns:
        The verdict with the criterion that decided it and the noise level used.

    Raises:
        ValueError: ``gain`` without ``resolution``, or no local test named.
    """
    if not local_tests:
        raise ValueError("name at least one local test")
    if gain is None:
        return LandscapeVerdict("RS" if locally_stable else "RSB",
                                f"{_and(local_tests)} (local stability)", bool(locally_stable))
    if resolution is None:
        raise ValueError("a 1RSB gain needs its quadrature resolution")
    noise = max(GAIN_NOISE_FACTOR * float(resolution), GAIN_FLOOR)
    rsb = not locally_stable or gain > noise
    return LandscapeVerdict(
        "RSB" if rsb else "RS", _and([*local_tests, "the 1RSB optimum"]),
        bool(locally_stable), float(gain), noise, noise / GAIN_NOISE_FACTOR,
    )

