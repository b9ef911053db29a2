"""Kernel backends against plain-numpy references: contract, GEMM, im2col/col2im, conv, pooling.

Every test takes the ``kernel_backend`` fixture (tests/conftest.py), so each backend
listed there runs the same checks. Arrays go in through ``asarray`` and come back
through ``to_numpy``, so the tests hold for device arrays too. The references are
naive loops over output positions on tiny shapes: odd sizes (17x33), batch 3,
non-square kernels, 1x1 kernels, strides and padding.
"""

from __future__ import annotations

import numpy as np
import pytest

import kernels

DTYPES = [np.float32, np.float64]
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}

# (batch, in_channels, out_channels, (H, W), kernel_hw, stride, padding)
CONV_CASES = [
    (3, 2, 4, (17, 33), (3, 3), (2, 2), (1, 1)),
    (2, 3, 5, (6, 7), (1, 1), (1, 1), (0, 0)),
    (3, 2, 3, (9, 8), (2, 3), (1, 2), (2, 0)),
    (1, 1, 2, (8, 8), (4, 4), (2, 2), (1, 1)),
    (2, 4, 1, (5, 5), (5, 5), (1, 1), (0, 0)),
    (2, 2, 3, (7, 10), (3, 2), (3, 1), (1, 3)),
]
CONV_IDS = ["17x33-s2-p1", "1x1", "2x3-s1x2-p2x0", "dcgan-4x4", "full-window", "3x2-s3x1-p1x3"]

# (batch, channels, (H, W), kernel_hw, stride, padding)
POOL_CASES = [
    (3, 2, (17, 33), (2, 2), (2, 2), (0, 0)),
    (2, 3, (7, 9), (3, 3), (2, 2), (1, 1)),
    (1, 2, (8, 5), (3, 2), (1, 2), (1, 1)),
    (2, 1, (6, 6), (1, 1), (1, 1), (0, 0)),
]
POOL_IDS = ["17x33-2x2", "3x3-s2-p1", "3x2-s1x2-p1", "1x1"]


def _random(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _close(actual, expected, dtype):
    np.testing.assert_allclose(actual, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def _out_hw(hw, kernel, stride, padding):
    return tuple(
        (s + 2 * p - k) // st + 1 for s, k, st, p in zip(hw, kernel, stride, padding, strict=True)
    )


def _windows(x_pad, kernel, stride, out_hw):
    """Yield ``(oh, ow, window)`` with ``window = x_pad[:, :, rows, cols]`` of one position."""
    for oh in range(out_hw[0]):
        for ow in range(out_hw[1]):
            rows = slice(oh * stride[0], oh * stride[0] + kernel[0])
            cols = slice(ow * stride[1], ow * stride[1] + kernel[1])
            yield oh, ow, (slice(None), slice(None), rows, cols)


def _pad(x, padding, value=0.0):
    widths = ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2)
    return np.pad(x, widths, constant_values=value)


def _crop(x_pad, padding):
    ph, pw = padding
    return x_pad[:, :, ph : x_pad.shape[2] - ph, pw : x_pad.shape[3] - pw]


def reference_conv(x, w, stride, padding):
    x_pad = _pad(x, padding)
    out_hw = _out_hw(x.shape[2:], w.shape[2:], stride, padding)
    y = np.zeros((x.shape[0], w.shape[0], *out_hw), dtype=np.float64)
    for oh, ow, window in _windows(x_pad, w.shape[2:], stride, out_hw):
        y[:, :, oh, ow] = np.einsum("nchw,ochw->no", x_pad[window], w)
    return y


def reference_input_grad(grad_y, w, x_shape, stride, padding):
    grad_pad = np.zeros(_pad(np.zeros(x_shape), padding).shape)
    for oh, ow, window in _windows(grad_pad, w.shape[2:], stride, grad_y.shape[2:]):
        grad_pad[window] += np.einsum("no,ochw->nchw", grad_y[:, :, oh, ow], w)
    return _crop(grad_pad, padding)


def reference_weight_grad(x, grad_y, kernel, stride, padding):
    x_pad = _pad(x, padding)
    grad_w = np.zeros((grad_y.shape[1], x.shape[1], *kernel))
    for oh, ow, window in _windows(x_pad, kernel, stride, grad_y.shape[2:]):
        grad_w += np.einsum("no,nchw->ochw", grad_y[:, :, oh, ow], x_pad[window])
    return grad_w


def reference_im2col(x, kernel, stride, padding):
    x_pad = _pad(x, padding)
    out_hw = _out_hw(x.shape[2:], kernel, stride, padding)
    cols = np.zeros((x.shape[0], x.shape[1] * kernel[0] * kernel[1], out_hw[0] * out_hw[1]))
    for oh, ow, window in _windows(x_pad, kernel, stride, out_hw):
        cols[:, :, oh * out_hw[1] + ow] = x_pad[window].reshape(x.shape[0], -1)
    return cols


def reference_max_pool(x, kernel, stride, padding):
    x_pad = _pad(x, padding, value=-np.inf)
    out_hw = _out_hw(x.shape[2:], kernel, stride, padding)
    y = np.zeros((*x.shape[:2], *out_hw))
    argmax = np.zeros(y.shape, dtype=np.int64)
    for oh, ow, window in _windows(x_pad, kernel, stride, out_hw):
        patch = x_pad[window].reshape(*x.shape[:2], -1)
        best = patch.argmax(axis=2)  # first maximum in row-major order
        y[:, :, oh, ow] = np.take_along_axis(patch, best[..., None], axis=2)[..., 0]
        h = oh * stride[0] + best // kernel[1] - padding[0]
        w = ow * stride[1] + best % kernel[1] - padding[1]
        argmax[:, :, oh, ow] = h * x.shape[3] + w
    return y, argmax


def reference_avg_pool(x, kernel, stride, padding):
    x_pad = _pad(x, padding)
    out_hw = _out_hw(x.shape[2:], kernel, stride, padding)
    y = np.zeros((*x.shape[:2], *out_hw))
    for oh, ow, window in _windows(x_pad, kernel, stride, out_hw):
        y[:, :, oh, ow] = x_pad[window].sum(axis=(2, 3)) / (kernel[0] * kernel[1])
    return y


def _run(backend, function, *arrays, **kwargs):
    """Call ``function`` on device copies of ``arrays``; return the results as numpy."""
    device = [backend.asarray(a, a.dtype) if isinstance(a, np.ndarray) else a for a in arrays]
    result = function(*device, **kwargs)
    if isinstance(result, tuple):
        return tuple(backend.to_numpy(r) for r in result)
    return backend.to_numpy(result)


# contract -----------------------------------------------------------------------------


def test_backend_defines_every_required_name(kernel_backend):
    missing = [name for name in kernels.REQUIRED if not hasattr(kernel_backend, name)]
    assert missing == []
    assert kernel_backend.name in ("cpu", "cuda", "cuda-simulator")
    array = kernel_backend.asarray([[1, 2, 3]], np.float64)
    assert isinstance(kernel_backend.to_numpy(array), np.ndarray)
    assert kernel_backend.to_numpy(array).dtype == np.float64


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shapes",
    [((17, 9), (9, 33)), ((3, 17, 9), (9, 33)), ((2, 1, 5, 4), (3, 4, 6)), ((7,), (7, 5))],
    ids=["2d", "batched", "broadcast", "vector"],
)
def test_matmul_matches_numpy(kernel_backend, shapes, dtype):
    a, b = _random(shapes[0], dtype, 1), _random(shapes[1], dtype, 2)
    result = _run(kernel_backend, kernel_backend.matmul, a, b)
    assert result.dtype == dtype
    expected = np.einsum("...ik,...kj->...ij", np.atleast_2d(a), b).reshape(result.shape)
    _close(result, expected, dtype)


# im2col / col2im ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_im2col_matches_reference_and_col2im_is_its_adjoint(kernel_backend, case, dtype):
    n, c, _, hw, kernel, stride, padding = case
    x = _random((n, c, *hw), dtype, 3)
    cols = _run(kernel_backend, kernel_backend.im2col, x, kernel, stride, padding)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, reference_im2col(x, kernel, stride, padding))
    g = _random(cols.shape, dtype, 4)
    back = _run(kernel_backend, kernel_backend.col2im, g, x.shape, kernel, stride, padding)
    assert back.shape == x.shape and back.dtype == dtype
    _close(np.vdot(cols, g), np.vdot(x, back), dtype)


# convolution --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv_triangle_matches_naive_loops(kernel_backend, case, dtype):
    n, c, o, hw, kernel, stride, padding = case
    x, w = _random((n, c, *hw), dtype, 5), _random((o, c, *kernel), dtype, 6)
    y = _run(kernel_backend, kernel_backend.conv2d_forward, x, w, stride, padding)
    assert y.dtype == dtype
    _close(y, reference_conv(x, w, stride, padding), dtype)

    grad_y = _random(y.shape, dtype, 7)
    grad_x = _run(kernel_backend, kernel_backend.conv2d_input_grad, grad_y, w, hw, stride, padding)
    assert grad_x.dtype == dtype
    _close(grad_x, reference_input_grad(grad_y, w, x.shape, stride, padding), dtype)

    grad_w = _run(
        kernel_backend, kernel_backend.conv2d_weight_grad, x, grad_y, kernel, stride, padding
    )
    assert grad_w.dtype == dtype
    _close(grad_w, reference_weight_grad(x, grad_y, kernel, stride, padding), dtype)


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv_gradients_are_adjoints_of_the_forward(kernel_backend, case):
    """<conv(x, w), g> = <x, input_grad(g, w)> = <w, weight_grad(x, g)>: conv is bilinear."""
    n, c, o, hw, kernel, stride, padding = case
    x, w = _random((n, c, *hw), np.float64, 8), _random((o, c, *kernel), np.float64, 9)
    y = _run(kernel_backend, kernel_backend.conv2d_forward, x, w, stride, padding)
    g = _random(y.shape, np.float64, 10)
    grad_x = _run(kernel_backend, kernel_backend.conv2d_input_grad, g, w, hw, stride, padding)
    grad_w = _run(kernel_backend, kernel_backend.conv2d_weight_grad, x, g, kernel, stride, padding)
    _close(np.vdot(y, g), np.vdot(x, grad_x), np.float64)
    _close(np.vdot(y, g), np.vdot(w, grad_w), np.float64)


@pytest.mark.parametrize(
    "needs", [(True, True), (True, False), (False, True)], ids=["both", "dx", "dw"]
)
@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv_backward_gives_both_gradients_in_one_call(kernel_backend, case, needs):
    """conv2d_backward(x, w, g) = (input_grad(g, w), weight_grad(x, g)); for the transposed
    conv z = input_grad(g, w), conv_transpose2d_backward(g, w, grad_z) = (conv(grad_z, w),
    weight_grad(grad_z, g)); a gradient not asked for is None."""
    be = kernel_backend
    n, c, o, hw, kernel, stride, padding = case
    x, w = _random((n, c, *hw), np.float64, 20), _random((o, c, *kernel), np.float64, 21)
    g = _random((n, o, *_out_hw(hw, kernel, stride, padding)), np.float64, 22)
    grad_z = _random(x.shape, np.float64, 23)
    x_d, w_d, g_d, grad_z_d = (be.asarray(a, a.dtype) for a in (x, w, g, grad_z))
    cases = [
        (
            be.conv2d_backward(x_d, w_d, g_d, stride, padding, *needs),
            (
                reference_input_grad(g, w, x.shape, stride, padding),
                reference_weight_grad(x, g, kernel, stride, padding),
            ),
        ),
        (
            be.conv_transpose2d_backward(g_d, w_d, grad_z_d, stride, padding, *needs),
            (
                reference_conv(grad_z, w, stride, padding),
                reference_weight_grad(grad_z, g, kernel, stride, padding),
            ),
        ),
    ]
    for results, expected in cases:
        for got, want, needed in zip(results, expected, needs, strict=True):
            if needed:
                _close(be.to_numpy(got), want, np.float64)
            else:
                assert got is None


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv_backward_reuses_the_columns_the_forward_kept(kernel_backend, case):
    be = kernel_backend
    n, c, o, hw, kernel, stride, padding = case
    x, w = _random((n, c, *hw), np.float64, 24), _random((o, c, *kernel), np.float64, 25)
    x_d, w_d = be.asarray(x, x.dtype), be.asarray(w, w.dtype)
    y, columns = be.conv2d_forward(x_d, w_d, stride, padding, keep_columns=True)
    _close(be.to_numpy(y), reference_conv(x, w, stride, padding), np.float64)
    g = _random(be.to_numpy(y).shape, np.float64, 26)
    grad_x, grad_w = be.conv2d_backward(
        x_d, w_d, be.asarray(g, g.dtype), stride, padding, columns=columns
    )
    _close(be.to_numpy(grad_x), reference_input_grad(g, w, x.shape, stride, padding), np.float64)
    _close(be.to_numpy(grad_w), reference_weight_grad(x, g, kernel, stride, padding), np.float64)
    if columns is not None:  # wrong columns are refused, not silently used
        with pytest.raises(ValueError, match="columns must be the im2col of x"):
            be.conv2d_backward(x_d, w_d, be.asarray(g, g.dtype), stride, padding, columns=w_d)


def test_conv_backward_rejects_bad_arguments_by_name(kernel_backend):
    be = kernel_backend
    x = be.asarray(np.zeros((2, 3, 8, 8)), np.float32)
    w = be.asarray(np.zeros((4, 3, 3, 3)), np.float32)
    with pytest.raises(ValueError, match=r"grad_y must be \(2, 4, OH, OW\)"):
        be.conv2d_backward(x, w, be.asarray(np.zeros((2, 5, 6, 6)), np.float32), 1, 0)
    with pytest.raises(ValueError, match="grad_y must have spatial size"):
        be.conv2d_backward(x, w, be.asarray(np.zeros((2, 4, 5, 5)), np.float32), 1, 0)
    with pytest.raises(TypeError, match="x and grad_y must have the same dtype"):
        be.conv2d_backward(x, w, be.asarray(np.zeros((2, 4, 6, 6)), np.float64), 1, 0)
    conv_t_input = be.asarray(np.zeros((2, 4, 6, 6)), np.float32)
    with pytest.raises(ValueError, match="grad_z has 5 channels"):
        be.conv_transpose2d_backward(
            conv_t_input, w, be.asarray(np.zeros((2, 5, 8, 8)), np.float32), 1, 0
        )
    with pytest.raises(ValueError, match=r"x must be \(2, 4, OH, OW\)"):
        be.conv_transpose2d_backward(x, w, x, 1, 0)


def test_conv_input_grad_is_conv_transpose_with_an_explicit_output_size(kernel_backend):
    """A stride-2 conv maps 7 and 8 pixels to the same 4: input_hw picks the transpose's size."""
    w = _random((3, 2, 3, 3), np.float64, 11)
    grad_y = _random((2, 3, 4, 4), np.float64, 12)
    for size in (7, 8):
        grad_x = _run(
            kernel_backend, kernel_backend.conv2d_input_grad, grad_y, w, (size, size), 2, 1
        )
        expected = reference_input_grad(grad_y, w, (2, 2, size, size), (2, 2), (1, 1))
        _close(grad_x, expected, np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_matches_torch(kernel_backend, dtype):
    torch = pytest.importorskip("torch")
    x, w = _random((3, 4, 13, 11), dtype, 13), _random((6, 4, 4, 3), dtype, 14)
    x_t = torch.tensor(x, requires_grad=True)
    w_t = torch.tensor(w, requires_grad=True)
    y_t = torch.nn.functional.conv2d(x_t, w_t, stride=(2, 1), padding=(1, 2))
    g = _random(tuple(y_t.shape), dtype, 15)
    grad_x_t, grad_w_t = torch.autograd.grad(y_t, (x_t, w_t), torch.tensor(g))
    y = _run(kernel_backend, kernel_backend.conv2d_forward, x, w, (2, 1), (1, 2))
    grad_x = _run(kernel_backend, kernel_backend.conv2d_input_grad, g, w, (13, 11), (2, 1), (1, 2))
    grad_w = _run(kernel_backend, kernel_backend.conv2d_weight_grad, x, g, (4, 3), (2, 1), (1, 2))
    tolerance = 1e-4 if dtype == np.float32 else 1e-10
    for ours, theirs in ((y, y_t), (grad_x, grad_x_t), (grad_w, grad_w_t)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=tolerance, atol=tolerance)


def test_conv_of_an_empty_batch_is_empty_with_a_zero_weight_gradient(kernel_backend):
    be = kernel_backend
    x, w = np.zeros((0, 3, 8, 8), np.float32), _random((4, 3, 3, 3), np.float32, 16)
    y = _run(be, be.conv2d_forward, x, w, 2, 1)
    assert y.shape == (0, 4, 4, 4)
    assert _run(be, be.conv2d_input_grad, y, w, (8, 8), 2, 1).shape == x.shape
    grad_w = _run(be, be.conv2d_weight_grad, x, y, (3, 3), 2, 1)
    np.testing.assert_array_equal(grad_w, np.zeros_like(w))
    x_d, w_d = be.asarray(x, x.dtype), be.asarray(w, w.dtype)
    y_d, columns = be.conv2d_forward(x_d, w_d, 2, 1, keep_columns=True)
    grad_x, grad_w = be.conv2d_backward(x_d, w_d, y_d, 2, 1, columns=columns)
    assert grad_x.shape == x.shape
    np.testing.assert_array_equal(be.to_numpy(grad_w), np.zeros_like(w))
    grad_y, grad_w = be.conv_transpose2d_backward(y_d, w_d, x_d, 2, 1)
    assert grad_y.shape == y.shape
    np.testing.assert_array_equal(be.to_numpy(grad_w), np.zeros_like(w))


def test_conv_rejects_bad_arguments_by_name(kernel_backend):
    be = kernel_backend
    x = be.asarray(np.zeros((2, 3, 8, 8)), np.float32)
    w = be.asarray(np.zeros((4, 3, 3, 3)), np.float32)
    with pytest.raises(ValueError, match="channels"):
        be.conv2d_forward(x, be.asarray(np.zeros((4, 2, 3, 3)), np.float32), 1, 0)
    with pytest.raises(TypeError, match="same dtype"):
        be.conv2d_forward(x, be.asarray(np.zeros((4, 3, 3, 3)), np.float64), 1, 0)
    with pytest.raises(TypeError, match="float32 or float64"):
        be.conv2d_forward(be.asarray(np.zeros((2, 3, 8, 8)), np.int64), w, 1, 0)
    with pytest.raises(ValueError, match=r"x must be \(N, C, H, W\)"):
        be.conv2d_forward(be.asarray(np.zeros((3, 8, 8)), np.float32), w, 1, 0)
    with pytest.raises(ValueError, match="stride"):
        be.conv2d_forward(x, w, 0, 0)
    with pytest.raises(ValueError, match="padding"):
        be.conv2d_forward(x, w, 1, (1, -1))
    with pytest.raises(ValueError, match="does not fit"):
        be.conv2d_forward(be.asarray(np.zeros((2, 3, 2, 2)), np.float32), w, 1, 0)
    with pytest.raises(ValueError, match="spatial size"):
        be.conv2d_input_grad(be.asarray(np.zeros((2, 4, 5, 5)), np.float32), w, (8, 8), 1, 0)
    with pytest.raises(ValueError, match="batch size"):
        be.conv2d_weight_grad(x, be.asarray(np.zeros((3, 4, 6, 6)), np.float32), 3, 1, 0)


# pooling ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_max_pool_matches_reference_and_backward_is_its_adjoint(kernel_backend, case, dtype):
    n, c, hw, kernel, stride, padding = case
    x = _random((n, c, *hw), dtype, 16)
    y, argmax = _run(kernel_backend, kernel_backend.max_pool2d, x, kernel, stride, padding)
    expected_y, expected_argmax = reference_max_pool(x, kernel, stride, padding)
    assert y.dtype == dtype and argmax.dtype == np.int64
    np.testing.assert_array_equal(y, expected_y.astype(dtype))
    np.testing.assert_array_equal(argmax, expected_argmax)

    g = _random(y.shape, dtype, 17)
    grad_x = _run(kernel_backend, kernel_backend.max_pool2d_backward, g, argmax, hw)
    assert grad_x.shape == x.shape and grad_x.dtype == dtype
    # for a fixed argmax the forward is the gather x.flat[argmax]: its adjoint scatter-adds
    picked = np.take_along_axis(x.reshape(n, c, -1), argmax.reshape(n, c, -1), axis=2)
    _close(np.vdot(picked, g), np.vdot(x, grad_x), dtype)


def test_max_pool_first_maximum_wins_ties_and_nan_wins(kernel_backend):
    x = np.zeros((1, 1, 4, 4), dtype=np.float32)
    x[0, 0, 2, 3] = np.nan
    y, argmax = _run(kernel_backend, kernel_backend.max_pool2d, x, 2, 2, 0)
    np.testing.assert_array_equal(argmax[0, 0], [[0, 2], [8, 11]])
    assert np.isnan(y[0, 0, 1, 1]) and np.all(y[0, 0].ravel()[:3] == 0)


def test_max_pool_backward_adds_where_windows_overlap(kernel_backend):
    x = np.zeros((1, 1, 3, 3), dtype=np.float64)
    x[0, 0, 1, 1] = 5.0  # the centre wins all four overlapping 2x2 windows
    y, argmax = _run(kernel_backend, kernel_backend.max_pool2d, x, 2, 1, 0)
    grad_x = _run(kernel_backend, kernel_backend.max_pool2d_backward, np.ones_like(y), argmax, 3)
    assert grad_x[0, 0, 1, 1] == 4.0 and grad_x.sum() == 4.0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_avg_pool_matches_reference_and_backward_is_its_adjoint(kernel_backend, case, dtype):
    n, c, hw, kernel, stride, padding = case
    x = _random((n, c, *hw), dtype, 18)
    y = _run(kernel_backend, kernel_backend.avg_pool2d, x, kernel, stride, padding)
    assert y.dtype == dtype
    _close(y, reference_avg_pool(x, kernel, stride, padding), dtype)
    g = _random(y.shape, dtype, 19)
    grad_x = _run(
        kernel_backend, kernel_backend.avg_pool2d_backward, g, hw, kernel, stride, padding
    )
    assert grad_x.shape == x.shape and grad_x.dtype == dtype
    _close(np.vdot(y, g), np.vdot(x, grad_x), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pools_match_torch(kernel_backend, dtype):
    torch = pytest.importorskip("torch")
    x = _random((2, 3, 9, 10), dtype, 20)
    x_t = torch.tensor(x)
    y, argmax = _run(kernel_backend, kernel_backend.max_pool2d, x, (3, 2), (2, 1), (1, 1))
    y_t, argmax_t = torch.nn.functional.max_pool2d(x_t, (3, 2), (2, 1), (1, 1), return_indices=True)
    np.testing.assert_array_equal(y, y_t.numpy())
    np.testing.assert_array_equal(argmax, argmax_t.numpy())
    avg = _run(kernel_backend, kernel_backend.avg_pool2d, x, 3, 2, 1)
    avg_t = torch.nn.functional.avg_pool2d(x_t, 3, 2, 1)
    np.testing.assert_allclose(avg, avg_t.numpy(), rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def test_pools_reject_bad_arguments_by_name(kernel_backend):
    be = kernel_backend
    x = be.asarray(np.zeros((1, 1, 6, 6)), np.float32)
    with pytest.raises(ValueError, match="at most half"):
        be.max_pool2d(x, 2, 2, 2)
    with pytest.raises(ValueError, match="kernel_hw"):
        be.avg_pool2d(x, (2, 2, 2), 2, 0)
    grad_y = be.asarray(np.zeros((1, 1, 3, 3)), np.float32)
    with pytest.raises(ValueError, match="argmax must be int64"):
        be.max_pool2d_backward(grad_y, be.asarray(np.zeros((1, 1, 3, 3)), np.int32), (6, 6))
    with pytest.raises(ValueError, match="spatial size"):
        be.avg_pool2d_backward(grad_y, (6, 6), 3, 1, 0)
