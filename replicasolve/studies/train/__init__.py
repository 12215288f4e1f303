"""Training torch networks and writing per-epoch weight snapshots (Barney, Winer & Galitski,
arXiv 2408.06421, section 3). torch is imported only by the modules that train.

``from replicasolve.studies.train import train, TrainSettings`` works without importing torch until
one of those names is first used (:mod:`.programs` and :mod:`.loop` import torch).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["TrainRun", "TrainSettings", "build_network", "train"]

_LAZY = {
    "TrainSettings": "programs",
    "build_network": "programs",
    "TrainRun": "loop",
    "train": "loop",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
