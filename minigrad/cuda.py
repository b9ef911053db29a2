"""``minigrad.cuda``: the questions a PyTorch script asks ``torch.cuda``, for minigrad's GPU.

minigrad drives one NVIDIA GPU, ``cuda:0``, through CuPy and numba-cuda (``pip install
minigrad[cuda]``). Without them, or without a GPU, ``is_available()`` is False and the
functions that need a GPU raise the reason, while ``manual_seed`` does nothing, as
PyTorch's do on a CPU-only build. The CUDA simulator (device ``"cuda-simulator"``) is a
test harness that computes on the CPU: it does not count as CUDA here.
"""

from __future__ import annotations

from minigrad import random
from minigrad.devices import backend_available, device, get_backend

_SEEDED_DEVICES = ("cuda", "cuda-simulator")


def is_available() -> bool:
    """True when tensors can be put on ``"cuda"`` (CuPy, numba-cuda and a GPU are present)."""
    return backend_available("cuda")


def device_count() -> int:
    """1 when a GPU is available (minigrad uses one, ``cuda:0``), else 0."""
    return 1 if is_available() else 0


def current_device() -> int:
    """The index of the GPU in use: always 0. Raises when there is none."""
    get_backend("cuda")  # raises, naming what is missing
    return 0


def synchronize(device: str | int | None = None) -> None:
    """Wait for every kernel queued on the GPU to finish (for timing). Raises without one."""
    _check_index(device)
    get_backend("cuda").xp.cuda.Device(0).synchronize()


def empty_cache() -> None:
    """Hand the GPU memory CuPy keeps cached for reuse back to the driver."""
    get_backend("cuda").xp.get_default_memory_pool().free_all_blocks()


def manual_seed(seed: int) -> None:
    """Seed the GPU's generator only; does nothing without a GPU (as PyTorch on a CPU build).

    Under the CUDA simulator its generator is seeded too, so tests see the same effect.
    """
    for name in _SEEDED_DEVICES:
        if backend_available(name):
            random.seed_device(device(name), seed)


def manual_seed_all(seed: int) -> None:
    """``manual_seed`` on every GPU: minigrad has one."""
    manual_seed(seed)


def _check_index(index: str | int | None) -> None:
    if index is not None and device(f"cuda:{index}" if isinstance(index, int) else index) != "cuda":
        raise ValueError(f"device must be a CUDA device, got {index!r}")
