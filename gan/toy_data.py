"""Toy targets for generating data from noise: a 1-D Gaussian and two 2-D mixtures.

The lecture starts from "how do we generate samples x ~ p(x)?": draw z ~ Unif(0, 1) and
push it through a mapping x = f(z). For a 1-D target the ideal f is known in closed form,
the inverse of the target's CDF (``Gaussian1D.inverse_cdf``): if z ~ U(0, 1) then
F^{-1}(z) ~ p. A GAN generator fed the same z must *learn* such an f; comparing the two
mappings shows what it learned (it may also learn the mirror image
F^{-1}(1 - z), which pushes U(0, 1) to the same distribution).

The 2-D mixtures are the standard mode-collapse benchmarks (VEEGAN, PacGAN):

* ring: 8 Gaussians with means on the unit circle, std 0.01 (8 well separated modes);
* grid: 25 Gaussians with means at {-4, -2, 0, 2, 4}^2, std 0.05.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

import minigrad as mg
from minigrad import Tensor


@dataclass(frozen=True)
class GaussianMixture2D:
    """An equal-weight mixture of isotropic 2-D Gaussians N(mode_k, std^2 I)."""

    name: str
    modes: np.ndarray  # (K, 2) float64
    std: float

    @property
    def num_modes(self) -> int:
        return int(self.modes.shape[0])

    def sample(self, count: int, device: str = "cpu") -> Tensor:
        """``count`` points (count, 2) float32, drawn with minigrad's seeded generator."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a positive int, got {count!r}")
        which = mg.randint(0, self.num_modes, (count,)).numpy()
        centres = mg.tensor(self.modes[which], dtype=mg.float32, device=device)
        return centres + self.std * mg.randn(count, 2, device=device)


def ring(num_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> GaussianMixture2D:
    """Modes at radius * (cos 2 pi k / K, sin 2 pi k / K), k = 0..K-1."""
    angles = 2 * math.pi * np.arange(num_modes) / num_modes
    modes = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return GaussianMixture2D("ring", modes, std)


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture2D:
    """Modes at spacing * (i - (side-1)/2, j - (side-1)/2): {-4,-2,0,2,4}^2 by default."""
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    xs, ys = np.meshgrid(axis, axis, indexing="ij")
    return GaussianMixture2D("grid", np.stack([xs.ravel(), ys.ravel()], axis=1), std)


@dataclass(frozen=True)
class Gaussian1D:
    """The lecture's 1-D target x ~ N(mean, std^2)."""

    mean: float = 2.0
    std: float = 0.5

    def sample(self, count: int, device: str = "cpu") -> Tensor:
        """``count`` draws as a (count, 1) float32 Tensor."""
        return self.mean + self.std * mg.randn(count, 1, device=device)

    def inverse_cdf(self, u: np.ndarray) -> np.ndarray:
        """x = F^{-1}(u) = mean + std * Phi^{-1}(u): the exact noise-to-data map for U(0, 1).

        ``u`` must lie in (0, 1).
        """
        u = np.asarray(u, dtype=np.float64)
        if u.size and not (np.all(u > 0) and np.all(u < 1)):
            raise ValueError("u must lie strictly inside (0, 1) for the inverse CDF")
        dist = NormalDist(self.mean, self.std)
        return np.vectorize(dist.inv_cdf, otypes=[np.float64])(u)


def uniform_noise(count: int, dim: int = 1, device: str = "cpu") -> Tensor:
    """z ~ U(0, 1)^dim, the lecture's noise for the 1-D example."""
    return mg.rand(count, dim, device=device)


def normal_noise(count: int, dim: int, device: str = "cpu") -> Tensor:
    """z ~ N(0, I_dim), the usual GAN latent."""
    return mg.randn(count, dim, device=device)


def mapping_gap(learned: np.ndarray, u: np.ndarray, target: Gaussian1D) -> float:
    """Mean |G(u) - F^{-1}(u)| against the nearer of the two exact maps.

    Both F^{-1}(u) and its mirror F^{-1}(1 - u) push U(0, 1) to the target, so a
    generator may learn either; the gap is measured against whichever it is closer to.
    """
    learned = np.asarray(learned, dtype=np.float64).reshape(-1)
    u = np.asarray(u, dtype=np.float64).reshape(-1)
    increasing = np.mean(np.abs(learned - target.inverse_cdf(u)))
    decreasing = np.mean(np.abs(learned - target.inverse_cdf(1 - u)))
    return float(min(increasing, decreasing))
