"""Real images at every resolution of the growth: one pyramid, one shuffled loader.

Fashion-MNIST's 28x28 pixels in [0, 1] become x = 2 * pixel - 1 in [-1, 1] (the
generator's range), padded with -1 (black) to 32x32 (gan.build.to_generator_range), and
then 2x2-average-pooled again and again down to 16, 8 and 4 pixels, the same pooling the
discriminator uses between levels. The whole pyramid is computed once (about 330 MB for
60,000 images) and one DataLoader draws batches of indices from it, so every resolution
sees the same shuffled order and a checkpoint needs one loader position.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from gan.build import to_generator_range
from minigrad import Tensor
from minigrad.data import DataLoader, TensorDataset


def average_pool_2x2(images: np.ndarray) -> np.ndarray:
    """y[.., i, j] = mean of x[.., 2i:2i+2, 2j:2j+2], for (N, C, H, W) with even H and W."""
    count, channels, height, width = images.shape
    if height % 2 or width % 2:
        raise ValueError(f"images need even height and width to pool 2x2, got {images.shape}")
    blocks = images.reshape(count, channels, height // 2, 2, width // 2, 2)
    return blocks.mean(axis=(3, 5), dtype=np.float64).astype(images.dtype)


def image_pyramid(images: np.ndarray, resolutions: tuple[int, ...]) -> dict[int, np.ndarray]:
    """{r: the square (N, C, R, R) images 2x2-pooled down to r}, each r = R / 2^k."""
    if images.ndim != 4 or images.shape[2] != images.shape[3]:
        raise ValueError(f"images must be square (N, C, R, R), got {images.shape}")
    side = size = images.shape[2]
    levels = {size: images}
    while size % 2 == 0 and size > min(resolutions):
        images = average_pool_2x2(images)
        size //= 2
        levels[size] = images
    missing = [r for r in resolutions if r not in levels]
    if missing:
        raise ValueError(
            f"resolutions {missing} are not {side}x{side} halved "
            f"k times; reachable: {sorted(levels)}"
        )
    return {resolution: levels[resolution] for resolution in resolutions}


def pixels_to_pyramid(pixels: np.ndarray, resolutions: tuple[int, ...]) -> dict[int, np.ndarray]:
    """28x28 pixels in [0, 1] -> {r: images in [-1, 1]}: padded to 32x32, pooled down to r."""
    if pixels.ndim != 4 or pixels.shape[2:] != (28, 28):
        raise ValueError(f"pixels must be (N, C, 28, 28) in [0, 1], got {pixels.shape}")
    return image_pyramid(to_generator_range(pixels, 32), resolutions)


class PyramidBatches:
    """Endless shuffled real batches at any resolution of the pyramid.

    ``next_batch(resolution)`` returns the next batch (N, C, r, r); at the end of an epoch
    the loader reshuffles. ``loader`` is exposed so a checkpoint can store its position.
    """

    def __init__(self, pyramid: dict[int, np.ndarray], batch_size: int, seed: int | None = None):
        self.resolutions = tuple(sorted(pyramid))
        counts = {len(images) for images in pyramid.values()}
        if len(counts) != 1:
            raise ValueError(
                f"every level of the pyramid needs the same images, got counts {counts}"
            )
        dataset = TensorDataset(*(mg.tensor(pyramid[r]) for r in self.resolutions))
        self.loader = DataLoader(
            dataset, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed
        )
        self._batches = None

    def next_batch(self, resolution: int) -> Tensor:
        if resolution not in self.resolutions:
            raise ValueError(f"resolution must be one of {self.resolutions}, got {resolution!r}")
        if self._batches is None:
            self._batches = iter(self.loader)
        try:
            levels = next(self._batches)
        except StopIteration:
            self._batches = iter(self.loader)
            levels = next(self._batches)
        return levels[self.resolutions.index(resolution)]
