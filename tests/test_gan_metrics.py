"""Metrics on known inputs: Fréchet distance, scores, k-NN precision/recall, mode coverage."""

import math

import numpy as np
import pytest

from gan.evaluate import (
    class_histogram,
    classifier_score,
    frechet_distance,
    histogram_kl_to_uniform,
    knn_precision_recall,
    knn_radii,
)
from gan.mode_collapse import mode_coverage, reverse_kl_to_uniform
from gan.toy_data import Gaussian1D, grid, mapping_gap, ring

RNG = np.random.default_rng(0)


def test_frechet_distance_of_identical_sets_is_zero():
    features = RNG.normal(size=(500, 16)) @ RNG.normal(size=(16, 16))
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_known_gaussian_statistics():
    # Build samples with exactly prescribed mean and diagonal covariance: whiten, rescale.
    base = RNG.normal(size=(1000, 3))
    base = (base - base.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(base, rowvar=False)).T)
    mean_a, std_a = np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 0.5])
    mean_b, std_b = np.array([1.0, 1.0, 0.0]), np.array([3.0, 2.0, 1.0])
    a, b = base * std_a + mean_a, base * std_b + mean_b
    # Commuting (diagonal) covariances: FD = |mu_a - mu_b|^2 + sum (std_a - std_b)^2.
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((std_a - std_b) ** 2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_classifier_score_bounds():
    confident_balanced = np.eye(10)[np.arange(100) % 10]
    assert classifier_score(confident_balanced) == pytest.approx(10.0)
    assert classifier_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)
    collapsed = np.eye(10)[np.zeros(100, dtype=int)]
    assert classifier_score(collapsed) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="sum to 1"):
        classifier_score(np.ones((2, 3)))


def test_class_histogram_and_kl():
    probabilities = np.eye(4)[[0, 0, 1, 3]] * 0.7 + 0.075
    np.testing.assert_allclose(class_histogram(probabilities), [0.5, 0.25, 0.0, 0.25])
    assert histogram_kl_to_uniform(np.full(10, 0.1)) == pytest.approx(0.0)
    assert histogram_kl_to_uniform(np.eye(10)[3]) == pytest.approx(math.log(10))


def test_knn_precision_recall():
    real = RNG.normal(size=(300, 4))
    assert knn_precision_recall(real, real) == (1.0, 1.0)
    far = real + 100.0
    assert knn_precision_recall(real, far) == (0.0, 0.0)
    # A collapsed generator: every fake at one real point -> precise but no recall.
    collapsed = np.repeat(real[:1], 300, axis=0) + RNG.normal(size=(300, 4)) * 1e-3
    precision, recall = knn_precision_recall(real, collapsed)
    assert precision == 1.0 and recall < 0.05


def test_knn_radii_is_the_kth_neighbour():
    points = np.array([[0.0], [1.0], [3.0], [7.0]])
    np.testing.assert_allclose(knn_radii(points, k=2), [3.0, 2.0, 3.0, 6.0])


def test_mode_coverage_of_perfect_and_collapsed_samples():
    target = ring()
    perfect = np.repeat(target.modes, 10, axis=0) + RNG.normal(size=(80, 2)) * 0.001
    coverage = mode_coverage(perfect, target)
    assert coverage.modes_covered == 8 and coverage.high_quality_fraction == 1.0
    assert coverage.reverse_kl == pytest.approx(0.0, abs=1e-12)

    collapsed = np.repeat(target.modes[2:3], 2500, axis=0)
    coverage = mode_coverage(collapsed, target)
    assert coverage.modes_covered == 1 and coverage.histogram[2] == 2500
    assert coverage.reverse_kl == pytest.approx(math.log(8))

    blurry = np.zeros((100, 2))  # the ring's centre: far from every mode
    coverage = mode_coverage(blurry, target)
    assert coverage.modes_covered == 0 and coverage.high_quality_fraction == 0.0
    assert coverage.reverse_kl == pytest.approx(math.log(8))


def test_quality_threshold_is_three_stds():
    target = grid()  # std 0.05: high quality within 0.15 of a mode
    samples = target.modes[:2] + np.array([[0.149, 0.0], [0.151, 0.0]])
    coverage = mode_coverage(samples, target)
    assert coverage.high_quality_fraction == 0.5 and coverage.modes_covered == 1
    assert reverse_kl_to_uniform(np.array([1, 1, 0, 0])) == pytest.approx(math.log(2))


def test_inverse_cdf_and_mapping_gap():
    target = Gaussian1D(mean=2.0, std=0.5)
    np.testing.assert_allclose(
        target.inverse_cdf(np.array([0.5, 0.841344746, 0.022750132])),
        [2.0, 2.5, 1.0],
        atol=1e-6,
    )
    u = np.linspace(0.01, 0.99, 99)
    assert mapping_gap(target.inverse_cdf(u), u, target) == pytest.approx(0.0, abs=1e-12)
    assert mapping_gap(target.inverse_cdf(1 - u), u, target) == pytest.approx(0.0, abs=1e-12)
    assert mapping_gap(np.full(99, 2.0), u, target) > 0.3
    with pytest.raises(ValueError, match=r"strictly inside \(0, 1\)"):
        target.inverse_cdf(np.array([0.0]))
