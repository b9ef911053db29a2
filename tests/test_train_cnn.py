"""End to end: the CNN learns Fashion-MNIST from a subset (needs the data installed)."""

from __future__ import annotations

import pytest

import minigrad as mg
from minigrad.data import DataLoader, TensorDataset
from minigrad.models import FashionCNN, accuracy, fit


@pytest.fixture(scope="module")
def fashion():
    try:
        train = mg.data.fashion_mnist("train", download=False, progress=False)
        test = mg.data.fashion_mnist("test", download=False, progress=False)
    except (FileNotFoundError, mg.data.DownloadError) as error:
        pytest.skip(f"Fashion-MNIST not installed: {error}")
    return train, test


def test_small_cnn_beats_a_real_accuracy_bar_on_a_subset(fashion):
    train, test = fashion
    mg.manual_seed(0)
    images, labels = train.tensors
    subset = TensorDataset(images[:4000], labels[:4000])
    loader = DataLoader(subset, batch_size=32, shuffle=True, seed=0)
    model = FashionCNN(width=8)
    chance = accuracy(model, test.tensors[0][:2000], test.tensors[1][:2000])
    fit(model, loader, mg.optim.Adam(model.parameters(), lr=2e-3), epochs=1, progress=False)
    learned = accuracy(model, test.tensors[0][:2000], test.tensors[1][:2000])
    assert chance < 0.25
    assert learned > 0.72, f"test accuracy {learned:.3f} after one epoch on 4000 images"
