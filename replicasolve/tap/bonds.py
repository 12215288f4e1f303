"""Couplings of one network instance seen as an Ising spin model.

Neurons are spins and weights are couplings (Barney, Winer & Galitski, arXiv 2408.06421)::

    H(s) = - Σ_l Σ_{i∈l, j∈l-1} W^l_ij s^l_i s^{l-1}_j = -1/2 Σ_ij J_ij s_i s_j

``J`` is symmetric and block tridiagonal with zero diagonal blocks: block ``(l, l-1)`` is
``W^l`` (shape ``(N_l, N_{l-1})``, the layout of ``torch.nn.Linear.weight``). It is kept as
the list of weight matrices and only densified on request.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .. import validation
from ..errors import InvalidInputError

__all__ = ["DenseBonds", "LayeredBonds", "describe_error", "load_weights", "random_layered",
           "read_npz_weights"]


def _as_weight(w: object, index: int) -> np.ndarray:
    arr = np.asarray(w)
    if arr.ndim != 2:
        raise InvalidInputError(
            f"weight matrix {index} must be 2-D (out, in), got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InvalidInputError(f"weight matrix {index} has an empty layer: shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise InvalidInputError(f"weight matrix {index} must be real numbers, got {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InvalidInputError(f"weight matrix {index} has {bad} NaN or infinite entries")
    return np.ascontiguousarray(arr, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class LayeredBonds:
    """Block-tridiagonal couplings of a layered network.

    Attributes:
        weights: ``W^1..W^L``; ``W^l`` has shape ``(N_l, N_{l-1})`` and couples layer
            ``l-1`` (inputs) to layer ``l``.
        sizes: ``N_0..N_L``.
        offsets: index of the first spin of each layer in the flat spin vector,
            shape ``(L+2,)``; layer ``l`` is ``offsets[l]:offsets[l+1]``.
    """

    weights: tuple[np.ndarray, ...]
    sizes: tuple[int, ...] = field(init=False)
    offsets: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ws = tuple(_as_weight(w, i) for i, w in enumerate(self.weights))
        if not ws:
            raise InvalidInputError("need at least one weight matrix")
        for i in range(1, len(ws)):
            if ws[i].shape[1] != ws[i - 1].shape[0]:
                raise InvalidInputError(
                    f"weight matrices {i - 1} and {i} do not chain: {i - 1} has shape "
                    f"{ws[i - 1].shape} (out={ws[i - 1].shape[0]}), {i} has shape "
                    f"{ws[i].shape} (in={ws[i].shape[1]})"
                )
        sizes = (ws[0].shape[1], *(w.shape[0] for w in ws))
        object.__setattr__(self, "weights", ws)
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "offsets", np.concatenate([[0], np.cumsum(sizes)]))

    @property
    def n(self) -> int:
        """Total number of spins ``N = Σ_l N_l``."""
        return int(self.offsets[-1])

    @property
    def n_layers(self) -> int:
        """Number of spin layers ``L + 1``."""
        return len(self.sizes)

    def layer(self, x: np.ndarray, layer: int) -> np.ndarray:
        """The part of a spin-indexed array (first axis) that belongs to ``layer``."""
        return x[self.offsets[layer] : self.offsets[layer + 1]]

    @cached_property
    def d(self) -> np.ndarray:
        """Onsager diagonal ``d_i = Σ_j J_ij²``, shape ``(N,)`` (computed once, then cached).

        Row sums of ``W^l ⊙ W^l`` for layer ``l``'s incoming bonds plus column sums of
        ``W^{l+1} ⊙ W^{l+1}`` for its outgoing ones.
        """
        out = np.zeros(self.n)
        for k, w in enumerate(self.weights):
            w2 = w * w
            self.layer(out, k + 1)[:] += w2.sum(axis=1)
            self.layer(out, k)[:] += w2.sum(axis=0)
        return out

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``J @ x`` for ``x`` of shape ``(N,)`` or ``(N, k)`` without forming ``J``."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[0] != self.n:
            raise InvalidInputError(f"vector has {x.shape[0]} entries, the network {self.n}")
        out = np.zeros_like(x)
        for k, w in enumerate(self.weights):
            self.layer(out, k + 1)[:] += w @ self.layer(x, k)
            self.layer(out, k)[:] += w.T @ self.layer(x, k + 1)
        return out

    def dense(self) -> np.ndarray:
        """``J`` as a dense ``(N, N)`` array (``8 N²`` bytes: only for moderate ``N``)."""
        j = np.zeros((self.n, self.n))
        o = self.offsets
        for k, w in enumerate(self.weights):
            j[o[k + 1] : o[k + 2], o[k] : o[k + 1]] = w
            j[o[k] : o[k + 1], o[k + 1] : o[k + 2]] = w.T
        return j

    def variance_factors(self) -> tuple[float, ...]:
        """Empirical ``C_l = N_{l-1} · mean(W^l²)``: what the instance's weights look like.

        The second moment (not the variance) is used because it is what enters the
        replica average ``E W² = C / N_{l-1}``.
        """
        return tuple(float(w.shape[1] * np.mean(w * w)) for w in self.weights)

    def coupling_scale(self) -> float:
        """``max|W| · sqrt(max N_l)``: the order of magnitude of ``J``'s spectrum, computed
        without squaring (so it is finite for any finite weights)."""
        top = max(float(np.max(np.abs(w))) for w in self.weights)
        return top * math.sqrt(max(self.sizes))

    def scaled(self, factor: float) -> LayeredBonds:
        """The same network with every weight multiplied by ``factor``."""
        return LayeredBonds(tuple(w * factor for w in self.weights))

    def save_npz(self, path: str | os.PathLike) -> None:
        """Write the weights to ``path`` (``.npz``, arrays ``W1..WL`` in layer order)."""
        np.savez(path, **{f"W{k + 1}": w for k, w in enumerate(self.weights)})


@dataclass(frozen=True, eq=False)
class DenseBonds:
    """Couplings given as one dense symmetric matrix ``J`` (zero diagonal), e.g. SK.

    Attributes:
        J: shape ``(N, N)``, symmetric, zero diagonal, finite.
    """

    J: np.ndarray

    def __post_init__(self) -> None:
        j = np.asarray(self.J)
        if j.ndim != 2 or j.shape[0] != j.shape[1] or j.shape[0] == 0:
            raise InvalidInputError(f"J must be a non-empty square matrix, got shape {j.shape}")
        if not np.all(np.isfinite(j)):
            raise InvalidInputError("J has NaN or infinite entries")
        j = np.ascontiguousarray(j, dtype=np.float64)
        if not np.allclose(j, j.T, rtol=0, atol=1e-12 * max(1.0, float(np.abs(j).max()))):
            raise InvalidInputError("J must be symmetric")
        if np.any(np.diag(j) != 0):
            raise InvalidInputError("J must have a zero diagonal (no self-couplings)")
        object.__setattr__(self, "J", j)

    @property
    def n(self) -> int:
        """Number of spins."""
        return int(self.J.shape[0])

    @cached_property
    def d(self) -> np.ndarray:
        """Onsager diagonal ``d_i = Σ_j J_ij²``, shape ``(N,)`` (cached)."""
        return np.einsum("ij,ij->i", self.J, self.J)

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``J @ x``."""
        return self.J @ x

    def dense(self) -> np.ndarray:
        """``J`` itself."""
        return self.J

    def coupling_scale(self) -> float:
        """``max|J| · sqrt(N)``: the order of magnitude of ``J``'s spectrum (no squares)."""
        return float(np.max(np.abs(self.J))) * math.sqrt(self.n)

    def scaled(self, factor: float) -> DenseBonds:
        """The same couplings multiplied by ``factor``."""
        return DenseBonds(self.J * factor)

    @classmethod
    def sk(cls, n: int, seed: int | None = 0, variance: float = 1.0) -> DenseBonds:
        """A Sherrington–Kirkpatrick instance: ``J_ij ~ N(0, variance / N)``, ``i < j``."""
        if int(n) != n or n < 2:
            raise InvalidInputError(f"SK needs N >= 2 spins, got {n}")
        c = validation.variances(variance, 1)[0]
        rng = np.random.default_rng(seed)
        g = rng.standard_normal((n, n)) * np.sqrt(c / n)
        j = np.triu(g, 1)
        return cls(j + j.T)


def random_layered(
    sizes: Sequence[int] | str,
    variance: float | Sequence[float] | str = 2.0,
    seed: int | None = 0,
) -> LayeredBonds:
    """A random layered network: ``W^l_ij ~ N(0, C_l / N_{l-1})`` (Kaiming normal for C=2).

    Args:
        sizes: ``N_0..N_L``.
        variance: ``C`` or ``C_1..C_L``.
        seed: seed of numpy's ``default_rng`` (same seed, same instance on any machine).
    """
    n = validation.layer_sizes(sizes)
    c = validation.variances(variance, len(n) - 1)
    rng = np.random.default_rng(seed)
    ws = [
        rng.standard_normal((n[k + 1], n[k])) * np.sqrt(c[k] / n[k]) for k in range(len(n) - 1)
    ]
    return LayeredBonds(tuple(ws))


def linear_params_of_module(module: object
                            ) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Weights (out, in) and biases of a torch module's ``nn.Linear`` layers, in order.

    Returns ``(weights, biases)``: float64 arrays; ``biases`` is None when no layer has one,
    and a layer built with ``bias=False`` among others gets a zero bias.

    Raises:
        InvalidInputError: not a ``torch.nn.Module``, no ``nn.Linear`` layer, or a
            convolution layer (read those with :func:`replicasolve.tap.conv.conv_network`).
    """
    import torch  # lazy: only this path needs torch

    if not isinstance(module, torch.nn.Module):
        raise InvalidInputError(f"expected a torch.nn.Module, got {type(module).__name__}")
    conv = [type(m).__name__ for m in module.modules() if "Conv" in type(m).__name__]
    if conv:  # its Linear layers alone would be a different network
        raise InvalidInputError(
            f"the torch module has convolution layers ({conv[0]}): read it with "
            "replicasolve.tap.conv.conv_network(module, input_shape)")
    lin = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    if not lin:
        raise InvalidInputError("the torch module has no nn.Linear layers")
    ws = [m.weight.detach().cpu().double().numpy() for m in lin]
    if all(m.bias is None for m in lin):
        return ws, None
    return ws, [np.zeros(w.shape[0]) if m.bias is None else m.bias.detach().cpu().double().numpy()
                for m, w in zip(lin, ws, strict=True)]


def linear_params_of_state_dict(state: Mapping[str, Any], source: str
                                ) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Weights and biases from a state dict: every 2-D ``*weight`` tensor in order, with the
    ``*bias`` of the same prefix (absent: zero; None when no layer has a bias).

    Raises:
        InvalidInputError: no 2-D ``*weight`` tensor, or a convolution's (more than 2-D)
            ``*weight`` tensor (the message names ``source``).
    """
    def arr(v: Any) -> np.ndarray:
        return np.asarray(v.detach().cpu().double().numpy() if hasattr(v, "detach") else v)

    ws, bs = [], []
    for key, value in state.items():
        key = str(key)
        if key.endswith("weight") and getattr(value, "ndim", 0) > 2:
            # its 2-D weights alone would be a different network
            raise InvalidInputError(
                f"{source}: '{key}' is a {value.ndim}-D (convolution) weight; describe a "
                "convolutional network in a .json file that names this state dict")
        if key.endswith("weight") and getattr(value, "ndim", 0) == 2:
            ws.append(arr(value))
            b = state.get(key[: -len("weight")] + "bias")
            bs.append(None if b is None else arr(b))
    if not ws:
        raise InvalidInputError(f"{source}: no 2-D '*weight' tensors in the state dict")
    if all(b is None for b in bs):
        return ws, None
    return ws, [np.zeros(w.shape[0]) if b is None else b for w, b in zip(ws, bs, strict=True)]


def read_torch_params(path: str | os.PathLike
                      ) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Weights and biases of the linear layers in a ``.pt``/``.pth`` file (a state dict or a
    checkpoint ``{"state_dict": ...}``), read safely by :func:`read_torch_file`.

    Raises:
        InvalidInputError: unreadable file, or it holds neither a state dict nor a module.
    """
    obj = read_torch_file(path)
    if isinstance(obj, Mapping):
        inner = obj.get("state_dict")
        return linear_params_of_state_dict(inner if isinstance(inner, Mapping) else obj,
                                           str(path))
    if hasattr(obj, "modules") and hasattr(obj, "parameters"):
        return linear_params_of_module(obj)
    raise InvalidInputError(f"{path}: holds a {type(obj).__name__}, not a state dict")


def read_torch_file(path: str | os.PathLike) -> Any:
    """What a torch ``.pt``/``.pth`` file holds (a state dict, a checkpoint dict or a module),
    loaded on the CPU with ``weights_only=True`` (no arbitrary unpickling).

    Raises:
        InvalidInputError: torch is not installed, or the file is not readable (names it).
    """
    try:
        import torch
    except ImportError:
        raise InvalidInputError(
            f"{path}: reading .pt files needs torch: pip install 'replicasolve[torch]'"
        ) from None
    _check_fits(path, 3 * os.path.getsize(path), "its tensors (as float64)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # torch raises many types for a corrupt file (KeyError, ...)
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        if found:
            # torch's own text is long, with terminal escapes: say it in one plain line
            raise InvalidInputError(
                f"{path}: holds pickled Python objects ({found.group(1)}), which are not "
                "loaded: unpickling can run arbitrary code (unsafe); save the model's "
                "state_dict() (a convolutional network: replicasolve.tap.conv.save_conv_spec)"
            ) from None
        raise InvalidInputError(
            f"{path}: not a readable torch weights file ({describe_error(exc)}); save the "
            "model's state_dict() (whole pickled modules are not loaded: unsafe)"
        ) from None


def describe_error(exc: BaseException, limit: int = 160) -> str:
    """``Type: message`` of ``exc`` on one line, cut to ``limit`` characters: what an error
    message says about an exception raised by a reader it does not control (torch, zipfile,
    matplotlib)."""
    text = " ".join(str(exc).split())
    out = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return out if len(out) <= limit else out[: limit - 3] + "..."


def _check_fits(path: str | os.PathLike, nbytes: float, what: str) -> None:
    """Refuse a file whose contents would not fit in this machine's memory, before reading."""
    from ..files import format_bytes, memory_limit

    limit = memory_limit()
    if limit is not None and nbytes > limit:
        raise InvalidInputError(
            f"{path}: {what} need {format_bytes(nbytes)} of memory; this machine has "
            f"{format_bytes(limit)}"
        )


def _npz_header(fh: Any) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of one ``.npy`` member, from its header alone."""
    from numpy.lib import format as npy

    version = npy.read_magic(fh)
    if version == (1, 0):
        shape, _, dtype = npy.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, _, dtype = npy.read_array_header_2_0(fh)
    else:  # (3, 0): a utf-8 header, read by numpy's own (private) reader
        shape, _, dtype = npy._read_array_header(fh, version)
    return tuple(int(v) for v in shape), np.dtype(dtype)


def read_npz_weights(path: str | os.PathLike) -> list[np.ndarray]:
    """The 2-D arrays of an ``.npz`` file in file order (other arrays are not read).

    Every member's header is read first, so a file whose weights would not fit in memory
    (or a small archive that claims huge arrays) is refused before anything is loaded.

    Raises:
        InvalidInputError: not a readable ``.npz`` (the message names the file and why), no
            2-D arrays, or weights that would not fit in memory.
    """
    import zipfile

    path = Path(path)
    try:
        with zipfile.ZipFile(path) as z:
            names = []
            need = 0
            for info in z.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with z.open(info) as fh:
                    shape, dtype = _npz_header(fh)
                if len(shape) == 2:
                    names.append(info.filename[: -len(".npy")])
                    # the array as stored, plus the float64 copy the bonds keep
                    need += math.prod(shape) * (dtype.itemsize + 8)
            total = len([i for i in z.infolist() if i.filename.endswith(".npy")])
        if not names:
            held = "it holds no arrays" if total == 0 else f"its {total} arrays are not 2-D"
            raise InvalidInputError(f"{path}: no 2-D weight arrays in the file ({held})")
        _check_fits(path, need, "its weight matrices")
        with np.load(path, allow_pickle=False) as f:
            return [f[k] for k in names]
    except (InvalidInputError, MemoryError):
        raise
    except Exception as exc:  # zipfile, zlib, numpy's header checks: many types
        raise InvalidInputError(
            f"{path}: not a readable .npz file ({describe_error(exc)})") from None


def load_weights(source: str | os.PathLike | object) -> LayeredBonds:
    """Bonds from weights: a ``.npz`` file, a torch ``.pt`` file, a module, or a list.

    Args:
        source: a path to ``.npz`` (2-D arrays in file order, e.g. ``W1..WL`` or
            ``arr_0..``), a path to ``.pt``/``.pth`` holding a state dict (its 2-D
            ``*.weight`` tensors in order) or a whole module, a ``torch.nn.Module`` (its
            ``nn.Linear`` layers in order), or an iterable of arrays shaped ``(out, in)``.
            Biases are not couplings and are ignored here.

    Raises:
        InvalidInputError: missing or unreadable file, no weights, shapes that do not
            chain, NaN or infinite weights.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            raise InvalidInputError(f"{path}: is a directory, not a weights file")
        if not path.is_file():
            raise InvalidInputError(f"{path}: no such file")
        suffix = path.suffix.lower()
        if suffix == ".npz":
            return LayeredBonds(tuple(read_npz_weights(path)))
        if suffix in (".pt", ".pth"):
            return LayeredBonds(tuple(read_torch_params(path)[0]))
        raise InvalidInputError(f"{path}: unknown weight file type {suffix!r} (use .npz or .pt)")
    if hasattr(source, "modules") and hasattr(source, "parameters"):
        return LayeredBonds(tuple(linear_params_of_module(source)[0]))
    if isinstance(source, Iterable):
        return LayeredBonds(tuple(source))
    raise InvalidInputError(f"cannot read weights from a {type(source).__name__}")
