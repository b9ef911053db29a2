"""2-D convolution as a closed triangle of three matrix products over im2col buffers.

With ``X = im2col(x)`` of shape ``(C*kh*kw, OH*OW*N)`` (batch-last, see ``patches.py``)
and ``W = w.reshape(O, C*kh*kw)``:

    forward:      Y  = W @ X                          y      = Y  as (N, O, OH, OW)
    input grad:   dX = W.T @ dY,   dx = col2im(dX)    (this is conv_transpose2d of dy by w)
    weight grad:  dW = dY @ X.T                       grad_w = dW as (O, C, kh, kw)

where ``dY`` is ``grad_y`` laid out batch-last as ``(O, OH*OW*N)``. Each product is one
large BLAS call over the whole batch (numpy's matmul is the speed limit); the rest is
the im2col/col2im kernels and the batch-first <-> batch-last transposes around them.

The DCGAN generator's upsampling layer (conv_transpose2d) is exactly
:func:`conv2d_input_grad`: the discriminator's backward pass run forwards.

A training step's backward needs two products of the triangle from the same incoming
gradient; :func:`conv2d_backward` and :func:`conv_transpose2d_backward` compute both in
one call, so that the gradient's layout (or its im2col) is made once, not twice.

Two routes compute the same three products. The ``*_batch_last`` functions below are the
plain reference: one im2col of the whole batch, one GEMM. Layers whose output planes
have at least :data:`CHUNKED_MIN_PLANE` pixels go through ``conv_chunks.py`` instead,
which keeps every output plane whole and works a few images at a time; there the
batch-last transposes cost as much as the GEMMs (measured in bench/bench_conv_paths.py),
while on small planes (7x7 in DCGAN) the batch-last runs of N are the longer ones.
"""

from __future__ import annotations

import numpy as np

from kernels.cpu.conv_chunks import (
    conv2d_backward_chunks,
    conv2d_forward_chunks,
    conv2d_input_grad_chunks,
    conv2d_weight_grad_chunks,
    conv_transpose2d_backward_chunks,
)
from kernels.cpu.gemm import product_with_transpose
from kernels.cpu.patches import batch_first, batch_last, col2im_matrix, im2col_matrix
from kernels.geometry import (
    Pair,
    check_columns,
    conv2d_args,
    conv2d_backward_args,
    conv2d_input_grad_args,
    conv2d_weight_grad_args,
)

#: Output planes (OH*OW pixels) from which the chunked plane route is taken: the MNIST
#: CNN's 26x26 and 24x24 and DCGAN's 14x14 layers measured faster there, DCGAN's 7x7
#: layers slower.
CHUNKED_MIN_PLANE = 128


def conv2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    stride: int | Pair,
    padding: int | Pair,
    keep_columns: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray | None]:
    """``y[n, o, oh, ow] = sum_{c,i,j} w[o, c, i, j] * x_pad[n, c, oh*sh + i, ow*sw + j]``.

    ``keep_columns=True`` returns ``(y, columns)``: the whole batch's im2col, which
    :func:`conv2d_backward` then reuses for the weight gradient instead of building it
    again (memory traded for time: 12.8 MB and ~1.8 ms for DCGAN's conv 64->128). The
    chunked route builds its columns a chunk at a time and keeps none (None).
    """
    kernel, step, pad, out_hw = conv2d_args(x, w, stride, padding)
    if chunked(out_hw):
        y, cols = conv2d_forward_chunks(x, w, kernel, step, pad, out_hw), None
    else:
        y, cols = _forward_batch_last(x, w, kernel, step, pad, out_hw)
    return (y, cols) if keep_columns else y


def chunked(out_hw: Pair) -> bool:
    """Whether a conv with output planes of ``out_hw`` goes through ``conv_chunks.py``."""
    return out_hw[0] * out_hw[1] >= CHUNKED_MIN_PLANE


def conv2d_forward_batch_last(
    x: np.ndarray, w: np.ndarray, kernel: Pair, step: Pair, pad: Pair, out_hw: Pair
) -> np.ndarray:
    """The reference forward, ``Y = W @ im2col(x)`` over the whole batch (arguments checked)."""
    return _forward_batch_last(x, w, kernel, step, pad, out_hw)[0]


def _forward_batch_last(
    x: np.ndarray, w: np.ndarray, kernel: Pair, step: Pair, pad: Pair, out_hw: Pair
) -> tuple[np.ndarray, np.ndarray]:
    """``(y, cols)``: the forward and the im2col it was computed from."""
    out_channels = w.shape[0]
    cols = im2col_matrix(x, kernel, step, pad, out_hw)
    product = w.reshape(out_channels, -1) @ cols
    return batch_first(product, (x.shape[0], out_channels, *out_hw)), cols


def conv2d_input_grad(
    grad_y: np.ndarray,
    w: np.ndarray,
    input_hw: Pair,
    stride: int | Pair,
    padding: int | Pair,
) -> np.ndarray:
    """``dx = col2im(W.T @ dY)``: the gradient of conv2d w.r.t. x, i.e. conv_transpose2d.

    ``input_hw`` fixes the output size, which the stride alone leaves ambiguous
    (conv_transpose2d's ``output_padding`` is chosen through it).
    """
    in_hw, kernel, step, pad, out_hw = conv2d_input_grad_args(grad_y, w, input_hw, stride, padding)
    x_shape = (grad_y.shape[0], w.shape[1], *in_hw)
    if chunked(out_hw):
        return conv2d_input_grad_chunks(grad_y, w, x_shape, kernel, step, pad, out_hw)
    return conv2d_input_grad_batch_last(grad_y, w, x_shape, kernel, step, pad, out_hw)


def conv2d_input_grad_batch_last(
    grad_y: np.ndarray,
    w: np.ndarray,
    x_shape: tuple[int, int, int, int],
    kernel: Pair,
    step: Pair,
    pad: Pair,
    out_hw: Pair,
) -> np.ndarray:
    """The reference input gradient, ``col2im(W.T @ dY)`` over the whole batch."""
    out_channels = w.shape[0]
    grad_cols = w.reshape(out_channels, -1).T @ batch_last(grad_y).reshape(out_channels, -1)
    return col2im_matrix(grad_cols, x_shape, kernel, step, pad, out_hw)


def conv2d_weight_grad(
    x: np.ndarray,
    grad_y: np.ndarray,
    kernel_hw: Pair,
    stride: int | Pair,
    padding: int | Pair,
) -> np.ndarray:
    """The gradient of conv2d w.r.t. its weight, ``dW = dY @ X.T``:

    ``grad_w[o, c, i, j] = sum_{n,oh,ow} grad_y[n, o, oh, ow] * x_pad[n, c, oh*sh+i, ow*sw+j]``.
    """
    kernel, step, pad, out_hw = conv2d_weight_grad_args(x, grad_y, kernel_hw, stride, padding)
    if chunked(out_hw):
        return conv2d_weight_grad_chunks(x, grad_y, kernel, step, pad, out_hw)
    return conv2d_weight_grad_batch_last(x, grad_y, kernel, step, pad, out_hw)


def conv2d_weight_grad_batch_last(
    x: np.ndarray, grad_y: np.ndarray, kernel: Pair, step: Pair, pad: Pair, out_hw: Pair
) -> np.ndarray:
    """The reference weight gradient, ``dY @ im2col(x).T`` over the whole batch."""
    cols = im2col_matrix(x, kernel, step, pad, out_hw)
    grad_y_bl = batch_last(grad_y).reshape(grad_y.shape[1], -1)
    grad_w = product_with_transpose(grad_y_bl, cols)
    return grad_w.reshape(grad_y.shape[1], x.shape[1], kernel[0], kernel[1])


def conv2d_backward(
    x: np.ndarray,
    w: np.ndarray,
    grad_y: np.ndarray,
    stride: int | Pair,
    padding: int | Pair,
    need_input_grad: bool = True,
    need_weight_grad: bool = True,
    columns: np.ndarray | None = None,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Both gradients of ``y = conv2d(x, w)``: ``(conv2d_input_grad(grad_y, w),
    conv2d_weight_grad(x, grad_y))``, None for one not needed; ``grad_y`` laid out once.
    ``columns``: what ``conv2d_forward(..., keep_columns=True)`` returned with ``y``."""
    kernel, step, pad, out_hw = conv2d_backward_args(x, w, grad_y, stride, padding)
    if columns is not None:
        check_columns(columns, x, kernel, out_hw)
    if chunked(out_hw):
        return conv2d_backward_chunks(
            x, w, grad_y, kernel, step, pad, out_hw, need_input_grad, need_weight_grad
        )
    out_channels = w.shape[0]
    grad_y_bl = batch_last(grad_y).reshape(out_channels, -1)
    grad_x = grad_w = None
    if need_input_grad:
        grad_cols = w.reshape(out_channels, -1).T @ grad_y_bl
        grad_x = col2im_matrix(grad_cols, x.shape, kernel, step, pad, out_hw)
    if need_weight_grad:
        cols = im2col_matrix(x, kernel, step, pad, out_hw) if columns is None else columns
        grad_w = product_with_transpose(grad_y_bl, cols).reshape(w.shape)
    return grad_x, grad_w


def conv_transpose2d_backward(
    x: np.ndarray,
    w: np.ndarray,
    grad_z: np.ndarray,
    stride: int | Pair,
    padding: int | Pair,
    need_input_grad: bool = True,
    need_weight_grad: bool = True,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Both gradients of ``z = conv_transpose2d(x, w) = conv2d_input_grad(x, w)``:
    ``(conv2d_forward(grad_z, w), conv2d_weight_grad(grad_z, x))``, None for one not
    needed; the im2col of ``grad_z`` that both read is made once."""
    names = ("grad_z", "w", "x")
    kernel, step, pad, out_hw = conv2d_backward_args(grad_z, w, x, stride, padding, names)
    if chunked(out_hw):
        return conv_transpose2d_backward_chunks(
            x, w, grad_z, kernel, step, pad, out_hw, need_input_grad, need_weight_grad
        )
    out_channels = w.shape[0]
    cols = im2col_matrix(grad_z, kernel, step, pad, out_hw)
    grad_x = grad_w = None
    if need_input_grad:
        grad_x = batch_first(w.reshape(out_channels, -1) @ cols, x.shape)
    if need_weight_grad:
        x_bl = batch_last(x).reshape(out_channels, -1)
        grad_w = product_with_transpose(x_bl, cols).reshape(w.shape)
    return grad_x, grad_w
