"""Convolutional networks as layered spin models: a ``Conv2d`` as a sparse coupling block.

A 2-D convolution maps a feature map of ``C×H×W`` neurons to one of ``C'×H'×W'`` neurons,

    y[o, i', j'] = Σ_{c, a, b} K[o, c, a, b] · x[c, i'·s_h - p_h + a·d_h, j'·s_w - p_w + b·d_w]

(zero padding: terms whose input position falls outside the map are absent; stride s,
padding p, dilation d; the cross-correlation convention of ``torch.nn.Conv2d``, Dumoulin &
Visin, arXiv 1603.07285). With both maps flattened in C order (channel, row, column, the
layout of ``torch.flatten``) this is ``y = W x`` for a sparse ``(C'H'W', CHW)`` matrix ``W``
whose row ``(o, i', j')`` holds ``K[o, c, a, b]`` at column ``(c, i, j)`` of every tap that
lands inside the map. In the spin model of a network (neurons → spins, weights → couplings,
biases → fields; Barney, Winer & Galitski, arXiv 2408.06421) ``W`` is the coupling block
between the two layers, exactly as a ``Linear`` weight is, and a channel's bias is the
field on each of its ``H'W'`` spins.

:class:`ConvBlock` holds the kernel only and is never densified by the engines: the block
engine applies it as a scipy CSR matrix (numpy backend) or as ``conv2d`` / its adjoint
``conv_transpose2d`` (torch backend, nothing materialised). A CSR block has exactly

    nnz = C' · C · n_h · n_w,   n_h = #{(i', a): 0 ≤ i'·s_h - p_h + a·d_h < H}  (n_w alike)

entries; it is counted before it is built, and refused beyond :data:`MAX_BLOCK_NNZ` (32-bit
indices) or beyond this machine's memory. A dense copy (the single-spin-flip engine, or
:meth:`ConvBlock.dense`) is made only up to :data:`MAX_DENSE_ENTRIES` entries and refused
beyond.

Reading a network: :func:`conv_network_of_module` reads a ``torch.nn.Module`` by tracing it
(``torch.fx``) on an example input shape; :func:`read_conv_spec` reads a JSON description
plus a state dict loaded with ``torch.load(weights_only=True)`` (or an ``.npz``), so no
arbitrary object is ever unpickled; :func:`save_conv_spec` writes that pair from a module.
Supported: ``Conv2d`` (groups 1, zero padding), ``Linear``, flattening and reshaping, and
elementwise activations (ignored: spins are the signs of the neurons). Anything else
(pooling, normalisation, residual connections, ...) is refused with the layer's name.

torch is imported only inside the functions that read torch modules or run torch products,
scipy only when a CSR block is built.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .bonds import LayeredBonds, describe_error, read_torch_file

__all__ = [
    "MAX_BLOCK_NNZ",
    "MAX_DENSE_ENTRIES",
    "SPEC_FORMAT",
    "ConvBlock",
    "ConvLayeredBonds",
    "ConvNetwork",
    "conv_network",
    "conv_network_of_module",
    "conv_output_size",
    "is_conv_source",
    "read_conv_spec",
    "save_conv_spec",
]

#: most stored entries of one CSR block: its column indices are 32-bit
MAX_BLOCK_NNZ = 2**31 - 1
#: most entries of a dense copy of a block (2^25: 268 MB in float64)
MAX_DENSE_ENTRIES = 2**25
#: the ``format`` field of a JSON network description
SPEC_FORMAT = "replicasolve-cnn/1"
_MAX_SPEC_BYTES = 10_000_000

# elementwise activations: a spin is the sign of its neuron, so they are skipped
_ACTIVATION_MODULES = (
    "ReLU",
    "ReLU6",
    "Tanh",
    "Sigmoid",
    "Hardtanh",
    "Hardsigmoid",
    "Hardswish",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "SELU",
    "CELU",
    "GELU",
    "SiLU",
    "Mish",
    "Softplus",
    "Softsign",
    "LogSigmoid",
    "Tanhshrink",
    "Identity",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "AlphaDropout",
    "FeatureAlphaDropout",
)
_ACTIVATION_NAMES = (
    "relu",
    "relu6",
    "tanh",
    "sigmoid",
    "sign",
    "hardtanh",
    "hardsigmoid",
    "hardswish",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "silu",
    "mish",
    "softplus",
    "softsign",
    "logsigmoid",
    "identity",
    "dropout",
)
_NEUTRAL_METHODS = ("contiguous", "clone", "float", "double", "detach")


def _pair(v: Any, what: str, low: int) -> tuple[int, int]:
    vals = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(vals) != 2 or not all(
        isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x >= low for x in vals
    ):
        raise InvalidInputError(
            f"{what} must be a whole number >= {low} or a pair of them, got {v!r}"
        )
    return int(vals[0]), int(vals[1])


def conv_output_size(
    n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length of a convolution along one axis (``torch.nn.Conv2d``'s formula):
    ``⌊(n + 2p - d(k-1) - 1)/s⌋ + 1``; 0 or less when the kernel does not fit."""
    return (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _axis_taps(
    n_in: int, n_out: int, k: int, s: int, p: int, d: int
) -> tuple[np.ndarray, np.ndarray]:
    """Input position of tap a at output position o, shape ``(n_out, k)``, and its validity."""
    pos = np.arange(n_out)[:, None] * s - p + np.arange(k)[None, :] * d
    return pos, (pos >= 0) & (pos < n_in)


@dataclass(frozen=True, eq=False)
class ConvBlock:
    """The coupling block of one ``Conv2d`` between two flattened feature maps (sparse).

    Attributes:
        kernel: ``K``, shape ``(C', C, k_h, k_w)`` (``torch.nn.Conv2d.weight``), float64.
        in_shape: ``(C, H, W)`` of the input map.
        stride, padding, dilation: ``(s_h, s_w)``, ``(p_h, p_w)`` (zeros), ``(d_h, d_w)``.
        out_shape: ``(C', H', W')`` of the output map.

    ``shape`` is ``(C'H'W', CHW)``, the layout of a ``Linear`` weight (out, in).
    """

    kernel: np.ndarray
    in_shape: tuple[int, int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    out_shape: tuple[int, int, int] = field(init=False)
    _csr: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        k = np.asarray(self.kernel)
        if k.ndim != 4 or 0 in k.shape:
            raise InvalidInputError(
                f"a Conv2d kernel must be 4-D (out, in, kh, kw) and non-empty, got {k.shape}"
            )
        if not np.issubdtype(k.dtype, np.number) or np.iscomplexobj(k):
            raise InvalidInputError(f"a Conv2d kernel must hold real numbers, got {k.dtype}")
        if not np.all(np.isfinite(k)):
            raise InvalidInputError("a Conv2d kernel has NaN or infinite entries")
        shape = tuple(self.in_shape) if isinstance(self.in_shape, (tuple, list)) else ()
        if len(shape) != 3 or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in shape
        ):
            raise InvalidInputError(
                f"in_shape must be (C, H, W) of whole numbers >= 1, got {self.in_shape!r}"
            )
        shape = tuple(int(v) for v in shape)
        if shape[0] != k.shape[1]:
            raise InvalidInputError(
                f"the Conv2d kernel {tuple(k.shape)} takes {k.shape[1]} input channels, the "
                f"feature map {shape} has {shape[0]}"
            )
        s = _pair(self.stride, "stride", 1)
        p = _pair(self.padding, "padding", 0)
        d = _pair(self.dilation, "dilation", 1)
        ho = conv_output_size(shape[1], k.shape[2], s[0], p[0], d[0])
        wo = conv_output_size(shape[2], k.shape[3], s[1], p[1], d[1])
        if ho < 1 or wo < 1:
            raise InvalidInputError(
                f"the Conv2d kernel {k.shape[2]}x{k.shape[3]} (dilation {d}) does not fit the "
                f"{shape[1]}x{shape[2]} map padded by {p}"
            )
        set_ = object.__setattr__
        set_(self, "kernel", np.ascontiguousarray(k, dtype=np.float64))
        set_(self, "in_shape", shape)
        set_(self, "stride", s)
        set_(self, "padding", p)
        set_(self, "dilation", d)
        set_(self, "out_shape", (int(k.shape[0]), int(ho), int(wo)))

    # ----------------------------------------------------------------- sizes

    @property
    def shape(self) -> tuple[int, int]:
        """``(C'H'W', CHW)``: (output spins, input spins)."""
        return (math.prod(self.out_shape), math.prod(self.in_shape))

    @property
    def ndim(self) -> int:
        """2: the block is a matrix."""
        return 2

    @property
    def nnz(self) -> int:
        """Stored entries of the CSR form: ``C' · C · n_h · n_w`` (module notes), exact,
        computed from the geometry without building anything."""
        c_out, c_in, kh, kw = self.kernel.shape
        _, vh = _axis_taps(
            self.in_shape[1],
            self.out_shape[1],
            kh,
            self.stride[0],
            self.padding[0],
            self.dilation[0],
        )
        _, vw = _axis_taps(
            self.in_shape[2],
            self.out_shape[2],
            kw,
            self.stride[1],
            self.padding[1],
            self.dilation[1],
        )
        return c_out * c_in * int(vh.sum()) * int(vw.sum())

    def csr_bytes(self, dtype: Any = np.float64) -> int:
        """Memory of the CSR form in ``dtype``: values, 32-bit column indices, row pointers,
        plus the index pattern of one output channel built on the way (bytes)."""
        _, c_in, kh, kw = self.kernel.shape
        pattern = self.out_shape[1] * self.out_shape[2] * c_in * kh * kw
        return self.nnz * (np.dtype(dtype).itemsize + 4) + 4 * (self.shape[0] + 1) + 17 * pattern

    # ----------------------------------------------------------------- forms

    def csr(self, dtype: Any = np.float64) -> Any:
        """The block as a ``scipy.sparse.csr_array`` of shape :attr:`shape` (cached per dtype).

        Raises:
            InvalidInputError: more than :data:`MAX_BLOCK_NNZ` entries, or more memory than
                this machine has (checked before anything is built).
        """
        dt = np.dtype(dtype)
        if dt.name in self._csr:
            return self._csr[dt.name]
        nnz = self.nnz
        if nnz > MAX_BLOCK_NNZ:
            raise InvalidInputError(
                f"the Conv2d block {self.in_shape} -> {self.out_shape} has {nnz:.3g} couplings, "
                f"more than the {MAX_BLOCK_NNZ:.3g} a sparse block holds; use the torch backend "
                "(backend='torch'; --device cuda), which applies it as a convolution"
            )
        _require_memory(
            self.csr_bytes(dt),
            f"the Conv2d block {self.in_shape} -> "
            f"{self.out_shape} as a sparse matrix ({nnz:.3g} entries)",
        )
        from scipy import sparse

        c_out, c_in, kh, kw = self.kernel.shape
        _, h, w = self.in_shape
        _, ho, wo = self.out_shape
        ph, vh = _axis_taps(h, ho, kh, self.stride[0], self.padding[0], self.dilation[0])
        pw, vw = _axis_taps(w, wo, kw, self.stride[1], self.padding[1], self.dilation[1])
        full = (ho, wo, c_in, kh, kw)
        # row (i', j') of one output channel: taps (c, a, b) in C order, whose columns
        # (c·H + i)·W + j increase with (c, a, b): the CSR rows come out sorted
        mask = np.broadcast_to(vh[:, None, None, :, None] & vw[None, :, None, None, :], full)
        col = (
            np.arange(c_in)[None, None, :, None, None] * h + ph[:, None, None, :, None]
        ) * w + pw[None, :, None, None, :]
        cols = np.broadcast_to(col, full)[mask].astype(np.int32)
        taps = np.broadcast_to(np.arange(c_in * kh * kw).reshape(1, 1, c_in, kh, kw), full)[mask]
        counts = mask.reshape(ho * wo, -1).sum(axis=1)
        data = self.kernel.reshape(c_out, -1)[:, taps].reshape(-1).astype(dt)
        indptr = np.zeros(c_out * ho * wo + 1, np.int64)
        np.cumsum(np.tile(counts, c_out), out=indptr[1:])
        m = sparse.csr_array(
            (data, np.tile(cols, c_out), indptr.astype(np.int32)), shape=self.shape
        )
        self._csr[dt.name] = m
        return m

    def dense(self) -> np.ndarray:
        """The block as a dense ``(C'H'W', CHW)`` float64 array (small blocks only).

        Raises:
            InvalidInputError: more than :data:`MAX_DENSE_ENTRIES` entries.
        """
        rows, cols = self.shape
        if rows * cols > MAX_DENSE_ENTRIES:
            raise InvalidInputError(
                f"the Conv2d block {self.in_shape} -> {self.out_shape} would be a dense "
                f"{rows} x {cols} matrix ({_bytes(rows * cols * 8)}), beyond the "
                f"{MAX_DENSE_ENTRIES:.3g} entries allowed; the block engine keeps it sparse "
                "(engine='block'; --engine block)"
            )
        return self.csr().toarray()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        d = self.dense()
        return d if dtype is None else d.astype(dtype)

    @property
    def T(self) -> np.ndarray:
        """The transpose as a dense array (small blocks only, as :meth:`dense`)."""
        return self.dense().T

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``W x`` for ``x`` of shape ``(CHW,)`` or ``(CHW, k)`` (float64, sparse product)."""
        return self.csr() @ np.asarray(x, dtype=np.float64)

    def rmatvec(self, y: np.ndarray) -> np.ndarray:
        """``Wᵀ y`` for ``y`` of shape ``(C'H'W',)`` or ``(C'H'W', k)``."""
        return self.csr().T @ np.asarray(y, dtype=np.float64)

    def __mul__(self, factor: float) -> ConvBlock:
        return ConvBlock(
            self.kernel * float(factor), self.in_shape, self.stride, self.padding, self.dilation
        )

    __rmul__ = __mul__

    def torch_operators(
        self, dtype: Any, device: Any
    ) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
        """``(x ↦ W x, y ↦ Wᵀ y)`` on torch tensors of shape ``(spins, columns)``, as
        ``conv2d`` and ``conv_transpose2d`` (nothing materialised).

        ``conv_transpose2d`` is the adjoint of ``conv2d`` for the same kernel, stride,
        padding and dilation; its ``output_padding`` (the rows the strided forward map
        dropped, < stride) restores the input size exactly.
        """
        import torch
        import torch.nn.functional as F

        k = torch.as_tensor(self.kernel, dtype=dtype, device=device)
        c, h, w = self.in_shape
        co, ho, wo = self.out_shape
        kh, kw = self.kernel.shape[2:]
        out_pad = tuple(
            n - ((no - 1) * s - 2 * p + d * (kk - 1) + 1)
            for n, no, s, p, d, kk in zip(
                (h, w), (ho, wo), self.stride, self.padding, self.dilation, (kh, kw), strict=True
            )
        )
        stride, padding, dilation = self.stride, self.padding, self.dilation

        def forward(x: Any) -> Any:
            ncol = x.shape[1]
            y = F.conv2d(x.T.reshape(ncol, c, h, w), k, None, stride, padding, dilation)
            return y.reshape(ncol, -1).T

        def adjoint(y: Any) -> Any:
            ncol = y.shape[1]
            x = F.conv_transpose2d(
                y.T.reshape(ncol, co, ho, wo), k, None, stride, padding, out_pad, 1, dilation
            )
            return x.reshape(ncol, -1).T

        return forward, adjoint


def _bytes(n: float) -> str:
    from ..files import format_bytes

    return format_bytes(n)


def _require_memory(nbytes: float, what: str) -> None:
    from ..files import format_bytes, memory_limit

    limit = memory_limit()
    if limit is not None and nbytes > limit:
        raise InvalidInputError(
            f"{what} needs {format_bytes(nbytes)} of memory; this machine has {format_bytes(limit)}"
        )


def _block(w: Any, index: int) -> ConvBlock | np.ndarray:
    if isinstance(w, ConvBlock):
        return w
    return LayeredBonds((w,)).weights[0]  # the dense checks of LayeredBonds


@dataclass(frozen=True, eq=False)
class ConvLayeredBonds(LayeredBonds):
    """:class:`~replicasolve.tap.bonds.LayeredBonds` whose blocks may be :class:`ConvBlock`.

    ``weights`` holds ``W^1..W^L``: a :class:`ConvBlock` (sparse, never densified by the
    engines) or a dense ``(N_l, N_{l-1})`` array (a ``Linear`` layer). ``sizes`` and
    ``offsets`` are those of the flattened layers, as in ``LayeredBonds``.
    """

    def __post_init__(self) -> None:
        blocks = tuple(_block(w, i) for i, w in enumerate(self.weights))
        if not blocks:
            raise InvalidInputError("need at least one coupling block")
        for i in range(1, len(blocks)):
            if blocks[i].shape[1] != blocks[i - 1].shape[0]:
                raise InvalidInputError(
                    f"coupling blocks {i - 1} and {i} do not chain: {i - 1} has shape "
                    f"{blocks[i - 1].shape}, {i} has shape {blocks[i].shape}"
                )
            a, b = blocks[i - 1], blocks[i]
            if isinstance(a, ConvBlock) and isinstance(b, ConvBlock) and a.out_shape != b.in_shape:
                raise InvalidInputError(
                    f"Conv2d blocks {i - 1} and {i} do not chain: {a.out_shape} out, "
                    f"{b.in_shape} in"
                )
        sizes = (int(blocks[0].shape[1]), *(int(b.shape[0]) for b in blocks))
        object.__setattr__(self, "weights", blocks)
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "offsets", np.concatenate([[0], np.cumsum(sizes)]))

    @property
    def layer_shapes(self) -> tuple[tuple[int, ...], ...]:
        """Shape of every spin layer: ``(C, H, W)`` next to a convolution, else ``(N,)``."""
        out: list[tuple[int, ...]] = []
        for l, n in enumerate(self.sizes):
            before = self.weights[l - 1] if l >= 1 else None
            after = self.weights[l] if l < len(self.weights) else None
            if isinstance(after, ConvBlock):
                out.append(after.in_shape)
            elif isinstance(before, ConvBlock):
                out.append(before.out_shape)
            else:
                out.append((n,))
        return tuple(out)

    def check_dense_blocks(self) -> None:
        """Refuse, before anything is allocated, a network whose convolution blocks are too
        large for a dense copy (the single-spin-flip engine keeps dense row segments).

        Raises:
            InvalidInputError: a block with more than :data:`MAX_DENSE_ENTRIES` entries.
        """
        for w in self.weights:
            if isinstance(w, ConvBlock) and w.shape[0] * w.shape[1] > MAX_DENSE_ENTRIES:
                w.dense()  # raises, with the block's sizes

    def sparse_bytes(self, dtype: Any = np.float64) -> int:
        """Memory of the CSR forms of all convolution blocks (bytes, before building)."""
        return sum(w.csr_bytes(dtype) for w in self.weights if isinstance(w, ConvBlock))

    @cached_property
    def d(self) -> np.ndarray:
        """Onsager diagonal ``d_i = Σ_j J_ij²``, shape ``(N,)`` (from the sparse blocks)."""
        out = np.zeros(self.n)
        for k, w in enumerate(self.weights):
            if isinstance(w, ConvBlock):
                sq = w.csr().copy()
                sq.data **= 2
                rows, cols = np.asarray(sq.sum(axis=1)), np.asarray(sq.sum(axis=0))
            else:
                rows, cols = (w * w).sum(axis=1), (w * w).sum(axis=0)
            self.layer(out, k + 1)[:] += rows
            self.layer(out, k)[:] += cols
        return out

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``J @ x`` for ``x`` of shape ``(N,)`` or ``(N, k)`` (sparse products)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[0] != self.n:
            raise InvalidInputError(f"vector has {x.shape[0]} entries, the network {self.n}")
        out = np.zeros_like(x)
        for k, w in enumerate(self.weights):
            if isinstance(w, ConvBlock):
                self.layer(out, k + 1)[:] += w.matvec(self.layer(x, k))
                self.layer(out, k)[:] += w.rmatvec(self.layer(x, k + 1))
            else:
                self.layer(out, k + 1)[:] += w @ self.layer(x, k)
                self.layer(out, k)[:] += w.T @ self.layer(x, k + 1)
        return out

    def dense(self) -> np.ndarray:
        """``J`` as a dense ``(N, N)`` array (small networks only).

        Raises:
            InvalidInputError: ``N² >`` :data:`MAX_DENSE_ENTRIES`.
        """
        if self.n * self.n > MAX_DENSE_ENTRIES:
            raise InvalidInputError(
                f"the couplings of {self.n} spins would be a dense matrix of "
                f"{_bytes(self.n * self.n * 8)}, beyond the {MAX_DENSE_ENTRIES:.3g} "
                "entries allowed; the block engine keeps convolutions sparse (engine='block'; "
                "--engine block)"
            )
        j = np.zeros((self.n, self.n))
        o = self.offsets
        for k, w in enumerate(self.weights):
            blk = w.dense() if isinstance(w, ConvBlock) else w
            j[o[k + 1] : o[k + 2], o[k] : o[k + 1]] = blk
            j[o[k] : o[k + 1], o[k + 1] : o[k + 2]] = blk.T
        return j

    def variance_factors(self) -> tuple[float, ...]:
        """``C_l = N_{l-1} · mean(W^l²)`` over all ``N_l N_{l-1}`` entries (absent couplings
        of a convolution count as zeros)."""
        out = []
        for w in self.weights:
            if isinstance(w, ConvBlock):
                sq = float(np.sum(w.csr().data ** 2))
                out.append(sq / w.shape[0])
            else:
                out.append(float(w.shape[1] * np.mean(w * w)))
        return tuple(out)

    def coupling_scale(self) -> float:
        """``max|W| · sqrt(max N_l)``, as for ``LayeredBonds``."""
        top = max(
            float(np.max(np.abs(w.kernel if isinstance(w, ConvBlock) else w))) for w in self.weights
        )
        return top * math.sqrt(max(self.sizes))

    def scaled(self, factor: float) -> ConvLayeredBonds:
        """The same network with every coupling multiplied by ``factor``."""
        return ConvLayeredBonds(tuple(w * factor for w in self.weights))

    def save_npz(self, path: str | os.PathLike) -> None:
        """Not available: a convolution is described by :func:`save_conv_spec`."""
        raise InvalidInputError(
            "convolution couplings are not written as dense .npz "
            "matrices; save the network with save_conv_spec"
        )


# --------------------------------------------------------------------------- networks


@dataclass(frozen=True, eq=False)
class ConvNetwork:
    """The couplings and fields read from a convolutional (or any layered) network.

    Attributes:
        blocks: ``W^1..W^L``: :class:`ConvBlock` or dense ``(N_l, N_{l-1})`` arrays.
        biases: per spin of layers 1..L (a channel's bias repeated over its positions), or
            None when no layer has a bias (a layer without one gets zeros).
        layer_shapes: shape of every spin layer, input first (``(C, H, W)`` or ``(N,)``).
        layer_names: the name of the layer that made each block (module path or spec index).
        source: where it was read from.
    """

    blocks: tuple[Any, ...]
    biases: tuple[np.ndarray, ...] | None
    layer_shapes: tuple[tuple[int, ...], ...]
    layer_names: tuple[str, ...]
    source: str

    def bonds(self) -> ConvLayeredBonds:
        """The couplings as :class:`ConvLayeredBonds`."""
        return ConvLayeredBonds(self.blocks)

    def describe(self) -> str:
        """``source (1x8x8 -> 4x4x4 -> 10)``: the source and the layer shapes."""
        shapes = " -> ".join("x".join(map(str, s)) for s in self.layer_shapes)
        return f"{self.source} ({shapes})"


def _input_shape(shape: Any) -> tuple[int, ...]:
    vals = tuple(shape) if isinstance(shape, (tuple, list)) else None
    if (
        vals is None
        or len(vals) not in (1, 3)
        or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in vals
        )
    ):
        raise InvalidInputError(
            f"input_shape must be (C, H, W) or (N,) of whole numbers >= 1 (no batch "
            f"dimension), got {shape!r}"
        )
    return tuple(int(v) for v in vals)


def _build(ops: Sequence[tuple], input_shape: tuple[int, ...], source: str) -> ConvNetwork:
    """Blocks from a chain of ``("conv", name, K, b, stride, padding, dilation)``,
    ``("linear", name, W, b)`` and ``("reshape", name, shape)``, with the shapes checked."""
    shape = input_shape
    blocks: list[Any] = []
    biases: list[np.ndarray | None] = []
    shapes = [shape]
    names = []
    for op in ops:
        kind, name = op[0], op[1]
        size = math.prod(shape)
        if kind == "reshape":  # a shape of None flattens
            new = (size,) if op[2] is None else tuple(int(v) for v in op[2])
            if math.prod(new) != size or len(new) not in (1, 3):
                raise InvalidInputError(
                    f"layer {name}: reshapes {shape} to {new}; a layer is (C, H, W) or (N,) "
                    f"with the same {size} neurons"
                )
            shape = new
            continue
        if kind == "conv":
            _, _, kernel, bias, stride, padding, dilation = op
            if len(shape) != 3:
                raise InvalidInputError(
                    f"layer {name}: a Conv2d needs a (C, H, W) feature map, it gets {shape}"
                )
            try:
                block: Any = ConvBlock(kernel, shape, stride, padding, dilation)
            except InvalidInputError as exc:
                raise InvalidInputError(f"layer {name}: {exc}") from None
            shape = block.out_shape
            b = (
                None
                if bias is None
                else np.repeat(
                    _vector(bias, block.out_shape[0], name), block.out_shape[1] * block.out_shape[2]
                )
            )
        else:
            _, _, weight, bias = op
            w = np.asarray(weight)
            if w.ndim != 2:
                raise InvalidInputError(
                    f"layer {name}: a Linear weight must be 2-D, got shape {w.shape}"
                )
            if len(shape) != 1:
                raise InvalidInputError(
                    f"layer {name}: a Linear layer after a {shape} feature map needs a "
                    "flatten first (nn.Flatten)"
                )
            if w.shape[1] != size:
                raise InvalidInputError(
                    f"layer {name}: the Linear layer takes {w.shape[1]} inputs, the layer "
                    f"before has {size} neurons"
                )
            try:
                block = LayeredBonds((w,)).weights[0]
            except InvalidInputError as exc:
                raise InvalidInputError(f"layer {name}: {exc}") from None
            shape = (int(w.shape[0]),)
            b = None if bias is None else _vector(bias, w.shape[0], name)
        blocks.append(block)
        biases.append(b)
        shapes.append(shape)
        names.append(str(name))
    if not blocks:
        raise InvalidInputError(f"{source}: no Conv2d or Linear layer")
    if all(b is None for b in biases):
        bs = None
    else:
        bs = tuple(
            np.zeros(blk.shape[0]) if b is None else b
            for blk, b in zip(blocks, biases, strict=True)
        )
    return ConvNetwork(tuple(blocks), bs, tuple(shapes), tuple(names), source)


def _vector(v: Any, n: int, name: str) -> np.ndarray:
    try:
        arr = np.asarray(v, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InvalidInputError(f"layer {name}: the bias must hold real numbers") from None
    if arr.size != n:
        raise InvalidInputError(
            f"layer {name}: the bias has {arr.size} entries, the layer {n} channels or neurons"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"layer {name}: the bias has NaN or infinite entries")
    return arr


def _np(t: Any) -> np.ndarray | None:
    return None if t is None else t.detach().cpu().double().numpy()


def _conv_geometry(m: Any, name: str) -> tuple[tuple, tuple, tuple]:
    if m.groups != 1:
        raise InvalidInputError(
            f"layer {name}: a Conv2d with groups={m.groups} is not supported (groups=1 only)"
        )
    if m.padding_mode != "zeros":
        raise InvalidInputError(
            f"layer {name}: padding_mode={m.padding_mode!r} is not supported (zero padding only)"
        )
    pad = m.padding
    if isinstance(pad, str):
        if pad == "valid":
            pad = (0, 0)
        else:  # "same" (stride 1): d(k-1) padded in total, split evenly when it can be
            total = [d * (k - 1) for d, k in zip(m.dilation, m.kernel_size, strict=True)]
            if any(t % 2 for t in total):
                raise InvalidInputError(
                    f"layer {name}: padding='same' with an even kernel pads unevenly; give "
                    "the padding as numbers"
                )
            pad = tuple(t // 2 for t in total)
    return tuple(m.stride), tuple(pad), tuple(m.dilation)


def conv_network_of_module(module: Any, input_shape: Sequence[int]) -> ConvNetwork:
    """The layers of a ``torch.nn.Module`` as couplings, read by tracing it.

    The module is traced with ``torch.fx`` and run once on zeros of shape
    ``(1, *input_shape)`` to learn every layer's shape. Its computation must be one chain:
    ``nn.Conv2d`` (groups 1, zero padding), ``nn.Linear``, flattening / reshaping
    (``nn.Flatten``, ``nn.Unflatten``, ``torch.flatten``, ``.view``, ``.reshape``) and
    elementwise activations or dropout (skipped: spins are signs).

    Args:
        module: the network.
        input_shape: one example's shape without the batch dimension: ``(C, H, W)`` or
            ``(N,)``.

    Returns:
        A :class:`ConvNetwork`.

    Raises:
        InvalidInputError: not a module; a module torch.fx cannot trace; an input shape the
            network cannot take (the message names the layer); a layer that is not
            supported (pooling, normalisation, a residual connection, ...: named).
    """
    import torch

    shape = _input_shape(input_shape)
    if not isinstance(module, torch.nn.Module):
        raise InvalidInputError(f"expected a torch.nn.Module, got {type(module).__name__}")
    what = type(module).__name__
    try:
        gm = torch.fx.symbolic_trace(module)
    except Exception as exc:  # fx raises many types on untraceable Python
        raise InvalidInputError(
            f"cannot read the layers of {what}: torch.fx cannot trace it "
            f"({describe_error(exc)}); write it as an nn.Sequential of Conv2d, Flatten, "
            "Linear and activations"
        ) from None
    mods = dict(gm.named_modules())
    values: dict[Any, Any] = {}

    class _Run(torch.fx.Interpreter):
        def run_node(self, n: Any) -> Any:
            try:
                out = super().run_node(n)
            except Exception as exc:  # torch's shape errors are RuntimeError, ValueError...
                raise InvalidInputError(
                    f"input shape {shape}: layer {n.target!s} ({n.name}) cannot take it "
                    f"({describe_error(exc)})"
                ) from None
            values[n] = out
            return out

    params = list(module.parameters())
    dtype = params[0].dtype if params and params[0].is_floating_point() else torch.float32
    device = params[0].device if params else torch.device("cpu")
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise InvalidInputError(
            f"{what} takes {len(placeholders)} inputs; a layered network takes one"
        )

    def unsupported(n: Any, kind: str) -> InvalidInputError:
        return InvalidInputError(
            f"layer {n.target!s} ({kind}) is not supported: a spin model is read from Conv2d, "
            "Linear, flatten/reshape and elementwise activations; pooling, normalisation, "
            "residual connections and other layers have no layered-coupling form"
        )

    # layers known without running the module first: a normalisation layer run on a
    # batch of one would fail and read as a shape error
    for n in gm.graph.nodes:
        if n.op == "call_module":
            m = mods[n.target]
            kind = type(m).__name__
            if kind == "Conv2d":
                _conv_geometry(m, n.target)
            elif kind not in ("Linear", "Flatten", "Unflatten", *_ACTIVATION_MODULES):
                raise unsupported(n, kind)
    with torch.no_grad():
        _Run(gm).run(torch.zeros((1, *shape), dtype=dtype, device=device))

    ops: list[tuple] = []
    prev = None
    for n in gm.graph.nodes:
        val = values.get(n)
        if n.op == "placeholder":
            prev = n
            continue
        if n.op == "output":
            if n.args[0] is not prev:
                raise InvalidInputError(
                    f"{what}: the output is not the last layer's tensor "
                    "(several outputs or a branch)"
                )
            break
        if not isinstance(val, torch.Tensor):
            continue  # sizes and shapes read off a tensor (x.size(0) for a view)
        if n.op == "get_attr":
            raise InvalidInputError(
                f"{what} uses the tensor {n.target} outside an nn.Conv2d or nn.Linear; "
                "functional layers are not supported"
            )
        inputs = [a for a in n.all_input_nodes if isinstance(values.get(a), torch.Tensor)]
        if inputs != [prev]:
            names = ", ".join(a.name for a in inputs) or "none"
            raise InvalidInputError(
                f"layer {n.target!s} ({n.name}) takes the tensors [{names}]: a residual "
                "connection, concatenation or branch is not a layered network"
            )
        if val.ndim < 1 or val.shape[0] != 1:
            raise InvalidInputError(
                f"layer {n.target!s} ({n.name}) changes the batch "
                f"dimension (output shape {tuple(val.shape)}); keep it"
            )
        out_shape = tuple(int(v) for v in val.shape[1:])
        if n.op == "call_module":
            m = mods[n.target]
            kind = type(m).__name__
            if isinstance(m, torch.nn.Conv2d) and type(m).__name__ == "Conv2d":
                stride, padding, dilation = _conv_geometry(m, n.target)
                ops.append(
                    ("conv", n.target, _np(m.weight), _np(m.bias), stride, padding, dilation)
                )
            elif isinstance(m, torch.nn.Linear) and kind == "Linear":
                if values[prev].ndim != 2:
                    raise InvalidInputError(
                        f"layer {n.target}: a Linear layer after a "
                        f"{tuple(values[prev].shape[1:])} feature map needs a flatten first "
                        "(nn.Flatten)"
                    )
                ops.append(("linear", n.target, _np(m.weight), _np(m.bias)))
            elif kind in ("Flatten", "Unflatten"):
                ops.append(("reshape", n.target, out_shape))
            elif kind not in _ACTIVATION_MODULES:
                raise unsupported(n, kind)
        elif n.op == "call_function":
            fname = getattr(n.target, "__name__", str(n.target))
            if n.target in (torch.flatten, torch.reshape):
                ops.append(("reshape", n.name, out_shape))
            elif fname.rstrip("_") in _ACTIVATION_NAMES and (
                getattr(n.target, "__module__", "") or ""
            ).startswith("torch"):
                pass
            else:
                raise unsupported(n, f"function {fname}")
        elif n.op == "call_method":
            if n.target in ("flatten", "view", "reshape"):
                ops.append(("reshape", n.name, out_shape))
            elif n.target.rstrip("_") in _ACTIVATION_NAMES or n.target in _NEUTRAL_METHODS:
                pass
            else:
                raise unsupported(n, f"method .{n.target}()")
        else:
            raise unsupported(n, n.op)
        prev = n
    return _build(ops, shape, f"torch module {what}")


# --------------------------------------------------------------------------- files


def read_conv_spec(
    path: str | os.PathLike, input_shape: Sequence[int] | None = None
) -> ConvNetwork:
    """A network from a JSON description and its weights, without unpickling anything.

    The description (``format`` :data:`SPEC_FORMAT`)::

        {"format": "replicasolve-cnn/1",
         "input_shape": [1, 28, 28],
         "weights": "net.pt",
         "layers": [{"type": "conv2d", "weight": "0.weight", "bias": "0.bias",
                     "stride": 2, "padding": 1, "dilation": 1},
                    {"type": "relu"},
                    {"type": "flatten"},
                    {"type": "linear", "weight": "3.weight", "bias": "3.bias"}]}

    ``weights`` is a path relative to the description: a state dict saved with
    ``torch.save(model.state_dict(), ...)`` and read with ``torch.load(weights_only=True)``
    (a checkpoint ``{"state_dict": ...}`` too), or an ``.npz``; ``weight`` / ``bias`` name its
    tensors (``bias`` may be null or absent). ``stride``, ``padding`` (numbers, not strings)
    and ``dilation`` default to 1, 0, 1. ``{"type": "reshape", "shape": [C, H, W]}``
    reshapes; activation entries (relu, tanh, sigmoid, sign, gelu, ..., dropout,
    identity) are skipped. :func:`save_conv_spec` writes both files from a module.

    Args:
        path: the ``.json`` description.
        input_shape: ``(C, H, W)`` or ``(N,)``; needed when the description has none, and
            must equal it when both are given.

    Raises:
        InvalidInputError: an unreadable or malformed description, a weights file that is
            not a plain state dict (a pickled module is refused: loading it would run
            arbitrary code), a missing tensor, an unsupported layer type (named), or an
            input shape that does not match.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    if path.stat().st_size > _MAX_SPEC_BYTES:
        raise InvalidInputError(
            f"{path}: a network description of {path.stat().st_size} "
            f"bytes; the limit is {_MAX_SPEC_BYTES}"
        )
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(
            f"{path}: not a readable JSON network description ({describe_error(exc)})"
        ) from None
    if not isinstance(spec, dict) or spec.get("format") != SPEC_FORMAT:
        raise InvalidInputError(
            f'{path}: not a network description (needs "format": "{SPEC_FORMAT}")'
        )
    unknown = set(spec) - {"format", "input_shape", "weights", "layers"}
    if unknown:
        raise InvalidInputError(f"{path}: unknown fields {sorted(unknown)}")
    given = spec.get("input_shape")
    if given is None and input_shape is None:
        raise InvalidInputError(f"{path}: no input_shape in the description; give one")
    shape = _input_shape(given if given is not None else input_shape)
    if given is not None and input_shape is not None and _input_shape(input_shape) != shape:
        raise InvalidInputError(
            f"{path}: input shape {tuple(input_shape)} given, the description says {shape}"
        )
    wname = spec.get("weights")
    if not isinstance(wname, str) or not wname:
        raise InvalidInputError(f'{path}: "weights" must name the weights file')
    wpath = path.parent / wname
    tensors = _read_tensors(wpath)
    layers = spec.get("layers")
    if not isinstance(layers, list) or not layers:
        raise InvalidInputError(f'{path}: "layers" must be a non-empty list')

    def tensor(entry: dict, key: str, where: str, required: bool) -> Any:
        name = entry.get(key)
        if name is None and not required:
            return None
        if not isinstance(name, str):
            raise InvalidInputError(f'{where}: "{key}" must name a tensor of {wpath.name}')
        if name not in tensors:
            raise InvalidInputError(f"{where}: no tensor {name!r} in {wpath}")
        return tensors[name]

    allowed = {
        "conv2d": {"weight", "bias", "stride", "padding", "dilation"},
        "linear": {"weight", "bias"},
        "flatten": set(),
        "reshape": {"shape"},
    }
    ops: list[tuple] = []
    for i, entry in enumerate(layers):
        where = f"{path}: layer {i}"
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise InvalidInputError(f'{where}: must be an object with a "type"')
        kind = entry["type"].lower()
        if kind in _ACTIVATION_NAMES:
            continue
        if kind not in allowed:
            raise InvalidInputError(
                f"{where}: layer type {entry['type']!r} is not supported (conv2d, linear, "
                "flatten, reshape and elementwise activations); pooling, normalisation and "
                "residual connections have no layered-coupling form"
            )
        extra = set(entry) - allowed[kind] - {"type"}
        if extra:
            raise InvalidInputError(f"{where}: unknown fields {sorted(extra)} for {kind}")
        if kind == "conv2d":
            ops.append(
                (
                    "conv",
                    i,
                    _np_any(tensor(entry, "weight", where, True)),
                    _np_any(tensor(entry, "bias", where, False)),
                    entry.get("stride", 1),
                    entry.get("padding", 0),
                    entry.get("dilation", 1),
                )
            )
        elif kind == "linear":
            ops.append(
                (
                    "linear",
                    i,
                    _np_any(tensor(entry, "weight", where, True)),
                    _np_any(tensor(entry, "bias", where, False)),
                )
            )
        elif kind == "flatten":
            ops.append(("reshape", i, None))
        else:
            ops.append(("reshape", i, _input_shape(entry.get("shape"))))
    return _build(ops, shape, str(path))


def _np_any(v: Any) -> np.ndarray | None:
    if v is None:
        return None
    if hasattr(v, "detach"):
        return v.detach().cpu().double().numpy()
    return np.asarray(v)


def _read_tensors(path: Path) -> Mapping[str, Any]:
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such weights file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        from ..files import read_npz

        return read_npz(path, "weights file")
    if suffix not in (".pt", ".pth"):
        raise InvalidInputError(f"{path}: unknown weights file type {suffix!r} (use .pt or .npz)")
    obj = read_torch_file(path)  # weights_only=True: a pickled module is refused there
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise InvalidInputError(f"{path}: holds a {type(obj).__name__}, not a state dict")
    return {str(k): v for k, v in obj.items()}


def save_conv_spec(
    module: Any,
    input_shape: Sequence[int],
    path: str | os.PathLike,
    *,
    weights: str | os.PathLike | None = None,
) -> Path:
    """Write a module as a JSON description plus its state dict (read by
    :func:`read_conv_spec`; both files written atomically).

    Args:
        module: the network (read as :func:`conv_network_of_module` reads it).
        input_shape: ``(C, H, W)`` or ``(N,)``, stored in the description.
        path: the ``.json`` file.
        weights: the state dict's file (default: ``path`` with the suffix ``.pt``), saved
            with ``torch.save(module.state_dict())``.

    Returns:
        ``path``.

    Raises:
        InvalidInputError: the module cannot be read (see :func:`conv_network_of_module`).
    """
    import torch

    from ..files import atomic_target, atomic_write

    net = conv_network_of_module(module, input_shape)
    path = Path(path)
    wpath = Path(weights) if weights is not None else path.with_suffix(".pt")
    state = dict(module.state_dict())
    layers: list[dict[str, Any]] = []
    shape = tuple(net.layer_shapes[0])
    for block, name in zip(net.blocks, net.layer_names, strict=True):
        entry: dict[str, Any] = {"weight": f"{name}.weight"}
        if f"{name}.bias" in state:
            entry["bias"] = f"{name}.bias"
        if isinstance(block, ConvBlock):
            if tuple(block.in_shape) != shape:
                layers.append({"type": "reshape", "shape": list(block.in_shape)})
            entry = {
                "type": "conv2d",
                **entry,
                "stride": list(block.stride),
                "padding": list(block.padding),
                "dilation": list(block.dilation),
            }
            shape = block.out_shape
        else:
            if len(shape) != 1:
                layers.append({"type": "flatten"})
            entry = {"type": "linear", **entry}
            shape = (block.shape[0],)
        layers.append(entry)
    spec = {
        "format": SPEC_FORMAT,
        "input_shape": list(net.layer_shapes[0]),
        "weights": os.path.relpath(wpath, path.parent),
        "layers": layers,
    }
    with atomic_target(wpath) as tmp:
        torch.save(state, tmp)
    # one line per field and per layer: short enough to read and to edit by hand
    text = (
        "{\n"
        + ",\n".join(
            f"  {json.dumps(k)}: "
            + (
                "[\n" + ",\n".join(f"    {json.dumps(e)}" for e in v) + "\n  ]"
                if k == "layers"
                else json.dumps(v)
            )
            for k, v in spec.items()
        )
        + "\n}\n"
    )
    atomic_write(path, lambda fh: fh.write(text.encode()))
    return path


def is_conv_source(source: Any, input_shape: Any = None) -> bool:
    """Whether :func:`conv_network` should read ``source``: a :class:`ConvNetwork`, a
    ``.json`` description, or a torch module that has a convolution or comes with an input
    shape.

    Raises:
        InvalidInputError: an input shape given with a source that has no layer structure
            to apply it to (a weights file, arrays).
    """
    if isinstance(source, ConvNetwork):
        return True
    if isinstance(source, (str, os.PathLike)) and Path(source).suffix.lower() == ".json":
        return True
    if hasattr(source, "modules") and hasattr(source, "parameters"):
        if input_shape is not None:
            return True
        return any("Conv" in type(m).__name__ for m in source.modules())
    if input_shape is not None:
        raise InvalidInputError(
            "input_shape applies to a torch module or a .json network description, not to "
            f"a {type(source).__name__}"
        )
    return False


def conv_network(source: Any, input_shape: Sequence[int] | None = None) -> ConvNetwork:
    """A :class:`ConvNetwork` from a module (with ``input_shape``), a ``.json`` description
    or a ``ConvNetwork``.

    Raises:
        InvalidInputError: a module without ``input_shape``; the errors of
            :func:`conv_network_of_module` and :func:`read_conv_spec`.
    """
    if isinstance(source, ConvNetwork):
        if input_shape is not None and _input_shape(input_shape) != source.layer_shapes[0]:
            raise InvalidInputError(
                f"input shape {tuple(input_shape)} given, the network "
                f"takes {source.layer_shapes[0]}"
            )
        return source
    if isinstance(source, (str, os.PathLike)):
        return read_conv_spec(source, input_shape)
    if input_shape is None:
        raise InvalidInputError(
            f"the {type(source).__name__} has convolutions: give the shape of one input, "
            "input_shape=(C, H, W)"
        )
    return conv_network_of_module(source, input_shape)
