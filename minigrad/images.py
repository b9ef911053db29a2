"""Pictures of training: image grids (PNG), animated grids (GIF) and line plots (PNG).

* :func:`make_grid` and :func:`save_image` are torchvision.utils' functions, with the same
  arguments and results: ``import minigrad.images as vutils`` in place of
  ``import torchvision.utils as vutils``.
* :func:`save_image_grid` writes a grayscale or RGB PNG grid with the pixels enlarged
  ``scale`` times and returns it as a uint8 array (what :func:`save_gif` animates).
* :func:`save_gif` joins grids (arrays or PNG files) into an animated GIF, e.g. the
  samples of a fixed noise batch over training.
* :func:`save_line_plot` / :func:`save_line_plots` draw curves with matplotlib's Agg
  backend (no display needed; pyplot's global state is never touched).

Images are Tensors (or numpy arrays) of floats. ``normalize=True`` with
``value_range=(low, high)`` maps low..high to black..white (``(-1, 1)`` for a Tanh
generator); values outside are clipped.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np


def _as_numpy(images: Any) -> np.ndarray:
    from minigrad.tensor import Tensor

    if isinstance(images, Tensor):
        return images.detach().cpu().numpy()
    if isinstance(images, (list, tuple)) and images and isinstance(images[0], Tensor):
        return np.stack([_as_numpy(image) for image in images])
    return np.asarray(images)


def _batch(array: np.ndarray) -> np.ndarray:
    """(H, W), (C, H, W) or (N, C, H, W) as (N, C, H, W); one channel becomes three."""
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[0] < 1:
        raise ValueError(
            f"images must be (N, C, H, W) with N >= 1, (C, H, W) or (H, W), got shape "
            f"{array.shape}"
        )
    return np.repeat(array, 3, axis=1) if array.shape[1] == 1 else array


def _normalized(
    array: np.ndarray, value_range: tuple[float, float] | None, scale_each: bool
) -> np.ndarray:
    """x -> (clip(x, low, high) - low) / max(high - low, 1e-5), low/high from the data if None.

    ``scale_each`` takes low and high per image instead of over the whole batch.
    """
    if value_range is not None and (
        not isinstance(value_range, (tuple, list)) or len(value_range) != 2
    ):
        raise TypeError(f"value_range must be a (min, max) tuple of numbers, got {value_range!r}")
    dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)
    out = array.astype(dtype, copy=True)
    for image in out if scale_each else [out]:
        low, high = (
            (float(image.min()), float(image.max())) if value_range is None else value_range
        )
        np.clip(image, low, high, out=image)
        image -= low
        image /= max(high - low, 1e-5)
    return out


def _tile(array: np.ndarray, nrow: int, padding: int, pad_value: float) -> np.ndarray:
    """(N, C, H, W) -> (C, rows·(H+p)+p, cols·(W+p)+p), ``nrow`` images a row, row-major."""
    if isinstance(nrow, bool) or not isinstance(nrow, int) or nrow < 1:
        raise ValueError(f"nrow must be a positive int, got {nrow!r}")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be a non-negative int, got {padding!r}")
    count, channels, height, width = array.shape
    columns = min(nrow, count)
    rows = math.ceil(count / columns)
    grid = np.full(
        (channels, rows * (height + padding) + padding, columns * (width + padding) + padding),
        pad_value,
        dtype=array.dtype,
    )
    for index in range(count):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        grid[:, top : top + height, left : left + width] = array[index]
    return grid


def make_grid(
    tensor: Any,
    nrow: int = 8,
    padding: int = 2,
    normalize: bool = False,
    value_range: tuple[float, float] | None = None,
    scale_each: bool = False,
    pad_value: float = 0.0,
) -> Any:
    """torchvision's ``make_grid``: a batch (N, C, H, W) tiled into one (C, H', W') Tensor.

    ``nrow`` images per row, ``padding`` pixels of ``pad_value`` around and between them.
    A list of (C, H, W) Tensors is stacked first; one-channel images become three-channel
    (so the grid is RGB); a single image (N = 1, or a 2-D / 3-D input) comes back without
    padding, as torchvision does. ``normalize=True`` maps ``value_range`` (default: the
    data's min and max, per image with ``scale_each``) to [0, 1] with clipping; padding
    is filled after normalising.
    """
    from minigrad.tensor import Tensor

    array = _batch(_as_numpy(tensor))
    if normalize:
        array = _normalized(array, value_range, scale_each)
    grid = array[0] if array.shape[0] == 1 else _tile(array, nrow, padding, pad_value)
    device = tensor.device if isinstance(tensor, Tensor) else "cpu"
    return Tensor(grid, dtype=grid.dtype, device=device)


def _to_uint8(grid: np.ndarray) -> np.ndarray:
    """Pixel values in [0, 1] to bytes: floor(255·v + 0.5) clipped to 0..255, as torchvision."""
    return np.clip(grid * 255.0 + 0.5, 0, 255).astype(np.uint8)


def save_image(
    tensor: Any,
    fp: str | os.PathLike[str] | BinaryIO,
    format: str | None = None,  # noqa: A002
    *,
    nrow: int = 8,
    padding: int = 2,
    normalize: bool = False,
    value_range: tuple[float, float] | None = None,
    scale_each: bool = False,
    pad_value: float = 0.0,
) -> None:
    """torchvision's ``save_image``: write :func:`make_grid` of ``tensor`` as an image file.

    Values in [0, 1] map to 0..255 (``normalize=True`` maps ``value_range`` there first).
    ``format`` ("PNG", "JPEG", ...) defaults to the file name's extension; it is needed
    when ``fp`` is an open file.
    """
    from PIL import Image

    grid = make_grid(
        tensor,
        nrow=nrow,
        padding=padding,
        normalize=normalize,
        value_range=value_range,
        scale_each=scale_each,
        pad_value=pad_value,
    ).numpy()
    pixels = np.ascontiguousarray(np.transpose(_to_uint8(grid), (1, 2, 0)))
    Image.fromarray(pixels).save(fp, format=format)


def save_image_grid(
    images: Any,
    path: str | os.PathLike[str],
    nrow: int = 8,
    padding: int = 2,
    value_range: tuple[float, float] = (-1.0, 1.0),
    scale: int = 1,
) -> np.ndarray:
    """Tile ``images`` (N, C, H, W), C = 1 or 3, and write them to ``path`` as PNG.

    Pixel v becomes floor(255·(clip(v, low, high) - low)/(high - low) + 0.5); the padding
    is the value 0 of the data (mid-grey for ``value_range=(-1, 1)``). Unlike
    :func:`save_image`, one-channel images stay grayscale, a single image is padded too,
    and ``scale`` enlarges each pixel to a ``scale x scale`` block (nearest neighbour), so
    28x28 samples stay crisp. Returns the uint8 grid, (H', W') or (H', W', 3).
    """
    array = _as_numpy(images)
    if array.ndim != 4 or array.shape[1] not in (1, 3) or array.shape[0] < 1:
        raise ValueError(
            f"images must be (N, C, H, W) with N >= 1 and C = 1 or 3, got shape {array.shape}"
        )
    low, high = (float(v) for v in value_range)
    if not high > low:
        raise ValueError(f"value_range must be (low, high) with high > low, got {value_range!r}")
    normalized = _normalized(array.astype(np.float64), (low, high), scale_each=False)
    zero = (min(max(0.0, low), high) - low) / (high - low)
    grid = _to_uint8(_tile(normalized, nrow, padding, zero))
    grid = grid[0] if grid.shape[0] == 1 else np.transpose(grid, (1, 2, 0))
    _image_from_array(np.ascontiguousarray(grid), scale).save(Path(path), format="PNG")
    return grid


def save_gif(
    frames: Sequence[np.ndarray | str | os.PathLike[str]],
    path: str | os.PathLike[str],
    duration_ms: int = 200,
    scale: int = 1,
    loop: int = 0,
) -> None:
    """Animate ``frames`` (uint8 grids from :func:`save_image_grid`, or image files) into a GIF.

    Each frame shows for ``duration_ms``; ``loop=0`` repeats forever. ``scale`` enlarges
    the array frames only (files are taken as they are); all frames must end up one size.
    """
    from PIL import Image

    if len(frames) == 0:
        raise ValueError("save_gif needs at least one frame")
    pictures = []
    for frame in frames:
        if isinstance(frame, np.ndarray):
            pictures.append(_image_from_array(frame, scale))
        else:
            with Image.open(frame) as opened:
                picture = opened.convert("RGB") if opened.mode not in ("L", "RGB") else opened
                pictures.append(picture.copy())
    sizes = {picture.size for picture in pictures}
    if len(sizes) != 1:
        raise ValueError(f"save_gif frames must all have one size, got {sorted(sizes)}")
    pictures[0].save(
        Path(path),
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=int(duration_ms),
        loop=int(loop),
    )


def save_line_plot(
    path: str | os.PathLike[str],
    curves: Mapping[str, Sequence[float]],
    x: Sequence[float] | None = None,
    title: str = "",
    xlabel: str = "step",
    ylabel: str = "",
    logy: bool = False,
) -> None:
    """One panel of named curves against ``x`` (default 0, 1, 2, ...), saved as PNG."""
    save_line_plots(path, {title: curves}, x=x, xlabel=xlabel, ylabels={title: ylabel}, logy=logy)


def save_line_plots(
    path: str | os.PathLike[str],
    panels: Mapping[str, Mapping[str, Sequence[float]]],
    x: Sequence[float] | None = None,
    xlabel: str = "step",
    ylabels: Mapping[str, str] | None = None,
    logy: bool = False,
) -> None:
    """Stacked panels sharing the x axis: ``{panel title: {curve name: values}}`` -> PNG.

    E.g. ``{"losses": {"D": d, "G": g}, "D outputs": {"D(x)": dx, "D(G(z))": dgz}}``.
    Every curve must have ``len(x)`` values.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not panels:
        raise ValueError("save_line_plots needs at least one panel")
    figure = Figure(figsize=(7.0, 2.6 * len(panels)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for axis, (title, curves) in zip(axes, panels.items(), strict=True):
        for name, values in curves.items():
            values = np.asarray(values, dtype=np.float64)
            xs = np.arange(len(values)) if x is None else np.asarray(x, dtype=np.float64)
            if xs.shape != values.shape:
                raise ValueError(
                    f"curve {name!r} has {values.shape[0]} values but x has {xs.shape[0]}"
                )
            axis.plot(xs, values, label=name, linewidth=1.0)
        if title:
            axis.set_title(title)
        axis.set_ylabel((ylabels or {}).get(title, ""))
        if logy:
            axis.set_yscale("log")
        axis.grid(alpha=0.3)
        if curves:
            axis.legend(loc="best", fontsize="small")
    axes[-1].set_xlabel(xlabel)
    figure.tight_layout()
    figure.savefig(Path(path), format="png")


def _image_from_array(grid: np.ndarray, scale: int) -> Any:
    from PIL import Image

    if grid.dtype != np.uint8 or grid.ndim not in (2, 3):
        raise ValueError(
            f"a frame must be a uint8 (H, W) or (H, W, 3) array, got {grid.dtype} {grid.shape}"
        )
    return _scaled(Image.fromarray(grid), scale)


def _scaled(picture: Any, scale: int) -> Any:
    from PIL import Image

    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive int, got {scale!r}")
    if scale == 1:
        return picture
    width, height = picture.size
    return picture.resize((width * scale, height * scale), Image.Resampling.NEAREST)
