"""The CUDA backend's fused BatchNorm and bias + activation kernels under other launch
sizes (the fold over a block of 2 threads, and of 64), against the CPU backend's kernels,
which tests/test_kernels_fused.py checks against plain references.

How these tests pick their device: tests/cuda_cases.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from cuda_cases import DTYPES, assert_close, cuda_backend, random_array

import kernels

cuda = cuda_backend()
# Importable only once cuda_backend() has found a device (else it skipped this module).
from kernels.cuda import activations, batch_norm  # noqa: E402
from kernels.cuda.runtime import sizes  # noqa: E402

cpu = kernels.backend("cpu")
LAUNCHES = [
    dataclasses.replace(sizes, reduce_min_threads=2, reduce_threads=2),
    dataclasses.replace(sizes, reduce_min_threads=64, reduce_threads=64),
]


@pytest.mark.parametrize("launch", LAUNCHES, ids=["2-threads", "64-threads"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_kernels_match_the_cpu_backend(dtype, launch):
    x = random_array((3, 2, 3, 2), dtype, 70) * 0.5 + 1000.0  # a large mean, small spread
    gamma, beta = random_array((2,), dtype, 71) + 1, random_array((2,), dtype, 72)
    grad_z = random_array((3, 2, 3, 2), dtype, 73)
    device = [cuda.asarray(a) for a in (x, gamma, beta, grad_z)]
    z, mean, var, stats = batch_norm.batch_norm_forward(
        *device[:3], 1e-5, "leaky_relu", 0.2, launch=launch
    )
    grads = batch_norm.batch_norm_backward(
        device[3], z, device[0], stats, device[1], "leaky_relu", 0.2, launch=launch
    )
    want_z, want_mean, want_var, want_stats = cpu.batch_norm_forward(
        x, gamma, beta, 1e-5, "leaky_relu", 0.2
    )
    want_grads = cpu.batch_norm_backward(grad_z, want_z, x, want_stats, gamma, "leaky_relu", 0.2)
    assert_close(cuda.to_numpy(mean), want_mean, dtype)
    # Relative to the spread (0.25), not to the mean: the shift keeps float32 accurate.
    np.testing.assert_allclose(cuda.to_numpy(var), want_var, rtol=1e-4)
    assert_close(cuda.to_numpy(z), want_z, dtype)
    for got, want in zip(grads, want_grads, strict=True):
        np.testing.assert_allclose(cuda.to_numpy(got), want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("launch", LAUNCHES, ids=["2-threads", "64-threads"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_bias_activation_backward_matches_the_cpu_backend(dtype, launch):
    z = np.tanh(random_array((5, 3, 7), dtype, 74))
    grad_z = random_array((5, 3, 7), dtype, 75)
    grad_v, grad_bias = activations.bias_activation_backward(
        cuda.asarray(grad_z), cuda.asarray(z), 1, "tanh", launch=launch
    )
    want_v, want_bias = cpu.bias_activation_backward(grad_z, z, 1, "tanh")
    assert_close(cuda.to_numpy(grad_v), want_v, dtype)
    np.testing.assert_allclose(cuda.to_numpy(grad_bias), want_bias, rtol=1e-5, atol=1e-5)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="x must be"):
        batch_norm.batch_norm_forward(cuda.asarray(np.ones(3)), None, None, 1e-5)
    one = cuda.asarray(np.ones((2, 2)))
    with pytest.raises(ValueError, match="grad_z, z and x must match"):
        batch_norm.batch_norm_backward(
            one, one, cuda.asarray(np.ones((2, 3))), cuda.asarray(np.ones((3, 2))), None
        )
