"""Smooth decision boundaries: penalise the gradient of the loss in the input
("double backpropagation", Drucker & LeCun 1992; Ross & Doshi-Velez 2018).

    J̃(θ) = (1/N) Σ_n ℓ(f(x_n), y_n)  +  λ · (1/N) Σ_n ‖∇x_n ℓ(f(x_n), y_n)‖₂²

FGSM's first-order picture says a perturbation δ changes the loss by about ∇xℓ · δ, at
most ε‖∇xℓ‖₁ in the L∞ ball: a small input gradient is a flat loss around the data, the
"regularise the derivatives with respect to x" of the lecture. Training on the penalty
needs its gradient in θ, a derivative of a derivative: ``minigrad.grad(...,
create_graph=True)`` records the backward pass so that ``backward()`` can go through it.
"""

from __future__ import annotations

import minigrad as mg
import minigrad.nn.functional as F
from adversarial.attacks.objective import Model


def loss_and_input_gradient_penalty(
    model: Model, x: mg.Tensor, y: mg.Tensor
) -> tuple[mg.Tensor, mg.Tensor]:
    """(mean ℓ, (1/N) Σ_n ‖∇x_n ℓ_n‖²), both differentiable in the model's parameters.

    The per-example losses are summed before differentiating, so ∇x of the sum holds each
    example's own gradient ∇x_n ℓ_n (examples do not interact in the forward pass).
    """
    x_var = x.detach().requires_grad_(True)
    losses = F.cross_entropy(model(x_var), y, reduction="none")
    (grad,) = mg.grad(losses.sum(), x_var, create_graph=True)
    count = x.shape[0]
    return losses.mean(), (grad * grad).sum() / count


def input_gradient_penalty(model: Model, x: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
    """R = (1/N) Σ_n ‖∇x_n ℓ(f(x_n), y_n)‖₂²."""
    return loss_and_input_gradient_penalty(model, x, y)[1]


def input_gradient_loss(
    model: Model, x: mg.Tensor, y: mg.Tensor, *, weight: float = 1.0
) -> mg.Tensor:
    """J̃ = mean ℓ + λ · R, with λ = ``weight`` (one forward pass serves both terms)."""
    if not weight >= 0:
        raise ValueError(f"weight (λ) must be >= 0, got {weight!r}")
    loss, penalty = loss_and_input_gradient_penalty(model, x, y)
    return loss + penalty * weight
