"""Small fully connected generator and discriminator for the 1-D and 2-D toy problems."""

from __future__ import annotations

from gan.remedies import diversity_layer
from minigrad import Tensor, nn


class MLPGenerator(nn.Module):
    """x = G(z): ``depth`` hidden Linear(+BatchNorm)+ReLU layers of ``width`` units, then a
    Linear to data.

    No output squashing: the toy targets live on the whole real line / plane.
    ``batch_norm=True`` normalises each hidden layer over the batch (as the DCGAN
    generator does); that couples the samples of a batch, which by itself works against
    mode collapse (measured in gan/experiments/mode_coverage.py).
    """

    def __init__(
        self,
        z_dim: int,
        data_dim: int,
        width: int = 128,
        depth: int = 3,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        _check_sizes(z_dim=z_dim, data_dim=data_dim, width=width, depth=depth)
        self.z_dim = z_dim
        layers: list[nn.Module] = []
        size = z_dim
        for _ in range(depth):
            layers.append(nn.Linear(size, width))
            if batch_norm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(nn.ReLU())
            size = width
        layers.append(nn.Linear(size, data_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"MLPGenerator expects z of shape (N, {self.z_dim}), got {z.shape}")
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """logit = D(x): ``depth`` hidden Linear+LeakyReLU(0.2) layers, [remedy], Linear to 1.

    ``remedy`` ("none", "minibatch-discrimination", "minibatch-stddev") inserts a
    batch-diversity layer before the last Linear (see gan/remedies.py).
    """

    def __init__(
        self,
        data_dim: int,
        width: int = 128,
        depth: int = 2,
        remedy: str = "none",
        stddev_group: int = 4,
    ) -> None:
        super().__init__()
        _check_sizes(data_dim=data_dim, width=width, depth=depth)
        self.data_dim = data_dim
        layers: list[nn.Module] = []
        size = data_dim
        for _ in range(depth):
            layers += [nn.Linear(size, width), nn.LeakyReLU(0.2)]
            size = width
        self.body = nn.Sequential(*layers)
        self.remedy, head_inputs = diversity_layer(remedy, (width,), stddev_group)
        self.head = nn.Linear(head_inputs, 1)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 2 or x.shape[1] != self.data_dim:
            raise ValueError(
                f"MLPDiscriminator expects x of shape (N, {self.data_dim}), got {x.shape}"
            )
        features = self.body(x)
        if self.remedy is not None:
            features = self.remedy(features)
        return self.head(features)


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
