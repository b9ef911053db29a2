"""In-place changes: ``copy_``, ``fill_``, ``add_``..., ``t[i] = v``, ``t += v``, ``normal_``.

The rules are PyTorch's. Every change bumps the tensor's version, so a backward that
saved the old values raises instead of using the new ones. A leaf that requires grad may
be changed only under ``no_grad()`` (or through ``.data``): changing it in place would
silently detach the values its gradient belongs to. A tensor inside a graph cannot be
changed by the explicit ``add_``-style methods; the augmented operators (``y += 1``) then
rebind ``y`` to the out-of-place result instead, which gives the same values and
gradients as PyTorch's recorded in-place op (only other views of the old ``y`` differ).
"""

from __future__ import annotations

from typing import Any

from minigrad import autograd, random
from minigrad.ops.shape import device_index
from minigrad.tensor import Scalar, Tensor, check_same_device


def check_inplace(tensor: Tensor, name: str) -> None:
    """Raise where PyTorch refuses an in-place change of ``tensor`` (see the module doc)."""
    if not autograd.is_grad_enabled():
        return
    if tensor.requires_grad and tensor.grad_fn is None:
        raise RuntimeError(
            f"{name}: a leaf Variable that requires grad is being used in an in-place "
            "operation; wrap the change in minigrad.no_grad() or make it through .data"
        )
    if tensor.grad_fn is not None:
        raise RuntimeError(
            f"{name}: in-place change of a tensor that is part of a graph is not "
            "supported; use the out-of-place operation"
        )


def _other_array(tensor: Tensor, other: Tensor | Scalar | Any) -> Any:
    if isinstance(other, Tensor):
        check_same_device((tensor, other), "in-place op")
        return other._data
    return other


def _store(tensor: Tensor, array: Any, name: str) -> Tensor:
    """Write ``array`` (broadcast, cast) into ``tensor``'s storage and record the change."""
    check_inplace(tensor, name)
    tensor._storage()[...] = tensor.backend.xp.asarray(array, dtype=tensor.dtype)
    tensor._version += 1
    return tensor


def _store_result(tensor: Tensor, result: Any, name: str) -> Tensor:
    """``_store`` for arithmetic, which, as in PyTorch, may not turn floats into ints."""
    if tensor.dtype.kind in "biu" and result.dtype.kind == "f":
        raise RuntimeError(
            f"{name}: result type {result.dtype} can't be cast to the tensor's dtype "
            f"{tensor.dtype}; convert with .float() first"
        )
    return _store(tensor, result, name)


def setitem(self: Tensor, index: Any, value: Tensor | Scalar | Any) -> None:
    """``t[index] = value`` in place (``t.data[index] = value`` to bypass autograd)."""
    check_inplace(self, "__setitem__")
    value = self.backend.asarray(_other_array(self, value), self.dtype)
    self._storage()[device_index(index, self.device)] = value
    self._version += 1


def copy_(self: Tensor, src: Tensor | Any, non_blocking: bool = False) -> Tensor:
    """Copy ``src``'s values (broadcast, cast to this dtype, moved to this device) into
    ``self``. ``non_blocking`` has no effect: every copy here is synchronous."""
    # Host data (numpy arrays, lists) moves to this tensor's device first: CuPy's
    # broadcast_to accepts only CuPy arrays.
    value = self.backend.asarray(_other_array(self, src), self.dtype)
    if value.shape not in ((), self.shape):
        self.backend.xp.broadcast_to(value, self.shape)  # raises, naming both shapes
    return _store(self, value, "copy_")


def zero_(self: Tensor) -> Tensor:
    return _store(self, 0, "zero_")


def fill_(self: Tensor, value: Scalar | Tensor) -> Tensor:
    return _store(self, value.item() if isinstance(value, Tensor) else value, "fill_")


def add_(self: Tensor, other: Tensor | Scalar, alpha: Scalar = 1) -> Tensor:
    return _store_result(self, self._data + alpha * _other_array(self, other), "add_")


def sub_(self: Tensor, other: Tensor | Scalar, alpha: Scalar = 1) -> Tensor:
    return _store_result(self, self._data - alpha * _other_array(self, other), "sub_")


def mul_(self: Tensor, other: Tensor | Scalar) -> Tensor:
    return _store_result(self, self._data * _other_array(self, other), "mul_")


def div_(self: Tensor, other: Tensor | Scalar) -> Tensor:
    return _store_result(self, self._data / _other_array(self, other), "div_")


def clamp_(self: Tensor, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:  # noqa: A002
    return _store(self, self.backend.xp.clip(self._data, min, max), "clamp_")


def masked_fill_(self: Tensor, mask: Tensor, value: Scalar) -> Tensor:
    """Write ``value`` where the bool ``mask`` (broadcast to ``self``) holds."""
    if not isinstance(mask, Tensor) or mask.dtype.kind != "b":
        raise TypeError("masked_fill_: mask must be a bool Tensor")
    xp = self.backend.xp
    return _store(self, xp.where(_other_array(self, mask), value, self._data), "masked_fill_")


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    noise = random.normal_array(self.shape, self.dtype, self.device)
    return _store(self, noise * std + mean, "normal_")


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    noise = random.uniform_array(self.shape, self.dtype, self.device)
    return _store(self, noise * (b - a) + a, "uniform_")


def _augmented(out_of_place: Any, in_place: Any):
    """``t += v``: in place where PyTorch changes ``t`` in place without a graph; the
    out-of-place result where PyTorch would record the change in the graph."""

    def method(self: Tensor, other: Any) -> Tensor:
        records = autograd.is_grad_enabled() and (
            self.grad_fn is not None or (isinstance(other, Tensor) and other.requires_grad)
        )
        if records and not (self.requires_grad and self.grad_fn is None):
            return out_of_place(self, other)
        return in_place(self, other)  # a leaf that requires grad raises here, as in PyTorch

    return method


def install(cls: type) -> None:
    """Attach the in-place methods to ``Tensor``."""
    methods = {
        "__setitem__": setitem,
        "copy_": copy_,
        "zero_": zero_,
        "fill_": fill_,
        "add_": add_,
        "sub_": sub_,
        "mul_": mul_,
        "div_": div_,
        "clamp_": clamp_,
        "clip_": clamp_,
        "masked_fill_": masked_fill_,
        "normal_": normal_,
        "uniform_": uniform_,
        "__iadd__": _augmented(cls.__add__, add_),
        "__isub__": _augmented(cls.__sub__, sub_),
        "__imul__": _augmented(cls.__mul__, mul_),
        "__itruediv__": _augmented(cls.__truediv__, div_),
    }
    for name, method in methods.items():
        setattr(cls, name, method)
