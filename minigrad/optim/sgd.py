"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay."""

from __future__ import annotations

from typing import Any

from minigrad.optim.optimizer import Optimizer, ParamsArg, check_non_negative
from minigrad.tensor import Tensor


class SGD(Optimizer):
    """PyTorch's SGD. For each parameter p with gradient g:

    d = g + weight_decay * p
    buf = d                                          (first step)
    buf = momentum * buf + (1 - dampening) * d       (later steps)
    d = d + momentum * buf   if nesterov   else   buf      (when momentum != 0)
    p = p - lr * d
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        defaults = {
            "lr": check_non_negative(lr, "lr"),
            "momentum": check_non_negative(momentum, "momentum"),
            "dampening": check_non_negative(dampening, "dampening"),
            "weight_decay": check_non_negative(weight_decay, "weight_decay"),
            "nesterov": bool(nesterov),
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"nesterov needs momentum > 0 and dampening = 0, got momentum={momentum!r}, "
                f"dampening={dampening!r}"
            )
        super().__init__(params, defaults)

    def _update(self, group: dict[str, Any], param: Tensor, state: dict[str, Any]) -> None:
        step = param.grad._data
        if group["weight_decay"] != 0:
            step = step + group["weight_decay"] * param._data
        momentum = group["momentum"]
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = step.copy()
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * step
            step = step + momentum * buffer if group["nesterov"] else buffer
        param._data -= group["lr"] * step
        param._version += 1  # an in-place change: a graph that saved param must notice
