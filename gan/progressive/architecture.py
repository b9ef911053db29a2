"""The shape of a progressive GAN: which resolutions it grows through, how wide each is.

Level k of either network works at resolution 4 * 2^k pixels with ``widths[k]`` feature
maps; the networks start at level 0 (4x4) and grow one level at a time up to
``max_resolution = 4 * 2^(len(widths) - 1)``. As in the paper, the maps get narrower as
the resolution rises, so every level costs roughly the same compute.
"""

from __future__ import annotations

from dataclasses import dataclass

START_RESOLUTION = 4


@dataclass(frozen=True)
class ProgressiveArchitecture:
    """Sizes shared by the growing generator and discriminator.

    ``widths[k]``: feature maps at resolution 4 * 2^k (default 4, 8, 16, 32 px).
    ``stddev_group``: group size of the discriminator's minibatch standard-deviation layer.
    """

    z_dim: int = 64
    image_channels: int = 1
    widths: tuple[int, ...] = (64, 64, 32, 16)
    stddev_group: int = 4

    def __post_init__(self) -> None:
        for name in ("z_dim", "image_channels", "stddev_group"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        widths = tuple(self.widths)
        if not widths or not all(
            isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths
        ):
            raise ValueError(
                f"widths must be a non-empty sequence of positive ints, got {widths!r}"
            )
        object.__setattr__(self, "widths", widths)

    @property
    def resolutions(self) -> tuple[int, ...]:
        """(4, 8, 16, ...): the resolution of each level."""
        return tuple(START_RESOLUTION * 2**level for level in range(len(self.widths)))

    @property
    def max_resolution(self) -> int:
        return self.resolutions[-1]

    def level_of(self, resolution: int) -> int:
        """k such that resolution = 4 * 2^k, or a ValueError naming the allowed ones."""
        if resolution not in self.resolutions:
            raise ValueError(f"resolution must be one of {self.resolutions}, got {resolution!r}")
        return self.resolutions.index(resolution)
