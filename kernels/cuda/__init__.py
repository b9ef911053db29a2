"""The CUDA backend: hand-written ``numba.cuda`` kernels over CuPy arrays.

On a real GPU (``name == "cuda"``) arrays are CuPy arrays, elementwise arithmetic,
reshapes and slicing are CuPy's own, and the kernels here are launched on CuPy arrays
through the CUDA array interface. Under Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1`` before numba is imported; ``name == "cuda-simulator"``)
the arrays are numpy arrays and the same kernels and launch code run on the CPU, which
is how they are tested without a GPU.

One visible switch: :data:`kernels.cuda.gemm.GEMM` (from ``MINIGRAD_CUDA_GEMM``,
``"cublas"`` or ``"numba"``) picks the GEMM behind :func:`matmul` and the convolutions.
Launch sizes live in :data:`kernels.cuda.runtime.sizes`.

Beyond the contract (kernels.REQUIRED), a fused kernel that minigrad calls when a
backend has it: ``adam_update_many`` (all of an optimizer's tensors in one launch).

Importing this module without CuPy or a GPU (and without the simulator) raises a
RuntimeError naming the missing piece and the install hint ``pip install minigrad[cuda]``.
"""

from __future__ import annotations

import numpy as np

from kernels.cuda.activations import (
    bias_activation,
    bias_activation_backward,
    leaky_relu,
    leaky_relu_backward,
    relu,
    relu_backward,
    sigmoid,
    tanh,
)
from kernels.cuda.adam import adam_update, adam_update_many
from kernels.cuda.batch_norm import batch_norm_backward, batch_norm_forward
from kernels.cuda.conv import (
    col2im,
    conv2d_backward,
    conv2d_forward,
    conv2d_input_grad,
    conv2d_weight_grad,
    conv_transpose2d_backward,
    im2col,
)
from kernels.cuda.gemm import matmul
from kernels.cuda.pairwise import pairwise_l1_closeness, pairwise_l1_closeness_backward
from kernels.cuda.philox import make_rng, normal, rng_state, set_rng_state, uniform
from kernels.cuda.pool import (
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    raise_deferred_errors,
)
from kernels.cuda.reduce import argmax, array_max, array_sum
from kernels.cuda.runtime import SIMULATED, transfers, xp

name: str = "cuda-simulator" if SIMULATED else "cuda"

# The contract's names; the module-level functions are named for what they reduce so
# that the builtins stay usable inside kernels/cuda/reduce.py.
sum = array_sum  # noqa: A001
max = array_max  # noqa: A001


def asarray(data, dtype=None):
    """Host data (numpy array, scalar or nested lists) or a device array -> a device
    array of ``dtype`` (no copy when it already is one)."""
    if SIMULATED:
        # Here every array is a host array: count each call as the copy a GPU would make
        # (inside the backend, kernels never call this function).
        transfers.host_to_device += 1
    elif isinstance(data, xp.ndarray):
        return data if dtype is None else data.astype(dtype, copy=False)
    else:
        transfers.host_to_device += 1
    return xp.asarray(np.asarray(data, dtype=dtype))


def to_numpy(array) -> np.ndarray:
    """A device array -> a numpy array on the host (a copy on a real GPU).

    A host read is where the GPU's queued work is waited for, so it is also where a
    kernel's deferred error (an argmax index out of range) is raised."""
    raise_deferred_errors()
    transfers.device_to_host += 1
    if SIMULATED:
        return np.asarray(array)
    return xp.asnumpy(array)


__all__ = [
    "name",
    "xp",
    "asarray",
    "to_numpy",
    "matmul",
    "im2col",
    "col2im",
    "conv2d_forward",
    "conv2d_input_grad",
    "conv2d_weight_grad",
    "conv2d_backward",
    "conv_transpose2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "relu",
    "relu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "sigmoid",
    "tanh",
    "bias_activation",
    "bias_activation_backward",
    "sum",
    "max",
    "argmax",
    "pairwise_l1_closeness",
    "pairwise_l1_closeness_backward",
    "adam_update",
    "adam_update_many",
    "batch_norm_forward",
    "batch_norm_backward",
    "make_rng",
    "rng_state",
    "set_rng_state",
    "normal",
    "uniform",
]
