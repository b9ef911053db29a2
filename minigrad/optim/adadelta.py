"""Adadelta: steps whose size is a running RMS of past steps over a running RMS of gradients."""

from __future__ import annotations

from typing import Any

from minigrad.optim.optimizer import Optimizer, ParamsArg, check_non_negative, update_gradient
from minigrad.tensor import Tensor


class Adadelta(Optimizer):
    """PyTorch's Adadelta. For each parameter p with gradient g:

        g = grad + weight_decay * p                      (-grad when maximize)
        v = rho * v + (1 - rho) * g^2                    (v, u start at 0)
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2
        p = p - lr * delta

    The ratio of the two RMS values gives the step the units of the parameter, which is
    why the default ``lr`` is 1.0.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ):
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"rho must be a number in [0, 1], got {rho!r}")
        defaults = {
            "lr": check_non_negative(lr, "lr"),
            "rho": float(rho),
            "eps": check_non_negative(eps, "eps"),
            "weight_decay": check_non_negative(weight_decay, "weight_decay"),
            "maximize": bool(maximize),
        }
        super().__init__(params, defaults)

    def _update(self, group: dict[str, Any], param: Tensor, state: dict[str, Any]) -> None:
        xp = param.backend.xp
        array = param._data
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(array)
            state["acc_delta"] = xp.zeros_like(array)
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        g = update_gradient(group, param)
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1 - rho) * g * g
        delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * g
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        array -= group["lr"] * delta
        param._version += 1
