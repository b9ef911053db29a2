"""Conv2d and ConvTranspose2d layers, with PyTorch's weight layouts and default inits.

Conv2d weight: (out_channels, in_channels, kh, kw).
ConvTranspose2d weight: (in_channels, out_channels, kh, kw) -- the transpose layer is the
backward (input gradient) of a Conv2d whose weight has this same array, which is why the
layout is "in" first.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.arguments import float_dtype, int_pair, positive_int
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.ops.activation import bias_activation
from minigrad.tensor import Tensor


class _ConvNd(Module):
    """Shared state of the two conv layers: sizes, weight, bias and PyTorch's default init.

    Init: weight ~ kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and
    bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), where fan_in = weight.shape[1] * kh * kw
    (for the transpose layer that is out_channels * kh * kw, as in PyTorch).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int],
        padding: int | tuple[int, int],
        bias: bool,
        transposed: bool,
        dtype: object,
    ):
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_channels = positive_int(out_channels, "out_channels")
        self.kernel_size = int_pair(kernel_size, "kernel_size", 1)
        self.stride = int_pair(stride, "stride", 1)
        self.padding = int_pair(padding, "padding", 0)
        channels = (in_channels, out_channels) if transposed else (out_channels, in_channels)
        dtype = float_dtype(dtype)
        self.weight = Parameter(np.zeros((*channels, *self.kernel_size), dtype))
        if bias:
            self.bias = Parameter(np.zeros(out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            bound = 1.0 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__} expects input of shape (N, {self.in_channels}, H, W), "
                f"got {tuple(x.shape)}"
            )

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv2d(_ConvNd):
    """y[n, o] = b[o] + sum_c x[n, c] (*) w[o, c], cross-correlation with stride and zero padding.

    Output size: H_out = (H + 2 * padding - kh) // stride + 1 (likewise W).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        dtype: object = None,
    ):
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, bias, False, dtype
        )

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def forward_activation(self, x: Tensor, activation: str, negative_slope: float = 0.0) -> Tensor:
        """f(forward(x)) with the bias and f as one fused node (minigrad/nn/fusion.py)."""
        self._check_input(x)
        y = F.conv2d(x, self.weight, None, stride=self.stride, padding=self.padding)
        return bias_activation(y, self.bias, 1, activation, negative_slope)


class ConvTranspose2d(_ConvNd):
    """The input-gradient of Conv2d used as a layer: each input pixel scatters w[c] * x[n, c].

    Output size: H_out = (H - 1) * stride - 2 * padding + kh + output_padding (likewise W).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        bias: bool = True,
        dtype: object = None,
    ):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, bias, True, dtype)
        self.output_padding = int_pair(output_padding, "output_padding", 0)
        if any(op >= s for op, s in zip(self.output_padding, self.stride, strict=True)):
            raise ValueError(
                f"output_padding must be smaller than stride, got output_padding="
                f"{self.output_padding} with stride={self.stride}"
            )

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        return F.conv_transpose2d(
            x,
            self.weight,
            self.bias,
            stride=self.stride,
            padding=self.padding,
            output_padding=self.output_padding,
        )

    def forward_activation(self, x: Tensor, activation: str, negative_slope: float = 0.0) -> Tensor:
        """f(forward(x)) with the bias and f as one fused node (minigrad/nn/fusion.py)."""
        self._check_input(x)
        y = F.conv_transpose2d(
            x,
            self.weight,
            None,
            stride=self.stride,
            padding=self.padding,
            output_padding=self.output_padding,
        )
        return bias_activation(y, self.bias, 1, activation, negative_slope)
