"""The progressive GAN's objective: WGAN-GP with a drift term, and one training round.

The critic D (an unbounded score) minimises

    L_D = E_z D(G(z)) - E_x D(x)                   (-W, the Wasserstein estimate)
        + lambda * E_x_hat (||grad D(x_hat)||_2 - 1)^2  (gradient penalty, lambda = 10)
        + eps_drift * E_x D(x)^2                    (drift, eps_drift = 0.001)

and the generator minimises L_G = -E_z D(G(z)). The penalty's gradient with respect to
D's weights differentiates a gradient: minigrad builds the graph of the first backward
(``create_graph=True``) and backpropagates through it (gan.losses.gradient_penalty).
The drift term is Karras et al.'s addition: W only fixes *differences* of scores, so
without it the scores of reals and fakes may wander off together towards large values;
a small pull towards 0 keeps them anchored without touching the Wasserstein part.

One round is one D step then one G step (n_critic = 1, as in the paper), both at the
same fade-in weight alpha, with the real batch blended like the fakes (fade_in.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import minigrad as mg
from gan.learning_round import frozen
from gan.losses import (
    critic_loss,
    generator_loss_wasserstein,
    gradient_penalty,
    wasserstein_value,
)
from gan.progressive.fade_in import blend_reals
from minigrad import Tensor, nn, optim

GP_WEIGHT = 10.0
DRIFT_WEIGHT = 0.001


def drift_penalty(critic_real: Tensor) -> Tensor:
    """drift = E_x D(x)^2: keeps the critic's scores near zero (multiply by eps_drift)."""
    if critic_real.ndim not in (1, 2) or (critic_real.ndim == 2 and critic_real.shape[1] != 1):
        raise ValueError(f"critic_real must have shape (N,) or (N, 1), got {critic_real.shape}")
    return (critic_real * critic_real).mean()


@dataclass
class RoundMetrics:
    """What one round logs: the critic's loss and its parts, and the generator's loss."""

    d_loss: float
    g_loss: float
    wasserstein: float
    gradient_penalty: float
    drift: float
    d_real: float
    d_fake: float


def critic_step(
    generator: nn.Module,
    critic: nn.Module,
    critic_optimizer: optim.Optimizer,
    real: Tensor,
    z: Tensor,
    alpha: float,
    gp_weight: float = GP_WEIGHT,
    drift_weight: float = DRIFT_WEIGHT,
) -> dict[str, float]:
    """One Adam step of D on L_D (see module docstring); reals are blended at ``alpha``."""
    with mg.no_grad():
        fake = generator(z, alpha)
    real = blend_reals(real, alpha)
    critic_optimizer.zero_grad()
    critic_real = critic(real, alpha)
    critic_fake = critic(fake, alpha)
    penalty = gradient_penalty(functools.partial(critic, alpha=alpha), real, fake)
    drift = drift_penalty(critic_real)
    total = critic_loss(critic_real, critic_fake) + gp_weight * penalty + drift_weight * drift
    total.backward()
    critic_optimizer.step()
    return {
        "d_loss": total.item(),
        "wasserstein": wasserstein_value(critic_real, critic_fake).item(),
        "gradient_penalty": penalty.item(),
        "drift": drift.item(),
        "d_real": critic_real.mean().item(),
        "d_fake": critic_fake.mean().item(),
    }


def generator_step(
    generator: nn.Module,
    critic: nn.Module,
    generator_optimizer: optim.Optimizer,
    z: Tensor,
    alpha: float,
) -> float:
    """One Adam step of G on L_G = -E D(G(z)), through a frozen D (D gains no gradient)."""
    generator_optimizer.zero_grad()
    with frozen(critic):
        total = generator_loss_wasserstein(critic(generator(z, alpha), alpha))
        total.backward()
    generator_optimizer.step()
    return total.item()


def progressive_round(
    generator: nn.Module,
    critic: nn.Module,
    generator_optimizer: optim.Optimizer,
    critic_optimizer: optim.Optimizer,
    real: Tensor,
    alpha: float,
    gp_weight: float = GP_WEIGHT,
    drift_weight: float = DRIFT_WEIGHT,
) -> RoundMetrics:
    """A D step on ``real`` and fresh z, then a G step on fresh z of the same batch size."""
    count = real.shape[0]
    z_dim = generator.architecture.z_dim
    parts = critic_step(
        generator,
        critic,
        critic_optimizer,
        real,
        mg.randn(count, z_dim, dtype=real.dtype, device=real.device),
        alpha,
        gp_weight,
        drift_weight,
    )
    z = mg.randn(count, z_dim, dtype=real.dtype, device=real.device)
    g_loss = generator_step(generator, critic, generator_optimizer, z, alpha)
    return RoundMetrics(g_loss=g_loss, **parts)
