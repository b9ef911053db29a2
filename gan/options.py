"""What a GAN training run is configured by: one dataclass, with defaults per data set.

Fields left at ``None`` take the default of the chosen ``data`` from ``DATA_DEFAULTS``
(``resolve`` fills them in); anything given explicitly wins. The resolved options are
what ``config.json`` and every checkpoint record, so a run folder says exactly how it
was made and ``sample``/``evaluate`` can rebuild the generator from a checkpoint alone.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from gan.learning_round import LOSSES
from gan.remedies import REMEDIES
from minigrad.divergence import check_learning_rate

IMAGE_DATA = ("fashion-mnist", "mnist")
TOY_DATA = ("ring", "grid", "gaussian-1d")
DATA = IMAGE_DATA + TOY_DATA

# The image defaults are sized for the 2-core CPU this project is developed on (see
# docs/results.md, section GAN, for the measured time). The toy defaults follow the usual
# mode-collapse protocol (2-D latent, MLPs, large batches); k = 2 D-steps and a linear
# learning-rate decay sharpen the modes (measured in gan/experiments/mode_coverage.py).
_SHARED = dict(beta1=0.5, lr_decay="constant", d_steps=1)
_IMAGE = dict(
    _SHARED,
    steps=6000,
    batch_size=64,
    z_dim=64,
    g_width=64,
    d_width=64,
    lr_g=2e-4,
    lr_d=2e-4,
    sample_every=250,
    checkpoint_every=500,
)
_MIXTURE = dict(
    _SHARED,
    batch_size=256,
    z_dim=2,
    g_width=128,
    d_width=128,
    lr_g=1e-3,
    lr_d=1e-3,
    d_steps=2,
    lr_decay="linear",
    checkpoint_every=1000,
)
DATA_DEFAULTS: dict[str, dict[str, Any]] = {
    "fashion-mnist": _IMAGE,
    "mnist": _IMAGE,
    "ring": dict(_MIXTURE, steps=6000, sample_every=500),
    # 20,000 rounds, not 10,000: the longer lr decay sharpens the 25 modes and thins the
    # bridges between them (high-quality samples 80% -> 95% with the remedy, 5 seeds).
    "grid": dict(_MIXTURE, steps=20000, sample_every=500),
    # k = 5: with one D-step per G-step D lags behind and goes flat (D = 1/2 everywhere)
    # while G's spread is still wrong; five keep D near its optimum (gan/experiments).
    "gaussian-1d": dict(
        _SHARED,
        d_steps=5,
        lr_decay="linear",
        steps=1000,
        batch_size=256,
        z_dim=1,
        g_width=32,
        d_width=32,
        lr_g=1e-3,
        lr_d=1e-3,
        sample_every=100,
        checkpoint_every=500,
    ),
}
LR_DECAYS = ("constant", "linear")


@dataclass
class TrainOptions:
    """Options of ``python -m gan train``; ``None`` means "the data set's default"."""

    data: str = "fashion-mnist"  # fashion-mnist | mnist | ring | grid | gaussian-1d
    out: str = "runs/gan"  # run folder
    steps: int | None = None  # learning rounds (= generator updates)
    batch_size: int | None = None
    z_dim: int | None = None  # latent size (the 1-D toy uses z ~ U(0, 1) of size 1)
    g_width: int | None = None  # generator width (DCGAN: channels of the last hidden map)
    d_width: int | None = None  # discriminator width (DCGAN: channels of the first conv)
    image_size: int = 28  # 28 or 32 (images are zero-padded to 32)
    loss: str = "nonsaturating"  # nonsaturating | minimax | wgan-gp
    d_steps: int | None = None  # k: discriminator steps per generator step
    gp_weight: float = 10.0  # lambda of the WGAN-GP penalty
    remedy: str = "none"  # none | minibatch-discrimination | minibatch-stddev
    g_batch_norm: bool = False  # BatchNorm in the toy MLP generator (DCGAN's G always has it)
    stddev_group: int = 4  # group size of the minibatch-stddev layer
    lr_g: float | None = None
    lr_d: float | None = None
    beta1: float | None = None  # Adam beta1 (0.5 as in DCGAN)
    beta2: float = 0.999
    lr_decay: str | None = None  # constant | linear (to 0 at the last step)
    seed: int = 0
    sample_every: int | None = None  # steps between sample snapshots
    checkpoint_every: int | None = None  # steps between checkpoints
    keep_checkpoints: int = 2  # newest checkpoints kept on disk
    device: str = "cpu"
    progress: bool = True  # show a progress bar

    @property
    def is_image(self) -> bool:
        return self.data in IMAGE_DATA


def resolve(options: TrainOptions) -> TrainOptions:
    """A copy with the data set's defaults filled in, checked for consistency."""
    if options.data not in DATA:
        raise ValueError(f"data must be one of {DATA}, got {options.data!r}")
    filled = {
        name: value
        for name, value in DATA_DEFAULTS[options.data].items()
        if getattr(options, name) is None
    }
    resolved = replace(options, **filled)
    _check(resolved)
    return resolved


def _check(options: TrainOptions) -> None:
    positive = (
        "steps",
        "batch_size",
        "z_dim",
        "g_width",
        "d_width",
        "d_steps",
        "sample_every",
        "checkpoint_every",
        "keep_checkpoints",
        "stddev_group",
    )
    for name in positive:
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if options.loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {options.loss!r}")
    if options.lr_decay not in LR_DECAYS:
        raise ValueError(f"lr_decay must be one of {LR_DECAYS}, got {options.lr_decay!r}")
    if options.remedy not in REMEDIES:
        raise ValueError(f"remedy must be one of {REMEDIES}, got {options.remedy!r}")
    if options.image_size not in (28, 32):
        raise ValueError(f"image_size must be 28 or 32, got {options.image_size!r}")
    if isinstance(options.seed, bool) or not isinstance(options.seed, int) or options.seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {options.seed!r}")
    for name in ("lr_g", "lr_d"):
        check_learning_rate(name, getattr(options, name))
    if not 0 < options.gp_weight < math.inf:
        raise ValueError(f"gp_weight must be a finite number > 0, got {options.gp_weight!r}")
    for name in ("beta1", "beta2"):
        if not 0 <= getattr(options, name) < 1:
            raise ValueError(f"{name} must be in [0, 1), got {getattr(options, name)!r}")
    if options.data == "gaussian-1d" and options.z_dim != 1:
        raise ValueError("gaussian-1d maps z ~ U(0, 1) of size 1: z_dim must be 1")
    if options.remedy == "minibatch-stddev" and options.batch_size % min(
        options.stddev_group, options.batch_size
    ):
        raise ValueError(
            f"batch_size {options.batch_size} must be divisible by stddev_group "
            f"{options.stddev_group}"
        )


def options_to_dict(options: TrainOptions) -> dict[str, Any]:
    return asdict(options)


def options_from_dict(values: dict[str, Any]) -> TrainOptions:
    """Rebuild options saved by ``options_to_dict`` (unknown keys are an error)."""
    known = {field.name for field in fields(TrainOptions)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown training options {unknown}; known are {sorted(known)}")
    return TrainOptions(**values)
