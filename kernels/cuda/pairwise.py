"""Pairwise L1 closeness of a batch's rows (minibatch discrimination), one thread per output.

For rows M of shape (N, B, C) (N examples, B kernels, C values per kernel):

    s_ijb = exp(-sum_c |M_ibc - M_jbc|),           o_ib = sum_{j != i} s_ijb
    dL/dM_ibc = -sum_j (g_ib + g_jb) · s_ijb · sign(M_ibc - M_jbc)

The forward launches one thread per similarity s_ijb (it reads 2C values and writes
one), then folds each row of s into o with the array module's sum. The backward
launches one thread per gradient entry (b, c, i), which walks j and rebuilds the weight
(g_ib + g_jb) s_ijb on the fly, so no (N, N, B) weight array is written. Both read a
(B, C, N) copy of the rows, so neighbouring threads read neighbouring memory. The
formulas and the plain CPU loops are in kernels/cpu/pairwise.py.
"""

from __future__ import annotations

import math

from numba import cuda

from kernels.cuda.runtime import contiguous, grid_1d, on_device, sizes, xp
from kernels.geometry import check_closeness_backward_args, check_float_array


@cuda.jit
def _similarity_kernel(columns, similarity):
    kernels, width, count = columns.shape
    for index in range(cuda.grid(1), similarity.size, cuda.gridsize(1)):
        b = index // (count * count)
        i = (index // count) % count
        j = index % count
        distance = 0.0
        for c in range(width):
            distance += abs(columns[b, c, i] - columns[b, c, j])
        similarity[b, i, j] = math.exp(-distance)


@cuda.jit
def _closeness_backward_kernel(grad, columns, similarity, grad_columns):
    kernels, width, count = columns.shape
    for index in range(cuda.grid(1), grad_columns.size, cuda.gridsize(1)):
        b = index // (width * count)
        c = (index // count) % width
        i = index % count
        value = columns[b, c, i]
        total = 0.0
        for j in range(count):
            difference = value - columns[b, c, j]
            if difference != 0:
                weight = (grad[b, i] + grad[b, j]) * similarity[b, i, j]
                total += weight if difference > 0 else -weight
        grad_columns[b, c, i] = -total


def pairwise_l1_closeness(rows):
    """(o, s): o (N, B) and the similarities s kept kernel-first as (B, N, N)."""
    rows = on_device(rows, "rows")
    check_float_array(rows, "rows", ndim=3)
    columns = contiguous(rows.transpose(1, 2, 0))
    kernels, _, count = columns.shape
    similarity = xp.empty((kernels, count, count), dtype=rows.dtype)
    if similarity.size:
        _similarity_kernel[grid_1d(similarity.size), sizes.threads_1d](columns, similarity)
    closeness = similarity.sum(axis=2) - 1  # exp(-0) = 1 is each row's closeness to itself
    return xp.ascontiguousarray(closeness.T), similarity


def pairwise_l1_closeness_backward(grad, rows, similarity):
    """dL/dM_ibc = -sum_j (g_ib + g_jb) s_ijb sign(M_ibc - M_jbc), shaped like ``rows``."""
    rows = on_device(rows, "rows")
    grad = on_device(grad, "grad")
    similarity = on_device(similarity, "similarity")
    check_closeness_backward_args(grad, rows, similarity)
    columns = contiguous(rows.transpose(1, 2, 0))
    grad_columns = xp.empty_like(columns)
    if grad_columns.size:
        _closeness_backward_kernel[grid_1d(grad_columns.size), sizes.threads_1d](
            contiguous(grad.T), columns, contiguous(similarity), grad_columns
        )
    return xp.ascontiguousarray(grad_columns.transpose(2, 0, 1))
