"""2-D max and average pooling over NCHW images, forward and backward.

A ``kh x kw`` window slides with ``stride`` over the input padded by ``padding``:

    max:  y[n, c, oh, ow] = max  of x_pad[n, c, oh*sh + i, ow*sw + j] over the window
    avg:  y[n, c, oh, ow] = sum  of x_pad[n, c, oh*sh + i, ow*sw + j] over the window / (kh*kw)

Max pooling pads with -inf (padding never wins) and records the winner's flat index
``h*W + w`` in its image plane; its backward adds each ``grad_y`` onto that pixel.
Average pooling pads with zeros that count in the divisor (PyTorch's default
``count_include_pad=True``); its backward spreads ``grad_y / (kh*kw)`` over the window.
As in PyTorch, padding may be at most half the kernel, so that no window lies in the
padding alone. Ties and NaNs follow PyTorch too: the first maximum in row-major order
wins, and a NaN wins over any number.
"""

from __future__ import annotations

import numpy as np

from kernels.cpu.jit import njit
from kernels.geometry import (
    Pair,
    check_float_array,
    check_output_hw,
    pair,
    window_args,
)


@njit()
def _max_pool_kernel(x, kh, kw, sh, sw, ph, pw, y, argmax):
    n_images, channels, height, width = x.shape
    out_h, out_w = y.shape[2], y.shape[3]
    for n in range(n_images):
        for c in range(channels):
            for oh in range(out_h):
                h_lo = max(oh * sh - ph, 0)
                h_hi = min(oh * sh - ph + kh, height)
                for ow in range(out_w):
                    w_lo = max(ow * sw - pw, 0)
                    w_hi = min(ow * sw - pw + kw, width)
                    best = -np.inf
                    best_index = h_lo * width + w_lo
                    for h in range(h_lo, h_hi):
                        for w in range(w_lo, w_hi):
                            value = x[n, c, h, w]
                            if value > best or np.isnan(value):
                                best = value
                                best_index = h * width + w
                    y[n, c, oh, ow] = best
                    argmax[n, c, oh, ow] = best_index


@njit()
def _max_pool_no_nan_kernel(x, kh, kw, sh, sw, ph, pw, y, argmax):
    """:func:`_max_pool_kernel` for inputs without NaN: one comparison per pixel.

    The NaN test there (``np.isnan`` per pixel) made the MNIST CNN's 2x2 pooling 3x
    slower than this loop (28 ms against 8 ms for 64x64x24x24 floats).
    """
    n_images, channels, height, width = x.shape
    out_h, out_w = y.shape[2], y.shape[3]
    for n in range(n_images):
        for c in range(channels):
            plane = x[n, c]
            for oh in range(out_h):
                h_lo = max(oh * sh - ph, 0)
                h_hi = min(oh * sh - ph + kh, height)
                for ow in range(out_w):
                    w_lo = max(ow * sw - pw, 0)
                    w_hi = min(ow * sw - pw + kw, width)
                    best = plane[h_lo, w_lo]
                    best_index = h_lo * width + w_lo
                    for h in range(h_lo, h_hi):
                        for w in range(w_lo, w_hi):
                            value = plane[h, w]
                            if value > best:
                                best = value
                                best_index = h * width + w
                    y[n, c, oh, ow] = best
                    argmax[n, c, oh, ow] = best_index


@njit()
def _max_pool_2x2_kernel(x, y, argmax):
    """:func:`_max_pool_no_nan_kernel` for ``MaxPool2d(2)`` (2x2 windows, stride 2, no padding).

    The window unrolled into its four pixels, read from two whole image rows, with no
    per-window bounds: the MNIST CNN's pooling of 64x64x24x24 floats fell from ~5 ms to
    ~1.4 ms (bench/bench_loops.py; a general kernel reading whole rows but looping over
    the window measured no faster, so the unrolling is what counts). Same ties rule: the
    first maximum in row-major order wins.
    """
    n_images, channels, height, width = x.shape
    out_h, out_w = y.shape[2], y.shape[3]
    for n in range(n_images):
        for c in range(channels):
            for oh in range(out_h):
                top, bottom = x[n, c, 2 * oh], x[n, c, 2 * oh + 1]
                maxima, indices = y[n, c, oh], argmax[n, c, oh]
                top_left = 2 * oh * width
                for ow in range(out_w):
                    w = 2 * ow
                    best, best_index = top[w], top_left + w
                    if top[w + 1] > best:
                        best, best_index = top[w + 1], top_left + w + 1
                    if bottom[w] > best:
                        best, best_index = bottom[w], top_left + width + w
                    if bottom[w + 1] > best:
                        best, best_index = bottom[w + 1], top_left + width + w + 1
                    maxima[ow] = best
                    indices[ow] = best_index


@njit()
def _max_pool_backward_kernel(grad_y, argmax, grad_planes):
    """``grad_planes[n, c, argmax] += grad_y``, with ``grad_planes`` ``(N, C, H*W)``: the flat
    index is used as it is (a division per pixel into ``(h, w)`` cost more than the add)."""
    n_images, channels, out_h, out_w = grad_y.shape
    plane_size = grad_planes.shape[2]
    for n in range(n_images):
        for c in range(channels):
            plane = grad_planes[n, c]
            for oh in range(out_h):
                for ow in range(out_w):
                    index = argmax[n, c, oh, ow]
                    if index < 0 or index >= plane_size:
                        raise IndexError("argmax holds an index outside the input's H*W plane")
                    plane[index] += grad_y[n, c, oh, ow]


@njit()
def _avg_pool_kernel(x, kh, kw, sh, sw, ph, pw, y):
    n_images, channels, height, width = x.shape
    out_h, out_w = y.shape[2], y.shape[3]
    for n in range(n_images):
        for c in range(channels):
            for oh in range(out_h):
                h_lo = max(oh * sh - ph, 0)
                h_hi = min(oh * sh - ph + kh, height)
                for ow in range(out_w):
                    w_lo = max(ow * sw - pw, 0)
                    w_hi = min(ow * sw - pw + kw, width)
                    total = 0.0  # float64 accumulator, whatever the input's precision
                    for h in range(h_lo, h_hi):
                        for w in range(w_lo, w_hi):
                            total += x[n, c, h, w]
                    y[n, c, oh, ow] = total / (kh * kw)


@njit()
def _avg_pool_backward_kernel(grad_y, kh, kw, sh, sw, ph, pw, grad_x):
    n_images, channels, out_h, out_w = grad_y.shape
    height, width = grad_x.shape[2], grad_x.shape[3]
    for n in range(n_images):
        for c in range(channels):
            for oh in range(out_h):
                h_lo = max(oh * sh - ph, 0)
                h_hi = min(oh * sh - ph + kh, height)
                for ow in range(out_w):
                    w_lo = max(ow * sw - pw, 0)
                    w_hi = min(ow * sw - pw + kw, width)
                    share = grad_y[n, c, oh, ow] / (kh * kw)
                    for h in range(h_lo, h_hi):
                        for w in range(w_lo, w_hi):
                            grad_x[n, c, h, w] += share


def _pool_args(input_hw, kernel_hw, stride, padding) -> tuple[Pair, Pair, Pair, Pair]:
    kernel, step, pad, out_hw = window_args(input_hw, kernel_hw, stride, padding)
    if 2 * pad[0] > kernel[0] or 2 * pad[1] > kernel[1]:
        raise ValueError(
            f"padding must be at most half of kernel_hw, got padding {pad} for kernel {kernel}"
        )
    return kernel, step, pad, out_hw


def max_pool2d(
    x: np.ndarray, kernel_hw: int | Pair, stride: int | Pair, padding: int | Pair
) -> tuple[np.ndarray, np.ndarray]:
    """``(y, argmax)``: window maxima and their int64 flat indices ``h*W + w`` in the plane."""
    check_float_array(x, "x", 4)
    (kh, kw), (sh, sw), (ph, pw), out_hw = _pool_args(x.shape[2:], kernel_hw, stride, padding)
    x = np.ascontiguousarray(x)
    y = np.empty((*x.shape[:2], *out_hw), dtype=x.dtype)
    argmax = np.empty(y.shape, dtype=np.int64)
    # A NaN anywhere makes the sum NaN (so does inf - inf: then the careful kernel runs
    # for nothing, still correctly); the sum costs a tenth of the careful kernel's NaN tests.
    if np.isnan(np.sum(x)):
        _max_pool_kernel(x, kh, kw, sh, sw, ph, pw, y, argmax)
    elif (kh, kw, sh, sw, ph, pw) == (2, 2, 2, 2, 0, 0):
        _max_pool_2x2_kernel(x, y, argmax)
    else:
        _max_pool_no_nan_kernel(x, kh, kw, sh, sw, ph, pw, y, argmax)
    return y, argmax


def max_pool2d_backward(grad_y: np.ndarray, argmax: np.ndarray, input_hw: Pair) -> np.ndarray:
    """``grad_x[n, c].flat[argmax[n, c, oh, ow]] += grad_y[n, c, oh, ow]`` (zeros elsewhere)."""
    check_float_array(grad_y, "grad_y", 4)
    if argmax.dtype != np.int64 or argmax.shape != grad_y.shape:
        raise ValueError(
            f"argmax must be int64 with grad_y's shape {tuple(grad_y.shape)}, "
            f"got {argmax.dtype} of shape {tuple(argmax.shape)}"
        )
    height, width = pair(input_hw, "input_hw", 1)
    grad_planes = np.zeros((*grad_y.shape[:2], height * width), dtype=grad_y.dtype)
    _max_pool_backward_kernel(
        np.ascontiguousarray(grad_y), np.ascontiguousarray(argmax), grad_planes
    )
    return grad_planes.reshape(*grad_y.shape[:2], height, width)


def avg_pool2d(
    x: np.ndarray, kernel_hw: int | Pair, stride: int | Pair, padding: int | Pair
) -> np.ndarray:
    """Window means, zero padding counted in the divisor ``kh*kw``."""
    check_float_array(x, "x", 4)
    (kh, kw), (sh, sw), (ph, pw), out_hw = _pool_args(x.shape[2:], kernel_hw, stride, padding)
    y = np.empty((*x.shape[:2], *out_hw), dtype=x.dtype)
    _avg_pool_kernel(np.ascontiguousarray(x), kh, kw, sh, sw, ph, pw, y)
    return y


def avg_pool2d_backward(
    grad_y: np.ndarray,
    input_hw: Pair,
    kernel_hw: int | Pair,
    stride: int | Pair,
    padding: int | Pair,
) -> np.ndarray:
    """``grad_x[n, c, h, w] = sum of grad_y[n, c, oh, ow] / (kh*kw)`` over windows holding it."""
    check_float_array(grad_y, "grad_y", 4)
    height, width = pair(input_hw, "input_hw", 1)
    kernel, step, pad, out_hw = _pool_args((height, width), kernel_hw, stride, padding)
    check_output_hw(grad_y, "grad_y", out_hw)
    grad_x = np.zeros((*grad_y.shape[:2], height, width), dtype=grad_y.dtype)
    _avg_pool_backward_kernel(np.ascontiguousarray(grad_y), *kernel, *step, *pad, grad_x)
    return grad_x
