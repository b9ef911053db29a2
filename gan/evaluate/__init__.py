"""Judging image GANs without downloaded weights: a minigrad-trained classifier as judge.

* ``classifier``        the judge (FashionCNN), trained once and cached; features and p(y|x)
* ``frechet``           Fréchet distance between Gaussian fits of two feature sets
* ``scores``            classifier score (Inception-score analogue), class histogram and its KL
* ``precision_recall``  k-NN precision / recall (k = 3)
* ``report``            all of them for a set of generated images, with the real floor
"""

from gan.evaluate.classifier import (
    Judge,
    classifier_outputs,
    load_or_train_classifier,
    train_classifier,
)
from gan.evaluate.frechet import frechet_distance, gaussian_statistics
from gan.evaluate.precision_recall import knn_precision_recall, knn_radii
from gan.evaluate.report import evaluate_images
from gan.evaluate.scores import class_histogram, classifier_score, histogram_kl_to_uniform

__all__ = [
    "Judge",
    "class_histogram",
    "classifier_outputs",
    "classifier_score",
    "evaluate_images",
    "frechet_distance",
    "gaussian_statistics",
    "histogram_kl_to_uniform",
    "knn_precision_recall",
    "knn_radii",
    "load_or_train_classifier",
    "train_classifier",
]
