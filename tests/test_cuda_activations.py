"""The CUDA backend's fused activation kernels and backward masks (kernels/cuda/activations.py)
against numpy expressions.

How these tests pick their device: tests/cuda_cases.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_cases import DTYPES, assert_close, cuda_backend, random_array

cuda = cuda_backend()


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
    x = random_array((17, 33), dtype, 14) * 4
    x[0, :4] = [0.0, -1000.0, 1000.0, -0.0]  # sigmoid must neither overflow nor warn
    kernel, reference = ACTIVATIONS[which]
    # Simulated, the kernel's arithmetic is numpy's, so an overflow warning raises here.
    with np.errstate(all="raise"):
        y = kernel(cuda.asarray(x))
    assert y.dtype == dtype and y.shape == x.shape
    assert_close(cuda.to_numpy(y), reference(x).astype(dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_backward_masks(dtype):
    x, g = random_array((3, 1, 5), dtype, 15), random_array((3, 1, 5), dtype, 16)
    x[0, 0, 0] = 0.0  # the kink counts as "not > 0", as in PyTorch
    x_dev, g_dev = cuda.asarray(x), cuda.asarray(g)
    assert_close(cuda.to_numpy(cuda.relu_backward(g_dev, x_dev)), g * (x > 0), dtype)
    leaky = cuda.to_numpy(cuda.leaky_relu_backward(g_dev, x_dev, 0.1))
    assert_close(leaky, np.where(x > 0, g, 0.1 * g), dtype)
    with pytest.raises(ValueError, match="same shape"):
        cuda.relu_backward(g_dev[:1], x_dev)


def test_relu_passes_nan_and_handles_views():
    x = np.array([[np.nan, -1.0, 2.0], [3.0, -4.0, 5.0]])
    x_dev = cuda.asarray(x)
    np.testing.assert_array_equal(cuda.to_numpy(cuda.relu(x_dev)), np.maximum(x, 0))
    # x_dev.T is a non-contiguous view on the device.
    tanh = cuda.to_numpy(cuda.tanh(x_dev.T))
    if cuda.name == "cuda-simulator":
        # Simulated, the kernel's math.tanh is the host's libm, as numpy's is here.
        np.testing.assert_array_equal(tanh, np.tanh(x.T))
    else:
        # On a GPU tanh is libdevice's, which may differ from glibc's by an ulp.
        finite = ~np.isnan(x.T)
        assert np.isnan(tanh[~finite]).all()
        np.testing.assert_array_max_ulp(tanh[finite], np.tanh(x.T)[finite], maxulp=2)
