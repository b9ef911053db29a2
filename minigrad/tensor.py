"""``Tensor``: one device array plus what autodiff needs (requires_grad, grad, grad_fn).

Storage, strides and views are numpy's (or CuPy's); this class adds the graph. Every
method is a thin call into ``minigrad.ops``, where each operation and its gradient live
side by side.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.device import get_backend, normalize_device

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

Scalar = int | float | bool


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = (
        "_data",
        "requires_grad",
        "grad",
        "grad_fn",
        "device",
        "_version",
        "_retains_grad",
        "__weakref__",
    )
    __array_priority__ = 1000  # so numpy_array * tensor defers to Tensor.__rmul__

    def __init__(
        self,
        data: Any,
        dtype: Any = None,
        device: str = "cpu",
        requires_grad: bool = False,
    ) -> None:
        from minigrad.creation import to_device_array

        device = normalize_device(device)
        self._data = to_device_array(data, dtype, device)
        self.device = device
        self.grad: Tensor | None = None
        self.grad_fn: autograd.Function | None = None
        self._version = 0
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, array: Any, device: str, requires_grad: bool) -> Tensor:
        """Fast constructor from an array already on ``device`` (used by every op)."""
        tensor = object.__new__(cls)
        tensor._data = array
        tensor.device = device
        tensor.requires_grad = requires_grad
        tensor.grad = None
        tensor.grad_fn = None
        tensor._version = 0
        tensor._retains_grad = False
        return tensor

    # ------------------------------------------------------------------ storage
    @property
    def data(self) -> Any:
        """The raw device array (numpy on the CPU). Assigning it counts as an in-place change."""
        return self._data

    @data.setter
    def data(self, array: Any) -> None:
        self._data = array
        self._version += 1

    @property
    def backend(self) -> ModuleType:
        """The kernel module of this tensor's device."""
        return get_backend(self.device)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data.shape)

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return int(self._data.size)

    def dim(self) -> int:
        return self.ndim

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # ------------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        """The values as a numpy array (copied off the GPU when needed)."""
        return self.backend.to_numpy(self._data)

    def item(self) -> Scalar:
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.backend.to_numpy(self._data).reshape(()).item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(device)``, ``to(dtype)`` or ``to(device, dtype)``; differentiable."""
        from minigrad.ops import shape as shape_ops

        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, str):
                device = arg
            else:
                dtype = arg
        result = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            result = shape_ops.Cast.apply(result, dtype=np.dtype(dtype))
        if device is not None and normalize_device(device) != self.device:
            result = shape_ops.ToDevice.apply(result, device=normalize_device(device))
        return result

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def long(self) -> Tensor:
        return self.to(int64)

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares storage)."""
        return Tensor._make(self._data, self.device, False)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool = False,
        create_graph: bool = False,
    ) -> None:
        """Accumulate d self / d leaf into ``.grad`` of every leaf that requires grad."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def _accumulate_grad(self, grad: Tensor) -> None:
        if grad.shape != self.shape:
            raise RuntimeError(
                f"gradient of shape {grad.shape} does not match tensor of shape {self.shape}"
            )
        if self.grad is None:
            # A fresh array: later in-place accumulation must not write into a graph value.
            self.grad = grad if grad.requires_grad else grad.detach().clone()
        elif grad.requires_grad or self.grad.requires_grad:
            self.grad = self.grad + grad
        else:
            self.grad._data += grad._data

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` on the next backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad on a tensor that does not require grad")
        self._retains_grad = True

    # ------------------------------------------------------------------ in place
    def _check_inplace(self, name: str) -> None:
        if self.requires_grad and self.is_leaf and autograd.is_grad_enabled():
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad cannot be changed in place "
                "while grad is enabled; wrap the change in minigrad.no_grad()"
            )
        if self.grad_fn is not None and autograd.is_grad_enabled():
            raise RuntimeError(
                f"{name}: in-place change of a tensor that is part of a graph is not "
                "supported; use the out-of-place operation"
            )

    def _set_(self, array: Any, name: str) -> Tensor:
        self._check_inplace(name)
        xp = self.backend.xp
        self._data[...] = xp.asarray(array, dtype=self.dtype)
        self._version += 1
        return self

    def _other_array(self, other: Tensor | Scalar | Any) -> Any:
        if isinstance(other, Tensor):
            check_same_device((self, other), "in-place op")
            return other._data
        return other

    def copy_(self, src: Tensor | Any) -> Tensor:
        # Host data (numpy arrays, lists) moves to this tensor's device first: CuPy's
        # broadcast_to accepts only CuPy arrays.
        value = self.backend.asarray(self._other_array(src), self.dtype)
        if value.shape not in ((), self.shape):
            self.backend.xp.broadcast_to(value, self.shape)  # raises, naming both shapes
        return self._set_(value, "copy_")

    def zero_(self) -> Tensor:
        return self._set_(0, "zero_")

    def fill_(self, value: Scalar) -> Tensor:
        return self._set_(value, "fill_")

    def add_(self, other: Tensor | Scalar, alpha: Scalar = 1) -> Tensor:
        return self._set_(self._data + alpha * self._other_array(other), "add_")

    def sub_(self, other: Tensor | Scalar, alpha: Scalar = 1) -> Tensor:
        return self._set_(self._data - alpha * self._other_array(other), "sub_")

    def mul_(self, other: Tensor | Scalar) -> Tensor:
        return self._set_(self._data * self._other_array(other), "mul_")

    def div_(self, other: Tensor | Scalar) -> Tensor:
        return self._set_(self._data / self._other_array(other), "div_")

    def clamp_(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        return self._set_(self.backend.xp.clip(self._data, min, max), "clamp_")

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        from minigrad import random

        noise = random.normal_array(self.shape, self.dtype, self.device)
        return self._set_(noise * std + mean, "normal_")

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        from minigrad import random

        noise = random.uniform_array(self.shape, self.dtype, self.device)
        return self._set_(noise * (b - a) + a, "uniform_")

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", precision=4, prefix="tensor(")
        extras = []
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype != float32 and self.dtype != int64 and self.dtype != bool_:
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __hash__(self) -> int:
        return id(self)


def check_same_device(tensors: Sequence[Tensor], op_name: str) -> str:
    """The one device all ``tensors`` live on, or a clear error naming both devices."""
    device = tensors[0].device if tensors else "cpu"
    for tensor in tensors:
        if tensor.device != device:
            raise RuntimeError(
                f"{op_name}: expected all tensors on one device, found {device!r} and "
                f"{tensor.device!r}; move one with .to(device)"
            )
    return device


def as_tensor_like(value: Any, like: Tensor) -> Tensor:
    """Wrap a Python scalar or array as a constant tensor on ``like``'s device.

    Python scalars take ``like``'s dtype (so ``x * 2`` stays float32); float tensors of a
    different precision are an error rather than a silent promotion.
    """
    if isinstance(value, Tensor):
        if value.dtype != like.dtype and value.dtype.kind == "f" and like.dtype.kind == "f":
            raise TypeError(
                f"dtype mismatch: {like.dtype} and {value.dtype}; convert one with "
                ".float() or .double()"
            )
        return value
    backend = like.backend
    if isinstance(value, int | float | bool):
        dtype = like.dtype if like.dtype.kind == "f" or isinstance(value, int) else float32
        # xp.full, not xp.asarray: on CuPy a fill kernel, not a host-to-device copy (helper gpu)
        return Tensor._make(backend.xp.full((), value, dtype=dtype), like.device, False)
    return Tensor._make(backend.asarray(value, None), like.device, False)


def tensors_of(values: Iterable[Any]) -> list[Tensor]:
    """The list of ``values``, each checked to be a Tensor."""
    values = list(values)
    for index, value in enumerate(values):
        if not isinstance(value, Tensor):
            raise TypeError(f"element {index} is a {type(value).__name__}, expected a Tensor")
    return values


from minigrad.ops import install_tensor_methods  # noqa: E402  (ops import Tensor)

install_tensor_methods(Tensor)
autograd.register_tensor_class(Tensor, check_same_device)
