"""Shared by the tests/test_adversarial_*.py files: a small CNN trained in seconds on a
Fashion-MNIST subset (cached per test process), and held-out test images."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import minigrad as mg
from adversarial.models import wong
from minigrad.data import DataLoader, TensorDataset, fashion_mnist
from minigrad.models import fit


def fashion_subset(split: str, start: int, stop: int) -> tuple[mg.Tensor, mg.Tensor]:
    """Images [start, stop) of a Fashion-MNIST split; the test is skipped without the files."""
    try:
        images, labels = fashion_mnist(split, download=False, progress=False).tensors
    except FileNotFoundError:
        pytest.skip("Fashion-MNIST files not found (install dataset-fashion-mnist)")
    return images[start:stop], labels[start:stop]


@functools.cache
def _trained_cnn_state() -> dict:
    mg.manual_seed(0)
    x, y = fashion_subset("train", 0, 6000)
    model = wong()
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=0)
    fit(model, loader, mg.optim.Adam(model.parameters(), lr=2e-3), epochs=2, progress=False)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def trained_cnn() -> mg.nn.Module:
    """The ``wong`` CNN after 2 epochs on 6,000 training images (about 80% test accuracy), in
    eval mode; a fresh copy per call so a test cannot change another's model."""
    model = wong()
    model.load_state_dict(_trained_cnn_state())
    return model.eval()


def held_out_images(count: int = 200) -> tuple[mg.Tensor, mg.Tensor]:
    """The first ``count`` Fashion-MNIST test images and labels."""
    return fashion_subset("test", 0, count)


def accuracy_of(model, x: mg.Tensor, y: mg.Tensor) -> float:
    with mg.no_grad():
        return float(np.mean(model(x).argmax(dim=1).numpy() == y.numpy()))
