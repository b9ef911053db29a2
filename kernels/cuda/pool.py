"""Max and average pooling on the GPU, one thread per output (forward) or per pixel.

Windows follow :mod:`kernels.geometry`: a ``kh x kw`` window every ``stride``, over the
input padded by ``padding``; padded cells never win a max and count as zeros in an
average (``count_include_pad=True``, divisor always ``kh*kw``), as in PyTorch.

    max:  y[n, c, oh, ow] = max over the window of x,  argmax = ih * W + iw of the winner
    avg:  y[n, c, oh, ow] = (1 / (kh*kw)) * sum over the window of x

Backward: max pooling routes each grad_y entry to its argmax pixel (a scatter-add;
windows overlap when stride < kernel, so it adds atomically); average pooling is a
gather, each pixel summing ``grad_y / (kh*kw)`` over the windows that cover it.
"""

from __future__ import annotations

import math

from numba import cuda

from kernels.cuda.runtime import contiguous, grid_1d, on_device, sizes, transfers, xp
from kernels.geometry import Pair, check_float_array, check_output_hw, pair, window_args


# Written out because the builtins max()/min() reach a generic *args overload that
# Numba's CUDA target fails to compile (numba 0.68, checked with compile_ptx).
@cuda.jit(device=True)
def _at_least(value, low):
    return value if value > low else low


@cuda.jit(device=True)
def _at_most(value, high):
    return value if value < high else high


@cuda.jit
def _max_pool_kernel(x, y, argmax, kh, kw, sh, sw, ph, pw):
    n_images, channels, height, width = x.shape
    out_h, out_w = y.shape[2], y.shape[3]
    total = y.size
    for index in range(cuda.grid(1), total, cuda.gridsize(1)):
        ow = index % out_w
        oh = (index // out_w) % out_h
        c = (index // (out_w * out_h)) % channels
        n = index // (out_w * out_h * channels)
        h0 = oh * sh - ph
        w0 = ow * sw - pw
        best = -math.inf
        best_index = _at_least(h0, 0) * width + _at_least(w0, 0)
        for ih in range(_at_least(h0, 0), _at_most(h0 + kh, height)):
            for iw in range(_at_least(w0, 0), _at_most(w0 + kw, width)):
                value = x[n, c, ih, iw]
                # A NaN wins, so it propagates to y as in PyTorch.
                if value > best or math.isnan(value):
                    best = value
                    best_index = ih * width + iw
        y[n, c, oh, ow] = best
        argmax[n, c, oh, ow] = best_index


@cuda.jit
def _max_pool_backward_kernel(grad_y, argmax, grad_x, bad_indices):
    channels, out_h, out_w = grad_y.shape[1], grad_y.shape[2], grad_y.shape[3]
    width = grad_x.shape[3]
    plane_size = grad_x.shape[2] * width
    total = grad_y.size
    for index in range(cuda.grid(1), total, cuda.gridsize(1)):
        ow = index % out_w
        oh = (index // out_w) % out_h
        c = (index // (out_w * out_h)) % channels
        n = index // (out_w * out_h * channels)
        target = argmax[n, c, oh, ow]
        if target < 0 or target >= plane_size:
            # A kernel cannot raise: count the bad index for the host to report.
            cuda.atomic.add(bad_indices, 0, 1)
            continue
        ih = target // width
        cuda.atomic.add(grad_x, (n, c, ih, target - ih * width), grad_y[n, c, oh, ow])


@cuda.jit
def _avg_pool_kernel(x, y, kh, kw, sh, sw, ph, pw, zero):
    n_images, channels, height, width = x.shape
    out_h, out_w = y.shape[2], y.shape[3]
    total = y.size
    for index in range(cuda.grid(1), total, cuda.gridsize(1)):
        ow = index % out_w
        oh = (index // out_w) % out_h
        c = (index // (out_w * out_h)) % channels
        n = index // (out_w * out_h * channels)
        h0 = oh * sh - ph
        w0 = ow * sw - pw
        acc = zero
        for ih in range(_at_least(h0, 0), _at_most(h0 + kh, height)):
            for iw in range(_at_least(w0, 0), _at_most(w0 + kw, width)):
                acc += x[n, c, ih, iw]
        y[n, c, oh, ow] = acc / (kh * kw)


@cuda.jit
def _avg_pool_backward_kernel(grad_y, grad_x, kh, kw, sh, sw, ph, pw, zero):
    n_images, channels, height, width = grad_x.shape
    out_h, out_w = grad_y.shape[2], grad_y.shape[3]
    total = grad_x.size
    for index in range(cuda.grid(1), total, cuda.gridsize(1)):
        iw = index % width
        ih = (index // width) % height
        c = (index // (width * height)) % channels
        n = index // (width * height * channels)
        # Windows covering ih: oh*sh - ph <= ih < oh*sh - ph + kh.
        oh_lo = _at_least((ih + ph - kh) // sh + 1, 0)
        oh_hi = _at_most((ih + ph) // sh + 1, out_h)
        ow_lo = _at_least((iw + pw - kw) // sw + 1, 0)
        ow_hi = _at_most((iw + pw) // sw + 1, out_w)
        acc = zero
        for oh in range(oh_lo, oh_hi):
            for ow in range(ow_lo, ow_hi):
                acc += grad_y[n, c, oh, ow]
        grad_x[n, c, ih, iw] = acc / (kh * kw)


def _check_x(x) -> None:
    on_device(x, "x")
    check_float_array(x, "x", 4)


def _pool_args(input_hw, kernel_hw, stride, padding) -> tuple[Pair, Pair, Pair, Pair]:
    """Checked window arguments; as in PyTorch (and kernels.cpu), padding is at most
    half the kernel, so that no window lies in the padding alone."""
    kernel, step, pad, out_hw = window_args(input_hw, kernel_hw, stride, padding)
    if 2 * pad[0] > kernel[0] or 2 * pad[1] > kernel[1]:
        raise ValueError(
            f"padding must be at most half of kernel_hw, got padding {pad} for kernel {kernel}"
        )
    return kernel, step, pad, out_hw


def max_pool2d(x, kernel_hw: int | Pair, stride: int | Pair, padding: int | Pair):
    """``(y, argmax)``: window maxima and the winners' flat ``ih * W + iw`` (int64)."""
    _check_x(x)
    (kh, kw), (sh, sw), (ph, pw), out_hw = _pool_args(x.shape[2:], kernel_hw, stride, padding)
    y = xp.empty(x.shape[:2] + out_hw, dtype=x.dtype)
    argmax = xp.empty(y.shape, dtype=xp.int64)
    if y.size:
        _max_pool_kernel[grid_1d(y.size), sizes.threads_1d](
            contiguous(x), y, argmax, kh, kw, sh, sw, ph, pw
        )
    return y, argmax


class _DeferredIndexCheck:
    """Out-of-range argmax indices, counted on the device and reported at the next host read.

    Reading the count right after the launch would make the host wait for the GPU in
    every max-pool backward of a training step. Instead the kernels add to one device
    counter and the check waits for the next :func:`kernels.cuda.to_numpy`, where the
    host waits anyway: the error surfaces late, as a CUDA device-side assert does, but it
    is never lost. A bad index is skipped by the kernel, so memory stays safe meanwhile.
    """

    def __init__(self) -> None:
        self._count = None  # allocated on first use, so importing needs no GPU
        self._pending = False

    def counter(self):
        if self._count is None:
            self._count = xp.zeros(1, dtype=xp.int64)
        self._pending = True
        return self._count

    def raise_if_any(self) -> None:
        if not self._pending:
            return
        self._pending = False
        transfers.device_to_host += 1
        bad = int(self._count[0])
        if bad:
            self._count[...] = 0
            raise IndexError(
                f"max_pool2d_backward: argmax held {bad} index(es) outside the input's H*W plane"
            )


_index_check = _DeferredIndexCheck()


def raise_deferred_errors() -> None:
    """Raise what a kernel found wrong since the last host read (see _DeferredIndexCheck)."""
    _index_check.raise_if_any()


def max_pool2d_backward(grad_y, argmax, input_hw: Pair):
    """``grad_x[n, c].flat[argmax[n, c, oh, ow]] += grad_y[n, c, oh, ow]`` for every output.

    An index outside the H*W plane raises IndexError at the next host read
    (:func:`kernels.cuda.to_numpy`), not here: checking here would be a device-to-host
    copy, and a wait for the GPU, in every training step."""
    on_device(grad_y, "grad_y")
    check_float_array(grad_y, "grad_y", 4)
    on_device(argmax, "argmax")
    if argmax.shape != grad_y.shape or argmax.dtype != xp.int64:
        raise ValueError(
            f"argmax must be int64 with grad_y's shape {tuple(grad_y.shape)}, "
            f"got {argmax.dtype} of shape {tuple(argmax.shape)}"
        )
    height, width = pair(input_hw, "input_hw", 1)
    grad_x = xp.zeros(grad_y.shape[:2] + (height, width), dtype=grad_y.dtype)
    if grad_y.size:
        _max_pool_backward_kernel[grid_1d(grad_y.size), sizes.threads_1d](
            contiguous(grad_y), contiguous(argmax), grad_x, _index_check.counter()
        )
    return grad_x


def avg_pool2d(x, kernel_hw: int | Pair, stride: int | Pair, padding: int | Pair):
    """``y = (1 / (kh*kw)) * sum of x over each window`` (padding counts as zeros)."""
    _check_x(x)
    (kh, kw), (sh, sw), (ph, pw), out_hw = _pool_args(x.shape[2:], kernel_hw, stride, padding)
    y = xp.empty(x.shape[:2] + out_hw, dtype=x.dtype)
    if y.size:
        _avg_pool_kernel[grid_1d(y.size), sizes.threads_1d](
            contiguous(x), y, kh, kw, sh, sw, ph, pw, x.dtype.type(0)
        )
    return y


def avg_pool2d_backward(
    grad_y, input_hw: Pair, kernel_hw: int | Pair, stride: int | Pair, padding: int | Pair
):
    """``grad_x[n, c, ih, iw] = (1 / (kh*kw)) * sum of grad_y over the windows covering it``."""
    on_device(grad_y, "grad_y")
    check_float_array(grad_y, "grad_y", 4)
    in_hw = pair(input_hw, "input_hw", 1)
    (kh, kw), (sh, sw), (ph, pw), out_hw = _pool_args(in_hw, kernel_hw, stride, padding)
    check_output_hw(grad_y, "grad_y", out_hw)
    grad_x = xp.empty(grad_y.shape[:2] + in_hw, dtype=grad_y.dtype)
    if grad_x.size:
        _avg_pool_backward_kernel[grid_1d(grad_x.size), sizes.threads_1d](
            contiguous(grad_y), grad_x, kh, kw, sh, sw, ph, pw, grad_y.dtype.type(0)
        )
    return grad_x
