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


def product_with_transpose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T`` as a C-ordered matrix; in conv weight gradients ``dW = dY @ X.T``, a
    product over the long ``OH*OW*N`` axis with a small ``(O, C*kh*kw)`` result.

    Why two spellings: OpenBLAS's threaded sgemm with a K of tens of thousands is slow
    when the result is wide. On the shared 2-core machine with 2 BLAS threads, the whole
    weight gradient of the MNIST CNN's conv 32->64 (O = 64, C*kh*kw = 288, K = 36,864)
    took 1.6-3.3 s as ``dY @ X.T`` and 0.31-0.32 s as ``(X @ dY.T).T``; DCGAN's conv
    64->128 0.28-0.30 s and 0.10-0.14 s (one BLAS thread: the same either way). For conv
    1->32 (C*kh*kw = 9) the slow spelling is the other one, so the smaller of the two
    sizes is made the result's column count.
    """
    if a.shape[0] <= b.shape[0]:
        return np.ascontiguousarray((b @ a.T).T)
    return a @ b.T
