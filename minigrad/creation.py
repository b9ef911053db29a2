"""Making tensors: ``tensor``, ``zeros``, ``ones``, ``randn`` and friends (PyTorch names)."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import random
from minigrad.devices import get_backend, normalize_device
from minigrad.tensor import Tensor, float32, int64

DEFAULT_DTYPE = float32


def _resolve_dtype(data: Any, dtype: Any) -> np.dtype:
    if dtype is not None:
        return np.dtype(dtype)
    if isinstance(data, Tensor):
        return data.dtype
    if hasattr(data, "dtype"):
        return np.dtype(data.dtype)
    probe = np.asarray(data)
    if probe.dtype.kind == "f":
        return DEFAULT_DTYPE
    if probe.dtype.kind in "iu":
        return int64
    return probe.dtype


def to_device_array(data: Any, dtype: Any, device: str) -> Any:
    """``data`` (nested lists, scalars, numpy arrays, tensors) as a fresh array on ``device``."""
    dtype = _resolve_dtype(data, dtype)
    if isinstance(data, Tensor):
        data = data.numpy()
    if dtype.kind not in "biuf":
        raise TypeError(f"data must be numeric or bool, got dtype {dtype}")
    return get_backend(device).asarray(np.array(data, dtype=dtype), dtype)


def tensor(
    data: Any, dtype: Any = None, device: str = "cpu", requires_grad: bool = False
) -> Tensor:
    """A new tensor holding a copy of ``data``. Floats default to float32, ints to int64."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def _shape(size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], tuple | list):
        size = tuple(size[0])
    for dim in size:
        if not isinstance(dim, int | np.integer) or dim < 0:
            raise ValueError(f"size must be non-negative ints, got {size}")
    return tuple(int(d) for d in size)


def _filled(shape: tuple[int, ...], value: Any, dtype: Any, device: str, rg: bool) -> Tensor:
    device = normalize_device(device)
    dtype = np.dtype(dtype or DEFAULT_DTYPE)
    array = get_backend(device).xp.full(shape, value, dtype=dtype)
    return Tensor._make(array, device, False).requires_grad_(rg)


def zeros(*size: Any, dtype: Any = None, device: str = "cpu", requires_grad: bool = False):
    return _filled(_shape(size), 0, dtype, device, requires_grad)


def ones(*size: Any, dtype: Any = None, device: str = "cpu", requires_grad: bool = False):
    return _filled(_shape(size), 1, dtype, device, requires_grad)


def full(
    size: Any,
    fill_value: float,
    dtype: Any = None,
    device: str = "cpu",
    requires_grad: bool = False,
) -> Tensor:
    return _filled(_shape((size,)), fill_value, dtype, device, requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    device: str = "cpu",
    requires_grad: bool = False,
) -> Tensor:
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    return tensor(
        values,
        dtype=dtype or _resolve_dtype(values.tolist(), None),
        device=device,
        requires_grad=requires_grad,
    )


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: str = "cpu"):
    return tensor(np.linspace(start, end, steps), dtype=dtype or DEFAULT_DTYPE, device=device)


def eye(n: int, dtype: Any = None, device: str = "cpu") -> Tensor:
    return tensor(np.eye(n), dtype=dtype or DEFAULT_DTYPE, device=device)


def randn(*size: Any, dtype: Any = None, device: str = "cpu", requires_grad: bool = False):
    """Samples from N(0, 1) drawn from the seeded generator of ``device``."""
    device = normalize_device(device)
    array = random.normal_array(_shape(size), np.dtype(dtype or DEFAULT_DTYPE), device)
    return Tensor._make(array, device, False).requires_grad_(requires_grad)


def rand(*size: Any, dtype: Any = None, device: str = "cpu", requires_grad: bool = False):
    """Samples from U[0, 1) drawn from the seeded generator of ``device``."""
    device = normalize_device(device)
    array = random.uniform_array(_shape(size), np.dtype(dtype or DEFAULT_DTYPE), device)
    return Tensor._make(array, device, False).requires_grad_(requires_grad)


def randint(low: int, high: int, size: tuple[int, ...], device: str = "cpu") -> Tensor:
    """Integers in [low, high) from the seeded generator (int64)."""
    if high <= low:
        raise ValueError(f"randint needs low < high, got low={low}, high={high}")
    device = normalize_device(device)
    uniform = random.uniform_array(_shape((size,)), np.dtype(np.float64), device)
    return Tensor._make((low + uniform * (high - low)).astype(np.int64), device, False)


def _like(fn: Any, other: Tensor, dtype: Any, requires_grad: bool) -> Tensor:
    return fn(
        *other.shape, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad
    )


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _like(zeros, other, dtype, requires_grad)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _like(ones, other, dtype, requires_grad)


def full_like(other: Tensor, fill_value: float, dtype: Any = None) -> Tensor:
    return full(other.shape, fill_value, dtype=dtype or other.dtype, device=other.device)


def randn_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _like(randn, other, dtype, requires_grad)


def rand_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _like(rand, other, dtype, requires_grad)


def empty(
    *size: Any, dtype: Any = None, device: str | None = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``size``, zero-filled (PyTorch leaves it uninitialised; zeros are as
    fast here and make a forgotten fill show up as zeros, not as noise)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _like(zeros, other, dtype, requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor that shares ``array``'s memory (changes show through both ways)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: array must be numeric or bool, got dtype {array.dtype}")
    return Tensor._make(array, normalize_device("cpu"), False)


def as_tensor(data: Any, dtype: Any = None, device: str | None = None) -> Tensor:
    """``data`` as a tensor, sharing memory where it can: a Tensor of the asked dtype and
    device comes back as it is, a numpy array on the CPU is shared as by ``from_numpy``."""
    device = normalize_device(device)
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if isinstance(data, np.ndarray) and device == "cpu" and (dtype is None or data.dtype == dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


# ------------------------------------------------------------ Tensor.new_*: same device/dtype
def _new_options(self: Tensor, dtype: Any, device: Any) -> dict[str, Any]:
    return {"dtype": dtype or self.dtype, "device": self.device if device is None else device}


def new_zeros(
    self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    return zeros(*size, requires_grad=requires_grad, **_new_options(self, dtype, device))


def new_ones(
    self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    return ones(*size, requires_grad=requires_grad, **_new_options(self, dtype, device))


def new_empty(
    self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    return empty(*size, requires_grad=requires_grad, **_new_options(self, dtype, device))


def new_full(
    self: Tensor,
    size: Any,
    fill_value: float,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    return full(size, fill_value, requires_grad=requires_grad, **_new_options(self, dtype, device))


def new_tensor(
    self: Tensor, data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A copy of ``data`` with this tensor's dtype and device unless told otherwise."""
    return tensor(data, requires_grad=requires_grad, **_new_options(self, dtype, device))




def set_default_dtype(dtype: Any) -> None:
    """The float dtype that Python floats and the factories use (float32 unless set)."""
    global DEFAULT_DTYPE
    dtype = np.dtype(dtype)
    if dtype.kind != "f" or dtype.itemsize < 4:
        raise TypeError(f"default dtype must be float32 or float64, got {dtype}")
    DEFAULT_DTYPE = dtype


def get_default_dtype() -> np.dtype:
    return DEFAULT_DTYPE


for _method in (new_zeros, new_ones, new_empty, new_full, new_tensor):
    setattr(Tensor, _method.__name__, _method)
