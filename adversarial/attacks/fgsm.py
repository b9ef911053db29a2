"""The Fast Gradient Sign Method (Goodfellow et al. 2015), the lecture's attack:

    x + λ · sign(∇x L) ⇒ x*          (the lecture's notation; here λ is called ``eps``,
                                       CleverHans' name for the same step size)

One gradient, one step: under a linear model f(x) = wᵀx the loss changes by
ε · ‖w‖₁ — it grows with the input dimension, which is why a perturbation invisible per
pixel moves a 784-pixel (or 150,528-pixel) input far. The same step with the L2 norm
(``norm=2``) is the "fast gradient method": x* = x + ε · g / ‖g‖₂.
"""

from __future__ import annotations

import math

import minigrad as mg
from adversarial.attacks.arguments import Norm, check_eps, check_images, check_norm
from adversarial.attacks.objective import Model, labels_or_predictions, loss_gradient


def per_example_norm(v: mg.Tensor, p: float) -> mg.Tensor:
    """‖v_n‖_p of each example, shaped (N, 1, 1, ...) to broadcast against v."""
    flat = v.reshape(v.shape[0], -1)
    norms = flat.abs().amax(dim=1) if p == math.inf else flat.norm(p=p, dim=1)
    return norms.reshape(v.shape[0], *([1] * (v.ndim - 1)))


def gradient_step(grad: mg.Tensor, step: float, norm: float) -> mg.Tensor:
    """The steepest-ascent step of size ``step`` in the given norm, per example.

    L∞: step · sign(g)      (maximises gᵀδ over ‖δ‖∞ <= step)
    L2: step · g / ‖g‖₂     (maximises gᵀδ over ‖δ‖₂ <= step; 0 where g = 0)
    """
    if norm == math.inf:
        return grad.sign() * step
    length = per_example_norm(grad, 2.0)
    # A zero gradient has no direction: leave that example where it is.
    safe = mg.where(length > 0, length, mg.ones_like(length))
    return grad / safe * step


def clip_to_box(x: mg.Tensor, clip_min: float | None, clip_max: float | None) -> mg.Tensor:
    """Clamp into the valid input range [clip_min, clip_max] (either bound may be None)."""
    if clip_min is None and clip_max is None:
        return x
    return x.clamp(clip_min, clip_max)


def fgsm(
    model: Model,
    x: mg.Tensor,
    y: mg.Tensor | None = None,
    *,
    eps: float,
    norm: Norm = math.inf,
    clip_min: float | None = None,
    clip_max: float | None = None,
    targeted: bool = False,
) -> mg.Tensor:
    """x* = clip(x + ε · sign(∇x L(x, y)))          untargeted, L∞;
    x* = clip(x − ε · sign(∇x L(x, t)))             targeted (y = t is the target);
    x* = clip(x ± ε · ∇x L / ‖∇x L‖₂)               ``norm=2``.

    ``y=None`` attacks the model's own predictions. ``eps=0`` returns a copy of x.
    ``model`` must return logits (N, classes). The result carries no graph.
    """
    eps = check_eps(eps)
    p = check_norm(norm)
    check_images(x, clip_min, clip_max)
    if targeted and y is None:
        raise ValueError("a targeted attack needs y: the target class of each example")
    if eps == 0:
        return x.detach().clone()
    labels = labels_or_predictions(model, x, y)
    grad, _ = loss_gradient(model, x, labels, targeted)
    with mg.no_grad():
        return clip_to_box(x.detach() + gradient_step(grad, eps, p), clip_min, clip_max)
