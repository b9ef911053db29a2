"""Optimizer: the base class holding parameter groups and per-parameter state, as PyTorch.

``param_groups`` is a list of dicts, each with a ``"params"`` list and its own
hyper-parameters (``lr``, ...), so one optimizer can train parts of a model at different
rates. ``state[param]`` holds what a method remembers between steps (momentum buffers,
Adam's moments) as raw device arrays.

``state_dict()`` is plain data -- nested dicts and lists of numpy arrays and numbers, with
parameters referred to by their index in group order -- so ``minigrad.save`` writes it
without pickle and a fresh optimizer over the same model can ``load_state_dict`` it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from minigrad.autograd import enable_grad
from minigrad.nn.module import zero_param_grad
from minigrad.tensor import Tensor

ParamsArg = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class: subclasses pass their hyper-parameter ``defaults`` to ``__init__``.

    A subclass either writes ``_update(group, param, state)`` for one parameter and lets
    ``step`` loop, or overrides ``step`` itself, PyTorch-style (walking
    ``self.param_groups`` and keeping what it remembers in ``self.state[p]``, a dict per
    parameter that starts empty).
    """

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]):
        if isinstance(params, Tensor):
            raise TypeError(
                "params must be an iterable of Tensors or of dicts, got a single Tensor; "
                "wrap it in a list"
            )
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group; hyper-parameters it does not set are taken from ``defaults``."""
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError("a param group must be a dict with a 'params' entry")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for index, param in enumerate(params):
            if not isinstance(param, Tensor):
                raise TypeError(
                    f"params[{index}] is a {type(param).__name__}; an optimizer takes Tensors"
                )
            if not param.is_leaf:
                raise ValueError(f"params[{index}] is not a leaf tensor and cannot be optimized")
        known = {id(p) for group in self.param_groups for p in group["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in known for p in params):
            raise ValueError("a parameter appears twice in the optimizer's param groups")
        group = {**self.defaults, **param_group, "params": params}
        self.param_groups.append(group)

    def _update(self, group: dict[str, Any], param: Tensor, state: dict[str, Any]) -> None:
        """Update one parameter in place from its ``grad``, using and updating ``state``."""
        raise NotImplementedError(
            f"{type(self).__name__} must override step() or _update(group, param, state)"
        )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given.

        The arrays are changed in place under no graph, and each parameter's version
        counter is bumped so a graph that saved the old values refuses to backprop.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if param.grad.shape != param.shape:
                    raise ValueError(
                        f"gradient of shape {param.grad.shape} does not match its parameter "
                        f"of shape {param.shape}"
                    )
                self._update(group, param, self.state[param])
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient, or zero it in place when ``set_to_none`` is False."""
        for group in self.param_groups:
            for param in group["params"]:
                zero_param_grad(param, set_to_none)

    # --------------------------------------------------------------- state dicts
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index, ...]}]}``.

        Arrays are numpy copies, so the dict is a snapshot that later steps do not change.
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            indices = []
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
                indices.append(index_of[id(param)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": indices})
        state = {}
        for param, entries in self.state.items():
            if entries:
                state[index_of[id(param)]] = {
                    name: value if _is_plain(value) else _host_copy(param, value)
                    for name, value in entries.items()
                }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and state saved by ``state_dict`` (possibly via save/load).

        Group sizes must match this optimizer's; arrays move to each parameter's device and
        floating ones take its dtype.
        """
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("state_dict must be a dict with keys 'state' and 'param_groups'")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"state_dict has {len(saved_groups)} param groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        param_of: dict[int, Tensor] = {}
        for number, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            saved_indices = [int(i) for i in saved["params"]]
            if len(saved_indices) != len(group["params"]):
                raise ValueError(
                    f"param group {number} has {len(saved_indices)} parameters in the "
                    f"state_dict and {len(group['params'])} in this optimizer"
                )
            param_of.update(zip(saved_indices, group["params"], strict=True))
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, entries in state_dict["state"].items():
            if int(key) not in param_of:
                raise ValueError(f"state_dict has state for parameter {key}, which no group lists")
            param = param_of[int(key)]
            new_state[param] = {
                name: value if _is_plain(value) else _array_for(param, value, name)
                for name, value in entries.items()
            }
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            for name, value in saved.items():
                if name != "params":
                    group[name] = tuple(value) if isinstance(value, list) else value
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join([*lines, ")"])


def check_non_negative(value: float, name: str) -> float:
    """A hyper-parameter as a float, or a ValueError naming it unless it is a number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


def update_gradient(group: dict[str, Any], param: Tensor) -> Any:
    """The gradient an update uses: g = ±grad + weight_decay * p (minus when maximizing)."""
    grad = param.grad._data
    if group.get("maximize", False):
        grad = -grad
    if group["weight_decay"] != 0:
        grad = grad + group["weight_decay"] * param._data
    return grad


def _host_copy(param: Tensor, value: Any) -> np.ndarray:
    """A numpy snapshot of a state array, or of a Tensor a custom ``step`` stored."""
    if isinstance(value, Tensor):
        return value.numpy().copy()
    return param.backend.to_numpy(value).copy()


def _is_plain(value: Any) -> bool:
    """Numbers and None are stored as they are; everything else is an array."""
    return value is None or isinstance(value, (int, float, np.generic))


def _array_for(param: Tensor, value: Any, name: str) -> Any:
    """A saved state array as a fresh array on ``param``'s device, in its dtype if floating."""
    array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
    if array.shape != param.shape:
        raise ValueError(
            f"state {name!r} has shape {array.shape}, its parameter has shape {param.shape}"
        )
    dtype = param.dtype if array.dtype.kind == "f" else array.dtype
    return param.backend.asarray(np.array(array, dtype=dtype), dtype)
