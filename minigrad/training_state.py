"""A training loop's whole state as one dict: what a checkpoint holds to resume bit for bit.

:func:`capture_training_state` gathers every model's, optimizer's and data loader's
``state_dict()``, the global random state and the step; :func:`restore_training_state`
puts them back into live objects (the random state last). ``minigrad.runs`` saves and
loads these dicts as checkpoint files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from minigrad.random import get_rng_state, set_rng_state
from minigrad.run_errors import CheckpointError


def capture_training_state(
    step: int,
    *,
    models: Mapping[str, Any],
    optimizers: Mapping[str, Any] | None = None,
    loaders: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything needed to resume bit for bit, as a dict ``minigrad.save`` can store.

    ``models``, ``optimizers`` and ``loaders`` map names to objects with ``state_dict()``.
    The tensors are copied, so training on after the call does not change the snapshot.
    """
    return {
        "step": int(step),
        "models": {name: _copied(model.state_dict()) for name, model in models.items()},
        "optimizers": {name: _copied(opt.state_dict()) for name, opt in (optimizers or {}).items()},
        "loaders": {name: loader.state_dict() for name, loader in (loaders or {}).items()},
        "rng": get_rng_state(),
        "extra": dict(extra or {}),
    }


def restore_training_state(
    state: Mapping[str, Any],
    *,
    models: Mapping[str, Any],
    optimizers: Mapping[str, Any] | None = None,
    loaders: Mapping[str, Any] | None = None,
) -> int:
    """Load a :func:`capture_training_state` dict into live objects; return its step.

    The global random state is restored last, so nothing done while loading draws from it.
    Names must match the ones captured; a missing name is an error, not a silent skip.
    """
    groups = (("models", models), ("optimizers", optimizers or {}), ("loaders", loaders or {}))
    for group, targets in groups:
        saved = state.get(group)
        if not isinstance(saved, dict) or "rng" not in state:
            raise CheckpointError(f"the checkpoint has no {group!r} or 'rng' part: not a run's")
        missing = sorted(set(targets) - set(saved))
        if missing:
            raise CheckpointError(
                f"the checkpoint has no {group} named {missing}; it holds {sorted(saved)}"
            )
        for name, target in targets.items():
            try:
                target.load_state_dict(saved[name])
            except (KeyError, ValueError) as error:  # missing or misshapen entries
                message = f"the checkpoint's {group}[{name!r}] does not fit: {error}"
                raise CheckpointError(message) from None
    set_rng_state(state["rng"])
    return int(state["step"])


def _copied(value: Any) -> Any:
    """A deep copy of a state dict's tensors (state dicts share storage with live params)."""
    from minigrad.tensor import Tensor

    if isinstance(value, Tensor):
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_copied(item) for item in value)
    return value
