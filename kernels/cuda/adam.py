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
from kernels.geometry import check_float_array, check_same_dtype


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
    """Apply one Adam step to ``param``, ``exp_avg`` and ``exp_avg_sq`` in place."""
    arrays = (("param", param), ("grad", grad), ("exp_avg", exp_avg), ("exp_avg_sq", exp_avg_sq))
    for name, array in arrays:
        on_device(array, name)
        check_float_array(array, name)
        check_same_dtype(array, name, param, "param")
        if array.shape != param.shape:
            raise ValueError(
                f"{name} must have param's shape {tuple(param.shape)}, got {tuple(array.shape)}"
            )
    for name, array in (("param", param), ("exp_avg", exp_avg), ("exp_avg_sq", exp_avg_sq)):
        # Updated in place through a flat view, which only a contiguous array has.
        if not array.flags.c_contiguous:
            raise ValueError(f"{name} must be C-contiguous to be updated in place")
    if int(step) < 1:
        raise ValueError(f"step must be an int >= 1 (the count after this update), got {step!r}")
    for name, value in (("beta1", beta1), ("beta2", beta2)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value!r}")
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
