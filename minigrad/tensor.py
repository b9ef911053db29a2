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

from minigrad import autograd, hooks
from minigrad.devices import CPU, get_backend, normalize_device

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

Scalar = int | float | bool


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = (
        "_data",
        "_requires_grad",
        "grad",
        "grad_fn",
        "device",
        "_version",
        "_retains_grad",
        "_hooks",  # None until register_hook: a getattr default on an unset slot cost 0.7 us
        "__weakref__",
    )
    __array_priority__ = 1000  # so numpy_array * tensor defers to Tensor.__rmul__

    def __init__(
        self,
        *data: Any,
        dtype: Any = None,
        device: str | None = None,
        requires_grad: bool = False,
    ) -> None:
        """``Tensor(data)`` copies ``data`` like ``minigrad.tensor`` (so int data stays int64,
        where ``torch.Tensor`` makes everything float32); ``Tensor(2, 3)`` makes a float32
        tensor of shape (2, 3), as ``torch.Tensor(2, 3)`` does, filled with zeros where
        PyTorch leaves it uninitialised."""
        from minigrad.creation import DEFAULT_DTYPE, to_device_array

        device = normalize_device(device)
        if not data:
            data = (0,)  # Tensor() is empty, as in PyTorch
        if len(data) == 1 and not _is_size(data[0]):
            self._data = to_device_array(data[0], dtype, device)
        elif all(_is_size(d) for d in data):
            shape = tuple(int(d) for d in data)
            self._data = get_backend(device).xp.zeros(shape, dtype=np.dtype(dtype or DEFAULT_DTYPE))
        else:
            raise TypeError(
                f"Tensor() takes one data argument or non-negative int sizes, got {data!r}"
            )
        self.device = device
        self.grad: Tensor | None = None
        self.grad_fn: autograd.Function | None = None
        self._version = 0
        self._retains_grad = False
        self._requires_grad = False
        self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, array: Any, device: str, requires_grad: bool) -> Tensor:
        """Fast constructor from an array already on ``device`` (used by every op)."""
        tensor = object.__new__(cls)
        tensor._data = array
        tensor.device = device
        tensor._requires_grad = requires_grad
        tensor.grad = None
        tensor.grad_fn = None
        tensor._version = 0
        tensor._retains_grad = False
        tensor._hooks = None
        return tensor

    # ------------------------------------------------------------------ storage
    @property
    def data(self) -> Tensor:
        """A detached Tensor sharing this tensor's storage, as PyTorch's ``.data``.

        In-place changes made through it (``w.data.normal_(0, 0.02)``) change this tensor's
        values but are hidden from autograd: a backward that saved this tensor will not
        notice them. ``detach()`` and ``no_grad()`` are the safer spellings; ``numpy()``
        gives a host array.
        """
        return Tensor._make(self._storage(), self.device, False)

    @data.setter
    def data(self, value: Tensor | Any) -> None:
        """``t.data = other`` makes ``t`` use ``other``'s storage (a Tensor, or an array)."""
        if isinstance(value, Tensor):
            array, device = value._storage(), value.device
        else:
            array, device = self.backend.asarray(value, None), self.device
        if self.requires_grad and array.dtype.kind != "f":
            raise RuntimeError(
                f"data: a tensor that requires grad cannot take storage of dtype {array.dtype}: "
                "Only Tensors of floating point and complex dtype can require gradients"
            )
        self._data, self.device = array, device
        self._version += 1

    def _storage(self) -> Any:
        """The device array, made writable first: numpy gives 0-d results as scalars."""
        if isinstance(self._data, np.generic):
            self._data = np.asarray(self._data)
        return self._data

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
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other)`` (``other``'s
        device and dtype); differentiable. ``copy=True`` returns a new tensor even when
        nothing changes; ``non_blocking`` is accepted and has no effect (every copy here is
        synchronous, which a non-blocking copy is allowed to be)."""
        from minigrad.ops import shape as shape_ops

        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        non_blocking = kwargs.pop("non_blocking", False)
        copy = kwargs.pop("copy", False)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        if not isinstance(non_blocking, bool) or not isinstance(copy, bool):
            raise TypeError("to(): non_blocking and copy must be bools")
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, str):
                device = arg
            else:
                dtype = arg
        result = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            result = shape_ops.Cast.apply(result, dtype=np.dtype(dtype))
        if device is not None and normalize_device(device) != self.device:
            result = shape_ops.ToDevice.apply(result, device=normalize_device(device))
        return result.clone() if copy and result is self else result

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device: str | int | None = None, non_blocking: bool = False) -> Tensor:
        """This tensor on the GPU (``device`` may be ``None``, ``0``, ``"cuda:0"``)."""
        target = f"cuda:{device}" if isinstance(device, int) else device or "cuda"
        return self.to(target, non_blocking=non_blocking)

    @property
    def is_cuda(self) -> bool:
        """True on a CUDA GPU (not under the CUDA simulator, which computes on the CPU)."""
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    def get_device(self) -> int:
        """The GPU index (0), or -1 on the CPU, as PyTorch."""
        return -1 if self.device.type == "cpu" else 0

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def long(self) -> Tensor:
        return self.to(int64)

    # ------------------------------------------------------------------ autograd
    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded for differentiation."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad: bool) -> None:
        self.requires_grad_(requires_grad)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.dtype.kind not in "fc":
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients, "
                f"got {self.dtype}"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad can be changed only on leaf tensors: use .detach() for a "
                "non-leaf one"
            )
        self._requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares storage)."""
        return Tensor._make(self._data, self.device, False)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
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

    def register_hook(self, hook: Any) -> Any:
        """``hook(grad)`` on each backward; a returned Tensor replaces the gradient.
        Returns a handle whose ``remove()`` unregisters it (see ``minigrad.hooks``)."""
        return hooks.register_hook(self, hook)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor whose gradient ``retain_grad()`` asked to keep."""
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` on the next backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad on a tensor that does not require grad")
        self._retains_grad = self.grad_fn is not None  # a leaf keeps its .grad anyway

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", precision=4, prefix="tensor(")
        extras = []
        if self.device != CPU:
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


def _is_size(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= 0


def check_same_device(tensors: Sequence[Tensor], op_name: str) -> str:
    """The one device all ``tensors`` live on, or a clear error naming both devices."""
    device = tensors[0].device if tensors else CPU
    for tensor in tensors:
        if tensor.device is not device and tensor.device != device:
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
