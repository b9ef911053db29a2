"""The CUDA backend's max and average pooling (kernels/cuda/pool.py), forward and backward,
against windows cut out with numpy.

How these tests pick their device: tests/cuda_cases.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_cases import DTYPES, assert_close, cuda_backend, random_array

cuda = cuda_backend()


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
    x = random_array(x_shape, dtype, 10)
    y_dev, argmax_dev = cuda.max_pool2d(cuda.asarray(x), k, s, p)
    y, argmax = cuda.to_numpy(y_dev), cuda.to_numpy(argmax_dev)
    values, where = _windows(x, k, s, p, -np.inf)
    assert_close(y, values.max(-1), dtype)
    assert argmax.dtype == np.int64
    rows, cols = np.indices(where.shape[:2])
    np.testing.assert_array_equal(argmax, where[rows, cols, values.argmax(-1)])
    g = random_array(y.shape, dtype, 11)
    grad_x = cuda.to_numpy(cuda.max_pool2d_backward(cuda.asarray(g), argmax_dev, x_shape[2:]))
    expected = np.zeros(x.shape, dtype).reshape(x.shape[0], x.shape[1], -1)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            np.add.at(expected[n, c], argmax[n, c].reshape(-1), g[n, c].reshape(-1))
    assert_close(grad_x, expected.reshape(x.shape), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape,k,s,p", POOL_CASES)
def test_avg_pool_forward_and_backward(x_shape, k, s, p, dtype):
    x = random_array(x_shape, dtype, 12)
    y = cuda.to_numpy(cuda.avg_pool2d(cuda.asarray(x), k, s, p))
    values, _ = _windows(x, k, s, p, 0.0)
    assert_close(y, values.mean(-1), dtype)  # count_include_pad: always k*k in the divisor
    g = random_array(y.shape, dtype, 13)
    grad_x = cuda.to_numpy(cuda.avg_pool2d_backward(cuda.asarray(g), x_shape[2:], k, s, p))
    assert_close(np.vdot(grad_x, x), np.vdot(g, y), dtype)  # the adjoint of a linear map


def test_max_pool_propagates_nan_and_checks_argmax():
    x = np.zeros((1, 1, 2, 2), np.float32)
    x[0, 0, 1, 0] = np.nan
    y, argmax = cuda.max_pool2d(cuda.asarray(x), 2, 2, 0)
    assert np.isnan(cuda.to_numpy(y)[0, 0, 0, 0]) and cuda.to_numpy(argmax)[0, 0, 0, 0] == 2
    with pytest.raises(ValueError, match="int64"):
        cuda.max_pool2d_backward(y, argmax.astype(np.int32), (2, 2))
    # Checked at the next host read, not in the backward itself (that would sync the GPU).
    bad = cuda.max_pool2d_backward(y, argmax + 4, (2, 2))
    with pytest.raises(IndexError, match="1 index.*outside"):
        cuda.to_numpy(bad)
    assert cuda.to_numpy(bad).sum() == 0  # reported once; the bad index was skipped
    good = cuda.max_pool2d_backward(cuda.asarray(np.ones((1, 1, 1, 1), np.float32)), argmax, (2, 2))
    assert cuda.to_numpy(good)[0, 0, 1, 0] == 1
    with pytest.raises(ValueError, match="at most half"):
        cuda.avg_pool2d(cuda.asarray(x), 2, 1, 2)
