"""A BatchNorm layer in training, with its affine map and a following activation: one
launch forward and one backward.

For x of shape (N, C, *) with m = N * (H*W...) values per channel c, gamma/beta the
layer's weight and bias and f an activation (kernels/epilogue.py):

    forward:   mu = (1/m) sum x,   var = (1/m) sum (x - mu)^2,   s = 1 / sqrt(var + eps)
               x_hat = (x - mu) s,   z = f(gamma x_hat + beta)
    backward:  g = dL/dz * f'(z)            (f' read off the output z)
               dbeta = sum g,   dgamma = sum g x_hat
               dx = gamma s (g - dbeta / m - x_hat dgamma / m)

(Ioffe & Szegedy's dx = (g_hat - mean g_hat - x_hat mean(g_hat x_hat)) / sigma with
g_hat = gamma g). As array expressions the forward is two reductions and about nine
elementwise launches, the backward four reductions and as many elementwise launches, and
the activation two more; here **one thread block per channel** sums over the channel's
m values, folds the partial sums in shared memory, and then, knowing the channel's
statistics, makes a second pass that writes the outputs. No other block needs them, so
the whole layer is one launch each way. At the DCGAN's sizes (128-256 channels of 3,000 -
13,000 values at batch 64) a layer moves a few megabytes, microseconds of memory
traffic, so one block per channel should cost about a launch's fixed overhead (not yet
measured on a GPU); a layer with very many values per channel would rather split each
channel over blocks and pay a second launch.

The variance is summed around a shift, the channel's first value x0 (exact algebra that
avoids the cancellation of sum x^2 - (sum x)^2 / m when the mean is large against the
spread), and every sum is carried in float64 for both dtypes:

    d = (1/m) sum (x - x0),   var = (1/m) sum (x - x0)^2 - d^2,   mu = x0 + d

The CPU backend's kernels/cpu/batch_norm.py computes the same formulas.
"""

from __future__ import annotations

import math
from functools import cache

import numba
import numpy as np
from numba import cuda

from kernels import epilogue
from kernels.cuda.runtime import LaunchSizes, contiguous, on_device, sizes, xp
from kernels.geometry import check_float_array

_activate = cuda.jit(device=True)(epilogue.activate)
_derivative = cuda.jit(device=True)(epilogue.derivative_from_output)


@cache
def _block_fold(threads: int):
    """Device function: the block's two float64 partial sums, folded in shared memory."""

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
        return first[0], second[0]

    return block_fold


@cache
def _forward_kernel(threads: int):
    """(N, C, L) x -> z, moments[c] = (mu, var) in x's dtype, stats[c] = (mu, s) in float64."""
    block_fold = _block_fold(threads)

    @cuda.jit
    def batch_norm_forward(x, weight, bias, eps, code, slope, z, moments, stats):
        first = cuda.shared.array(threads, numba.float64)
        second = cuda.shared.array(threads, numba.float64)
        tid = cuda.threadIdx.x
        c = cuda.blockIdx.x
        length = x.shape[2]
        count = x.shape[0] * length
        shift = numba.float64(x[0, c, 0])
        acc1 = numba.float64(0)
        acc2 = numba.float64(0)
        for e in range(tid, count, threads):
            n = e // length
            d = numba.float64(x[n, c, e - n * length]) - shift
            acc1 += d
            acc2 += d * d
        total, total_sq = block_fold(first, second, tid, acc1, acc2)
        mean_d = total / count
        variance = total_sq / count - mean_d * mean_d
        variance = variance if variance > 0 else numba.float64(0)
        mean = shift + mean_d
        inv_std = 1 / math.sqrt(variance + eps)
        gamma = numba.float64(weight[c])
        beta = numba.float64(bias[c])
        for e in range(tid, count, threads):
            n = e // length
            x_hat = (numba.float64(x[n, c, e - n * length]) - mean) * inv_std
            z[n, c, e - n * length] = _activate(gamma * x_hat + beta, code, slope)
        if tid == 0:
            moments[c, 0] = mean
            moments[c, 1] = variance
            stats[c, 0] = mean
            stats[c, 1] = inv_std

    return batch_norm_forward


@cache
def _backward_kernel(threads: int):
    """(N, C, L) dL/dz, z, x -> dx, grad_params[c] = (dgamma, dbeta)."""
    block_fold = _block_fold(threads)

    @cuda.jit
    def batch_norm_backward(grad_z, z, x, stats, weight, code, slope, grad_x, grad_params):
        first = cuda.shared.array(threads, numba.float64)
        second = cuda.shared.array(threads, numba.float64)
        tid = cuda.threadIdx.x
        c = cuda.blockIdx.x
        length = x.shape[2]
        count = x.shape[0] * length
        mean = stats[c, 0]
        inv_std = stats[c, 1]
        acc1 = numba.float64(0)
        acc2 = numba.float64(0)
        for e in range(tid, count, threads):
            n = e // length
            i = e - n * length
            g = numba.float64(grad_z[n, c, i]) * _derivative(numba.float64(z[n, c, i]), code, slope)
            acc1 += g
            acc2 += g * (numba.float64(x[n, c, i]) - mean) * inv_std
        sum_g, sum_g_x_hat = block_fold(first, second, tid, acc1, acc2)
        scale = numba.float64(weight[c]) * inv_std
        mean_g = sum_g / count
        mean_g_x_hat = sum_g_x_hat / count
        for e in range(tid, count, threads):
            n = e // length
            i = e - n * length
            g = numba.float64(grad_z[n, c, i]) * _derivative(numba.float64(z[n, c, i]), code, slope)
            x_hat = (numba.float64(x[n, c, i]) - mean) * inv_std
            grad_x[n, c, i] = scale * (g - mean_g - x_hat * mean_g_x_hat)
        if tid == 0:
            grad_params[c, 0] = sum_g_x_hat
            grad_params[c, 1] = sum_g

    return batch_norm_backward


def _threads(count: int, launch: LaunchSizes) -> int:
    """A power of two between the reductions' bounds, about one per reduce_items values."""
    threads = launch.reduce_min_threads
    while threads < launch.reduce_threads and threads * launch.reduce_items < count:
        threads *= 2
    return threads


def _as_ncl(array, name: str):
    array = on_device(array, name)
    check_float_array(array, name)
    if array.ndim < 2 or array.shape[0] == 0 or array.size == 0:
        raise ValueError(
            f"{name} must be (N, C, ...) with values in every channel, got {array.shape}"
        )
    return contiguous(array.reshape(array.shape[0], array.shape[1], -1))


def _per_channel(array, x, name: str, fill: float):
    if array is None:
        return xp.full(x.shape[1], fill, dtype=x.dtype)
    array = on_device(array, name)
    if array.shape != (x.shape[1],) or array.dtype != x.dtype:
        raise ValueError(
            f"{name} must be ({x.shape[1]},) {x.dtype} like x's channels, "
            f"got {tuple(array.shape)} {array.dtype}"
        )
    return contiguous(array)


def batch_norm_forward(
    x,
    weight,
    bias,
    eps: float,
    activation: str | None = None,
    negative_slope: float = 0.0,
    launch: LaunchSizes | None = None,
):
    """``(z, mean, var, stats)``: z = f(gamma (x - mu) / sqrt(var + eps) + beta) per channel
    (dim 1) with the batch's mean and biased variance, those two (C,) in x's dtype, and
    ``stats`` (C, 2) float64 = (mu, 1/sqrt(var + eps)) for :func:`batch_norm_backward`.

    ``weight`` None means gamma = 1, ``bias`` None beta = 0. One launch.
    """
    launch = launch or sizes
    code = epilogue.activation_code(activation, negative_slope)
    x3 = _as_ncl(x, "x")
    gamma = _per_channel(weight, x, "weight", 1.0)
    beta = _per_channel(bias, x, "bias", 0.0)
    channels = x3.shape[1]
    z = xp.empty(x3.shape, dtype=x.dtype)
    moments = xp.empty((channels, 2), dtype=x.dtype)
    stats = xp.empty((channels, 2), dtype=np.float64)
    threads = _threads(x3.shape[0] * x3.shape[2], launch)
    _forward_kernel(threads)[channels, threads](
        x3, gamma, beta, float(eps), code, float(negative_slope), z, moments, stats
    )
    return z.reshape(x.shape), moments[:, 0], moments[:, 1], stats


def batch_norm_backward(
    grad_z,
    z,
    x,
    stats,
    weight,
    activation: str | None = None,
    negative_slope: float = 0.0,
    launch: LaunchSizes | None = None,
):
    """``(dx, dgamma, dbeta)`` of :func:`batch_norm_forward`'s z, given dL/dz, z, x and the
    forward's ``stats``; dgamma and dbeta are (C,) in x's dtype. One launch."""
    launch = launch or sizes
    code = epilogue.activation_code(activation, negative_slope)
    x3 = _as_ncl(x, "x")
    grad3, z3 = _as_ncl(grad_z, "grad_z"), _as_ncl(z, "z")
    if grad3.shape != x3.shape or z3.shape != x3.shape or len({x.dtype, z.dtype, grad_z.dtype}) > 1:
        raise ValueError(
            f"grad_z, z and x must match, got {tuple(grad_z.shape)} {grad_z.dtype}, "
            f"{tuple(z.shape)} {z.dtype} and {tuple(x.shape)} {x.dtype}"
        )
    stats = on_device(stats, "stats")
    if stats.shape != (x3.shape[1], 2) or stats.dtype != np.float64:
        raise ValueError(f"stats must be ({x3.shape[1]}, 2) float64 from the forward")
    gamma = _per_channel(weight, x, "weight", 1.0)
    channels = x3.shape[1]
    grad_x = xp.empty(x3.shape, dtype=x.dtype)
    grad_params = xp.empty((channels, 2), dtype=x.dtype)
    threads = _threads(x3.shape[0] * x3.shape[2], launch)
    _backward_kernel(threads)[channels, threads](
        grad3, z3, x3, contiguous(stats), gamma, code, float(negative_slope), grad_x, grad_params
    )
    return grad_x.reshape(x.shape), grad_params[:, 0], grad_params[:, 1]
