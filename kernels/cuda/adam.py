"""The fused, in-place Adam update: one kernel pass over the parameter and its state.

PyTorch's Adam (L2 ``weight_decay`` added to the gradient, not decoupled), with
``t = step`` counted from 1:

    g   = grad + weight_decay * param
    m   = beta1 * m + (1 - beta1) * g
    v   = beta2 * v + (1 - beta2) * g^2
    param -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

As array expressions this is about ten passes over memory, each launching a kernel
and allocating a temporary; fused it reads four arrays once and writes three.
:func:`adam_update_many` goes further and updates all the tensors of an optimizer in
one launch (a DCGAN's 15 parameters: 15 launches -> 1), since at these sizes a launch
costs more than the arithmetic in it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from numba import cuda

from kernels.cuda.runtime import SIMULATED, contiguous, grid_1d, on_device, sizes
from kernels.geometry import check_adam_hyperparameters, check_float_array


@cuda.jit(device=True)
def _adam_element(
    param, grad, exp_avg, exp_avg_sq, i, beta1, beta2, eps, weight_decay, step_size, bias2_sqrt
):
    """The update above for element ``i``: four reads, three writes."""
    g = grad[i] + weight_decay * param[i]
    m = exp_avg[i] + (1 - beta1) * (g - exp_avg[i])  # PyTorch's lerp form
    v = beta2 * exp_avg_sq[i] + (1 - beta2) * g * g
    exp_avg[i] = m
    exp_avg_sq[i] = v
    param[i] -= step_size * m / (math.sqrt(v) / bias2_sqrt + eps)


@cuda.jit
def _adam_kernel(
    param, grad, exp_avg, exp_avg_sq, beta1, beta2, eps, weight_decay, step_size, bias2_sqrt
):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        _adam_element(
            param, grad, exp_avg, exp_avg_sq, i, beta1, beta2, eps, weight_decay, step_size,
            bias2_sqrt,
        )


@cuda.jit
def _adam_many_kernel(
    params, grads, exp_avgs, exp_avg_sqs, beta1, beta2, eps, weight_decay, step_size, bias2_sqrt
):
    """Every tensor of an optimizer in one launch: row ``blockIdx.y`` of the grid walks
    tensor ``t`` (grid-stride over tensors), ``blockIdx.x`` and the threads its elements.
    The arguments are tuples of flat arrays of one dtype; numba passes each array of a
    tuple as its own kernel parameters and ``params[t]`` picks one at run time."""
    for t in range(cuda.blockIdx.y, len(params), cuda.gridDim.y):
        param = params[t]
        grad = grads[t]
        exp_avg = exp_avgs[t]
        exp_avg_sq = exp_avg_sqs[t]
        start = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
        for i in range(start, param.size, cuda.gridDim.x * cuda.blockDim.x):
            _adam_element(
                param, grad, exp_avg, exp_avg_sq, i, beta1, beta2, eps, weight_decay,
                step_size, bias2_sqrt,
            )


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
    _check_tensor(param, grad, exp_avg, exp_avg_sq, "")
    if param.size == 0:
        return
    _adam_kernel[grid_1d(param.size), sizes.threads_1d](
        param.reshape(-1),
        contiguous(grad).reshape(-1),
        exp_avg.reshape(-1),
        exp_avg_sq.reshape(-1),
        *_scalars(step, lr, beta1, beta2, eps, weight_decay),
    )


def _check_tensor(param, grad, exp_avg, exp_avg_sq, where: str) -> None:
    arrays = {"param": param, "grad": grad, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    for name, array in arrays.items():
        on_device(array, name + where)
        check_float_array(array, name + where)
        if array.shape != param.shape or array.dtype != param.dtype:
            raise ValueError(
                f"{name}{where} must match param's shape {tuple(param.shape)} and dtype "
                f"{param.dtype}, got {tuple(array.shape)} {array.dtype}"
            )
        if name != "grad" and not array.flags.c_contiguous:
            raise ValueError(f"{name}{where} must be C-contiguous (it is updated in place)")


def _scalars(step, lr, beta1, beta2, eps, weight_decay) -> tuple[float, ...]:
    """The kernel's scalar arguments, with the bias corrections folded in on the host."""
    step_size = lr / (1 - beta1 ** int(step))
    bias2_sqrt = math.sqrt(1 - beta2 ** int(step))
    return tuple(float(v) for v in (beta1, beta2, eps, weight_decay, step_size, bias2_sqrt))


def _typeable(array):
    """An array numba can type inside a tuple argument. numba types a CuPy array passed on
    its own through the CUDA array interface, but not one inside a tuple: wrap it as a
    numba device array (a view, no copy, no stream sync)."""
    return array if SIMULATED else cuda.as_cuda_array(array, sync=False)


def adam_update_many(
    params: Sequence,
    grads: Sequence,
    exp_avgs: Sequence,
    exp_avg_sqs: Sequence,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
) -> None:
    """:func:`adam_update` of every ``params[t]`` at once, in one launch per dtype.

    The four sequences are parallel (one entry per tensor, each checked as
    :func:`adam_update` checks it); all tensors share the step count and hyper-parameters.
    """
    check_adam_hyperparameters(step, lr, beta1, beta2, eps, weight_decay)
    lists = (list(params), list(grads), list(exp_avgs), list(exp_avg_sqs))
    if len({len(items) for items in lists}) != 1:
        raise ValueError(
            "params, grads, exp_avgs and exp_avg_sqs must have one entry per tensor, got "
            f"{[len(items) for items in lists]}"
        )
    by_dtype: dict = {}
    for t, (param, grad, exp_avg, exp_avg_sq) in enumerate(zip(*lists, strict=True)):
        _check_tensor(param, grad, exp_avg, exp_avg_sq, f"[{t}]")
        if param.size:
            flat = (param, contiguous(grad), exp_avg, exp_avg_sq)
            by_dtype.setdefault(param.dtype, []).append([a.reshape(-1) for a in flat])
    scalars = _scalars(step, lr, beta1, beta2, eps, weight_decay)
    for tensors in by_dtype.values():
        largest = max(t[0].size for t in tensors)
        grid = (grid_1d(largest), min(len(tensors), 65535))
        columns = tuple(tuple(_typeable(t[k]) for t in tensors) for k in range(4))
        _adam_many_kernel[grid, sizes.threads_1d](*columns, *scalars)
