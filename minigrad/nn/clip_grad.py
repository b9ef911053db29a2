"""Gradient clipping, PyTorch's ``nn.utils.clip_grad_norm_`` and ``clip_grad_value_``."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from minigrad.tensor import Tensor


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so their joint norm is at most ``max_norm``.

    total = ‖(‖g_1‖, ‖g_2‖, ...)‖_p  (p = ``norm_type``, ``inf`` for the largest entry);
    every g is multiplied by min(1, max_norm / (total + 1e-6)). Returns ``total``
    (the norm before clipping), as PyTorch does.
    """
    grads = [p.grad for p in _with_grads(parameters)]
    if not grads:
        return Tensor(0.0)
    arrays = [np.abs(g.numpy()).astype(np.float64) for g in grads]
    if norm_type == math.inf:
        total = max(float(a.max()) if a.size else 0.0 for a in arrays)
    else:
        total = float(sum((a**norm_type).sum() for a in arrays) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"the total norm of order {norm_type} of the gradients is {total}; "
            "pass error_if_nonfinite=False to clip anyway"
        )
    scale = min(1.0, max_norm / (total + 1e-6))
    if scale < 1.0:
        for grad in grads:
            grad._data *= scale
            grad._version += 1
    return Tensor(total, dtype=grads[0].dtype)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient entry to [-clip_value, clip_value], in place."""
    for param in _with_grads(parameters):
        grad = param.grad
        grad._data[...] = grad.backend.xp.clip(grad._data, -clip_value, clip_value)
        grad._version += 1
