"""Dropout: zero each element with probability p while training, scaling the rest by 1/(1-p)."""

from __future__ import annotations

from minigrad.nn import functional as F
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class Dropout(Module):
    """Training: y = x * m / (1 - p), m ~ Bernoulli(1 - p) per element.  Eval: y = x.

    The 1/(1-p) scaling keeps E[y] = x, so nothing changes between the two modes.
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability p must be a number in [0, 1], got {p!r}")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
