"""The CPU's fast paths against the plain kernels they stand in for.

Convolution:
``kernels/cpu/conv.py`` sends layers with large output planes through ``conv_chunks.py``
(stride 1: wide rows; other strides: strided planes). Every case here runs the chunked
functions directly, with chunks small enough that the batch is split unevenly, against the
``*_batch_last`` reference and naive loops; the float64 gradient check runs through
autograd on planes large enough for the public functions to pick the chunked route.

Max pooling: the kernels for NaN-free inputs (any window, and 2x2 stride 2) against the
careful one (NaN wins).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_kernels import (
    CONV_CASES,
    CONV_IDS,
    POOL_CASES,
    POOL_IDS,
    reference_conv,
    reference_input_grad,
    reference_weight_grad,
)

import minigrad as mg
from kernels.cpu import conv, conv_chunks, pool
from kernels.geometry import conv2d_args
from minigrad.gradcheck import gradcheck
from minigrad.nn import functional as F

# Beside test_kernels' cases: the MNIST CNN's layers and DCGAN's 4x4 stride 2, shrunk;
# stride 1 with padding at and beyond kernel - 1.
ROUTE_CASES = CONV_CASES + [
    (5, 3, 4, (12, 12), (3, 3), (1, 1), (0, 0)),
    (5, 1, 6, (12, 12), (3, 3), (1, 1), (0, 0)),
    (4, 2, 3, (14, 14), (4, 4), (2, 2), (1, 1)),
    (3, 2, 3, (9, 11), (3, 3), (1, 1), (2, 2)),
    (3, 2, 2, (6, 5), (1, 1), (1, 1), (1, 1)),
]
ROUTE_IDS = CONV_IDS + ["cnn-3x3", "cnn-1ch", "dcgan-14px", "pad-k-1", "pad-beyond-k"]
TOLERANCE = {np.float32: 2e-5, np.float64: 1e-12}


def _random(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _close(actual, expected, dtype):
    np.testing.assert_allclose(actual, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chunk_bytes", [1, 1500, 1 << 30], ids=["1-image", "uneven", "whole"])
@pytest.mark.parametrize("case", ROUTE_CASES, ids=ROUTE_IDS)
def test_chunked_route_matches_the_batch_last_reference(monkeypatch, case, chunk_bytes, dtype):
    n, c, o, hw, kernel_hw, stride, padding = case
    monkeypatch.setattr(conv_chunks, "CHUNK_BYTES", chunk_bytes)
    x, w = _random((n, c, *hw), dtype, 1), _random((o, c, *kernel_hw), dtype, 2)
    kernel, step, pad, out_hw = conv2d_args(x, w, stride, padding)
    grad_y = _random((n, o, *out_hw), dtype, 3)
    # A non-contiguous grad_y, as a transposed upstream gradient would be.
    grad_y = np.ascontiguousarray(grad_y.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    args = (kernel, step, pad, out_hw)

    y = conv_chunks.conv2d_forward_chunks(x, w, *args)
    _close(y, conv.conv2d_forward_batch_last(x, w, *args), dtype)
    _close(y, reference_conv(x, w, stride, padding), dtype)

    dx = conv_chunks.conv2d_input_grad_chunks(grad_y, w, x.shape, *args)
    _close(dx, conv.conv2d_input_grad_batch_last(grad_y, w, x.shape, *args), dtype)
    _close(dx, reference_input_grad(grad_y, w, x.shape, stride, padding), dtype)

    dw = conv_chunks.conv2d_weight_grad_chunks(x, grad_y, *args)
    _close(dw, conv.conv2d_weight_grad_batch_last(x, grad_y, *args), dtype)
    _close(dw, reference_weight_grad(x, grad_y, kernel, stride, padding), dtype)
    assert y.dtype == dx.dtype == dw.dtype == dtype


@pytest.mark.parametrize(
    "needs", [(True, True), (True, False), (False, True)], ids=["both", "dx", "dw"]
)
@pytest.mark.parametrize("chunk_bytes", [1, 1500, 1 << 30], ids=["1-image", "uneven", "whole"])
@pytest.mark.parametrize("case", ROUTE_CASES, ids=ROUTE_IDS)
def test_chunked_backward_of_both_gradients_matches_the_separate_ones(
    monkeypatch, case, chunk_bytes, needs
):
    """conv2d_backward_chunks = (input grad, weight grad); conv_transpose2d_backward_chunks
    = (conv2d of grad_z, weight grad of grad_z and x), each None when not needed."""
    n, c, o, hw, kernel_hw, stride, padding = case
    monkeypatch.setattr(conv_chunks, "CHUNK_BYTES", chunk_bytes)
    x, w = _random((n, c, *hw), np.float64, 4), _random((o, c, *kernel_hw), np.float64, 5)
    kernel, step, pad, out_hw = conv2d_args(x, w, stride, padding)
    grad_y = _random((n, o, *out_hw), np.float64, 6)
    args = (kernel, step, pad, out_hw)

    dx, dw = conv_chunks.conv2d_backward_chunks(x, w, grad_y, *args, *needs)
    expected = (
        conv.conv2d_input_grad_batch_last(grad_y, w, x.shape, *args),
        conv.conv2d_weight_grad_batch_last(x, grad_y, *args),
    )
    for got, want, needed in zip((dx, dw), expected, needs, strict=True):
        assert got is None if not needed else got.shape == want.shape
        if needed:
            _close(got, want, np.float64)

    # the transposed conv z = conv2d_input_grad(grad_y, w): its grad_z is x-shaped
    grad_z = x
    dg, dw = conv_chunks.conv_transpose2d_backward_chunks(grad_y, w, grad_z, *args, *needs)
    expected = (
        conv.conv2d_forward_batch_last(grad_z, w, *args),
        conv.conv2d_weight_grad_batch_last(grad_z, grad_y, *args),
    )
    for got, want, needed in zip((dg, dw), expected, needs, strict=True):
        assert got is None if not needed else got.shape == want.shape
        if needed:
            _close(got, want, np.float64)


def test_the_public_functions_take_the_chunked_route_only_for_large_planes(monkeypatch):
    calls = []

    def counting(name):
        real = getattr(conv, name)

        def counted(*args):
            calls.append(name)
            return real(*args)

        return counted

    for name in ("conv2d_forward_chunks", "conv2d_input_grad_chunks", "conv2d_weight_grad_chunks"):
        monkeypatch.setattr(conv, name, counting(name))
    w = _random((3, 2, 3, 3), np.float32, 2)
    for side, expected in ((9, 0), (14, 3)):  # 7x7 = 49 and 12x12 = 144 output pixels
        calls.clear()
        x = _random((2, 2, side, side), np.float32, 1)
        y = conv.conv2d_forward(x, w, 1, 0)
        conv.conv2d_input_grad(y, w, (side, side), 1, 0)
        conv.conv2d_weight_grad(x, y, (3, 3), 1, 0)
        assert len(calls) == expected


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1)], ids=["s1", "s1-p1", "s2-p1"])
def test_conv_gradients_on_the_chunked_route_match_finite_differences(stride, padding):
    """float64 through autograd, planes of 144 pixels or more: the chunked route."""
    rng = np.random.default_rng(0)
    side = 12 * stride + (2 - 2 * padding if stride == 1 else 0)
    x = mg.tensor(rng.standard_normal((2, 2, side, side)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    assert conv.chunked(F.conv2d(x, w, stride=stride, padding=padding).shape[2:])
    assert gradcheck(lambda a, b: F.conv2d(a, b, stride=stride, padding=padding), (x, w))


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_max_pool_without_nan_matches_the_careful_kernel_ties_included(case):
    n, c, hw, kernel_hw, stride, padding = case
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 3, (n, c, *hw)).astype(np.float32)  # many ties
    x[0, 0, 0, 0] = -np.inf
    out_hw = conv2d_args(x, np.zeros((1, c, *kernel_hw), np.float32), stride, padding)[3]
    results = []
    for kernel in (pool._max_pool_kernel, pool._max_pool_no_nan_kernel):
        y = np.empty((n, c, *out_hw), np.float32)
        argmax = np.empty(y.shape, np.int64)
        kernel(x, *kernel_hw, *stride, *padding, y, argmax)
        results.append((y, argmax))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    y, argmax = pool.max_pool2d(x, kernel_hw, stride, padding)
    np.testing.assert_array_equal(argmax, results[0][1])


@pytest.mark.parametrize("hw", [(24, 24), (17, 33), (2, 3)])
def test_max_pool_2x2_kernel_matches_the_careful_kernel_ties_included(hw):
    rng = np.random.default_rng(1)
    x = rng.integers(-2, 3, (2, 3, *hw)).astype(np.float32)  # many ties
    x[0, 0, 0, 0] = -np.inf
    out_hw = (hw[0] // 2, hw[1] // 2)
    careful_y = np.empty((2, 3, *out_hw), np.float32)
    careful_argmax = np.empty(careful_y.shape, np.int64)
    pool._max_pool_kernel(x, 2, 2, 2, 2, 0, 0, careful_y, careful_argmax)
    fast_y, fast_argmax = np.empty_like(careful_y), np.empty_like(careful_argmax)
    pool._max_pool_2x2_kernel(x, fast_y, fast_argmax)
    np.testing.assert_array_equal(fast_y, careful_y)
    np.testing.assert_array_equal(fast_argmax, careful_argmax)
    y, argmax = pool.max_pool2d(x, 2, 2, 0)  # the public entry takes the 2x2 kernel
    np.testing.assert_array_equal(argmax, careful_argmax)


def test_max_pool_takes_the_careful_kernel_when_there_is_a_nan():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 0], x[0, 0, 0, 1] = 5.0, np.nan
    y, argmax = pool.max_pool2d(x, 2, 2, 0)
    assert np.isnan(y[0, 0, 0, 0]) and argmax[0, 0, 0, 0] == 1


def test_conv2d_keeps_its_columns_only_when_a_weight_gradient_will_be_taken():
    """The forward's im2col is kept for the backward (batch-last route) only when the
    weight requires grad; the gradients it then gives are checked by finite differences
    in test_grad_ops.py and here against the path that rebuilds the columns."""
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.standard_normal((2, 3, 8, 8)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w, stride=2, padding=1)
    assert y.grad_fn.columns is not None
    g = mg.tensor(rng.standard_normal(y.shape))
    y.backward(g)
    rebuilt = conv.conv2d_backward(x.numpy(), w.numpy(), g.numpy(), 2, 1)
    np.testing.assert_array_equal(x.grad.numpy(), rebuilt[0])
    np.testing.assert_array_equal(w.grad.numpy(), rebuilt[1])
    frozen = mg.tensor(w.numpy())
    assert F.conv2d(x, frozen, stride=2, padding=1).grad_fn.columns is None
