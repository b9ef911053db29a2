"""Adam's update, fused into one in-place pass over the parameter (PyTorch's semantics).

For step ``t >= 1``, with gradient ``g`` and L2 weight decay ``wd``:

    g     = g + wd * p                       (only when wd != 0)
    m     = beta1 * m + (1 - beta1) * g
    v     = beta2 * v + (1 - beta2) * g^2
    p     = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

numpy would need about ten passes and as many temporaries for this; one Numba loop
reads each of p, g, m, v once and writes p, m, v once.
"""

from __future__ import annotations

import math

import numpy as np

from kernels.cpu.jit import njit
from kernels.geometry import check_adam_hyperparameters, check_float_array


@njit()
def _adam_kernel(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    beta2,
    one_minus_beta1,
    one_minus_beta2,
    eps,
    weight_decay,
    step_size,
    bias2_sqrt,
):
    for i in range(param.size):
        g = grad[i]
        if weight_decay != 0:
            g = g + weight_decay * param[i]
        m = exp_avg[i]
        m = m + one_minus_beta1 * (g - m)  # PyTorch's lerp form of beta1*m + (1-beta1)*g
        v = exp_avg_sq[i] * beta2 + one_minus_beta2 * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        param[i] = param[i] - step_size * (m / (np.sqrt(v) / bias2_sqrt + eps))


def adam_update(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
) -> None:
    """Apply one Adam step in place to ``param``, ``exp_avg`` (m) and ``exp_avg_sq`` (v).

    All four arrays must be C-contiguous with one shape and one float dtype.
    """
    check_adam_hyperparameters(step, lr, beta1, beta2, eps, weight_decay)
    arrays = {"param": param, "grad": grad, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    for name, array in arrays.items():
        check_float_array(array, name)
        if array.shape != param.shape or array.dtype != param.dtype:
            raise ValueError(
                f"{name} must match param's shape {tuple(param.shape)} and dtype {param.dtype}, "
                f"got {tuple(array.shape)} {array.dtype}"
            )
        if not array.flags.c_contiguous:
            raise ValueError(f"{name} must be C-contiguous (it is updated in place or read flat)")
    scalar = param.dtype.type
    bias1 = 1.0 - beta1**step
    bias2_sqrt = math.sqrt(1.0 - beta2**step)
    _adam_kernel(
        param.reshape(-1),
        grad.reshape(-1),
        exp_avg.reshape(-1),
        exp_avg_sq.reshape(-1),
        scalar(beta2),
        scalar(1.0 - beta1),
        scalar(1.0 - beta2),
        scalar(eps),
        scalar(weight_decay),
        scalar(lr / bias1),
        scalar(bias2_sqrt),
    )
