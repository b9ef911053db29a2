"""Tensor gradient hooks: ``t.register_hook(hook)``, as in PyTorch.

During a backward pass, once ``t``'s gradient is complete (summed over every use of
``t``), each hook is called in registration order as ``hook(grad)``. A hook that returns
a Tensor replaces the gradient: what later hooks see, what flows on to ``t``'s inputs,
and what a leaf accumulates in ``.grad``. Returning None keeps it. Under
``create_graph=True`` the hooks run with grad mode on, so what they compute is itself
differentiable.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minigrad.tensor import Tensor

Hook = Callable[["Tensor"], "Tensor | None"]
_next_id = itertools.count()


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook (also
    usable as a context manager that removes it on exit)."""

    def __init__(self, hooks: dict[int, Hook], key: int) -> None:
        self._hooks = hooks
        self.id = key

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_hook(tensor: Tensor, hook: Hook) -> RemovableHandle:
    """Call ``hook(grad)`` with ``tensor``'s gradient on every backward (see module doc)."""
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if not callable(hook):
        raise TypeError(f"register_hook: hook must be callable, got {type(hook).__name__}")
    hooks = getattr(tensor, "_hooks", None)
    if hooks is None:
        hooks = tensor._hooks = {}
    key = next(_next_id)
    hooks[key] = hook
    return RemovableHandle(hooks, key)


def run_hooks(tensor: Tensor, grad: Tensor) -> Tensor:
    """``grad`` after every hook of ``tensor`` has seen (and perhaps replaced) it."""
    hooks = getattr(tensor, "_hooks", None)
    if not hooks:
        return grad
    for hook in list(hooks.values()):
        result: Any = hook(grad)
        if result is None:
            continue
        if not hasattr(result, "shape") or not hasattr(result, "grad_fn"):
            raise TypeError(
                f"hook {getattr(hook, '__name__', hook)!r} returned a "
                f"{type(result).__name__}; a hook returns a Tensor or None"
            )
        if tuple(result.shape) != tuple(grad.shape):
            raise RuntimeError(
                f"hook {getattr(hook, '__name__', hook)!r} has changed the size of the "
                f"gradient from {grad.shape} to {tuple(result.shape)}"
            )
        grad = result
    return grad
