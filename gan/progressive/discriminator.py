"""The growing discriminator: the generator's mirror, one downsampling block per doubling.

    fromRGB_k: Conv1x1 from image channels -> LReLU (one per level)
    level k:   Conv3x3 -> LReLU -> Conv3x3 -> LReLU -> 2x2 average pool
    level 0:   minibatch stddev -> Conv3x3 -> LReLU -> Linear -> LReLU -> Linear -> score

Only the top level's fromRGB reads the picture; ``grow()`` adds a level *in front* and
keeps every existing (trained) layer. While the new level fades in, its features are
blended with those of the previous fromRGB applied to the 2x2-pooled picture.

It is a WGAN critic: the score is unbounded (no sigmoid), and there is no BatchNorm,
because the gradient penalty is a per-example quantity that batch statistics would mix.
The one cross-example feature is the deliberate one: the minibatch standard deviation
(gan.remedies.MinibatchStdDev), which lets D see when G's samples lack variety.
"""

from __future__ import annotations

from gan.progressive.architecture import START_RESOLUTION, ProgressiveArchitecture
from gan.progressive.equalized import EqualizedConv2d, EqualizedLinear
from gan.progressive.fade_in import check_alpha, downsample, fade_in
from gan.remedies import MinibatchStdDev
from minigrad import Tensor, nn
from minigrad.nn import functional as F

LEAK = 0.2


class FromRGB(nn.Module):
    """(N, C, r, r) images -> (N, width, r, r) features: a 1x1 conv and a leaky ReLU."""

    def __init__(self, image_channels: int, width: int, dtype: object = None) -> None:
        super().__init__()
        self.conv = EqualizedConv2d(image_channels, width, 1, dtype=dtype)

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(self.conv(x), LEAK)


class DownBlock(nn.Module):
    """(N, in, 2r, 2r) -> (N, out, r, r): two 3x3 convs, then 2x2 average pooling."""

    def __init__(self, in_width: int, out_width: int, dtype: object = None) -> None:
        super().__init__()
        self.conv1 = EqualizedConv2d(in_width, in_width, 3, dtype=dtype)
        self.conv2 = EqualizedConv2d(in_width, out_width, 3, dtype=dtype)

    def forward(self, h: Tensor) -> Tensor:
        h = F.leaky_relu(self.conv1(h), LEAK)
        return downsample(F.leaky_relu(self.conv2(h), LEAK))


class FinalDiscriminatorBlock(nn.Module):
    """(N, width, 4, 4) -> (N, 1): minibatch stddev channel, a 3x3 conv, two dense layers."""

    def __init__(self, width: int, stddev_group: int, dtype: object = None) -> None:
        super().__init__()
        side = START_RESOLUTION
        self.stddev = MinibatchStdDev(stddev_group)
        self.conv = EqualizedConv2d(width + 1, width, 3, dtype=dtype)
        self.dense = EqualizedLinear(width * side * side, width, dtype=dtype)
        self.score = EqualizedLinear(width, 1, gain=1.0, dtype=dtype)

    def forward(self, h: Tensor) -> Tensor:
        h = F.leaky_relu(self.conv(self.stddev(h)), LEAK)
        h = F.leaky_relu(self.dense(h.flatten(1)), LEAK)
        return self.score(h)


class GrowingDiscriminator(nn.Module):
    """score = D(x, alpha): (N, C, r, r) at the current resolution r -> (N, 1).

    Starts at 4x4 with ``levels=1``; ``grow()`` doubles r. ``alpha`` is the fade-in
    weight of the newest level; with one level it is ignored.
    """

    def __init__(
        self, architecture: ProgressiveArchitecture, levels: int = 1, dtype: object = None
    ) -> None:
        super().__init__()
        self.architecture = architecture
        self.dtype = dtype
        width = architecture.widths[0]
        channels = architecture.image_channels
        self.blocks = nn.ModuleList(
            [FinalDiscriminatorBlock(width, architecture.stddev_group, dtype)]
        )
        self.from_rgb = nn.ModuleList([FromRGB(channels, width, dtype)])
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
            raise ValueError(f"levels must be a positive int, got {levels!r}")
        for _ in range(levels - 1):
            self.grow()

    @property
    def levels(self) -> int:
        return len(self.blocks)

    @property
    def resolution(self) -> int:
        return self.architecture.resolutions[self.levels - 1]

    def grow(self) -> None:
        """Add the next level (its block and fromRGB); existing layers are untouched."""
        level = self.levels
        widths = self.architecture.widths
        if level >= len(widths):
            raise ValueError(
                f"the discriminator is already at its largest resolution {self.resolution}"
            )
        self.blocks.append(DownBlock(widths[level], widths[level - 1], self.dtype))
        self.from_rgb.append(FromRGB(self.architecture.image_channels, widths[level], self.dtype))

    def forward(self, x: Tensor, alpha: float = 1.0) -> Tensor:
        alpha = check_alpha(alpha)
        shape = (self.architecture.image_channels, self.resolution, self.resolution)
        if x.ndim != 4 or tuple(x.shape[1:]) != shape:
            raise ValueError(
                f"GrowingDiscriminator expects (N, {', '.join(map(str, shape))}), got {x.shape}"
            )
        top = self.levels - 1
        h = self.blocks[top](self.from_rgb[top](x))
        if top > 0 and alpha < 1.0:
            h = fade_in(self.from_rgb[top - 1](downsample(x)), h, alpha)
        for level in range(top - 1, -1, -1):
            h = self.blocks[level](h)
        return h

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}"
