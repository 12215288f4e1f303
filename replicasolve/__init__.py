"""replicasolve: the statistical mechanics of neural networks, derived and checked.

The top-level namespace is kept light (numpy only) so that ``import replicasolve`` is
fast; sympy, torch and scipy's heavier parts are imported by the modules that use them.

Main entry points (see the README):

- :func:`replicasolve.models.msk.msk_critical` – replica theory of layered networks.
- :class:`replicasolve.tap.bonds.LayeredBonds` – one network instance as a spin model.
- :func:`replicasolve.tap.critical.tap_critical` – its TAP critical temperature.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
