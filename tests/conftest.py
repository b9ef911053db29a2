"""Shared fixtures."""

from __future__ import annotations

import os

import pytest

import kernels


def _gpu_present() -> bool:
    """Whether the real "cuda" backend loads (CuPy, a GPU, and no simulator)."""
    try:
        kernels.backend("cuda")
    except RuntimeError:
        return False
    return True


#: Kernel backends that the tests parametrised over ``kernel_backend`` run on.
#: Adding a device is one line here. The simulator needs NUMBA_ENABLE_CUDASIM=1 set
#: before numba is imported, so it runs in a pytest process of its own.
KERNEL_BACKENDS = ["cpu"]
if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    KERNEL_BACKENDS.append("cuda-simulator")
elif _gpu_present():
    KERNEL_BACKENDS.append("cuda")


@pytest.fixture(params=KERNEL_BACKENDS)
def kernel_backend(request):
    """The kernel module of one device (see :func:`kernels.backend`)."""
    return kernels.backend(request.param)
