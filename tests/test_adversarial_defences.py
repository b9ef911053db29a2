"""Defences: the adversarial-training losses, the early stop, mixup, the input-gradient
penalty against finite differences, and a small real adversarial-training run."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from adversarial_helpers import accuracy_of, fashion_subset, held_out_images, trained_cnn

import minigrad as mg
import minigrad.nn.functional as F
from adversarial.attacks import fgsm, pgd
from adversarial.defences import (
    CatastrophicOverfittingGuard,
    goodfellow_loss,
    input_gradient_loss,
    input_gradient_penalty,
    mixup_batch,
    mixup_loss,
    pgd_training_loss,
)
from adversarial.defences.adversarial_training import fgsm_rs_example
from adversarial.models import wong
from minigrad import nn
from minigrad.data import DataLoader, TensorDataset
from minigrad.models import fit

BOX = {"clip_min": 0.0, "clip_max": 1.0}


def test_goodfellow_loss_mixes_clean_and_fgsm_losses() -> None:
    model = trained_cnn()
    x, y = held_out_images(32)
    loss = goodfellow_loss(model, x, y, eps=0.1, alpha=0.3)
    x_adv = fgsm(model, x, y, eps=0.1, **BOX)
    expected = (
        0.3 * F.cross_entropy(model(x), y).item() + 0.7 * F.cross_entropy(model(x_adv), y).item()
    )
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert loss.requires_grad  # the weights are trained through both terms
    with pytest.raises(ValueError, match="alpha"):
        goodfellow_loss(model, x, y, eps=0.1, alpha=1.5)


def test_fgsm_rs_example_stays_in_the_ball_although_its_step_is_larger() -> None:
    model = trained_cnn()
    x, y = held_out_images(64)
    mg.manual_seed(0)
    x_adv = fgsm_rs_example(model, x, y, eps=0.1)  # α = 0.125 > ε
    delta = np.abs((x_adv - x).numpy())
    assert delta.max() <= 0.1 + 1e-6
    assert float(x_adv.min().item()) >= 0 and float(x_adv.max().item()) <= 1
    # It is an attack: the loss is higher than at random points of the same ball.
    mg.manual_seed(0)
    random_point = (x + (mg.rand_like(x) * 2 - 1) * 0.1).clamp(0, 1)
    with mg.no_grad():
        assert (
            F.cross_entropy(model(x_adv), y).item() > F.cross_entropy(model(random_point), y).item()
        )


def test_pgd_training_loss_is_the_loss_at_a_pgd_point() -> None:
    model = trained_cnn()
    x, y = held_out_images(32)
    mg.manual_seed(5)
    loss = pgd_training_loss(model, x, y, eps=0.1, steps=5)
    mg.manual_seed(5)
    x_adv = pgd(model, x, y, eps=0.1, step_size=0.05, steps=5, **BOX)
    assert loss.item() == pytest.approx(F.cross_entropy(model(x_adv), y).item(), rel=1e-5)
    assert loss.item() > F.cross_entropy(model(x), y).item()


def test_catastrophic_overfitting_guard_stops_on_a_collapse_and_names_the_best_epoch() -> None:
    x, y = held_out_images(8)
    guard = CatastrophicOverfittingGuard(x, y, eps=0.1, drop=0.2)
    measured = iter([0.30, 0.45, 0.40, 0.05])
    guard.pgd_accuracy = lambda model: next(measured)  # stands in for a model's PGD accuracy
    decisions = [guard.should_stop(None) for _ in range(4)]
    assert decisions == [False, False, False, True]
    assert guard.best_epoch == 2
    # On a real model the measurement is PGD accuracy on the held-out batch.
    real = CatastrophicOverfittingGuard(*held_out_images(100), eps=0.1, steps=5)
    assert real.pgd_accuracy(trained_cnn()) < accuracy_of(trained_cnn(), *held_out_images(100))


def test_mixup_blends_inputs_and_one_hot_labels_with_one_lambda() -> None:
    x = mg.rand(16, 1, 4, 4)
    y = mg.tensor(np.arange(16) % 3)
    mg.manual_seed(7)
    x_mixed, y_mixed, lam = mixup_batch(x, y, alpha=0.4, num_classes=3)
    assert 0 <= lam <= 1
    one_hot = np.eye(3, dtype=np.float32)[y.numpy()]
    # Recover the partner of each example from the labels' blend and check x's blend.
    partner = [
        next(
            j
            for j in range(16)
            if np.allclose(y_mixed.numpy()[i], lam * one_hot[i] + (1 - lam) * one_hot[j])
            and np.allclose(
                x_mixed.numpy()[i], lam * x.numpy()[i] + (1 - lam) * x.numpy()[j], atol=1e-6
            )
        )
        for i in range(16)
    ]
    assert sorted(partner) == list(range(16))  # a permutation
    np.testing.assert_allclose(y_mixed.numpy().sum(axis=1), 1.0, atol=1e-6)
    mg.manual_seed(7)
    again = mixup_batch(x, y, alpha=0.4, num_classes=3)
    np.testing.assert_array_equal(again[0].numpy(), x_mixed.numpy())


def test_mixup_loss_is_soft_label_cross_entropy() -> None:
    model = trained_cnn()
    x, y = held_out_images(16)
    mg.manual_seed(1)
    loss = mixup_loss(model, x, y, alpha=1.0)
    mg.manual_seed(1)
    x_mixed, y_mixed, _ = mixup_batch(x, y, alpha=1.0, num_classes=10)
    expected = -(y_mixed.numpy() * mg.log_softmax(model(x_mixed), dim=1).numpy()).sum(1).mean()
    assert loss.item() == pytest.approx(float(expected), rel=1e-5)


def _smooth_mlp() -> nn.Module:
    """A float64 MLP with tanh (non-zero second derivatives everywhere)."""
    mg.manual_seed(0)
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(12, 6, dtype=mg.float64),
        nn.Tanh(),
        nn.Linear(6, 3, dtype=mg.float64),
    )


def test_input_gradient_penalty_matches_finite_differences() -> None:
    model = _smooth_mlp()
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(5, 1, 3, 4)))
    y = mg.tensor(rng.integers(0, 3, size=5))
    penalty = input_gradient_penalty(model, x, y).item()
    # ∇x ℓ_n by central differences, one input coordinate at a time.
    h = 1e-6
    flat = x.numpy().reshape(5, -1)
    grads = np.zeros_like(flat)
    for k in range(flat.shape[1]):
        up, down = flat.copy(), flat.copy()
        up[:, k] += h
        down[:, k] -= h
        loss_up = F.cross_entropy(model(mg.tensor(up.reshape(x.shape))), y, reduction="none")
        loss_down = F.cross_entropy(model(mg.tensor(down.reshape(x.shape))), y, reduction="none")
        grads[:, k] = (loss_up.numpy() - loss_down.numpy()) / (2 * h)
    assert penalty == pytest.approx(float((grads**2).sum(axis=1).mean()), rel=1e-6)


def test_input_gradient_penalty_gradient_in_the_weights_matches_finite_differences() -> None:
    # The training signal of double backpropagation: ∂R/∂θ through mg.grad(create_graph=True).
    model = _smooth_mlp()
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.normal(size=(4, 1, 3, 4)))
    y = mg.tensor(rng.integers(0, 3, size=4))
    first = model[1]

    def penalty_of(weight: mg.Tensor) -> mg.Tensor:
        """R as a function of the first layer's weight (the model written out by hand)."""
        x_var = x.detach().requires_grad_(True)
        hidden = (x_var.reshape(4, 12) @ weight.T + first.bias.detach()).tanh()
        losses = F.cross_entropy(model[3](hidden), y, reduction="none")
        (grad,) = mg.grad(losses.sum(), x_var, create_graph=True)
        return (grad * grad).sum() / 4

    weight = first.weight.detach().clone().requires_grad_(True)
    assert mg.gradcheck(penalty_of, [weight])
    # ... and the library's penalty is this same function of the weights.
    assert penalty_of(weight).item() == pytest.approx(input_gradient_penalty(model, x, y).item())


def test_input_gradient_loss_adds_the_weighted_penalty() -> None:
    model = _smooth_mlp()
    x = mg.tensor(np.random.default_rng(2).normal(size=(6, 1, 3, 4)))
    y = mg.tensor(np.arange(6) % 3)
    plain = F.cross_entropy(model(x), y).item()
    penalty = input_gradient_penalty(model, x, y).item()
    assert input_gradient_loss(model, x, y, weight=2.5).item() == pytest.approx(
        plain + 2.5 * penalty
    )
    with pytest.raises(ValueError, match="weight"):
        input_gradient_loss(model, x, y, weight=-1.0)


def test_adversarial_training_raises_adversarial_accuracy_on_a_small_real_run() -> None:
    # Same data, architecture, seed and budget as the helper's undefended model; only the
    # loss differs: Goodfellow et al.'s 0.5 · J(x) + 0.5 · J(FGSM(x)).
    mg.manual_seed(0)
    x, y = fashion_subset("train", 0, 6000)
    model = wong()
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=0)
    loss = functools.partial(goodfellow_loss, eps=0.1)
    fit(
        model,
        loader,
        mg.optim.Adam(model.parameters(), lr=2e-3),
        epochs=2,
        batch_loss=loss,
        progress=False,
    )
    model.eval()
    undefended = trained_cnn()
    x_test, y_test = held_out_images(300)

    def pgd_accuracy(net: nn.Module) -> float:
        mg.manual_seed(0)
        x_adv = pgd(net, x_test, y_test, eps=0.1, step_size=0.01, steps=20, **BOX)
        return accuracy_of(net, x_adv, y_test)

    # Measured: 0.17 undefended, 0.58 adversarially trained; clean 0.81 and 0.79.
    assert pgd_accuracy(undefended) < 0.25
    assert pgd_accuracy(model) > pgd_accuracy(undefended) + 0.3
    assert accuracy_of(model, x_test, y_test) > accuracy_of(undefended, x_test, y_test) - 0.1
