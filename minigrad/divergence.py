"""The divergence guard: stop a run at the first NaN or infinity, before it is checkpointed.

A diverged run (learning rate too large, a loss that overflows) keeps training on NaN
weights, and every checkpoint it writes replaces a good one. Three checks stop it:

* :func:`check_learning_rate` refuses ``lr = inf``, ``nan``, ``0`` or negative up front;
* :func:`check_finite_values` on the losses every step: they are already host floats
  (logged in metrics.jsonl), so the check costs one ``math.isfinite`` per loss;
* :func:`check_finite_parameters` on every weight and gradient right before a checkpoint
  is written: one fused reduction per tensor (``sum`` is NaN or inf as soon as one entry
  is), and only when that flags a tensor is it searched for the first bad entry.

Each raises :class:`~minigrad.run_errors.Diverged` whose message names the step and the
tensor or loss; a trainer adds which checkpoint it kept.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from minigrad.run_errors import Diverged


def check_learning_rate(name: str, value: Any) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def check_finite_values(values: Mapping[str, Any], *, step: int, unit: str = "step") -> None:
    """Raise ``Diverged`` if any of ``values`` (name -> number) is NaN or infinite.

    The message reads "diverged at <unit> <step>: <name> = nan".
    """
    for name, value in values.items():
        if isinstance(value, int | float) and not math.isfinite(value):
            raise Diverged(f"diverged at {unit} {step}: {name} = {value}")


def check_finite_parameters(
    models: Mapping[str, Any], *, step: int, gradients: bool = True, unit: str = "step"
) -> None:
    """Raise ``Diverged`` naming the first parameter (or its gradient) holding NaN or inf.

    ``models`` maps a name (e.g. ``"generator"``) to an ``nn.Module``. BatchNorm running
    statistics are buffers and are checked too: a NaN batch leaves them NaN.
    """
    for model_name, model in models.items():
        for name, tensor in _named_tensors(model):
            where = f"diverged at {unit} {step}: {model_name}"
            if not _finite(tensor._data):
                raise Diverged(f"{where} weight {name} is {_bad(tensor._data)}")
            grad = getattr(tensor, "grad", None) if gradients else None
            if grad is not None and not _finite(grad._data):
                raise Diverged(f"{where} gradient of {name} is {_bad(grad._data)}")


def _named_tensors(model: Any) -> list[tuple[str, Any]]:
    named = list(model.named_parameters())
    if hasattr(model, "named_buffers"):
        named += [(name, buffer) for name, buffer in model.named_buffers() if buffer is not None]
    return named


def _finite(array: Any) -> bool:
    """One fused reduction: the sum of an array is finite iff no entry is NaN or inf
    (barring overflow of huge finite entries, which is divergence in all but name)."""
    if array.dtype.kind not in "fc":
        return True
    return math.isfinite(float(array.sum()))


def _bad(array: Any) -> str:
    """'nan', 'inf' or 'too large to sum', for the message."""
    import numpy as np

    host = array.get() if hasattr(array, "get") else np.asarray(array)
    if np.isnan(host).any():
        return f"nan ({int(np.isnan(host).sum())} of {host.size} entries)"
    if np.isinf(host).any():
        return f"inf ({int(np.isinf(host).sum())} of {host.size} entries)"
    return "too large to sum (overflows to inf)"
