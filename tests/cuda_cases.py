"""Shared by the tests/test_cuda_*.py kernel files: which CUDA backend they test, and how
they make inputs and compare results. conftest.py's ``kernel_backend`` fixture picks its
CUDA device the same way.

The same tests run on Numba's CUDA simulator ("cuda-simulator", when NUMBA_ENABLE_CUDASIM=1
is set before numba is imported, so in a pytest process of its own) and on a real GPU
("cuda", when CuPy sees one). Inputs are made on the host with numpy and sent to the device
with ``cuda.asarray``; results come back with ``cuda.to_numpy`` before numpy compares them.
Under the simulator both are no-ops (its arrays are numpy arrays); on a GPU they copy.

Shapes are tiny but chosen to leave partial tiles and blocks (1x1, 17x33, batch 3, stride 2,
padding 1); every numeric test runs in float32 and float64.
"""

from __future__ import annotations

import functools
import os
from types import ModuleType

import numpy as np
import pytest

import kernels

HOW_TO_RUN = (
    "the CUDA kernel tests need a GPU with CuPy, or Numba's simulator: "
    "NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/test_cuda_*.py"
)

DTYPES = [np.float32, np.float64]
TOLERANCE = {np.float32: 2e-5, np.float64: 1e-12}


@functools.cache
def cuda_backend_name() -> str | None:
    """The backend to test: "cuda-simulator" under NUMBA_ENABLE_CUDASIM=1, else "cuda" when
    the real backend loads (CuPy and a GPU), else None."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return "cuda-simulator"
    try:
        kernels.backend("cuda")
    except RuntimeError:
        return None
    return "cuda"


def cuda_backend() -> ModuleType:
    """The CUDA kernel module to test; skips the calling test module when there is none."""
    name = cuda_backend_name()
    if name is None:
        pytest.skip(HOW_TO_RUN, allow_module_level=True)
    return kernels.backend(name)


def random_array(shape: tuple[int, ...], dtype: type[np.floating], seed: int) -> np.ndarray:
    """Standard normal values on the host, the same for a given seed on every device."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def assert_close(actual: np.ndarray, expected: np.ndarray, dtype: type[np.floating]) -> None:
    """Host arrays equal to ``dtype``'s tolerance (relative and absolute)."""
    np.testing.assert_allclose(actual, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])
