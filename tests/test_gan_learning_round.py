"""gan.learning_round: the confusion matrix, the frozen discriminator, k D-steps per G-step."""

import numpy as np
import pytest

import minigrad as mg
from gan.learning_round import (
    ConfusionMatrix,
    confusion_matrix,
    discriminator_step,
    frozen,
    generator_step,
    learning_round,
)
from gan.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from minigrad import optim


def _snapshot(module):
    return {name: tensor.numpy().copy() for name, tensor in module.state_dict().items()}


def test_confusion_matrix_counts_the_lectures_four_cases():
    real_logits = mg.tensor([[2.0], [-1.0], [0.5], [3.0]])  # 3 judged real, 1 judged fake
    fake_logits = mg.tensor([[-2.0], [1.0], [-0.1]])  # 1 judged real, 2 judged fake
    counts = confusion_matrix(real_logits, fake_logits)
    assert counts == ConfusionMatrix(tp=3, fn=1, fp=1, tn=2)
    assert counts.accuracy == pytest.approx(5 / 7)
    assert counts + counts == ConfusionMatrix(6, 2, 2, 4)


def test_frozen_restores_flags_and_buffers():
    mg.manual_seed(0)
    discriminator = DCGANDiscriminator(28, width=4)
    before = _snapshot(discriminator)
    with frozen(discriminator):
        assert not any(p.requires_grad for p in discriminator.parameters())
        discriminator(mg.randn(4, 1, 28, 28))  # training mode: BN statistics move...
    assert all(p.requires_grad for p in discriminator.parameters())
    after = _snapshot(discriminator)
    for name in before:  # ...and are put back
        assert np.array_equal(before[name], after[name]), name


@pytest.mark.parametrize("loss", ["nonsaturating", "minimax", "wgan-gp"])
def test_generator_step_leaves_discriminator_bit_identical(loss):
    mg.manual_seed(1)
    generator = DCGANGenerator(z_dim=8, image_size=28, width=4)
    discriminator = DCGANDiscriminator(28, width=4, batch_norm=loss != "wgan-gp")
    g_optimizer = optim.Adam(generator.parameters(), lr=1e-2)
    d_before = _snapshot(discriminator)
    g_before = _snapshot(generator)
    generator_step(generator, discriminator, g_optimizer, mg.randn(6, 8), loss)
    for name, value in _snapshot(discriminator).items():
        assert np.array_equal(value, d_before[name]), name
    assert all(p.grad is None for p in discriminator.parameters())
    # The gradient did flow through D into G: G's weights moved.
    assert any(not np.array_equal(v, g_before[k]) for k, v in _snapshot(generator).items())
    assert all(p.grad is not None for p in generator.parameters())


def test_discriminator_step_does_not_train_the_generator():
    mg.manual_seed(2)
    generator, discriminator = MLPGenerator(2, 2, width=8), MLPDiscriminator(2, width=8)
    d_optimizer = optim.Adam(discriminator.parameters(), lr=1e-2)
    g_before = _snapshot(generator)
    d_before = _snapshot(discriminator)
    loss, real_logits, fake_logits = discriminator_step(
        generator, discriminator, d_optimizer, mg.randn(5, 2), mg.randn(5, 2)
    )
    assert real_logits.shape == (5, 1) and fake_logits.shape == (5, 1)
    assert not real_logits.requires_grad
    assert np.isfinite(loss)
    assert all(np.array_equal(v, g_before[k]) for k, v in _snapshot(generator).items())
    assert all(p.grad is None for p in generator.parameters())
    assert any(not np.array_equal(v, d_before[k]) for k, v in _snapshot(discriminator).items())


def test_learning_round_runs_k_discriminator_steps_per_generator_step():
    mg.manual_seed(3)
    generator, discriminator = MLPGenerator(2, 2, width=8), MLPDiscriminator(2, width=8)
    g_optimizer = optim.Adam(generator.parameters(), lr=1e-3)
    d_optimizer = optim.Adam(discriminator.parameters(), lr=1e-3)
    real_batches = []

    def next_real():
        real_batches.append(mg.randn(10, 2) + 3.0)
        return real_batches[-1]

    report = learning_round(
        generator,
        discriminator,
        d_optimizer,
        g_optimizer,
        next_real,
        lambda n: mg.randn(n, 2),
        k=3,
    )
    assert len(real_batches) == 3
    d_steps = {int(s["step"]) for s in d_optimizer.state_dict()["state"].values()}
    g_steps = {int(s["step"]) for s in g_optimizer.state_dict()["state"].values()}
    assert d_steps == {3} and g_steps == {1}
    counts = report.confusion
    assert counts.tp + counts.fn == 30 and counts.fp + counts.tn == 30
    assert 0 < report.d_real < 1 and 0 < report.d_fake < 1
    assert report.value == pytest.approx(-report.d_loss)  # no penalty: L_D = -V
    record = report.as_dict()
    assert set(record) == {"value", "d_loss", "g_loss", "d_real", "d_fake", "tp", "fn", "fp", "tn"}


def test_learning_round_checks_k_and_loss():
    generator, discriminator = MLPGenerator(2, 2, width=4), MLPDiscriminator(2, width=4)
    adam = optim.Adam(generator.parameters())
    with pytest.raises(ValueError, match="k .D-steps per G-step. must be a positive int"):
        learning_round(generator, discriminator, adam, adam, lambda: None, None, k=0)
    with pytest.raises(ValueError, match="loss must be one of"):
        generator_step(generator, discriminator, adam, mg.randn(2, 2), loss="hinge")
