"""The growing generator: a 4x4 block, then one upsampling block per doubling.

    level 0:  z -> pixel_norm -> Linear -> 4x4 map -> LReLU, PN -> Conv3x3 -> LReLU, PN
    level k:  upsample(2x nearest) -> Conv3x3 -> LReLU, PN -> Conv3x3 -> LReLU, PN
    toRGB_k:  Conv1x1 to image channels, no activation (one per level)

Only the last level's toRGB makes the picture. ``grow()`` appends a level (and its toRGB)
and leaves every existing layer, trained weights and all, as it was. While the new level
fades in, the picture is blended with the upsampled output of the previous toRGB (see
``fade_in.py``). Every layer uses the equalised learning rate and every convolution is
followed by pixelwise normalisation, as in Karras et al. 2018 (Table 2), at our widths.
"""

from __future__ import annotations

from gan.progressive.architecture import START_RESOLUTION, ProgressiveArchitecture
from gan.progressive.equalized import EqualizedConv2d, EqualizedLinear
from gan.progressive.fade_in import check_alpha, fade_in, upsample
from gan.progressive.pixel_norm import pixel_norm
from minigrad import Tensor, nn
from minigrad.nn import functional as F

LEAK = 0.2


class FirstGeneratorBlock(nn.Module):
    """z (N, z_dim) -> features (N, width, 4, 4): normalise z, project, then one 3x3 conv."""

    def __init__(self, z_dim: int, width: int, dtype: object = None) -> None:
        super().__init__()
        self.z_dim, self.width = z_dim, width
        side = START_RESOLUTION
        self.project = EqualizedLinear(z_dim, width * side * side, dtype=dtype)
        self.conv = EqualizedConv2d(width, width, 3, dtype=dtype)

    def forward(self, z: Tensor) -> Tensor:
        side = START_RESOLUTION
        # Normalising z puts every latent on the same sphere, as the paper does.
        h = self.project(pixel_norm(z)).reshape(z.shape[0], self.width, side, side)
        h = pixel_norm(F.leaky_relu(h, LEAK))
        return pixel_norm(F.leaky_relu(self.conv(h), LEAK))


class UpBlock(nn.Module):
    """(N, in, r, r) -> (N, out, 2r, 2r): nearest upsampling, then two 3x3 convs."""

    def __init__(self, in_width: int, out_width: int, dtype: object = None) -> None:
        super().__init__()
        self.conv1 = EqualizedConv2d(in_width, out_width, 3, dtype=dtype)
        self.conv2 = EqualizedConv2d(out_width, out_width, 3, dtype=dtype)

    def forward(self, h: Tensor) -> Tensor:
        h = pixel_norm(F.leaky_relu(self.conv1(upsample(h)), LEAK))
        return pixel_norm(F.leaky_relu(self.conv2(h), LEAK))


class GrowingGenerator(nn.Module):
    """x = G(z, alpha): images (N, C, r, r) at the current resolution r, unbounded values.

    Starts at 4x4 with ``levels=1``; ``grow()`` doubles r. ``alpha`` (0..1) is the fade-in
    weight of the newest level; with one level it is ignored.
    """

    def __init__(
        self, architecture: ProgressiveArchitecture, levels: int = 1, dtype: object = None
    ) -> None:
        super().__init__()
        self.architecture = architecture
        self.dtype = dtype
        width = architecture.widths[0]
        self.blocks = nn.ModuleList([FirstGeneratorBlock(architecture.z_dim, width, dtype)])
        self.to_rgb = nn.ModuleList([self._to_rgb(width)])
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
            raise ValueError(f"levels must be a positive int, got {levels!r}")
        for _ in range(levels - 1):
            self.grow()

    def _to_rgb(self, width: int) -> EqualizedConv2d:
        # gain 1: a linear output layer, as the paper's toRGB.
        return EqualizedConv2d(
            width, self.architecture.image_channels, 1, gain=1.0, dtype=self.dtype
        )

    @property
    def levels(self) -> int:
        return len(self.blocks)

    @property
    def resolution(self) -> int:
        return self.architecture.resolutions[self.levels - 1]

    def grow(self) -> None:
        """Append the next level and its toRGB; existing layers are untouched."""
        level = self.levels
        widths = self.architecture.widths
        if level >= len(widths):
            raise ValueError(
                f"the generator is already at its largest resolution {self.resolution}"
            )
        self.blocks.append(UpBlock(widths[level - 1], widths[level], self.dtype))
        self.to_rgb.append(self._to_rgb(widths[level]))

    def forward(self, z: Tensor, alpha: float = 1.0) -> Tensor:
        alpha = check_alpha(alpha)
        z_dim = self.architecture.z_dim
        if z.ndim != 2 or z.shape[1] != z_dim:
            raise ValueError(f"GrowingGenerator expects z of shape (N, {z_dim}), got {z.shape}")
        h = self.blocks[0](z)
        top = self.levels - 1
        if top == 0:
            return self.to_rgb[0](h)
        for level in range(1, top):
            h = self.blocks[level](h)
        new = self.to_rgb[top](self.blocks[top](h))
        if alpha == 1.0:
            return new
        old = upsample(self.to_rgb[top - 1](h))
        return fade_in(old, new, alpha)

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}"
