"""An exponential moving average of the generator's weights, used for sampling.

    theta_avg <- beta * theta_avg + (1 - beta) * theta        after every G step

GAN training oscillates: G chases a moving D, and its weights at any one step carry
that step's noise. The running average smooths the oscillation out, and the paper's
samples (like ours) come from the averaged copy, which is never trained itself.

``beta`` comes from a half-life counted in images shown, beta = 0.5^(batch / half_life),
so the averaging window means the same thing whatever the batch size. When the
networks grow, the average grows too and its new layers start as copies of G's.
"""

from __future__ import annotations

from minigrad import nn
from minigrad.autograd import no_grad


def ema_decay(batch_size: int, half_life_images: float) -> float:
    """beta = 0.5^(batch_size / half_life_images): the weight of the old average per step."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if not half_life_images > 0:
        raise ValueError(f"half_life_images must be a positive number, got {half_life_images!r}")
    return 0.5 ** (batch_size / half_life_images)


def _matched_parameters(average: nn.Module, model: nn.Module) -> list[tuple]:
    ours = dict(average.named_parameters())
    theirs = dict(model.named_parameters())
    if set(ours) != set(theirs):
        raise ValueError(
            "the average and the model must have the same parameters; differing: "
            f"{sorted(set(ours) ^ set(theirs))}"
        )
    return [(ours[name], theirs[name]) for name in theirs]


def update_average(average: nn.Module, model: nn.Module, decay: float) -> None:
    """theta_avg <- decay * theta_avg + (1 - decay) * theta, for every parameter, in place."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"decay must be in [0, 1], got {decay!r}")
    with no_grad():
        for averaged, current in _matched_parameters(average, model):
            averaged.mul_(decay).add_(current, alpha=1.0 - decay)


def copy_new_layers(average: nn.Module, model: nn.Module, known: set[str]) -> None:
    """Copy into ``average`` the parameters of ``model`` whose names are not in ``known``.

    Called right after both grew: the layers they already had keep their average, the
    layers just added start from the generator's fresh weights.
    """
    with no_grad():
        for name, (averaged, current) in zip(
            dict(model.named_parameters()), _matched_parameters(average, model), strict=True
        ):
            if name not in known:
                averaged.copy_(current)
