"""Kernel backends against numpy references: activations, reductions, Adam, random numbers.

Like tests/test_kernels.py, every test runs on each backend of the ``kernel_backend``
fixture and moves arrays through ``asarray``/``to_numpy``.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

DTYPES = [np.float32, np.float64]
TOLERANCE = {np.float32: 1e-6, np.float64: 1e-14}
SHAPES = [(7,), (3, 17, 33), (2, 1, 5, 4)]


def _random(shape, dtype, seed, scale=3.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


def _run(backend, function, *arrays, **kwargs):
    device = [backend.asarray(a, a.dtype) if isinstance(a, np.ndarray) else a for a in arrays]
    return backend.to_numpy(function(*device, **kwargs))


def _close(actual, expected, dtype):
    np.testing.assert_allclose(actual, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


# activations --------------------------------------------------------------------------

FORWARD = {
    "relu": lambda x: np.where(x > 0, x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x.astype(np.float64))),
    "tanh": lambda x: np.tanh(x.astype(np.float64)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(FORWARD))
def test_activation_forward_matches_numpy(kernel_backend, name, shape, dtype):
    x = _random(shape, dtype, 1)
    y = _run(kernel_backend, getattr(kernel_backend, name), x)
    assert y.dtype == dtype and y.shape == shape
    _close(y, FORWARD[name](x), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_leaky_relu_and_the_backward_masks_match_numpy(kernel_backend, shape, dtype):
    x, g = _random(shape, dtype, 2), _random(shape, dtype, 3)
    be = kernel_backend
    y = _run(be, be.leaky_relu, x, 0.2)
    grad_relu = _run(be, be.relu_backward, g, x)
    grad_leaky = _run(be, be.leaky_relu_backward, g, x, 0.2)
    for result in (y, grad_relu, grad_leaky):
        assert result.dtype == dtype and result.shape == shape
    slope = dtype(0.2)
    _close(y, np.where(x > 0, x, slope * x), dtype)
    _close(grad_relu, np.where(x > 0, g, 0), dtype)
    _close(grad_leaky, np.where(x > 0, g, slope * g), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_and_tanh_saturate_without_overflow(kernel_backend, dtype):
    x = np.array([-1e4, -800.0, -100.0, 0.0, 100.0, 800.0, 1e4], dtype=dtype)
    with np.errstate(all="raise"):
        s = _run(kernel_backend, kernel_backend.sigmoid, x)
        t = _run(kernel_backend, kernel_backend.tanh, x)
    np.testing.assert_array_equal(s[[0, 1, 3, 5, 6]], [0.0, 0.0, 0.5, 1.0, 1.0])
    _close(s[2], math.exp(-100.0), dtype)  # 1 / (1 + e^100)
    np.testing.assert_array_equal(t, [-1, -1, -1, 0, 1, 1, 1])


def test_activations_work_on_strided_views(kernel_backend):
    x = _random((6, 8), np.float64, 4)
    strided = x.T[::2]  # not contiguous
    be = kernel_backend
    _close(_run(be, be.sigmoid, np.asarray(strided)), FORWARD["sigmoid"](strided), np.float64)
    _close(
        _run(be, be.relu_backward, strided, strided),
        np.where(strided > 0, strided, 0),
        np.float64,
    )


def test_backward_masks_reject_mismatched_shapes_and_dtypes(kernel_backend):
    be = kernel_backend
    x = be.asarray(np.zeros((2, 3)), np.float32)
    with pytest.raises(ValueError, match="same shape"):
        be.relu_backward(be.asarray(np.zeros((3, 2)), np.float32), x)
    with pytest.raises(TypeError, match="same dtype"):
        be.leaky_relu_backward(be.asarray(np.zeros((2, 3)), np.float64), x, 0.1)


# reductions ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), (1,)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_and_max_match_numpy(kernel_backend, dtype, axis, keepdims):
    x = _random((3, 4, 5), dtype, 5)
    total = _run(kernel_backend, kernel_backend.sum, x, axis, keepdims)
    largest = _run(kernel_backend, kernel_backend.max, x, axis, keepdims)
    assert total.dtype == dtype and largest.dtype == dtype
    np.testing.assert_allclose(total, x.astype(np.float64).sum(axis=axis, keepdims=keepdims), 1e-5)
    np.testing.assert_array_equal(largest, x.max(axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_argmax_matches_numpy_and_is_int64(kernel_backend, axis):
    x = np.array([[1.0, 3.0, 3.0], [2.0, -1.0, 2.0]], dtype=np.float32)  # ties: first wins
    indices = _run(kernel_backend, kernel_backend.argmax, x, axis)
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices, np.argmax(x, axis=axis))


def test_reductions_reject_bad_axes(kernel_backend):
    be = kernel_backend
    x = be.asarray(np.zeros((2, 3)), np.float32)
    with pytest.raises(ValueError, match="out of range"):
        be.sum(x, 2, False)
    with pytest.raises(ValueError, match="None or an int"):
        be.argmax(x, (0, 1))
    with pytest.raises(ValueError, match="axis must be"):
        be.max(x, 1.5, False)


# Adam ---------------------------------------------------------------------------------


def reference_adam(param, grads, lr, beta1, beta2, eps, weight_decay):
    """PyTorch's Adam written out in float64: L2 decay on the gradient, bias correction."""
    p = param.astype(np.float64)
    m, v = np.zeros_like(p), np.zeros_like(p)
    for step, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p, m, v


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_update_follows_pytorchs_formula_in_place(kernel_backend, dtype, weight_decay):
    be = kernel_backend
    param = _random((3, 5, 2), dtype, 6)
    grads = [_random(param.shape, dtype, 10 + k) for k in range(4)]
    # asarray may return its argument itself: update a copy, keep ``param`` for the reference
    p = be.asarray(param.copy(), dtype)
    m, v = be.asarray(np.zeros_like(param), dtype), be.asarray(np.zeros_like(param), dtype)
    for step, g in enumerate(grads, start=1):
        hyper = (step, 0.01, 0.8, 0.95, 1e-8, weight_decay)
        assert be.adam_update(p, be.asarray(g, dtype), m, v, *hyper) is None
    expected = reference_adam(param, grads, 0.01, 0.8, 0.95, 1e-8, weight_decay)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for actual, wanted in zip((p, m, v), expected, strict=True):
        actual = be.to_numpy(actual)
        assert actual.dtype == dtype and actual.shape == param.shape
        np.testing.assert_allclose(actual, wanted, rtol=tolerance, atol=tolerance)


def test_adam_update_matches_torch(kernel_backend):
    torch = pytest.importorskip("torch")
    be = kernel_backend
    param = _random((4, 3), np.float32, 7)
    grads = [_random(param.shape, np.float32, 20 + k) for k in range(3)]
    p_t = torch.tensor(param, requires_grad=True)
    optimizer = torch.optim.Adam([p_t], lr=0.05, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.01)
    p = be.asarray(param.copy(), np.float32)
    m = be.asarray(np.zeros_like(param), np.float32)
    v = be.asarray(np.zeros_like(param), np.float32)
    for step, g in enumerate(grads, start=1):
        p_t.grad = torch.tensor(g)
        optimizer.step()
        be.adam_update(p, be.asarray(g, np.float32), m, v, step, 0.05, 0.9, 0.99, 1e-6, 0.01)
    np.testing.assert_allclose(be.to_numpy(p), p_t.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_adam_update_rejects_bad_input(kernel_backend):
    be = kernel_backend
    a = be.asarray(np.zeros((2, 3)), np.float32)
    other = be.asarray(np.zeros((3, 2)), np.float32)
    with pytest.raises(ValueError, match="step must be an int >= 1"):
        be.adam_update(a, a, a, a, 0, 0.1, 0.9, 0.999, 1e-8, 0.0)
    with pytest.raises(ValueError, match="beta1"):
        be.adam_update(a, a, a, a, 1, 0.1, 1.0, 0.999, 1e-8, 0.0)
    with pytest.raises(ValueError, match="exp_avg must match param"):
        be.adam_update(a, a, other, a, 1, 0.1, 0.9, 0.999, 1e-8, 0.0)


# random numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_random_numbers_are_seeded_and_in_the_asked_dtype(kernel_backend, dtype):
    be = kernel_backend
    first, second = be.make_rng(3), be.make_rng(3)
    a = be.to_numpy(be.normal(first, (4000,), dtype))
    np.testing.assert_array_equal(a, be.to_numpy(be.normal(second, (4000,), dtype)))
    assert a.dtype == dtype and a.shape == (4000,)
    assert abs(a.mean()) < 0.1 and abs(a.std() - 1) < 0.1
    u = be.to_numpy(be.uniform(first, (2, 2000), dtype))
    assert u.dtype == dtype and u.shape == (2, 2000)
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.05
    other = be.to_numpy(be.normal(be.make_rng(4), (4000,), dtype))
    assert not np.array_equal(a, other)


def test_rng_state_survives_a_json_round_trip(kernel_backend):
    be = kernel_backend
    rng = be.make_rng(2**40 + 7)
    be.normal(rng, (5,), np.float32)
    saved = json.loads(json.dumps(be.rng_state(rng)))
    expected = be.to_numpy(be.uniform(rng, (9,), np.float64))
    restored = be.make_rng(0)
    be.set_rng_state(restored, saved)
    np.testing.assert_array_equal(be.to_numpy(be.uniform(restored, (9,), np.float64)), expected)


def test_random_rejects_bad_input(kernel_backend):
    be = kernel_backend
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        be.make_rng(-1)
    with pytest.raises(TypeError, match="float32 or float64"):
        be.normal(be.make_rng(0), (2,), np.int32)
    with pytest.raises(ValueError, match="state must be a dict from rng_state"):
        be.set_rng_state(be.make_rng(0), {"state": 1})


# compiled-kernel cache (CPU only) -----------------------------------------------------


def test_a_second_process_loads_the_cpu_kernels_from_the_cache():
    from kernels.cpu import conv

    x = np.ones((2, 3, 6, 6), dtype=np.float32)
    conv.conv2d_forward(x, np.ones((4, 3, 3, 3), dtype=np.float32), 1, 1)  # compiles or loads
    script = (
        "import numpy as np\n"
        "from kernels.cpu import conv, patches\n"
        "x = np.ones((2, 3, 6, 6), dtype=np.float32)\n"
        "conv.conv2d_forward(x, np.ones((4, 3, 3, 3), dtype=np.float32), 1, 1)\n"
        "stats = patches._im2col_kernel.stats\n"
        "print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    hits, misses = (int(count) for count in result.stdout.split())
    assert (hits, misses) == (1, 0), result.stdout + result.stderr
