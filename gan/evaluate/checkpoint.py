"""``python -m gan evaluate``: the right metrics for whatever a checkpoint generates.

* images (fashion-mnist, mnist): ``evaluate_images`` (Fréchet distance with its floor,
  classifier score, class-histogram KL, k-NN precision/recall);
* ring / grid: the mode-collapse protocol (modes covered, high-quality fraction,
  reverse KL) on 2500 samples;
* gaussian-1d: the learned mean and std against the target's, the mean gap between the
  learned map u -> G(u) and the inverse CDF.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

import minigrad as mg
from gan.build import generator_from_checkpoint, noise_sampler, to_pixels, toy_target
from gan.evaluate.report import evaluate_images
from gan.mode_collapse import mode_coverage
from gan.snapshots import generate
from gan.toy_data import Gaussian1D, mapping_gap

MODE_PROTOCOL_SAMPLES = 2500


def evaluate_checkpoint(
    path: str | os.PathLike[str], samples: int | None = None, seed: int = 0
) -> dict[str, Any]:
    """Metrics of the generator in ``path`` (a checkpoint file or a run folder).

    ``samples`` defaults to 10000 images, or 2500 toy points (the mode protocol's count).
    """
    generator, options = generator_from_checkpoint(path)
    mg.manual_seed(seed)
    sample_z = noise_sampler(options)
    count = samples or (10_000 if options.is_image else MODE_PROTOCOL_SAMPLES)
    if options.is_image:
        pixels = np.concatenate(
            [
                to_pixels(generate(generator, sample_z(min(500, count - start))))
                for start in range(0, count, 500)
            ]
        )
        result = evaluate_images(pixels, options.data)
    elif options.data == "gaussian-1d":
        target = Gaussian1D()
        z = sample_z(count)
        values = generate(generator, z).reshape(-1)
        result = {
            "mean": float(values.mean()),
            "std": float(values.std()),
            "target_mean": target.mean,
            "target_std": target.std,
            "mapping_gap": mapping_gap(values, z.numpy(), target),
        }
    else:
        coverage = mode_coverage(generate(generator, sample_z(count)), toy_target(options.data))
        result = coverage.as_dict()
    return {"data": options.data, "checkpoint": str(path), **result}


def evaluation_summary(result: dict[str, Any]) -> str:
    """One line saying what ``evaluate_checkpoint``'s numbers mean, for the terminal."""
    if "frechet_distance" in result:
        return (
            f"summary: {result['samples']} images, Fréchet distance "
            f"{result['frechet_distance']:.2f} (real-vs-real floor "
            f"{result['frechet_distance_floor']:.2f}), classifier score "
            f"{result['classifier_score']:.2f} of {result['classifier_score_real']:.2f} for real "
            f"images, precision {result['precision']:.2f}, recall {result['recall']:.2f}"
        )
    if "mapping_gap" in result:
        return (
            f"summary: mean {result['mean']:.3f} (target {result['target_mean']}), std "
            f"{result['std']:.3f} (target {result['target_std']}), mapping gap "
            f"{result['mapping_gap']:.3f}"
        )
    warning = ""
    if result["modes_covered"] == 0:
        warning = " (no sample lies near any mode: look at the samples)"
    return (
        f"summary: {result['modes_covered']} of {result['num_modes']} modes covered, "
        f"{100 * result['high_quality_fraction']:.0f}% high-quality samples, reverse KL "
        f"{result['reverse_kl']:.3f}{warning}"
    )
