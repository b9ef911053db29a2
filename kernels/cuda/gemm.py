"""A hand-written batched GEMM: shared-memory tiles, register blocking.

    c[b, i, j] = sum_k a[b, i, k] * b[b, k, j]

One block of ``B x B`` threads owns a ``T x T`` tile of ``c`` with ``T = B * R``.
It walks the shared dimension ``k`` in steps of ``TK``: all threads together copy a
``T x TK`` slab of ``a`` and a ``TK x T`` slab of ``b`` into shared memory (zeros past
the matrix edges, so partial tiles need no special case), wait, and then each thread
multiplies ``R`` values of the ``a`` slab by ``R`` values of the ``b`` slab into an
``R x R`` accumulator kept in registers. Each value read from shared memory is thus
used ``R`` times, which is what lifts a GEMM from memory-bound to compute-bound.

Which GEMM :func:`matmul` runs is one visible switch, :data:`GEMM`: ``"numba"`` is the
kernel below, ``"cublas"`` is CuPy's ``matmul`` (cuBLAS; real GPU only). It starts from
the environment variable ``MINIGRAD_CUDA_GEMM`` and may be reassigned at run time
(``kernels.cuda.gemm.GEMM = "numba"``). ``bench/gpu.py`` measures both.

A thread's outputs sit ``B`` apart (rows ``ty, ty + B, ...``, columns
``tx, tx + B, ...``) so that neighbouring threads touch neighbouring addresses:
coalesced global writes and conflict-free shared-memory reads.
"""

from __future__ import annotations

import os
from functools import cache

import numpy as np
from numba import cuda

from kernels.cuda.runtime import (
    SIMULATED,
    LaunchSizes,
    contiguous,
    numba_type,
    sizes,
    xp,
)
from kernels.geometry import FLOAT_DTYPES


@cache
def _gemm_kernel(dtype: np.dtype, block: int, reg: int, tile_k: int):
    """Compile-time constants (tile shapes, dtype) are closed over: one kernel per setting."""
    tile = block * reg
    threads = block * block
    scalar = numba_type(dtype)

    @cuda.jit
    def gemm_tiles(a, b, c):
        # a: (1 or batch, m, k), b: (1 or batch, k, n), c: (batch, m, n); a batch of 1
        # is broadcast, so a weight matrix is never copied once per image.
        a_tile = cuda.shared.array((tile, tile_k), scalar)
        b_tile = cuda.shared.array((tile_k, tile), scalar)
        acc = cuda.local.array((reg, reg), scalar)
        a_frag = cuda.local.array(reg, scalar)
        b_frag = cuda.local.array(reg, scalar)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        tid = ty * block + tx
        m = c.shape[1]
        n = c.shape[2]
        depth = a.shape[2]
        for batch in range(cuda.blockIdx.z, c.shape[0], cuda.gridDim.z):
            ab = batch if a.shape[0] > 1 else 0
            bb = batch if b.shape[0] > 1 else 0
            for row0 in range(cuda.blockIdx.y * tile, m, cuda.gridDim.y * tile):
                for col0 in range(cuda.blockIdx.x * tile, n, cuda.gridDim.x * tile):
                    for i in range(reg):
                        for j in range(reg):
                            acc[i, j] = 0
                    for k0 in range(0, depth, tile_k):
                        for e in range(tid, tile * tile_k, threads):
                            r = e // tile_k
                            kk = e - r * tile_k
                            if row0 + r < m and k0 + kk < depth:
                                a_tile[r, kk] = a[ab, row0 + r, k0 + kk]
                            else:
                                a_tile[r, kk] = 0
                        for e in range(tid, tile_k * tile, threads):
                            kk = e // tile
                            col = e - kk * tile
                            if k0 + kk < depth and col0 + col < n:
                                b_tile[kk, col] = b[bb, k0 + kk, col0 + col]
                            else:
                                b_tile[kk, col] = 0
                        cuda.syncthreads()
                        for kk in range(tile_k):
                            for i in range(reg):
                                a_frag[i] = a_tile[ty + i * block, kk]
                            for j in range(reg):
                                b_frag[j] = b_tile[kk, tx + j * block]
                            for i in range(reg):
                                for j in range(reg):
                                    acc[i, j] += a_frag[i] * b_frag[j]
                        # Nobody may overwrite the slabs while a slower thread still reads them.
                        cuda.syncthreads()
                    for i in range(reg):
                        row = row0 + ty + i * block
                        if row < m:
                            for j in range(reg):
                                col = col0 + tx + j * block
                                if col < n:
                                    c[batch, row, col] = acc[i, j]

    return gemm_tiles


def _as_batch(array, batch_shape: tuple[int, ...]):
    """(..., r, c) -> contiguous (1 or prod(batch_shape), r, c); a batch of one stays one."""
    rows, cols = array.shape[-2:]
    if int(np.prod(array.shape[:-2], dtype=np.int64)) == 1:
        return contiguous(array.reshape(1, rows, cols))
    if array.shape[:-2] != batch_shape:
        array = xp.broadcast_to(array, batch_shape + (rows, cols))
    return contiguous(array).reshape(int(np.prod(batch_shape, dtype=np.int64)), rows, cols)


def gemm(a, b, launch: LaunchSizes | None = None):
    """``a @ b`` with ``np.matmul``'s rules (1-D promotion, broadcast batch dims), on the
    hand-written kernel. ``launch`` overrides the block/register/tile sizes."""
    for argument, array in (("a", a), ("b", b)):
        if not isinstance(array, xp.ndarray):
            raise TypeError(f"matmul: {argument} must be a {xp.__name__} array, got {type(array)}")
        if array.ndim == 0:
            raise ValueError(f"matmul: {argument} must have at least 1 dimension, got a scalar")
    dtype = np.result_type(a.dtype, b.dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"matmul: operands must be float32 or float64, got {a.dtype} and {b.dtype}")
    a_vector, b_vector = a.ndim == 1, b.ndim == 1
    a2 = a.reshape(1, -1) if a_vector else a
    b2 = b.reshape(-1, 1) if b_vector else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(
            f"matmul: a's last dimension ({a2.shape[-1]}) must equal b's second-to-last "
            f"({b2.shape[-2]}); shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    batch_shape = tuple(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]))
    m, n = a2.shape[-2], b2.shape[-1]
    c = xp.empty(batch_shape + (m, n), dtype=dtype)
    if c.size:
        launch = launch or sizes
        a3 = _as_batch(a2.astype(dtype, copy=False), batch_shape)
        b3 = _as_batch(b2.astype(dtype, copy=False), batch_shape)
        c3 = c.reshape(-1, m, n)
        tile = launch.gemm_block * launch.gemm_reg
        grid = (
            min(-(-n // tile), launch.gemm_max_grid),
            min(-(-m // tile), launch.gemm_max_grid),
            min(c3.shape[0], launch.gemm_max_grid),
        )
        kernel = _gemm_kernel(dtype, launch.gemm_block, launch.gemm_reg, launch.gemm_tile_k)
        kernel[grid, (launch.gemm_block, launch.gemm_block)](a3, b3, c3)
    if a_vector:
        c = c[..., 0, :]
    if b_vector:
        c = c[..., 0]
    return c


GEMM_CHOICES = ("cublas", "numba")


def _gemm_from_environment() -> str:
    """``MINIGRAD_CUDA_GEMM``, defaulting to cuBLAS on a GPU and the kernel when simulated."""
    choice = os.environ.get("MINIGRAD_CUDA_GEMM", "numba" if SIMULATED else "cublas")
    if choice not in GEMM_CHOICES:
        raise ValueError(f"MINIGRAD_CUDA_GEMM must be one of {GEMM_CHOICES}, got {choice!r}")
    if SIMULATED and choice == "cublas":
        raise ValueError(
            "MINIGRAD_CUDA_GEMM=cublas needs a real GPU; the CUDA simulator runs the "
            "hand-written kernel ('numba')"
        )
    return choice


#: The GEMM behind :func:`matmul`: "cublas" (CuPy) or "numba" (the hand-written kernel).
GEMM: str = _gemm_from_environment()


def matmul(a, b):
    """``a @ b`` batched like ``np.matmul``, on the GEMM that :data:`GEMM` names."""
    if GEMM == "numba":
        return gemm(a, b)
    if GEMM == "cublas" and not SIMULATED:
        return xp.matmul(a, b)
    raise ValueError(
        f"kernels.cuda.gemm.GEMM must be one of {GEMM_CHOICES} ('numba' when simulated), "
        f"got {GEMM!r}"
    )
