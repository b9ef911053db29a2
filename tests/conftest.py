"""Shared fixtures."""

from __future__ import annotations

import pytest
from cuda_cases import cuda_backend_name

import kernels

#: Kernel backends that the tests parametrised over ``kernel_backend`` run on: the CPU,
#: and "cuda-simulator" or "cuda" when one is there (see tests/cuda_cases.py). Adding a
#: device is one line here. The simulator needs NUMBA_ENABLE_CUDASIM=1 set before numba
#: is imported, so it runs in a pytest process of its own.
KERNEL_BACKENDS = ["cpu"]
if cuda_backend_name() is not None:
    KERNEL_BACKENDS.append(cuda_backend_name())


@pytest.fixture(params=KERNEL_BACKENDS)
def kernel_backend(request):
    """The kernel module of one device (see :func:`kernels.backend`)."""
    return kernels.backend(request.param)
