"""What a progressive-growing run is configured by: one dataclass, sized for a 2-core CPU.

The defaults take ``python -m gan grow --data fashion-mnist`` from 4x4 to 32x32 through
48,000 images in about 15 minutes on this project's shared 2-core machine, evaluation
included (measured with ``OPENBLAS_NUM_THREADS=1``; see docs/results.md, "Progressive
growing"). The paper's hyper-parameters are kept where they do not depend on scale:
lr 0.001, Adam betas (0, 0.99), lambda 10, eps_drift 0.001, n_critic 1, minibatch stddev
groups of 4. What does depend on scale is smaller: 6,000 images per phase instead of
800,000, and 64..16 feature maps instead of 512..16.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from gan.progressive.architecture import ProgressiveArchitecture
from gan.progressive.schedule import GrowthSchedule
from minigrad.divergence import check_learning_rate

DATA = ("fashion-mnist", "mnist")


@dataclass
class GrowOptions:
    """Options of ``python -m gan grow``."""

    data: str = "fashion-mnist"  # fashion-mnist | mnist (28x28, padded to 32x32)
    out: str = "runs/grow"  # run folder
    resolutions: tuple[int, ...] = (4, 8, 16, 32)  # grown through in order; (32,) = direct
    widths: tuple[int, ...] = (64, 64, 32, 16)  # feature maps at 4, 8, 16, 32 px
    z_dim: int = 64
    batch_size: int = 32
    images_per_phase: int = 6000  # images shown per fade-in and per stabilisation
    final_images: int | None = 12000  # the last stabilisation at full size (None: one phase)
    lr: float = 1e-3
    beta1: float = 0.0
    beta2: float = 0.99
    gp_weight: float = 10.0  # lambda
    drift_weight: float = 0.001  # eps_drift
    stddev_group: int = 4
    ema_half_life_images: float = 1000.0  # the average of G forgets half in this many images
    checkpoint_every: int = 100  # rounds between checkpoints
    keep_checkpoints: int = 2
    eval_samples: int = 2000  # generated images per evaluation (0: no evaluation)
    train_examples: int | None = None  # use only the first n training images (None: all)
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        self.resolutions = tuple(self.resolutions)
        self.widths = tuple(self.widths)
        if self.data not in DATA:
            raise ValueError(f"data must be one of {DATA}, got {self.data!r}")
        positive = ("z_dim", "batch_size", "checkpoint_every", "keep_checkpoints")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("eval_samples", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        if self.train_examples is not None and (
            not isinstance(self.train_examples, int) or self.train_examples < self.batch_size
        ):
            raise ValueError(
                f"train_examples must be None or an int >= batch_size, got {self.train_examples!r}"
            )
        check_learning_rate("lr", self.lr)
        for name in ("gp_weight", "ema_half_life_images"):
            if not 0 < getattr(self, name) < math.inf:
                raise ValueError(f"{name} must be a finite number > 0, got {getattr(self, name)!r}")
        if not 0 <= self.drift_weight < math.inf:
            raise ValueError(
                f"drift_weight must be a finite number >= 0, got {self.drift_weight!r}"
            )
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        if self.batch_size % min(self.stddev_group, self.batch_size):
            raise ValueError(
                f"batch_size {self.batch_size} must be divisible by stddev_group "
                f"{self.stddev_group} (the minibatch stddev layer groups the batch)"
            )
        architecture = self.architecture()  # checks widths and the sizes
        schedule = self.schedule()  # checks resolutions and phase lengths
        unknown = [r for r in schedule.resolutions if r not in architecture.resolutions]
        if unknown or schedule.resolutions[-1] != architecture.max_resolution:
            raise ValueError(
                f"resolutions {schedule.resolutions} must be consecutive levels of the "
                f"architecture {architecture.resolutions} ending at its largest, "
                f"{architecture.max_resolution}"
            )

    def architecture(self) -> ProgressiveArchitecture:
        return ProgressiveArchitecture(
            z_dim=self.z_dim, image_channels=1, widths=self.widths, stddev_group=self.stddev_group
        )

    def schedule(self) -> GrowthSchedule:
        return GrowthSchedule(self.resolutions, self.images_per_phase, self.final_images)


def options_to_dict(options: GrowOptions) -> dict[str, Any]:
    return asdict(options)


def options_from_dict(values: dict[str, Any]) -> GrowOptions:
    """Rebuild options saved by ``options_to_dict`` (unknown keys are an error)."""
    known = {field.name for field in fields(GrowOptions)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown grow options {unknown}; known are {sorted(known)}")
    return GrowOptions(**values)
