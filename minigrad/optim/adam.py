"""Adam, with its update done by the device's fused ``adam_update`` kernel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minigrad.optim.optimizer import Optimizer, ParamsArg, check_non_negative
from minigrad.tensor import Tensor


class Adam(Optimizer):
    """PyTorch's Adam (L2 weight decay added to the gradient). At step t = 1, 2, ...:

        g = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        p = p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)

    m and v start at zero; the bias corrections undo that start.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        betas = tuple(betas)
        if len(betas) != 2 or not all(
            isinstance(b, (int, float)) and 0.0 <= b < 1.0 for b in betas
        ):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        defaults = {
            "lr": check_non_negative(lr, "lr"),
            "betas": (float(betas[0]), float(betas[1])),
            "eps": check_non_negative(eps, "eps"),
            "weight_decay": check_non_negative(weight_decay, "weight_decay"),
        }
        super().__init__(params, defaults)

    # --- multi-tensor hook (helper "gpu"): on a backend with ``adam_update_many`` (CUDA),
    # step() collects the parameters and updates each group in one fused launch.
    _collected: list | None = None

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        self._collected = []
        try:
            loss = super().step(closure)
            batches: dict[tuple, list] = {}
            for group, param, state in self._collected:
                key = (id(param.backend), state["step"], group["lr"], group["betas"])
                key += (group["eps"], group["weight_decay"])
                batches.setdefault(key, []).append((group, param, state))
            for batch in batches.values():
                group, param, state = batch[0]
                param.backend.adam_update_many(
                    [p._data for _, p, _ in batch],
                    [p.grad._data for _, p, _ in batch],
                    [s["exp_avg"] for _, _, s in batch],
                    [s["exp_avg_sq"] for _, _, s in batch],
                    state["step"], group["lr"], *group["betas"], group["eps"],
                    group["weight_decay"],
                )  # fmt: skip
                for _, p, _ in batch:
                    p._version += 1  # the kernel changed p in place
        finally:
            self._collected = None
        return loss

    # --- end of the multi-tensor hook

    def _update(self, group: dict[str, Any], param: Tensor, state: dict[str, Any]) -> None:
        array = param._data
        if not state:
            xp = param.backend.xp
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(array)
            state["exp_avg_sq"] = xp.zeros_like(array)
        state["step"] += 1
        if self._collected is not None and hasattr(param.backend, "adam_update_many"):
            self._collected.append((group, param, state))  # multi-tensor hook
            return
        beta1, beta2 = group["betas"]
        # The kernel reads the gradient flat; a backward may leave a strided view.
        grad = param.backend.xp.ascontiguousarray(param.grad._data)
        param.backend.adam_update(
            array,
            grad,
            state["exp_avg"],
            state["exp_avg_sq"],
            state["step"],
            group["lr"],
            beta1,
            beta2,
            group["eps"],
            group["weight_decay"],
        )
        # The kernel wrote into the array: record the in-place change.
        param._version += 1


class AdamW(Adam):
    """PyTorch's AdamW: Adam with weight decay *decoupled* from the gradient. At step t:

        p = p * (1 - lr * weight_decay)
        then Adam's update of p from the plain gradient (no L2 term in m and v)

    Adam's L2 term is divided by sqrt(v) like the rest of the gradient, so weights with
    large gradients barely decay; shrinking p directly decays every weight at one rate.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _update(self, group: dict[str, Any], param: Tensor, state: dict[str, Any]) -> None:
        param._data *= 1 - group["lr"] * group["weight_decay"]
        param._version += 1
        super()._update({**group, "weight_decay": 0.0}, param, state)
