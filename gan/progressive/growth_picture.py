"""The picture of the growth: the same z drawn at 4, 8, 16 and 32 pixels, side by side.

At the end of each resolution the trainer keeps what the averaged generator makes of a
fixed set of latent vectors. Each row of the picture is one z; each column one
resolution, blown up by nearest-neighbour repetition to the largest size, so the reader
sees a coarse blob at 4x4 acquire its silhouette at 8x8 and its details at 16 and 32.
"""

from __future__ import annotations

import os

import numpy as np

from minigrad.images import save_image_grid


def enlarge(images: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour enlargement of (N, C, r, r) to (N, C, size, size); size % r == 0."""
    if images.ndim != 4 or images.shape[2] != images.shape[3]:
        raise ValueError(f"images must be square (N, C, r, r), got {images.shape}")
    factor, remainder = divmod(size, images.shape[2])
    if remainder or factor < 1:
        raise ValueError(f"size {size} must be a multiple of the image side {images.shape[2]}")
    return images.repeat(factor, axis=2).repeat(factor, axis=3)


def growth_grid(samples: dict[int, np.ndarray]) -> np.ndarray:
    """(rows * columns, C, S, S): row i holds z_i at every resolution, smallest first.

    ``samples`` maps resolution -> (rows, C, r, r) images of the same z's.
    """
    if not samples:
        raise ValueError("growth_grid needs the samples of at least one resolution")
    resolutions = sorted(samples)
    rows = {len(images) for images in samples.values()}
    if len(rows) != 1:
        raise ValueError(f"every resolution needs the same number of samples, got {rows}")
    size = resolutions[-1]
    columns = [enlarge(np.asarray(samples[r]), size) for r in resolutions]
    # (columns, rows, C, S, S) -> (rows, columns, C, S, S): a row per z.
    stacked = np.stack(columns, axis=0).swapaxes(0, 1)
    return stacked.reshape(-1, *stacked.shape[2:])


def save_growth_picture(
    samples: dict[int, np.ndarray], path: str | os.PathLike[str], scale: int = 3
) -> np.ndarray:
    """Write :func:`growth_grid` as a PNG (values in [-1, 1]); returns the uint8 grid."""
    grid = growth_grid(samples)
    return save_image_grid(
        grid, path, nrow=len(samples), padding=2, value_range=(-1.0, 1.0), scale=scale
    )
