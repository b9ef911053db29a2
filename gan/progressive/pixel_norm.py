"""Pixelwise feature normalisation (Karras et al. 2018, section 4.2).

After every convolution of the progressive generator, the feature vector at each pixel
is scaled to unit length (in the root-mean-square sense):

    b[n, :, y, x] = a[n, :, y, x] / sqrt(mean_c a[n, c, y, x]^2 + eps)

It has no parameters and no batch statistics (unlike BatchNorm), so each sample is
generated on its own; its job is to stop the generator's and discriminator's escalating
magnitudes from running away when the two compete.
"""

from __future__ import annotations

from minigrad import Tensor, nn


def pixel_norm(x: Tensor, eps: float = 1e-8) -> Tensor:
    """b = a / sqrt(mean over channels of a^2 + eps), for a of shape (N, C, ...) (C is dim 1)."""
    if x.ndim < 2:
        raise ValueError(f"pixel_norm expects (N, C, ...) with a channel dimension, got {x.shape}")
    return x / ((x * x).mean(dim=1, keepdim=True) + eps).sqrt()


class PixelNorm(nn.Module):
    """The layer form of :func:`pixel_norm`: unit RMS feature vector at every pixel."""

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        if not eps > 0:
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        self.eps = float(eps)

    def forward(self, x: Tensor) -> Tensor:
        return pixel_norm(x, self.eps)

    def extra_repr(self) -> str:
        return f"eps={self.eps}"
