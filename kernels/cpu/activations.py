"""Element-wise activations and the backward masks that save a pass.

    relu(x)                  = max(x, 0)
    relu_backward(g, x)      = g if x > 0 else 0
    leaky_relu(x, a)         = x if x > 0 else a * x
    leaky_relu_backward(g,x,a) = g if x > 0 else a * g
    sigmoid(x)               = 1 / (1 + exp(-x))
    tanh(x)                  = (exp(x) - exp(-x)) / (exp(x) + exp(-x))

Where numpy needs several passes and temporaries (a mask, a product, a select) a
Numba kernel does one pass; ``relu`` and ``tanh`` are single numpy passes already
(numpy's tanh is SIMD-vectorised) and measured no slower than a kernel, so they stay
numpy. Each result keeps the input's dtype; scalars are cast to it first so float32
math stays float32.
"""

from __future__ import annotations

import numba
import numpy as np

from kernels.geometry import check_float_array, check_same_dtype


@numba.njit(cache=True)
def _relu_backward_kernel(grad_y, x, out):
    for i in range(x.size):
        out[i] = grad_y[i] if x[i] > 0 else 0


@numba.njit(cache=True)
def _leaky_relu_kernel(x, slope, out):
    for i in range(x.size):
        value = x[i]
        out[i] = value if value > 0 else slope * value


@numba.njit(cache=True)
def _leaky_relu_backward_kernel(grad_y, x, slope, out):
    for i in range(x.size):
        out[i] = grad_y[i] if x[i] > 0 else slope * grad_y[i]


@numba.njit(cache=True)
def _sigmoid_kernel(x, one, out):
    # exp of a non-positive number only: never overflows, and 1 + e stays >= 1.
    for i in range(x.size):
        value = x[i]
        if value >= 0:
            out[i] = one / (one + np.exp(-value))
        else:
            e = np.exp(value)
            out[i] = e / (one + e)


def _flat(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array).reshape(-1)


def _check_pair(grad_y: np.ndarray, x: np.ndarray) -> None:
    check_float_array(x, "x")
    check_same_dtype(grad_y, "grad_y", x, "x")
    if grad_y.shape != x.shape:
        raise ValueError(
            f"grad_y and x must have the same shape, got {tuple(grad_y.shape)} and {tuple(x.shape)}"
        )


def relu(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)`` (NaN stays NaN, as in PyTorch)."""
    check_float_array(x, "x")
    return np.maximum(x, x.dtype.type(0))


def relu_backward(grad_y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``grad_y * (x > 0)``."""
    _check_pair(grad_y, x)
    out = np.empty(x.shape, dtype=x.dtype)
    _relu_backward_kernel(_flat(grad_y), _flat(x), out.reshape(-1))
    return out


def leaky_relu(x: np.ndarray, slope: float) -> np.ndarray:
    """``x if x > 0 else slope * x``."""
    check_float_array(x, "x")
    out = np.empty(x.shape, dtype=x.dtype)
    _leaky_relu_kernel(_flat(x), x.dtype.type(slope), out.reshape(-1))
    return out


def leaky_relu_backward(grad_y: np.ndarray, x: np.ndarray, slope: float) -> np.ndarray:
    """``grad_y * (1 if x > 0 else slope)``."""
    _check_pair(grad_y, x)
    out = np.empty(x.shape, dtype=x.dtype)
    _leaky_relu_backward_kernel(_flat(grad_y), _flat(x), x.dtype.type(slope), out.reshape(-1))
    return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))``, computed as ``e / (1 + e)`` with ``e = exp(x)`` for x < 0."""
    check_float_array(x, "x")
    out = np.empty(x.shape, dtype=x.dtype)
    _sigmoid_kernel(_flat(x), x.dtype.type(1), out.reshape(-1))
    return out


def tanh(x: np.ndarray) -> np.ndarray:
    """``tanh(x)``, saturating to +-1 without overflow."""
    check_float_array(x, "x")
    return np.tanh(x)
