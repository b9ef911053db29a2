"""The Fréchet distance between two sets of features, each summarised as a Gaussian.

    FD = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2})

(Heusel et al. 2017 with Inception features; here the features are the judge
classifier's.) The matrix square root's trace is computed without scipy: with
S_a^{1/2} from a symmetric eigendecomposition, Tr (S_a S_b)^{1/2} equals the sum of
square roots of the eigenvalues of the symmetric PSD matrix S_a^{1/2} S_b S_a^{1/2}.
"""

from __future__ import annotations

import numpy as np


def gaussian_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean (D,), covariance (D, D) with the N - 1 denominator) of features (N, D), float64."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"features must have shape (N, D) with N >= 2, got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _symmetric_sqrt(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance_from_statistics(
    mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray
) -> float:
    """FD between N(mean_a, cov_a) and N(mean_b, cov_b); never negative."""
    if mean_a.shape != mean_b.shape or cov_a.shape != cov_b.shape:
        raise ValueError(
            f"statistics differ in dimension: means {mean_a.shape} vs {mean_b.shape}, "
            f"covariances {cov_a.shape} vs {cov_b.shape}"
        )
    root_a = _symmetric_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_root = np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None)))
    difference = mean_a - mean_b
    distance = difference @ difference + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    return float(max(distance, 0.0))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FD between the Gaussians fitted to two feature sets (N_a, D) and (N_b, D)."""
    return frechet_distance_from_statistics(
        *gaussian_statistics(features_a), *gaussian_statistics(features_b)
    )
