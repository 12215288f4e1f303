"""Symbolic (sympy) derivations: replica actions, Hessians, critical temperatures.

Submodules are imported on first attribute access (``replicasolve.symbolic.msk``), so
``import replicasolve.symbolic`` does not pay for importing sympy. Nothing here imports
torch; ``codegen`` is the one bridge to numba (it loads numba only when it imports a
generated module) and uses numpy to broadcast arrays.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["codegen", "kernels", "msk", "parse"]

_SUBMODULES = frozenset(__all__)


def __getattr__(name: str) -> ModuleType:
    # PEP 562 lazy submodules: sympy costs ~0.3 s to import and `import replicasolve`
    # must stay under a second.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
