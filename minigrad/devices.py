"""Devices: ``minigrad.device`` (PyTorch's ``torch.device``), and the kernel module of each.

A device is named ``"cpu"``, ``"cuda"`` (also spelled ``"cuda:0"``: minigrad drives one
GPU) or ``"cuda-simulator"`` (the CUDA kernels under Numba's simulator, for tests).
``device`` is a ``str`` subclass whose value is that canonical name, so a device object
goes wherever a device string went before (``.to(dev)``, ``device=`` arguments, dict keys,
JSON, f-strings) and compares equal to any spelling of the same device.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import kernels

_BACKENDS: dict[str, ModuleType] = {}
_TYPES = ("cpu", "cuda", "cuda-simulator")


def _canonical_name(name: str, index: int | None) -> str:
    type_, _, index_text = name.partition(":")
    if type_ not in _TYPES or (index_text and index is not None):
        raise ValueError(
            f"device must be 'cpu', 'cuda', 'cuda:0' or 'cuda-simulator' (or a "
            f"minigrad.device), got {name!r}" + ("" if index is None else f" with index {index}")
        )
    if index_text:
        if not index_text.isdigit():
            raise ValueError(f"device index must be a non-negative int, got {name!r}")
        index = int(index_text)
    if index is not None and (not isinstance(index, int) or index < 0):
        raise ValueError(f"device index must be a non-negative int, got {index!r}")
    if index not in (None, 0):
        raise ValueError(f"minigrad drives one device of each type, index 0; got {type_}:{index}")
    return type_


class device(str):  # noqa: N801  (PyTorch's name)
    """``device("cuda:0")``, ``device("cuda", 0)``, ``device("cpu")``, like ``torch.device``.

    Differences from PyTorch, all from minigrad having one GPU: ``device("cuda")`` and
    ``device("cuda:0")`` are the same device (index 0, ``str`` is ``"cuda"``), and a device
    equals a string that names it (``x.device == "cpu"``). Making a ``"cuda"`` device needs
    no GPU; putting a tensor on it does (see ``minigrad.cuda.is_available()``).
    """

    _interned: dict[str, device] = {}

    def __new__(cls, type: Any, index: int | None = None) -> device:  # noqa: A002
        if isinstance(type, device) and index is None:
            return type
        if not isinstance(type, str):
            raise TypeError(
                f"device() takes a device string such as 'cpu' or 'cuda:0', got "
                f"{type.__class__.__name__} {type!r}"
            )
        spelling = str.__str__(type) if index is None else f"{type}:{index}"
        interned = cls._interned.get(spelling)  # keyed by every spelling met so far
        if interned is None:
            name = _canonical_name(str.__str__(type), index)
            interned = cls._interned.get(name) or super().__new__(cls, name)
            cls._interned[name] = cls._interned[spelling] = interned
        return interned

    @property
    def type(self) -> str:  # noqa: A003
        """``"cpu"``, ``"cuda"`` or ``"cuda-simulator"``."""
        return str.__str__(self)

    @property
    def index(self) -> int | None:
        """None on the CPU (as PyTorch), 0 on a CUDA device."""
        return None if self.type == "cpu" else 0

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:
                return False
            return self is other
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__

    def __reduce__(self) -> tuple[Any, ...]:
        return (device, (self.type,))


CPU = device("cpu")


def normalize_device(name: object) -> device:
    """The ``device`` that ``name`` (a device, a string naming one, or None for the CPU) names."""
    if name is None:
        return CPU
    if isinstance(name, device):
        return name
    return device(name)


def get_backend(name: str) -> ModuleType:
    """The kernel module for device ``name``, loaded once."""
    backend = _BACKENDS.get(name)
    if backend is None:
        backend = _BACKENDS[name] = kernels.backend(str.__str__(normalize_device(name)))
    return backend


def backend_available(name: str) -> bool:
    """True when tensors can be put on device ``name`` in this process."""
    try:
        get_backend(name)
    except (RuntimeError, ImportError):
        return False
    return True
