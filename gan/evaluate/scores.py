"""Scores read off the judge's class probabilities p(y | x) for generated images x.

* classifier score (the Inception score with the judge in Inception's place):
  CS = exp(E_x KL(p(y|x) || p(y))),  p(y) = E_x p(y|x).
  It ranges from 1 to the number of classes K: high when each image is classified
  confidently *and* the classes are used evenly.
* class histogram h_k = fraction of images whose most likely class is k, and its
  KL(h || uniform) = sum_k h_k log(h_k K): 0 when every class is generated equally
  often, log K when all images fall in one class (mode collapse in class space).
"""

from __future__ import annotations

import numpy as np


def _check_probabilities(probabilities: np.ndarray) -> np.ndarray:
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[0] < 1:
        raise ValueError(f"probabilities must have shape (N, K), got {probabilities.shape}")
    if np.any(probabilities < 0) or not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError("probabilities must be non-negative rows that sum to 1")
    return probabilities


def classifier_score(probabilities: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) || p(y))) for rows p(y|x) of ``probabilities`` (N, K)."""
    p = _check_probabilities(probabilities)
    marginal = p.mean(axis=0)
    tiny = np.finfo(np.float64).tiny  # 0 log 0 = 0
    kl = np.sum(p * (np.log(p + tiny) - np.log(marginal + tiny)), axis=1)
    return float(np.exp(kl.mean()))


def class_histogram(probabilities: np.ndarray) -> np.ndarray:
    """Fraction of rows whose argmax is each class, shape (K,)."""
    p = _check_probabilities(probabilities)
    counts = np.bincount(p.argmax(axis=1), minlength=p.shape[1])
    return counts / counts.sum()


def histogram_kl_to_uniform(histogram: np.ndarray) -> float:
    """KL(h || uniform) = sum_k h_k log(h_k K), with 0 log 0 = 0."""
    h = np.asarray(histogram, dtype=np.float64)
    if h.ndim != 1 or np.any(h < 0) or not np.isclose(h.sum(), 1.0):
        raise ValueError("histogram must be a 1-d array of non-negative fractions summing to 1")
    present = h > 0
    return float(np.sum(h[present] * np.log(h[present] * len(h))))
