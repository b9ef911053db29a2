"""A BatchNorm layer in training, with its affine map and a following activation, fused:
one pass pair forward and one backward, per channel.

For x of shape (N, C, *) with m = N * (H*W...) values per channel c, gamma/beta the
layer's weight and bias and f an activation (kernels/epilogue.py):

    forward:   mu = (1/m) sum x,   var = (1/m) sum (x - mu)^2,   s = 1 / sqrt(var + eps)
               x_hat = (x - mu) s,   z = f(gamma x_hat + beta)
    backward:  g = dL/dz * f'(z)            (f' read off the output z)
               dbeta = sum g,   dgamma = sum g x_hat
               dx = gamma s (g - dbeta / m - x_hat dgamma / m)

(the last line is Ioffe & Szegedy's dx = (g_hat - mean g_hat - x_hat mean(g_hat x_hat)) / sigma
with g_hat = gamma g). Composed of array operations, the forward is two reductions and
about eight elementwise passes, and the backward four reductions and as many passes; here
each is one loop over the channel that sums, then one that writes.

The variance is summed around a shift, the channel's first value x0 (exact algebra that
avoids the cancellation of sum x^2 - (sum x)^2 / m when the mean is large against the
spread), and every sum is carried in float64:

    d = (1/m) sum (x - x0),   var = (1/m) sum (x - x0)^2 - d^2,   mu = x0 + d

The CUDA backend's kernels/cuda/batch_norm.py computes the same formulas, one thread
block per channel.
"""

from __future__ import annotations

import numpy as np

from kernels import epilogue

# The epilogue's formulas, compiled once (kernels/cpu/activations.py), and its sum flags.
from kernels.cpu.activations import SUMS, _activate, _derivative
from kernels.cpu.jit import njit
from kernels.geometry import check_float_array


@njit(fastmath=SUMS)
def _forward_kernel(x, weight, bias, eps, code, slope, z, moments, stats):
    """x, z: (N, C, L); writes z, moments[c] = (mu, var) and stats[c] = (mu, s) in float64."""
    n_images, channels, length = x.shape
    count = n_images * length
    for c in range(channels):
        shift = np.float64(x[0, c, 0])
        total = 0.0
        total_sq = 0.0
        for n in range(n_images):
            for i in range(length):
                d = np.float64(x[n, c, i]) - shift
                total += d
                total_sq += d * d
        mean_d = total / count
        variance = max(total_sq / count - mean_d * mean_d, 0.0)
        mean = shift + mean_d
        inv_std = 1.0 / np.sqrt(variance + eps)
        gamma, beta = np.float64(weight[c]), np.float64(bias[c])
        for n in range(n_images):
            for i in range(length):
                x_hat = (np.float64(x[n, c, i]) - mean) * inv_std
                z[n, c, i] = _activate(gamma * x_hat + beta, code, slope)
        moments[c, 0] = mean
        moments[c, 1] = variance
        stats[c, 0] = mean
        stats[c, 1] = inv_std


@njit(fastmath=SUMS)
def _backward_kernel(grad_z, z, x, stats, weight, code, slope, grad_x, grad_params):
    """All (N, C, L) but stats (C, 2) and weight (C,); writes grad_x and
    grad_params[c] = (dgamma, dbeta)."""
    n_images, channels, length = x.shape
    count = n_images * length
    for c in range(channels):
        mean, inv_std = stats[c, 0], stats[c, 1]
        sum_g = 0.0
        sum_g_x_hat = 0.0
        for n in range(n_images):
            for i in range(length):
                g = np.float64(grad_z[n, c, i]) * _derivative(np.float64(z[n, c, i]), code, slope)
                sum_g += g
                sum_g_x_hat += g * (np.float64(x[n, c, i]) - mean) * inv_std
        scale = np.float64(weight[c]) * inv_std
        mean_g, mean_g_x_hat = sum_g / count, sum_g_x_hat / count
        for n in range(n_images):
            for i in range(length):
                g = np.float64(grad_z[n, c, i]) * _derivative(np.float64(z[n, c, i]), code, slope)
                x_hat = (np.float64(x[n, c, i]) - mean) * inv_std
                grad_x[n, c, i] = scale * (g - mean_g - x_hat * mean_g_x_hat)
        grad_params[c, 0] = sum_g_x_hat
        grad_params[c, 1] = sum_g


def _as_ncl(array: np.ndarray, name: str) -> np.ndarray:
    check_float_array(array, name)
    if array.ndim < 2 or array.shape[0] == 0 or array.size == 0:
        raise ValueError(
            f"{name} must be (N, C, ...) with values in every channel, got {array.shape}"
        )
    return np.ascontiguousarray(array).reshape(array.shape[0], array.shape[1], -1)


def _per_channel(array, x: np.ndarray, name: str, fill: float) -> np.ndarray:
    if array is None:
        return np.full(x.shape[1], fill, dtype=x.dtype)
    if array.shape != (x.shape[1],) or array.dtype != x.dtype:
        raise ValueError(
            f"{name} must be ({x.shape[1]},) {x.dtype} like x's channels, "
            f"got {tuple(array.shape)} {array.dtype}"
        )
    return np.ascontiguousarray(array)


def batch_norm_forward(
    x: np.ndarray,
    weight: np.ndarray | None,
    bias: np.ndarray | None,
    eps: float,
    activation: str | None = None,
    negative_slope: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(z, mean, var, stats)``: z = f(gamma (x - mu) / sqrt(var + eps) + beta) per channel
    (dim 1) with the batch's mean and biased variance, those two (C,) in x's dtype, and
    ``stats`` (C, 2) float64 = (mu, 1/sqrt(var + eps)) for :func:`batch_norm_backward`.

    ``weight`` None means gamma = 1, ``bias`` None beta = 0.
    """
    code = epilogue.activation_code(activation, negative_slope)
    x3 = _as_ncl(x, "x")
    gamma = _per_channel(weight, x, "weight", 1.0)
    beta = _per_channel(bias, x, "bias", 0.0)
    z = np.empty_like(x3)
    moments = np.empty((x3.shape[1], 2), dtype=x.dtype)
    stats = np.empty((x3.shape[1], 2), dtype=np.float64)
    _forward_kernel(x3, gamma, beta, float(eps), code, float(negative_slope), z, moments, stats)
    return z.reshape(x.shape), moments[:, 0], moments[:, 1], stats


def batch_norm_backward(
    grad_z: np.ndarray,
    z: np.ndarray,
    x: np.ndarray,
    stats: np.ndarray,
    weight: np.ndarray | None,
    activation: str | None = None,
    negative_slope: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dgamma, dbeta)`` of :func:`batch_norm_forward`'s z, given dL/dz, z, x and the
    forward's ``stats``; dgamma and dbeta are (C,) in x's dtype."""
    code = epilogue.activation_code(activation, negative_slope)
    x3 = _as_ncl(x, "x")
    grad3, z3 = _as_ncl(grad_z, "grad_z"), _as_ncl(z, "z")
    if grad3.shape != x3.shape or z3.shape != x3.shape or len({x.dtype, z.dtype, grad_z.dtype}) > 1:
        raise ValueError(
            f"grad_z, z and x must match, got {tuple(grad_z.shape)} {grad_z.dtype}, "
            f"{tuple(z.shape)} {z.dtype} and {tuple(x.shape)} {x.dtype}"
        )
    if stats.shape != (x3.shape[1], 2) or stats.dtype != np.float64:
        raise ValueError(f"stats must be ({x3.shape[1]}, 2) float64 from the forward")
    gamma = _per_channel(weight, x, "weight", 1.0)
    grad_x = np.empty_like(x3)
    grad_params = np.empty((x3.shape[1], 2), dtype=x.dtype)
    _backward_kernel(
        grad3, z3, x3, stats, gamma, code, float(negative_slope), grad_x, grad_params
    )
    return grad_x.reshape(x.shape), grad_params[:, 0], grad_params[:, 1]
