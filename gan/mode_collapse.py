"""Measuring mode collapse on a 2-D mixture, by the usual protocol (VEEGAN, PacGAN).

Draw samples from the generator (2500 by convention) and assign each to its nearest
mode. Then:

* a sample is **high quality** when it lies within 3 standard deviations of that
  nearest mode;
* a mode is **covered** when at least one high-quality sample is assigned to it;
* the **reverse KL** is KL(q || p) between q, the histogram of the high-quality samples
  over the modes, and p, the target's uniform weights 1/K:
  KL = sum_k q_k log(q_k K). It is 0 when the good samples spread evenly over the
  modes and log K when they all sit on one mode (full collapse). With no high-quality
  sample at all it is reported as log K, the collapsed value.

"Modal collapse" in the lecture is the generator finding one output that fools D;
"partial modal collapse" is a few outputs. Modes covered counts which of the K modes
survive; the reverse KL shows how unevenly the surviving ones are visited.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from gan.toy_data import GaussianMixture2D


@dataclass
class ModeCoverage:
    modes_covered: int
    num_modes: int
    high_quality_fraction: float
    reverse_kl: float
    histogram: list[int]  # high-quality samples per mode

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def nearest_modes(samples: np.ndarray, modes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest mode, distance to it) for every sample."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != modes.shape[1]:
        raise ValueError(
            f"samples must have shape (N, {modes.shape[1]}) to match the modes, got {samples.shape}"
        )
    distances = np.linalg.norm(samples[:, None, :] - modes[None, :, :], axis=2)
    nearest = distances.argmin(axis=1)
    return nearest, distances[np.arange(len(samples)), nearest]


def reverse_kl_to_uniform(histogram: np.ndarray) -> float:
    """KL(q || uniform) = sum_k q_k log(q_k K) for counts ``histogram`` (0 log 0 = 0)."""
    counts = np.asarray(histogram, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return math.log(len(counts))
    q = counts / total
    present = q > 0
    return float(np.sum(q[present] * np.log(q[present] * len(counts))))


def mode_coverage(
    samples: np.ndarray, mixture: GaussianMixture2D, quality_stds: float = 3.0
) -> ModeCoverage:
    """The protocol's three numbers for ``samples`` (N, 2) from a generator of ``mixture``."""
    if len(samples) == 0:
        raise ValueError("mode_coverage needs at least one sample")
    nearest, distance = nearest_modes(samples, mixture.modes)
    good = distance <= quality_stds * mixture.std
    histogram = np.bincount(nearest[good], minlength=mixture.num_modes)
    return ModeCoverage(
        modes_covered=int(np.count_nonzero(histogram)),
        num_modes=mixture.num_modes,
        high_quality_fraction=float(good.mean()),
        reverse_kl=reverse_kl_to_uniform(histogram),
        histogram=histogram.tolist(),
    )
