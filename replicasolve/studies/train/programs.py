"""The two training programs of Barney, Winer & Galitski (arXiv 2408.06421, section 3, Table 1).

Both are MLPs on MNIST (784 → 512 → 512 → 512 → 10 in the paper) trained by SGD with
momentum 0.9, batch 32, on the multi-class hinge loss with margin 10:

- ``"standard"``: ReLU hidden layers; the final layer is a linear SVM (a plain linear
  output trained with the hinge loss).
- ``"binarized"``: the input (pixels mapped to ``2x − 1``) and every hidden layer pass
  through ``sign`` (±1, ``sign(0) = +1``); the backward pass uses the hard-tanh
  straight-through estimator, gradient × ``1{|pre-activation| ≤ 1}``. The weights stay
  real-valued (they are the couplings of the spin model); the final layer is linear.

The network is an ``nn.Sequential`` whose ``nn.Linear`` layers, in order, hold the couplings
``W^1..W^L`` (shape ``(out, in)``), so :func:`replicasolve.tap.load_weights` reads it
directly. Weights start as ``N(0, C / fan_in)`` (Kaiming normal; ``C = init_gain2``, default
2 as torch's ``kaiming_normal_`` with its ReLU gain), biases at zero.

Learning rates. The paper gives only a "larger" and a "100× smaller" learning rate, not
their values. The larger one was chosen by measurement on the embedded MNIST subset (4,000
training and 1,000 validation images), 784-512-512-512-10, C = 2, batch 32, momentum 0.9,
margin 10, seed 0, 10 epochs per value, the shuffles of :mod:`.loop`. Mean training hinge
loss over epochs 1, 2 and 10 and the validation error after epoch 10 (loss at the
initialisation 9.02 standard, 9.08 binarized)::

    lr       standard: e1    e2     e10    val     binarized: e1   e2     e10    val
    1e-4               8.93  8.71   3.54   0.232              8.64  7.55   1.99   0.224
    3e-4               8.75  7.83   0.880  0.141              7.75  4.58   0.844  0.146
    1e-3               7.65  2.23   0.413  0.111              5.25  1.58   0.338  0.121
    3e-3               4.38  0.770  0.208  0.085              3.23  0.790  0.123  0.095
    1e-2               2.45  0.491  0.043  0.066              2.16  0.597  0.050  0.084 *
    3e-2               1.77  0.355  0.008  0.055 *            2.20  1.18   7.60   0.708
    1e-1               1.79  0.529  0.023  0.057              7.23  11.2   11.8   0.900
    3e-1               diverges (inf, NaN weights)            15.6  17.8   18.7   0.900

The rule: the value with the lowest training loss after 10 epochs whose loss decreases
steadily (*). Above it the standard net first slows down and at 0.3 diverges; the binarized
net's loss turns upwards from epoch 4 at 3e-2. A second seed over longer runs agrees:
standard 3e-2 reaches loss 0.001 after 30 epochs (val 0.054; 1e-1: 0.006, 0.058), binarized
1e-2 reaches 0.001 after 40 epochs (val 0.074) while 2e-2 stalls at 0.28 (val 0.124). So
``lr_preset="large"`` is 3e-2 (standard) and 1e-2 (binarized); ``"small"`` keeps the
paper's ratio: 3e-4 and 1e-4.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from ...errors import InvalidInputError
from ...validation import finite_real

__all__ = [
    "LARGE_LR",
    "PAPER_EPOCHS",
    "PROGRAMS",
    "SignSTE",
    "TrainSettings",
    "build_network",
    "hinge_loss",
    "sign_ste",
]

PROGRAMS = ("standard", "binarized")
LR_PRESETS = ("large", "small")
# measured, see the module docstring; "small" is the paper's 100× smaller rate
LARGE_LR = {"standard": 3e-2, "binarized": 1e-2}
SMALL_LR_RATIO = 100.0
# epochs of the published programs (Table 1)
PAPER_EPOCHS = {
    ("standard", "large"): 60,
    ("standard", "small"): 960,
    ("binarized", "large"): 500,
    ("binarized", "small"): 960,
}


def _whole(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool):
        raise InvalidInputError(f"{name} must be a whole number, got {value!r}")
    try:
        v = operator.index(value)  # ints and numpy ints; 3.0 or "3" are refused
    except TypeError:
        raise InvalidInputError(f"{name} must be a whole number, got {value!r}") from None
    if v < minimum:
        raise InvalidInputError(f"{name} must be >= {minimum}, got {v}")
    return v


def _real(value: Any, name: str) -> float:
    if isinstance(value, bool):  # float(True) == 1.0 would hide a mistake
        raise InvalidInputError(f"{name} must be a number, got {value!r}")
    return finite_real(value, name)


@dataclass(frozen=True)
class TrainSettings:
    """What to train and how (one published program of arXiv 2408.06421, Table 1).

    Attributes:
        program: ``"standard"`` (ReLU, linear SVM head) or ``"binarized"`` (sign, STE).
        hidden: hidden layer widths (the paper: ``(512, 512, 512)``).
        lr: SGD learning rate; ``None`` takes the preset (see :attr:`learning_rate`).
        lr_preset: ``"large"`` (measured, see the module docstring) or ``"small"``
            (large / 100, the paper's ratio). Ignored when ``lr`` is given.
        momentum: SGD momentum in ``[0, 1)``.
        batch_size: images per SGD step.
        margin: margin of the multi-class hinge loss.
        epochs: passes over the training set; ``None``: the paper's count for this
            program and preset (60 / 960 standard, 500 / 960 binarized).
        seed: seeds the initialisation and every epoch's shuffle (integer >= 0).
        data: MNIST source for :func:`replicasolve.data.load_mnist`.
        n_train: training images used (the first ones; ``None``: all).
        n_val: validation images used (``None``: all).
        init_gain2: ``C`` of the initialisation ``W ~ N(0, C / fan_in)`` (2: Kaiming/ReLU).
    """

    program: str = "standard"
    hidden: tuple[int, ...] = (512, 512, 512)
    lr: float | None = None
    lr_preset: str = "large"
    momentum: float = 0.9
    batch_size: int = 32
    margin: float = 10.0
    epochs: int | None = None
    seed: int = 0
    data: str = "embedded"
    n_train: int | None = None
    n_val: int | None = None
    init_gain2: float = 2.0

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if self.program not in PROGRAMS:
            raise InvalidInputError(f"program must be one of {PROGRAMS}, got {self.program!r}")
        if self.lr_preset not in LR_PRESETS:
            raise InvalidInputError(
                f"lr_preset must be one of {LR_PRESETS}, got {self.lr_preset!r}"
            )
        hidden = self.hidden
        if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
            raise InvalidInputError(f"hidden must be a sequence of widths, got {hidden!r}")
        widths = tuple(_whole(h, "hidden width", 1) for h in hidden)
        if not widths:
            raise InvalidInputError("hidden needs at least one layer width")
        put("hidden", widths)
        if self.lr is not None:
            lr = _real(self.lr, "lr")
            if lr <= 0:
                raise InvalidInputError(f"lr must be > 0, got {lr}")
            put("lr", lr)
        momentum = _real(self.momentum, "momentum")
        if not 0 <= momentum < 1:
            raise InvalidInputError(f"momentum must be in [0, 1), got {momentum}")
        put("momentum", momentum)
        put("batch_size", _whole(self.batch_size, "batch_size", 1))
        margin = _real(self.margin, "margin")
        if margin <= 0:
            raise InvalidInputError(f"margin must be > 0, got {margin}")
        put("margin", margin)
        if self.epochs is None:
            put("epochs", PAPER_EPOCHS[(self.program, self.lr_preset)])
        else:
            put("epochs", _whole(self.epochs, "epochs", 0))
        put("seed", _whole(self.seed, "seed", 0))
        if isinstance(self.data, bytes) or not (
            isinstance(self.data, str) or hasattr(self.data, "__fspath__")
        ):
            raise InvalidInputError(f"data must be a source string or a path, got {self.data!r}")
        data = str(self.data) if isinstance(self.data, str) else str(self.data.__fspath__())
        if not data:
            raise InvalidInputError("data must not be empty (use 'embedded')")
        put("data", data)
        for name in ("n_train", "n_val"):
            value = getattr(self, name)
            if value is not None:
                put(name, _whole(value, name, 1))
        c = _real(self.init_gain2, "init_gain2")
        if c <= 0:
            raise InvalidInputError(f"init_gain2 (C) must be > 0, got {c}")
        put("init_gain2", c)

    @property
    def learning_rate(self) -> float:
        """The learning rate in force: ``lr`` if given, else the preset's value."""
        if self.lr is not None:
            return float(self.lr)
        large = LARGE_LR[self.program]
        return large if self.lr_preset == "large" else large / SMALL_LR_RATIO

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of the fields (``hidden`` as a list)."""
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainSettings:
        """Inverse of :meth:`to_dict`; unknown keys are an error (a typo is not ignored)."""
        if not isinstance(d, Mapping):
            raise InvalidInputError(f"settings must be a mapping, got {type(d).__name__}")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise InvalidInputError(f"unknown training settings: {', '.join(unknown)}")
        kw = dict(d)
        if "hidden" in kw and isinstance(kw["hidden"], list):
            kw["hidden"] = tuple(kw["hidden"])
        return cls(**kw)


# --------------------------------------------------------------------------- layers


class SignSTE(torch.autograd.Function):
    """``sign`` forward (``sign(0) = +1``); hard-tanh straight-through estimator backward.

    Backward: ``grad_in = grad_out · 1{|x| ≤ 1}``, the derivative of ``hardtanh(x)``
    (Courbariaux et al., arXiv 1602.02830; used by arXiv 2408.06421).
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return _sign(x)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad_out * (x.abs() <= 1).to(grad_out.dtype)


def _sign(x: torch.Tensor) -> torch.Tensor:
    # torch.sign(0) = 0 would leave a spin undefined: ±1 only
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


def sign_ste(x: torch.Tensor) -> torch.Tensor:
    """``SignSTE.apply(x)``: ±1 forward, hard-tanh straight-through gradient."""
    return SignSTE.apply(x)


class _SignSTE(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return sign_ste(x)


class _BinarizeInput(nn.Module):
    """Pixels in [0, 1] → ``sign(2x − 1)`` in {±1} (no parameters before it: no gradient)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _sign(2 * x - 1)


def build_network(
    settings: TrainSettings, input_size: int = 784, n_classes: int = 10
) -> nn.Sequential:
    """The network of ``settings.program``, initialised from ``settings.seed``.

    Weights ``W^l ~ N(0, C / fan_in)`` with ``C = settings.init_gain2``, biases 0. The
    draws come from numpy's ``default_rng`` on ``SeedSequence(seed, spawn_key=(0,))``
    (the epoch shuffles use other spawn keys), so the same seed gives the same network on
    any machine and torch version.

    Args:
        settings: the program, hidden widths, seed and ``C``.
        input_size: input dimension (784 for MNIST).
        n_classes: outputs (10 digits).

    Returns:
        ``nn.Sequential`` of ``nn.Linear`` layers (float32) with ReLU (standard) or sign-STE
        (binarized, plus the input binarisation) in between; the last layer is linear.
    """
    import numpy as np

    input_size = _whole(input_size, "input_size", 1)
    n_classes = _whole(n_classes, "n_classes", 2)
    sizes = (input_size, *settings.hidden, n_classes)
    rng = np.random.default_rng(np.random.SeedSequence(settings.seed, spawn_key=(0,)))
    layers: list[nn.Module] = []
    if settings.program == "binarized":
        layers.append(_BinarizeInput())
    for k in range(len(sizes) - 1):
        lin = nn.Linear(sizes[k], sizes[k + 1])
        std = math.sqrt(settings.init_gain2 / sizes[k])
        w = rng.standard_normal((sizes[k + 1], sizes[k])) * std
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.astype(np.float32)))
            lin.bias.zero_()
        layers.append(lin)
        if k < len(sizes) - 2:
            layers.append(nn.ReLU() if settings.program == "standard" else _SignSTE())
    return nn.Sequential(*layers)


def hinge_loss(outputs: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    """Multi-class hinge loss (Crammer–Singer style sum over wrong classes, as torch's).

    ``torch.nn.functional.multi_margin_loss(outputs, labels, margin=margin)`` with p = 1:
    per image ``Σ_{i ≠ y} max(0, margin − x_y + x_i) / n_classes`` (divided by the number
    of classes, including the correct one), then the mean over the batch.

    Args:
        outputs: ``(batch, n_classes)`` scores.
        labels: ``(batch,)`` int64 classes.
        margin: the margin (10 in arXiv 2408.06421).
    """
    return nn.functional.multi_margin_loss(outputs, labels, margin=float(margin))
