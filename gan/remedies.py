"""Remedies for mode collapse: discriminator layers that look at the whole minibatch.

The lecture's solution: "extend the discriminator with additional terms to measure the
diversity of the outputs produced. If the outputs are all the same, or nearly the same,
the discriminator can assign a larger error to the result." A discriminator that sees
one example at a time cannot tell that a generator answers every z with the same
picture; both layers below append to each example's features a statistic of the
*batch* it came in, so a collapsed batch looks different from a real one.

Both are ordinary Modules: put one just before the discriminator's last layer.
"""

from __future__ import annotations

import minigrad as mg
from gan.pairwise_closeness import pairwise_l1_closeness
from minigrad import Tensor, nn


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. 2016, "Improved Techniques for Training GANs", section 3.2.

    For features f(x_i) in R^A a learned tensor T in R^{A x B x C} gives M_i = f(x_i) T,
    B rows of length C. For each row b:

        c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1),   o(x_i)_b = sum_{j != i} c_b(x_i, x_j)

    and the layer outputs [f(x_i), o(x_i)] in R^{A+B}: the o-features count how many
    other examples of the batch sit close to x_i. A collapsed fake batch has large o
    (every fake has many near-twins), a real batch does not, and D learns the difference.
    Input (N, A) or (N, C, H, W) (flattened to A = C*H*W); output (N, A + B).
    """

    def __init__(self, in_features: int, num_kernels: int = 16, kernel_dim: int = 8) -> None:
        super().__init__()
        for name, value in (
            ("in_features", in_features),
            ("num_kernels", num_kernels),
            ("kernel_dim", kernel_dim),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.in_features = in_features
        self.num_kernels = num_kernels
        self.kernel_dim = kernel_dim
        # Salimans et al. initialise T with small normal noise; 0.1 keeps the L1
        # distances O(1) for unit-scale features so that exp(-d) is neither 0 nor 1.
        self.T = nn.Parameter(mg.randn(in_features, num_kernels * kernel_dim) * 0.1)

    @property
    def out_features(self) -> int:
        return self.in_features + self.num_kernels

    def forward(self, x: Tensor) -> Tensor:
        features = x.flatten(1) if x.ndim > 2 else x
        if features.ndim != 2 or features.shape[1] != self.in_features:
            raise ValueError(
                f"MinibatchDiscrimination expects (N, {self.in_features}) features "
                f"(or images that flatten to that), got {x.shape}"
            )
        rows = (features @ self.T).reshape(features.shape[0], self.num_kernels, self.kernel_dim)
        closeness = pairwise_l1_closeness(rows)  # (N, B); the formula: gan/pairwise_closeness.py
        return mg.cat([features, closeness], 1)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, num_kernels={self.num_kernels}, "
            f"kernel_dim={self.kernel_dim}"
        )


class MinibatchStdDev(nn.Module):
    """Karras et al. 2018 (progressive GANs), section 3: one feature of batch diversity.

    Split the batch into groups of ``group_size`` examples (example n is in group
    n mod (N / group_size)); within each group take the standard deviation of every
    feature over the group's examples, average those over all features, and append that
    single number as one extra constant channel (images) or feature (vectors):

        s_g = mean_features sqrt(Var_{n in g}(x_n) + 1e-8),   y_n = [x_n, s_{g(n)}]

    A collapsed generator makes s small for fake groups; D reads it off directly. No
    parameters. Input (N, F) -> (N, F + 1); (N, C, H, W) -> (N, C + 1, H, W). N must be
    divisible by ``group_size`` (or smaller than it: then the group is the whole batch).
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 2:
            raise ValueError(f"group_size must be an int >= 2, got {group_size!r}")
        self.group_size = group_size

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (2, 4):
            raise ValueError(f"MinibatchStdDev expects (N, F) or (N, C, H, W), got {x.shape}")
        count = x.shape[0]
        group = min(self.group_size, count)
        if count % group != 0:
            raise ValueError(
                f"MinibatchStdDev: batch size {count} is not divisible by group_size {group}"
            )
        groups = count // group
        grouped = x.reshape(group, groups, *x.shape[1:])  # example n -> group n % groups
        centred = grouped - grouped.mean(dim=0, keepdim=True)
        spread = ((centred**2).mean(dim=0) + 1e-8).sqrt()  # (groups, ...)
        per_group = spread.flatten(1).mean(dim=1)  # (groups,)
        # Example n of the batch reads its group's statistic, index n % groups.
        per_example = per_group.reshape(1, groups).expand(group, groups).reshape(count, 1)
        if x.ndim == 4:
            height, width = x.shape[2], x.shape[3]
            per_example = per_example.reshape(count, 1, 1, 1).expand(count, 1, height, width)
        return mg.cat([x, per_example], 1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}"


REMEDIES = ("none", "minibatch-discrimination", "minibatch-stddev")


def diversity_layer(
    remedy: str, feature_shape: tuple[int, ...], stddev_group: int = 4
) -> tuple[nn.Module | None, int]:
    """The remedy layer for features of ``feature_shape`` (without the batch dimension).

    Returns ``(layer or None, number of features per example after it, flattened)``, so
    the caller can size the discriminator's last Linear. ``remedy`` is one of
    ``REMEDIES``.
    """
    flat = 1
    for size in feature_shape:
        flat *= size
    if remedy == "none":
        return None, flat
    if remedy == "minibatch-discrimination":
        layer = MinibatchDiscrimination(flat)
        return layer, layer.out_features
    if remedy == "minibatch-stddev":
        per_position = flat // feature_shape[0] if len(feature_shape) == 3 else 1
        return MinibatchStdDev(stddev_group), flat + per_position
    raise ValueError(f"remedy must be one of {REMEDIES}, got {remedy!r}")
