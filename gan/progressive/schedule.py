"""The growth schedule, counted in images shown to the discriminator.

For resolutions (4, 8, 16, 32) and ``images_per_phase = P`` the phases are

    4x4   stabilise  P
    8x8   fade-in    P   (alpha rises linearly 0 -> 1)     stabilise  P   (alpha = 1)
    16x16 fade-in    P                                     stabilise  P
    32x32 fade-in    P                                     stabilise  final_images

as in Karras et al. 2018 (who show 800k images per phase; a 2-core CPU affords a few
thousand). The first resolution has no fade-in (there is nothing to fade from).
Everything is a pure function of the number of images shown so far, so a resumed run
finds its phase and alpha from one integer in the checkpoint. Past the end, the last
phase simply continues at alpha = 1.

A schedule with a single resolution, e.g. ``GrowthSchedule((32,), P)``, is the *direct*
GAN: no growing, one stabilisation phase at full size.
"""

from __future__ import annotations

from dataclasses import dataclass

from gan.progressive.architecture import START_RESOLUTION

FADE = "fade-in"
STABILISE = "stabilise"


@dataclass(frozen=True)
class Phase:
    """One stretch of training: images ``[start, start + length)`` at ``resolution``."""

    resolution: int
    kind: str  # FADE or STABILISE
    start: int
    length: int

    @property
    def end(self) -> int:
        return self.start + self.length

    def alpha(self, images_shown: int) -> float:
        """Fade-in: alpha = (images_shown - start) / length, clipped to [0, 1]. Else 1."""
        if self.kind != FADE:
            return 1.0
        return min(1.0, max(0.0, (images_shown - self.start) / self.length))


@dataclass(frozen=True)
class GrowthSchedule:
    """Resolutions to grow through and how many images each phase shows (see module doc)."""

    resolutions: tuple[int, ...] = (4, 8, 16, 32)
    images_per_phase: int = 8000
    final_images: int | None = None  # length of the last stabilisation; None: images_per_phase

    def __post_init__(self) -> None:
        resolutions = tuple(self.resolutions)
        if not resolutions or any(
            isinstance(r, bool) or not isinstance(r, int) or r < START_RESOLUTION
            for r in resolutions
        ):
            raise ValueError(f"resolutions must be ints >= {START_RESOLUTION}, got {resolutions!r}")
        if any(
            high != 2 * low for low, high in zip(resolutions[:-1], resolutions[1:], strict=True)
        ):
            raise ValueError(f"resolutions must double at each step, got {resolutions!r}")
        object.__setattr__(self, "resolutions", resolutions)
        for name in ("images_per_phase", "final_images"):
            value = getattr(self, name)
            if value is None and name == "final_images":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")

    def phases(self) -> list[Phase]:
        """Every phase in order (fade-in then stabilise per resolution after the first)."""
        per_phase = self.images_per_phase
        phases: list[Phase] = []
        start = 0
        for index, resolution in enumerate(self.resolutions):
            if index > 0:
                phases.append(Phase(resolution, FADE, start, per_phase))
                start += per_phase
            last = index == len(self.resolutions) - 1
            length = self.final_images if last and self.final_images is not None else per_phase
            phases.append(Phase(resolution, STABILISE, start, length))
            start += length
        return phases

    @property
    def total_images(self) -> int:
        return self.phases()[-1].end

    def phase_at(self, images_shown: int) -> Phase:
        """The phase that image number ``images_shown`` (0-based) falls in."""
        if isinstance(images_shown, bool) or not isinstance(images_shown, int) or images_shown < 0:
            raise ValueError(f"images_shown must be a non-negative int, got {images_shown!r}")
        phases = self.phases()
        for phase in phases:
            if images_shown < phase.end:
                return phase
        return phases[-1]

    def alpha_at(self, images_shown: int) -> float:
        """The fade-in weight for a batch starting at image ``images_shown``."""
        return self.phase_at(images_shown).alpha(images_shown)
