"""Shape arithmetic and argument checks shared by every backend's window kernels.

Convolution and pooling slide a ``kh x kw`` window with ``stride`` over an input padded
by ``padding`` on each side; the number of window positions along one axis is

    out = (size + 2 * pad - kernel) // stride + 1

These helpers are plain Python on shapes (never on array data), so the CPU and CUDA
backends give the same answers and the same error messages for the same bad input.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Pair = tuple[int, int]

#: The precisions every kernel takes. Compared as dtype objects: ``str(dtype)`` runs Python
#: code in numpy and cost 2 us per check, as much as the small op it guarded.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def pair(value: int | Sequence[int], name: str, minimum: int) -> Pair:
    """Return ``value`` as an ``(h, w)`` tuple of ints, each at least ``minimum``.

    An int ``v`` means ``(v, v)``, as in PyTorch.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        items = (value, value)
    else:
        try:
            items = tuple(value)
        except TypeError:
            items = ()
        if len(items) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair of ints, got {value!r}")
    result = []
    for item in items:
        if isinstance(item, bool) or not hasattr(item, "__index__"):
            raise ValueError(f"{name} must be an int or an (h, w) pair of ints, got {value!r}")
        result.append(int(item))
    if min(result) < minimum:
        raise ValueError(f"{name} must be >= {minimum} in both dimensions, got {value!r}")
    return result[0], result[1]


def window_output_hw(input_hw: Pair, kernel_hw: Pair, stride: Pair, padding: Pair) -> Pair:
    """``out = (size + 2 * pad - kernel) // stride + 1`` per axis; raises if it is < 1."""
    out = tuple(
        (size + 2 * pad - k) // s + 1
        for size, k, s, pad in zip(input_hw, kernel_hw, stride, padding, strict=True)
    )
    if min(out) < 1:
        raise ValueError(
            f"kernel {kernel_hw} does not fit the input {input_hw} padded by {padding}: "
            "the output would be empty"
        )
    return out[0], out[1]


def window_args(
    input_hw: Sequence[int],
    kernel_hw: int | Sequence[int],
    stride: int | Sequence[int],
    padding: int | Sequence[int],
) -> tuple[Pair, Pair, Pair, Pair]:
    """Check a window's arguments; return ``(kernel_hw, stride, padding, output_hw)``."""
    kernel = pair(kernel_hw, "kernel_hw", 1)
    step = pair(stride, "stride", 1)
    pad = pair(padding, "padding", 0)
    in_hw = pair(tuple(input_hw), "input_hw", 1)
    return kernel, step, pad, window_output_hw(in_hw, kernel, step, pad)


def check_float_array(array, name: str, ndim: int | None = None) -> None:
    """Raise unless ``array`` is float32 or float64 (and has ``ndim`` dims when given)."""
    if array.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got dtype {array.dtype}")
    if ndim is not None and array.ndim != ndim:
        layout = {4: "(N, C, H, W)"}.get(ndim, f"{ndim}-d")
        raise ValueError(f"{name} must be {layout}, got shape {tuple(array.shape)}")


def check_same_dtype(first, first_name: str, second, second_name: str) -> None:
    """Raise unless both arrays share one dtype (kernels never mix precisions)."""
    if first.dtype != second.dtype:
        raise TypeError(
            f"{first_name} and {second_name} must have the same dtype, "
            f"got {first.dtype} and {second.dtype}"
        )


def check_output_hw(grad_y, name: str, expected_hw: Pair) -> None:
    """Raise unless ``grad_y``'s spatial size is the window output size ``expected_hw``."""
    if tuple(grad_y.shape[2:]) != tuple(expected_hw):
        raise ValueError(
            f"{name} must have spatial size {tuple(expected_hw)} for these window arguments, "
            f"got shape {tuple(grad_y.shape)}"
        )


def conv2d_args(x, w, stride, padding) -> tuple[Pair, Pair, Pair, Pair]:
    """Check conv2d's ``x`` (N, C, H, W) and ``w`` (O, C, kh, kw); return
    ``(kernel_hw, stride, padding, output_hw)``."""
    check_float_array(x, "x", 4)
    check_float_array(w, "w", 4)
    check_same_dtype(x, "x", w, "w")
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"x has {x.shape[1]} channels but w of shape {tuple(w.shape)} expects {w.shape[1]}"
        )
    return window_args(x.shape[2:], w.shape[2:], stride, padding)


def conv2d_input_grad_args(
    grad_y, w, input_hw, stride, padding
) -> tuple[Pair, Pair, Pair, Pair, Pair]:
    """Check the input gradient's ``grad_y`` (N, O, OH, OW) against ``w`` and the window;
    return ``(input_hw, kernel_hw, stride, padding, output_hw)``."""
    check_float_array(grad_y, "grad_y", 4)
    check_float_array(w, "w", 4)
    check_same_dtype(grad_y, "grad_y", w, "w")
    if grad_y.shape[1] != w.shape[0]:
        raise ValueError(
            f"grad_y has {grad_y.shape[1]} channels but w of shape {tuple(w.shape)} "
            f"expects {w.shape[0]}"
        )
    in_hw = pair(input_hw, "input_hw", 1)
    kernel, step, pad, out_hw = window_args(in_hw, w.shape[2:], stride, padding)
    check_output_hw(grad_y, "grad_y", out_hw)
    return in_hw, kernel, step, pad, out_hw


def conv2d_weight_grad_args(x, grad_y, kernel_hw, stride, padding) -> tuple[Pair, Pair, Pair, Pair]:
    """Check the weight gradient's ``x`` and ``grad_y`` (same batch, the window's output
    size); return ``(kernel_hw, stride, padding, output_hw)``."""
    check_float_array(x, "x", 4)
    check_float_array(grad_y, "grad_y", 4)
    check_same_dtype(x, "x", grad_y, "grad_y")
    if grad_y.shape[0] != x.shape[0]:
        raise ValueError(
            f"x and grad_y must have the same batch size, got shapes {tuple(x.shape)} "
            f"and {tuple(grad_y.shape)}"
        )
    kernel, step, pad, out_hw = window_args(x.shape[2:], kernel_hw, stride, padding)
    check_output_hw(grad_y, "grad_y", out_hw)
    return kernel, step, pad, out_hw


def conv2d_backward_args(
    x, w, grad_y, stride, padding, names: tuple[str, str, str] = ("x", "w", "grad_y")
) -> tuple[Pair, Pair, Pair, Pair]:
    """Check both gradients' arguments at once: ``x`` (N, C, H, W) and ``w`` (O, C, kh, kw)
    as for the forward, ``grad_y`` (N, O, OH, OW) with the window's output size; return
    ``(kernel_hw, stride, padding, output_hw)``. ``names`` are the arguments' names in
    the messages (a transposed conv passes its own)."""
    x_name, w_name, grad_name = names
    for array, name in ((x, x_name), (w, w_name), (grad_y, grad_name)):
        check_float_array(array, name, 4)
    check_same_dtype(x, x_name, w, w_name)
    check_same_dtype(x, x_name, grad_y, grad_name)
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"{x_name} has {x.shape[1]} channels but {w_name} of shape {tuple(w.shape)} "
            f"expects {w.shape[1]}"
        )
    if tuple(grad_y.shape[:2]) != (x.shape[0], w.shape[0]):
        raise ValueError(
            f"{grad_name} must be ({x.shape[0]}, {w.shape[0]}, OH, OW) for {x_name} of shape "
            f"{tuple(x.shape)} and {w_name} of shape {tuple(w.shape)}, "
            f"got shape {tuple(grad_y.shape)}"
        )
    kernel, step, pad, out_hw = window_args(x.shape[2:], w.shape[2:], stride, padding)
    check_output_hw(grad_y, grad_name, out_hw)
    return kernel, step, pad, out_hw


def check_columns(columns, x, kernel: Pair, out_hw: Pair) -> None:
    """Raise unless ``columns`` can be ``x``'s whole-batch im2col for this window: a
    ``(C*kh*kw, ...)`` array of ``N*OH*OW`` entries per row in ``x``'s dtype (the layout
    behind it is the backend's own)."""
    rows = x.shape[1] * kernel[0] * kernel[1]
    per_row = x.shape[0] * out_hw[0] * out_hw[1]
    if columns.dtype != x.dtype or columns.shape[0] != rows or columns.size != rows * per_row:
        raise ValueError(
            f"columns must be the im2col of x kept by conv2d_forward: {rows} rows of {per_row} "
            f"{x.dtype} entries, got shape {tuple(columns.shape)} of {columns.dtype}"
        )


def check_closeness_backward_args(grad, rows, similarity) -> None:
    """Raise unless pairwise_l1_closeness_backward's arrays fit rows (N, B, C): grad (N, B)
    of rows' dtype and similarity (B, N, N) (both backends)."""
    check_float_array(rows, "rows", ndim=3)
    check_same_dtype(grad, "grad", rows, "rows")
    count, kernels, _ = rows.shape
    if grad.shape != (count, kernels):
        raise ValueError(f"grad must have shape {(count, kernels)}, got {grad.shape}")
    if similarity.shape != (kernels, count, count):
        raise ValueError(
            f"similarity must have shape {(kernels, count, count)}, got {similarity.shape}"
        )


def check_adam_hyperparameters(
    step: int, lr: float, beta1: float, beta2: float, eps: float, wd: float
) -> None:
    """Adam's step count and hyper-parameters, with the argument named on error."""
    if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 1:
        raise ValueError(f"step must be an int >= 1 (the first update is step 1), got {step!r}")
    if not lr >= 0:
        raise ValueError(f"lr must be >= 0, got {lr!r}")
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0 <= beta < 1:
            raise ValueError(f"{name} must be in [0, 1), got {beta!r}")
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps!r}")
    if not wd >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {wd!r}")
