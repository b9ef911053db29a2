"""Judging a growing generator at each resolution with the evaluation tools of gan.evaluate.

The judge is a classifier of 28x28 images, so every sample, whatever its resolution, is
first enlarged to 32x32 by nearest-neighbour repetition and centre-cropped to 28x28
(gan.build.to_pixels). Then:

* ``evaluate_images`` gives the usual metrics against the real test images at full
  resolution (Fréchet distance and its real-vs-real floor, classifier score, class
  histogram KL, k-NN precision/recall). Below 32x32 this distance mostly measures the
  missing detail, so two more numbers say how the generator does *at its resolution*:
* ``frechet_distance_same_resolution``: FD to real test images taken through the same
  pipeline (pooled to r, enlarged back);
* ``frechet_distance_reals_at_resolution``: FD between those pooled-and-enlarged reals and
  the full-resolution ones: the distance a perfect generator at r would still have.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gan.build import load_pixels, to_pixels
from gan.evaluate import (
    classifier_outputs,
    evaluate_images,
    frechet_distance,
    load_or_train_classifier,
)
from gan.progressive.data import pixels_to_pyramid
from gan.progressive.growth_picture import enlarge

FULL_SIZE = 32


def judge_pixels(images: np.ndarray) -> np.ndarray:
    """Generator images (N, 1, r, r) in [-1, 1] -> (N, 1, 28, 28) pixels in [0, 1] for the judge."""
    return to_pixels(enlarge(np.asarray(images, dtype=np.float32), FULL_SIZE))


class ResolutionEvaluator:
    """``evaluator(images, resolution) -> metrics`` for gan.progressive.grow (see module doc).

    The judge is loaded (or trained once and cached) on construction; the features of the
    real test images at each resolution are computed once and reused.
    """

    def __init__(self, data: str = "fashion-mnist", progress: bool = False) -> None:
        self.data = data
        self.judge = load_or_train_classifier(data, progress=progress)
        self.test_pixels = load_pixels(data, "test")[0]
        self._features: dict[tuple[int, int], np.ndarray] = {}

    def real_features(self, resolution: int, count: int) -> np.ndarray:
        """Judge features of the first ``count`` test images, pooled to ``resolution``."""
        key = (resolution, count)
        if key not in self._features:
            pixels = self.test_pixels[:count]
            if resolution != FULL_SIZE:
                low = pixels_to_pyramid(pixels, (resolution,))[resolution]
                pixels = judge_pixels(low)
            self._features[key] = classifier_outputs(self.judge.model, pixels)[0]
        return self._features[key]

    def __call__(self, images: np.ndarray, resolution: int) -> dict[str, Any]:
        pixels = judge_pixels(images)
        result = evaluate_images(pixels, self.data, self.judge)
        count = min(len(pixels), len(self.test_pixels))
        if resolution != FULL_SIZE:
            fake = classifier_outputs(self.judge.model, pixels)[0]
            low = self.real_features(resolution, count)
            result["frechet_distance_same_resolution"] = frechet_distance(fake, low)
            result["frechet_distance_reals_at_resolution"] = frechet_distance(
                low, self.real_features(FULL_SIZE, count)
            )
        return result
