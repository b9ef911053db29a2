"""Fused elementwise activation kernels and their backward masks, one thread per element.

    relu(x)              = max(x, 0)           relu_backward       = grad_y * (x > 0)
    leaky_relu(x, a)     = x if x > 0 else a*x  leaky_relu_backward = grad_y * (1 if x > 0 else a)
    sigmoid(x)           = 1 / (1 + exp(-x))
    tanh(x)              = tanh(x)
    bias_activation(y, b, f) = f(y + b)    bias_activation_backward = (g = grad_z * f'(z), sum g)

(b along one axis; f and f' written with the output: kernels/epilogue.py.)

A fused kernel reads each input once and writes each output once; as array
expressions the backward masks would cost a comparison pass, a cast and a multiply.
Sigmoid is written on two branches so that ``exp`` only ever sees a non-positive
argument and never overflows.
"""

from __future__ import annotations

import math
from functools import cache

import numba
from numba import cuda

from kernels import epilogue
from kernels.cuda.runtime import contiguous, grid_1d, on_device, sizes, xp
from kernels.geometry import check_float_array, check_same_dtype


@cuda.jit
def _relu_kernel(x, y):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        # Written as "<= 0" so that a NaN passes through, as in numpy and PyTorch.
        y[i] = 0 if x[i] <= 0 else x[i]


@cuda.jit
def _relu_backward_kernel(grad_y, x, grad_x):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        grad_x[i] = grad_y[i] if x[i] > 0 else 0


@cuda.jit
def _leaky_relu_kernel(x, slope, y):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        y[i] = x[i] if x[i] > 0 else slope * x[i]


@cuda.jit
def _leaky_relu_backward_kernel(grad_y, x, slope, grad_x):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        grad_x[i] = grad_y[i] if x[i] > 0 else slope * grad_y[i]


@cuda.jit
def _sigmoid_kernel(x, y):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        if x[i] >= 0:
            y[i] = 1 / (1 + math.exp(-x[i]))
        else:
            e = math.exp(x[i])
            y[i] = e / (1 + e)


@cuda.jit
def _tanh_kernel(x, y):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        y[i] = math.tanh(x[i])


def _launch(kernel, out_like, *arrays_then_scalars):
    """Run an elementwise kernel on flat views; returns the output shaped like ``out_like``."""
    out = xp.empty(out_like.shape, dtype=out_like.dtype)
    if out.size:
        flat = [
            contiguous(a).reshape(-1) if isinstance(a, xp.ndarray) else a
            for a in arrays_then_scalars
        ]
        kernel[grid_1d(out.size), sizes.threads_1d](*flat, out.reshape(-1))
    return out


def _checked(array, name: str):
    array = on_device(array, name)
    check_float_array(array, name)
    return array


def _checked_pair(grad_y, x):
    grad_y, x = _checked(grad_y, "grad_y"), _checked(x, "x")
    check_same_dtype(grad_y, "grad_y", x, "x")
    if grad_y.shape != x.shape:
        raise ValueError(
            f"grad_y and x must have the same shape, got {tuple(grad_y.shape)} and {tuple(x.shape)}"
        )
    return grad_y, x


def relu(x):
    """``max(x, 0)``."""
    x = _checked(x, "x")
    return _launch(_relu_kernel, x, x)


def relu_backward(grad_y, x):
    """``grad_y * (x > 0)``."""
    grad_y, x = _checked_pair(grad_y, x)
    return _launch(_relu_backward_kernel, x, grad_y, x)


def leaky_relu(x, slope: float):
    """``x if x > 0 else slope * x``."""
    x = _checked(x, "x")
    return _launch(_leaky_relu_kernel, x, x, x.dtype.type(slope))


def leaky_relu_backward(grad_y, x, slope: float):
    """``grad_y * (1 if x > 0 else slope)``."""
    grad_y, x = _checked_pair(grad_y, x)
    return _launch(_leaky_relu_backward_kernel, x, grad_y, x, x.dtype.type(slope))


def sigmoid(x):
    """``1 / (1 + exp(-x))``, overflow-safe for any finite x."""
    x = _checked(x, "x")
    return _launch(_sigmoid_kernel, x, x)


def tanh(x):
    """``tanh(x)``."""
    x = _checked(x, "x")
    return _launch(_tanh_kernel, x, x)


# bias + activation, fused ---------------------------------------------------------------

_activate = cuda.jit(device=True)(epilogue.activate)
_derivative = cuda.jit(device=True)(epilogue.derivative_from_output)


@cuda.jit
def _bias_activation_kernel(y, bias, code, slope, z):
    """One thread per element of the (outer, C, inner) arrays: z = f(y + b[c])."""
    channels, inner = y.shape[1], y.shape[2]
    for index in range(cuda.grid(1), y.size, cuda.gridsize(1)):
        n = index // (channels * inner)
        rest = index - n * channels * inner
        c = rest // inner
        i = rest - c * inner
        z[n, c, i] = _activate(y[n, c, i] + bias[c], code, slope)


@cache
def _bias_activation_backward_kernel(threads: int):
    """One block per channel c: g = dL/dz * f'(z) written, and db[c] = sum g folded."""

    @cuda.jit
    def bias_activation_backward(grad_z, z, code, slope, grad_v, grad_bias):
        partial = cuda.shared.array(threads, numba.float64)
        tid = cuda.threadIdx.x
        c = cuda.blockIdx.x
        inner = z.shape[2]
        count = z.shape[0] * inner
        acc = numba.float64(0)
        for e in range(tid, count, threads):
            n = e // inner
            i = e - n * inner
            grad_v[n, c, i] = grad_z[n, c, i] * _derivative(z[n, c, i], code, slope)
            acc += grad_v[n, c, i]
        partial[tid] = acc
        cuda.syncthreads()
        step = threads // 2
        while step > 0:
            if tid < step:
                partial[tid] += partial[tid + step]
            cuda.syncthreads()
            step //= 2
        if tid == 0:
            grad_bias[c] = partial[0]

    return bias_activation_backward


def _channels_view(array, axis: int):
    """``array`` as (outer, C, inner) around ``axis``, contiguous."""
    outer = 1
    for size in array.shape[:axis]:
        outer *= size
    return contiguous(array).reshape(outer, array.shape[axis], -1)


def bias_activation(y, bias, axis: int, activation: str, negative_slope: float = 0.0):
    """``z = f(y + b)`` with ``b`` broadcast along ``axis`` (kernels/epilogue.py's f), one
    launch: the add that would be a launch of its own is the activation kernel's first step."""
    code = epilogue.activation_code(activation, negative_slope)
    y, bias = _checked(y, "y"), _checked(bias, "bias")
    if not 0 <= axis < y.ndim:
        raise ValueError(f"axis must index one of y's {y.ndim} dims, got {axis}")
    if bias.shape != (y.shape[axis],) or bias.dtype != y.dtype:
        raise ValueError(
            f"bias must be ({y.shape[axis]},) {y.dtype} like y's axis {axis}, "
            f"got {tuple(bias.shape)} {bias.dtype}"
        )
    y3 = _channels_view(y, axis)
    z = xp.empty(y3.shape, dtype=y.dtype)
    if z.size:
        _bias_activation_kernel[grid_1d(z.size), sizes.threads_1d](
            y3, contiguous(bias), code, y.dtype.type(negative_slope), z
        )
    return z.reshape(y.shape)


def bias_activation_backward(
    grad_z, z, axis: int, activation: str, negative_slope: float = 0.0, launch=None
):
    """``(g, db)`` for ``z = f(y + b)``: ``g = dL/dz * f'(z)`` (dL/dy, y's shape) and
    ``db = sum of g`` over every axis but ``axis``: one launch, one block per channel
    (the bias gradient's reduction would otherwise be a launch of its own)."""
    launch = launch or sizes
    code = epilogue.activation_code(activation, negative_slope)
    grad_z, z = _checked_pair(grad_z, z)
    if not 0 <= axis < z.ndim:
        raise ValueError(f"axis must index one of z's {z.ndim} dims, got {axis}")
    z3 = _channels_view(z, axis)
    grad_v = xp.empty(z3.shape, dtype=z.dtype)
    count = z3.shape[0] * z3.shape[2]
    # Every channel's block writes its sum; with no values there is no block to.
    grad_bias = (xp.empty if count else xp.zeros)(z3.shape[1], dtype=z.dtype)
    if count:
        threads = launch.reduce_min_threads
        while threads < launch.reduce_threads and threads * launch.reduce_items < count:
            threads *= 2
        _bias_activation_backward_kernel(threads)[z3.shape[1], threads](
            _channels_view(grad_z, axis), z3, code, z.dtype.type(negative_slope), grad_v, grad_bias
        )
    return grad_v.reshape(z.shape), grad_bias
