"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients so far."""

from __future__ import annotations

from typing import Any

from minigrad.optim.optimizer import Optimizer, ParamsArg, check_non_negative, update_gradient
from minigrad.tensor import Tensor


class Adagrad(Optimizer):
    """PyTorch's Adagrad. At step t = 1, 2, ... for each parameter p with gradient g:

        g = grad + weight_decay * p                      (-grad when maximize)
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = s + g^2                                      (s starts at initial_accumulator_value)
        p = p - lr_t * g / (sqrt(s) + eps)

    Rarely-updated coordinates keep large steps; often-updated ones slow down.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        maximize: bool = False,
    ):
        defaults = {
            "lr": check_non_negative(lr, "lr"),
            "lr_decay": check_non_negative(lr_decay, "lr_decay"),
            "weight_decay": check_non_negative(weight_decay, "weight_decay"),
            "initial_accumulator_value": check_non_negative(
                initial_accumulator_value, "initial_accumulator_value"
            ),
            "eps": check_non_negative(eps, "eps"),
            "maximize": bool(maximize),
        }
        super().__init__(params, defaults)

    def _update(self, group: dict[str, Any], param: Tensor, state: dict[str, Any]) -> None:
        xp = param.backend.xp
        array = param._data
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(array, group["initial_accumulator_value"])
        state["step"] += 1
        g = update_gradient(group, param)
        rate = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g
        array -= rate * g / (xp.sqrt(state["sum"]) + group["eps"])
        param._version += 1
