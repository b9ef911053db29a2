"""The judge of generated images: a Fashion-MNIST (or MNIST) classifier trained with minigrad.

There are no Inception weights to download, so the image metrics use a small CNN
(``minigrad.models.FashionCNN``) trained once on the real training set and cached in the
user cache, ``~/.cache/minigrad/classifiers/<data>-cnn-<epochs>ep-seed<seed>.npz``
(``$XDG_CACHE_HOME`` respected). Its 128-d penultimate activations are the feature space
of the Fréchet distance and of k-NN precision/recall; its softmax gives the classifier
score and the class histogram.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import minigrad as mg
from gan.build import load_pixels
from minigrad import optim
from minigrad.data import DataLoader, TensorDataset
from minigrad.data.idx_datasets import user_cache_dir
from minigrad.models import FashionCNN, accuracy, fit
from minigrad.nn import functional as F


@dataclass
class Judge:
    """A trained classifier and its accuracy on the real test set."""

    model: FashionCNN
    test_accuracy: float
    path: Path | None


def classifier_path(data: str, epochs: int, seed: int, cache_dir: Path | None = None) -> Path:
    folder = (cache_dir or user_cache_dir()) / "classifiers"
    return folder / f"{data}-cnn-{epochs}ep-seed{seed}.npz"


def train_classifier(
    data: str = "fashion-mnist", epochs: int = 2, seed: int = 0, progress: bool = True
) -> Judge:
    """Train FashionCNN with Adam (lr 1e-3, batch 128) on the real training set.

    The caller's random state is saved and restored, so training the judge does not
    change the random numbers a surrounding program draws next.
    """
    saved_rng = mg.get_rng_state()
    try:
        mg.manual_seed(seed)
        pixels, labels = load_pixels(data, "train")
        loader = DataLoader(
            TensorDataset(mg.tensor(pixels), mg.tensor(labels)), batch_size=128, shuffle=True
        )
        model = FashionCNN()
        fit(model, loader, optim.Adam(model.parameters(), lr=1e-3), epochs, progress=progress)
        test_pixels, test_labels = load_pixels(data, "test")
        score = accuracy(model, mg.tensor(test_pixels), mg.tensor(test_labels))
    finally:
        mg.set_rng_state(saved_rng)
    model.eval()
    return Judge(model, score, None)


def load_or_train_classifier(
    data: str = "fashion-mnist",
    epochs: int = 2,
    seed: int = 0,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> Judge:
    """The cached judge for ``data`` if there is one, else train it and cache it."""
    path = classifier_path(data, epochs, seed, Path(cache_dir) if cache_dir else None)
    if path.exists():
        saved = mg.load(path)
        model = FashionCNN()
        model.load_state_dict(saved["model"])
        model.eval()
        return Judge(model, float(saved["test_accuracy"]), path)
    judge = train_classifier(data, epochs, seed, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    mg.save({"model": judge.model.state_dict(), "test_accuracy": judge.test_accuracy}, path)
    judge.path = path
    return judge


def classifier_outputs(
    model: FashionCNN, pixels: np.ndarray, batch_size: int = 500
) -> tuple[np.ndarray, np.ndarray]:
    """(penultimate features (N, 128), class probabilities (N, 10)) of 28x28 pixel images.

    ``pixels`` are float (N, 1, 28, 28) in [0, 1], the classifier's training range.
    """
    pixels = np.asarray(pixels, dtype=np.float32)
    if pixels.ndim != 4 or pixels.shape[1:] != (1, 28, 28):
        raise ValueError(f"pixels must have shape (N, 1, 28, 28), got {pixels.shape}")
    was_training = model.training
    model.eval()
    features, probabilities = [], []
    with mg.no_grad():
        for start in range(0, len(pixels), batch_size):
            hidden = model.features(mg.tensor(pixels[start : start + batch_size]))
            features.append(hidden.numpy())
            probabilities.append(F.softmax(model.head(hidden), dim=1).numpy())
    model.train(was_training)
    return np.concatenate(features), np.concatenate(probabilities)
