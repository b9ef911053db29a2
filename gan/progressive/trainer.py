"""The progressive trainer: one object holding G, D, the average of G and both Adams,
stepping through the growth schedule one round at a time.

    round:
        phase, alpha <- schedule at images_shown
        if phase is at a new resolution: grow G, D and avg(G); new Adams (state reset)
        D step then G step at alpha (wgan_gp.progressive_round)
        avg(G) <- beta avg(G) + (1 - beta) G
        images_shown += batch size

Why reset Adam when growing: its moment estimates belong to the old network's loss
surface, and the new layers have none; the paper starts every resolution afresh.

``state()`` is everything a resumed run needs (minigrad.runs.capture_training_state plus
images_shown, alpha and the number of levels); ``ProgressiveTrainer.restore`` rebuilds the
networks at the saved size before loading into them, so a run killed mid-fade goes on
with the same alpha and the same numbers.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from gan.progressive.data import PyramidBatches
from gan.progressive.discriminator import GrowingDiscriminator
from gan.progressive.ema import copy_new_layers, ema_decay, update_average
from gan.progressive.generator import GrowingGenerator
from gan.progressive.options import GrowOptions
from gan.progressive.schedule import Phase
from gan.progressive.wgan_gp import progressive_round
from minigrad import optim
from minigrad.runs import capture_training_state, restore_training_state


class ProgressiveTrainer:
    """G, D, avg(G), their Adams and the real-image batches of one progressive run.

    ``pyramid`` maps each resolution of ``options.resolutions`` to real images (N, 1, r, r)
    in [-1, 1] (gan.progressive.data.pixels_to_pyramid).
    """

    def __init__(self, options: GrowOptions, pyramid: dict[int, np.ndarray]) -> None:
        self.options = options
        self.architecture = options.architecture()
        self.schedule = options.schedule()
        missing = [r for r in self.schedule.resolutions if r not in pyramid]
        if missing:
            raise ValueError(f"pyramid has no images at resolutions {missing}")
        levels = self.architecture.level_of(self.schedule.resolutions[0]) + 1
        self.generator = GrowingGenerator(self.architecture, levels)
        self.discriminator = GrowingDiscriminator(self.architecture, levels)
        self.generator_ema = GrowingGenerator(self.architecture, levels)
        copy_new_layers(self.generator_ema, self.generator, known=set())
        self.generator_ema.requires_grad_(False)
        self.batches = PyramidBatches(
            {r: pyramid[r] for r in self.schedule.resolutions}, options.batch_size, options.seed
        )
        self.decay = ema_decay(options.batch_size, options.ema_half_life_images)
        self.images_shown = 0
        self.step = 0
        self._new_optimizers()

    # ------------------------------------------------------------ growth
    def _new_optimizers(self) -> None:
        betas = (self.options.beta1, self.options.beta2)
        lr = self.options.lr
        self.g_optimizer = optim.Adam(self.generator.parameters(), lr=lr, betas=betas)
        self.d_optimizer = optim.Adam(self.discriminator.parameters(), lr=lr, betas=betas)

    def grow(self) -> None:
        """Add a level to G, D and avg(G) (old layers kept), and start fresh Adams."""
        known = {name for name, _ in self.generator.named_parameters()}
        self.generator.grow()
        self.discriminator.grow()
        self.generator_ema.grow()
        copy_new_layers(self.generator_ema, self.generator, known)
        self.generator_ema.requires_grad_(False)
        self._new_optimizers()

    @property
    def phase(self) -> Phase:
        return self.schedule.phase_at(self.images_shown)

    @property
    def alpha(self) -> float:
        return self.schedule.alpha_at(self.images_shown)

    @property
    def resolution(self) -> int:
        """The resolution the networks work at now."""
        return self.generator.resolution

    @property
    def finished(self) -> bool:
        return self.images_shown >= self.schedule.total_images

    # ------------------------------------------------------------ training
    def train_round(self) -> dict[str, Any]:
        """One D step and one G step at the schedule's phase and alpha; returns its record."""
        phase = self.phase
        alpha = phase.alpha(self.images_shown)
        while self.generator.resolution < phase.resolution:
            self.grow()
        real = self.batches.next_batch(phase.resolution)
        metrics = progressive_round(
            self.generator,
            self.discriminator,
            self.g_optimizer,
            self.d_optimizer,
            real,
            alpha,
            self.options.gp_weight,
            self.options.drift_weight,
        )
        update_average(self.generator_ema, self.generator, self.decay)
        self.images_shown += real.shape[0]
        self.step += 1
        return {
            "step": self.step,
            "images_shown": self.images_shown,
            "resolution": phase.resolution,
            "phase": phase.kind,
            "alpha": alpha,
            **asdict(metrics),
        }

    # ------------------------------------------------------------ checkpoints
    def state(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """A checkpoint dict (see minigrad.runs) with images_shown, alpha and levels."""
        return capture_training_state(
            self.step,
            models={
                "generator": self.generator,
                "discriminator": self.discriminator,
                "generator_ema": self.generator_ema,
            },
            optimizers={"generator": self.g_optimizer, "discriminator": self.d_optimizer},
            loaders={"reals": self.batches.loader},
            extra={
                "images_shown": self.images_shown,
                "alpha": self.alpha,
                "levels": self.generator.levels,
                **(extra or {}),
            },
        )

    @classmethod
    def restore(
        cls, options: GrowOptions, pyramid: dict[int, np.ndarray], state: dict[str, Any]
    ) -> ProgressiveTrainer:
        """A trainer continuing from ``state()``: grown to the saved size, then loaded."""
        trainer = cls(options, pyramid)
        saved = state["extra"]
        while trainer.generator.levels < int(saved["levels"]):
            trainer.grow()  # draws random weights; all overwritten below, RNG included
        trainer.step = restore_training_state(
            state,
            models={
                "generator": trainer.generator,
                "discriminator": trainer.discriminator,
                "generator_ema": trainer.generator_ema,
            },
            optimizers={"generator": trainer.g_optimizer, "discriminator": trainer.d_optimizer},
            loaders={"reals": trainer.batches.loader},
        )
        trainer.images_shown = int(saved["images_shown"])
        if trainer.alpha != float(saved["alpha"]):
            raise ValueError(
                f"the checkpoint was taken at alpha={saved['alpha']} but these options' "
                f"schedule gives alpha={trainer.alpha} at {trainer.images_shown} images: "
                "resume with the options the run was started with"
            )
        return trainer
