"""``minigrad.nn.functional``: PyTorch's functional API, built from differentiable ops.

Layers (``minigrad.nn``) hold parameters and call these; a user can call them directly.
Losses follow PyTorch's argument order ``(input, target)`` and ``reduction``.
"""

from __future__ import annotations

from typing import Any

from minigrad import random
from minigrad.autograd import no_grad
from minigrad.ops import activation, conv, pool, reduce, shape
from minigrad.ops.batch_norm import normalize_batch
from minigrad.ops.broadcast import expand
from minigrad.ops.softmax_cross_entropy import softmax_cross_entropy
from minigrad.tensor import Tensor

relu = activation.relu
leaky_relu = activation.leaky_relu
sigmoid = activation.sigmoid
tanh = activation.tanh
softplus = activation.softplus
logsigmoid = activation.logsigmoid
softmax = reduce.softmax
log_softmax = reduce.log_softmax
pad = shape.pad


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
    y = conv.Conv2d.apply(x, weight, stride=stride, padding=padding)
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


def interpolate(x: Tensor, scale_factor: int = 2, mode: str = "nearest") -> Tensor:
    """Nearest-neighbour upsampling by an integer factor: each pixel becomes an s×s block."""
    _check_image(x, "interpolate")
    if mode != "nearest":
        raise ValueError(f"interpolate: only mode='nearest' is supported, got {mode!r}")
    if int(scale_factor) != scale_factor or scale_factor < 1:
        raise ValueError(f"interpolate: scale_factor must be a positive int, got {scale_factor}")
    s = int(scale_factor)
    n, c, h, w = x.shape
    blocks = expand(x.reshape(n, c, h, 1, w, 1), n, c, h, s, w, s)
    return blocks.reshape(n, c, h * s, w * s)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    keep = random.uniform_array(x.shape, x.dtype, x.device) >= p
    return x * Tensor._make(keep.astype(x.dtype) / (1 - p), x.device, False)


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
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, ...), got shape {x.shape}")
    axes = (0, *range(2, x.ndim))
    stat_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        count = x.numel() // x.shape[1]
        if count <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, "
                f"got input shape {x.shape}"
            )
        # One Function with the classic backward formula (minigrad/ops/batch_norm.py).
        y, mean, variance = normalize_batch(x, axes, eps)
        if running_mean is not None and running_var is not None:
            with no_grad():
                unbiased = variance.reshape(-1) * (count / (count - 1))
                running_mean.mul_(1 - momentum).add_(mean.reshape(-1), alpha=momentum)
                running_var.mul_(1 - momentum).add_(unbiased, alpha=momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: eval mode needs running_mean and running_var")
        centred = x - running_mean.reshape(stat_shape)
        y = centred / (running_var.reshape(stat_shape) + eps).sqrt()
    if weight is not None:
        y = y * weight.reshape(stat_shape)
    if bias is not None:
        y = y + bias.reshape(stat_shape)
    return y


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_same_shape(a: Tensor, b: Tensor, name: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name}: input shape {a.shape} and target shape {b.shape} differ")


def binary_cross_entropy_with_logits(
    logits: Tensor, target: Tensor, reduction: str = "mean"
) -> Tensor:
    """ℓ = -[y log σ(z) + (1 - y) log(1 - σ(z))] = softplus(z) - y·z, stable for any z."""
    _check_same_shape(logits, target, "binary_cross_entropy_with_logits")
    return _reduce(softplus(logits) - target * logits, reduction)


def binary_cross_entropy(p: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """ℓ = -[y log p + (1 - y) log(1 - p)], logs clamped at -100 like PyTorch."""
    _check_same_shape(p, target, "binary_cross_entropy")
    low, high = float(p.data.min()) if p.numel() else 0.0, float(p.data.max()) if p.numel() else 1.0
    if low < 0 or high > 1:
        raise ValueError(
            f"binary_cross_entropy: input must hold probabilities in [0, 1], got values in "
            f"[{low}, {high}]; pass logits to binary_cross_entropy_with_logits instead"
        )
    log_p = p.log().clamp(min=-100)
    log_not_p = (1 - p).log().clamp(min=-100)
    return _reduce(-(target * log_p + (1 - target) * log_not_p), reduction)


def _check_class_targets(scores: Tensor, target: Tensor, name: str) -> None:
    if scores.ndim != 2 or target.shape != (scores.shape[0],):
        raise ValueError(
            f"{name}: expected input (N, C) and target (N,), got {scores.shape} and "
            f"{target.shape}"
        )
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold int class indices, got {target.dtype}")
    classes = scores.shape[1]
    if target.numel() and (int(target.data.min()) < 0 or int(target.data.max()) >= classes):
        raise ValueError(f"{name}: target values must be in [0, {classes}), got out of range")


def nll_loss(log_probs: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """ℓ = -log_probs[n, target[n]]."""
    _check_class_targets(log_probs, target, "nll_loss")
    rows = log_probs.backend.xp.arange(log_probs.shape[0])
    return _reduce(-log_probs[rows, target.data], reduction)


def cross_entropy(logits: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """ℓ = -Σ_c y_c log softmax(z)_c.

    ``target`` is either int64 class indices of shape (N,) or probabilities of the
    logits' shape (soft labels, as mixup makes).
    """
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be (N, C), got shape {logits.shape}")
    if target.dtype.kind == "f":
        _check_same_shape(logits, target, "cross_entropy (soft targets)")
        return _reduce(-(target * log_softmax(logits, dim=1)).sum(dim=1), reduction)
    # Class indices: one Function with the classic gradient softmax(z) - onehot(y).
    _check_class_targets(logits, target, "cross_entropy")
    return _reduce(softmax_cross_entropy(logits, target._data), reduction)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """ℓ = (x - y)²."""
    _check_same_shape(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction)
