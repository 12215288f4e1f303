"""Torch networks: random MLPs (finite-width checks of the kernels), later trained nets.

Only this subpackage imports torch, and only inside functions (``import replicasolve``
never loads it).
"""
