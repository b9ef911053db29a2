"""im2col and col2im for a chunk of images, laid out plane by plane (image-major columns).

The same copy as ``patches.py``, for the images ``n0 .. n0 + m`` of an NCHW batch,

    cols[(c, i, j), n, oh, ow] = x_pad[n0 + n, c, oh*sh + i, ow*sw + j]

but with the batch *outside* the output plane: the runs are output rows of ``OW`` pixels,
not batches of N (stride 1 takes the longer runs of ``wide_rows.py``). The point is what the
GEMM then returns. ``w.reshape(O, C*kh*kw) @ cols`` is ``(O, m, OH, OW)``, so each output
plane ``y[n, o]`` is already contiguous and batch-first order needs only whole planes
moved (a copy numpy does at memory speed), where the batch-last matrix of ``patches.py``
needs every pixel transposed. A few images at a time keep ``cols`` in cache between the
copy and the GEMM that reads it (see ``conv_chunks.py``).

col2im is again the adjoint: every entry is added back onto the pixel it was copied from.
"""

from __future__ import annotations

import math

import numpy as np

from kernels.cpu.jit import njit
from kernels.geometry import Pair


@njit(inline="always")
def _valid_columns(out_w, width, sw, pw, j):
    """The output columns ``ow`` whose tap ``j`` reads inside the image: ``[lo, hi)``."""
    lo = 0 if pw - j <= 0 else (pw - j + sw - 1) // sw
    last = width - 1 + pw - j  # ow * sw must not pass this
    hi = 0 if last < 0 else min(out_w, last // sw + 1)
    return lo, max(lo, hi)


@njit()
def im2col_planes_kernel(x, n0, kh, kw, sh, sw, ph, pw, cols):
    """Fill ``cols`` ``(C*kh*kw, m, OH, OW)`` from the images ``x[n0 : n0 + m]``."""
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    n_images, out_h, out_w = cols.shape[1], cols.shape[2], cols.shape[3]
    # Indexed, not sliced: a slice is an array view built per row, and rows are short.
    for c in range(channels):
        for i in range(kh):
            for j in range(kw):
                k = (c * kh + i) * kw + j
                lo, hi = _valid_columns(out_w, width, sw, pw, j)
                for n in range(n_images):
                    for oh in range(out_h):
                        ih = oh * sh - ph + i
                        if ih < 0 or ih >= height:
                            for ow in range(out_w):
                                cols[k, n, oh, ow] = 0
                            continue
                        for ow in range(lo):
                            cols[k, n, oh, ow] = 0
                        for ow in range(lo, hi):
                            cols[k, n, oh, ow] = x[n0 + n, c, ih, ow * sw - pw + j]
                        for ow in range(hi, out_w):
                            cols[k, n, oh, ow] = 0


@njit()
def col2im_planes_kernel(cols, n0, kh, kw, sh, sw, ph, pw, x):
    """Overwrite ``x[n0 : n0 + m]`` with the sum of ``cols`` back onto the pixels."""
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    n_images, out_h, out_w = cols.shape[1], cols.shape[2], cols.shape[3]
    for n in range(n_images):
        for c in range(channels):
            for h in range(height):
                for w in range(width):
                    x[n0 + n, c, h, w] = 0
            for i in range(kh):
                for j in range(kw):
                    k = (c * kh + i) * kw + j
                    lo, hi = _valid_columns(out_w, width, sw, pw, j)
                    for oh in range(out_h):
                        ih = oh * sh - ph + i
                        if ih < 0 or ih >= height:
                            continue
                        for ow in range(lo, hi):
                            x[n0 + n, c, ih, ow * sw - pw + j] += cols[k, n, oh, ow]


class StridedPlanes:
    """Columns, gradients and col2im of one conv of any stride, ``m`` images at a time."""

    def __init__(self, kernel: Pair, step: Pair, pad: Pair, out_hw: Pair) -> None:
        self.kernel, self.step, self.pad, self.out_hw = kernel, step, pad, out_hw
        #: The GEMM's columns per image: one output plane.
        self.plane = out_hw[0] * out_hw[1]

    def columns(self, x: np.ndarray, n0: int, m: int, buffer: np.ndarray) -> np.ndarray:
        """im2col of ``x[n0 : n0 + m]`` as ``(C*kh*kw, m*OH*OW)``."""
        rows = x.shape[1] * self.kernel[0] * self.kernel[1]
        cols = empty_chunk(buffer, (rows, m, *self.out_hw))
        im2col_planes_kernel(x, n0, *self.kernel, *self.step, *self.pad, cols)
        return cols.reshape(rows, m * self.plane)

    def grad_columns(self, grad_y: np.ndarray, n0: int, m: int, buffer: np.ndarray) -> np.ndarray:
        """``grad_y[n0 : n0 + m]`` ``(m, O, OH, OW)`` as ``(O, m*OH*OW)``: whole planes move."""
        out = empty_chunk(buffer, (grad_y.shape[1], m, *self.out_hw))
        np.copyto(out, grad_y[n0 : n0 + m].transpose(1, 0, 2, 3))
        return out.reshape(grad_y.shape[1], m * self.plane)

    def to_images(self, product: np.ndarray, y: np.ndarray, n0: int, m: int) -> None:
        """Write the GEMM's ``(O, m*OH*OW)`` into ``y[n0 : n0 + m]``, plane by plane."""
        y[n0 : n0 + m] = product.reshape(product.shape[0], m, *self.out_hw).transpose(1, 0, 2, 3)

    def add_back(self, grad_cols: np.ndarray, dx: np.ndarray, n0: int, m: int) -> None:
        """col2im: overwrite ``dx[n0 : n0 + m]`` with the columns summed onto their pixels."""
        cols = grad_cols.reshape(grad_cols.shape[0], m, *self.out_hw)
        col2im_planes_kernel(cols, n0, *self.kernel, *self.step, *self.pad, dx)


def empty_chunk(buffer: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A contiguous ``shape`` view on the front of the flat ``buffer`` (reused per chunk)."""
    size = math.prod(shape)
    return buffer[:size].reshape(shape)
