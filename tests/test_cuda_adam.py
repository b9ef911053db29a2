"""The CUDA backend's fused in-place Adam update (kernels/cuda/adam.py) against PyTorch's
Adam written out in float64 numpy.

How these tests pick their device: tests/cuda_cases.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_cases import DTYPES, assert_close, cuda_backend, random_array

cuda = cuda_backend()


def _adam_reference(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay):
    g = grad + weight_decay * param
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_update_in_place(dtype):
    param = random_array((17, 3), dtype, 20)
    m, v = np.zeros_like(param), np.zeros_like(param)
    expected = (param.astype(np.float64), m.astype(np.float64), v.astype(np.float64))
    # Adam updates these three in place, on the device.
    param_dev, m_dev, v_dev = (cuda.asarray(a) for a in (param, m, v))
    for step in (1, 2, 3):
        grad = random_array(param.shape, dtype, 20 + step)
        args = (step, 1e-2, 0.9, 0.999, 1e-8, 0.01)
        cuda.adam_update(param_dev, cuda.asarray(grad), m_dev, v_dev, *args)
        expected = _adam_reference(expected[0], grad.astype(np.float64), *expected[1:], *args)
    for actual, want in zip((param_dev, m_dev, v_dev), expected, strict=True):
        assert actual.dtype == dtype
        assert_close(cuda.to_numpy(actual), want, dtype)


def test_adam_rejects_bad_state():
    p = cuda.asarray(np.ones(4))
    with pytest.raises(ValueError, match="exp_avg must match param's shape"):
        cuda.adam_update(
            p, p.copy(), cuda.asarray(np.ones(3)), p.copy(), 1, 0.1, 0.9, 0.99, 1e-8, 0.0
        )
    with pytest.raises(ValueError, match="C-contiguous"):
        q = cuda.asarray(np.ones((4, 4))).T
        cuda.adam_update(q, q, q.copy(), q.copy(), 1, 0.1, 0.9, 0.99, 1e-8, 0.0)
    with pytest.raises(ValueError, match="step"):
        cuda.adam_update(p, p.copy(), p.copy(), p.copy(), 0, 0.1, 0.9, 0.99, 1e-8, 0.0)


def test_adam_update_many_equals_one_update_per_tensor():
    """Three tensors of two sizes and two dtypes (two launches), one of them empty and one
    with a transposed gradient: the same values as adam_update on each, bit for bit."""
    shapes = [((5, 3), np.float32), ((0,), np.float32), ((7,), np.float64), ((2, 2), np.float32)]
    one_by_one, together = [], []
    for index, (shape, dtype) in enumerate(shapes):
        param, grad = random_array(shape, dtype, 30 + index), random_array(shape, dtype, 40)
        m, v = random_array(shape, dtype, 50) * 0.1, random_array(shape, dtype, 60) ** 2
        one_by_one.append([cuda.asarray(a) for a in (param, grad, m, v)])
        together.append([cuda.asarray(a.copy()) for a in (param, grad, m, v)])
    together[3][1] = cuda.asarray(np.ascontiguousarray(cuda.to_numpy(together[3][1]).T)).T
    one_by_one[3][1] = cuda.asarray(cuda.to_numpy(together[3][1]))
    args = (4, 1e-2, 0.9, 0.999, 1e-8, 0.01)
    for param, grad, m, v in one_by_one:
        cuda.adam_update(param, grad, m, v, *args)
    cuda.adam_update_many(*zip(*together, strict=True), *args)
    for expected, actual in zip(one_by_one, together, strict=True):
        for k in (0, 2, 3):  # param, exp_avg, exp_avg_sq
            np.testing.assert_array_equal(cuda.to_numpy(actual[k]), cuda.to_numpy(expected[k]))
    assert not np.array_equal(cuda.to_numpy(together[0][0]), random_array((5, 3), np.float32, 30))
    with pytest.raises(ValueError, match=r"exp_avg\[1\] must match"):
        p = cuda.asarray(np.ones(4))
        cuda.adam_update_many([p, p], [p, p], [p, p[:3]], [p, p], *args)
    with pytest.raises(ValueError, match="one entry per tensor"):
        cuda.adam_update_many([p], [p], [p], [], *args)
