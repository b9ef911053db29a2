"""Freezing D changes what takes a gradient, not the gradient G receives through D."""

import numpy as np
import pytest

import minigrad as mg
from gan.learning_round import frozen
from gan.losses import generator_loss_nonsaturating, generator_loss_saturating
from gan.models.mlp import MLPDiscriminator, MLPGenerator


@pytest.mark.parametrize("loss", [generator_loss_nonsaturating, generator_loss_saturating])
def test_generator_gradient_through_frozen_d_equals_gradient_through_unfrozen_d(loss):
    mg.manual_seed(0)
    generator = MLPGenerator(4, 2, width=16, depth=2).double()
    discriminator = MLPDiscriminator(2, width=16, depth=2).double()
    z = mg.randn(32, 4, dtype=mg.float64)

    loss(discriminator(generator(z))).backward()
    through_unfrozen = [p.grad.numpy().copy() for p in generator.parameters()]
    assert all(p.grad is not None for p in discriminator.parameters())

    generator.zero_grad()
    discriminator.zero_grad()
    with frozen(discriminator):
        loss(discriminator(generator(z))).backward()
    through_frozen = [p.grad.numpy() for p in generator.parameters()]
    assert all(p.grad is None or not p.grad.numpy().any() for p in discriminator.parameters())
    assert any(np.abs(g).max() > 0 for g in through_frozen)
    for a, b in zip(through_frozen, through_unfrozen, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
