"""The equalised learning rate (Karras et al. 2018, section 4.1).

Weights are *stored* as draws from N(0, 1) and *scaled at run time* by He's constant:

    w_used = c * w_stored,   c = gain / sqrt(fan_in),   gain = sqrt(2) by default

so each layer's output has the He-initialised variance from the first step. Why not just
initialise with std c? Because adaptive optimisers (Adam, RMSProp) normalise the update by
the gradient's own scale: the step taken in ``w_stored`` is about ``lr`` whatever the layer,
which makes the *relative* change ``lr / |w_stored|`` the same for every layer. With He
initialisation instead, a layer with a large fan-in (small weights) would learn relatively
faster than one with a small fan-in. Scaling at run time gives every layer the same
effective learning speed.

``fan_in`` = in_channels * kh * kw for a convolution, in_features for a linear layer.
``scale`` is a plain attribute, so a reader (or a test) can see the constant in use.
"""

from __future__ import annotations

import math

import minigrad as mg
from minigrad import Tensor, nn
from minigrad.nn import functional as F

HE_GAIN = math.sqrt(2.0)


def _positive(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def he_scale(fan_in: int, gain: float = HE_GAIN) -> float:
    """c = gain / sqrt(fan_in): He's standard deviation, applied at run time."""
    return gain / math.sqrt(fan_in)


class EqualizedConv2d(nn.Module):
    """y = conv2d(x, c * w, b), w ~ N(0, 1), b = 0, c = gain / sqrt(in_channels * k * k).

    Stride 1; ``padding`` defaults to k // 2 so odd kernels keep the spatial size.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        padding: int | None = None,
        gain: float = HE_GAIN,
        dtype: object = None,
    ) -> None:
        super().__init__()
        self.in_channels = _positive(in_channels, "in_channels")
        self.out_channels = _positive(out_channels, "out_channels")
        self.kernel_size = _positive(kernel_size, "kernel_size")
        self.padding = kernel_size // 2 if padding is None else padding
        self.scale = he_scale(in_channels * kernel_size * kernel_size, gain)
        self.weight = nn.Parameter(
            mg.randn(out_channels, in_channels, kernel_size, kernel_size, dtype=dtype)
        )
        self.bias = nn.Parameter(mg.zeros(out_channels, dtype=dtype))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"EqualizedConv2d expects (N, {self.in_channels}, H, W), got {x.shape}"
            )
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"padding={self.padding}, scale={self.scale:.4g}"
        )


class EqualizedLinear(nn.Module):
    """y = x (c * W)^T + b, W ~ N(0, 1) of shape (out, in), b = 0, c = gain / sqrt(in)."""

    def __init__(
        self, in_features: int, out_features: int, gain: float = HE_GAIN, dtype: object = None
    ) -> None:
        super().__init__()
        self.in_features = _positive(in_features, "in_features")
        self.out_features = _positive(out_features, "out_features")
        self.scale = he_scale(in_features, gain)
        self.weight = nn.Parameter(mg.randn(out_features, in_features, dtype=dtype))
        self.bias = nn.Parameter(mg.zeros(out_features, dtype=dtype))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"EqualizedLinear expects (..., {self.in_features}), got {x.shape}")
        return F.linear(x, self.weight * self.scale, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"scale={self.scale:.4g}"
        )
