"""Loss functions with PyTorch's signatures: ``(input, target, weight, ..., reduction)``.

Each returns the per-element loss reduced by ``reduction``: ``"mean"`` (the default),
``"sum"`` or ``"none"``. Re-exported by ``minigrad.nn.functional``; the loss *modules*
(``nn.CrossEntropyLoss``, ...) in ``minigrad/nn/loss.py`` call these.
"""

from __future__ import annotations

from minigrad.ops import activation, reduce, where
from minigrad.ops.softmax_cross_entropy import softmax_cross_entropy
from minigrad.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")
KL_REDUCTIONS = (*REDUCTIONS, "batchmean")


def check_reduction(reduction: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_same_shape(a: Tensor, b: Tensor, name: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name}: input shape {a.shape} and target shape {b.shape} differ")


def _weighted(loss: Tensor, weight: Tensor | None) -> Tensor:
    return loss if weight is None else loss * weight


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """ℓ = -w [p_w · y log σ(z) + (1 - y) log(1 - σ(z))], stable for any z.

    With log σ(z) = -softplus(-z) and log(1 - σ(z)) = -softplus(z), and p_w = 1:
    ℓ = softplus(z) - y·z. ``pos_weight`` (one per class, broadcast along the last
    dimension) weighs the positive term; ``weight`` rescales each element's loss.
    """
    _check_same_shape(input, target, "binary_cross_entropy_with_logits")
    if pos_weight is None:
        loss = activation.softplus(input) - target * input
    else:
        loss = pos_weight * target * activation.softplus(-input) + (
            1 - target
        ) * activation.softplus(input)
    return _reduce(_weighted(loss, weight), reduction)


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """ℓ = -w [y log p + (1 - y) log(1 - p)], logs clamped at -100 like PyTorch."""
    _check_same_shape(input, target, "binary_cross_entropy")
    if input.numel():
        values = input.numpy()
        low, high = float(values.min()), float(values.max())
        if low < 0 or high > 1:
            raise ValueError(
                f"binary_cross_entropy: input must hold probabilities in [0, 1], got values "
                f"in [{low}, {high}]; pass logits to binary_cross_entropy_with_logits instead"
            )
    log_p = input.log().clamp(min=-100)
    log_not_p = (1 - input).log().clamp(min=-100)
    loss = -(target * log_p + (1 - target) * log_not_p)
    return _reduce(_weighted(loss, weight), reduction)


def _class_last(input: Tensor, target: Tensor, name: str) -> tuple[Tensor, Tensor]:
    """(N, C, d1, ...) scores and (N, d1, ...) targets as (M, C) rows and (M,) targets."""
    if input.ndim == 1:  # one unbatched example: (C,) and a 0-d target
        input, target = input.reshape(1, -1), target.reshape(1)
    if input.ndim < 2 or target.shape != (input.shape[0], *input.shape[2:]):
        raise ValueError(
            f"{name}: expected input (N, C) or (N, C, d1, ...) and target (N,) or "
            f"(N, d1, ...), got {input.shape} and {target.shape}"
        )
    if input.ndim > 2:
        classes = input.shape[1]
        order = (0, *range(2, input.ndim), 1)
        input = input.permute(*order).reshape(-1, classes)
        target = target.reshape(-1)
    return input, target


def _class_weights(
    target: Tensor, classes: int, weight: Tensor | None, ignore_index: int, name: str
) -> tuple[Tensor, Tensor, Tensor]:
    """(safe target, per-row weight w[y_n] (0 where ignored), row mask) for indexing."""
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold int class indices, got {target.dtype}")
    if weight is not None and weight.shape != (classes,):
        raise ValueError(f"{name}: weight must have shape ({classes},), got {weight.shape}")
    labels = target.numpy()
    kept = labels != ignore_index
    if kept.any() and (labels[kept].min() < 0 or labels[kept].max() >= classes):
        raise ValueError(
            f"{name}: target values must be in [0, {classes}) (or ignore_index="
            f"{ignore_index}), got values in [{labels.min()}, {labels.max()}]"
        )
    safe = Tensor(labels * kept, dtype=labels.dtype, device=target.device)
    mask = Tensor(kept, dtype=target.dtype, device=target.device)
    row_weight = mask if weight is None else weight[safe._data] * mask
    return safe, row_weight, mask


def nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """ℓ_n = -w[y_n] · input[n, y_n];  "mean" divides by Σ_n w[y_n] (weighted mean).

    Rows whose target is ``ignore_index`` contribute nothing to the loss or the divisor.
    """
    check_reduction(reduction)
    out_shape = target.shape
    rows, labels = _class_last(input, target, "nll_loss")
    safe, row_weight, _ = _class_weights(labels, rows.shape[1], weight, ignore_index, "nll_loss")
    xp = rows.backend.xp
    picked = rows[xp.arange(rows.shape[0]), safe._data]
    loss = -picked * row_weight.to(picked.dtype)
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / row_weight.to(picked.dtype).sum()
    return loss.reshape(*out_shape)


def cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """ℓ = -Σ_c q_c log softmax(z)_c over the class dimension (dim 1).

    ``target`` holds int class indices (N,) / (N, d1, ...), or class probabilities of the
    input's shape (soft labels, as mixup makes). ``label_smoothing`` ε mixes the target
    with the uniform distribution: q = (1 - ε) q + ε / C.
    """
    check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim < 1:
        raise ValueError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    if _plain_class_targets(input, target, weight, label_smoothing):
        # The common case as one Function with the classic gradient softmax(z) - onehot(y)
        # (minigrad/ops/softmax_cross_entropy.py); everything else composes nll_loss.
        return _reduce(softmax_cross_entropy(input, target._data), reduction)
    log_probs = reduce.log_softmax(input, dim=class_dim)
    if target.dtype.kind == "f":
        class_weight = 1 if weight is None else weight.reshape(classes, *[1] * (input.ndim - 2))
        _check_same_shape(input, target, "cross_entropy (soft targets)")
        smoothed = target * (1 - label_smoothing) + label_smoothing / classes
        loss = -(smoothed * log_probs * class_weight).sum(dim=class_dim)
        return _reduce(loss, reduction)
    hard = nll_loss(log_probs, target, weight, ignore_index, reduction)
    if label_smoothing == 0:
        return hard
    # The uniform part: -Σ_c w_c log p_c per element, masked and averaged like the hard one.
    rows, labels = _class_last(log_probs, target, "cross_entropy")
    _, row_weight, mask = _class_weights(labels, classes, weight, ignore_index, "cross_entropy")
    flat_weight = 1 if weight is None else weight.reshape(1, classes)
    uniform = -(rows * flat_weight).sum(dim=1) * mask.to(rows.dtype)
    if reduction == "none":
        uniform = uniform.reshape(*target.shape)
    elif reduction == "sum":
        uniform = uniform.sum()
    else:
        uniform = uniform.sum() / row_weight.to(rows.dtype).sum()
    return hard * (1 - label_smoothing) + uniform * (label_smoothing / classes)


def _plain_class_targets(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None,
    label_smoothing: float,
) -> bool:
    """(N, C) logits, (N,) in-range class indices, no weights, nothing ignored or smoothed."""
    if weight is not None or label_smoothing != 0 or input.ndim != 2:
        return False
    if target.dtype.kind not in "iu" or target.shape != (input.shape[0],) or not target.numel():
        return False
    labels = target._data
    return bool(labels.min() >= 0) and bool(labels.max() < input.shape[1])


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """ℓ = (x - y)²."""
    _check_same_shape(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """ℓ = |x - y|."""
    _check_same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """ℓ = 0.5 (x - y)² / β where |x - y| < β, else |x - y| - 0.5 β."""
    _check_same_shape(input, target, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    return _reduce(huber_loss(input, target, "none", beta) / beta, reduction)


def huber_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
) -> Tensor:
    """ℓ = 0.5 (x - y)² where |x - y| < δ, else δ (|x - y| - 0.5 δ)."""
    _check_same_shape(input, target, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    error = (input - target).abs()
    # min(|e|, δ) is the quadratic part; what lies past δ grows linearly.
    quadratic = error.clamp(max=delta)
    linear = error - quadratic
    return _reduce(0.5 * quadratic * quadratic + delta * linear, reduction)


def kl_div(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """ℓ = q (log q - x) with x = log p given as ``input`` (0 where q = 0): KL(q || p) terms.

    ``log_target=True`` takes log q as ``target``: ℓ = e^t (t - x). ``"batchmean"``
    divides the sum by the batch size, which is the KL divergence per example; ``"mean"``
    divides by the number of elements, as PyTorch does.
    """
    if reduction not in KL_REDUCTIONS:
        raise ValueError(f"kl_div: reduction must be one of {KL_REDUCTIONS}, got {reduction!r}")
    _check_same_shape(input, target, "kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # q log q -> 0 as q -> 0; the clamp keeps log away from 0 where q is 0.
        positive = target > 0
        q_log_q = where(positive, target * target.clamp(min=1e-300).log(), 0.0)
        loss = q_log_q - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)
