"""Small checks of the attacks' formulas: JSMA's pair saliency, C&W's margin loss and
median distance, and the direction of the Jacobian-augmentation step."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from adversarial.attacks.carlini_wagner import margin_loss
from adversarial.attacks.jsma import pair_saliency
from adversarial.blackbox import jacobian_augmentation
from adversarial.report import ReportOptions, _l2_section


def _linear_model(weight: np.ndarray) -> nn.Module:
    """logits = W · flatten(x), no bias: its Jacobian is W itself."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(weight.shape[1], weight.shape[0], bias=False))
    with mg.no_grad():
        model[1].weight.copy_(weight.astype(np.float32))
    return model


def test_pair_saliency_matches_a_brute_force_loop_over_pairs():
    rng = np.random.default_rng(0)
    jacobian = rng.standard_normal((4, 7))  # 4 classes, 7 features
    target = 2
    target_grad = jacobian[target]
    other_grad = jacobian.sum(axis=0) - jacobian[target]
    expected = np.zeros((7, 7))
    for p, q in itertools.permutations(range(7), 2):
        alpha = target_grad[p] + target_grad[q]
        beta = other_grad[p] + other_grad[q]
        if alpha > 0 and beta < 0:
            expected[p, q] = alpha * abs(beta)
    saliency = pair_saliency(target_grad, other_grad)
    np.testing.assert_allclose(saliency, expected)
    assert np.count_nonzero(expected) > 0  # the example exercises the condition
    best = np.unravel_index(np.argmax(saliency), saliency.shape)
    assert expected[best] == expected.max()


def test_margin_loss_by_hand_and_its_gradient():
    logits = mg.tensor([[1.0, 3.0, 2.0], [1.0, 3.0, 2.0]], requires_grad=True)
    labels = mg.tensor([1, 0])
    untargeted = margin_loss(logits, labels, confidence=0.0, targeted=False)
    # label 1: Z_y - max other = 3 - 2 = 1; label 0: 1 - 3 = -2 -> 0 (already fooled)
    np.testing.assert_allclose(untargeted.numpy(), [1.0, 0.0])
    with_kappa = margin_loss(logits, labels, confidence=3.0, targeted=False)
    np.testing.assert_allclose(with_kappa.numpy(), [4.0, 1.0])
    targeted = margin_loss(logits, labels, confidence=0.0, targeted=True)
    # target 1 already wins: max other - Z_t = 2 - 3 < 0 -> 0; target 0: 3 - 1 = 2
    np.testing.assert_allclose(targeted.numpy(), [0.0, 2.0])
    untargeted.sum().backward()
    np.testing.assert_allclose(logits.grad.numpy(), [[0.0, 1.0, -1.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("output", ["logits", "probabilities"])
def test_jacobian_augmentation_steps_along_the_sign_of_the_label_s_gradient(output):
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((3, 4))
    model = _linear_model(weight)
    x = mg.tensor(rng.uniform(0.3, 0.7, (5, 1, 2, 2)).astype(np.float32))
    labels = mg.tensor(rng.integers(0, 3, 5))
    lam = 0.05
    stepped = jacobian_augmentation(model, x, labels, lam, output=output)

    def score(points: np.ndarray) -> np.ndarray:
        """F_label per example, in float64 from the exact weights."""
        logits = points.reshape(len(points), -1) @ weight.T
        if output == "probabilities":
            logits = np.exp(logits - logits.max(1, keepdims=True))
            logits /= logits.sum(1, keepdims=True)
        return logits[np.arange(len(points)), labels.numpy()]

    base = x.numpy().astype(np.float64)
    gradient = np.zeros_like(base)
    for index in np.ndindex(*base.shape[1:]):  # central differences, one pixel at a time
        nudge = np.zeros_like(base)
        nudge[(slice(None), *index)] = 1e-6
        gradient[(slice(None), *index)] = (score(base + nudge) - score(base - nudge)) / 2e-6
    np.testing.assert_allclose(stepped.numpy() - x.numpy(), lam * np.sign(gradient), atol=1e-6)
    assert np.all(score(stepped.numpy().astype(np.float64)) > score(base))


def test_jacobian_augmentation_rejects_an_unknown_output():
    model = _linear_model(np.ones((2, 4)))
    with pytest.raises(ValueError, match="output must be one of"):
        jacobian_augmentation(model, mg.zeros(1, 1, 2, 2), mg.tensor([0]), 0.1, output="softmax")


def test_cw_median_l2_counts_only_images_that_were_classified_correctly():
    # A linear two-class model: the smallest L2 step that flips x is |z_0 - z_1| / ‖w_0 - w_1‖.
    rng = np.random.default_rng(2)
    weight = np.array([[1.0, -1.0, 0.5, 0.0], [-1.0, 1.0, -0.5, 0.0]])
    model = _linear_model(weight)
    x = mg.tensor(rng.uniform(0.2, 0.8, (12, 1, 2, 2)).astype(np.float32))
    logits = x.numpy().reshape(12, -1) @ weight.T
    truth = logits.argmax(1)
    truth[:7] = 1 - truth[:7]  # 7 of 12 labels disagree with the model: misclassified
    y = mg.tensor(truth)
    options = ReportOptions(l2_grid=(0.0, 1.0), l2_examples=12, pgd_steps=5, batch_size=12)
    section = _l2_section(model, x, y, options)
    correct = logits.argmax(1) == truth
    minimal = np.abs(logits[:, 0] - logits[:, 1]) / np.linalg.norm(weight[0] - weight[1])
    expected = np.median(minimal[correct])
    # C&W lands a little past the boundary; the misclassified ones (distance ~0) must not
    # count, or the median would fall near 0.
    assert expected <= section["cw_median_l2"] <= 1.25 * expected
