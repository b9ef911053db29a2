"""BatchNorm's per-channel reductions, forward and backward, one launch each.

For x of shape (N, C, *) with m = N * (H*W...) values per channel c:

    forward:   mu_c = (1/m) sum x,                 var_c = (1/m) sum (x - mu_c)^2
    backward:  mean_c(g) = (1/m) sum g,            mean_c(g * x_hat) = (1/m) sum g * x_hat

(the backward's two means are those of dL/dx = (g - mean g - x_hat * mean(g x_hat)) / sigma,
Ioffe & Szegedy 2015). As array expressions each line is two reductions plus the
elementwise work between them; here one kernel computes both sums of a line at once and
finishes the formula in the block that folds the last partial, so a BatchNorm layer costs
one launch forward and one backward for its statistics.

The variance is computed around a shift, the channel's first value s_c:

    d = (1/m) sum (x - s_c),   var = (1/m) sum (x - s_c)^2 - d^2,   mu = s_c + d

which is exact algebra and avoids the cancellation of sum x^2 - (sum x)^2 / m when the
mean is large against the spread. Sums are carried in float64 for both dtypes.

Grid: ``(B, C)``; the B blocks of channel c fold strided shares of its m values, then the
last to draw a ticket (after a ``threadfence``, as in kernels/cuda/reduce.py) folds the
B partial pairs and writes the channel's two results.
"""

from __future__ import annotations

from functools import cache

import numba
import numpy as np
from numba import cuda

from kernels.cuda.runtime import LaunchSizes, contiguous, on_device, sizes, xp
from kernels.geometry import check_float_array


@cache
def _channel_sums_kernel(threads: int):
    """(N, C, L) a, b -> out[c] = (sum (a - shift_c), sum (a - shift_c)(b - shift_c)), finished."""

    @cuda.jit(device=True)
    def block_fold(first, second, tid, acc1, acc2):
        first[tid] = acc1
        second[tid] = acc2
        cuda.syncthreads()
        step = threads // 2
        while step > 0:
            if tid < step:
                first[tid] += first[tid + step]
                second[tid] += second[tid + step]
            cuda.syncthreads()
            step //= 2
        total1, total2 = first[0], second[0]
        cuda.syncthreads()
        return total1, total2

    @cuda.jit
    def channel_sums(a, b, shift, out, partials, done, statistics):
        first = cuda.shared.array(threads, numba.float64)
        second = cuda.shared.array(threads, numba.float64)
        last = cuda.shared.array(1, numba.int32)
        tid = cuda.threadIdx.x
        c = cuda.blockIdx.y
        blocks = cuda.gridDim.x
        length = a.shape[2]
        count = a.shape[0] * length
        s = numba.float64(shift[c])
        acc1 = numba.float64(0)
        acc2 = numba.float64(0)
        for e in range(cuda.blockIdx.x * threads + tid, count, blocks * threads):
            n = e // length
            left = numba.float64(a[n, c, e - n * length]) - s
            right = numba.float64(b[n, c, e - n * length]) - s
            acc1 += left
            acc2 += left * right
        total1, total2 = block_fold(first, second, tid, acc1, acc2)
        if blocks > 1:
            if tid == 0:
                partials[c, cuda.blockIdx.x, 0] = total1
                partials[c, cuda.blockIdx.x, 1] = total2
                cuda.threadfence()
                ticket = cuda.atomic.add(done, c, 1)
                last[0] = 1 if ticket == blocks - 1 else 0
            cuda.syncthreads()
            if last[0] == 0:  # the same for the whole block
                return
            acc1 = numba.float64(0)
            acc2 = numba.float64(0)
            for p in range(tid, blocks, threads):
                acc1 += partials[c, p, 0]
                acc2 += partials[c, p, 1]
            total1, total2 = block_fold(first, second, tid, acc1, acc2)
        if tid == 0:
            mean1 = total1 / count
            mean2 = total2 / count
            if statistics:  # mu = s + d, var = mean((x - s)^2) - d^2
                variance = mean2 - mean1 * mean1
                out[c, 0] = s + mean1
                out[c, 1] = variance if variance > 0 else 0
            else:
                out[c, 0] = mean1
                out[c, 1] = mean2
            done[c] = 0

    return channel_sums


def _launch(a, b, shift, statistics: bool, launch: LaunchSizes):
    a3, b3 = (contiguous(t.reshape(t.shape[0], t.shape[1], -1)) for t in (a, b))
    channels, count = a3.shape[1], a3.shape[0] * a3.shape[2]
    threads = launch.reduce_min_threads
    while threads < launch.reduce_threads and threads * launch.reduce_items < count:
        threads *= 2
    blocks = max(1, min(-(-count // (threads * launch.reduce_items)), launch.reduce_max_blocks))
    out = xp.empty((channels, 2), dtype=a.dtype)
    partials = xp.empty((channels, blocks, 2), dtype=np.float64)
    done = xp.zeros(channels, dtype=np.int32)
    kernel = _channel_sums_kernel(threads)
    kernel[(blocks, channels), threads](a3, b3, shift, out, partials, done, statistics)
    return out[:, 0], out[:, 1]


def _check(x, name: str):
    x = on_device(x, name)
    check_float_array(x, name)
    if x.ndim < 2 or x.shape[0] == 0 or x.size == 0:
        raise ValueError(f"{name} must be (N, C, ...) with values in every channel, got {x.shape}")
    return x


def batch_norm_statistics(x, launch: LaunchSizes | None = None):
    """``(mean, var)`` per channel (dim 1) of ``x``, biased variance, shape (C,) each."""
    x = _check(x, "x")
    shift = contiguous(x.reshape(x.shape[0], x.shape[1], -1)[0, :, 0])
    return _launch(x, x, shift, True, launch or sizes)


def batch_norm_backward_means(grad, x_hat, launch: LaunchSizes | None = None):
    """``(mean(grad), mean(grad * x_hat))`` per channel (dim 1), shape (C,) each."""
    grad, x_hat = _check(grad, "grad"), _check(x_hat, "x_hat")
    if grad.shape != x_hat.shape or grad.dtype != x_hat.dtype:
        raise ValueError(
            f"grad and x_hat must match, got {tuple(grad.shape)} {grad.dtype} and "
            f"{tuple(x_hat.shape)} {x_hat.dtype}"
        )
    zeros = xp.zeros(grad.shape[1], dtype=grad.dtype)
    return _launch(grad, x_hat, zeros, False, launch or sizes)
