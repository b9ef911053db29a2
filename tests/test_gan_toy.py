"""Small but real GAN runs on the toy problems, with assertions on what the lecture predicts."""

import numpy as np
import pytest

import minigrad as mg
from gan.build import build_models, build_optimizers, noise_sampler, real_batches, toy_target
from gan.learning_round import learning_round
from gan.mode_collapse import mode_coverage
from gan.options import TrainOptions, resolve
from gan.snapshots import generate
from gan.toy_data import Gaussian1D, mapping_gap
from gan.trainer import set_learning_rates


def _train(options: TrainOptions):
    """The trainer's loop without its run folder; returns G and every round's report."""
    options = resolve(options)
    mg.manual_seed(options.seed)
    generator, discriminator = build_models(options)
    g_optimizer, d_optimizer = build_optimizers(options, generator, discriminator)
    next_real, sample_z = real_batches(options), noise_sampler(options)
    reports = []
    for step in range(options.steps):
        set_learning_rates(options, step, g_optimizer, d_optimizer)
        reports.append(
            learning_round(
                generator,
                discriminator,
                d_optimizer,
                g_optimizer,
                next_real,
                sample_z,
                k=options.d_steps,
                loss=options.loss,
            )
        )
    return generator, sample_z, reports


@pytest.fixture(scope="module")
def gaussian_run():
    return _train(TrainOptions(data="gaussian-1d", seed=0))  # k = 5, 1000 rounds


def test_gaussian_1d_learns_mean_and_std(gaussian_run):
    generator, sample_z, _ = gaussian_run
    target = Gaussian1D()
    z = sample_z(5000)
    values = generate(generator, z).ravel()
    assert abs(values.mean() - target.mean) < 0.1
    assert abs(values.std() - target.std) < 0.1
    # The learned map from U(0, 1) is close to the inverse CDF (or its mirror image).
    assert mapping_gap(values, z.numpy(), target) < 0.15


def test_discriminator_is_fooled_at_equilibrium(gaussian_run):
    # The lecture's saddle point: D can no longer tell, D(x) = D(G(z)) = 1/2, V = -log 4.
    _, _, reports = gaussian_run
    late = reports[-200:]
    assert abs(np.mean([r.d_real for r in late]) - 0.5) < 0.05
    assert abs(np.mean([r.d_fake for r in late]) - 0.5) < 0.05
    assert abs(np.mean([r.value for r in late]) + np.log(4)) < 0.05
    early = reports[:50]  # before that, D did tell them apart
    assert max(abs(r.d_real - r.d_fake) for r in early) > 0.1


def test_remedy_covers_more_ring_modes_than_baseline():
    # The textbook GAN (k = 1, constant learning rate) collapses on the ring of 8; the
    # same GAN with the minibatch-stddev layer in D spreads over more modes.
    small = dict(data="ring", steps=1500, batch_size=128, seed=0, d_steps=1, lr_decay="constant")
    coverage = {}
    for remedy in ("none", "minibatch-stddev"):
        generator, sample_z, _ = _train(TrainOptions(remedy=remedy, **small))
        mg.manual_seed(1)
        coverage[remedy] = mode_coverage(generate(generator, sample_z(2500)), toy_target("ring"))
    assert coverage["none"].modes_covered <= 2  # collapsed
    assert coverage["minibatch-stddev"].modes_covered > coverage["none"].modes_covered
    assert coverage["minibatch-stddev"].reverse_kl < coverage["none"].reverse_kl
