"""Winograd's F(2x2, 3x3) for a 3x3 stride-1 conv, forward and both gradients: an experiment.

    python bench/bench_winograd.py [--rounds 5]

Issue 13 named Winograd as the lever for the MNIST CNN's conv 32->64; this is it, built
and measured, and kept here (not in ``kernels/``) because it did not pay on this machine
(docs/performance.md, "CPU, 2026-12-02, late evening"). The run first checks it against
the im2col reference in float64 (odd planes and padding included), then times forward +
both gradients beside ``kernels/cpu/conv_chunks.py`` on that layer (batch 64, float32),
alternating, at 2 BLAS threads and at 1; writes bench/results/winograd.json.

A 3x3 window slid over a 4x4 input tile ``d`` gives a 2x2 output tile, and Lavin & Gray
(2015) compute it as

    Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A

with the 3x3 filter ``g`` and the constant matrices

    Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G  = [[1, 0, 0], [½, ½, ½], [½, -½, ½], [0, 0, 1]]
    Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]].

Over a layer, the sum over input channels happens inside the 4x4 transformed tiles, so
for each of the 16 positions ``k`` of a tile it is one matrix product (``t`` runs over all
tiles of all images):

    U[k] = (G w[o, c] Gᵀ)[k]        (O, C)    the filters, transformed once
    V[k] = (Bᵀ d[c, t] B)[k]        (C, T)    the input tiles, transformed
    M[k] = U[k] @ V[k]              (O, T)    16 GEMMs: 16·O·C·T multiplies, im2col's 36·O·C·T/4
    y tile (o, t) = Aᵀ M[:, o, t] A

The gradients are the adjoints of the same few steps, so they reuse the transforms:

    Z[k]  = (A dY[o, t] Aᵀ)[k]      (O, T)    each 2x2 tile of grad_y, spread to 4x4
    dU[k] = Z[k] @ V[k]ᵀ,           dw[o, c] = Gᵀ dU[:, o, c] G      (summed over tiles)
    dV[k] = U[k]ᵀ @ Z[k],           dx tile (c, t) = B dV[:, c, t] Bᵀ  (overlapping tiles add)

What was measured: the products run 2.25x fewer multiplies as fast as predicted, but
the transforms, which Numba compiles to scalar code and which run on one core while the
products use two, cost as much as the products save. Output planes of odd size get one
extra row or column of tiles, computed on zero padding and cut off. Work is done a few
images at a time, so that ``V`` and ``M`` stay in cache between the transforms and the
GEMMs that read them (as in ``conv_chunks.py``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from pathlib import Path

import numpy as np

from kernels.cpu import conv, conv_chunks
from kernels.cpu.jit import njit
from kernels.cpu.plane_patches import empty_chunk
from kernels.geometry import Pair

#: Bytes of ``V`` and ``M`` per chunk of images (8 MB measured best of 1-16 MB).
CHUNK_BYTES = 8 << 20

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def transformed_filters(w: np.ndarray) -> np.ndarray:
    """``U[k] = (G w[o, c] Gᵀ)[k]`` as ``(16, O, C)``."""
    g = _G.astype(w.dtype)
    u = np.matmul(np.matmul(g, w), g.T)  # (O, C, 4, 4)
    return np.ascontiguousarray(u.reshape(*w.shape[:2], 16).transpose(2, 0, 1))


def filter_gradient(du: np.ndarray) -> np.ndarray:
    """``dw[o, c] = Gᵀ dU[:, o, c] G`` from ``dU`` of shape ``(16, O, C)``: ``(O, C, 3, 3)``."""
    g = _G.astype(du.dtype)
    tiles = du.transpose(1, 2, 0).reshape(*du.shape[1:], 4, 4)
    return np.matmul(np.matmul(g.T, tiles), g)


@njit()
def _input_tiles_kernel(x_pad, v):
    """``v[k, c, t] = (Bᵀ d B)[k]`` for every 4x4 tile ``d`` (stride 2) of the padded images."""
    n_images, channels = x_pad.shape[0], x_pad.shape[1]
    tiles_h, tiles_w = (x_pad.shape[2] - 2) // 2, (x_pad.shape[3] - 2) // 2
    for n in range(n_images):
        for c in range(channels):
            image = x_pad[n, c]
            for a in range(tiles_h):
                row0, row1, row2, row3 = (
                    image[2 * a],
                    image[2 * a + 1],
                    image[2 * a + 2],
                    image[2 * a + 3],
                )
                t0 = (n * tiles_h + a) * tiles_w
                for b in range(tiles_w):
                    j = 2 * b
                    # Bᵀ along the rows: (d0, d1, d2, d3) -> (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
                    s00, s01 = row0[j] - row0[j + 2], row0[j + 1] + row0[j + 2]
                    s02, s03 = row0[j + 2] - row0[j + 1], row0[j + 1] - row0[j + 3]
                    s10, s11 = row1[j] - row1[j + 2], row1[j + 1] + row1[j + 2]
                    s12, s13 = row1[j + 2] - row1[j + 1], row1[j + 1] - row1[j + 3]
                    s20, s21 = row2[j] - row2[j + 2], row2[j + 1] + row2[j + 2]
                    s22, s23 = row2[j + 2] - row2[j + 1], row2[j + 1] - row2[j + 3]
                    s30, s31 = row3[j] - row3[j + 2], row3[j + 1] + row3[j + 2]
                    s32, s33 = row3[j + 2] - row3[j + 1], row3[j + 1] - row3[j + 3]
                    # ... then the same down the columns.
                    t = t0 + b
                    v[c, 0, t], v[c, 1, t] = s00 - s20, s01 - s21
                    v[c, 2, t], v[c, 3, t] = s02 - s22, s03 - s23
                    v[c, 4, t], v[c, 5, t] = s10 + s20, s11 + s21
                    v[c, 6, t], v[c, 7, t] = s12 + s22, s13 + s23
                    v[c, 8, t], v[c, 9, t] = s20 - s10, s21 - s11
                    v[c, 10, t], v[c, 11, t] = s22 - s12, s23 - s13
                    v[c, 12, t], v[c, 13, t] = s10 - s30, s11 - s31
                    v[c, 14, t], v[c, 15, t] = s12 - s32, s13 - s33


@njit()
def _output_tiles_kernel(m, y4):
    """``y4[o, 2p + q, t] = (Aᵀ M[o, :, t] A)[p, q]`` for every tile ``t``.

    Rows are taken as 1-D views before the loop over ``t``: indexed as ``m[o, k, t]``
    inside it, the loop was not vectorised and ran 5x slower.
    """
    for o in range(m.shape[0]):
        m0, m1, m2, m3 = m[o, 0], m[o, 1], m[o, 2], m[o, 3]
        m4, m5, m6, m7 = m[o, 4], m[o, 5], m[o, 6], m[o, 7]
        m8, m9, m10, m11 = m[o, 8], m[o, 9], m[o, 10], m[o, 11]
        m12, m13, m14, m15 = m[o, 12], m[o, 13], m[o, 14], m[o, 15]
        y0, y1, y2, y3 = y4[o, 0], y4[o, 1], y4[o, 2], y4[o, 3]
        for t in range(m.shape[2]):
            # Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]] down the columns of the 4x4 tile ...
            p00, p01 = m0[t] + m4[t] + m8[t], m1[t] + m5[t] + m9[t]
            p02, p03 = m2[t] + m6[t] + m10[t], m3[t] + m7[t] + m11[t]
            p10, p11 = m4[t] - m8[t] - m12[t], m5[t] - m9[t] - m13[t]
            p12, p13 = m6[t] - m10[t] - m14[t], m7[t] - m11[t] - m15[t]
            # ... then along its rows.
            y0[t], y1[t] = p00 + p01 + p02, p01 - p02 - p03
            y2[t], y3[t] = p10 + p11 + p12, p11 - p12 - p13


@njit()
def _spread_kernel(g4, z):
    """``z[o, :, t] = A dY Aᵀ`` for the 2x2 tiles ``g4[o, 2p + q, t] = dY[p, q]``."""
    for o in range(g4.shape[0]):
        g00, g01, g10, g11 = g4[o, 0], g4[o, 1], g4[o, 2], g4[o, 3]
        z0, z1, z2, z3 = z[o, 0], z[o, 1], z[o, 2], z[o, 3]
        z4, z5, z6, z7 = z[o, 4], z[o, 5], z[o, 6], z[o, 7]
        z8, z9, z10, z11 = z[o, 8], z[o, 9], z[o, 10], z[o, 11]
        z12, z13, z14, z15 = z[o, 12], z[o, 13], z[o, 14], z[o, 15]
        for t in range(g4.shape[2]):
            # A spreads a pair (u, v) to (u, u + v, u - v, -v): along the rows ...
            q00, q01, q02, q03 = g00[t], g00[t] + g01[t], g00[t] - g01[t], -g01[t]
            q10, q11, q12, q13 = g10[t], g10[t] + g11[t], g10[t] - g11[t], -g11[t]
            # ... then down the columns.
            z0[t], z1[t], z2[t], z3[t] = q00, q01, q02, q03
            z4[t], z5[t], z6[t], z7[t] = q00 + q10, q01 + q11, q02 + q12, q03 + q13
            z8[t], z9[t], z10[t], z11[t] = q00 - q10, q01 - q11, q02 - q12, q03 - q13
            z12[t], z13[t], z14[t], z15[t] = -q10, -q11, -q12, -q13


@njit()
def _tiles_to_planes_kernel(y4, y):
    """``y[n, o, 2a + p, 2b + q] = y4[o, 2p + q, t]`` for ``t = (n, a, b)``: 2x2 tiles to planes."""
    n_images, channels = y.shape[0], y.shape[1]
    tiles_h, tiles_w = y.shape[2] // 2, y.shape[3] // 2
    for n in range(n_images):
        for o in range(channels):
            for a in range(tiles_h):
                t0 = (n * tiles_h + a) * tiles_w
                for p in range(2):
                    left, right = (
                        y4[o, 2 * p, t0 : t0 + tiles_w],
                        y4[o, 2 * p + 1, t0 : t0 + tiles_w],
                    )
                    row = y[n, o, 2 * a + p]
                    for b in range(tiles_w):
                        row[2 * b], row[2 * b + 1] = left[b], right[b]


@njit()
def _planes_to_tiles_kernel(y, y4):
    """The inverse of :func:`_tiles_to_planes_kernel`:
    ``y4[o, 2p + q, t] = y[n, o, 2a + p, 2b + q]``."""
    n_images, channels = y.shape[0], y.shape[1]
    tiles_h, tiles_w = y.shape[2] // 2, y.shape[3] // 2
    for n in range(n_images):
        for o in range(channels):
            for a in range(tiles_h):
                t0 = (n * tiles_h + a) * tiles_w
                for p in range(2):
                    left, right = (
                        y4[o, 2 * p, t0 : t0 + tiles_w],
                        y4[o, 2 * p + 1, t0 : t0 + tiles_w],
                    )
                    row = y[n, o, 2 * a + p]
                    for b in range(tiles_w):
                        left[b], right[b] = row[2 * b], row[2 * b + 1]


@njit()
def _untransform_input_kernel(dv, e):
    """``e[c, :, t] = B dV[c, :, t] Bᵀ``: the 4x4 input-tile gradients, tile by tile."""
    for c in range(dv.shape[0]):
        d0, d1, d2, d3 = dv[c, 0], dv[c, 1], dv[c, 2], dv[c, 3]
        d4, d5, d6, d7 = dv[c, 4], dv[c, 5], dv[c, 6], dv[c, 7]
        d8, d9, d10, d11 = dv[c, 8], dv[c, 9], dv[c, 10], dv[c, 11]
        d12, d13, d14, d15 = dv[c, 12], dv[c, 13], dv[c, 14], dv[c, 15]
        e0, e1, e2, e3 = e[c, 0], e[c, 1], e[c, 2], e[c, 3]
        e4, e5, e6, e7 = e[c, 4], e[c, 5], e[c, 6], e[c, 7]
        e8, e9, e10, e11 = e[c, 8], e[c, 9], e[c, 10], e[c, 11]
        e12, e13, e14, e15 = e[c, 12], e[c, 13], e[c, 14], e[c, 15]
        for t in range(dv.shape[2]):
            # B takes (v0, v1, v2, v3) to (v0, v1 - v2 + v3, v1 + v2 - v0, -v3): down each
            # column of the tile first (r{row}{column}) ...
            r00, r01, r02, r03 = d0[t], d1[t], d2[t], d3[t]
            r10, r11 = d4[t] - d8[t] + d12[t], d5[t] - d9[t] + d13[t]
            r12, r13 = d6[t] - d10[t] + d14[t], d7[t] - d11[t] + d15[t]
            r20, r21 = d4[t] + d8[t] - d0[t], d5[t] + d9[t] - d1[t]
            r22, r23 = d6[t] + d10[t] - d2[t], d7[t] + d11[t] - d3[t]
            r30, r31, r32, r33 = -d12[t], -d13[t], -d14[t], -d15[t]
            # ... then along each row.
            e0[t], e1[t], e2[t], e3[t] = r00, r01 - r02 + r03, r01 + r02 - r00, -r03
            e4[t], e5[t], e6[t], e7[t] = r10, r11 - r12 + r13, r11 + r12 - r10, -r13
            e8[t], e9[t], e10[t], e11[t] = r20, r21 - r22 + r23, r21 + r22 - r20, -r23
            e12[t], e13[t], e14[t], e15[t] = r30, r31 - r32 + r33, r31 + r32 - r30, -r33


@njit()
def _add_tiles_kernel(e, x_pad):
    """Overwrite ``x_pad`` with its overlapping 4x4 tiles (stride 2) added up: the adjoint of
    cutting the padded images into tiles. ``e[c, 4i + j, t]`` is pixel ``(i, j)`` of tile ``t``."""
    n_images, channels = x_pad.shape[0], x_pad.shape[1]
    tiles_h, tiles_w = (x_pad.shape[2] - 2) // 2, (x_pad.shape[3] - 2) // 2
    for c in range(channels):
        taps = e[c]
        for n in range(n_images):
            image = x_pad[n, c]
            image[:] = 0
            for a in range(tiles_h):
                t0 = (n * tiles_h + a) * tiles_w
                for i in range(4):
                    row = image[2 * a + i]
                    tap0, tap1, tap2, tap3 = (
                        taps[4 * i],
                        taps[4 * i + 1],
                        taps[4 * i + 2],
                        taps[4 * i + 3],
                    )
                    for b in range(tiles_w):
                        t = t0 + b
                        row[2 * b] += tap0[t]
                        row[2 * b + 1] += tap1[t]
                        row[2 * b + 2] += tap2[t]
                        row[2 * b + 3] += tap3[t]


class _Tiles:
    """The tiling of one conv's batch, a chunk of images at a time, and its reused buffers.

    Tiles are numbered ``t = (n, a, b)``: image, tile row, tile column. Arrays of tiles put
    ``t`` last and contiguous, so that the transforms run along it.
    """

    def __init__(self, x_shape: tuple[int, ...], out_channels: int, pad: Pair, out_hw: Pair, dtype):
        self.n_images, self.channels, *self.in_hw = x_shape
        self.out_channels, self.pad, self.out_hw = out_channels, pad, out_hw
        self.tiles_hw = ((out_hw[0] + 1) // 2, (out_hw[1] + 1) // 2)
        self.per_image = self.tiles_hw[0] * self.tiles_hw[1]
        self.padded_hw = (2 * self.tiles_hw[0] + 2, 2 * self.tiles_hw[1] + 2)
        self.dtype = np.dtype(dtype)
        tile_bytes = 16 * (self.channels + out_channels) * self.per_image * self.dtype.itemsize
        self.per_chunk = max(1, min(self.n_images, CHUNK_BYTES // tile_bytes))
        size = self.per_chunk * self.per_image
        self._input = np.empty(self.channels * 16 * size, self.dtype)
        self._output = np.empty(out_channels * 16 * size, self.dtype)
        self._corners = np.empty(out_channels * 4 * size, self.dtype)
        self._padded = np.empty(
            self.per_chunk * self.channels * math.prod(self.padded_hw), self.dtype
        )
        #: Whether the output planes are a whole number of tiles (no extra row/column to cut).
        self.exact = self.out_hw == (2 * self.tiles_hw[0], 2 * self.tiles_hw[1])

    def chunks(self):
        for n0 in range(0, self.n_images, self.per_chunk):
            yield n0, min(self.per_chunk, self.n_images - n0)

    def input_tiles(self, m: int) -> np.ndarray:
        """The reused ``(C, 16, m*tiles)`` buffer (``V``, later ``dV``)."""
        return empty_chunk(self._input, (self.channels, 16, m * self.per_image))

    def output_tiles(self, m: int) -> np.ndarray:
        """The reused ``(O, 16, m*tiles)`` buffer (``M``, or ``Z``)."""
        return empty_chunk(self._output, (self.out_channels, 16, m * self.per_image))

    def corners(self, m: int) -> np.ndarray:
        """The reused ``(O, 4, m*tiles)`` buffer of 2x2 output (or grad_y) tiles."""
        return empty_chunk(self._corners, (self.out_channels, 4, m * self.per_image))

    def padded(self, m: int) -> np.ndarray:
        """The reused ``(m, C, 2*tiles_h + 2, 2*tiles_w + 2)`` image buffer."""
        return empty_chunk(self._padded, (m, self.channels, *self.padded_hw))

    def transform_input(self, x: np.ndarray, n0: int, m: int) -> np.ndarray:
        """``V`` of the images ``x[n0 : n0 + m]``: zero-padded, cut in tiles, transformed."""
        (ph, pw), (h, w) = self.pad, self.in_hw
        x_pad = self.padded(m)
        x_pad.fill(0)
        x_pad[:, :, ph : ph + h, pw : pw + w] = x[n0 : n0 + m]
        v = self.input_tiles(m)
        _input_tiles_kernel(x_pad, v)
        return v

    def write_output(self, product: np.ndarray, y: np.ndarray, n0: int, m: int) -> None:
        """``y[n0 : n0 + m]`` from ``M``: each tile's ``Aᵀ M A``, extra rows/columns cut."""
        y4 = self.corners(m)
        _output_tiles_kernel(product, y4)
        if self.exact:
            _tiles_to_planes_kernel(y4, y[n0 : n0 + m])
            return
        (oh, ow), (th, tw) = self.out_hw, self.tiles_hw
        whole = np.empty((m, self.out_channels, 2 * th, 2 * tw), self.dtype)
        _tiles_to_planes_kernel(y4, whole)
        y[n0 : n0 + m] = whole[:, :, :oh, :ow]

    def transform_gradient(self, grad_y: np.ndarray, n0: int, m: int) -> np.ndarray:
        """``Z`` of ``grad_y[n0 : n0 + m]`` (planes of odd size padded with a zero row/column)."""
        grad_m = np.ascontiguousarray(grad_y[n0 : n0 + m])
        if not self.exact:
            (oh, ow), (th, tw) = self.out_hw, self.tiles_hw
            grad_m = np.zeros((m, self.out_channels, 2 * th, 2 * tw), self.dtype)
            grad_m[:, :, :oh, :ow] = grad_y[n0 : n0 + m]
        g4 = self.corners(m)
        _planes_to_tiles_kernel(grad_m, g4)
        z = self.output_tiles(m)
        _spread_kernel(g4, z)
        return z

    def add_input_gradient(self, dv: np.ndarray, grad_x: np.ndarray, n0: int, m: int) -> None:
        """``grad_x[n0 : n0 + m]`` from ``dV``: each tile's ``B dV Bᵀ``, overlaps added,
        padding cut."""
        tile_grads = np.empty_like(dv)
        _untransform_input_kernel(dv, tile_grads)
        x_pad = self.padded(m)
        _add_tiles_kernel(tile_grads, x_pad)
        (ph, pw), (h, w) = self.pad, self.in_hw
        grad_x[n0 : n0 + m] = x_pad[:, :, ph : ph + h, pw : pw + w]


def conv2d_forward_winograd(x: np.ndarray, w: np.ndarray, pad: Pair, out_hw: Pair) -> np.ndarray:
    """``y = conv2d(x, w)`` for a 3x3 stride-1 ``w``: ``y tile = Aᵀ (U[k] @ V[k]) A`` (arguments
    already checked)."""
    x = np.ascontiguousarray(x)
    tiles = _Tiles(x.shape, w.shape[0], pad, out_hw, x.dtype)
    u = transformed_filters(w)
    y = np.empty((x.shape[0], w.shape[0], *out_hw), dtype=x.dtype)
    for n0, m in tiles.chunks():
        v = tiles.transform_input(x, n0, m)
        product = tiles.output_tiles(m)
        np.matmul(u, v.transpose(1, 0, 2), out=product.transpose(1, 0, 2))
        tiles.write_output(product, y, n0, m)
    return y


def conv2d_backward_winograd(
    x: np.ndarray,
    w: np.ndarray,
    grad_y: np.ndarray,
    pad: Pair,
    out_hw: Pair,
    need_input_grad: bool,
    need_weight_grad: bool,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Both gradients of a 3x3 stride-1 conv through the same transforms: per chunk ``Z`` of
    ``grad_y`` once; ``dU += Z[k] @ V[k]ᵀ`` and ``dx tiles = B (U[k]ᵀ @ Z[k]) Bᵀ``."""
    x = np.ascontiguousarray(x)
    tiles = _Tiles(x.shape, w.shape[0], pad, out_hw, x.dtype)
    u_t = transformed_filters(w).transpose(0, 2, 1)
    grad_x = np.empty(x.shape, dtype=x.dtype) if need_input_grad else None
    grad_u = np.zeros(u_t.shape[:1] + u_t.shape[:0:-1], dtype=x.dtype) if need_weight_grad else None
    for n0, m in tiles.chunks():
        z = tiles.transform_gradient(grad_y, n0, m)
        if grad_u is not None:
            v = tiles.transform_input(x, n0, m)
            grad_u += np.matmul(z.transpose(1, 0, 2), v.transpose(1, 2, 0))
        if grad_x is not None:  # V is used up: its buffer takes dV
            dv = tiles.input_tiles(m)
            np.matmul(u_t, z.transpose(1, 0, 2), out=dv.transpose(1, 0, 2))
            tiles.add_input_gradient(dv, grad_x, n0, m)
    grad_w = None if grad_u is None else filter_gradient(grad_u)
    return grad_x, grad_w


def _check_against_the_reference() -> float:
    """Largest relative difference from the im2col reference, float64, over a few shapes."""
    rng = np.random.default_rng(0)
    worst = 0.0
    for n, c, o, side, p in [
        (3, 16, 5, 8, 0),
        (2, 16, 4, 7, 1),
        (5, 32, 64, 26, 0),
        (2, 17, 3, 9, 2),
    ]:
        x = rng.standard_normal((n, c, side, side))
        w = rng.standard_normal((o, c, 3, 3))
        args = ((3, 3), (1, 1), (p, p), (side + 2 * p - 2,) * 2)
        y = conv2d_forward_winograd(x, w, args[2], args[3])
        grad_y = rng.standard_normal(y.shape)
        grad_x, grad_w = conv2d_backward_winograd(x, w, grad_y, args[2], args[3], True, True)
        for ours, reference in (
            (y, conv.conv2d_forward_batch_last(x, w, *args)),
            (grad_x, conv.conv2d_input_grad_batch_last(grad_y, w, x.shape, *args)),
            (grad_w, conv.conv2d_weight_grad_batch_last(x, grad_y, *args)),
        ):
            worst = max(worst, float(np.abs(ours - reference).max() / np.abs(reference).max()))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    worst = _check_against_the_reference()
    if worst > 1e-12:
        raise SystemExit(f"Winograd differs from the im2col reference by {worst:.1e} (float64)")
    print(f"float64 agreement with the im2col reference: {worst:.1e}")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 32, 26, 26), dtype=np.float32)
    w = rng.standard_normal((64, 32, 3, 3), dtype=np.float32)
    grad_y = rng.standard_normal((64, 64, 24, 24), dtype=np.float32)
    shape = ((3, 3), (1, 1), (0, 0), (24, 24))

    def winograd():
        conv2d_forward_winograd(x, w, shape[2], shape[3])
        conv2d_backward_winograd(x, w, grad_y, shape[2], shape[3], True, True)

    def im2col_chunks():
        conv_chunks.conv2d_forward_chunks(x, w, *shape)
        conv_chunks.conv2d_backward_chunks(x, w, grad_y, *shape, True, True)

    rows = []
    for threads in (2, 1):
        times: dict[str, list[float]] = {"winograd": [], "im2col_chunks": []}
        with threadpool_limits(threads, user_api="blas"):
            winograd(), im2col_chunks()  # compile, warm the caches
            for _ in range(args.rounds):
                for name, run in (("winograd", winograd), ("im2col_chunks", im2col_chunks)):
                    time.sleep(0.2)
                    for _ in range(args.repeats):
                        start = time.perf_counter()
                        run()
                        times[name].append((time.perf_counter() - start) * 1e3)
        row = {"blas_threads": threads, **{k: statistics.median(v) for k, v in times.items()}}
        rows.append(row)
        print(
            f"{threads} BLAS thread(s): Winograd {row['winograd']:.1f} ms, "
            f"im2col chunks {row['im2col_chunks']:.1f} ms (forward + both gradients)"
        )
    result = {
        "layer": "MNIST CNN conv 32->64 3x3, 26 px, batch 64, float32",
        "float64_max_relative_difference": worst,
        "load_average_at_end": os.getloadavg(),
        "rows": rows,
    }
    out = Path(__file__).resolve().parent / "results" / "winograd.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
