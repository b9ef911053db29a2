"""Comparisons and logic: ``eq``/``ne``/``lt``/``le``/``gt``/``ge``, ``&``, ``|``, ``~``,
``all``/``any``, ``isnan``/``isinf``/``isfinite``, ``equal``, ``allclose``.

Their results are bool tensors, constant for autodiff (a comparison has no gradient), so
each is a single array operation with no ``Function``.
"""

from __future__ import annotations

from typing import Any

from minigrad.ops.reduce import normalize_dims
from minigrad.tensor import Tensor, check_same_device


def _array_of(like: Tensor, other: Any) -> Any:
    if isinstance(other, Tensor):
        check_same_device((like, other), "comparison")
        return other._data
    return other


def _bool(like: Tensor, array: Any) -> Tensor:
    return Tensor._make(like.backend.xp.asarray(array), like.device, False)


def _binary(ufunc_name: str):
    def method(self: Tensor, other: Any) -> Tensor:
        return _bool(self, getattr(self.backend.xp, ufunc_name)(self._data, _array_of(self, other)))

    method.__name__ = ufunc_name
    return method


def _logical(ufunc_name: str, bitwise_name: str):
    """``&``, ``|``, ``^``: logical on bool tensors, bitwise on integer ones (as PyTorch)."""

    def method(self: Tensor, other: Any) -> Tensor:
        if self.dtype.kind == "f":
            raise TypeError(f"{bitwise_name} is not defined for floating-point tensors")
        xp = self.backend.xp
        name = ufunc_name if self.dtype.kind == "b" else bitwise_name
        return _bool(self, getattr(xp, name)(self._data, _array_of(self, other)))

    return method


def invert(self: Tensor) -> Tensor:
    """``~t``: logical not of a bool tensor, bitwise not of an integer one."""
    if self.dtype.kind == "f":
        raise TypeError("~ is not defined for floating-point tensors; use logical_not()")
    return _bool(self, self.backend.xp.invert(self._data))


def logical_not(self: Tensor) -> Tensor:
    return _bool(self, self.backend.xp.logical_not(self._data))


def _reduction(name: str):
    def method(self: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
        axes = normalize_dims(dim, self.ndim)
        return _bool(self, getattr(self.backend.xp, name)(self._data, axis=axes, keepdims=keepdim))

    return method


def _test(name: str):
    def method(self: Tensor) -> Tensor:
        return _bool(self, getattr(self.backend.xp, name)(self._data))

    return method


def equal(a: Tensor, b: Tensor) -> bool:
    """True when ``a`` and ``b`` have the same shape and the same values."""
    return a.shape == b.shape and bool(a.backend.xp.array_equal(a._data, _array_of(a, b)))


def allclose(
    a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> bool:
    """True when |a - b| <= atol + rtol |b| everywhere (PyTorch's and numpy's test)."""
    xp = a.backend.xp
    return bool(xp.allclose(a._data, _array_of(a, b), rtol=rtol, atol=atol, equal_nan=equal_nan))


METHODS = {
    "eq": _binary("equal"),
    "ne": _binary("not_equal"),
    "lt": _binary("less"),
    "le": _binary("less_equal"),
    "gt": _binary("greater"),
    "ge": _binary("greater_equal"),
    "__eq__": _binary("equal"),
    "__ne__": _binary("not_equal"),
    "__lt__": _binary("less"),
    "__le__": _binary("less_equal"),
    "__gt__": _binary("greater"),
    "__ge__": _binary("greater_equal"),
    "__and__": _logical("logical_and", "bitwise_and"),
    "__or__": _logical("logical_or", "bitwise_or"),
    "__xor__": _logical("logical_xor", "bitwise_xor"),
    "__invert__": invert,
    "logical_not": logical_not,
    "logical_and": _binary("logical_and"),
    "logical_or": _binary("logical_or"),
    "all": _reduction("all"),
    "any": _reduction("any"),
    "isnan": _test("isnan"),
    "isinf": _test("isinf"),
    "isfinite": _test("isfinite"),
    "equal": equal,
    "allclose": allclose,
}
