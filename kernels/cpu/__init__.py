"""The CPU backend: numpy arrays, BLAS matrix products and Numba-compiled loops.

Every name in :data:`kernels.REQUIRED` is defined here, each in the module of its idea:
``gemm`` (matmul), ``patches`` (im2col/col2im), ``conv`` (the convolution triangle; its
route for large output planes is ``conv_chunks`` with ``wide_rows`` and ``plane_patches``),
``pool``, ``activations``, ``batch_norm``, ``reduce``, ``pairwise`` (minibatch
discrimination), ``adam`` and ``random``. The Numba kernels are compiled on first use and
cached on disk (``cache=True``), so a second process loads them instead of compiling
again. Importing the backend also sizes numpy's BLAS thread pool to the idle cores
(``threads.py``; ``MINIGRAD_BLAS_THREADS`` overrides) and has malloc keep freed arrays
for the next step instead of returning them to the system (``heap.py``;
``MINIGRAD_KEEP_HEAP=0`` turns that off).
"""

from __future__ import annotations

import numpy as np

from kernels.cpu.activations import (
    bias_activation,
    bias_activation_backward,
    leaky_relu,
    leaky_relu_backward,
    relu,
    relu_backward,
    sigmoid,
    tanh,
)
from kernels.cpu.adam import adam_update
from kernels.cpu.batch_norm import batch_norm_backward, batch_norm_forward
from kernels.cpu.conv import (
    conv2d_backward,
    conv2d_forward,
    conv2d_input_grad,
    conv2d_weight_grad,
    conv_transpose2d_backward,
)
from kernels.cpu.gemm import matmul
from kernels.cpu.heap import keep_freed_memory
from kernels.cpu.pairwise import pairwise_l1_closeness, pairwise_l1_closeness_backward
from kernels.cpu.patches import col2im, im2col
from kernels.cpu.pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward
from kernels.cpu.random import make_rng, normal, rng_state, set_rng_state, uniform
from kernels.cpu.reduce import argmax, max, sum  # noqa: A004 - the contract's names
from kernels.cpu.threads import choose_blas_threads

name = "cpu"
xp = np
#: BLAS threads chosen at import from the idle cores (None: left as the user set them).
blas_threads = choose_blas_threads()
#: Whether glibc's malloc now keeps freed arrays for reuse (False: left as it was).
keeps_freed_memory = keep_freed_memory()


def asarray(data, dtype=None) -> np.ndarray:
    """``data`` (array, scalar or nested list) as a numpy array of ``dtype``.

    No copy is made when ``data`` already is such an array.
    """
    return np.asarray(data, dtype=dtype)


def to_numpy(array) -> np.ndarray:
    """The CPU's arrays already are numpy arrays."""
    return np.asarray(array)


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
    "batch_norm_forward",
    "batch_norm_backward",
    "sum",
    "max",
    "argmax",
    "pairwise_l1_closeness",
    "pairwise_l1_closeness_backward",
    "adam_update",
    "make_rng",
    "rng_state",
    "set_rng_state",
    "normal",
    "uniform",
]
