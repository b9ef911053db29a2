"""Iterative attacks: BIM / I-FGSM (Kurakin et al. 2017) and PGD (Madry et al. 2018).

Both repeat the FGSM step with a small step size α and project back after every step:

    x⁰ = x + δ₀,     x^{k+1} = Π_{B_ε(x) ∩ box}( x^k + α · step(∇x L(x^k, y)) )

BIM starts at δ₀ = 0; PGD draws δ₀ uniformly from the ε ball and may restart from several
random points, keeping the strongest result per example. Where FGSM trusts the loss to be
linear over the whole ε ball, the iterative attacks only trust it over α.
"""

from __future__ import annotations

import math

import minigrad as mg
import minigrad.nn.functional as F
from adversarial.attacks.arguments import (
    Norm,
    check_count,
    check_eps,
    check_images,
    check_norm,
    check_step,
)
from adversarial.attacks.fgsm import clip_to_box, gradient_step, per_example_norm
from adversarial.attacks.objective import (
    Model,
    attack_succeeded,
    labels_or_predictions,
    logits_of,
    loss_gradient,
)


def project(
    x_adv: mg.Tensor,
    x: mg.Tensor,
    eps: float,
    norm: float,
    clip_min: float | None = None,
    clip_max: float | None = None,
) -> mg.Tensor:
    """Π: the nearest point of the ε ball around x, then of the box [clip_min, clip_max].

    L∞: clamp each coordinate into [x − ε, x + ε] (the ball is a box, so this and the
    box clamp together are the exact projection onto their intersection).
    L2: δ ← δ · min(1, ε / ‖δ‖₂). Clamping to the box afterwards only moves coordinates
    toward x (x is inside the box), so the result stays inside the ball.
    """
    if norm == math.inf:
        inside = mg.minimum(mg.maximum(x_adv, x - eps), x + eps)
    else:
        delta = x_adv - x
        length = per_example_norm(delta, 2.0)
        scale = mg.minimum(eps / mg.maximum(length, mg.full_like(length, 1e-12)), 1.0)
        inside = x + delta * scale
    return clip_to_box(inside, clip_min, clip_max)


def uniform_in_ball(x: mg.Tensor, eps: float, norm: float) -> mg.Tensor:
    """δ₀ uniform in the ε ball: U(−ε, ε) per coordinate for L∞; for L2 a uniform
    direction z/‖z‖ (z Gaussian) times the radius ε·u^(1/d) (u ~ U(0, 1), d = dims)."""
    if norm == math.inf:
        return (mg.rand_like(x) * 2 - 1) * eps
    direction = mg.randn_like(x)
    direction = direction / per_example_norm(direction, 2.0)
    dims = x[0].numel()
    radius = mg.rand(x.shape[0], *([1] * (x.ndim - 1)), dtype=x.dtype) ** (1.0 / dims)
    return direction * radius * eps


def pgd(
    model: Model,
    x: mg.Tensor,
    y: mg.Tensor | None = None,
    *,
    eps: float,
    step_size: float,
    steps: int,
    norm: Norm = math.inf,
    clip_min: float | None = None,
    clip_max: float | None = None,
    targeted: bool = False,
    random_start: bool = True,
    restarts: int = 1,
) -> mg.Tensor:
    """Projected gradient descent on the loss (ascent for untargeted attacks):

        x^{k+1} = Π_{B_ε(x) ∩ box}( x^k + α · sign(∇x L(x^k, y)) )     (L∞; L2: g/‖g‖₂)

    for ``steps`` steps of size α = ``step_size`` (0 < α <= ε), from a uniform random
    point of the ball (``random_start``) or from x. With ``restarts`` > 1 each example keeps
    the run that succeeded, and among equals the one with the highest loss (lowest target
    loss when targeted). One step of size ε without random start is exactly FGSM.
    """
    eps = check_eps(eps)
    p = check_norm(norm)
    check_images(x, clip_min, clip_max)
    steps = check_count(steps, "steps")
    restarts = check_count(restarts, "restarts")
    if targeted and y is None:
        raise ValueError("a targeted attack needs y: the target class of each example")
    if restarts > 1 and not random_start:
        raise ValueError("restarts > 1 needs random_start=True: every restart would be the same")
    if eps == 0:
        return x.detach().clone()
    step = check_step(step_size, eps)
    labels = labels_or_predictions(model, x, y)
    x = x.detach()
    best = best_success = best_objective = None
    for _ in range(restarts):
        x_adv = x
        if random_start:
            with mg.no_grad():
                x_adv = project(x + uniform_in_ball(x, eps, p), x, eps, p, clip_min, clip_max)
        for _ in range(steps):
            grad, _ = loss_gradient(model, x_adv, labels, targeted)
            with mg.no_grad():
                x_adv = project(x_adv + gradient_step(grad, step, p), x, eps, p, clip_min, clip_max)
        if restarts == 1:
            return x_adv
        best, best_success, best_objective = _keep_stronger(
            model, x_adv, labels, targeted, best, best_success, best_objective
        )
    return best


def _keep_stronger(
    model: Model,
    x_adv: mg.Tensor,
    labels: mg.Tensor,
    targeted: bool,
    best: mg.Tensor | None,
    best_success: mg.Tensor | None,
    best_objective: mg.Tensor | None,
) -> tuple[mg.Tensor, mg.Tensor, mg.Tensor]:
    """Per example, the stronger of the kept point and ``x_adv``: success first, then loss.

    Successes and objectives travel as float tensors (1.0 = success) so the comparison
    is plain arithmetic: better = [s > s_best] + [s = s_best]·[obj > obj_best].
    """
    with mg.no_grad():
        logits = logits_of(model, x_adv)
        loss = F.cross_entropy(logits, labels, reduction="none")
        objective = -loss if targeted else loss
        success = attack_succeeded(logits, labels, targeted).to(x_adv.dtype)
        if best is None:
            return x_adv, success, objective
        wins = (success > best_success).to(x_adv.dtype)
        ties = (success == best_success).to(x_adv.dtype)
        higher = (objective > best_objective).to(x_adv.dtype)
        better = (wins + ties * higher) > 0.5
        per_example = better.reshape(x_adv.shape[0], *([1] * (x_adv.ndim - 1)))
        return (
            mg.where(per_example, x_adv, best),
            mg.where(better, success, best_success),
            mg.where(better, objective, best_objective),
        )


def kurakin_schedule(
    eps: float, clip_min: float | None, clip_max: float | None
) -> tuple[float, int]:
    """Kurakin et al.'s BIM settings: α = one intensity level (range / 255) and
    N = ⌈min(ε/α + 4, 1.25 · ε/α)⌉ steps — enough to reach the ball's edge and move
    along it. Without a clip range the range is taken as 1."""
    value_range = 1.0 if clip_min is None or clip_max is None else clip_max - clip_min
    alpha = min(value_range / 255.0, eps)
    levels = eps / alpha
    return alpha, max(1, math.ceil(min(levels + 4, 1.25 * levels)))


def bim(
    model: Model,
    x: mg.Tensor,
    y: mg.Tensor | None = None,
    *,
    eps: float,
    step_size: float | None = None,
    steps: int | None = None,
    norm: Norm = math.inf,
    clip_min: float | None = None,
    clip_max: float | None = None,
    targeted: bool = False,
) -> mg.Tensor:
    """Basic Iterative Method / I-FGSM: PGD from x itself (no random start),

        x^{k+1} = clip_{x, ε}( x^k + α · sign(∇x L(x^k, y)) ),

    with Kurakin et al.'s α and step count (:func:`kurakin_schedule`) unless given.
    """
    eps = check_eps(eps)
    if eps == 0:
        check_images(x, clip_min, clip_max)
        return x.detach().clone()
    alpha, count = kurakin_schedule(eps, clip_min, clip_max)
    return pgd(
        model,
        x,
        y,
        eps=eps,
        step_size=alpha if step_size is None else step_size,
        steps=count if steps is None else steps,
        norm=norm,
        clip_min=clip_min,
        clip_max=clip_max,
        targeted=targeted,
        random_start=False,
    )
