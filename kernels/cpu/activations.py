"""Element-wise activations and the backward masks that save a pass.

    relu(x)                       = max(x, 0)
    relu_backward(g, x)           = g if x > 0 else 0
    leaky_relu(x, a)              = x if x > 0 else a * x
    leaky_relu_backward(g, x, a)  = g if x > 0 else a * g
    sigmoid(x)                    = 1 / (1 + exp(-x))
    tanh(x)                       = (exp(x) - exp(-x)) / (exp(x) + exp(-x))
    bias_activation(y, b, f)      = f(y + b)             (b along one axis; f: kernels/epilogue.py)
    bias_activation_backward      = (dL/dz * f'(z), its sum over all but that axis = dL/db)

Where numpy needs several passes and temporaries (a mask, a product, a select) a
Numba kernel does one pass (leaky_relu and its backward: 15x faster than ``np.where``).
``relu`` and ``tanh`` are single numpy passes already and measured no slower than a
kernel (numpy's tanh is SIMD-vectorised, 50x faster than Numba's), so they stay numpy;
``sigmoid`` takes numpy's exp and finishes in a kernel (6x faster than numpy alone).
Each result keeps the input's dtype; scalars are cast to it first so float32 math stays
float32.
"""

from __future__ import annotations

import numpy as np

from kernels import epilogue
from kernels.cpu.jit import njit
from kernels.geometry import check_float_array, check_same_dtype


@njit()
def _relu_backward_kernel(grad_y, x, out):
    for i in range(x.size):
        out[i] = grad_y[i] if x[i] > 0 else 0


@njit()
def _leaky_relu_kernel(x, slope, out):
    for i in range(x.size):
        value = x[i]
        out[i] = value if value > 0 else slope * value


@njit()
def _leaky_relu_backward_kernel(grad_y, x, slope, out):
    for i in range(x.size):
        out[i] = grad_y[i] if x[i] > 0 else slope * grad_y[i]


@njit()
def _sigmoid_from_exp_kernel(x, e, one):
    # e = exp(-|x|) in (0, 1] arrives from numpy; 1 + e never overflows nor cancels.
    # A select rather than a branch: signs are random, and mispredictions cost 4x.
    for i in range(x.size):
        inverse = one / (one + e[i])
        e[i] = inverse if x[i] >= 0 else e[i] * inverse


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
    """``1 / (1 + exp(-x))``, computed as ``e / (1 + e)`` with ``e = exp(x)`` for x < 0.

    numpy computes ``exp(-|x|)`` (its exp is SIMD-vectorised, Numba's calls libm one
    number at a time and measured 5x slower); one kernel pass then finishes in place.
    """
    check_float_array(x, "x")
    x = np.ascontiguousarray(x)  # so that e (laid out like x) and x flatten alike
    e = np.abs(x)
    np.negative(e, out=e)
    with np.errstate(under="ignore"):  # exp(-|x|) -> 0 for large |x| is the right answer
        np.exp(e, out=e)
    _sigmoid_from_exp_kernel(x.reshape(-1), e.reshape(-1), x.dtype.type(1))
    return e


def tanh(x: np.ndarray) -> np.ndarray:
    """``tanh(x)``, saturating to +-1 without overflow."""
    check_float_array(x, "x")
    return np.tanh(x)


# bias + activation, fused ---------------------------------------------------------------

_activate = njit()(epilogue.activate)
_derivative = njit()(epilogue.derivative_from_output)
#: Numba's fastmath flags for the fused kernels' float64 sums: reassociation lets LLVM
#: vectorise them (the DCGAN's bias gradient 9.5 ms -> 1.0 ms, BatchNorm forward 12 -> 5 ms,
#: measured); no "nnan"/"ninf", so NaN and inf propagate as without it.
SUMS = {"reassoc", "contract"}


@njit()
def _bias_activation_kernel(y, bias, code, slope, z):
    # y, z: (outer, C, inner); bias: (C,). The sum in y's dtype, as numpy's y + b would.
    outer, channels, inner = y.shape
    for n in range(outer):
        for c in range(channels):
            b = bias[c]
            for i in range(inner):
                z[n, c, i] = _activate(y[n, c, i] + b, code, slope)


@njit(fastmath=SUMS)
def _bias_activation_backward_kernel(grad_z, z, code, slope, grad_v, grad_bias):
    # One pass: the pre-activation gradient and, summed as it goes, the bias gradient.
    outer, channels, inner = z.shape
    totals = np.zeros(channels)
    for n in range(outer):
        for c in range(channels):
            total = 0.0
            for i in range(inner):
                g = grad_z[n, c, i] * _derivative(z[n, c, i], code, slope)
                grad_v[n, c, i] = g
                total += grad_v[n, c, i]
            totals[c] += total
    for c in range(channels):
        grad_bias[c] = totals[c]


def _channels_view(array: np.ndarray, axis: int) -> np.ndarray:
    """``array`` as (outer, C, inner) around ``axis``, contiguous."""
    shape = array.shape
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    return np.ascontiguousarray(array).reshape(outer, shape[axis], -1)


def _check_bias(y: np.ndarray, bias: np.ndarray, axis: int) -> None:
    check_float_array(y, "y")
    if not 0 <= axis < y.ndim:
        raise ValueError(f"axis must index one of y's {y.ndim} dims, got {axis}")
    if bias.shape != (y.shape[axis],) or bias.dtype != y.dtype:
        raise ValueError(
            f"bias must be ({y.shape[axis]},) {y.dtype} like y's axis {axis}, "
            f"got {tuple(bias.shape)} {bias.dtype}"
        )


def bias_activation(
    y: np.ndarray, bias: np.ndarray, axis: int, activation: str, negative_slope: float = 0.0
) -> np.ndarray:
    """``z = f(y + b)`` with ``b`` broadcast along ``axis`` (kernels/epilogue.py's f).

    ReLU and leaky ReLU are one kernel pass; tanh and sigmoid add the bias with numpy and
    reuse :func:`tanh` / :func:`sigmoid` above, whose SIMD exp/tanh beat Numba's libm calls.
    """
    code = epilogue.activation_code(activation, negative_slope)
    _check_bias(y, bias, axis)
    if code in (epilogue.TANH, epilogue.SIGMOID):
        shape = [1] * y.ndim
        shape[axis] = -1
        v = y + bias.reshape(shape)
        return tanh(v) if code == epilogue.TANH else sigmoid(v)
    y3 = _channels_view(y, axis)
    z = np.empty_like(y3)
    _bias_activation_kernel(y3, bias, code, y.dtype.type(negative_slope), z)
    return z.reshape(y.shape)


def bias_activation_backward(
    grad_z: np.ndarray, z: np.ndarray, axis: int, activation: str, negative_slope: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(g, db)`` for ``z = f(y + b)``: ``g = dL/dz * f'(z)`` (dL/dy, y's shape) and
    ``db = sum of g`` over every axis but ``axis``, in one pass."""
    code = epilogue.activation_code(activation, negative_slope)
    _check_pair(grad_z, z)
    if not 0 <= axis < z.ndim:
        raise ValueError(f"axis must index one of z's {z.ndim} dims, got {axis}")
    z3 = _channels_view(z, axis)
    grad_v = np.empty_like(z3)
    grad_bias = np.empty(z3.shape[1], dtype=z.dtype)
    _bias_activation_backward_kernel(
        _channels_view(grad_z, axis), z3, code, z.dtype.type(negative_slope), grad_v, grad_bias
    )
    return grad_v.reshape(z.shape), grad_bias
