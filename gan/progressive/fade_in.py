"""The fade-in: how a new, untrained block joins a trained network without a shock.

When the networks grow from resolution r/2 to r, the new block starts from random
weights. Switching it on at once would hand the trained layers garbage. Instead the new
block runs *in parallel* with a path that skips it, and their outputs are blended:

    generator:      out = (1 - alpha) * upsample(toRGB_old(h)) + alpha * toRGB_new(block(up(h)))
    discriminator:  h   = (1 - alpha) * fromRGB_old(downsample(x)) + alpha * block(fromRGB_new(x))
    real images:    x_r = (1 - alpha) * upsample(downsample(x_r)) + alpha * x_r

while alpha rises linearly from 0 to 1 over the transition. At alpha = 0 the grown
networks compute exactly what the old ones did (on upsampled / downsampled images); at
alpha = 1 only the new block is used. Blending the real images the same way keeps the
discriminator's job fair: during the fade it sees reals exactly as blurry as the fakes
the half-grown generator can make.

Resampling is the paper's: nearest-neighbour upsampling (each pixel becomes a 2x2 block)
and 2x2 average pooling, which are each other's one-sided inverse:
downsample(upsample(x)) = x.
"""

from __future__ import annotations

from minigrad import Tensor
from minigrad.nn import functional as F


def check_alpha(alpha: float) -> float:
    """alpha as a float, or a ValueError unless 0 <= alpha <= 1."""
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")
    return float(alpha)


def upsample(x: Tensor) -> Tensor:
    """Nearest-neighbour 2x upsampling: y[.., 2i + a, 2j + b] = x[.., i, j], a, b in {0, 1}."""
    return F.interpolate(x, scale_factor=2, mode="nearest")


def downsample(x: Tensor) -> Tensor:
    """2x2 average pooling: y[.., i, j] = mean of x[.., 2i:2i+2, 2j:2j+2]."""
    return F.avg_pool2d(x, 2)


def fade_in(old: Tensor, new: Tensor, alpha: float) -> Tensor:
    """(1 - alpha) * old + alpha * new; exactly ``old`` at alpha = 0 and ``new`` at 1.

    The end points are returned as they are (not multiplied by 0 and 1), so a fully faded
    network does not pay for, or backpropagate into, the path it no longer uses.
    """
    alpha = check_alpha(alpha)
    if old.shape != new.shape:
        raise ValueError(f"fade_in needs old and new of one shape, got {old.shape} and {new.shape}")
    if alpha == 0.0:
        return old
    if alpha == 1.0:
        return new
    return old + alpha * (new - old)


def blend_reals(images: Tensor, alpha: float) -> Tensor:
    """x_r = (1 - alpha) * upsample(downsample(x_r)) + alpha * x_r, for images (N, C, r, r).

    The real-image side of the fade-in: at alpha = 0 a real image has only the detail of
    the previous resolution (blown up to the new size), as the generator's output does.
    """
    alpha = check_alpha(alpha)
    if alpha == 1.0:
        return images
    return fade_in(upsample(downsample(images)), images, alpha)
