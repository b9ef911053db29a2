"""``minigrad.accelerator``: PyTorch's device-agnostic questions (``torch.accelerator``).

minigrad knows one accelerator kind, CUDA (see ``minigrad.cuda``). On a machine without
a usable GPU there is none: ``current_accelerator()`` is None, as on a CPU-only PyTorch.
"""

from __future__ import annotations

from minigrad import cuda
from minigrad.devices import device


def is_available() -> bool:
    """True when an accelerator (a CUDA GPU) can take tensors."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> device | None:
    """``device("cuda")`` when a GPU is usable, else None (``check_available`` changes
    nothing: minigrad only reports an accelerator it can use)."""
    return device("cuda") if cuda.is_available() else None


def device_count() -> int:
    """How many accelerators minigrad can use: 1 or 0."""
    return cuda.device_count()
