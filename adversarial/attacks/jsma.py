"""The Jacobian-based Saliency Map Attack (Papernot et al. 2016): few pixels, changed a lot.

Where FGSM changes every pixel a little (an L∞ budget), JSMA changes few pixels fully
(an L0 budget). With the Jacobian of the logits Z, for the target class t:

    α_pq = ∂Z_t/∂x_p + ∂Z_t/∂x_q                (does the pair raise the target?)
    β_pq = Σ_{j≠t} (∂Z_j/∂x_p + ∂Z_j/∂x_q)      (does it lower every other class?)

the saliency of a pair is α·|β| where α > 0 and β < 0 (zero elsewhere). Each iteration
moves the most salient pair by θ (clipped to the box) and drops it from the search
domain, until the model predicts t or a fraction γ of the features has been changed.
For θ < 0 features are decreased instead, with the signs of α and β flipped.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from adversarial.attacks.arguments import check_images, check_labels
from adversarial.attacks.objective import Model, frozen_parameters, logits_of, predicted_labels


def pair_saliency(target_grad: np.ndarray, other_grad: np.ndarray) -> np.ndarray:
    """The saliency map over feature pairs for one example: S[p, q] = α_pq · |β_pq| where
    α_pq > 0 and β_pq < 0, else 0 (the diagonal p = q is excluded)."""
    alpha = target_grad[:, None] + target_grad[None, :]
    beta = other_grad[:, None] + other_grad[None, :]
    saliency = np.where((alpha > 0) & (beta < 0), alpha * -beta, 0.0)
    np.fill_diagonal(saliency, 0.0)
    return saliency


def random_targets(model: Model, x: mg.Tensor, classes: int) -> mg.Tensor:
    """A target per example drawn uniformly from the classes other than the prediction."""
    shift = mg.randint(1, classes, (x.shape[0],), device=x.device)
    return mg.tensor((predicted_labels(model, x).numpy() + shift.numpy()) % classes)


def jsma(
    model: Model,
    x: mg.Tensor,
    target: mg.Tensor | None = None,
    *,
    theta: float = 1.0,
    gamma: float = 0.1,
    clip_min: float = 0.0,
    clip_max: float = 1.0,
) -> mg.Tensor:
    """Greedy pairwise saliency attack toward ``target`` (random other classes when None).

    Per iteration, for each example not yet classified as its target:
    (p*, q*) = argmax_{p,q in domain} S[p, q];  x_p*, x_q* += θ (clipped);  domain −= {p*, q*},
    for at most ⌊γ · features / 2⌋ iterations. θ in (0, hi − lo] increases features, a
    negative θ decreases them. Returns the perturbed batch (no graph).
    """
    check_images(x, clip_min, clip_max)
    if (
        isinstance(theta, bool)
        or not isinstance(theta, int | float)
        or theta == 0
        or abs(theta) > clip_max - clip_min
    ):
        raise ValueError(f"theta must be nonzero with |theta| <= clip_max - clip_min, got {theta}")
    if not isinstance(gamma, int | float) or not 0 < gamma <= 1:
        raise ValueError(
            f"gamma (the largest fraction of features changed) must be in (0, 1], got {gamma!r}"
        )
    with mg.no_grad():
        classes = logits_of(model, x[:1]).shape[1]
    target = random_targets(model, x, classes) if target is None else target
    target = check_labels(target, x.shape[0], classes, "target")
    increase = theta > 0
    count = x.shape[0]
    features = x[0].numel()
    adversarial = x.detach().numpy().reshape(count, features).copy()
    # The search domain: features that can still move in the attack's direction.
    domain = adversarial < clip_max if increase else adversarial > clip_min
    one_hot = np.eye(classes, dtype=x.dtype)[target.numpy()]
    max_iterations = int(np.floor(features * gamma / 2))
    with frozen_parameters(model):
        for _ in range(max_iterations):
            x_var = mg.tensor(adversarial.reshape(x.shape), device=x.device).requires_grad_(True)
            logits = logits_of(model, x_var)
            active = logits.detach().numpy().argmax(axis=1) != target.numpy()
            active &= domain.sum(axis=1) >= 2
            if not active.any():
                break
            pick = mg.tensor(one_hot, device=x.device)
            (target_grad,) = mg.grad(logits, x_var, grad_outputs=pick, retain_graph=True)
            (other_grad,) = mg.grad(logits, x_var, grad_outputs=1 - pick)
            sign = 1.0 if increase else -1.0
            target_grad = sign * target_grad.numpy().reshape(count, features)
            other_grad = sign * other_grad.numpy().reshape(count, features)
            for n in np.flatnonzero(active):
                saliency = pair_saliency(target_grad[n], other_grad[n])
                saliency *= domain[n][:, None] & domain[n][None, :]
                best = int(saliency.argmax())
                p, q = divmod(best, features)
                if saliency[p, q] <= 0:
                    # No pair both raises t and lowers the rest: the map gives no
                    # direction, so this example stops here (it counts as a failure).
                    domain[n] = False
                    continue
                adversarial[n, [p, q]] = np.clip(adversarial[n, [p, q]] + theta, clip_min, clip_max)
                domain[n, [p, q]] = False
    return mg.tensor(adversarial.reshape(x.shape), device=x.device)
