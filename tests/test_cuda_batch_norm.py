"""The CUDA backend's fused BatchNorm reductions (kernels/cuda/batch_norm.py) against numpy
in float64.

How these tests pick their device: tests/cuda_cases.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from cuda_cases import DTYPES, assert_close, cuda_backend, random_array

cuda = cuda_backend()
# Importable only once cuda_backend() has found a device (else it skipped this module).
from kernels.cuda import batch_norm  # noqa: E402
from kernels.cuda.runtime import sizes  # noqa: E402

# The default launch sizes, and four blocks per channel whose last folds the partials.
LAUNCHES = [sizes, dataclasses.replace(sizes, reduce_threads=2, reduce_max_blocks=4)]


@pytest.mark.parametrize("launch", LAUNCHES, ids=["default-sizes", "four-blocks"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_statistics_match_numpy(dtype, launch):
    x = random_array((3, 2, 3, 2), dtype, 70) * 0.5 + 1000.0  # a large mean, small spread
    mean, var = batch_norm.batch_norm_statistics(cuda.asarray(x), launch)
    x64 = x.astype(np.float64)
    assert mean.dtype == dtype and mean.shape == (2,)
    assert_close(cuda.to_numpy(mean), x64.mean(axis=(0, 2, 3)), dtype)
    # Relative to the spread (0.25), not to the mean: the shift keeps float32 accurate.
    np.testing.assert_allclose(cuda.to_numpy(var), x64.var(axis=(0, 2, 3)), rtol=1e-4)


@pytest.mark.parametrize("launch", LAUNCHES, ids=["default-sizes", "four-blocks"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_means_match_numpy(dtype, launch):
    g, x_hat = random_array((4, 3, 5), dtype, 71), random_array((4, 3, 5), dtype, 72)
    mean_g, mean_gx = batch_norm.batch_norm_backward_means(
        cuda.asarray(g), cuda.asarray(x_hat), launch
    )
    g64, x64 = g.astype(np.float64), x_hat.astype(np.float64)
    assert_close(cuda.to_numpy(mean_g), g64.mean(axis=(0, 2)), dtype)
    assert_close(cuda.to_numpy(mean_gx), (g64 * x64).mean(axis=(0, 2)), dtype)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="x must be"):
        batch_norm.batch_norm_statistics(cuda.asarray(np.ones(3)))
    one = cuda.asarray(np.ones((2, 2)))
    with pytest.raises(ValueError, match="grad and x_hat must match"):
        batch_norm.batch_norm_backward_means(one, cuda.asarray(np.ones((2, 3))))
