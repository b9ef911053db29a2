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
"""

from __future__ import annotations

import numpy as np

from kernels.cpu.patches import batch_first, batch_last, col2im_matrix, im2col_matrix
from kernels.geometry import (
    Pair,
    conv2d_args,
    conv2d_input_grad_args,
    conv2d_weight_grad_args,
)


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, stride: int | Pair, padding: int | Pair
) -> np.ndarray:
    """``y[n, o, oh, ow] = sum_{c,i,j} w[o, c, i, j] * x_pad[n, c, oh*sh + i, ow*sw + j]``."""
    kernel, step, pad, out_hw = conv2d_args(x, w, stride, padding)
    out_channels = w.shape[0]
    cols = im2col_matrix(x, kernel, step, pad, out_hw)
    product = w.reshape(out_channels, -1) @ cols
    return batch_first(product, (x.shape[0], out_channels, *out_hw))


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
    out_channels, in_channels = w.shape[:2]
    n_images = grad_y.shape[0]
    grad_cols = w.reshape(out_channels, -1).T @ batch_last(grad_y).reshape(out_channels, -1)
    x_shape = (n_images, in_channels, *in_hw)
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
    cols = im2col_matrix(x, kernel, step, pad, out_hw)
    grad_y_bl = batch_last(grad_y).reshape(grad_y.shape[1], -1)
    grad_w = weight_grad_product(grad_y_bl, cols)
    return grad_w.reshape(grad_y.shape[1], x.shape[1], kernel[0], kernel[1])


def weight_grad_product(grad_y_bl: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``dW = dY @ X.T``, a product over the long ``OH*OW*N`` axis, computed as a C-ordered
    ``(O, C*kh*kw)`` matrix.

    Why two spellings: OpenBLAS's threaded sgemm with a K of tens of thousands is slow
    when the result is wide. On the shared 2-core machine with 2 BLAS threads, the whole
    weight gradient of the MNIST CNN's conv 32->64 (O = 64, C*kh*kw = 288, K = 36,864)
    took 1.6-3.3 s as ``dY @ X.T`` and 0.31-0.32 s as ``(X @ dY.T).T``; DCGAN's conv
    64->128 0.28-0.30 s and 0.10-0.14 s (one BLAS thread: the same either way). For conv
    1->32 (C*kh*kw = 9) the slow spelling is the other one, so the smaller of the two
    sizes is made the result's column count.
    """
    if grad_y_bl.shape[0] <= cols.shape[0]:
        return np.ascontiguousarray((cols @ grad_y_bl.T).T)
    return grad_y_bl @ cols.T
