"""2-D convolution on the GPU: im2col/col2im kernels plus the GEMM, as a closed triangle.

im2col copies every ``kh x kw`` window of the padded image into a column of a buffer
laid out ``(C*kh*kw, N, OH*OW)``:

    cols[(c, i, j), n, (oh, ow)] = x_pad[n, c, oh*sh + i, ow*sw + j]

Seen as a ``(C*kh*kw, N*OH*OW)`` matrix, the whole batch goes through one GEMM, with
``W = w.reshape(O, C*kh*kw)`` and ``dY`` = grad_y laid out ``(O, N*OH*OW)``:

    forward:      Y  = W @ cols                     y      = Y as (N, O, OH, OW)
    input grad:   dX = W.T @ dY,  dx = col2im(dX)   (this is conv_transpose2d of dy by w)
    weight grad:  dW = dY @ cols.T                  grad_w = dW as (O, C, kh, kw)

The DCGAN generator's upsampling layer is :func:`conv2d_input_grad`: the
discriminator's backward pass run forwards. :func:`conv2d_backward` and
:func:`conv_transpose2d_backward` give a training step both gradients in one call, the
incoming gradient's ``dY`` layout (or its im2col) made once for both GEMMs.

col2im is written as a gather, one thread per input pixel summing the column entries
copied from it, so overlapping windows need no atomics and the sum order is fixed.
The buffer layout, shapes and error messages match ``kernels.cpu``.
"""

from __future__ import annotations

from numba import cuda

from kernels.cuda.gemm import matmul
from kernels.cuda.runtime import contiguous, grid_1d, on_device, sizes, xp
from kernels.geometry import (
    Pair,
    check_columns,
    check_float_array,
    conv2d_args,
    conv2d_backward_args,
    conv2d_input_grad_args,
    conv2d_weight_grad_args,
    window_args,
)


@cuda.jit
def _im2col_kernel(x, cols, kh, kw, sh, sw, ph, pw, out_w):
    """One thread per buffer entry, ``ow`` fastest so neighbouring threads write neighbours."""
    n_images, channels, height, width = x.shape
    out_hw = cols.shape[2]
    total = cols.shape[0] * n_images * out_hw
    for index in range(cuda.grid(1), total, cuda.gridsize(1)):
        position = index % out_hw
        rest = index // out_hw
        n = rest % n_images
        row = rest // n_images  # (c, i, j) flattened
        j = row % kw
        i = (row // kw) % kh
        c = row // (kh * kw)
        oh = position // out_w
        ow = position - oh * out_w
        ih = oh * sh - ph + i
        iw = ow * sw - pw + j
        if 0 <= ih < height and 0 <= iw < width:
            cols[row, n, position] = x[n, c, ih, iw]
        else:
            cols[row, n, position] = 0


@cuda.jit
def _col2im_kernel(cols, x, kh, kw, sh, sw, ph, pw, out_h, out_w, zero):
    """One thread per pixel: add every buffer entry that im2col copied from it.

    ``zero`` is a scalar of the buffer's dtype, so the sum stays in that precision."""
    n_images, channels, height, width = x.shape
    total = n_images * channels * height * width
    for index in range(cuda.grid(1), total, cuda.gridsize(1)):
        iw = index % width
        ih = (index // width) % height
        c = (index // (width * height)) % channels
        n = index // (width * height * channels)
        acc = zero
        for i in range(kh):
            # Solve oh*sh - ph + i = ih for an integer oh in range.
            h_offset = ih + ph - i
            if h_offset < 0 or h_offset % sh != 0 or h_offset // sh >= out_h:
                continue
            oh = h_offset // sh
            for j in range(kw):
                w_offset = iw + pw - j
                if w_offset < 0 or w_offset % sw != 0 or w_offset // sw >= out_w:
                    continue
                acc += cols[(c * kh + i) * kw + j, n, oh * out_w + w_offset // sw]
        x[n, c, ih, iw] = acc


def im2col_matrix(x, kernel: Pair, step: Pair, pad: Pair, out_hw: Pair):
    """Windows of ``x`` as a contiguous ``(C*kh*kw, N, OH*OW)`` buffer; arguments pre-checked."""
    n_images, channels = x.shape[:2]
    (kh, kw), (sh, sw), (ph, pw) = kernel, step, pad
    cols = xp.empty((channels * kh * kw, n_images, out_hw[0] * out_hw[1]), dtype=x.dtype)
    if cols.size:
        blocks = grid_1d(cols.size)
        _im2col_kernel[blocks, sizes.threads_1d](
            contiguous(x), cols, kh, kw, sh, sw, ph, pw, out_hw[1]
        )
    return cols


def col2im_matrix(cols, x_shape: tuple[int, ...], kernel: Pair, step: Pair, pad: Pair, out_hw):
    """Adjoint of :func:`im2col_matrix`: sum a ``(C*kh*kw, N, OH*OW)`` buffer into ``x_shape``."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, step, pad
    x = xp.empty(x_shape, dtype=cols.dtype)
    if x.size:
        if cols.size == 0:
            x[...] = 0
            return x
        blocks = grid_1d(x.size)
        _col2im_kernel[blocks, sizes.threads_1d](
            contiguous(cols), x, kh, kw, sh, sw, ph, pw, out_hw[0], out_hw[1], x.dtype.type(0)
        )
    return x


def _check(array, name: str, ndim: int) -> None:
    on_device(array, name)
    check_float_array(array, name, ndim)


def im2col(x, kernel_hw: int | Pair, stride: int | Pair, padding: int | Pair):
    """``cols[n, (c, i, j), (oh, ow)] = x_pad[n, c, oh*sh + i, ow*sw + j]``, shape (N, C*kh*kw, L).

    A transposed view of the contiguous buffer :func:`im2col_matrix` fills.
    """
    _check(x, "x", 4)
    kernel, step, pad, out_hw = window_args(x.shape[2:], kernel_hw, stride, padding)
    return im2col_matrix(x, kernel, step, pad, out_hw).transpose(1, 0, 2)


def col2im(
    cols,
    x_shape: tuple[int, int, int, int],
    kernel_hw: int | Pair,
    stride: int | Pair,
    padding: int | Pair,
):
    """Adjoint of :func:`im2col`: add each ``cols[n, (c, i, j), (oh, ow)]`` onto its pixel."""
    _check(cols, "cols", 3)
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W), got {tuple(x_shape)}")
    x_shape = tuple(int(size) for size in x_shape)
    kernel, step, pad, out_hw = window_args(x_shape[2:], kernel_hw, stride, padding)
    n_images, channels = x_shape[:2]
    expected = (n_images, channels * kernel[0] * kernel[1], out_hw[0] * out_hw[1])
    if tuple(cols.shape) != expected:
        raise ValueError(
            f"cols must have shape (N, C*kh*kw, OH*OW) = {expected} for x_shape {x_shape}, "
            f"got {tuple(cols.shape)}"
        )
    return col2im_matrix(cols.transpose(1, 0, 2), x_shape, kernel, step, pad, out_hw)


def _batch_major(matrix, channels: int, n_images: int, out_hw: Pair):
    """``(channels, N*OH*OW)`` matrix -> contiguous ``(N, channels, OH, OW)`` array."""
    planes = matrix.reshape(channels, n_images, out_hw[0], out_hw[1])
    return xp.ascontiguousarray(planes.transpose(1, 0, 2, 3))


def _channel_major(grad_y):
    """``(N, O, OH, OW)`` array -> contiguous ``(O, N*OH*OW)`` matrix."""
    n_images, channels, height, width = grad_y.shape
    # Explicit sizes, not -1: an empty batch must reshape too.
    planes = xp.ascontiguousarray(grad_y.transpose(1, 0, 2, 3))
    return planes.reshape(channels, n_images * height * width)


def conv2d_forward(x, w, stride: int | Pair, padding: int | Pair, keep_columns: bool = False):
    """``y[n, o] = sum_{c,i,j} w[o, c, i, j] * x_pad[n, c, oh*sh + i, ow*sw + j]`` (no bias).

    ``keep_columns=True`` returns ``(y, cols)``, the im2col that :func:`conv2d_backward`
    reuses for the weight gradient (one launch fewer, memory traded for it).
    """
    on_device(x, "x")
    on_device(w, "w")
    kernel, step, pad, out_hw = conv2d_args(x, w, stride, padding)
    out_channels = w.shape[0]
    cols = im2col_matrix(x, kernel, step, pad, out_hw)
    product = matmul(w.reshape(out_channels, -1), cols.reshape(cols.shape[0], cols[0].size))
    y = _batch_major(product, out_channels, x.shape[0], out_hw)
    return (y, cols) if keep_columns else y


def conv2d_input_grad(grad_y, w, input_hw: Pair, stride: int | Pair, padding: int | Pair):
    """``dx = col2im(W.T @ dY)``: the gradient of conv2d w.r.t. x, i.e. conv_transpose2d.

    ``input_hw`` fixes the output size, which the stride alone leaves ambiguous.
    """
    on_device(grad_y, "grad_y")
    on_device(w, "w")
    in_hw, kernel, step, pad, out_hw = conv2d_input_grad_args(grad_y, w, input_hw, stride, padding)
    out_channels, in_channels = w.shape[:2]
    n_images = grad_y.shape[0]
    grad_cols = matmul(w.reshape(out_channels, -1).T, _channel_major(grad_y))
    grad_cols = grad_cols.reshape(grad_cols.shape[0], n_images, out_hw[0] * out_hw[1])
    x_shape = (n_images, in_channels, *in_hw)
    return col2im_matrix(grad_cols, x_shape, kernel, step, pad, out_hw)


def conv2d_weight_grad(x, grad_y, kernel_hw: Pair, stride: int | Pair, padding: int | Pair):
    """The gradient of conv2d w.r.t. its weight, one GEMM over the whole batch:

    ``grad_w[o, c, i, j] = sum_{n,oh,ow} grad_y[n, o, oh, ow] * x_pad[n, c, oh*sh+i, ow*sw+j]``
    """
    on_device(x, "x")
    on_device(grad_y, "grad_y")
    kernel, step, pad, out_hw = conv2d_weight_grad_args(x, grad_y, kernel_hw, stride, padding)
    cols = im2col_matrix(x, kernel, step, pad, out_hw)
    grad_w = matmul(_channel_major(grad_y), cols.reshape(cols.shape[0], cols[0].size).T)
    return grad_w.reshape(grad_y.shape[1], x.shape[1], kernel[0], kernel[1])


def conv2d_backward(
    x,
    w,
    grad_y,
    stride: int | Pair,
    padding: int | Pair,
    need_input_grad: bool = True,
    need_weight_grad: bool = True,
    columns=None,
):
    """Both gradients of ``y = conv2d(x, w)`` (None for one not needed), ``dY`` laid out once;
    ``columns`` is what ``conv2d_forward(..., keep_columns=True)`` returned with ``y``."""
    for array, name in ((x, "x"), (w, "w"), (grad_y, "grad_y")):
        on_device(array, name)
    kernel, step, pad, out_hw = conv2d_backward_args(x, w, grad_y, stride, padding)
    if columns is not None:
        on_device(columns, "columns")
        check_columns(columns, x, kernel, out_hw)
    out_channels = w.shape[0]
    grad_y_cm = _channel_major(grad_y)
    grad_x = grad_w = None
    if need_input_grad:
        grad_cols = matmul(w.reshape(out_channels, -1).T, grad_y_cm)
        grad_cols = grad_cols.reshape(grad_cols.shape[0], x.shape[0], out_hw[0] * out_hw[1])
        grad_x = col2im_matrix(grad_cols, tuple(x.shape), kernel, step, pad, out_hw)
    if need_weight_grad:
        cols = im2col_matrix(x, kernel, step, pad, out_hw) if columns is None else columns
        grad_w = matmul(grad_y_cm, cols.reshape(cols.shape[0], cols[0].size).T).reshape(w.shape)
    return grad_x, grad_w


def conv_transpose2d_backward(
    x,
    w,
    grad_z,
    stride: int | Pair,
    padding: int | Pair,
    need_input_grad: bool = True,
    need_weight_grad: bool = True,
):
    """Both gradients of ``z = conv2d_input_grad(x, w)``: ``conv2d_forward(grad_z, w)`` and
    ``conv2d_weight_grad(grad_z, x)`` (None for one not needed), one im2col of ``grad_z``."""
    for array, name in ((x, "x"), (w, "w"), (grad_z, "grad_z")):
        on_device(array, name)
    names = ("grad_z", "w", "x")
    kernel, step, pad, out_hw = conv2d_backward_args(grad_z, w, x, stride, padding, names)
    out_channels = w.shape[0]
    cols = im2col_matrix(grad_z, kernel, step, pad, out_hw)
    cols = cols.reshape(cols.shape[0], cols[0].size)
    grad_x = grad_w = None
    if need_input_grad:
        product = matmul(w.reshape(out_channels, -1), cols)
        grad_x = _batch_major(product, out_channels, x.shape[0], out_hw)
    if need_weight_grad:
        grad_w = matmul(_channel_major(x), cols.T).reshape(w.shape)
    return grad_x, grad_w
