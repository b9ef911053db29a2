"""``python -m gan sample``: new samples from a trained generator, as a picture or arrays.

* ``png``: a grid of images, a scatter over the modes (ring, grid) or a histogram with
  the noise-to-data map (gaussian-1d);
* ``npy``: the samples alone, for external metric tools: images as float32 pixels in
  [0, 1] of shape (N, 1, 28, 28), toy points as float32 (N, 2) or (N, 1);
* ``npz``: the same under ``samples``, with the noise under ``z``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import minigrad as mg
from gan.build import generator_from_checkpoint, noise_sampler, to_pixels, toy_target
from gan.snapshots import generate, save_snapshot
from minigrad.atomic_file import write_atomically

FORMATS = ("png", "npy", "npz")
MAX_SAMPLES = {"png": 10_000, "npy": 100_000, "npz": 100_000}  # a grid of more is unreadable
_BATCH = 500


def check_sample_request(count: int, format: str) -> None:  # noqa: A002 (the CLI's name)
    """Raise ``ValueError`` for a count or format ``sample_to_file`` would refuse."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count (--n) must be a positive int, got {count!r}")
    if count > MAX_SAMPLES[format]:
        raise ValueError(
            f"--n {count} is more than {MAX_SAMPLES[format]} samples for --format {format}; "
            "draw several files with different --seed instead"
        )


def sample_to_file(
    checkpoint: str | os.PathLike[str],
    out: str | os.PathLike[str],
    count: int = 64,
    seed: int = 0,
    format: str = "png",  # noqa: A002
) -> Path:
    """Draw ``count`` samples with noise seeded by ``seed`` and write them to ``out`` in
    ``format`` (see the module docstring)."""
    check_sample_request(count, format)
    generator, options = generator_from_checkpoint(checkpoint)
    mg.manual_seed(seed)
    z = noise_sampler(options)(count)
    samples = np.concatenate(
        [generate(generator, z[start : start + _BATCH]) for start in range(0, count, _BATCH)]
    )
    out = Path(out)
    if format == "png":
        target = None if options.is_image else toy_target(options.data)
        save_snapshot(out, samples, target, title=f"{count} samples", z=z.numpy())
        return out
    values = to_pixels(samples) if options.is_image else samples.astype(np.float32)
    arrays = {"samples": values} if format == "npy" else {"samples": values, "z": z.numpy()}
    if format == "npy":
        write_atomically(out, lambda stream: np.save(stream, values, allow_pickle=False))
    else:
        write_atomically(out, lambda stream: np.savez(stream, **arrays))
    return out
