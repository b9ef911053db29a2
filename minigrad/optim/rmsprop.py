"""RMSprop: divide each gradient by a running root-mean-square of its recent values."""

from __future__ import annotations

from typing import Any

from minigrad.optim.optimizer import Optimizer, ParamsArg, check_non_negative, update_gradient
from minigrad.tensor import Tensor


class RMSprop(Optimizer):
    """PyTorch's RMSprop. For each parameter p with gradient g:

        g = grad + weight_decay * p                      (-grad when maximize)
        v = alpha * v + (1 - alpha) * g^2                (v starts at 0)
        avg = sqrt(v - gbar^2) + eps,  gbar = alpha * gbar + (1 - alpha) * g   if centered
        avg = sqrt(v) + eps                                                    otherwise
        buf = momentum * buf + g / avg;  p = p - lr * buf                      if momentum > 0
        p = p - lr * g / avg                                                   otherwise

    Dividing by the RMS makes the step size roughly independent of the gradient's scale;
    ``centered`` divides by the standard deviation instead of the RMS.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        maximize: bool = False,
    ):
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")
        defaults = {
            "lr": check_non_negative(lr, "lr"),
            "alpha": float(alpha),
            "eps": check_non_negative(eps, "eps"),
            "weight_decay": check_non_negative(weight_decay, "weight_decay"),
            "momentum": check_non_negative(momentum, "momentum"),
            "centered": bool(centered),
            "maximize": bool(maximize),
        }
        super().__init__(params, defaults)

    def _update(self, group: dict[str, Any], param: Tensor, state: dict[str, Any]) -> None:
        xp = param.backend.xp
        array = param._data
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(array)
            if group["momentum"] > 0:
                state["momentum_buffer"] = xp.zeros_like(array)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(array)
        state["step"] += 1
        alpha = group["alpha"]
        g = update_gradient(group, param)
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * g
            avg = xp.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = xp.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]
            buffer *= group["momentum"]
            buffer += g / avg
            array -= group["lr"] * buffer
        else:
            array -= group["lr"] * (g / avg)
        param._version += 1
