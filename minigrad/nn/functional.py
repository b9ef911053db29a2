"""``minigrad.nn.functional``: PyTorch's functional API, built from differentiable ops.

Layers (``minigrad.nn``) hold parameters and call these; a user can call them directly.
Losses (``minigrad/nn/loss_functions.py``) follow PyTorch's signatures, resizing is in
``minigrad/nn/resize.py``; both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import random
from minigrad.autograd import is_grad_enabled, no_grad
from minigrad.nn.loss_functions import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from minigrad.nn.resize import interpolate
from minigrad.ops import activation, conv, pool, reduce, shape, where
from minigrad.ops.batch_norm import normalize_batch
from minigrad.tensor import Tensor

sigmoid = activation.sigmoid
tanh = activation.tanh
logsigmoid = activation.logsigmoid
softmax = reduce.softmax
log_softmax = reduce.log_softmax


def _pair(value: Any, name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v >= 0 for v in pair):
        raise ValueError(f"{name} must be a non-negative int or a pair of them, got {value!r}")
    return pair  # type: ignore[return-value]


def _check_image(x: Tensor, name: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"{name}: input must be 4-D (N, C, H, W), got shape {x.shape}")


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, with W of shape (out_features, in_features)."""
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features (shape {x.shape}) but weight expects "
            f"{weight.shape[1]} (weight shape {weight.shape})"
        )
    y = x @ weight.T
    return y + bias if bias is not None else y


def _add_channel_bias(y: Tensor, bias: Tensor | None) -> Tensor:
    return y if bias is None else y + bias.reshape(1, -1, 1, 1)


def conv2d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0
) -> Tensor:
    """y[n, o] = b[o] + Σ_c w[o, c] ⋆ x[n, c]; weight (out, in, kh, kw)."""
    _check_image(x, "conv2d")
    if weight.ndim != 4 or weight.shape[1] != x.shape[1]:
        raise ValueError(
            f"conv2d: weight must be (out, {x.shape[1]}, kh, kw) for input {x.shape}, "
            f"got {weight.shape}"
        )
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    if stride[0] == 0 or stride[1] == 0:
        raise ValueError(f"conv2d: stride must be positive, got {stride}")
    for size, k, p in zip(x.shape[2:], weight.shape[2:], padding, strict=True):
        if size + 2 * p < k:
            raise ValueError(
                f"conv2d: kernel {weight.shape[2:]} is larger than the padded input "
                f"{tuple(s + 2 * q for s, q in zip(x.shape[2:], padding, strict=True))}"
            )
    # Keep the forward's im2col for the weight gradient when one will be taken.
    keep_columns = weight.requires_grad and is_grad_enabled()
    y = conv.Conv2d.apply(x, weight, stride=stride, padding=padding, keep_columns=keep_columns)
    return _add_channel_bias(y, bias)


def conv_transpose2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
) -> Tensor:
    """The adjoint of conv2d: weight (in, out, kh, kw).

    H_out = (H - 1)·stride - 2·padding + kh + output_padding. This is exactly the
    gradient of a conv2d with respect to its input — a generator upsamples with the
    same computation a discriminator uses to send gradients back to its image.
    """
    _check_image(x, "conv_transpose2d")
    if weight.ndim != 4 or weight.shape[0] != x.shape[1]:
        raise ValueError(
            f"conv_transpose2d: weight must be ({x.shape[1]}, out, kh, kw) for input "
            f"{x.shape}, got {weight.shape}"
        )
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    output_padding = _pair(output_padding, "output_padding")
    if any(op >= s for op, s in zip(output_padding, stride, strict=True)):
        raise ValueError(
            f"conv_transpose2d: output_padding {output_padding} must be smaller than stride "
            f"{stride}"
        )
    out_hw = tuple(
        (size - 1) * s - 2 * p + k + op
        for size, s, p, k, op in zip(
            x.shape[2:], stride, padding, weight.shape[2:], output_padding, strict=True
        )
    )
    if min(out_hw) <= 0:
        raise ValueError(f"conv_transpose2d: output size {out_hw} is not positive")
    y = conv.ConvInputGrad.apply(x, weight, input_hw=out_hw, stride=stride, padding=padding)
    return _add_channel_bias(y, bias)


def _pool_args(x: Tensor, kernel_size: Any, stride: Any, padding: Any, name: str) -> dict:
    """Checked window options shared by the two pools (stride defaults to the kernel)."""
    _check_image(x, name)
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(stride, "stride")
    padding = _pair(padding, "padding")
    if any(2 * p > k for p, k in zip(padding, kernel, strict=True)):
        raise ValueError(f"{name}: padding {padding} must be at most half of {kernel}")
    return {"kernel_size": kernel, "stride": stride, "padding": padding}


def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    return pool.MaxPool2d.apply(x, **_pool_args(x, kernel_size, stride, padding, "max_pool2d"))


def avg_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    return pool.AvgPool2d.apply(x, **_pool_args(x, kernel_size, stride, padding, "avg_pool2d"))


def _in_place(x: Tensor, result: Tensor, inplace: bool) -> Tensor:
    """``inplace=True``: write ``result`` into ``x`` and return ``x``, where that is allowed.

    Allowed when no graph is being recorded through ``x`` (grad disabled, or ``x`` does
    not require grad). A tensor the graph records is never overwritten in minigrad: there
    the result comes back as a new tensor with the same values (PyTorch would overwrite
    ``x``), so the call saves no memory but computes the same thing.
    """
    if not inplace or (x.requires_grad and is_grad_enabled()):
        return result
    return x.copy_(result)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """y = ln(1 + e^(βx)) / β, and y = x where βx > threshold (where the two agree to ~1e-9)."""
    if beta <= 0:
        raise ValueError(f"softplus: beta must be > 0, got {beta}")
    smooth = activation.softplus(input * beta) / beta if beta != 1 else activation.softplus(input)
    return where(input * beta > threshold, input, smooth)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = x if x > 0 else α (e^x - 1)."""
    # exp of min(x, 0) only: the x > 0 side never overflows nor sends inf·0 back.
    negative = (input.clamp(max=0).exp() - 1) * alpha
    return _in_place(input, activation.relu(input) + negative, inplace)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = x σ(x) (also called swish)."""
    return _in_place(input, input * activation.sigmoid(input), inplace)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 (..., num_classes) with a 1 at each index of ``tensor`` (int64 class indices).

    ``num_classes=-1`` takes one more than the largest index.
    """
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: tensor must hold int class indices, got {tensor.dtype}")
    labels = tensor.numpy()
    if labels.size and labels.min() < 0:
        raise ValueError("one_hot: class indices must be >= 0")
    classes = int(labels.max()) + 1 if num_classes == -1 and labels.size else num_classes
    if classes < 1 or (labels.size and labels.max() >= classes):
        raise ValueError(f"one_hot: indices must be below num_classes={num_classes}")
    encoded = (labels[..., None] == np.arange(classes)).astype(np.int64)
    return Tensor(encoded, dtype=np.int64, device=tensor.device)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = max(x, 0)"""
    return _in_place(input, activation.relu(input), inplace)


def leaky_relu(
    input: Tensor,  # noqa: A002
    negative_slope: float = 0.01,
    inplace: bool = False,
) -> Tensor:
    """y = x if x > 0 else negative_slope * x"""
    return _in_place(input, activation.leaky_relu(input, negative_slope), inplace)


def dropout(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    return _in_place(input, _dropout_with_mask_shape(input, p, training, input.shape), inplace)


def dropout2d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Zero whole channels: y[n, c] = x[n, c] * m[n, c] / (1 - p), m ~ Bernoulli(1 - p).

    Neighbouring pixels of a feature map are strongly correlated, so dropping single
    pixels barely regularises a conv net; dropping the whole map does. Input (N, C, H, W).
    """
    if input.ndim != 4:
        raise ValueError(f"dropout2d: input must be 4-D (N, C, H, W), got shape {input.shape}")
    mask_shape = (input.shape[0], input.shape[1], 1, 1)
    return _in_place(input, _dropout_with_mask_shape(input, p, training, mask_shape), inplace)


def _dropout_with_mask_shape(
    x: Tensor, p: float, training: bool, mask_shape: tuple[int, ...]
) -> Tensor:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a number in [0, 1], got {p!r}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    keep = random.uniform_array(mask_shape, x.dtype, x.device) >= p
    return x * Tensor._make(keep.astype(x.dtype) / (1 - p), x.device, False)


def pad(
    input: Tensor,  # noqa: A002
    pad: Sequence[int],
    mode: str = "constant",
    value: float | None = None,
) -> Tensor:
    """PyTorch's ``F.pad``: ``pad`` is (left, right) of the last dim, then (top, bottom) of
    the one before, ...; only ``mode="constant"`` (fill with ``value``, default 0)."""
    if mode != "constant":
        raise ValueError(f"pad: mode must be 'constant' (the only one minigrad has), got {mode!r}")
    return shape.pad(input, pad, 0.0 if value is None else value)


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """y = (x - μ) / √(σ² + eps) · γ + β, per channel (dim 1).

    Training: μ, σ² are the batch's (biased σ² for normalising); the running estimates
    move by ``momentum`` toward the batch's mean and unbiased variance. Eval: the running
    estimates are used.
    """
    return batch_norm_activation(
        x, running_mean, running_var, weight, bias, training, momentum, eps, None
    )


def batch_norm_activation(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
    activation: str | None,
    negative_slope: float = 0.0,
) -> Tensor:
    """z = f(batch_norm(x, ...)): :func:`batch_norm` followed by the activation f (None,
    "relu", "leaky_relu", "tanh", "sigmoid"; minigrad/nn/fusion.py calls it for a
    BatchNorm layer followed by one). In training, normalisation, affine map and f are one
    fused node (minigrad/ops/batch_norm.py); in eval f follows the affine map.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, ...), got shape {x.shape}")
    stat_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        count = x.numel() // x.shape[1]
        if count <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, "
                f"got input shape {x.shape}"
            )
        if (weight is None) != (bias is None):  # the fused node takes both or neither
            like = weight if bias is None else bias
            weight = weight if weight is not None else x.new_ones(like.shape)
            bias = bias if bias is not None else x.new_zeros(like.shape)
        y, mean, variance = normalize_batch(x, weight, bias, eps, activation, negative_slope)
        if running_mean is not None and running_var is not None:
            with no_grad():
                unbiased = variance * (count / (count - 1))
                running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
                running_var.mul_(1 - momentum).add_(unbiased, alpha=momentum)
        return y
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: eval mode needs running_mean and running_var")
    centred = x - running_mean.reshape(stat_shape)
    y = centred / (running_var.reshape(stat_shape) + eps).sqrt()
    return _activation(_affine(y, weight, bias, stat_shape), activation, negative_slope)


def _affine(y: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple) -> Tensor:
    """y · γ + β with per-channel γ, β reshaped to ``shape`` (either may be None)."""
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _activation(y: Tensor, name: str | None, negative_slope: float) -> Tensor:
    """The activation ``name`` applied by its own op (the unfused path)."""
    if name is None:
        return y
    if name == "leaky_relu":
        return activation.leaky_relu(y, negative_slope)
    return {"relu": activation.relu, "tanh": activation.tanh, "sigmoid": activation.sigmoid}[
        name
    ](y)


__all__ = [
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "elu",
    "huber_loss",
    "interpolate",
    "kl_div",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "relu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]
