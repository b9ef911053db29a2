"""The fused kernels (BatchNorm with its affine map and activation; bias + activation)
against plain numpy references, on every backend of the ``kernel_backend`` fixture.

The references below are the formulas written the long way, one array expression per
line, in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

DTYPES = [np.float32, np.float64]
TOLERANCE = {np.float32: 2e-5, np.float64: 1e-12}
ACTIVATIONS = [
    (None, 0.0),
    ("relu", 0.0),
    ("leaky_relu", 0.2),
    ("leaky_relu", 0.0),
    ("tanh", 0.0),
    ("sigmoid", 0.0),
]


def _random(shape, dtype, seed, scale=1.0, offset=0.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape) + offset).astype(dtype)


def _close(actual, expected, dtype, scale=1.0):
    tolerance = TOLERANCE[dtype] * scale
    np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance)


def reference_activation(v, activation, slope):
    """f(v), and f'(v) from v, the plain way."""
    if activation is None:
        return v, np.ones_like(v)
    if activation == "relu":
        return np.maximum(v, 0), (v > 0).astype(v.dtype)
    if activation == "leaky_relu":
        return np.where(v > 0, v, slope * v), np.where(v > 0, 1.0, slope)
    if activation == "tanh":
        return np.tanh(v), 1 - np.tanh(v) ** 2
    sigmoid = 1 / (1 + np.exp(-v))
    return sigmoid, sigmoid * (1 - sigmoid)


def reference_batch_norm(x, gamma, beta, eps, grad_z, activation, slope):
    """z = f(gamma x_hat + beta) and (dx, dgamma, dbeta), with per-channel means over
    every axis but 1, written step by step in float64."""
    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    x_hat = (x - mean) / np.sqrt(var + eps)
    v = gamma.reshape(shape) * x_hat + beta.reshape(shape)
    z, derivative = reference_activation(v, activation, slope)
    g = grad_z * derivative  # dL/dv
    dbeta = g.sum(axis=axes)
    dgamma = (g * x_hat).sum(axis=axes)
    g_hat = g * gamma.reshape(shape)  # dL/dx_hat
    dx = (
        g_hat - g_hat.mean(axis=axes, keepdims=True)
        - x_hat * (g_hat * x_hat).mean(axis=axes, keepdims=True)
    ) / np.sqrt(var + eps)
    return z, mean.reshape(-1), var.reshape(-1), dx, dgamma, dbeta


def _to(backend, array):
    return None if array is None else backend.asarray(array, array.dtype)


@pytest.mark.parametrize("activation, slope", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 3, 5)])
def test_batch_norm_forward_and_backward_match_the_reference(
    kernel_backend, shape, dtype, activation, slope
):
    # A large mean against a small spread: the shifted sums keep float32 accurate.
    x = _random(shape, dtype, 1, scale=0.5, offset=100.0)
    gamma = _random(shape[1], dtype, 2, scale=0.3, offset=1.0)
    beta = _random(shape[1], dtype, 3)
    grad_z = _random(shape, dtype, 4)
    eps = 1e-3
    expected = reference_batch_norm(
        *(a.astype(np.float64) for a in (x, gamma, beta)), eps, grad_z.astype(np.float64),
        activation, slope,
    )
    b = kernel_backend
    z, mean, var, stats = b.batch_norm_forward(
        _to(b, x), _to(b, gamma), _to(b, beta), eps, activation, slope
    )
    assert z.dtype == mean.dtype == var.dtype == dtype
    dx, dgamma, dbeta = b.batch_norm_backward(
        _to(b, grad_z), z, _to(b, x), stats, _to(b, gamma), activation, slope
    )
    actual = [b.to_numpy(a) for a in (z, mean, var, dx, dgamma, dbeta)]
    scales = [1, 1, 1, 10, 10, 10]  # float32: dx is a difference of sums of m terms
    for got, want, scale in zip(actual, expected, scales, strict=True):
        _close(got, want, dtype, scale)


def test_batch_norm_without_affine_parameters_is_gamma_one_beta_zero(kernel_backend):
    b = kernel_backend
    x = _random((4, 3, 2), np.float64, 5)
    plain = b.batch_norm_forward(_to(b, x), None, None, 1e-5, "relu")
    ones, zeros = np.ones(3), np.zeros(3)
    explicit = b.batch_norm_forward(_to(b, x), _to(b, ones), _to(b, zeros), 1e-5, "relu")
    np.testing.assert_array_equal(b.to_numpy(plain[0]), b.to_numpy(explicit[0]))


@pytest.mark.parametrize("activation, slope", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, axis", [((3, 4, 2, 5), 1), ((6, 4), 1), ((2, 3, 4), 2)])
def test_bias_activation_forward_and_backward_match_the_reference(
    kernel_backend, shape, axis, dtype, activation, slope
):
    y = _random(shape, dtype, 6, scale=2.0)
    bias = _random(shape[axis], dtype, 7)
    grad_z = _random(shape, dtype, 8)
    broadcast = [1] * len(shape)
    broadcast[axis] = -1
    v = y.astype(np.float64) + bias.astype(np.float64).reshape(broadcast)
    z_want, derivative = reference_activation(v, activation, slope)
    g_want = grad_z * derivative
    db_want = g_want.sum(axis=tuple(a for a in range(len(shape)) if a != axis))
    b = kernel_backend
    name = activation or "identity"
    z = b.bias_activation(_to(b, y), _to(b, bias), axis, name, slope)
    g, db = b.bias_activation_backward(_to(b, grad_z), z, axis, name, slope)
    assert z.dtype == g.dtype == db.dtype == dtype
    _close(b.to_numpy(z), z_want, dtype)
    # The derivative is read off the rounded output: float32 tanh/sigmoid lose a little.
    _close(b.to_numpy(g), g_want, dtype, 5)
    _close(b.to_numpy(db), db_want, dtype, 20)


def test_fused_relu_and_leaky_relu_equal_the_unfused_kernels_bit_for_bit(kernel_backend):
    b = kernel_backend
    y = _random((3, 4, 5), np.float32, 9, scale=2.0)
    bias = _random(4, np.float32, 10)
    pre = b.asarray(y + bias.reshape(1, -1, 1), np.float32)
    grad = _to(b, _random((3, 4, 5), np.float32, 11))
    for name, slope, forward, backward in [
        ("relu", 0.0, b.relu, lambda g, x, a: b.relu_backward(g, x)),
        ("leaky_relu", 0.2, lambda x: b.leaky_relu(x, 0.2), b.leaky_relu_backward),
    ]:
        z = b.bias_activation(_to(b, y), _to(b, bias), 1, name, slope)
        np.testing.assert_array_equal(b.to_numpy(z), b.to_numpy(forward(pre)))
        g, _ = b.bias_activation_backward(grad, z, 1, name, slope)
        np.testing.assert_array_equal(b.to_numpy(g), b.to_numpy(backward(grad, pre, slope)))


def test_bad_arguments_are_named(kernel_backend):
    b = kernel_backend
    x = _to(b, np.ones((2, 3)))
    with pytest.raises(ValueError, match="activation must be one of"):
        b.batch_norm_forward(x, None, None, 1e-5, "gelu")
    with pytest.raises(ValueError, match="negative_slope >= 0"):
        b.bias_activation(x, _to(b, np.ones(3)), 1, "leaky_relu", -0.1)
    with pytest.raises(ValueError, match="bias must be"):
        b.bias_activation(x, _to(b, np.ones(2)), 1, "relu")
    with pytest.raises(ValueError, match="weight must be"):
        b.batch_norm_forward(x, _to(b, np.ones(2)), None, 1e-5)
    with pytest.raises(ValueError, match="x must be"):
        b.batch_norm_forward(_to(b, np.ones(3)), None, None, 1e-5)
