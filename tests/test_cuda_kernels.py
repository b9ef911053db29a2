"""The CUDA backend's kernels, run under Numba's CUDA simulator against numpy references.

Runs only as its own process with ``NUMBA_ENABLE_CUDASIM=1`` (set before numba is
imported): ``NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/test_cuda_kernels.py``.
Shapes are tiny but chosen to leave partial tiles and blocks (1x1, 17x33, batch 3,
stride 2, padding 1); every test runs in float32 and float64.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("NUMBA_ENABLE_CUDASIM") != "1",
    reason="CUDA simulator tests need NUMBA_ENABLE_CUDASIM=1 set before numba is imported",
)

if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    import kernels
    from kernels.cuda import gemm as gemm_module
    from kernels.cuda.philox import philox4x32
    from kernels.cuda.runtime import sizes

    cuda = kernels.backend("cuda-simulator")

DTYPES = [np.float32, np.float64]
TOLERANCE = {np.float32: 2e-5, np.float64: 1e-12}


def _random(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _close(actual, expected, dtype):
    np.testing.assert_allclose(actual, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def test_backend_honours_the_contract():
    assert cuda.name == "cuda-simulator"
    assert cuda.xp is np
    assert [n for n in kernels.REQUIRED if not hasattr(cuda, n)] == []
    x = cuda.asarray([[1, 2]], np.float32)
    assert x.dtype == np.float32 and isinstance(cuda.to_numpy(x), np.ndarray)


def test_every_kernel_compiles_for_a_real_gpu():
    """The simulator runs kernels as Python; Numba's CUDA compiler must accept them too."""
    script = Path(__file__).with_name("compile_cuda_ptx.py")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode == 3:
        pytest.skip(done.stdout.strip())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "compiled 42 kernels" in done.stdout


# GEMM ---------------------------------------------------------------------------------

GEMM_SHAPES = [
    ((1, 1), (1, 1)),
    ((17, 9), (9, 33)),
    ((3, 17, 9), (9, 33)),  # batch 3 against one shared matrix
    ((2, 1, 5, 4), (3, 4, 6)),  # broadcast batch dims
    ((7,), (7, 5)),  # 1-D promotion, as np.matmul
    ((4, 7), (7,)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("a_shape,b_shape", GEMM_SHAPES)
def test_gemm_matches_numpy(a_shape, b_shape, dtype):
    a, b = _random(a_shape, dtype, 1), _random(b_shape, dtype, 2)
    c = cuda.matmul(a, b)
    assert c.dtype == dtype and c.shape == np.matmul(a, b).shape
    _close(c, np.matmul(a, b), dtype)


@pytest.mark.parametrize(
    "block,reg,tile_k", [(8, 2, 8), (4, 1, 3)], ids=["8x8-threads-2x2-regs", "4x4-threads-k3"]
)
def test_gemm_other_block_shapes(block, reg, tile_k):
    launch = dataclasses.replace(sizes, gemm_block=block, gemm_reg=reg, gemm_tile_k=tile_k)
    a, b = _random((17, 20), np.float32, 3), _random((20, 33), np.float32, 4)
    _close(gemm_module.gemm(a, b, launch), a @ b, np.float32)


def test_gemm_empty_and_zero_depth():
    assert cuda.matmul(np.ones((0, 3)), np.ones((3, 4))).shape == (0, 4)
    np.testing.assert_array_equal(cuda.matmul(np.ones((2, 0)), np.ones((0, 4))), np.zeros((2, 4)))


def test_gemm_rejects_bad_input():
    with pytest.raises(ValueError, match="last dimension"):
        cuda.matmul(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(TypeError, match="float32 or float64"):
        cuda.matmul(np.ones((2, 2), np.int64), np.ones((2, 2), np.int64))
    with pytest.raises(TypeError, match="numpy array"):
        cuda.matmul([[1.0]], np.ones((1, 1)))


def test_gemm_switch(monkeypatch):
    assert gemm_module.GEMM == "numba"  # the simulator always runs the hand-written kernel
    monkeypatch.setattr(gemm_module, "GEMM", "cublas")
    with pytest.raises(ValueError, match="'numba' when simulated"):
        cuda.matmul(np.ones((1, 1)), np.ones((1, 1)))
    monkeypatch.setenv("MINIGRAD_CUDA_GEMM", "cublas")
    with pytest.raises(ValueError, match="needs a real GPU"):
        gemm_module._gemm_from_environment()
    monkeypatch.setenv("MINIGRAD_CUDA_GEMM", "fast")
    with pytest.raises(ValueError, match="MINIGRAD_CUDA_GEMM must be one of"):
        gemm_module._gemm_from_environment()


# convolution --------------------------------------------------------------------------


def _padded(x, ph, pw):
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _im2col_reference(x, kh, kw, s, p):
    """cols[n, (c, i, j), (oh, ow)] = x_pad[n, c, oh*s + i, ow*s + j], by loops."""
    n, c, h, w = x.shape
    xp_ = _padded(x, p, p)
    oh, ow = (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1
    cols = np.zeros((n, c * kh * kw, oh * ow), x.dtype)
    for ci in range(c):
        for i in range(kh):
            for j in range(kw):
                patch = xp_[:, ci, i : i + s * oh : s, j : j + s * ow : s]
                cols[:, (ci * kh + i) * kw + j] = patch.reshape(n, -1)
    return cols


def _conv_reference(x, w, s, p):
    o, c, kh, kw = w.shape
    cols = _im2col_reference(x, kh, kw, s, p)
    n, h, wd = x.shape[0], x.shape[2], x.shape[3]
    oh, ow = (h + 2 * p - kh) // s + 1, (wd + 2 * p - kw) // s + 1
    return np.einsum("ok,nkl->nol", w.reshape(o, -1), cols).reshape(n, o, oh, ow)


CONV_CASES = [
    # (x shape, w shape, stride, padding)
    ((1, 1, 1, 1), (1, 1, 1, 1), 1, 0),
    ((3, 2, 7, 6), (4, 2, 3, 3), 2, 1),
    ((2, 3, 5, 5), (2, 3, 4, 4), 1, 1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape,w_shape,stride,padding", CONV_CASES)
def test_im2col_and_its_adjoint_col2im(x_shape, w_shape, stride, padding, dtype):
    x = _random(x_shape, dtype, 5)
    kernel_hw = w_shape[2:]
    cols = cuda.im2col(x, kernel_hw, stride, padding)
    _close(cols, _im2col_reference(x, *kernel_hw, stride, padding), dtype)
    # col2im is im2col's adjoint: <im2col(x), c> == <x, col2im(c)> for every c.
    c = _random(cols.shape, dtype, 6)
    back = cuda.col2im(c, x_shape, kernel_hw, stride, padding)
    assert back.shape == x_shape
    _close(np.vdot(back, x), np.vdot(c, cols), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape,w_shape,stride,padding", CONV_CASES)
def test_conv2d_triangle(x_shape, w_shape, stride, padding, dtype):
    x, w = _random(x_shape, dtype, 7), _random(w_shape, dtype, 8)
    y = cuda.conv2d_forward(x, w, stride, padding)
    _close(y, _conv_reference(x, w, stride, padding), dtype)
    # The two gradients, checked as adjoints of the forward map: for any grad_y g,
    # <g, conv(x, w)> = <input_grad(g, w), x> = <weight_grad(x, g), w>.
    g = _random(y.shape, dtype, 9)
    grad_x = cuda.conv2d_input_grad(g, w, x_shape[2:], stride, padding)
    grad_w = cuda.conv2d_weight_grad(x, g, w_shape[2:], stride, padding)
    assert grad_x.shape == x_shape and grad_w.shape == w_shape
    _close(np.vdot(grad_x, x), np.vdot(g, y), dtype)
    _close(np.vdot(grad_w, w), np.vdot(g, y), dtype)
    # And entrywise against autograd-free finite sums: grad_w = sum_n g_n @ cols_n^T.
    cols = _im2col_reference(x, *w_shape[2:], stride, padding)
    expected_w = np.einsum("nol,nkl->ok", g.reshape(g.shape[0], g.shape[1], -1), cols)
    _close(grad_w, expected_w.reshape(w_shape), dtype)


def test_conv_rejects_bad_input():
    x, w = np.ones((1, 2, 4, 4), np.float32), np.ones((3, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match="channels"):
        cuda.conv2d_forward(np.ones((1, 3, 4, 4), np.float32), w, 1, 0)
    with pytest.raises(TypeError, match="same dtype"):
        cuda.conv2d_forward(x, w.astype(np.float64), 1, 0)
    with pytest.raises(ValueError, match="does not fit"):
        cuda.conv2d_forward(np.ones((1, 2, 2, 2), np.float32), w, 1, 0)
    with pytest.raises(ValueError, match="spatial size"):
        cuda.conv2d_input_grad(np.ones((1, 3, 3, 3), np.float32), w, (4, 4), 1, 0)


# pooling ------------------------------------------------------------------------------


def _windows(x, k, s, p, fill):
    """(N, C, OH, OW, k*k) window contents of x padded by ``fill``, and the flat indices."""
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    index = np.pad(np.arange(h * w).reshape(h, w), p, constant_values=-1)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    values = np.empty((n, c, oh, ow, k * k), x.dtype)
    where = np.empty((oh, ow, k * k), np.int64)
    for i in range(oh):
        for j in range(ow):
            values[:, :, i, j] = padded[:, :, i * s : i * s + k, j * s : j * s + k].reshape(
                n, c, -1
            )
            where[i, j] = index[i * s : i * s + k, j * s : j * s + k].reshape(-1)
    return values, where


POOL_CASES = [((1, 1, 1, 1), 1, 1, 0), ((3, 2, 7, 6), 3, 2, 1), ((2, 1, 4, 5), 2, 2, 0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape,k,s,p", POOL_CASES)
def test_max_pool_forward_and_backward(x_shape, k, s, p, dtype):
    x = _random(x_shape, dtype, 10)
    y, argmax = cuda.max_pool2d(x, k, s, p)
    values, where = _windows(x, k, s, p, -np.inf)
    _close(y, values.max(-1), dtype)
    assert argmax.dtype == np.int64
    rows, cols = np.indices(where.shape[:2])
    np.testing.assert_array_equal(argmax, where[rows, cols, values.argmax(-1)])
    g = _random(y.shape, dtype, 11)
    grad_x = cuda.max_pool2d_backward(g, argmax, x_shape[2:])
    expected = np.zeros(x.shape, dtype).reshape(x.shape[0], x.shape[1], -1)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            np.add.at(expected[n, c], argmax[n, c].reshape(-1), g[n, c].reshape(-1))
    _close(grad_x, expected.reshape(x.shape), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape,k,s,p", POOL_CASES)
def test_avg_pool_forward_and_backward(x_shape, k, s, p, dtype):
    x = _random(x_shape, dtype, 12)
    y = cuda.avg_pool2d(x, k, s, p)
    values, _ = _windows(x, k, s, p, 0.0)
    _close(y, values.mean(-1), dtype)  # count_include_pad: always k*k in the divisor
    g = _random(y.shape, dtype, 13)
    grad_x = cuda.avg_pool2d_backward(g, x_shape[2:], k, s, p)
    _close(np.vdot(grad_x, x), np.vdot(g, y), dtype)  # the adjoint of a linear map


def test_max_pool_propagates_nan_and_checks_argmax():
    x = np.zeros((1, 1, 2, 2), np.float32)
    x[0, 0, 1, 0] = np.nan
    y, argmax = cuda.max_pool2d(x, 2, 2, 0)
    assert np.isnan(y[0, 0, 0, 0]) and argmax[0, 0, 0, 0] == 2
    with pytest.raises(ValueError, match="int64"):
        cuda.max_pool2d_backward(y, argmax.astype(np.int32), (2, 2))
    with pytest.raises(IndexError, match="outside"):
        cuda.max_pool2d_backward(y, argmax + 4, (2, 2))
    with pytest.raises(ValueError, match="at most half"):
        cuda.avg_pool2d(x, 2, 1, 2)


# activations --------------------------------------------------------------------------


def _sigmoid_reference(x):
    return np.exp(-np.logaddexp(0, -x.astype(np.float64)))


ACTIVATIONS = {
    "relu": (lambda x: cuda.relu(x), lambda x: np.maximum(x, 0)),
    "leaky_relu": (lambda x: cuda.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "sigmoid": (lambda x: cuda.sigmoid(x), _sigmoid_reference),
    "tanh": (lambda x: cuda.tanh(x), np.tanh),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("which", sorted(ACTIVATIONS))
def test_activation_forward(which, dtype):
    x = _random((17, 33), dtype, 14) * 4
    x[0, :4] = [0.0, -1000.0, 1000.0, -0.0]  # sigmoid must neither overflow nor warn
    kernel, reference = ACTIVATIONS[which]
    with np.errstate(all="raise"):
        y = kernel(x)
    assert y.dtype == dtype and y.shape == x.shape
    _close(y, reference(x).astype(dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_backward_masks(dtype):
    x, g = _random((3, 1, 5), dtype, 15), _random((3, 1, 5), dtype, 16)
    x[0, 0, 0] = 0.0  # the kink counts as "not > 0", as in PyTorch
    _close(cuda.relu_backward(g, x), g * (x > 0), dtype)
    _close(cuda.leaky_relu_backward(g, x, 0.1), np.where(x > 0, g, 0.1 * g), dtype)
    with pytest.raises(ValueError, match="same shape"):
        cuda.relu_backward(g[:1], x)


def test_relu_passes_nan_and_handles_views():
    x = np.array([[np.nan, -1.0, 2.0], [3.0, -4.0, 5.0]])
    np.testing.assert_array_equal(cuda.relu(x), np.maximum(x, 0))
    np.testing.assert_array_equal(cuda.tanh(x.T), np.tanh(x.T))  # a non-contiguous input


# reductions ---------------------------------------------------------------------------

REDUCE_AXES = [None, 0, 1, -1, (0, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", REDUCE_AXES, ids=str)
def test_sum_and_max(axis, dtype):
    x = _random((3, 17, 6), dtype, 17)
    for keepdims in (False, True):
        total = cuda.sum(x, axis, keepdims)
        _close(total, x.sum(axis=axis, keepdims=keepdims), dtype)
        biggest = cuda.max(x, axis, keepdims)
        np.testing.assert_array_equal(biggest, x.max(axis=axis, keepdims=keepdims))
        assert total.dtype == dtype and biggest.dtype == dtype


def test_reductions_over_long_rows_use_two_passes():
    # Four blocks per row, then a second pass over the (R, 4) partial results.
    launch = dataclasses.replace(sizes, reduce_threads=4, reduce_max_blocks=4, reduce_items=2)
    from kernels.cuda import reduce

    x = _random((2, 33), np.float64, 18)
    _close(reduce.array_sum(x, 1, launch=launch), x.sum(1), np.float64)
    np.testing.assert_array_equal(reduce.array_max(x, None, launch=launch), x.max())
    np.testing.assert_array_equal(reduce.argmax(x, 1, launch=launch), x.argmax(1))


def test_reduction_dtypes_and_nan():
    ints = np.arange(-10, 23, dtype=np.int32).reshape(3, 11)
    assert cuda.sum(ints, 1).dtype == np.int64
    np.testing.assert_array_equal(cuda.sum(ints, 1), ints.sum(1))
    np.testing.assert_array_equal(cuda.max(ints, 0), ints.max(0))
    assert cuda.sum(np.array([True, True, False])) == 2
    x = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 2.0, 1.0, -np.inf]])
    assert np.isnan(cuda.max(x, 1)[0]) and cuda.max(x, 1)[1] == 2.0
    np.testing.assert_array_equal(cuda.argmax(x, 1), [1, 0])  # first NaN; first of a tie
    assert cuda.sum(np.ones((0, 3)), 0).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="empty"):
        cuda.max(np.ones((0, 3)), 0)
    with pytest.raises(ValueError, match="out of range"):
        cuda.sum(np.ones((2, 3)), 2)
    with pytest.raises(ValueError, match="None or an int"):
        cuda.argmax(np.ones((2, 3)), (0, 1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_argmax(dtype):
    x = _random((3, 17, 5), dtype, 19)
    x[1, 3, 2] = x[1, 9, 2] = 50  # a tie: the first index wins
    for axis in (None, 0, 1, 2):
        result = cuda.argmax(x, axis)
        np.testing.assert_array_equal(result, np.argmax(x, axis=axis))
        assert result.dtype == np.int64


# Adam ---------------------------------------------------------------------------------


def _adam_reference(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay):
    g = grad + weight_decay * param
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_update_in_place(dtype):
    param = _random((17, 3), dtype, 20)
    m, v = np.zeros_like(param), np.zeros_like(param)
    expected = (param.astype(np.float64), m.astype(np.float64), v.astype(np.float64))
    for step in (1, 2, 3):
        grad = _random(param.shape, dtype, 20 + step)
        args = (step, 1e-2, 0.9, 0.999, 1e-8, 0.01)
        cuda.adam_update(param, grad, m, v, *args)
        expected = _adam_reference(expected[0], grad.astype(np.float64), *expected[1:], *args)
    for actual, want in zip((param, m, v), expected, strict=True):
        assert actual.dtype == dtype
        _close(actual, want, dtype)


def test_adam_rejects_bad_state():
    p = np.ones(4)
    with pytest.raises(ValueError, match="exp_avg must match param's shape"):
        cuda.adam_update(p, p.copy(), np.ones(3), np.ones(4), 1, 0.1, 0.9, 0.99, 1e-8, 0.0)
    with pytest.raises(ValueError, match="C-contiguous"):
        q = np.ones((4, 4)).T
        cuda.adam_update(q, q, q.copy(), q.copy(), 1, 0.1, 0.9, 0.99, 1e-8, 0.0)
    with pytest.raises(ValueError, match="step"):
        cuda.adam_update(p, p.copy(), p.copy(), p.copy(), 0, 0.1, 0.9, 0.99, 1e-8, 0.0)


# random numbers -----------------------------------------------------------------------


def test_philox_known_answers():
    """Random123's published Philox4x32-10 test vectors."""
    full = 0xFFFFFFFF
    cases = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((full,) * 4, (full, full), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        (
            (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
            (0xA4093822, 0x299F31D0),
            (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
        ),
    ]
    for counter, key, expected in cases:
        words = philox4x32(*(np.uint64(c) for c in counter), *(np.uint64(k) for k in key))
        assert tuple(int(w) for w in words) == expected


@pytest.mark.parametrize("dtype", DTYPES)
def test_rng_is_seeded_repeatable_and_restorable(dtype):
    rng = cuda.make_rng(1234)
    first = cuda.normal(rng, (3, 7), dtype)
    state = json.loads(json.dumps(cuda.rng_state(rng)))
    second = cuda.uniform(rng, (5,), dtype)
    assert first.dtype == dtype and second.dtype == dtype
    np.testing.assert_array_equal(cuda.normal(cuda.make_rng(1234), (3, 7), dtype), first)
    assert not np.array_equal(cuda.normal(cuda.make_rng(1235), (3, 7), dtype), first)
    cuda.set_rng_state(rng, state)
    np.testing.assert_array_equal(cuda.uniform(rng, (5,), dtype), second)
    with pytest.raises(ValueError, match="algorithm"):
        cuda.set_rng_state(rng, {"seed": 1})


@pytest.mark.parametrize("dtype", DTYPES)
def test_rng_distributions(dtype):
    rng = cuda.make_rng(7)
    z = cuda.normal(rng, (4001,), dtype)  # odd: the last counter's second value is unused
    u = cuda.uniform(rng, (4001,), dtype)
    # Fixed seed, so these are exact checks of one sample, with 5-sigma-wide bounds.
    assert abs(z.mean()) < 5 / math.sqrt(4001) and abs(z.std() - 1) < 0.06
    assert 0.0 <= u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 5 * 0.29 / math.sqrt(4001)
    assert np.isfinite(z).all() and len(np.unique(u)) > 3990
