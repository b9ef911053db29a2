"""``python -m gan sample``: new samples from a trained generator, as one picture."""

from __future__ import annotations

import os
from pathlib import Path

import minigrad as mg
from gan.build import generator_from_checkpoint, noise_sampler, toy_target
from gan.snapshots import generate, save_snapshot


def sample_to_file(
    checkpoint: str | os.PathLike[str],
    out: str | os.PathLike[str],
    count: int = 64,
    seed: int = 0,
) -> Path:
    """Draw ``count`` samples with noise seeded by ``seed``; write a grid (images), a
    scatter over the modes (ring, grid) or a histogram with the noise-to-data map (1-D).
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count (--n) must be a positive int, got {count!r}")
    generator, options = generator_from_checkpoint(checkpoint)
    mg.manual_seed(seed)
    z = noise_sampler(options)(count)
    target = None if options.is_image else toy_target(options.data)
    out = Path(out)
    save_snapshot(out, generate(generator, z), target, title=f"{count} samples", z=z.numpy())
    return out
