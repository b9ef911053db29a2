"""gan.losses: the value function and the players' losses against hand computation."""

import math

import numpy as np
import pytest

import minigrad as mg
from gan.losses import (
    critic_loss,
    discriminator_loss,
    generator_loss_nonsaturating,
    generator_loss_saturating,
    generator_loss_wasserstein,
    gradient_penalty,
    interpolate_between,
    minimax_value,
    wasserstein_value,
)
from minigrad import nn

REAL = np.array([2.0, -1.0, 0.5])
FAKE = np.array([-3.0, 0.25])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _t(values, requires_grad=False):
    return mg.tensor(
        np.asarray(values).reshape(-1, 1), dtype=mg.float64, requires_grad=requires_grad
    )


def test_minimax_value_is_the_lecture_formula():
    expected = np.mean(np.log(_sigmoid(REAL))) + np.mean(np.log(1 - _sigmoid(FAKE)))
    assert minimax_value(_t(REAL), _t(FAKE)).item() == pytest.approx(expected, rel=1e-12)
    assert discriminator_loss(_t(REAL), _t(FAKE)).item() == pytest.approx(-expected, rel=1e-12)


def test_value_at_equilibrium_is_minus_log_4():
    # D = 1/2 everywhere (logit 0): V = log 1/2 + log 1/2.
    assert minimax_value(_t([0.0] * 4), _t([0.0] * 4)).item() == pytest.approx(-math.log(4))


def test_value_stays_finite_for_confident_discriminators():
    value = minimax_value(_t([200.0]), _t([-200.0])).item()
    assert value == pytest.approx(0.0, abs=1e-12)


def test_generator_losses_and_their_gradients():
    logits = _t(FAKE, requires_grad=True)
    saturating = generator_loss_saturating(logits)
    assert saturating.item() == pytest.approx(np.mean(np.log(1 - _sigmoid(FAKE))), rel=1e-12)
    saturating.backward()
    # d/dl log(1 - sigmoid(l)) = -sigmoid(l): vanishes where D rejects the fake (l << 0).
    np.testing.assert_allclose(logits.grad.numpy().ravel(), -_sigmoid(FAKE) / len(FAKE))

    logits = _t(FAKE, requires_grad=True)
    nonsaturating = generator_loss_nonsaturating(logits)
    assert nonsaturating.item() == pytest.approx(-np.mean(np.log(_sigmoid(FAKE))), rel=1e-12)
    nonsaturating.backward()
    # d/dl -log sigmoid(l) = sigmoid(l) - 1: close to -1 where D rejects the fake.
    np.testing.assert_allclose(logits.grad.numpy().ravel(), (_sigmoid(FAKE) - 1) / len(FAKE))


def test_wasserstein_pieces():
    assert wasserstein_value(_t(REAL), _t(FAKE)).item() == pytest.approx(REAL.mean() - FAKE.mean())
    assert critic_loss(_t(REAL), _t(FAKE)).item() == pytest.approx(FAKE.mean() - REAL.mean())
    assert generator_loss_wasserstein(_t(FAKE)).item() == pytest.approx(-FAKE.mean())


def test_logits_shape_is_checked():
    with pytest.raises(ValueError, match=r"d_fake_logits must have shape \(N,\) or \(N, 1\)"):
        minimax_value(_t(REAL), mg.zeros(2, 3))


def test_interpolation_uses_one_epsilon_per_example():
    real, fake = mg.ones(2, 3, dtype=mg.float64), mg.zeros(2, 3, dtype=mg.float64)
    points = interpolate_between(real, fake, mg.tensor([0.25, 1.0], dtype=mg.float64))
    np.testing.assert_allclose(points.numpy(), [[0.25] * 3, [1.0] * 3])
    with pytest.raises(ValueError, match="same shape"):
        interpolate_between(real, mg.zeros(3, 3))


def test_gradient_penalty_of_a_linear_critic_is_hand_computable():
    critic = nn.Linear(3, 1).double()
    with mg.no_grad():
        critic.weight.copy_(mg.tensor([[3.0, 0.0, 4.0]], dtype=mg.float64))
    real, fake = mg.randn(5, 3, dtype=mg.float64), mg.randn(5, 3, dtype=mg.float64)
    # grad_x (w.x + b) = w everywhere, ||w|| = 5, so GP = (5 - 1)^2.
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(16.0, rel=1e-9)


def test_gradient_penalty_parameter_gradient_matches_finite_differences():
    mg.manual_seed(3)
    critic = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    real, fake = mg.randn(6, 2, dtype=mg.float64), mg.randn(6, 2, dtype=mg.float64)
    epsilon = mg.rand(6, dtype=mg.float64)
    weight = critic[0].weight

    def penalty():
        return gradient_penalty(critic, real, fake, epsilon)

    penalty().backward()  # d GP / d weight: a second-order gradient through create_graph
    analytic = weight.grad.numpy().copy()
    numeric = np.zeros_like(analytic)
    step = 1e-6
    for index in np.ndindex(*analytic.shape):
        original = weight.data[index].item()
        weight.data[index] = original + step  # through .data: no graph, no version bump
        up = penalty().item()
        weight.data[index] = original - step
        down = penalty().item()
        weight.data[index] = original
        numeric[index] = (up - down) / (2 * step)
    assert np.abs(analytic).max() > 1e-3  # the check is not vacuous
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)
