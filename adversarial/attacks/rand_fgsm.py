"""R+FGSM (Tramèr et al. 2018, "Ensemble Adversarial Training"): a random step, then FGSM.

    x' = x + α · sign(N(0, I))
    x* = clip(x' + (ε − α) · sign(∇x' L(x', y)))

A model trained with one-step adversarial examples learns to bend its loss surface near
the data points, so that the gradient *at x* points nowhere useful (gradient masking):
FGSM from x is weak against it, yet the model is not robust. Tramèr et al. step off the
data point first, by α in a random sign direction, where the loss is still close to
linear, and spend the rest of the budget, ε − α, on the gradient step. The result stays
in the L∞ ball of radius ε around x (|α| + |ε − α| = ε). They use α = ε / 2.

The lecture's list of attacks after Goodfellow 2015 credits Tramèr et al. with the
I-FGSM line; this is their single-step contribution.
"""

from __future__ import annotations

import minigrad as mg
from adversarial.attacks.arguments import check_eps, check_images
from adversarial.attacks.fgsm import clip_to_box, fgsm
from adversarial.attacks.objective import Model, labels_or_predictions


def rand_fgsm(
    model: Model,
    x: mg.Tensor,
    y: mg.Tensor | None = None,
    *,
    eps: float,
    alpha: float | None = None,
    clip_min: float | None = None,
    clip_max: float | None = None,
) -> mg.Tensor:
    """x* = clip(x' + (ε − α) · sign(∇x' L(x', y))), x' = clip(x + α · sign(N(0, I))).

    ``alpha`` defaults to ε / 2 and must lie in [0, ε) (α = 0 is FGSM). ``y=None``
    attacks the model's own predictions on the clean x. The random signs come from
    minigrad's seeded generator (``mg.manual_seed``). The result carries no graph.
    """
    eps = check_eps(eps)
    alpha = eps / 2 if alpha is None else check_eps(alpha, "alpha")
    if eps > 0 and alpha >= eps:
        raise ValueError(
            f"alpha ({alpha}) must be smaller than eps ({eps}): the gradient step gets eps - alpha"
        )
    check_images(x, clip_min, clip_max)
    if eps == 0:
        return x.detach().clone()
    labels = labels_or_predictions(model, x, y)  # labels of the clean x, not of x'
    with mg.no_grad():
        random_sign = mg.randn(*x.shape, dtype=x.dtype, device=x.device).sign()
        start = clip_to_box(x.detach() + alpha * random_sign, clip_min, clip_max)
    return fgsm(model, start, labels, eps=eps - alpha, clip_min=clip_min, clip_max=clip_max)
