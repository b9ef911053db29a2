"""Stride-1 im2col as long contiguous copies: the "wide rows" trick.

With stride 1, the window tap ``(i, j)`` of output pixel ``(oh, ow)`` reads
``x_pad[n, c, oh + i, ow + j]``, which in the flattened ``Hp*Wp`` plane is element
``(i*Wp + j) + (oh*Wp + ow)``. So if output rows are laid out ``Wp`` wide instead of
``OW``, one tap's column of a whole image is a single contiguous run of the plane:

    cols[(c, i, j), n, t] = x_pad_flat[n, c, i*Wp + j + t],   t = oh*Wp + ow,
    t < L = (OH - 1)*Wp + OW.

The ``Wp - OW`` extra entries per row (``ow >= OW``) wrap into the next image row and
are garbage; the GEMM computes them too (``Wp / OW`` more work: 26/24 for a 3x3 kernel
on the MNIST CNN's 26 px layer) and :meth:`WideRows.to_images` skips them. In the
gradients, ``grad_y`` is laid out the same way with zeros in those entries, so they add
nothing to ``dW = dY @ X.T`` and nothing where col2im adds the input gradient's runs
back. Each copy or add then moves runs of hundreds of numbers, not one output row.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from kernels.cpu.jit import njit
from kernels.cpu.plane_patches import empty_chunk
from kernels.geometry import Pair


@njit()
def _add_back_kernel(taps, padded_width, planes):
    """``planes[n, c, i*Wp + j + t] += taps[c, i, j, n, t]``, each ``(n, c)`` plane zeroed first.

    ``planes`` is ``(m, C, Hp*Wp)``: one flat padded image plane per row, small enough
    to stay in cache while all ``kh*kw`` runs are added into it. Each run is added
    through a view that starts at its offset: indexed as ``plane[offset + t]``, every
    index could be negative for all Numba knows, the wrap-around test that follows keeps
    the loop from being vectorised, and it ran 3x slower (bench/bench_loops.py).
    """
    channels, kh, kw, n_images, run = taps.shape
    for n in range(n_images):
        for c in range(channels):
            plane = planes[n, c]
            plane[:] = 0
            for i in range(kh):
                for j in range(kw):
                    source = taps[c, i, j, n]
                    offset = i * padded_width + j
                    target = plane[offset : offset + run]
                    for t in range(run):
                        target[t] += source[t]


class WideRows:
    """im2col, col2im and output rows of one stride-1 conv, ``m`` images at a time."""

    def __init__(
        self, x_shape: tuple[int, ...], kernel: Pair, pad: Pair, out_hw: Pair, dtype
    ) -> None:
        self.channels, self.in_hw = x_shape[1], x_shape[2:]
        self.kernel, self.pad, self.out_hw = kernel, pad, out_hw
        self.padded_hw = (self.in_hw[0] + 2 * pad[0], self.in_hw[1] + 2 * pad[1])
        #: The GEMM's columns per image: OH rows of Wp, the last one OW long.
        self.plane = (out_hw[0] - 1) * self.padded_hw[1] + out_hw[1]
        self.dtype = np.dtype(dtype)
        self._padded_buffer = np.empty(0, self.dtype)

    def _padded(self, m: int) -> np.ndarray:
        """A reused ``(m, C, Hp, Wp)`` buffer, zeroed."""
        size = m * self.channels * self.padded_hw[0] * self.padded_hw[1]
        if self._padded_buffer.size < size:
            self._padded_buffer = np.empty(size, self.dtype)
        chunk = empty_chunk(self._padded_buffer, (m, self.channels, *self.padded_hw))
        chunk.fill(0)
        return chunk

    def _taps(self, x_pad: np.ndarray, m: int) -> np.ndarray:
        """The view ``[c, i, j, n, t] -> x_pad_flat[n, c, i*Wp + j + t]``."""
        s_n, s_c, s_h, s_w = x_pad.strides
        shape = (self.channels, *self.kernel, m, self.plane)
        return as_strided(x_pad, shape, (s_c, s_h, s_w, s_n, s_w), writeable=False)

    def columns(self, x: np.ndarray, n0: int, m: int, buffer: np.ndarray) -> np.ndarray:
        """im2col of ``x[n0 : n0 + m]`` as ``(C*kh*kw, m*plane)``."""
        images = x[n0 : n0 + m]
        if self.pad != (0, 0):
            (ph, pw), (h, w) = self.pad, self.in_hw
            x_pad = self._padded(m)
            x_pad[:, :, ph : ph + h, pw : pw + w] = images
        else:
            x_pad = np.ascontiguousarray(images)
        cols = empty_chunk(buffer, (self.channels, *self.kernel, m, self.plane))
        np.copyto(cols, self._taps(x_pad, m))
        return cols.reshape(-1, m * self.plane)

    def _wide_view(self, rows: np.ndarray, m: int) -> np.ndarray:
        """``(O, m*plane)`` seen as ``(m, O, OH, OW)``: the real pixels of each wide row."""
        step = rows.itemsize
        shape = (m, rows.shape[0], *self.out_hw)
        strides = (self.plane * step, m * self.plane * step, self.padded_hw[1] * step, step)
        return as_strided(rows, shape, strides)

    def grad_columns(self, grad_y: np.ndarray, n0: int, m: int, buffer: np.ndarray) -> np.ndarray:
        """``grad_y[n0 : n0 + m]`` as ``(O, m*plane)``, zeros in the wide rows' extra entries."""
        rows = empty_chunk(buffer, (grad_y.shape[1], m * self.plane))
        rows.fill(0)
        np.copyto(self._wide_view(rows, m), grad_y[n0 : n0 + m])
        return rows

    def to_images(self, product: np.ndarray, y: np.ndarray, n0: int, m: int) -> None:
        """Write the GEMM's ``(O, m*plane)`` into ``y[n0 : n0 + m]``, skipping extra entries."""
        y[n0 : n0 + m] = self._wide_view(product, m)

    def add_back(self, grad_cols: np.ndarray, dx: np.ndarray, n0: int, m: int) -> None:
        """col2im: overwrite ``dx[n0 : n0 + m]`` with every tap's run added back onto its pixels.

        The wide rows' extra entries of ``grad_cols`` are zero when ``grad_y`` came through
        :meth:`grad_columns`, so the pixels they wrap onto get nothing from them.
        """
        unpadded = self.pad == (0, 0)
        x_pad = dx[n0 : n0 + m] if unpadded else self._padded(m)  # dx is C-contiguous
        flat = x_pad.reshape(m, self.channels, -1)
        taps = grad_cols.reshape(self.channels, *self.kernel, m, self.plane)
        _add_back_kernel(taps, self.padded_hw[1], flat)
        if not unpadded:
            (ph, pw), (h, w) = self.pad, self.in_hw
            dx[n0 : n0 + m] = x_pad[:, :, ph : ph + h, pw : pw + w]
