"""The plain supervised training loop, and accuracy over a dataset.

One step of ``fit`` is the whole of supervised learning:
``loss = batch_loss(model, x, y); zero_grad(); loss.backward(); optimizer.step()``.
Pass your own ``batch_loss`` to change what is minimised (adversarial training, mixup,
input-gradient penalties) without touching the loop.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from tqdm.auto import tqdm

from minigrad.autograd import no_grad
from minigrad.data import DataLoader
from minigrad.nn import Module
from minigrad.nn.functional import cross_entropy
from minigrad.tensor import Tensor

BatchLoss = Callable[[Module, Tensor, Tensor], Tensor]


def classification_loss(model: Module, images: Tensor, labels: Tensor) -> Tensor:
    """The default batch loss: cross-entropy of the model's logits."""
    return cross_entropy(model(images), labels)


def fit(
    model: Module,
    loader: DataLoader,
    optimizer: object,
    epochs: int = 1,
    batch_loss: BatchLoss = classification_loss,
    progress: bool = True,
) -> list[float]:
    """Train ``model`` for ``epochs`` passes over ``loader``; returns each epoch's mean loss."""
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    model.train()
    epoch_losses = []
    for epoch in range(epochs):
        losses = []
        batches = tqdm(
            loader, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=False
        )
        for images, labels in batches:
            loss = batch_loss(model, images, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            batches.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
        epoch_losses.append(float(np.mean(losses)))
    return epoch_losses


def predict_logits(model: Module, images: Tensor, batch_size: int = 500) -> Tensor:
    """The model's logits for every image, computed in eval mode without a graph."""
    was_training = model.training
    model.eval()
    chunks = []
    with no_grad():
        for start in range(0, len(images), batch_size):
            chunks.append(model(images[start : start + batch_size]).numpy())
    model.train(was_training)
    return Tensor(np.concatenate(chunks), device=images.device)


def accuracy(model: Module, images: Tensor, labels: Tensor, batch_size: int = 500) -> float:
    """Fraction of ``images`` whose highest logit is the label."""
    if len(images) != len(labels):
        raise ValueError(f"images ({len(images)}) and labels ({len(labels)}) differ in length")
    predictions = predict_logits(model, images, batch_size).argmax(dim=1).numpy()
    return float(np.mean(predictions == labels.numpy()))
