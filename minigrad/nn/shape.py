"""Flatten and Unflatten: reshape layers for moving between conv maps and vectors."""

from __future__ import annotations

import math

from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class Flatten(Module):
    """Merge dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: (N, C*H*W) -> (N, C, H, W) with dim=1.

    One entry of ``unflattened_size`` may be -1 and is then inferred, as in reshape.
    """

    def __init__(self, dim: int, unflattened_size: tuple[int, ...] | list[int]):
        super().__init__()
        sizes = tuple(unflattened_size)
        if (
            not sizes
            or not all(isinstance(s, int) and (s > 0 or s == -1) for s in sizes)
            or sizes.count(-1) > 1
        ):
            raise ValueError(
                "unflattened_size must be a non-empty tuple of positive ints "
                f"(at most one -1), got {unflattened_size!r}"
            )
        self.dim = int(dim)
        self.unflattened_size = sizes

    def forward(self, x: Tensor) -> Tensor:
        if not -x.ndim <= self.dim < x.ndim:
            raise ValueError(f"dim {self.dim} is out of range for input of shape {x.shape}")
        dim = self.dim % x.ndim
        size = x.shape[dim]
        known = math.prod(s for s in self.unflattened_size if s != -1)
        inferable = -1 in self.unflattened_size and size % known == 0
        if math.prod(self.unflattened_size) != size and not inferable:
            raise ValueError(
                f"unflattened_size {self.unflattened_size} does not match size {size} "
                f"of dim {self.dim} in input of shape {tuple(x.shape)}"
            )
        return x.reshape(*x.shape[:dim], *self.unflattened_size, *x.shape[dim + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
