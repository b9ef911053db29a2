"""The many-pixels experiment (gan/experiments/gradient_directions.py), on a tiny budget."""

import math

import numpy as np
import pytest

import minigrad as mg
from gan.experiments.gradient_directions import cosine, measure, small_discriminator


def test_cosine_is_row_wise():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    b = np.array([[3.0, 0.0], [-1.0, -1.0], [0.0, 5.0]])
    np.testing.assert_allclose(cosine(a, b), [1.0, -1.0, 0.0])


@pytest.mark.parametrize("resolution", [4, 8, 16, 32])
def test_discriminator_maps_each_resolution_to_one_logit(resolution):
    logits = small_discriminator(resolution)(mg.randn(2, 1, resolution, resolution))
    assert logits.shape == (2, 1)


def test_measure_returns_bounded_numbers_on_a_tiny_budget():
    try:
        mg.data.fashion_mnist("train", download=False, progress=False)
    except (OSError, ValueError):
        pytest.skip("Fashion-MNIST is not installed")
    row = measure(8, seed=0, steps=3, batch=16)
    assert 0 <= row["d_accuracy"] <= 1
    for key in ("batch_agreement", "example_agreement", "toward_data"):
        assert -1 <= row[key] <= 1
    assert row["random_baseline"] == pytest.approx(math.sqrt(2 / (math.pi * 64)))
