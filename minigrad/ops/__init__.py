"""Differentiable operations, one family per file, and the Tensor methods that call them."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.ops import activation, compare, elementwise, inplace, matmul, reduce, shape
from minigrad.ops.broadcast import expand
from minigrad.tensor import Tensor, as_tensor_like


def _binary(function: type, swap: bool = False):
    def method(self: Tensor, other: Any) -> Tensor:
        other = as_tensor_like(other, self)
        return function.apply(other, self) if swap else function.apply(self, other)

    return method


def pow(x: Tensor, exponent: Any) -> Tensor:  # noqa: A001
    if isinstance(exponent, int | float):
        return elementwise.PowScalar.apply(x, exponent=exponent)
    return elementwise.Pow.apply(x, as_tensor_like(exponent, x))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Pick ``a`` where ``condition`` holds, else ``b`` (broadcasting all three)."""
    like = a if isinstance(a, Tensor) else b
    if not isinstance(like, Tensor):
        raise TypeError("where: at least one of a, b must be a Tensor")
    mask = (
        condition._data if isinstance(condition, Tensor) else like.backend.asarray(condition, None)
    )
    if mask.dtype.kind != "b":
        raise TypeError(f"where: condition must be bool, got dtype {mask.dtype}")
    return elementwise.Where.apply(as_tensor_like(a, like), as_tensor_like(b, like), condition=mask)


def maximum(a: Tensor, b: Any) -> Tensor:
    return elementwise.Maximum.apply(a, as_tensor_like(b, a))


def minimum(a: Tensor, b: Any) -> Tensor:
    return elementwise.Minimum.apply(a, as_tensor_like(b, a))


def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    if min is None and max is None:
        raise ValueError("clamp: at least one of min, max must be given")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clamp: min ({min}) must not exceed max ({max})")
    return elementwise.Clamp.apply(x, low=min, high=max)


def install_tensor_methods(cls: type) -> None:
    """Attach the operator overloads and methods to ``Tensor`` (PyTorch's names)."""
    methods = {
        "__add__": _binary(elementwise.Add),
        "__radd__": _binary(elementwise.Add, swap=True),
        "__sub__": _binary(elementwise.Sub),
        "__rsub__": _binary(elementwise.Sub, swap=True),
        "__mul__": _binary(elementwise.Mul),
        "__rmul__": _binary(elementwise.Mul, swap=True),
        "__truediv__": _binary(elementwise.Div),
        "__rtruediv__": _binary(elementwise.Div, swap=True),
        "__pow__": pow,
        "__rpow__": lambda self, base: elementwise.Pow.apply(as_tensor_like(base, self), self),
        "__matmul__": lambda self, other: matmul.matmul(self, other),
        "__rmatmul__": lambda self, other: matmul.matmul(as_tensor_like(other, self), self),
        "__neg__": lambda self: elementwise.Neg.apply(self),
        "__abs__": lambda self: elementwise.Abs.apply(self),
        "__getitem__": shape.getitem,
        "add": _binary(elementwise.Add),
        "sub": _binary(elementwise.Sub),
        "mul": _binary(elementwise.Mul),
        "div": _binary(elementwise.Div),
        "pow": pow,
        "matmul": matmul.matmul,
        "neg": lambda self: elementwise.Neg.apply(self),
        "abs": lambda self: elementwise.Abs.apply(self),
        "exp": lambda self: elementwise.Exp.apply(self),
        "log": lambda self: elementwise.Log.apply(self),
        "sqrt": lambda self: elementwise.Sqrt.apply(self),
        "sign": lambda self: elementwise.Sign.apply(self),
        "maximum": maximum,
        "minimum": minimum,
        "clamp": clamp,
        "clip": clamp,
        "tanh": activation.tanh,
        "sigmoid": activation.sigmoid,
        "relu": activation.relu,
        "sum": reduce.sum,
        "mean": reduce.mean,
        "var": reduce.var,
        "amax": reduce.amax,
        "amin": reduce.amin,
        "max": reduce.max_or_min(reduce.amax, reduce.argmax, maximum),
        "min": reduce.max_or_min(reduce.amin, reduce.argmin, minimum),
        "argmax": reduce.argmax,
        "argmin": reduce.argmin,
        "logsumexp": reduce.logsumexp,
        "softmax": reduce.softmax,
        "log_softmax": reduce.log_softmax,
        "norm": reduce.norm,
        "reshape": shape.reshape,
        "view": shape.reshape,
        "flatten": shape.flatten,
        "unflatten": shape.unflatten,
        "permute": shape.permute,
        "transpose": shape.transpose,
        "unsqueeze": shape.unsqueeze,
        "squeeze": shape.squeeze,
        "expand": expand,
        "broadcast_to": expand,
        "clone": lambda self: self * 1 if self.requires_grad else self.detach()._copy(),
        "_copy": lambda self: Tensor._make(self._data.copy(), self.device, False),
        "T": property(lambda self: self.permute(*reversed(range(self.ndim)))),
        "t": _t,
        "mm": _matmul_of_ndim(2, "mm"),
        "bmm": _matmul_of_ndim(3, "bmm"),
        "view_as": lambda self, other: shape.reshape(self, other.shape),
        "reshape_as": lambda self, other: shape.reshape(self, other.shape),
        "expand_as": lambda self, other: expand(self, *other.shape),
        "split": shape.split,
        "chunk": shape.chunk,
        "unbind": shape.unbind,
        "std": lambda self, dim=None, keepdim=False, correction=1, *, unbiased=None: reduce.var(
            self, dim, keepdim, correction, unbiased=unbiased
        ).sqrt(),
        "square": lambda self: self * self,
        "masked_fill": masked_fill,
        "type_as": lambda self, other: self.to(other.dtype),
        "int": lambda self: self.to(np.dtype(np.int32)),
        "bool": lambda self: self.to(np.dtype(np.bool_)),
        "is_floating_point": lambda self: self.dtype.kind == "f",
        "nelement": lambda self: self.numel(),
        "element_size": lambda self: self.dtype.itemsize,
        "stride": _stride,
        "is_contiguous": lambda self: bool(self._data.flags.c_contiguous),
        "contiguous": shape.contiguous,
        **compare.METHODS,
    }
    for name, method in methods.items():
        setattr(cls, name, method)
    inplace.install(cls)


def masked_fill(x: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``value`` where the bool ``mask`` holds, ``x`` elsewhere (differentiable in ``x``)."""
    if not isinstance(mask, Tensor) or mask.dtype.kind != "b":
        raise TypeError("masked_fill: mask must be a bool Tensor")
    return where(mask, as_tensor_like(value, x), x)


def _t(x: Tensor) -> Tensor:
    """The transpose of a matrix (a vector or scalar comes back as it is), as PyTorch."""
    if x.ndim > 2:
        raise ValueError(f"t() expects a tensor of at most 2 dims, got shape {x.shape}; use mT")
    return shape.transpose(x, 0, 1) if x.ndim == 2 else x


def _matmul_of_ndim(ndim: int, name: str):
    def method(self: Tensor, other: Tensor) -> Tensor:
        if self.ndim != ndim or other.ndim != ndim:
            raise ValueError(
                f"{name} expects two {ndim}-d tensors, got shapes {self.shape} and {other.shape}"
            )
        return matmul.matmul(self, other)

    return method


def _stride(x: Tensor, dim: int | None = None) -> Any:
    """Strides in elements, as PyTorch counts them (numpy counts bytes)."""
    strides = tuple(step // x.dtype.itemsize for step in x._data.strides)
    return strides if dim is None else strides[dim]
