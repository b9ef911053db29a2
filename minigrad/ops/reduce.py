"""Reductions (sum, mean, var, max, min, norm, logsumexp) and the softmax family.

A reduction's backward spreads the incoming gradient back over the reduced axes:
``expand`` it to the input's shape (times a mask for max/min).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from minigrad.autograd import Function
from minigrad.ops.broadcast import expand
from minigrad.tensor import Tensor

Dim = int | Sequence[int] | None


def normalize_dims(dim: Dim, ndim: int) -> tuple[int, ...]:
    """``dim`` as a sorted tuple of non-negative axes (all axes when None)."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    resolved = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"dim {d} is out of range for a tensor with {ndim} dims")
        resolved.append(d % max(ndim, 1))
    return tuple(sorted(set(resolved)))


def _keepdim_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


def _spread(grad: Tensor, input_shape: tuple[int, ...], axes: tuple[int, ...]) -> Tensor:
    """Undo a reduction's shape: reshape to keepdim form, then broadcast to the input."""
    return expand(grad.reshape(_keepdim_shape(input_shape, axes)), *input_shape)


class Sum(Function):
    """y = Σ_axes x;   dL/dx = dL/dy broadcast back over the summed axes"""

    def forward(self, x, axes, keepdim):
        self.input_shape, self.axes = x.shape, axes
        # All axes go as None: the backend then has no axes to check (the per-op overhead
        # of ``loss.sum()`` on small tensors is mostly such bookkeeping).
        return self.backend.sum(x, None if len(axes) == x.ndim else axes, keepdim)

    def backward(self, grad):
        return _spread(grad, self.input_shape, self.axes)


class Amax(Function):
    """y = max_axes x;   dL/dx = dL/dy at the maxima (split evenly among ties), 0 elsewhere"""

    save_inputs = True
    save_output = True

    def forward(self, x, axes, keepdim, use_min):
        self.axes = axes
        if use_min:
            return self.backend.xp.min(x, axis=axes, keepdims=keepdim)
        return self.backend.max(x, axes, keepdim)

    def backward(self, grad):
        (x,) = self.saved_inputs
        extreme = self.output._data.reshape(_keepdim_shape(x.shape, self.axes))
        winners = x._data == extreme
        share = winners / winners.sum(axis=self.axes, keepdims=True)
        mask = Tensor._make(share.astype(grad.dtype), grad.device, False)
        return _spread(grad, x.shape, self.axes) * mask


def sum(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    axes = tuple(range(x._data.ndim)) if dim is None else normalize_dims(dim, x.ndim)
    return Sum.apply(x, axes=axes, keepdim=keepdim)


def mean(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """(1/n) Σ x over ``dim``."""
    axes = normalize_dims(dim, x.ndim)
    count = math.prod(x.shape[a] for a in axes) if x.ndim else 1
    return sum(x, axes, keepdim) / count


def var(
    x: Tensor,
    dim: Dim = None,
    keepdim: bool = False,
    correction: int = 1,
    *,
    unbiased: bool | None = None,
) -> Tensor:
    """Σ (x - mean)² / (n - correction): unbiased by default, like PyTorch.

    ``unbiased=False`` is PyTorch's older spelling of ``correction=0`` (True: 1).
    """
    if unbiased is not None:
        correction = 1 if unbiased else 0
    axes = normalize_dims(dim, x.ndim)
    count = math.prod(x.shape[a] for a in axes) if x.ndim else 1
    centred = x - mean(x, axes, keepdim=True)
    return sum(centred * centred, axes, keepdim) / max(count - correction, 0)


def amax(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    return Amax.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim, use_min=False)


def amin(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    return Amax.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim, use_min=True)


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (flattened when ``dim`` is None); no gradient."""
    if dim is None:
        return Tensor._make(x.backend.argmax(x._data.reshape(-1), 0), x.device, False)
    axis = normalize_dims(dim, x.ndim)[0]
    indices = x.backend.argmax(x._data, axis)
    if keepdim:
        indices = x.backend.xp.expand_dims(indices, axis)
    return Tensor._make(indices, x.device, False)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return argmax(-x.detach(), dim, keepdim)


def logsumexp(x: Tensor, dim: Dim, keepdim: bool = False) -> Tensor:
    """log Σ e^x, shifted by the (constant) maximum so nothing overflows."""
    axes = normalize_dims(dim, x.ndim)
    shift = amax(x.detach(), axes, keepdim=True)
    shift = Tensor._make(x.backend.xp.nan_to_num(shift._data, neginf=0.0), x.device, False)
    result = sum((x - shift).exp(), axes, keepdim=True).log() + shift
    return (
        result
        if keepdim
        else result.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))
    )


class LogSoftmax(Function):
    """y = x - logsumexp(x);   dL/dx = dL/dy - softmax(x) * Σ dL/dy"""

    save_output = True

    def forward(self, x, axis):
        self.axis = axis
        xp = self.backend.xp
        shifted = x - self.backend.max(x, axis, True)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))

    def backward(self, grad):
        probabilities = self.output.exp()
        return grad - probabilities * grad.sum(dim=self.axis, keepdim=True)


class Softmax(Function):
    """y = e^x / Σ e^x;   dL/dx = y * (dL/dy - Σ y dL/dy)"""

    save_output = True

    def forward(self, x, axis):
        self.axis = axis
        xp = self.backend.xp
        exps = xp.exp(x - self.backend.max(x, axis, True))
        return exps / xp.sum(exps, axis=axis, keepdims=True)

    def backward(self, grad):
        y = self.output
        return y * (grad - (grad * y).sum(dim=self.axis, keepdim=True))


def log_softmax(x: Tensor, dim: int) -> Tensor:
    return LogSoftmax.apply(x, axis=normalize_dims(dim, x.ndim)[0])


def softmax(x: Tensor, dim: int) -> Tensor:
    return Softmax.apply(x, axis=normalize_dims(dim, x.ndim)[0])


class Norm2(Function):
    """y = √(Σ x²);   dL/dx = dL/dy * x / y   (0 where y = 0, the subgradient PyTorch uses)"""

    save_inputs = True
    save_output = True

    def forward(self, x, axes, keepdim):
        self.axes = axes
        xp = self.backend.xp
        return xp.sqrt(xp.sum(x * x, axis=axes, keepdims=keepdim))

    def backward(self, grad):
        from minigrad.ops.elementwise import Where

        (x,) = self.saved_inputs
        norm = self.output.reshape(_keepdim_shape(x.shape, self.axes))
        xp = self.backend.xp
        zero = norm._data == 0
        one_t = Tensor._make(xp.ones((), dtype=x.dtype), x.device, False)
        zero_t = Tensor._make(xp.zeros((), dtype=x.dtype), x.device, False)
        safe_norm = Where.apply(one_t, norm, condition=zero)
        direction = Where.apply(zero_t, x / safe_norm, condition=zero)
        return _spread(grad, x.shape, self.axes) * direction


def norm(x: Tensor, p: float = 2, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """‖x‖_p over ``dim`` (all elements when None): p = 2, 1, inf, or any p > 0."""
    axes = normalize_dims(dim, x.ndim)
    if p == 2:
        return Norm2.apply(x, axes=axes, keepdim=keepdim)
    if p == math.inf:
        return amax(x.abs(), axes, keepdim)
    if p == 1:
        return sum(x.abs(), axes, keepdim)
    if p <= 0:
        raise ValueError(f"norm: p must be > 0, got {p}")
    return sum(x.abs() ** p, axes, keepdim) ** (1.0 / p)


class MaxResult(tuple):
    """``(values, indices)`` like PyTorch's ``max(dim)``; also ``.values`` / ``.indices``."""

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]


def take_along_dim(x: Tensor, indices: Tensor, dim: int) -> Tensor:
    """``x`` picked at ``indices`` (same ndim as ``x``, size 1 along ``dim``); the gradient
    goes back to exactly the picked elements."""
    from minigrad.ops.shape import GetItem

    axis = dim % x.ndim
    xp = x.backend.xp
    index = tuple(
        indices._data
        if a == axis
        else xp.arange(n).reshape([n if b == a else 1 for b in range(x.ndim)])
        for a, n in enumerate(x.shape)
    )
    return GetItem.apply(x, index=index)


def max_or_min(reduce_fn: Any, arg_fn: Any, pairwise: Any) -> Any:
    """PyTorch's ``max``/``min`` method: over everything (ties share the gradient evenly,
    like ``amax``), along ``dim`` (values and indices; the gradient goes to the returned
    index only, the first extreme), or elementwise against another tensor."""

    def method(self: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
        if isinstance(dim, Tensor):
            return pairwise(self, dim)
        if dim is None:
            return reduce_fn(self)
        if self.ndim == 0:
            return MaxResult((self, Tensor._make(self.backend.xp.asarray(0), self.device, False)))
        indices = arg_fn(self, dim, keepdim=True)
        values = take_along_dim(self, indices, dim)
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        return MaxResult((values, indices))

    return method
