"""Differentiable operations, one family per file, and the Tensor methods that call them."""

from __future__ import annotations

from typing import Any

from minigrad.ops import activation, elementwise, matmul, reduce, shape
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


def _compare(op: str):
    def method(self: Tensor, other: Any) -> Tensor:
        other_data = other._data if isinstance(other, Tensor) else other
        return Tensor._make(getattr(self._data, op)(other_data), self.device, False)

    return method


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
        "__lt__": _compare("__lt__"),
        "__le__": _compare("__le__"),
        "__gt__": _compare("__gt__"),
        "__ge__": _compare("__ge__"),
        "__eq__": _compare("__eq__"),
        "__ne__": _compare("__ne__"),
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
        "max": _max_or_min(reduce.amax, reduce.argmax, maximum),
        "min": _max_or_min(reduce.amin, reduce.argmin, minimum),
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
    }
    for name, method in methods.items():
        setattr(cls, name, method)


class _MaxResult(tuple):
    """``(values, indices)`` like PyTorch's ``max(dim=...)``; also ``.values``/``.indices``."""

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]


def _max_or_min(reduce_fn, arg_fn, pairwise):
    def method(self: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
        if isinstance(dim, Tensor):
            return pairwise(self, dim)
        if dim is None:
            return reduce_fn(self)
        return _MaxResult((reduce_fn(self, dim, keepdim), arg_fn(self, dim, keepdim)))

    return method
