"""Shape operations: reshape, permute, indexing, concatenation, padding, casts, moves.

None of these change values, so each gradient is the inverse rearrangement: a reshape
back, the inverse permutation, a scatter into zeros for indexing, slices for ``cat``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.autograd import Function
from minigrad.device import get_backend
from minigrad.tensor import Tensor, tensors_of


class Reshape(Function):
    """y = reshape(x, shape);   dL/dx = reshape(dL/dy, x.shape)"""

    def forward(self, x, shape):
        self.input_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot view shape {x.shape} ({x.size} elements) as {shape}"
            ) from None

    def backward(self, grad):
        return grad.reshape(self.input_shape)


class Permute(Function):
    """y = transpose(x, dims);   dL/dx = transpose(dL/dy, inverse(dims))"""

    def forward(self, x, dims):
        self.dims = dims
        return x.transpose(dims)

    def backward(self, grad):
        return grad.permute(*np.argsort(self.dims).tolist())


class GetItem(Function):
    """y = x[index];   dL/dx = zeros with dL/dy added at index (repeats add up)"""

    def forward(self, x, index):
        self.index, self.input_shape = index, x.shape
        return x[index]

    def backward(self, grad):
        return IndexAdd.apply(grad, index=self.index, shape=self.input_shape)


class IndexAdd(Function):
    """y = zeros(shape); y[index] += g;   dL/dg = dL/dy[index]"""

    def forward(self, grad, index, shape):
        self.index = index
        xp = self.backend.xp
        out = xp.zeros(shape, dtype=grad.dtype)
        if _is_advanced(index):
            xp.add.at(out, index, grad)  # an integer index may repeat: repeats must add
        else:
            out[index] = grad
        return out

    def backward(self, grad):
        return GetItem.apply(grad, index=self.index)


def _is_advanced(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(hasattr(part, "shape") and part.ndim > 0 for part in parts)


def device_index(index: Any, device: str) -> Any:
    """Turn Tensor / list parts of an index into device arrays."""
    if isinstance(index, tuple):
        return tuple(device_index(part, device) for part in index)
    if isinstance(index, Tensor):
        if index.dtype.kind not in "biu":
            raise IndexError(f"tensors used as indices must be int or bool, got {index.dtype}")
        return index._data
    if isinstance(index, list):
        return get_backend(device).asarray(np.asarray(index), None)
    return index


def getitem(x: Tensor, index: Any) -> Tensor:
    return GetItem.apply(x, index=device_index(index, x.device))


class Cat(Function):
    """y = concatenate(xs, dim);   dL/dx_i = the slice of dL/dy that x_i filled"""

    def forward(self, *arrays, axis):
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return self.backend.xp.concatenate(arrays, axis=axis)

    def backward(self, grad):
        grads, start = [], 0
        for size in self.sizes:
            index = (slice(None),) * self.axis + (slice(start, start + size),)
            grads.append(grad[index])
            start += size
        return tuple(grads)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = tensors_of(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    first = tensors[0]
    axis = dim % first.ndim
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or any(
            a != b for d, (a, b) in enumerate(zip(t.shape, first.shape, strict=True)) if d != axis
        ):
            raise ValueError(
                f"cat: tensor {i} has shape {t.shape}, incompatible with {first.shape} "
                f"outside dim {dim}"
            )
        if t.dtype != first.dtype:
            raise TypeError(f"cat: tensor {i} has dtype {t.dtype}, expected {first.dtype}")
    return Cat.apply(*tensors, axis=axis)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = tensors_of(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, expected {tensors[0].shape}")
    axis = dim % (tensors[0].ndim + 1)
    return cat([unsqueeze(t, axis) for t in tensors], axis)


class Pad(Function):
    """y = x surrounded by ``value``;   dL/dx = the centre of dL/dy"""

    def forward(self, x, widths, value):
        self.centre = tuple(
            slice(lo, lo + size) for (lo, _), size in zip(widths, x.shape, strict=True)
        )
        return self.backend.xp.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, grad):
        return grad[self.centre]


def pad(x: Tensor, padding: Sequence[int], value: float = 0.0) -> Tensor:
    """PyTorch's order: (left, right) of the last dim, then (top, bottom) of the one before…"""
    if len(padding) % 2 or len(padding) // 2 > x.ndim:
        raise ValueError(f"pad: padding must hold pairs for at most {x.ndim} dims, got {padding}")
    if any(p < 0 for p in padding):
        raise ValueError(f"pad: padding must be non-negative, got {padding}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(padding) // 2):
        widths[x.ndim - 1 - i] = (int(padding[2 * i]), int(padding[2 * i + 1]))
    return Pad.apply(x, widths=tuple(widths), value=value)


class Cast(Function):
    """y = x as another dtype;   dL/dx = dL/dy cast back"""

    def forward(self, x, dtype):
        self.input_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return grad.to(self.input_dtype)


class ToDevice(Function):
    """y = x copied to another device;   dL/dx = dL/dy copied back"""

    def forward(self, x, device):
        self.input_device = self.backend.name  # backend names are device names
        return get_backend(device).asarray(self.backend.to_numpy(x), x.dtype)

    def backward(self, grad):
        return grad.to(self.input_device)

    @classmethod
    def apply(cls, x: Tensor, device: str) -> Tensor:  # type: ignore[override]
        out = super().apply(x, device=device)
        out.device = device  # the only op whose output lives on another device
        return out


def reshape(x: Tensor, *shape: Any) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape=shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = start_dim % x.ndim, end_dim % x.ndim
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    middle = int(np.prod(x.shape[start : end + 1]))
    return reshape(x, *x.shape[:start], middle, *x.shape[end + 1 :])


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    axis = dim % x.ndim
    return reshape(x, *x.shape[:axis], *sizes, *x.shape[axis + 1 :])


def permute(x: Tensor, *dims: Any) -> Tensor:
    if len(dims) == 1 and isinstance(dims[0], tuple | list):
        dims = tuple(dims[0])
    if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of {x.ndim} axes")
    return Permute.apply(x, dims=tuple(d % x.ndim for d in dims))


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    dims = list(range(x.ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(x, dims=tuple(dims))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    axis = dim % (x.ndim + 1)
    return reshape(x, *x.shape[:axis], 1, *x.shape[axis:])


def squeeze(x: Tensor, dim: int | None = None) -> Tensor:
    if dim is None:
        return reshape(x, *(s for s in x.shape if s != 1))
    axis = dim % x.ndim
    if x.shape[axis] != 1:
        return x
    return reshape(x, *x.shape[:axis], *x.shape[axis + 1 :])
