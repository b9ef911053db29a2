"""Sum, max and argmax along axes, as shared-memory tree reductions.

The reduced axes are moved last and the array is seen as ``(R, K)``: R independent
rows of K values. A block of ``T`` threads (a power of two) takes one row: each thread
first folds a strided share of the row into one value, the ``T`` values go to shared
memory, and the tree halves them ``log2(T)`` times,

    s[t] = s[t] (+ or max) s[t + T/2],  s[t] (+ or max) s[t + T/4],  ...   -> s[0]

with a barrier between levels. A long row is split over up to ``reduce_max_blocks``
blocks that each leave one partial result, and the last of them to finish folds the
partials, in the same launch (see :func:`_fold_kernel`). Argmax carries (value, index)
pairs and keeps one block per row, breaking ties toward the smaller index.

NaN follows numpy: ``max`` of a row holding a NaN is NaN, and ``argmax`` points at the
first NaN.
"""

from __future__ import annotations

from functools import cache

import numba
import numpy as np
from numba import cuda

from kernels.cuda.runtime import (
    LaunchSizes,
    contiguous,
    numba_type,
    on_device,
    sizes,
    xp,
)

REDUCIBLE_DTYPES = tuple(np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64))


@cuda.jit(device=True)
def _add(a, b):
    return a + b


@cuda.jit(device=True)
def _larger(a, b):
    """max(a, b), NaN winning (``x != x`` is the NaN test that also types for integers)."""
    if a != a or a >= b:
        return a
    return b


@cuda.jit(device=True)
def _second_wins(va, ia, vb, ib):
    """Does (vb, ib) beat (va, ia) for argmax? Larger value, then NaN, then smaller index."""
    if va != va:
        return vb != vb and ib < ia
    if vb != vb:
        return True
    return vb > va or (vb == va and ib < ia)


@cache
def _fold_kernel(dtype: np.dtype, threads: int, is_sum: bool):
    """(R, K) -> (R,) sums or maxima in one launch; ``start`` is the fold's identity.

    Grid ``(B, rows)``: the B blocks of a row each fold a strided share of it, write their
    partial to ``partials[row, block]``, then take a ticket from ``done[row]`` with an
    atomic add after a ``threadfence`` (which makes the partial visible to the whole GPU
    before the ticket is). The block that draws the last ticket knows every partial is
    written: it folds the B partials itself and writes ``out[row]``, then resets the
    counter. One launch instead of a second pass over the partials (CUDA's
    threadFenceReduction sample); the sum order is fixed, so results are repeatable.
    """
    scalar = numba_type(dtype)
    combine = _add if is_sum else _larger

    @cuda.jit(device=True)
    def block_fold(partial, tid, acc):
        """Fold the block's ``threads`` values ``acc`` with a shared-memory tree -> thread 0."""
        partial[tid] = acc
        cuda.syncthreads()
        step = threads // 2
        while step > 0:
            if tid < step:
                partial[tid] = combine(partial[tid], partial[tid + step])
            cuda.syncthreads()
            step //= 2
        total = partial[0]
        cuda.syncthreads()  # partial[0] is read by all before the next fold overwrites it
        return total

    @cuda.jit
    def fold_rows(x, out, partials, done, start):
        partial = cuda.shared.array(threads, scalar)
        last_ticket = cuda.shared.array(1, numba.int32)
        tid = cuda.threadIdx.x
        blocks = cuda.gridDim.x
        k_size = x.shape[1]
        for row in range(cuda.blockIdx.y, x.shape[0], cuda.gridDim.y):
            acc = start
            for k in range(cuda.blockIdx.x * threads + tid, k_size, blocks * threads):
                acc = combine(acc, x[row, k])
            total = block_fold(partial, tid, acc)
            if blocks == 1:
                if tid == 0:
                    out[row] = total
                continue
            if tid == 0:
                partials[row, cuda.blockIdx.x] = total
                cuda.threadfence()
                ticket = cuda.atomic.add(done, row, 1)
                last_ticket[0] = 1 if ticket == blocks - 1 else 0
            cuda.syncthreads()
            if last_ticket[0] == 1:  # the same for the whole block: barriers stay uniform
                acc = start
                for b in range(tid, blocks, threads):
                    acc = combine(acc, partials[row, b])
                total = block_fold(partial, tid, acc)
                if tid == 0:
                    out[row] = total
                    done[row] = 0
            cuda.syncthreads()

    return fold_rows


@cache
def _argmax_kernel(dtype: np.dtype, threads: int):
    """(R, K) -> (R,) int64 index of each row's maximum; one block per row."""
    scalar = numba_type(dtype)
    index = numba_type(np.dtype(np.int64))

    @cuda.jit
    def argmax_rows(x, out, lowest):
        values = cuda.shared.array(threads, scalar)
        indices = cuda.shared.array(threads, index)
        tid = cuda.threadIdx.x
        k_size = x.shape[1]
        for row in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
            best = lowest
            best_index = k_size  # loses every tie against a real index
            for k in range(tid, k_size, threads):
                if _second_wins(best, best_index, x[row, k], k):
                    best = x[row, k]
                    best_index = k
            values[tid] = best
            indices[tid] = best_index
            cuda.syncthreads()
            step = threads // 2
            while step > 0:
                if tid < step and _second_wins(
                    values[tid], indices[tid], values[tid + step], indices[tid + step]
                ):
                    values[tid] = values[tid + step]
                    indices[tid] = indices[tid + step]
                cuda.syncthreads()
                step //= 2
            if tid == 0:
                out[row] = indices[0]

    return argmax_rows


def _block_threads(k_size: int, launch: LaunchSizes) -> int:
    """Fewest power-of-two threads covering a row, within the launch bounds."""
    threads = launch.reduce_min_threads
    while threads < launch.reduce_threads and threads * launch.reduce_items < k_size:
        threads *= 2
    return threads


def _normalize_axes(x, axis, allow_tuple: bool = True) -> tuple[int, ...]:
    """``axis`` (None, an int, or for sum/max a tuple) as non-negative axes; the checks
    and messages are kernels.cpu's."""
    if axis is None:
        return tuple(range(x.ndim))
    if isinstance(axis, list):
        axis = tuple(axis)
    if isinstance(axis, tuple) and not allow_tuple:
        raise ValueError(f"axis must be None or an int, got {axis!r}")
    items = axis if isinstance(axis, tuple) else (axis,)
    axes = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | np.integer):
            expected = "None, an int or a tuple of ints" if allow_tuple else "None or an int"
            raise ValueError(f"axis must be {expected}, got {axis!r}")
        if not -x.ndim <= item < x.ndim:
            raise ValueError(f"axis {item} is out of range for an array of shape {x.shape}")
        axes.append(int(item) % x.ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"axis must not repeat an axis, got {axis!r}")
    return tuple(axes)


def _as_rows(x, axes: tuple[int, ...]):
    """Move ``axes`` last and view as a contiguous (R, K); also return the kept shape."""
    kept = [d for d in range(x.ndim) if d not in axes]
    kept_shape = tuple(x.shape[d] for d in kept)
    k_size = int(np.prod([x.shape[d] for d in axes], dtype=np.int64))
    r_size = int(np.prod(kept_shape, dtype=np.int64))
    rows = contiguous(x.transpose(kept + list(axes))).reshape(r_size, k_size)
    return rows, kept_shape


def _shape_out(x, axes: tuple[int, ...], kept_shape: tuple[int, ...], keepdims: bool):
    if keepdims:
        return tuple(1 if d in axes else size for d, size in enumerate(x.shape))
    return kept_shape


def _fold(rows, is_sum: bool, start, launch: LaunchSizes):
    """Reduce each row of ``rows`` to one value, in one launch."""
    r_size, k_size = rows.shape
    threads = _block_threads(k_size, launch)
    blocks = min(-(-k_size // (threads * launch.reduce_items)), launch.reduce_max_blocks)
    out = xp.empty(r_size, dtype=rows.dtype)
    # Only a row split over several blocks needs partials and tickets.
    partials = xp.empty((r_size, blocks) if blocks > 1 else (1, 1), dtype=rows.dtype)
    done = xp.zeros(r_size if blocks > 1 else 1, dtype=np.int32)
    row_blocks = min(r_size, launch.max_blocks_1d, 65535)
    kernel = _fold_kernel(rows.dtype, threads, is_sum)
    kernel[(blocks, row_blocks), threads](rows, out, partials, done, start)
    return out


def _check_reducible(x, name: str):
    x = on_device(x, "x")
    if x.dtype == np.bool_ and name == "sum":
        return x.astype(np.int64)  # numpy counts booleans in int64
    if x.dtype not in REDUCIBLE_DTYPES:
        raise TypeError(f"{name}: x must be float32, float64, int32 or int64, got {x.dtype}")
    return x


def _lowest(dtype: np.dtype):
    """The identity of max: -inf for floats, the smallest integer otherwise."""
    if dtype.kind == "f":
        return dtype.type(-np.inf)
    return dtype.type(np.iinfo(dtype).min)


def array_sum(x, axis=None, keepdims: bool = False, launch: LaunchSizes | None = None):
    """``sum of x over axis`` (None: all axes); integer and bool input sums in int64."""
    x = _check_reducible(x, "sum")
    if x.dtype.kind == "i":
        x = x.astype(np.int64)
    axes = _normalize_axes(x, axis)
    rows, kept_shape = _as_rows(x, axes)
    shape = _shape_out(x, axes, kept_shape, keepdims)
    if rows.shape[1] == 0 or rows.shape[0] == 0:
        return xp.zeros(shape, dtype=x.dtype)
    return _fold(rows, True, x.dtype.type(0), launch or sizes).reshape(shape)


def array_max(x, axis=None, keepdims: bool = False, launch: LaunchSizes | None = None):
    """``max of x over axis`` (None: all axes); NaN propagates."""
    x = _check_reducible(x, "max")
    if x.size == 0:
        raise ValueError(f"max of an empty array (shape {x.shape}) is undefined")
    axes = _normalize_axes(x, axis)
    rows, kept_shape = _as_rows(x, axes)
    shape = _shape_out(x, axes, kept_shape, keepdims)
    return _fold(rows, False, _lowest(x.dtype), launch or sizes).reshape(shape)


def argmax(x, axis=None, launch: LaunchSizes | None = None):
    """Index of the first maximum along ``axis`` (None: into the flattened array), int64."""
    x = _check_reducible(x, "argmax")
    if x.size == 0:
        raise ValueError(f"argmax of an empty array (shape {x.shape}) is undefined")
    axes = _normalize_axes(x, axis, allow_tuple=False)
    rows, kept_shape = _as_rows(x, axes)
    out = xp.empty(rows.shape[0], dtype=np.int64)
    launch = launch or sizes
    threads = _block_threads(rows.shape[1], launch)
    blocks = min(rows.shape[0], launch.max_blocks_1d, 65535)
    _argmax_kernel(x.dtype, threads)[blocks, threads](rows, out, _lowest(x.dtype))
    return out.reshape(kept_shape)
