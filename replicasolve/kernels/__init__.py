"""Gaussian dual activation kernels E[φ(u)φ(v)] and their composition over depth.

Submodules (import them explicitly; this package imports nothing heavy):

- :mod:`replicasolve.kernels.numeric` – Gauss–Hermite quadrature and Monte Carlo tiers for any
  vectorised activation, Price's-theorem derivatives and the depth composition ξ(q).
"""
