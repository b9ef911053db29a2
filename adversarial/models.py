"""The three classifiers under attack, all for 28×28 single-channel images, all ending in
logits (no softmax: the attacks' losses need unnormalised scores).

* ``lenet``  — LeNet-5 style (LeCun et al. 1998): two 5×5 convs with max-pooling, fc 120-84.
* ``wong``   — the conv16-conv32-fc100 net Wong et al. (2020) train with "fast" FGSM
  adversarial training: two 4×4 stride-2 convs, no pooling. The cheapest of the three.
* ``madry``  — the larger net of Madry et al. (2018)'s MNIST challenge: 5×5 convs with
  32 and 64 channels, max-pooling, fc 1024. ``width`` scales the channels (1.0 = paper).
"""

from __future__ import annotations

from collections.abc import Callable

from minigrad import nn


def lenet(num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    """conv6(5×5, pad 2)-pool-conv16(5×5)-pool-fc120-fc84-fc(classes)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, num_classes),
    )


def wong(num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    """conv16(4×4, stride 2, pad 1)-conv32(4×4, stride 2, pad 1)-fc100-fc(classes)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 100),
        nn.ReLU(),
        nn.Linear(100, num_classes),
    )


def madry(num_classes: int = 10, in_channels: int = 1, width: float = 1.0) -> nn.Module:
    """conv32(5×5, pad 2)-pool-conv64(5×5, pad 2)-pool-fc1024-fc(classes), channels × width."""
    if not 0 < width <= 4:
        raise ValueError(f"width must be in (0, 4], got {width!r}")
    c1, c2, hidden = (max(1, round(n * width)) for n in (32, 64, 1024))
    return nn.Sequential(
        nn.Conv2d(in_channels, c1, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * 7 * 7, hidden),
        nn.ReLU(),
        nn.Linear(hidden, num_classes),
    )


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {"lenet": lenet, "wong": wong, "madry": madry}


def build_classifier(name: str, num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    """One of :data:`ARCHITECTURES` by name, freshly initialised from minigrad's generator."""
    if name not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {sorted(ARCHITECTURES)}, got {name!r}")
    return ARCHITECTURES[name](num_classes=num_classes, in_channels=in_channels)
