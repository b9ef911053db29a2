"""Pictures of a generator while it learns: one PNG per snapshot, a GIF, the curves.

* images: an 8-wide grid of G(z) for a fixed batch z, so frames are comparable;
* ring / grid: a scatter of G(z) over the target's modes (3-std circles);
* gaussian-1d: the histogram of G(z) against the target density, and the learned map
  u -> G(u) beside the exact inverse CDF (the lecture's x = f(z)).

The generator is sampled in eval mode (BatchNorm uses its running statistics), under
``no_grad``, and put back in training mode afterwards: a snapshot changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import minigrad as mg
from gan.toy_data import Gaussian1D, GaussianMixture2D
from minigrad import Tensor, nn
from minigrad.images import save_gif, save_image_grid, save_line_plots


def generate(generator: nn.Module, z: Tensor) -> np.ndarray:
    """G(z) as a numpy array, computed in eval mode without a graph."""
    was_training = generator.training
    generator.eval()
    try:
        with mg.no_grad():
            return generator(z).numpy()
    finally:
        generator.train(was_training)


def save_snapshot(
    path: Path,
    samples: np.ndarray,
    target: Gaussian1D | GaussianMixture2D | None,
    title: str,
    z: np.ndarray | None = None,
) -> None:
    """Write the picture for ``samples`` (images, 2-D points or 1-D values) to ``path``."""
    if target is None:
        save_image_grid(samples, path, nrow=8, value_range=(-1.0, 1.0), scale=2)
    elif isinstance(target, GaussianMixture2D):
        _scatter(path, samples, target, title)
    else:
        _one_dimensional(path, samples, target, title, z)


def _figure(width: float, height: float):  # noqa: ANN202 (matplotlib types)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _scatter(path: Path, points: np.ndarray, target: GaussianMixture2D, title: str) -> None:
    figure = _figure(5.0, 5.0)
    axis = figure.subplots()
    modes = target.modes
    margin = 0.5 if target.name == "ring" else 1.0
    low, high = modes.min() - margin, modes.max() + margin
    for mode in modes:
        axis.add_patch(_circle(mode, 3 * target.std))
    axis.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, color="tab:blue")
    axis.scatter(modes[:, 0], modes[:, 1], s=12, marker="x", color="tab:red")
    axis.set_xlim(low, high)
    axis.set_ylim(low, high)
    axis.set_aspect("equal")
    axis.set_title(title)
    figure.tight_layout()
    figure.savefig(path, format="png")


def _circle(centre: np.ndarray, radius: float):  # noqa: ANN202
    from matplotlib.patches import Circle

    return Circle(tuple(centre), radius, fill=False, color="tab:red", linewidth=0.5)


def _one_dimensional(
    path: Path, values: np.ndarray, target: Gaussian1D, title: str, z: np.ndarray | None
) -> None:
    figure = _figure(9.0, 3.6)
    left, right = figure.subplots(1, 2)
    values = values.reshape(-1)
    span = np.linspace(target.mean - 4 * target.std, target.mean + 4 * target.std, 300)
    density = np.exp(-0.5 * ((span - target.mean) / target.std) ** 2)
    density /= target.std * math.sqrt(2 * math.pi)
    # The histogram's range covers the samples too: early samples may lie far off target.
    low, high = min(span[0], values.min()), max(span[-1], values.max())
    left.hist(values, bins=60, range=(low, high), density=True, alpha=0.6, label="G(z)")
    left.plot(span, density, color="tab:red", label="target N(mean, std)")
    left.set_title(f"{title}: mean {values.mean():.3f}, std {values.std():.3f}")
    left.legend(fontsize="small")
    if z is not None:
        u = z.reshape(-1)
        order = np.argsort(u)
        right.plot(u[order], values[order], label="learned G(u)")
        right.plot(u[order], target.inverse_cdf(u[order]), "--", label="inverse CDF F^-1(u)")
        right.set_xlabel("u ~ U(0, 1)")
        right.set_ylim(span[0], span[-1])
        right.legend(fontsize="small")
        right.set_title("noise -> data mapping")
    figure.tight_layout()
    figure.savefig(path, format="png")


def save_animation(frames: Sequence[Path], path: Path) -> None:
    """The snapshot PNGs, in order, as an animated GIF (nothing when there are none)."""
    if frames:
        save_gif(list(frames), path, duration_ms=300)


def save_curves(records: Sequence[dict], path: Path) -> None:
    """Losses, D outputs and V(D,G) against the step, from metrics.jsonl records.

    Single rounds are noisy (one minibatch each): past 200 rounds every curve is a moving
    mean over 1% of the rounds, and the panel titles say so.
    """
    if not records:
        return
    window = max(1, len(records) // 100) if len(records) > 200 else 1
    steps = [record["step"] for record in records][window - 1 :]

    def series(key: str) -> np.ndarray:
        values = np.array([record[key] for record in records], dtype=np.float64)
        return np.convolve(values, np.ones(window) / window, mode="valid")

    suffix = f" (moving mean over {window} rounds)" if window > 1 else ""
    panels = {
        "losses" + suffix: {"D loss": series("d_loss"), "G loss": series("g_loss")},
        "discriminator outputs" + suffix: {
            "mean D(x)": series("d_real"),
            "mean D(G(z))": series("d_fake"),
            "1/2": [0.5] * len(steps),
        },
        "value" + suffix: {
            "V(D,G) (W for wgan-gp)": series("value"),
            "-log 4": [-math.log(4)] * len(steps),
        },
    }
    save_line_plots(path, panels, x=steps)
