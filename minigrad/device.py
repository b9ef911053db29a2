"""Devices: names, and the kernel module that computes on each."""

from __future__ import annotations

from types import ModuleType

import kernels

_BACKENDS: dict[str, ModuleType] = {}
_ALIASES = {"cpu": "cpu", "cuda": "cuda", "cuda:0": "cuda", "cuda-simulator": "cuda-simulator"}


def normalize_device(device: object) -> str:
    """``"cpu"``, ``"cuda"`` (``"cuda:0"`` accepted) or ``"cuda-simulator"``."""
    name = str(device)
    if name not in _ALIASES:
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda-simulator', got {device!r}")
    return _ALIASES[name]


def get_backend(device: str) -> ModuleType:
    """The kernel module for ``device``, loaded once."""
    backend = _BACKENDS.get(device)
    if backend is None:
        backend = _BACKENDS[device] = kernels.backend(device)
    return backend
