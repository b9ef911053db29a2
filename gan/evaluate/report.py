"""All image metrics of a generator at once, with the real-vs-real floor beside them.

    evaluate_images(generated_pixels, data) -> {
        "frechet_distance":        FD(judge features of generated, of real test images),
        "frechet_distance_floor":  FD(real test, real train subset of the same size),
        "classifier_score":        exp(E KL(p(y|x) || p(y))) of the generated images,
        "classifier_score_real":   the same for real test images (the ceiling),
        "class_histogram":         fraction generated per class,
        "class_histogram_kl":      KL(histogram || uniform),
        "precision", "recall":     k-NN (k=3) in judge features, generated vs real test,
        "judge_test_accuracy":     how good the judge is,
        "samples":                 number of generated images,
    }

The floor matters: two independent samples of *real* images are not at distance 0,
so a generator's FD is read against the real-vs-real value at the same sample size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gan.build import load_pixels
from gan.evaluate.classifier import Judge, classifier_outputs, load_or_train_classifier
from gan.evaluate.frechet import frechet_distance
from gan.evaluate.precision_recall import knn_precision_recall
from gan.evaluate.scores import class_histogram, classifier_score, histogram_kl_to_uniform

PRECISION_RECALL_SAMPLES = 5000  # the k-NN metrics compare this many of each set


def evaluate_images(
    generated_pixels: np.ndarray,
    data: str = "fashion-mnist",
    judge: Judge | None = None,
    k: int = 3,
) -> dict[str, Any]:
    """The metrics above for generated 28x28 images in [0, 1], shape (N, 1, 28, 28)."""
    judge = judge or load_or_train_classifier(data)
    count = len(generated_pixels)
    if count < 2:
        raise ValueError(f"need at least 2 generated images, got {count}")
    test_pixels, _ = load_pixels(data, "test")
    train_pixels, _ = load_pixels(data, "train")
    # Real sets of the generated set's size (capped by the test split) keep the
    # comparison fair: FD is biased upwards for small samples.
    size = min(count, len(test_pixels))
    rng = np.random.default_rng(0)
    test_pixels = test_pixels[rng.permutation(len(test_pixels))[:size]]
    train_pixels = train_pixels[rng.permutation(len(train_pixels))[:size]]

    fake_features, fake_probabilities = classifier_outputs(judge.model, generated_pixels)
    test_features, test_probabilities = classifier_outputs(judge.model, test_pixels)
    train_features, _ = classifier_outputs(judge.model, train_pixels)
    histogram = class_histogram(fake_probabilities)
    pr_size = min(PRECISION_RECALL_SAMPLES, size, count)
    precision, recall = knn_precision_recall(test_features[:pr_size], fake_features[:pr_size], k=k)
    return {
        "frechet_distance": frechet_distance(fake_features, test_features),
        "frechet_distance_floor": frechet_distance(train_features, test_features),
        "classifier_score": classifier_score(fake_probabilities),
        "classifier_score_real": classifier_score(test_probabilities),
        "class_histogram": histogram.tolist(),
        "class_histogram_kl": histogram_kl_to_uniform(histogram),
        "precision": precision,
        "recall": recall,
        "judge_test_accuracy": judge.test_accuracy,
        "samples": count,
    }
