"""Pictures of training: image grids (PNG), animated grids (GIF) and line plots (PNG).

* :func:`make_grid` tiles a batch ``(N, C, H, W)`` (C = 1 or 3) into one uint8 picture.
* :func:`save_image_grid` writes that grid as a PNG with Pillow.
* :func:`save_gif` joins grids (arrays or PNG files) into an animated GIF, e.g. the
  samples of a fixed noise batch over training.
* :func:`save_line_plot` / :func:`save_line_plots` draw curves with matplotlib's Agg
  backend (no display needed; pyplot's global state is never touched).

Images are given as Tensors or numpy arrays of floats; ``value_range=(low, high)`` says
which values map to black and white (``(-1, 1)`` for a Tanh generator, ``(0, 1)`` for
pixel data); values outside it are clipped.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _as_numpy(images: Any) -> np.ndarray:
    from minigrad.tensor import Tensor

    if isinstance(images, Tensor):
        return images.detach().cpu().numpy()
    return np.asarray(images)


def make_grid(
    images: Any,
    nrow: int = 8,
    padding: int = 2,
    value_range: tuple[float, float] = (-1.0, 1.0),
    pad_value: float = 0.0,
) -> np.ndarray:
    """Tile ``images`` (N, C, H, W), C in {1, 3}, into a uint8 array of ``nrow`` per row.

    Pixel ``v`` becomes ``round(255 * (clip(v, low, high) - low) / (high - low))``;
    ``pad_value`` (in the same units) fills the ``padding``-pixel gaps and border.
    Returns (rows*(H+p)+p, nrow*(W+p)+p) for one channel, with a trailing 3 for RGB.
    """
    array = _as_numpy(images).astype(np.float64, copy=False)
    if array.ndim != 4 or array.shape[1] not in (1, 3) or array.shape[0] < 1:
        raise ValueError(
            f"images must be (N, C, H, W) with N >= 1 and C = 1 or 3, got shape {array.shape}"
        )
    if isinstance(nrow, bool) or not isinstance(nrow, int) or nrow < 1:
        raise ValueError(f"nrow must be a positive int, got {nrow!r}")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be a non-negative int, got {padding!r}")
    low, high = (float(v) for v in value_range)
    if not high > low:
        raise ValueError(f"value_range must be (low, high) with high > low, got {value_range!r}")

    count, channels, height, width = array.shape
    columns = min(nrow, count)
    rows = math.ceil(count / columns)
    grid = np.full(
        (channels, rows * (height + padding) + padding, columns * (width + padding) + padding),
        pad_value,
        dtype=np.float64,
    )
    for index in range(count):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        grid[:, top : top + height, left : left + width] = array[index]
    scaled = np.rint(255.0 * (np.clip(grid, low, high) - low) / (high - low)).astype(np.uint8)
    return scaled[0] if channels == 1 else np.transpose(scaled, (1, 2, 0))


def save_image_grid(
    images: Any,
    path: str | os.PathLike[str],
    nrow: int = 8,
    padding: int = 2,
    value_range: tuple[float, float] = (-1.0, 1.0),
    scale: int = 1,
) -> np.ndarray:
    """Write :func:`make_grid` of ``images`` to ``path`` as PNG; returns the grid array.

    ``scale`` enlarges each pixel to a ``scale x scale`` block (nearest neighbour), so
    28x28 samples stay crisp when viewed.
    """
    grid = make_grid(images, nrow=nrow, padding=padding, value_range=value_range)
    _image_from_array(grid, scale).save(Path(path), format="PNG")
    return grid


def save_gif(
    frames: Sequence[np.ndarray | str | os.PathLike[str]],
    path: str | os.PathLike[str],
    duration_ms: int = 200,
    scale: int = 1,
    loop: int = 0,
) -> None:
    """Animate ``frames`` (uint8 grids from :func:`make_grid`, or image files) into a GIF.

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
