"""The finite-width landscape of a random MLP: saddles of the layer-overlap action.

Most scripts reach these through ``replicasolve.solve(FiniteWidthLandscape(...), method)``;
the modules hold the solvers themselves:

- :mod:`.rs`: the RS saddle at any depth (:func:`~.rs.finite_width_rs`);
- :mod:`.replicon`, :mod:`.deep`: its replicon at depth 1 and at any depth, and the RS → RSB
  line in T (:func:`~.deep.replicon_boundary`);
- :mod:`.krsb`, :mod:`.rsb`: k-step RSB at depth 1 (:func:`~.krsb.finite_width_krsb`);
- :mod:`.deep_rsb`: 1RSB at any depth (:func:`~.deep_rsb.finite_width_1rsb_deep`);
- :mod:`.numerics`: the quadrature rules, grids and tilted moments they share.
"""
