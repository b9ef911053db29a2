"""gan.remedies and gan.models: batch-diversity layers on known batches, model shapes, init."""

import numpy as np
import pytest

import minigrad as mg
from gan.models import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    dcgan_init_,
)
from gan.remedies import REMEDIES, MinibatchDiscrimination, MinibatchStdDev, diversity_layer
from minigrad import nn


def test_minibatch_discrimination_counts_near_twins():
    mg.manual_seed(0)
    layer = MinibatchDiscrimination(3, num_kernels=4, kernel_dim=2).double()
    collapsed = mg.ones(5, 3, dtype=mg.float64)
    out = layer(collapsed).numpy()
    assert out.shape == (5, 3 + 4)
    np.testing.assert_allclose(out[:, :3], 1.0)
    # Every example has 4 exact twins: o_b = sum_{j != i} exp(0) = 4.
    np.testing.assert_allclose(out[:, 3:], 4.0)
    spread = mg.tensor(np.arange(15.0).reshape(5, 3) * 10, dtype=mg.float64)
    assert layer(spread).numpy()[:, 3:].max() < 1.0  # far apart: little closeness


def test_minibatch_discrimination_matches_a_loop_and_has_gradients():
    mg.manual_seed(1)
    layer = MinibatchDiscrimination(3, num_kernels=2, kernel_dim=2).double()
    x = mg.randn(4, 3, dtype=mg.float64)
    rows = (x.numpy() @ layer.T.numpy()).reshape(4, 2, 2)
    expected = np.zeros((4, 2))
    for i in range(4):
        for j in range(4):
            if i != j:
                expected[i] += np.exp(-np.abs(rows[i] - rows[j]).sum(axis=1))
    np.testing.assert_allclose(layer(x).numpy()[:, 3:], expected, rtol=1e-12)
    assert mg.gradcheck(lambda t: layer(t), (x.requires_grad_(),))


def test_minibatch_stddev_statistic():
    layer = MinibatchStdDev(group_size=2)
    x = mg.tensor([[0.0, 0.0], [10.0, 10.0], [2.0, 4.0], [10.0, 10.0]], dtype=mg.float64)
    out = layer(x).numpy()
    # Groups are {0, 2} and {1, 3} (example n -> group n mod 2).
    group0 = np.mean(np.sqrt(np.var([[0, 0], [2, 4]], axis=0) + 1e-8))
    group1 = np.sqrt(1e-8)  # identical examples: a collapsed group
    np.testing.assert_allclose(out[:, 2], [group0, group1, group0, group1], rtol=1e-12)
    np.testing.assert_allclose(out[:, :2], x.numpy())


def test_minibatch_stddev_on_images_and_gradients():
    mg.manual_seed(2)
    x = mg.randn(4, 2, 3, 3, dtype=mg.float64, requires_grad=True)
    out = MinibatchStdDev(group_size=4)(x)
    assert out.shape == (4, 3, 3, 3)
    expected = np.mean(np.sqrt(np.var(x.numpy(), axis=0) + 1e-8))
    np.testing.assert_allclose(out.numpy()[:, 2], expected, rtol=1e-12)
    assert mg.gradcheck(lambda t: MinibatchStdDev(2)(t), (x,))
    with pytest.raises(ValueError, match="not divisible by group_size 4"):
        MinibatchStdDev(4)(mg.randn(6, 3))


def test_diversity_layer_sizes():
    assert diversity_layer("none", (8, 7, 7)) == (None, 392)
    layer, size = diversity_layer("minibatch-stddev", (8, 7, 7))
    assert isinstance(layer, MinibatchStdDev) and size == 392 + 49
    layer, size = diversity_layer("minibatch-discrimination", (16,))
    assert isinstance(layer, MinibatchDiscrimination) and size == 16 + layer.num_kernels
    with pytest.raises(ValueError, match="remedy must be one of"):
        diversity_layer("dropout", (3,))


@pytest.mark.parametrize("image_size", [28, 32])
@pytest.mark.parametrize("remedy", REMEDIES)
def test_dcgan_shapes(image_size, remedy):
    mg.manual_seed(0)
    generator = DCGANGenerator(z_dim=5, image_size=image_size, width=4)
    discriminator = DCGANDiscriminator(image_size, width=4, remedy=remedy)
    images = generator(mg.randn(4, 5))
    assert images.shape == (4, 1, image_size, image_size)
    assert images.numpy().min() >= -1 and images.numpy().max() <= 1
    assert discriminator(images).shape == (4, 1)


def test_dcgan_init_statistics():
    mg.manual_seed(0)
    generator = dcgan_init_(DCGANGenerator(z_dim=64, width=32))
    convs = [m for m in generator.modules() if isinstance(m, nn.ConvTranspose2d)]
    weights = np.concatenate([m.weight.numpy().ravel() for m in convs])
    assert abs(weights.mean()) < 2e-3 and abs(weights.std() - 0.02) < 1e-3
    gammas = np.concatenate(
        [m.weight.numpy() for m in generator.modules() if isinstance(m, nn.BatchNorm2d)]
    )
    assert abs(gammas.mean() - 1) < 0.01 and 0.01 < gammas.std() < 0.03


def test_model_arguments_are_checked():
    with pytest.raises(ValueError, match="image_size must be one of"):
        DCGANGenerator(image_size=64)
    with pytest.raises(ValueError, match=r"expects z of shape \(N, 5\)"):
        MLPGenerator(5, 2)(mg.randn(3, 4))
    with pytest.raises(ValueError, match=r"expects x of shape \(N, 2\)"):
        MLPDiscriminator(2)(mg.randn(3, 1))
    with pytest.raises(ValueError, match="width must be a positive int"):
        MLPGenerator(2, 2, width=0)
