"""BatchNorm1d and BatchNorm2d: normalise each channel by batch (training) or running stats.

    y = (x - mean) / sqrt(var + eps) * weight + bias

In training, mean and var are the biased statistics of the batch over every axis but the
channel axis, and the running statistics move toward the batch ones:
    running = (1 - momentum) * running + momentum * batch_stat
using the *unbiased* batch variance for running_var (as PyTorch). With ``momentum=None``
the running statistics are the cumulative average over all batches seen
(factor 1 / num_batches_tracked). In eval mode the running statistics are used.
"""

from __future__ import annotations

import numpy as np

from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.arguments import float_dtype, positive_int
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor


class _BatchNorm(Module):
    """The shared layer; subclasses only say which input ranks they accept."""

    _accepted_ndims: tuple[int, ...] = ()
    _shape_text = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: object = None,
    ):
        super().__init__()
        self.num_features = positive_int(num_features, "num_features")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1] or None, got {momentum!r}")
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        dtype = float_dtype(dtype)
        if self.affine:
            self.weight = Parameter(np.ones(num_features, dtype))
            self.bias = Parameter(np.zeros(num_features, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.zeros((), np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_activation(x, None)

    def forward_activation(
        self, x: Tensor, activation: str | None, negative_slope: float = 0.0
    ) -> Tensor:
        """f(forward(x)); in training one fused node with f (minigrad/nn/fusion.py)."""
        if x.ndim not in self._accepted_ndims or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) expects input of shape "
                f"{self._shape_text.format(C=self.num_features)}, got {tuple(x.shape)}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        # Without running statistics there is nothing to use in eval: use the batch's.
        use_batch_stats = self.training or not self.track_running_stats
        return F.batch_norm_activation(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
            activation,
            negative_slope,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input, statistics per channel C."""

    _accepted_ndims = (2, 3)
    _shape_text = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) input, statistics per channel C."""

    _accepted_ndims = (4,)
    _shape_text = "(N, {C}, H, W)"
