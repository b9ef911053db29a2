"""Shared fixtures."""

from __future__ import annotations

import pytest

import kernels

#: Kernel backends that the tests parametrised over ``kernel_backend`` run on.
#: Adding a device is one line here.
KERNEL_BACKENDS = ["cpu"]


@pytest.fixture(params=KERNEL_BACKENDS)
def kernel_backend(request):
    """The kernel module of one device (see :func:`kernels.backend`)."""
    return kernels.backend(request.param)
