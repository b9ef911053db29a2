"""Argument checks shared by every attack, so a bad eps, norm or clip range fails where it is
passed, naming the argument and the form it should take.

The one non-obvious check is :func:`check_logits`: every attack's loss is a cross-entropy
or a margin on *logits*. A model that already ends in a softmax still "works" (the code
runs), but its gradients saturate and the attack looks far weaker than it is — the
classic way to fool yourself about robustness (Carlini et al. 2019). So it is an error.
"""

from __future__ import annotations

import math
from typing import Any

import minigrad as mg

Norm = float | int | str


def check_eps(eps: Any, name: str = "eps") -> float:
    """``eps`` as a float; a ValueError unless it is a finite number >= 0."""
    if isinstance(eps, bool) or not isinstance(eps, int | float):
        raise TypeError(f"{name} must be a number >= 0, got {type(eps).__name__} {eps!r}")
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {eps!r}")
    return float(eps)


def check_norm(norm: Norm) -> float:
    """``math.inf`` for the L∞ ball (``inf``, ``"inf"``, ``np.inf``) or ``2.0`` for L2."""
    if isinstance(norm, str):
        text = norm.strip().lower()
        if text in ("inf", "linf", "l_inf"):
            return math.inf
        if text in ("2", "l2"):
            return 2.0
    elif not isinstance(norm, bool) and isinstance(norm, int | float):
        if norm == math.inf or norm == 2:
            return float(norm)
    raise ValueError(f"norm must be inf (the L∞ ball) or 2 (the L2 ball), got {norm!r}")


def check_clip_range(clip_min: float | None, clip_max: float | None) -> None:
    """Each bound is None or a finite number, and clip_min <= clip_max."""
    for name, value in (("clip_min", clip_min), ("clip_max", clip_max)):
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError(f"{name} must be a finite number or None, got {value!r}")
    if clip_min is not None and clip_max is not None and clip_min > clip_max:
        raise ValueError(
            f"clip_min ({clip_min}) must not exceed clip_max ({clip_max}): the valid input "
            "range is [clip_min, clip_max]"
        )


def check_images(x: Any, clip_min: float | None, clip_max: float | None) -> None:
    """``x`` is a float Tensor with a batch dimension whose values lie in the clip range."""
    if not isinstance(x, mg.Tensor):
        raise TypeError(f"x must be a minigrad Tensor of inputs (N, ...), got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"x must be a float tensor, got dtype {x.dtype}")
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"x must be a non-empty batch (N, ...), got shape {x.shape}")
    check_clip_range(clip_min, clip_max)
    # Inputs outside the box would make "clip" move clean points: the caller has the
    # wrong range (e.g. images in [0, 255] with clip_max=1).
    slack = 1e-5
    if clip_min is not None and float(x.min().item()) < clip_min - slack:
        raise ValueError(f"x has values below clip_min={clip_min} (min {float(x.min().item())})")
    if clip_max is not None and float(x.max().item()) > clip_max + slack:
        raise ValueError(f"x has values above clip_max={clip_max} (max {float(x.max().item())})")


def check_step(step_size: Any, eps: float, name: str = "step_size") -> float:
    """A step in (0, eps]: a larger step only overshoots the ball and is projected back."""
    step = check_eps(step_size, name)
    if step == 0:
        raise ValueError(f"{name} must be > 0, got {step_size!r}")
    if step > eps:
        raise ValueError(
            f"{name} ({step}) must not exceed eps ({eps}): every step is projected back "
            "into the eps ball"
        )
    return step


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """An int >= ``minimum`` (steps, restarts, iterations)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_logits(logits: Any, batch: int) -> None:
    """``logits`` is (batch, classes) and does not look like a softmax output.

    Rows that are all in [0, 1] and sum to 1 are probabilities: an error, because the
    attacks' losses expect unnormalised scores (remove the model's final softmax).
    """
    if not isinstance(logits, mg.Tensor):
        raise TypeError(f"model must return a Tensor of logits, got {type(logits).__name__}")
    if logits.ndim != 2 or logits.shape[0] != batch or logits.shape[1] < 2:
        raise ValueError(
            f"model must return logits of shape ({batch}, classes >= 2), got {logits.shape}"
        )
    values = logits.detach()
    low, high = float(values.min().item()), float(values.max().item())
    row_sums = values.sum(dim=1)
    sums_to_one = float((row_sums - 1).abs().max().item()) < 1e-3
    if low >= 0 and high <= 1 and sums_to_one:
        raise ValueError(
            "model returned probabilities (every row in [0, 1] summing to 1), but attacks "
            "need logits: remove the final softmax from the model"
        )


def check_labels(y: Any, batch: int, classes: int, name: str = "y") -> mg.Tensor:
    """``y`` is an int Tensor (batch,) of class indices in [0, classes)."""
    if not isinstance(y, mg.Tensor):
        raise TypeError(f"{name} must be an int64 Tensor of class indices, got {type(y).__name__}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold int class indices, got dtype {y.dtype}")
    if y.shape != (batch,):
        raise ValueError(f"{name} must have shape ({batch},), got {y.shape}")
    if int(y.min().item()) < 0 or int(y.max().item()) >= classes:
        raise ValueError(f"{name} must lie in [0, {classes}), got values outside it")
    return y
