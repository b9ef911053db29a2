"""GEMM: numpy's matmul, which calls the BLAS it was built with (OpenBLAS here).

BLAS is the speed limit for dense products on a CPU, so this backend adds nothing on
top: ``matmul(a, b)[..., i, j] = sum_k a[..., i, k] * b[..., k, j]``, batched over
leading dimensions with numpy's broadcasting rules. Convolutions in ``conv.py`` are
arranged so that each of their products is one large call here.
"""

from __future__ import annotations

import numpy as np


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` with numpy's semantics (1-d operands, batching, broadcasting)."""
    return np.matmul(a, b)
