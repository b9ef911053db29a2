"""Fused elementwise activation kernels and their backward masks, one thread per element.

    relu(x)              = max(x, 0)           relu_backward       = grad_y * (x > 0)
    leaky_relu(x, a)     = x if x > 0 else a*x  leaky_relu_backward = grad_y * (1 if x > 0 else a)
    sigmoid(x)           = 1 / (1 + exp(-x))
    tanh(x)              = tanh(x)

A fused kernel reads each input once and writes each output once; as array
expressions the backward masks would cost a comparison pass, a cast and a multiply.
Sigmoid is written on two branches so that ``exp`` only ever sees a non-positive
argument and never overflows.
"""

from __future__ import annotations

import math

from numba import cuda

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
