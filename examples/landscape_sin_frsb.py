"""Published finding (Hanin & Winer, arXiv 2503.23982): sin networks give full RSB.

Checked here in the infinite-width (Gaussian) limit, where the landscape is the spherical
mixed p-spin model with ξ = K_{L+1}. This naive mapping need not produce full RSB for sin
(the published result keeps widths proportional to N, where H is not Gaussian); this script
measures it: RS replicon, the RS/1RSB/2RSB gains (`phase`), and the
Subag/Chen–Sen condition for full RSB at T = 0 (ξ''^{-1/2} concave).
"""

from __future__ import annotations

from replicasolve.models.landscape import RandomMLPLandscape
from replicasolve.solvers.landscape import character

CASES = [(1, 1.0), (1, 4.0), (2, 2.0), (3, 2.0)]
TEMPS = (0.05, 0.2, 0.5)


def main() -> None:
    print("sin landscapes, infinite width: full RSB?")
    found_frsb = False
    for depth, sw2 in CASES:
        land = RandomMLPLandscape("sin", depth, sw2, 0.0)
        print(f"\nsin, depth {depth}, sigma_w2 = {sw2}")
        for T in TEMPS:
            ch = character(land, T)
            found_frsb |= ch.label == "FRSB"
            print(f"  T = {T:4.2f}: {ch.label:5s} ({ch.criterion})")
        ch0 = character(land, 0.0)
        found_frsb |= ch0.label == "FRSB"
        print(f"  T = 0   : {ch0.label:5s} ({ch0.criterion})")
    if found_frsb:
        print("\nAGREES: full RSB found for sin in the Gaussian limit")
    else:
        print("\nDISAGREES: in the Gaussian (infinite-width) limit sin gives RS or 1RSB, not "
              "full RSB, and xi''^(-1/2) is never concave on (0, 1]. As expected: "
              "the published result uses widths proportional to N (the layer-overlap action, "
              "non-Gaussian H); see examples/landscape_finite_width_sin_krsb.py for that "
              "action.")


if __name__ == "__main__":
    main()
