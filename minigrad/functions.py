"""``torch.*`` function spellings of Tensor methods, and PyTorch's dtype names.

``minigrad.max(x, 1)`` is ``x.max(1)``, ``minigrad.eq(a, b)`` is ``a.eq(b)``: one
behaviour, the two spellings PyTorch has. The dtype names are numpy dtypes under
PyTorch's names (``minigrad.float`` is float32, ``minigrad.long`` is int64).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.ops.compare import allclose, equal
from minigrad.tensor import Tensor, bool_, float32, float64, int64

float = float32  # noqa: A001
double = float64
long = int64
int32 = np.dtype(np.int32)
int = int32  # noqa: A001
uint8 = np.dtype(np.uint8)
bool = bool_  # noqa: A001


def _spelling(name: str) -> Callable[..., Any]:
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{name}(input, ...)`` is ``input.{name}(...)``."
    return function


max = _spelling("max")  # noqa: A001
min = _spelling("min")  # noqa: A001
eq = _spelling("eq")
ne = _spelling("ne")
lt = _spelling("lt")
le = _spelling("le")
gt = _spelling("gt")
ge = _spelling("ge")
all = _spelling("all")  # noqa: A001
any = _spelling("any")  # noqa: A001
isnan = _spelling("isnan")
isinf = _spelling("isinf")
isfinite = _spelling("isfinite")
logical_not = _spelling("logical_not")
mm = _spelling("mm")
bmm = _spelling("bmm")
std = _spelling("std")
split = _spelling("split")
chunk = _spelling("chunk")
unbind = _spelling("unbind")
masked_fill = _spelling("masked_fill")
square = _spelling("square")
numel = _spelling("numel")
is_floating_point = _spelling("is_floating_point")
t = _spelling("t")


def is_tensor(obj: object) -> bool:
    """True for a minigrad Tensor (a Parameter included)."""
    return isinstance(obj, Tensor)


__all__ = [
    "allclose",
    "equal",
    "float",
    "double",
    "long",
    "int32",
    "int",
    "uint8",
    "bool",
    "max",
    "min",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "all",
    "any",
    "isnan",
    "isinf",
    "isfinite",
    "logical_not",
    "mm",
    "bmm",
    "std",
    "split",
    "chunk",
    "unbind",
    "masked_fill",
    "square",
    "numel",
    "is_floating_point",
    "t",
    "is_tensor",
]
