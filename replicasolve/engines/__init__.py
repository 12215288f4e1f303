"""Finite-N engines: Monte Carlo of Ising spins and of inputs on the sphere.

- :mod:`replicasolve.engines.ising`: single-spin flips (Metropolis or heat bath) and
  parallel tempering, on dense or layered couplings;
- :mod:`replicasolve.engines.block`: the layer-parallel heat bath for layered couplings
  (a feed-forward network's spin model): the spins of one layer do not interact, so a whole
  layer, for every replica and temperature at once, is resampled exactly from one matrix
  product per neighbouring layer, on numpy/BLAS or torch (CPU or CUDA); same results
  (``MCResult``, ``PTResult``) as the single-flip engine;
- :mod:`replicasolve.engines.sphere`: inputs on the sphere (great-circle or pair-rotation
  moves, single temperature or parallel tempering);
- :mod:`replicasolve.engines.montecarlo`: the ``MonteCarlo`` method object of
  ``replicasolve.solve``; :mod:`replicasolve.engines.settings`: the run-setting checks.

Every result is on the library's result contract, with the one ``converged`` verdict of
:mod:`replicasolve.engines.convergence` (the run long against its own autocorrelation time;
for parallel tempering also working exchanges and walkers that travel the ladder). The
studies (:mod:`replicasolve.studies`) set them against the replica theory."""
