"""Finite-N engines: Monte Carlo of Ising spins (:mod:`.ising`: single-flip and parallel
tempering on dense or layered couplings) and of inputs on the sphere (:mod:`.sphere`).
The studies (:mod:`replicasolve.studies`) set them against the replica theory."""
