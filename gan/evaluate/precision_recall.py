"""k-NN precision and recall of generated features (Kynkäänniemi et al. 2019).

Each set's manifold is approximated by balls around its points, the radius of a point
being the distance to its k-th nearest neighbour within its own set (k = 3).

* precision = fraction of generated points inside the real manifold (fidelity);
* recall = fraction of real points inside the generated manifold (diversity: a
  collapsed generator covers few real points and scores low recall).
"""

from __future__ import annotations

import numpy as np

_CHUNK = 1024  # rows per block of the distance matrix (bounds memory to ~CHUNK x N)


def _distances(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Euclidean distances between every row and every column point, float64."""
    squared = (
        np.sum(rows**2, axis=1)[:, None]
        + np.sum(columns**2, axis=1)[None, :]
        - 2.0 * rows @ columns.T
    )
    return np.sqrt(np.clip(squared, 0.0, None))


def knn_radii(points: np.ndarray, k: int = 3) -> np.ndarray:
    """Distance from each point to its k-th nearest other point of the same set."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] <= k:
        raise ValueError(f"points must have shape (N, D) with N > k = {k}, got {points.shape}")
    radii = np.empty(len(points))
    for start in range(0, len(points), _CHUNK):
        block = _distances(points[start : start + _CHUNK], points)
        # Index k, not k - 1: the smallest distance is each point to itself (0).
        radii[start : start + _CHUNK] = np.partition(block, k, axis=1)[:, k]
    return radii


def _covered_fraction(queries: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> float:
    """Fraction of queries within radius of at least one centre."""
    inside = 0
    for start in range(0, len(queries), _CHUNK):
        block = _distances(queries[start : start + _CHUNK], centres)
        inside += int(np.any(block <= radii[None, :], axis=1).sum())
    return inside / len(queries)


def knn_precision_recall(
    real_features: np.ndarray, fake_features: np.ndarray, k: int = 3
) -> tuple[float, float]:
    """(precision, recall) of fake features against real ones, both (N, D)."""
    real = np.asarray(real_features, dtype=np.float64)
    fake = np.asarray(fake_features, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"real and fake features must be (N, D) with the same D, got {real.shape} and "
            f"{fake.shape}"
        )
    precision = _covered_fraction(fake, real, knn_radii(real, k))
    recall = _covered_fraction(real, fake, knn_radii(fake, k))
    return precision, recall
