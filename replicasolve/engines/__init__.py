"""Finite-N engines: Monte Carlo of Ising spins (:mod:`.ising`: single-flip and parallel
tempering on dense or layered couplings) and of inputs on the sphere (:mod:`.sphere`: one
engine, great-circle or pair-rotation moves, single temperature or parallel tempering).
Every result is on the library's result contract, with the one ``converged`` verdict of
:mod:`.convergence` (the run long against its own autocorrelation time; for parallel
tempering also working exchanges and walkers that travel the ladder). The studies
(:mod:`replicasolve.studies`) set them against the replica theory."""
