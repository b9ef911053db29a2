"""The GAN objectives, each in terms of the discriminator's logits.

The discriminator outputs a logit ``l``; its belief that the input is real is
``D(x) = sigmoid(l)``. Writing the logs through ``logsigmoid`` keeps them finite when D is
confident: ``log D = logsigmoid(l)`` and ``log(1 - D) = logsigmoid(-l)``.

The lecture's value function (the min-max cost) is

    V(D, G) = E_x log D(x) + E_z log(1 - D(G(z)))

which D maximises and G minimises. Each player's loss below is something it *minimises*.
"""

from __future__ import annotations

import minigrad as mg
from minigrad import Tensor
from minigrad.nn import Module
from minigrad.nn import functional as F


def _check_logits(logits: Tensor, name: str) -> None:
    if not isinstance(logits, Tensor):
        raise TypeError(f"{name} must be a minigrad Tensor of logits, got {type(logits).__name__}")
    if logits.ndim not in (1, 2) or (logits.ndim == 2 and logits.shape[1] != 1):
        raise ValueError(f"{name} must have shape (N,) or (N, 1), got {logits.shape}")


def minimax_value(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
    """V(D,G) = E_x log D(x) + E_z log(1 - D(G(z))), the lecture's min-max cost.

    With logits l: ``mean(logsigmoid(l_real)) + mean(logsigmoid(-l_fake))``. Its largest
    value is 0 (a perfect D); at the equilibrium D = 1/2 everywhere it is ``-log 4``.
    """
    _check_logits(d_real_logits, "d_real_logits")
    _check_logits(d_fake_logits, "d_fake_logits")
    return F.logsigmoid(d_real_logits).mean() + F.logsigmoid(-d_fake_logits).mean()


def discriminator_loss(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
    """L_D = -V(D,G) = -E log D(x) - E log(1 - D(G(z))).

    D ascends V by descending L_D: binary cross-entropy with label 1 for reals and 0 for
    fakes, summed over the two halves of the batch.
    """
    return -minimax_value(d_real_logits, d_fake_logits)


def generator_loss_saturating(d_fake_logits: Tensor) -> Tensor:
    """L_G = E_z log(1 - D(G(z))): G's side of V taken literally (the minimax loss).

    Its gradient w.r.t. the logit is ``-sigmoid(l)``: when D confidently rejects the
    fakes (l very negative, early in training) the gradient vanishes, so G learns slowly.
    """
    _check_logits(d_fake_logits, "d_fake_logits")
    return F.logsigmoid(-d_fake_logits).mean()


def generator_loss_nonsaturating(d_fake_logits: Tensor) -> Tensor:
    """L_G = -E_z log D(G(z)): the same fixed point as the minimax loss, strong early gradient.

    Its gradient w.r.t. the logit is ``sigmoid(l) - 1``, close to -1 exactly when D
    rejects the fakes (Goodfellow et al. 2014, section 3).
    """
    _check_logits(d_fake_logits, "d_fake_logits")
    return -F.logsigmoid(d_fake_logits).mean()


def wasserstein_value(critic_real: Tensor, critic_fake: Tensor) -> Tensor:
    """W = E_x C(x) - E_z C(G(z)): the critic's estimate of the Wasserstein-1 distance.

    The critic C (a discriminator without a sigmoid) maximises W over 1-Lipschitz
    functions; the generator minimises it.
    """
    _check_logits(critic_real, "critic_real")
    _check_logits(critic_fake, "critic_fake")
    return critic_real.mean() - critic_fake.mean()


def critic_loss(critic_real: Tensor, critic_fake: Tensor) -> Tensor:
    """L_C = E_z C(G(z)) - E_x C(x) = -W (add the gradient penalty to it for WGAN-GP)."""
    return -wasserstein_value(critic_real, critic_fake)


def generator_loss_wasserstein(critic_fake: Tensor) -> Tensor:
    """L_G = -E_z C(G(z)): G pushes its samples up the critic's slope."""
    _check_logits(critic_fake, "critic_fake")
    return -critic_fake.mean()


def interpolate_between(real: Tensor, fake: Tensor, epsilon: Tensor | None = None) -> Tensor:
    """x_hat = eps * real + (1 - eps) * fake with one eps ~ U(0, 1) per example.

    ``epsilon`` (shape (N,)) may be given to make the points deterministic (tests).
    """
    if real.shape != fake.shape:
        raise ValueError(f"real {real.shape} and fake {fake.shape} must have the same shape")
    count = real.shape[0]
    if epsilon is None:
        epsilon = mg.rand(count, dtype=real.dtype, device=real.device)
    if epsilon.shape != (count,):
        raise ValueError(f"epsilon must have shape ({count},), got {epsilon.shape}")
    epsilon = epsilon.reshape(count, *([1] * (real.ndim - 1)))
    return epsilon * real.detach() + (1 - epsilon) * fake.detach()


def gradient_penalty(
    critic: Module, real: Tensor, fake: Tensor, epsilon: Tensor | None = None
) -> Tensor:
    """GP = E_x_hat (||grad_x_hat C(x_hat)||_2 - 1)^2 at random points between real and fake.

    Gulrajani et al. 2017. The gradient is taken with ``create_graph=True``, so the
    penalty is itself differentiable w.r.t. the critic's parameters (a second-order
    gradient). Multiply by the weight (10 in the paper) and add it to the critic loss.
    """
    points = interpolate_between(real, fake, epsilon).requires_grad_(True)
    scores = critic(points)
    (slopes,) = mg.grad(scores.sum(), points, create_graph=True)
    # The tiny shift keeps d sqrt / d u finite where a slope is exactly zero (a dead critic).
    norms = ((slopes.flatten(1) ** 2).sum(dim=1) + 1e-12).sqrt()
    return ((norms - 1) ** 2).mean()
