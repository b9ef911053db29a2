"""The fused, in-place Adam update: one kernel pass over the parameter and its state.

PyTorch's Adam (L2 ``weight_decay`` added to the gradient, not decoupled), with
``t = step`` counted from 1:

    g   = grad + weight_decay * param
    m   = beta1 * m + (1 - beta1) * g
    v   = beta2 * v + (1 - beta2) * g^2
    param -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

As array expressions this is about ten passes over memory, each launching a kernel
and allocating a temporary; fused it reads four arrays once and writes three.
"""

from __future__ import annotations

import math

from numba import cuda

from kernels.cuda.runtime import contiguous, grid_1d, on_device, sizes
from kernels.geometry import check_adam_hyperparameters, check_float_array


@cuda.jit
def _adam_kernel(
    param, grad, exp_avg, exp_avg_sq, beta1, beta2, eps, weight_decay, step_size, bias2_sqrt
):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        g = grad[i] + weight_decay * param[i]
        m = exp_avg[i] + (1 - beta1) * (g - exp_avg[i])  # PyTorch's lerp form
        v = beta2 * exp_avg_sq[i] + (1 - beta2) * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        param[i] -= step_size * m / (math.sqrt(v) / bias2_sqrt + eps)


def adam_update(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
) -> None:
    """Apply one Adam step to ``param``, ``exp_avg`` and ``exp_avg_sq`` in place.

    The checks and messages are kernels.cpu's; ``grad`` may be any layout (it is read
    through a contiguous copy when it is not contiguous).
    """
    check_adam_hyperparameters(step, lr, beta1, beta2, eps, weight_decay)
    arrays = {"param": param, "grad": grad, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    for name, array in arrays.items():
        on_device(array, name)
        check_float_array(array, name)
        if array.shape != param.shape or array.dtype != param.dtype:
            raise ValueError(
                f"{name} must match param's shape {tuple(param.shape)} and dtype {param.dtype}, "
                f"got {tuple(array.shape)} {array.dtype}"
            )
        if name != "grad" and not array.flags.c_contiguous:
            raise ValueError(f"{name} must be C-contiguous (it is updated in place)")
    if param.size == 0:
        return
    step_size = lr / (1 - beta1 ** int(step))
    bias2_sqrt = math.sqrt(1 - beta2 ** int(step))
    _adam_kernel[grid_1d(param.size), sizes.threads_1d](
        param.reshape(-1),
        contiguous(grad).reshape(-1),
        exp_avg.reshape(-1),
        exp_avg_sq.reshape(-1),
        float(beta1),
        float(beta2),
        float(eps),
        float(weight_decay),
        float(step_size),
        float(bias2_sqrt),
    )
