"""``interpolate``: resize images (N, C, H, W) by nearest-neighbour or bilinear sampling.

Both modes are gathers of input rows and columns (plus, for bilinear, a weighted mix of
two neighbours), so the gradient is the matching scatter-add that indexing already has.
The source coordinate of output pixel ``i`` follows PyTorch exactly:

* nearest:        src = min(floor(i · s), in - 1)
* nearest-exact:  src = min(floor((i + 0.5) · s), in - 1)
* bilinear:       src = max((i + 0.5) · s - 0.5, 0), or i · (in - 1)/(out - 1) with
                  ``align_corners=True``; y = (1 - λ) x[floor(src)] + λ x[floor(src) + 1]

where ``s = 1 / scale_factor`` when a scale factor is given, else ``in / out``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.ops.broadcast import expand
from minigrad.tensor import Tensor

MODES = ("nearest", "nearest-exact", "bilinear")


def _output_size(
    in_hw: tuple[int, int], size: Any, scale_factor: Any
) -> tuple[tuple[int, int], tuple[float | None, float | None]]:
    """(out_h, out_w) and the per-axis scale factors (None when ``size`` was given)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        pair = (size, size) if isinstance(size, int) else tuple(size)
        if len(pair) != 2 or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in pair
        ):
            raise ValueError(f"interpolate: size must be a positive int or (h, w), got {size!r}")
        return (int(pair[0]), int(pair[1])), (None, None)
    factors = (
        (scale_factor, scale_factor)
        if isinstance(scale_factor, (int, float))
        else tuple(scale_factor)
    )
    if len(factors) != 2 or not all(
        isinstance(f, (int, float)) and not isinstance(f, bool) and f > 0 for f in factors
    ):
        raise ValueError(
            f"interpolate: scale_factor must be a positive number or (sh, sw), got "
            f"{scale_factor!r}"
        )
    out = tuple(math.floor(n * float(f)) for n, f in zip(in_hw, factors, strict=True))
    if min(out) < 1:
        raise ValueError(f"interpolate: scale_factor {scale_factor!r} gives output size {out}")
    return out, (float(factors[0]), float(factors[1]))  # type: ignore[return-value]


def _source_step(size_in: int, size_out: int, factor: float | None, dtype: type) -> Any:
    # PyTorch computes source positions in float32 for nearest and in the input's precision
    # for bilinear; doing the same keeps indices and weights equal to its own.
    return dtype(1.0 / factor) if factor is not None else dtype(size_in / size_out)


def _nearest_index(size_in: int, size_out: int, factor: float | None, exact: bool) -> np.ndarray:
    positions = np.arange(size_out, dtype=np.float32) + np.float32(0.5 if exact else 0.0)
    step = _source_step(size_in, size_out, factor, np.float32)
    src = np.floor(positions * step).astype(np.int64)
    return np.minimum(src, size_in - 1)


def _linear_weights(
    size_in: int, size_out: int, factor: float | None, align_corners: bool, dtype: type
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low index, high index, weight λ of the high one) per output position."""
    positions = np.arange(size_out, dtype=dtype)
    if align_corners:
        step = dtype((size_in - 1) / (size_out - 1)) if size_out > 1 else dtype(0)
        src = positions * step
    else:
        step = _source_step(size_in, size_out, factor, dtype)
        src = np.maximum(step * (positions + dtype(0.5)) - dtype(0.5), dtype(0))
    low = src.astype(np.int64)
    high = low + (low < size_in - 1)
    return low, high, src - low


def _gather(x: Tensor, axis: int, index: np.ndarray) -> Tensor:
    where = [slice(None)] * 4
    where[axis] = x.backend.asarray(index, np.dtype(np.int64))
    return x[tuple(where)]


def _mix(x: Tensor, axis: int, low: np.ndarray, high: np.ndarray, weight: np.ndarray) -> Tensor:
    shape = [1, 1, 1, 1]
    shape[axis] = weight.size
    lam = Tensor(weight.reshape(shape), dtype=x.dtype, device=x.device)
    return _gather(x, axis, low) * (1 - lam) + _gather(x, axis, high) * lam


def interpolate(
    input: Tensor,  # noqa: A002
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize (N, C, H, W) to ``size`` = (h, w), or by ``scale_factor`` (out = floor(in·f)).

    ``recompute_scale_factor=True`` derives the sampling step from the output size
    instead of the factor, as PyTorch does. ``antialias`` is not implemented (raises).
    """
    if input.ndim != 4:
        raise ValueError(f"interpolate: input must be 4-D (N, C, H, W), got shape {input.shape}")
    if mode not in MODES:
        raise ValueError(f"interpolate: mode must be one of {MODES}, got {mode!r}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented in minigrad")
    if align_corners is not None and mode != "bilinear":
        raise ValueError(
            "interpolate: align_corners only has a meaning for mode='bilinear', got "
            f"mode={mode!r}"
        )
    in_hw = input.shape[2:]
    out_hw, factors = _output_size(in_hw, size, scale_factor)
    if recompute_scale_factor:
        factors = (None, None)
    n, c, h, w = input.shape
    if mode == "nearest" and all(f is not None and float(f).is_integer() for f in factors):
        # Integer upsampling: each pixel becomes an s×s block, one broadcast, no gather.
        sh, sw = (int(f) for f in factors)
        blocks = expand(input.reshape(n, c, h, 1, w, 1), n, c, h, sh, w, sw)
        return blocks.reshape(n, c, h * sh, w * sw)
    y = input
    for axis, size_in, size_out, factor in zip((2, 3), in_hw, out_hw, factors, strict=True):
        if mode == "bilinear":
            low, high, weight = _linear_weights(
                size_in, size_out, factor, bool(align_corners), input.dtype.type
            )
            y = _mix(y, axis, low, high, weight)
        elif size_in != size_out:
            y = _gather(y, axis, _nearest_index(size_in, size_out, factor, mode != "nearest"))
    return y
