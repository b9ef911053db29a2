"""Dropout: zero each element (or each channel) with probability p while training.

The survivors are scaled by 1/(1-p), which keeps E[y] = x, so nothing changes between
training and evaluation.
"""

from __future__ import annotations

from minigrad.nn import functional as F
from minigrad.nn.activation import check_inplace
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability p must be a number in [0, 1], got {p!r}")
        self.p = float(p)
        self.inplace = check_inplace(inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Training: y = x * m / (1 - p), m ~ Bernoulli(1 - p) per element.  Eval: y = x."""

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Training: y[n, c] = x[n, c] * m[n, c] / (1 - p), one draw per channel.  Eval: y = x.

    Input (N, C, H, W): a whole feature map is kept or dropped together.
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout2d(x, self.p, self.training, self.inplace)
