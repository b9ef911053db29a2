"""Attacks: budgets, box, the FGSM/PGD relation, linear-model optimality, monotonicity,
targets, C&W's minimality, the lecture's claim, and argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from adversarial_helpers import accuracy_of, held_out_images, trained_cnn

import minigrad as mg
import minigrad.nn.functional as F
from adversarial.attacks import (
    bim,
    carlini_wagner_l2,
    fgsm,
    iterative_ll,
    jsma,
    paste_patch,
    patch_success_rate,
    pgd,
    step_ll,
    train_patch,
)
from adversarial.attacks.objective import least_likely_labels
from adversarial.report import random_sign_noise
from minigrad import nn

BOX = {"clip_min": 0.0, "clip_max": 1.0}
SLACK = 1e-6  # float32 rounding of x + eps - x


def _norms(x_adv: mg.Tensor, x: mg.Tensor) -> tuple[np.ndarray, np.ndarray]:
    delta = (x_adv - x).numpy().reshape(len(x), -1).astype(np.float64)
    return np.abs(delta).max(axis=1), np.linalg.norm(delta, axis=1)


BOUNDED_ATTACKS = {
    "fgsm-inf": (lambda m, x, y, e: fgsm(m, x, y, eps=e, **BOX), math.inf),
    "fgsm-2": (lambda m, x, y, e: fgsm(m, x, y, eps=10 * e, norm=2, **BOX), 2),
    "bim": (lambda m, x, y, e: bim(m, x, y, eps=e, **BOX), math.inf),
    "pgd-inf": (lambda m, x, y, e: pgd(m, x, y, eps=e, step_size=e / 4, steps=10, **BOX), math.inf),
    "pgd-2": (
        lambda m, x, y, e: pgd(m, x, y, eps=10 * e, step_size=e, steps=10, norm=2, **BOX),
        2,
    ),
    "step_ll": (lambda m, x, y, e: step_ll(m, x, eps=e, **BOX), math.inf),
    "iter_ll": (lambda m, x, y, e: iterative_ll(m, x, eps=e, **BOX), math.inf),
}


@pytest.mark.parametrize("name", sorted(BOUNDED_ATTACKS))
def test_perturbation_stays_in_eps_ball_and_box(name: str) -> None:
    attack, norm = BOUNDED_ATTACKS[name]
    model = trained_cnn()
    x, y = held_out_images(64)
    eps = 0.1
    mg.manual_seed(1)
    x_adv = attack(model, x, y, eps)
    linf, l2 = _norms(x_adv, x)
    budget = eps if norm == math.inf else 10 * eps
    size = linf if norm == math.inf else l2
    assert size.max() <= budget + SLACK
    assert size.max() >= 0.5 * budget  # it did move: not a vacuous pass
    assert float(x_adv.min().item()) >= 0.0 and float(x_adv.max().item()) <= 1.0
    assert not x_adv.requires_grad


@pytest.mark.parametrize("norm", [math.inf, 2])
def test_fgsm_is_one_pgd_step_of_size_eps_without_random_start(norm: float) -> None:
    model = trained_cnn()
    x, y = held_out_images(32)
    eps = 0.1 if norm == math.inf else 1.0
    one_shot = fgsm(model, x, y, eps=eps, norm=norm, **BOX)
    one_step = pgd(
        model, x, y, eps=eps, step_size=eps, steps=1, norm=norm, random_start=False, **BOX
    )
    np.testing.assert_allclose(one_step.numpy(), one_shot.numpy(), rtol=0, atol=1e-6)


def test_linf_fgsm_step_is_the_linear_models_optimal_perturbation() -> None:
    # For logits z = Wx + b the cross-entropy of class y depends on x only through the
    # margins (w_y - w_j)ᵀx. With two classes, the loss-maximising δ in the L∞ ball is
    # δ* = -ε sign(w_y - w_other): FGSM must return exactly x + δ* (no clipping here).
    rng = np.random.default_rng(0)
    layer = nn.Linear(20, 2, dtype=mg.float64)
    x = mg.tensor(rng.normal(size=(16, 20)))
    y = mg.tensor(rng.integers(0, 2, size=16))
    eps = 0.05
    x_adv = fgsm(layer, x, y, eps=eps)
    w = layer.weight.numpy()
    direction = w[y.numpy()] - w[1 - y.numpy()]
    np.testing.assert_allclose((x_adv - x).numpy(), -eps * np.sign(direction), atol=1e-12)

    # ... and no corner of the ball does better (the margin drops by ε‖w_y - w_o‖₁ at most).
    def margins(inputs: np.ndarray) -> np.ndarray:
        """(w_y - w_other)ᵀx: the logit margin up to the constant bias difference."""
        return np.sum(direction * inputs, axis=1)

    best = margins(x_adv.numpy())
    for _ in range(200):
        corner = x.numpy() + eps * rng.choice([-1.0, 1.0], size=(16, 20))
        assert np.all(margins(corner) >= best - 1e-12)
    np.testing.assert_allclose(best, margins(x.numpy()) - eps * np.abs(direction).sum(axis=1))


@pytest.mark.parametrize("name", ["fgsm", "pgd"])
def test_success_rate_is_non_decreasing_in_eps(name: str) -> None:
    model = trained_cnn()
    x, y = held_out_images(200)
    grid = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2]
    accuracies = []
    for eps in grid:
        mg.manual_seed(0)
        if name == "fgsm":
            x_adv = fgsm(model, x, y, eps=eps, **BOX)
        else:
            x_adv = pgd(model, x, y, eps=eps, step_size=eps / 4 if eps else 1, steps=10, **BOX)
        accuracies.append(accuracy_of(model, x_adv, y))
    assert all(b <= a + 0.01 for a, b in zip(accuracies, accuracies[1:], strict=False))
    assert accuracies[-1] < accuracies[0] - 0.5


def test_fgsm_raises_the_error_far_more_than_noise_of_the_same_size() -> None:
    # The lecture's claim: x + ε sign(∇x L) is misclassified, though it looks the same.
    model = trained_cnn()
    x, y = held_out_images(500)
    clean = accuracy_of(model, x, y)
    attacked = accuracy_of(model, fgsm(model, x, y, eps=0.1, **BOX), y)
    mg.manual_seed(0)
    noisy = accuracy_of(model, random_sign_noise(x, 0.1), y)
    assert clean > 0.7
    assert attacked < clean - 0.5
    assert noisy > clean - 0.15


def test_targeted_attacks_reach_their_target() -> None:
    model = trained_cnn()
    x, _ = held_out_images(64)
    target = mg.tensor((np.arange(64) % 10).astype(np.int64))
    x_pgd = pgd(model, x, target, eps=0.3, step_size=0.02, steps=40, targeted=True, **BOX)
    x_cw = carlini_wagner_l2(model, x, target, targeted=True, **BOX)
    # γ = 0.2: at most 156 of 784 pixels. Fashion-MNIST garments are bright, so raising
    # pixels (θ = +1) needs a larger budget than Papernot et al.'s 14.5% on MNIST digits.
    x_jsma = jsma(model, x[:16], target[:16], gamma=0.2, **BOX)
    with mg.no_grad():
        assert np.mean(model(x_pgd).argmax(dim=1).numpy() == target.numpy()) >= 0.95
        assert np.mean(model(x_cw).argmax(dim=1).numpy() == target.numpy()) >= 0.95
        assert np.mean(model(x_jsma).argmax(dim=1).numpy() == target.numpy()[:16]) >= 0.7
    changed = np.abs((x_jsma - x[:16]).numpy().reshape(16, -1)) > 0
    assert changed.sum(axis=1).max() <= 156
    # A targeted FGSM step moves the target's loss down (it is one linearised step).
    one_step = fgsm(model, x, target, eps=0.05, targeted=True, **BOX)
    with mg.no_grad():
        before = mg.nn.functional.cross_entropy(model(x), target).item()
        after = mg.nn.functional.cross_entropy(model(one_step), target).item()
    assert after < before


def test_iterative_least_likely_reaches_the_least_likely_class() -> None:
    model = trained_cnn()
    x, _ = held_out_images(64)
    least = least_likely_labels(model, x).numpy()
    x_adv = iterative_ll(model, x, eps=0.3, step_size=0.02, steps=40, **BOX)
    with mg.no_grad():
        assert np.mean(model(x_adv).argmax(dim=1).numpy() == least) >= 0.8  # clean: 0


def test_carlini_wagner_finds_smaller_l2_perturbations_than_pgd_at_equal_success() -> None:
    model = trained_cnn()
    x, y = held_out_images(48)
    correct = model(x).argmax(dim=1).numpy() == y.numpy()
    x, y = x[np.flatnonzero(correct)], y[np.flatnonzero(correct)]
    x_cw = carlini_wagner_l2(model, x, y, **BOX)
    cw_fooled = model(x_cw).argmax(dim=1).numpy() != y.numpy()
    assert cw_fooled.mean() == 1.0
    # Grow PGD-L2's radius until it fools every example too: then success is equal.
    for eps in (1.0, 2.0, 3.0, 4.0, 6.0):
        x_pgd = pgd(model, x, y, eps=eps, step_size=eps / 8, steps=20, norm=2, **BOX)
        if np.all(model(x_pgd).argmax(dim=1).numpy() != y.numpy()):
            break
    else:
        pytest.fail("PGD-L2 did not reach C&W's success rate even at eps 6")
    _, cw_l2 = _norms(x_cw, x)
    _, pgd_l2 = _norms(x_pgd, x)
    assert cw_l2.mean() < 0.6 * pgd_l2.mean()
    assert np.median(cw_l2) < np.median(pgd_l2)


def test_pgd_restarts_keep_the_stronger_point_per_example() -> None:
    model = trained_cnn()
    x, y = held_out_images(200)
    settings = dict(eps=0.03, step_size=0.01, steps=5, **BOX)
    mg.manual_seed(3)
    single = pgd(model, x, y, **settings)
    mg.manual_seed(3)  # the first restart draws the same start as the single run
    several = pgd(model, x, y, restarts=4, **settings)
    with mg.no_grad():
        fooled_single = model(single).argmax(dim=1).numpy() != y.numpy()
        fooled_several = model(several).argmax(dim=1).numpy() != y.numpy()
    assert np.all(fooled_several >= fooled_single)
    # Where success is the same, the kept point has at least the single run's loss.
    with mg.no_grad():
        loss_single = F.cross_entropy(model(single), y, reduction="none").numpy()
        loss_several = F.cross_entropy(model(several), y, reduction="none").numpy()
    same = fooled_several == fooled_single
    assert np.all(loss_several[same] >= loss_single[same] - 1e-6)
    assert np.any(loss_several[same] > loss_single[same] + 1e-3)
    linf, _ = _norms(several, x)
    assert linf.max() <= 0.03 + SLACK


def test_patch_forces_its_class_on_unseen_images_far_more_than_noise() -> None:
    model = trained_cnn()
    x, y = held_out_images(600)
    mg.manual_seed(0)
    patch = train_patch(model, x[:300], 8, size=14, steps=60, **BOX)
    assert patch.shape == (1, 14, 14)
    assert float(patch.min().item()) >= 0 and float(patch.max().item()) <= 1
    trained_rate = patch_success_rate(model, x[300:], y[300:], patch, 8)
    noise_rate = patch_success_rate(model, x[300:], y[300:], mg.rand(1, 14, 14), 8)
    assert trained_rate > noise_rate + 0.15


def test_paste_patch_replaces_exactly_the_square() -> None:
    x = mg.rand(2, 1, 10, 10)
    patch = mg.full((1, 3, 3), 7.0)
    pasted = paste_patch(x, patch, np.array([[0, 0], [7, 5]])).numpy()
    expected = x.numpy().copy()
    expected[0, :, 0:3, 0:3] = 7.0
    expected[1, :, 7:10, 5:8] = 7.0
    np.testing.assert_array_equal(pasted, expected)
    with pytest.raises(ValueError, match="off the image"):
        paste_patch(x, patch, np.array([[0, 0], [8, 0]]))


# ----------------------------------------------------------------- argument checks
ALL_EPS_ATTACKS = {
    "fgsm": lambda m, x, y, e: fgsm(m, x, y, eps=e, **BOX),
    "bim": lambda m, x, y, e: bim(m, x, y, eps=e, **BOX),
    "pgd": lambda m, x, y, e: pgd(m, x, y, eps=e, step_size=0.01, steps=3, **BOX),
    "step_ll": lambda m, x, y, e: step_ll(m, x, eps=e, **BOX),
    "iter_ll": lambda m, x, y, e: iterative_ll(m, x, eps=e, **BOX),
}


@pytest.mark.parametrize("name", sorted(ALL_EPS_ATTACKS))
def test_eps_zero_returns_x_unchanged_and_negative_eps_is_an_error(name: str) -> None:
    model = trained_cnn()
    x, y = held_out_images(8)
    same = ALL_EPS_ATTACKS[name](model, x, y, 0.0)
    np.testing.assert_array_equal(same.numpy(), x.numpy())
    with pytest.raises(ValueError, match="eps must be a finite number >= 0"):
        ALL_EPS_ATTACKS[name](model, x, y, -0.1)


def test_clear_errors_for_bad_arguments() -> None:
    model = trained_cnn()
    x, y = held_out_images(8)
    with pytest.raises(ValueError, match="clip_min .* must not exceed clip_max"):
        fgsm(model, x, y, eps=0.1, clip_min=1.0, clip_max=0.0)
    with pytest.raises(ValueError, match=r"step_size \(0.2\) must not exceed eps \(0.1\)"):
        pgd(model, x, y, eps=0.1, step_size=0.2, steps=3, **BOX)
    with pytest.raises(ValueError, match="norm must be inf"):
        fgsm(model, x, y, eps=0.1, norm=1)
    with pytest.raises(ValueError, match="targeted attack needs y"):
        fgsm(model, x, eps=0.1, targeted=True)
    with pytest.raises(ValueError, match="above clip_max"):
        fgsm(model, x * 255, y, eps=0.1, **BOX)
    with pytest.raises(ValueError, match="restarts > 1 needs random_start"):
        pgd(model, x, y, eps=0.1, step_size=0.01, steps=2, restarts=2, random_start=False)
    with pytest.raises(ValueError, match=r"y must lie in \[0, 10\)"):
        fgsm(model, x, mg.full((8,), 12, dtype=mg.int64), eps=0.1)


def test_a_model_returning_probabilities_is_rejected() -> None:
    model = trained_cnn()
    softmax_model = lambda inputs: mg.softmax(model(inputs), dim=1)  # noqa: E731
    x, y = held_out_images(8)
    for attack in (
        lambda: fgsm(softmax_model, x, y, eps=0.1),
        lambda: pgd(softmax_model, x, y, eps=0.1, step_size=0.05, steps=2),
        lambda: carlini_wagner_l2(softmax_model, x, y, max_iterations=1),
        lambda: jsma(softmax_model, x),
    ):
        with pytest.raises(ValueError, match="model returned probabilities"):
            attack()
