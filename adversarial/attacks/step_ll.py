"""Step-LL and Iterative-LL (Kurakin et al. 2017): aim at the least-likely class.

    y_LL = argmin_c f(x)_c,        x* = clip(x − ε · sign(∇x L(x, y_LL)))

A targeted FGSM toward the class the model believes least. For many classes (ImageNet's
1000) this moves the input much further from every plausible label than pushing the true
class down does, and it needs no label. Kurakin et al. found one-step attacks like this
the ones that adversarial training with one-step examples defends best against.
"""

from __future__ import annotations

import math

import minigrad as mg
from adversarial.attacks.arguments import Norm, check_images
from adversarial.attacks.fgsm import fgsm
from adversarial.attacks.objective import Model, least_likely_labels
from adversarial.attacks.pgd import bim


def step_ll(
    model: Model,
    x: mg.Tensor,
    *,
    eps: float,
    norm: Norm = math.inf,
    clip_min: float | None = None,
    clip_max: float | None = None,
) -> mg.Tensor:
    """x* = clip(x − ε · sign(∇x L(x, y_LL))), y_LL = argmin_c f(x)_c (one step)."""
    check_images(x, clip_min, clip_max)
    target = least_likely_labels(model, x)
    return fgsm(
        model, x, target, eps=eps, norm=norm, clip_min=clip_min, clip_max=clip_max, targeted=True
    )


def iterative_ll(
    model: Model,
    x: mg.Tensor,
    *,
    eps: float,
    step_size: float | None = None,
    steps: int | None = None,
    norm: Norm = math.inf,
    clip_min: float | None = None,
    clip_max: float | None = None,
) -> mg.Tensor:
    """x^{k+1} = clip_{x, ε}(x^k − α · sign(∇x L(x^k, y_LL))), y_LL fixed from the clean x.

    The targeted BIM toward the least-likely class, with Kurakin et al.'s α and step count
    unless given.
    """
    check_images(x, clip_min, clip_max)
    target = least_likely_labels(model, x)
    return bim(
        model,
        x,
        target,
        eps=eps,
        step_size=step_size,
        steps=steps,
        norm=norm,
        clip_min=clip_min,
        clip_max=clip_max,
        targeted=True,
    )
