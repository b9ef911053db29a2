"""Minibatch discrimination's pairwise term: the CPU kernels (kernels/cpu/pairwise.py) and
the autograd node (gan/pairwise_closeness.py) against the formula written out in numpy and
against the Tensor-op reference, with first and second derivatives checked by finite
differences in float64."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from gan.pairwise_closeness import (
    PairwiseL1Closeness,
    pairwise_l1_closeness,
    pairwise_l1_closeness_reference,
)
from kernels.cpu import pairwise_l1_closeness as closeness_kernel
from kernels.cpu import pairwise_l1_closeness_backward as closeness_backward_kernel


def closeness_formula(rows: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(o, dL/dM) from the docstring's formulas, in float64 with (N, N, B, C) temporaries."""
    rows = rows.astype(np.float64)
    differences = rows[:, None] - rows[None]  # (N, N, B, C)
    similarity = np.exp(-np.abs(differences).sum(axis=3))  # (N, N, B)
    closeness = similarity.sum(axis=1) - 1.0
    weight = (grad[:, None, :] + grad[None, :, :]) * similarity
    grad_rows = -(weight[..., None] * np.sign(differences)).sum(axis=1)
    return closeness, grad_rows


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1, 1), (5, 3, 2), (37, 4, 8), (64, 16, 8)])
def test_kernels_match_the_formula(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    rows = (rng.standard_normal(shape) * 0.4).astype(dtype)
    rows[-1] = rows[0]  # an exact twin: distance 0, sign 0
    grad = rng.standard_normal(shape[:2]).astype(dtype)
    expected_closeness, expected_grad = closeness_formula(rows, grad)
    closeness, similarity = closeness_kernel(rows)
    grad_rows = closeness_backward_kernel(grad, rows, similarity)
    assert closeness.dtype == dtype and closeness.shape == shape[:2]
    assert grad_rows.dtype == dtype and grad_rows.shape == shape
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    scale = max(1.0, np.abs(expected_grad).max())
    np.testing.assert_allclose(closeness, expected_closeness, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(grad_rows, expected_grad, atol=tolerance * scale)


def test_function_matches_the_tensor_reference_forward_and_backward():
    mg.manual_seed(3)
    rows = mg.randn(9, 3, 4, dtype=mg.float64, requires_grad=True)
    grad = mg.randn(9, 3, dtype=mg.float64)
    fused = pairwise_l1_closeness(rows)
    reference = pairwise_l1_closeness_reference(rows)
    assert isinstance(fused.grad_fn, PairwiseL1Closeness)
    np.testing.assert_allclose(fused.numpy(), reference.numpy(), rtol=1e-13)
    (fused_grad,) = mg.autograd.grad(fused, rows, grad)
    (reference_grad,) = mg.autograd.grad(reference, rows, grad)
    np.testing.assert_allclose(fused_grad.numpy(), reference_grad.numpy(), atol=1e-13)


def test_gradients_match_finite_differences_first_and_second_order():
    mg.manual_seed(4)
    # Spread-out rows keep every |M_i - M_j| away from 0, where |.| has its kink.
    rows = (mg.randn(5, 2, 3, dtype=mg.float64) * 2).requires_grad_()
    assert mg.gradcheck(pairwise_l1_closeness, (rows,))
    assert mg.gradgradcheck(pairwise_l1_closeness, (rows,))


def test_second_order_through_a_gradient_penalty_matches_the_reference():
    mg.manual_seed(5)
    rows = mg.randn(6, 2, 3, dtype=mg.float64, requires_grad=True)
    weights = mg.randn(6, 2, dtype=mg.float64)
    penalties = []
    for closeness in (pairwise_l1_closeness, pairwise_l1_closeness_reference):
        (gradient,) = mg.autograd.grad((closeness(rows) * weights).sum(), rows, create_graph=True)
        (second,) = mg.autograd.grad((gradient * gradient).sum(), rows)
        penalties.append(second.numpy())
    np.testing.assert_allclose(penalties[0], penalties[1], atol=1e-12)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"rows must have shape \(N, B, C\)"):
        pairwise_l1_closeness(mg.randn(4, 6))
    with pytest.raises(TypeError, match="rows must be float32 or float64"):
        closeness_kernel(np.zeros((3, 2, 2), dtype=np.int64))
    rows = np.zeros((3, 2, 2), dtype=np.float32)
    _, similarity = closeness_kernel(rows)
    with pytest.raises(ValueError, match=r"grad must have shape \(3, 2\)"):
        closeness_backward_kernel(np.zeros((2, 3), np.float32), rows, similarity)
    with pytest.raises(TypeError, match="grad and rows must have the same dtype"):
        closeness_backward_kernel(np.zeros((3, 2)), rows, similarity)
