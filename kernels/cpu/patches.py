"""im2col and col2im: a convolution turned into one matrix product.

im2col copies every ``kh x kw`` window of a zero-padded NCHW image into a column,

    cols[(c, i, j), (oh, ow, n)] = x_pad[n, c, oh*sh + i, ow*sw + j]

so that ``conv2d(x, w) = w.reshape(O, C*kh*kw) @ cols``. col2im is its adjoint: it adds
every entry back onto the pixel it was copied from (where windows overlap, they sum),

    x_grad[n, c, h, w] = sum of cols[(c, i, j), (oh, ow, n)] over oh*sh + i - ph = h
                                                              and ow*sw + j - pw = w.

Layout, and why. The batch index ``n`` is the last (fastest) axis of ``cols``. Each
kernel first copies one channel of all N images into a small batch-last tile
``(H, W, N)`` that stays in cache for all ``kh*kw`` taps, so one pixel of the N images is
a contiguous run, and every copy or add then moves a whole run, which the compiler
vectorises. With the batch first the runs were one output row (7 numbers on a 14-pixel
DCGAN layer), loop overhead dominated, and the kernels measured about 4x slower. The
``(C*kh*kw, OH*OW*N)`` matrix also sends the whole batch through one large BLAS call;
only the GEMM's output and ``grad_y`` then need a transpose between ``(N, O, ...)`` and
``(O, ..., N)`` (:func:`batch_first`, :func:`batch_last`).

The kernels are serial on purpose: OpenBLAS keeps its worker threads spinning for a
while after each GEMM, and a ``parallel=True`` kernel run between GEMMs fought those
threads for the 2 cores and measured 2-3x slower than the serial one.
"""

from __future__ import annotations

import math

import numpy as np

from kernels.cpu.jit import njit
from kernels.geometry import Pair, check_float_array, window_args


@njit()
def _im2col_kernel(x, kh, kw, sh, sw, ph, pw, cols):
    n_images, channels, height, width = x.shape
    out_h, out_w = cols.shape[1], cols.shape[2]
    plane = np.empty((height, width, n_images), dtype=x.dtype)
    for c in range(channels):
        # Channel c of every image, batch-last: one small tile, read by all kh*kw taps.
        for h in range(height):
            for w in range(width):
                for n in range(n_images):
                    plane[h, w, n] = x[n, c, h, w]
        for i in range(kh):
            for j in range(kw):
                k = (c * kh + i) * kw + j
                for oh in range(out_h):
                    ih = oh * sh - ph + i
                    for ow in range(out_w):
                        iw = ow * sw - pw + j
                        run = cols[k, oh, ow]
                        if 0 <= ih < height and 0 <= iw < width:
                            source = plane[ih, iw]
                            for n in range(n_images):
                                run[n] = source[n]
                        else:
                            for n in range(n_images):
                                run[n] = 0


@njit()
def _col2im_kernel(cols, kh, kw, sh, sw, ph, pw, x):
    n_images, channels, height, width = x.shape
    out_h, out_w = cols.shape[1], cols.shape[2]
    plane = np.empty((height, width, n_images), dtype=x.dtype)
    for c in range(channels):
        plane[:] = 0
        for i in range(kh):
            for j in range(kw):
                k = (c * kh + i) * kw + j
                for oh in range(out_h):
                    ih = oh * sh - ph + i
                    if ih < 0 or ih >= height:
                        continue
                    for ow in range(out_w):
                        iw = ow * sw - pw + j
                        if iw < 0 or iw >= width:
                            continue
                        run = cols[k, oh, ow]
                        target = plane[ih, iw]
                        for n in range(n_images):
                            target[n] += run[n]
        # Back to batch-first while the tile is still in cache.
        for n in range(n_images):
            for h in range(height):
                for w in range(width):
                    x[n, c, h, w] = plane[h, w, n]


@njit()
def _transpose_kernel(a, out):
    """``out = a.T`` in 32 x 32 tiles, so both the reads and the writes stay in cache."""
    rows, columns = a.shape
    for r0 in range(0, rows, 32):
        r1 = min(rows, r0 + 32)
        for s0 in range(0, columns, 32):
            s1 = min(columns, s0 + 32)
            for s in range(s0, s1):
                for r in range(r0, r1):
                    out[s, r] = a[r, s]


def batch_last(a: np.ndarray) -> np.ndarray:
    """``(N, ...) -> (..., N)``, contiguous, as a 2-D ``(prod(...), N)`` matrix.

    numpy's own copy measured faster than the tiled kernel in this direction.
    """
    return np.ascontiguousarray(a.reshape(a.shape[0], math.prod(a.shape[1:])).T)


def batch_first(a_bl: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`batch_last`: a ``(..., N)`` array back to a contiguous ``shape``.

    Here numpy's copy measured 2-8x slower than the tiled kernel.
    """
    matrix = np.ascontiguousarray(a_bl).reshape(math.prod(shape[1:]), shape[0])
    out = np.empty((shape[0], matrix.shape[0]), dtype=matrix.dtype)
    _transpose_kernel(matrix, out)
    return out.reshape(shape)


def im2col_matrix(
    x: np.ndarray, kernel_hw: Pair, stride: Pair, padding: Pair, out_hw: Pair
) -> np.ndarray:
    """Windows of an ``(N, C, H, W)`` image as a batch-last ``(C*kh*kw, OH*OW*N)`` matrix.

    Arguments must already be checked (see :func:`kernels.geometry.window_args`).
    """
    n_images, channels = x.shape[:2]
    (kh, kw), (sh, sw), (ph, pw) = kernel_hw, stride, padding
    cols = np.empty((channels * kh * kw, out_hw[0], out_hw[1], n_images), dtype=x.dtype)
    _im2col_kernel(np.ascontiguousarray(x), kh, kw, sh, sw, ph, pw, cols)
    return cols.reshape(cols.shape[0], -1)


def col2im_matrix(
    cols: np.ndarray,
    x_shape: tuple[int, int, int, int],
    kernel_hw: Pair,
    stride: Pair,
    padding: Pair,
    out_hw: Pair,
) -> np.ndarray:
    """Adjoint of :func:`im2col_matrix`: sum a ``(C*kh*kw, OH*OW*N)`` matrix into ``x_shape``."""
    (kh, kw), (sh, sw), (ph, pw) = kernel_hw, stride, padding
    cols = np.ascontiguousarray(cols).reshape(cols.shape[0], out_hw[0], out_hw[1], x_shape[0])
    x = np.empty(x_shape, dtype=cols.dtype)
    _col2im_kernel(cols, kh, kw, sh, sw, ph, pw, x)
    return x


def im2col(
    x: np.ndarray,
    kernel_hw: int | Pair,
    stride: int | Pair,
    padding: int | Pair,
) -> np.ndarray:
    """``cols[n, (c, i, j), (oh, ow)] = x_pad[n, c, oh*sh + i, ow*sw + j]``, shape (N, C*kh*kw, L).

    ``L = OH*OW``. The result is a transposed view of the batch-last buffer that
    :func:`im2col_matrix` fills; no copy is made to reorder it.
    """
    check_float_array(x, "x", 4)
    kernel, step, pad, out_hw = window_args(x.shape[2:], kernel_hw, stride, padding)
    cols = im2col_matrix(x, kernel, step, pad, out_hw)
    return cols.reshape(cols.shape[0], out_hw[0] * out_hw[1], x.shape[0]).transpose(2, 0, 1)


def col2im(
    cols: np.ndarray,
    x_shape: tuple[int, int, int, int],
    kernel_hw: int | Pair,
    stride: int | Pair,
    padding: int | Pair,
) -> np.ndarray:
    """Adjoint of :func:`im2col`: add each ``cols[n, (c, i, j), (oh, ow)]`` onto its pixel."""
    check_float_array(cols, "cols", 3)
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W), got {tuple(x_shape)}")
    x_shape = tuple(int(size) for size in x_shape)
    kernel, step, pad, out_hw = window_args(x_shape[2:], kernel_hw, stride, padding)
    expected = (x_shape[0], x_shape[1] * kernel[0] * kernel[1], out_hw[0] * out_hw[1])
    if tuple(cols.shape) != expected:
        raise ValueError(
            f"cols must have shape (N, C*kh*kw, OH*OW) = {expected} for x_shape "
            f"{x_shape}, got {tuple(cols.shape)}"
        )
    cols_bl = np.ascontiguousarray(cols.transpose(1, 2, 0)).reshape(expected[1], -1)
    return col2im_matrix(cols_bl, x_shape, kernel, step, pad, out_hw)
