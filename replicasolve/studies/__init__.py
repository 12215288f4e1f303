"""Studies: the theory set against real networks and finite-N engines.

They combine the solvers (below) and the Monte Carlo engines (:mod:`replicasolve.engines`)
on concrete instances: Binder crossings and energies against the replica theory
(:mod:`.theory_check`), the finite-width landscape against parallel tempering on the sphere
(:mod:`.landscape_check`), the spin-glass descriptor of a trained network
(:mod:`.descriptor`), landscape phase diagrams (:mod:`.landscape_diagram`), and training
runs with their per-epoch TAP scans (:mod:`.train`, :mod:`.scan`).
"""
