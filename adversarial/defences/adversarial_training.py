"""Adversarial training: train on the attack's own examples (the lecture's defence).

Three batch losses for ``minigrad.models.fit``'s ``batch_loss`` hook, one per paper, and
the early stop that "fast" adversarial training needs:

* Goodfellow et al. 2015 — mix clean and FGSM examples:
      J̃(θ, x, y) = α · J(θ, x, y) + (1 − α) · J(θ, x + ε · sign(∇x J(θ, x, y)), y)
* Madry et al. 2018 — minimise the worst case found by PGD:
      min_θ E_(x,y) [ max_{‖δ‖∞ ≤ ε} J(θ, x + δ, y) ]
* Wong et al. 2020 — FGSM from a random start, nearly as good as PGD at the cost of FGSM:
      δ ~ U(−ε, ε)ⁿ,   δ ← Π_ε(δ + α · sign(∇δ J(θ, x + δ, y))),  α = 1.25 ε,   J(θ, x + δ, y)

Adversarial examples are made with the true labels y (not predictions: during training
the labels are known) and carry no graph: the weights are trained on them as data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import minigrad as mg
import minigrad.nn.functional as F
from adversarial.attacks.fgsm import clip_to_box, fgsm, gradient_step
from adversarial.attacks.objective import Model, loss_gradient
from adversarial.attacks.pgd import pgd, project, uniform_in_ball


def goodfellow_loss(
    model: Model,
    x: mg.Tensor,
    y: mg.Tensor,
    *,
    eps: float,
    alpha: float = 0.5,
    clip_min: float = 0.0,
    clip_max: float = 1.0,
) -> mg.Tensor:
    """J̃ = α · J(x, y) + (1 − α) · J(x*, y),  x* = clip(x + ε · sign(∇x J(x, y)))."""
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha (the weight of the clean loss) must be in [0, 1], got {alpha!r}")
    x_adv = fgsm(model, x, y, eps=eps, clip_min=clip_min, clip_max=clip_max)
    return F.cross_entropy(model(x), y) * alpha + F.cross_entropy(model(x_adv), y) * (1 - alpha)


def pgd_training_loss(
    model: Model,
    x: mg.Tensor,
    y: mg.Tensor,
    *,
    eps: float,
    steps: int = 7,
    step_size: float | None = None,
    clip_min: float = 0.0,
    clip_max: float = 1.0,
) -> mg.Tensor:
    """J(x*, y) with x* = PGD-k(x, y) from a random start; α = 2.5 ε / k by default
    (Madry et al.: enough to cross the ball and back)."""
    step = min(eps, 2.5 * eps / steps) if step_size is None else step_size
    x_adv = pgd(
        model, x, y, eps=eps, step_size=step, steps=steps, clip_min=clip_min, clip_max=clip_max
    )
    return F.cross_entropy(model(x_adv), y)


def fgsm_rs_example(
    model: Model,
    x: mg.Tensor,
    y: mg.Tensor,
    *,
    eps: float,
    step_size: float | None = None,
    clip_min: float = 0.0,
    clip_max: float = 1.0,
) -> mg.Tensor:
    """x + δ, δ = Π_ε(δ₀ + α · sign(∇ J(x + δ₀, y))), δ₀ ~ U(−ε, ε), α = 1.25 ε.

    α > ε is deliberate (Wong et al.): from a random start a full ε step would often end
    inside the ball; the projection trims the overshoot.
    """
    x = x.detach()
    alpha = 1.25 * eps if step_size is None else step_size
    linf = math.inf
    with mg.no_grad():
        start = clip_to_box(x + uniform_in_ball(x, eps, linf), clip_min, clip_max)
    grad, _ = loss_gradient(model, start, y)
    with mg.no_grad():
        return project(start + gradient_step(grad, alpha, linf), x, eps, linf, clip_min, clip_max)


def fgsm_rs_loss(
    model: Model,
    x: mg.Tensor,
    y: mg.Tensor,
    *,
    eps: float,
    step_size: float | None = None,
    clip_min: float = 0.0,
    clip_max: float = 1.0,
) -> mg.Tensor:
    """J(θ, x_rs, y) with x_rs from :func:`fgsm_rs_example`."""
    x_adv = fgsm_rs_example(
        model, x, y, eps=eps, step_size=step_size, clip_min=clip_min, clip_max=clip_max
    )
    return F.cross_entropy(model(x_adv), y)


@dataclass
class CatastrophicOverfittingGuard:
    """Early stop for FGSM training (Wong et al. 2020, §5).

    FGSM-based training can collapse within a few batches: the model learns to make the
    single FGSM step useless (a "masked" gradient), its PGD accuracy falls to near zero
    while its FGSM accuracy rises. After every epoch, :meth:`should_stop` measures PGD
    accuracy on a fixed held-out batch; it returns True once that accuracy has fallen more
    than ``drop`` below the best seen, and ``best_epoch`` names the weights to go back to.
    """

    x_holdout: mg.Tensor
    y_holdout: mg.Tensor
    eps: float
    steps: int = 10
    drop: float = 0.2
    clip_min: float = 0.0
    clip_max: float = 1.0
    history: list[float] = field(default_factory=list)

    def pgd_accuracy(self, model: Model) -> float:
        """Accuracy on the held-out batch under PGD-``steps`` (α = 2.5 ε / steps)."""
        x_adv = pgd(
            model,
            self.x_holdout,
            self.y_holdout,
            eps=self.eps,
            step_size=2.5 * self.eps / self.steps,
            steps=self.steps,
            clip_min=self.clip_min,
            clip_max=self.clip_max,
        )
        with mg.no_grad():
            predictions = model(x_adv).argmax(dim=1)
        return float((predictions == self.y_holdout).numpy().mean())

    @property
    def best_epoch(self) -> int:
        """1-based epoch of the highest held-out PGD accuracy so far (0 before any)."""
        if not self.history:
            return 0
        return max(range(len(self.history)), key=self.history.__getitem__) + 1

    def should_stop(self, model: Model) -> bool:
        """Record this epoch's held-out PGD accuracy; True when it collapsed."""
        self.history.append(self.pgd_accuracy(model))
        return max(self.history) - self.history[-1] > self.drop
