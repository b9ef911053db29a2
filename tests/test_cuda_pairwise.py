"""The CUDA backend's pairwise L1 closeness kernels (kernels/cuda/pairwise.py), minibatch
discrimination's inner loop, against the formula written out in numpy.

How these tests pick their device: tests/cuda_cases.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_cases import DTYPES, assert_close, cuda_backend, random_array

cuda = cuda_backend()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1, 1), (7, 3, 2), (17, 2, 5)])
def test_closeness_and_its_gradient_match_the_formula(shape, dtype):
    rows = random_array(shape, dtype, 21) * 0.5
    rows[-1] = rows[0]  # an exact twin: distance 0, sign 0
    grad = random_array(shape[:2], dtype, 22)
    differences = rows.astype(np.float64)[:, None] - rows.astype(np.float64)[None]
    similarity = np.exp(-np.abs(differences).sum(axis=3))
    expected_grad = -(
        ((grad[:, None, :] + grad[None, :, :]) * similarity)[..., None] * np.sign(differences)
    ).sum(axis=1)

    closeness, device_similarity = cuda.pairwise_l1_closeness(cuda.asarray(rows))
    grad_rows = cuda.pairwise_l1_closeness_backward(
        cuda.asarray(grad), cuda.asarray(rows), device_similarity
    )
    assert closeness.shape == shape[:2] and grad_rows.shape == shape
    assert closeness.dtype == dtype and grad_rows.dtype == dtype
    assert_close(cuda.to_numpy(closeness), (similarity.sum(axis=1) - 1).astype(dtype), dtype)
    assert_close(cuda.to_numpy(grad_rows), expected_grad.astype(dtype), dtype)


def test_bad_shapes_are_named():
    rows = cuda.asarray(np.zeros((3, 2, 2), np.float32))
    with pytest.raises(ValueError, match="rows must be 3-d"):
        cuda.pairwise_l1_closeness(cuda.asarray(np.zeros((3, 4), np.float32)))
    _, similarity = cuda.pairwise_l1_closeness(rows)
    with pytest.raises(ValueError, match=r"grad must have shape \(3, 2\)"):
        cuda.pairwise_l1_closeness_backward(
            cuda.asarray(np.zeros((2, 3), np.float32)), rows, similarity
        )
