"""DCGAN (Radford et al. 2016) for 28x28 and 32x32 single-channel images.

Generator: z (N, z_dim) -> project to a small map with a ConvTranspose2d -> a stack of
stride-2 ConvTranspose2d + BatchNorm + ReLU that doubles the size each time -> Tanh.
Discriminator: stride-2 Conv2d + LeakyReLU(0.2) (no BatchNorm on the first layer, as in
the paper) halving the size each time -> [a mode-collapse remedy] -> one logit.

A stride-2 ConvTranspose2d is exactly the backward pass of a stride-2 Conv2d with
respect to its input: the generator's upsampling layer is the discriminator's
downsampling layer run backwards (minigrad computes both with the same kernels).

Sizes: 28 = 7 * 2 * 2 (two upsamplings from 7x7), 32 = 4 * 2 * 2 * 2 (three from 4x4).
With ``width`` w the generator's first map has w * 2^(ups - 1) channels, halving each step.
"""

from __future__ import annotations

import minigrad as mg
from gan.remedies import diversity_layer
from minigrad import Tensor, nn

# image side -> (side of the first feature map, number of stride-2 steps)
LAYOUTS = {28: (7, 2), 32: (4, 3)}


def _layout(image_size: int) -> tuple[int, int]:
    if image_size not in LAYOUTS:
        raise ValueError(f"image_size must be one of {sorted(LAYOUTS)}, got {image_size!r}")
    return LAYOUTS[image_size]


class DCGANGenerator(nn.Module):
    """x = G(z): ConvT(z -> C0, k=s0) BN ReLU, then [ConvT(k4 s2 p1) BN ReLU]*, ConvT, Tanh.

    Output (N, channels, image_size, image_size) in [-1, 1].
    """

    def __init__(
        self, z_dim: int = 64, image_size: int = 28, channels: int = 1, width: int = 32
    ) -> None:
        super().__init__()
        start, ups = _layout(image_size)
        self.z_dim, self.image_size, self.channels = z_dim, image_size, channels
        size = width * 2 ** (ups - 1)
        layers: list[nn.Module] = [
            # A 1x1 input through a k x k transposed conv is a fully connected projection
            # onto a k x k map.
            nn.ConvTranspose2d(z_dim, size, start, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(size),
            nn.ReLU(),
        ]
        for _ in range(ups - 1):
            layers += [
                nn.ConvTranspose2d(size, size // 2, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(size // 2),
                nn.ReLU(),
            ]
            size //= 2
        layers += [nn.ConvTranspose2d(size, channels, 4, stride=2, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"DCGANGenerator expects z of shape (N, {self.z_dim}), got {z.shape}")
        return self.net(z.reshape(z.shape[0], self.z_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """logit = D(x): [Conv(k4 s2 p1) (BN) LeakyReLU(0.2)]* -> [remedy] -> Flatten -> Linear.

    ``batch_norm=False`` drops BatchNorm everywhere (WGAN-GP: the gradient penalty is
    per example, which batch statistics would mix). ``remedy`` is one of
    gan.remedies.REMEDIES.
    """

    def __init__(
        self,
        image_size: int = 28,
        channels: int = 1,
        width: int = 32,
        batch_norm: bool = True,
        remedy: str = "none",
        stddev_group: int = 4,
    ) -> None:
        super().__init__()
        start, downs = _layout(image_size)
        self.image_size, self.channels = image_size, channels
        layers: list[nn.Module] = []
        size_in, size_out = channels, width
        for index in range(downs):
            normalised = batch_norm and index > 0
            # A conv followed by BatchNorm needs no bias: BN's beta takes its place.
            layers.append(nn.Conv2d(size_in, size_out, 4, stride=2, padding=1, bias=not normalised))
            if normalised:
                layers.append(nn.BatchNorm2d(size_out))
            layers.append(nn.LeakyReLU(0.2))
            size_in, size_out = size_out, size_out * 2
        self.body = nn.Sequential(*layers)
        self.remedy, head_inputs = diversity_layer(remedy, (size_in, start, start), stddev_group)
        self.head = nn.Linear(head_inputs, 1)

    def forward(self, x: Tensor) -> Tensor:
        expected = (self.channels, self.image_size, self.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"DCGANDiscriminator expects images (N, {expected}), got {x.shape}")
        features = self.body(x)
        if self.remedy is not None:
            features = self.remedy(features)
        return self.head(features.flatten(1))


def dcgan_init_(model: nn.Module) -> nn.Module:
    """DCGAN's initialisation, in place: conv/linear weights ~ N(0, 0.02), biases 0,
    BatchNorm gamma ~ N(1, 0.02), beta 0. Returns ``model``.
    """
    with mg.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
                nn.init.normal_(module.weight, 0.0, 0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.normal_(module.weight, 1.0, 0.02)
                nn.init.zeros_(module.bias)
    return model
