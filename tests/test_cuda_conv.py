"""The CUDA backend's convolution (kernels/cuda/conv.py): im2col and its adjoint col2im, and
the conv / input-grad / weight-grad triangle, against loop-built numpy references.

How these tests pick their device: tests/cuda_cases.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_cases import DTYPES, assert_close, cuda_backend, random_array

cuda = cuda_backend()


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
    x = random_array(x_shape, dtype, 5)
    kernel_hw = w_shape[2:]
    cols = cuda.to_numpy(cuda.im2col(cuda.asarray(x), kernel_hw, stride, padding))
    assert_close(cols, _im2col_reference(x, *kernel_hw, stride, padding), dtype)
    # col2im is im2col's adjoint: <im2col(x), c> == <x, col2im(c)> for every c.
    c = random_array(cols.shape, dtype, 6)
    back = cuda.to_numpy(cuda.col2im(cuda.asarray(c), x_shape, kernel_hw, stride, padding))
    assert back.shape == x_shape
    assert_close(np.vdot(back, x), np.vdot(c, cols), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape,w_shape,stride,padding", CONV_CASES)
def test_conv2d_triangle(x_shape, w_shape, stride, padding, dtype):
    x, w = random_array(x_shape, dtype, 7), random_array(w_shape, dtype, 8)
    x_dev, w_dev = cuda.asarray(x), cuda.asarray(w)
    y = cuda.to_numpy(cuda.conv2d_forward(x_dev, w_dev, stride, padding))
    assert_close(y, _conv_reference(x, w, stride, padding), dtype)
    # The two gradients, checked as adjoints of the forward map: for any grad_y g,
    # <g, conv(x, w)> = <input_grad(g, w), x> = <weight_grad(x, g), w>.
    g = random_array(y.shape, dtype, 9)
    g_dev = cuda.asarray(g)
    grad_x = cuda.to_numpy(cuda.conv2d_input_grad(g_dev, w_dev, x_shape[2:], stride, padding))
    grad_w = cuda.to_numpy(cuda.conv2d_weight_grad(x_dev, g_dev, w_shape[2:], stride, padding))
    assert grad_x.shape == x_shape and grad_w.shape == w_shape
    assert_close(np.vdot(grad_x, x), np.vdot(g, y), dtype)
    assert_close(np.vdot(grad_w, w), np.vdot(g, y), dtype)
    # And entrywise against autograd-free finite sums: grad_w = sum_n g_n @ cols_n^T.
    cols = _im2col_reference(x, *w_shape[2:], stride, padding)
    expected_w = np.einsum("nol,nkl->ok", g.reshape(g.shape[0], g.shape[1], -1), cols)
    assert_close(grad_w, expected_w.reshape(w_shape), dtype)


def test_conv_rejects_bad_input():
    x = cuda.asarray(np.ones((1, 2, 4, 4), np.float32))
    w = cuda.asarray(np.ones((3, 2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="channels"):
        cuda.conv2d_forward(cuda.asarray(np.ones((1, 3, 4, 4), np.float32)), w, 1, 0)
    with pytest.raises(TypeError, match="same dtype"):
        cuda.conv2d_forward(x, w.astype(np.float64), 1, 0)
    with pytest.raises(ValueError, match="does not fit"):
        cuda.conv2d_forward(cuda.asarray(np.ones((1, 2, 2, 2), np.float32)), w, 1, 0)
    with pytest.raises(ValueError, match="spatial size"):
        cuda.conv2d_input_grad(cuda.asarray(np.ones((1, 3, 3, 3), np.float32)), w, (4, 4), 1, 0)
