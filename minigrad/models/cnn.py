"""A small convolutional classifier for 28×28 single-channel images (Fashion-MNIST, MNIST)."""

from __future__ import annotations

from minigrad import nn
from minigrad.tensor import Tensor


class FashionCNN(nn.Module):
    """conv(32, 3×3) → ReLU → max-pool 2 → conv(64, 3×3) → ReLU → max-pool 2 → fc(128) → fc(10).

    ``features(x)`` returns the 128-d penultimate activations (what a Fréchet distance
    compares); ``forward(x)`` returns class logits.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 32) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * width * 7 * 7, 128),
            nn.ReLU(),
        )
        self.head = nn.Linear(128, num_classes)

    def features(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1:] != (self.body[0].in_channels, 28, 28):
            raise ValueError(
                f"FashionCNN expects images of shape (N, {self.body[0].in_channels}, 28, 28), "
                f"got {x.shape}"
            )
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))
