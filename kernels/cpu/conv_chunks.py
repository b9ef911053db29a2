"""The convolution triangle of ``conv.py``, a few images at a time, plane by plane.

The same three products, for each chunk of ``m`` images (``X_m`` the chunk's im2col
with the images outside their output planes, ``(C*kh*kw, m*P)``; ``W = w.reshape(O, -1)``;
``dY_m`` the chunk's ``grad_y`` laid out the same way, ``(O, m*P)``):

    forward:      Y_m = W @ X_m                       y[chunk]  = Y_m, planes moved
    input grad:   dX_m = W.T @ dY_m,                  dx[chunk] = col2im(dX_m)
    weight grad:  dW = sum over chunks of dY_m @ X_m.T

A training step's backward wants both gradients at once: ``conv2d_backward_chunks`` lays
out each chunk's ``dY_m`` once for both products, and ``conv_transpose2d_backward_chunks``
(the backward of a transposed conv, whose two gradients are a conv2d and a weight
gradient of the same ``grad_z``) takes each chunk's im2col once.

Why planes: the GEMM's output is ``(O, m, P)``, and batch-first ``y`` then needs whole
planes moved, not every pixel transposed as the batch-last matrix of ``patches.py`` needs
(that transpose cost as much as the GEMM on the MNIST CNN's layers). Why chunks: the
whole batch's im2col of that CNN's conv 32->64 is 42 MB, larger than the cache, so it
went to memory and back; a chunk of a few MB is read by the GEMM while still cached,
and the buffers are reused chunk after chunk, so the peak memory falls too.

The layout of a chunk (``P`` and the copies) is a stride-1 :class:`WideRows` where it
applies (long contiguous copies) and :class:`StridedPlanes` otherwise. ``conv.py``
sends layers with large output planes here; its batch-last version stays the plain
reference that the tests compare this one against.
"""

from __future__ import annotations

import numpy as np

from kernels.cpu.gemm import product_with_transpose
from kernels.cpu.plane_patches import StridedPlanes, empty_chunk
from kernels.cpu.wide_rows import WideRows
from kernels.geometry import Pair

#: Bytes of ``cols`` per chunk: a few MB stay in this machine's 32 MB L3 cache beside the
#: GEMM's operands; measured in bench/bench_conv_paths.py.
CHUNK_BYTES = 4 << 20


def chunk_layout(
    x_shape: tuple[int, ...], kernel: Pair, step: Pair, pad: Pair, out_hw: Pair, dtype
) -> WideRows | StridedPlanes:
    """The chunk layout for this conv: wide rows for stride 1, strided planes otherwise."""
    if step == (1, 1):
        return WideRows(x_shape, kernel, pad, out_hw, dtype)
    return StridedPlanes(kernel, step, pad, out_hw)


def images_per_chunk(n_images: int, column_bytes_per_image: int) -> int:
    """As many images as fit :data:`CHUNK_BYTES` of columns (at least one, at most all)."""
    return max(1, min(n_images, CHUNK_BYTES // max(1, column_bytes_per_image)))


def _plan(
    image_shape: tuple[int, ...],
    kernel: Pair,
    step: Pair,
    pad: Pair,
    out_hw: Pair,
    dtype,
    channels: int,
) -> tuple[WideRows | StridedPlanes, int, int, np.ndarray, np.ndarray]:
    """What every chunk loop sets up for a conv over images of ``image_shape``: the layout,
    the im2col rows ``C*kh*kw``, the images per chunk, and two buffers reused chunk after
    chunk: one for a chunk's columns ``(rows, m*P)``, one for ``channels`` rows of ``m*P``
    (the GEMM's output, or ``dY_m``)."""
    layout = chunk_layout(image_shape, kernel, step, pad, out_hw, dtype)
    rows = image_shape[1] * kernel[0] * kernel[1]
    per_chunk = images_per_chunk(image_shape[0], rows * layout.plane * np.dtype(dtype).itemsize)
    col_buffer = np.empty(rows * layout.plane * per_chunk, dtype=dtype)
    channel_buffer = np.empty(channels * layout.plane * per_chunk, dtype=dtype)
    return layout, rows, per_chunk, col_buffer, channel_buffer


def _chunks(n_images: int, per_chunk: int):
    for n0 in range(0, n_images, per_chunk):
        yield n0, min(per_chunk, n_images - n0)


def conv2d_forward_chunks(
    x: np.ndarray, w: np.ndarray, kernel: Pair, step: Pair, pad: Pair, out_hw: Pair
) -> np.ndarray:
    """``y = conv2d(x, w)`` as ``W @ X_m`` per chunk (arguments already checked)."""
    x = np.ascontiguousarray(x)
    out_channels = w.shape[0]
    layout, rows, per_chunk, col_buffer, out_buffer = _plan(
        x.shape, kernel, step, pad, out_hw, x.dtype, out_channels
    )
    weights = w.reshape(out_channels, rows)
    y = np.empty((x.shape[0], out_channels, *out_hw), dtype=x.dtype)
    for n0, m in _chunks(x.shape[0], per_chunk):
        cols = layout.columns(x, n0, m, col_buffer)
        product = empty_chunk(out_buffer, (out_channels, cols.shape[1]))
        np.matmul(weights, cols, out=product)
        layout.to_images(product, y, n0, m)
    return y


def conv2d_input_grad_chunks(
    grad_y: np.ndarray,
    w: np.ndarray,
    x_shape: tuple[int, int, int, int],
    kernel: Pair,
    step: Pair,
    pad: Pair,
    out_hw: Pair,
) -> np.ndarray:
    """``dx = col2im(W.T @ dY_m)`` per chunk: conv_transpose2d of ``grad_y`` by ``w``."""
    out_channels = w.shape[0]
    layout, rows, per_chunk, col_buffer, grad_buffer = _plan(
        x_shape, kernel, step, pad, out_hw, grad_y.dtype, out_channels
    )
    weights_t = w.reshape(out_channels, rows).T
    dx = np.empty(x_shape, dtype=grad_y.dtype)
    for n0, m in _chunks(x_shape[0], per_chunk):
        grad_m = layout.grad_columns(grad_y, n0, m, grad_buffer)
        grad_cols = empty_chunk(col_buffer, (rows, grad_m.shape[1]))
        np.matmul(weights_t, grad_m, out=grad_cols)
        layout.add_back(grad_cols, dx, n0, m)
    return dx


def conv2d_weight_grad_chunks(
    x: np.ndarray, grad_y: np.ndarray, kernel: Pair, step: Pair, pad: Pair, out_hw: Pair
) -> np.ndarray:
    """``dW = sum over chunks of dY_m @ X_m.T``, as ``(O, C, kh, kw)``."""
    x = np.ascontiguousarray(x)
    out_channels = grad_y.shape[1]
    layout, rows, per_chunk, col_buffer, grad_buffer = _plan(
        x.shape, kernel, step, pad, out_hw, x.dtype, out_channels
    )
    grad_w = np.zeros((out_channels, rows), dtype=x.dtype)
    for n0, m in _chunks(x.shape[0], per_chunk):
        cols = layout.columns(x, n0, m, col_buffer)
        grad_m = layout.grad_columns(grad_y, n0, m, grad_buffer)
        grad_w += product_with_transpose(grad_m, cols)
    return grad_w.reshape(out_channels, x.shape[1], *kernel)


def conv2d_backward_chunks(
    x: np.ndarray,
    w: np.ndarray,
    grad_y: np.ndarray,
    kernel: Pair,
    step: Pair,
    pad: Pair,
    out_hw: Pair,
    need_input_grad: bool,
    need_weight_grad: bool,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Both gradients of ``y = conv2d(x, w)`` in one pass over the chunks: each chunk's
    ``dY_m`` is laid out once and read by both products (``dX_m = W.T @ dY_m``,
    ``dW += dY_m @ X_m.T``), where the two separate functions lay it out twice."""
    x = np.ascontiguousarray(x)
    out_channels = w.shape[0]
    layout, rows, per_chunk, col_buffer, grad_buffer = _plan(
        x.shape, kernel, step, pad, out_hw, x.dtype, out_channels
    )
    weights_t = w.reshape(out_channels, rows).T
    grad_x = np.empty(x.shape, dtype=x.dtype) if need_input_grad else None
    grad_w = np.zeros((out_channels, rows), dtype=x.dtype) if need_weight_grad else None
    for n0, m in _chunks(x.shape[0], per_chunk):
        grad_m = layout.grad_columns(grad_y, n0, m, grad_buffer)
        if grad_w is not None:
            grad_w += product_with_transpose(grad_m, layout.columns(x, n0, m, col_buffer))
        if grad_x is not None:  # the columns are used up: their buffer takes dX_m
            grad_cols = empty_chunk(col_buffer, (rows, grad_m.shape[1]))
            np.matmul(weights_t, grad_m, out=grad_cols)
            layout.add_back(grad_cols, grad_x, n0, m)
    return grad_x, None if grad_w is None else grad_w.reshape(w.shape)


def conv_transpose2d_backward_chunks(
    x: np.ndarray,
    w: np.ndarray,
    grad_z: np.ndarray,
    kernel: Pair,
    step: Pair,
    pad: Pair,
    out_hw: Pair,
    need_input_grad: bool,
    need_weight_grad: bool,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Both gradients of ``z = conv_transpose2d(x, w)`` (``conv2d_input_grad(x, w)``): per
    chunk one im2col ``Z_m`` of ``grad_z`` feeds ``dx = W @ Z_m`` (a conv2d of ``grad_z``)
    and ``dW += X_m @ Z_m.T`` (a weight gradient with ``x`` in ``grad_y``'s place)."""
    grad_z = np.ascontiguousarray(grad_z)
    out_channels = w.shape[0]
    layout, rows, per_chunk, col_buffer, out_buffer = _plan(
        grad_z.shape, kernel, step, pad, out_hw, grad_z.dtype, out_channels
    )
    weights = w.reshape(out_channels, rows)
    grad_x = np.empty(x.shape, dtype=x.dtype) if need_input_grad else None
    grad_w = np.zeros((out_channels, rows), dtype=x.dtype) if need_weight_grad else None
    for n0, m in _chunks(grad_z.shape[0], per_chunk):
        cols = layout.columns(grad_z, n0, m, col_buffer)
        if grad_x is not None:
            product = empty_chunk(out_buffer, (out_channels, cols.shape[1]))
            np.matmul(weights, cols, out=product)
            layout.to_images(product, grad_x, n0, m)
        if grad_w is not None:
            grad_w += product_with_transpose(layout.grad_columns(x, n0, m, out_buffer), cols)
    return grad_x, None if grad_w is None else grad_w.reshape(w.shape)
