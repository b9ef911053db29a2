"""A hand-written batched GEMM: shared-memory tiles, register blocking, prefetch, split-K.

    c[b, i, j] = sum_k a[b, i, k] * b[b, k, j]

One block of ``B x B`` threads owns a ``T x T`` tile of ``c`` with ``T = B * R``.
It walks the shared dimension ``k`` in steps of ``TK``: all threads together copy a
``T x TK`` slab of ``a`` and a ``TK x T`` slab of ``b`` into shared memory (zeros past
the matrix edges, so partial tiles need no special case), wait, and then each thread
multiplies ``R`` values of the ``a`` slab by ``R`` values of the ``b`` slab into an
``R x R`` accumulator kept in registers. Each value read from shared memory is thus
used ``R`` times, which is what lifts a GEMM from memory-bound to compute-bound.
While it multiplies, the next slabs are already on their way from global memory into
registers, and a product too small to fill the GPU is split along ``k`` (both in
:func:`_gemm_kernel`'s docstring). With B = 16, R = 8, TK = 8 (float32) a thread needs
128 registers and no spills on sm_90 (``bench/ptxas_report.py``), so two blocks fit
on an SM; float64 uses R = 4.

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

import numba
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


def check_tile_shape(block: int, reg: int, tile_k: int) -> None:
    """The load mapping below needs these divisibilities; a clear error otherwise."""
    threads, tile = block * block, block * reg
    if block % reg or (reg * tile_k) % block or threads % tile_k:
        raise ValueError(
            "GEMM launch sizes need gemm_block % gemm_reg == 0, "
            "(gemm_reg * gemm_tile_k) % gemm_block == 0 and gemm_block**2 % gemm_tile_k == 0; "
            f"got block {block}, reg {reg}, tile_k {tile_k} (tile {tile})"
        )


@cache
def _gemm_kernel(dtype: np.dtype, block: int, reg: int, tile_k: int):
    """Compile-time constants (tile shapes, dtype) are closed over: one kernel per setting.

    Loads. Each slab holds ``T * TK`` values, ``L = T * TK / threads`` per thread. Thread
    ``tid`` always loads a-slab rows ``tid // TK + s * (threads // TK)`` at depth
    ``tid % TK`` and b-slab rows ``tid // T + s * (threads // T)`` at column ``tid % T``
    (s = 0 .. L-1), so the index arithmetic is done once, not per element; ``TK``
    neighbouring threads read neighbouring addresses of ``a`` and ``T`` of ``b``.

    Prefetch. The next k-step's ``2 L`` values are loaded from global memory into
    registers (``a_next``, ``b_next``) *before* the multiply-adds on the current slabs,
    so their latency hides behind the arithmetic; after the barrier they are stored to
    shared memory. One pair of slabs, two barriers per k-step.

    Split-K. ``blockIdx.z`` numbers (batch, split) pairs: with ``splits > 1`` each block
    sums only its share of ``k`` into ``partials[split, batch]``; then, as in the
    reductions (kernels/cuda/reduce.py), it draws a ticket after a ``threadfence`` and
    the block with the last ticket for that output tile adds the ``splits`` partial
    tiles in a fixed order into ``c``. A skinny product (a conv weight gradient, M=64,
    N=48, K=65536: one output tile) thus runs on many SMs, in one launch, repeatably.
    """
    tile = block * reg
    threads = block * block
    loads = tile * tile_k // threads
    a_rows_step = threads // tile_k
    b_rows_step = threads // tile
    scalar = numba_type(dtype)

    @cuda.jit
    def gemm_tiles(a, b, c, partials, tickets, splits, k_chunk):
        # a: (1 or batch, m, k), b: (1 or batch, k, n), c: (batch, m, n); a batch of 1
        # is broadcast, so a weight matrix is never copied once per image.
        a_tile = cuda.shared.array((tile_k, tile), scalar)  # a's slab, transposed
        b_tile = cuda.shared.array((tile_k, tile), scalar)
        last = cuda.shared.array(1, numba.int32)
        acc = cuda.local.array((reg, reg), scalar)
        a_next = cuda.local.array(loads, scalar)
        b_next = cuda.local.array(loads, scalar)
        a_frag = cuda.local.array(reg, scalar)
        b_frag = cuda.local.array(reg, scalar)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        tid = ty * block + tx
        a_row, a_k = tid // tile_k, tid % tile_k
        b_k, b_col = tid // tile, tid % tile
        m = c.shape[1]
        n = c.shape[2]
        depth = a.shape[2]
        # One block, one output tile of one (batch, split) pair: no grid-stride loops, whose
        # live counters cost registers (166 -> 128 with the prefetch added, ptxas sm_90).
        batch = cuda.blockIdx.z // splits
        split = cuda.blockIdx.z - batch * splits
        ab = batch if a.shape[0] > 1 else 0
        bb = batch if b.shape[0] > 1 else 0
        k_begin = split * k_chunk
        k_end = k_begin + k_chunk
        if k_end > depth:  # the builtin min() does not compile for CUDA (numba 0.68)
            k_end = depth
        row0 = cuda.blockIdx.y * tile
        col0 = cuda.blockIdx.x * tile
        for i in range(reg):
            for j in range(reg):
                acc[i, j] = 0
        # The first slabs: global memory -> registers.
        for s in range(loads):
            row, k = row0 + a_row + s * a_rows_step, k_begin + a_k
            a_next[s] = 0  # zero past the edges
            if row < m and k < k_end:
                a_next[s] = a[ab, row, k]
            k, col = k_begin + b_k + s * b_rows_step, col0 + b_col
            b_next[s] = 0
            if k < k_end and col < n:
                b_next[s] = b[bb, k, col]
        for k0 in range(k_begin, k_end, tile_k):
            for s in range(loads):
                a_tile[a_k, a_row + s * a_rows_step] = a_next[s]
                b_tile[b_k + s * b_rows_step, b_col] = b_next[s]
            cuda.syncthreads()
            # Prefetch the next slabs while this one is multiplied.
            k1 = k0 + tile_k
            for s in range(loads):
                row, k = row0 + a_row + s * a_rows_step, k1 + a_k
                a_next[s] = 0  # zero past the edges
                if row < m and k < k_end:
                    a_next[s] = a[ab, row, k]
                k, col = k1 + b_k + s * b_rows_step, col0 + b_col
                b_next[s] = 0
                if k < k_end and col < n:
                    b_next[s] = b[bb, k, col]
            for kk in range(tile_k):
                for i in range(reg):
                    a_frag[i] = a_tile[kk, ty + i * block]
                for j in range(reg):
                    b_frag[j] = b_tile[kk, tx + j * block]
                for i in range(reg):
                    for j in range(reg):
                        acc[i, j] += a_frag[i] * b_frag[j]
            # Nobody may overwrite the slabs while a slower thread still reads them.
            cuda.syncthreads()
        if splits == 1:
            for i in range(reg):
                row = row0 + ty + i * block
                for j in range(reg):
                    col = col0 + tx + j * block
                    if row < m and col < n:
                        c[batch, row, col] = acc[i, j]
            return
        for i in range(reg):
            row = row0 + ty + i * block
            for j in range(reg):
                col = col0 + tx + j * block
                if row < m and col < n:
                    partials[split, batch, row, col] = acc[i, j]
        cuda.threadfence()
        cuda.syncthreads()
        if tid == 0:
            ticket = cuda.atomic.add(
                tickets, (batch, row0 // tile, col0 // tile), 1
            )
            last[0] = 1 if ticket == splits - 1 else 0
        cuda.syncthreads()
        if last[0] == 1:  # uniform over the block
            for i in range(reg):
                row = row0 + ty + i * block
                for j in range(reg):
                    col = col0 + tx + j * block
                    if row < m and col < n:
                        total = partials[0, batch, row, col]
                        for other in range(1, splits):
                            total += partials[other, batch, row, col]
                        c[batch, row, col] = total
            if tid == 0:
                tickets[batch, row0 // tile, col0 // tile] = 0
        cuda.syncthreads()

    return gemm_tiles


def _splits(tiles: int, depth: int, launch: LaunchSizes) -> int:
    """How many ways to split k: enough blocks for ``gemm_min_blocks``, each split at
    least ``gemm_min_split_depth`` deep, at most ``gemm_max_split``."""
    if tiles >= launch.gemm_min_blocks:
        return 1
    wanted = -(-launch.gemm_min_blocks // tiles)
    return max(1, min(wanted, launch.gemm_max_split, depth // launch.gemm_min_split_depth))


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
        block, reg, tile_k = launch.gemm_block, launch.gemm_reg, launch.gemm_tile_k
        if dtype == np.float64:
            reg = max(1, reg // 2)  # twice the registers per value: half the tile side
        check_tile_shape(block, reg, tile_k)
        tile = block * reg
        depth = a3.shape[2]
        tiles_m, tiles_n = -(-m // tile), -(-n // tile)
        splits = _splits(tiles_m * tiles_n * c3.shape[0], depth, launch)
        # Each split's share of k, rounded up to whole k-steps (so maybe fewer splits).
        per_split = -(-depth // splits)
        k_chunk = max(1, -(-per_split // tile_k)) * tile_k
        splits = max(1, -(-depth // k_chunk))
        if splits > 1:
            partials = xp.empty((splits,) + c3.shape, dtype=dtype)
            tickets = xp.zeros((c3.shape[0], tiles_m, tiles_n), dtype=np.int32)
        else:  # unused placeholders of the right types
            partials = xp.empty((1, 1, 1, 1), dtype=dtype)
            tickets = xp.zeros((1, 1, 1), dtype=np.int32)
        grid = (tiles_n, tiles_m, c3.shape[0] * splits)
        if max(grid[1:]) > 65535:
            raise ValueError(
                f"matmul: {tiles_m} row tiles or {grid[2]} batch x k-splits exceed CUDA's grid "
                "limit of 65535; split the product"
            )
        kernel = _gemm_kernel(dtype, block, reg, tile_k)
        kernel[grid, (block, block)](a3, b3, c3, partials, tickets, splits, k_chunk)
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
