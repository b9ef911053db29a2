"""mixup (Zhang et al. 2018): train on straight-line blends of pairs of examples.

    x̃ = λ x_i + (1 − λ) x_j,     ỹ = λ y_i + (1 − λ) y_j,     λ ~ Beta(α, α)

with y one-hot, and the soft-label cross-entropy −Σ_c ỹ_c log softmax(f(x̃))_c. Asking
the model to be linear between training points discourages the sharp turns of the
decision boundary near the data that small perturbations exploit — a regulariser, not a
defence against a determined white-box attacker (the robustness report shows how far it
gets).
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from adversarial.attacks.objective import Model


def _batch_generator() -> np.random.Generator:
    """A numpy generator seeded from minigrad's global generator: λ and the pairing then
    follow ``minigrad.manual_seed`` and a checkpoint's saved random state, like everything
    else a training run draws."""
    words = mg.rand(2, dtype=mg.float64).numpy()
    return np.random.default_rng([int(word * 2**32) for word in words])


def mixup_batch(
    x: mg.Tensor, y: mg.Tensor, *, alpha: float, num_classes: int
) -> tuple[mg.Tensor, mg.Tensor, float]:
    """(x̃, ỹ, λ): the batch blended with a random permutation of itself, ỹ as soft labels."""
    if not alpha > 0:
        raise ValueError(f"alpha (the Beta(α, α) parameter) must be > 0, got {alpha!r}")
    if y.dtype.kind not in "iu" or y.shape != (x.shape[0],):
        raise ValueError(f"y must be int class indices of shape ({x.shape[0]},), got {y.shape}")
    generator = _batch_generator()
    lam = float(generator.beta(alpha, alpha))
    partner = generator.permutation(x.shape[0])
    one_hot = mg.tensor(np.eye(num_classes, dtype=x.dtype)[y.numpy()], device=x.device)
    x_mixed = x * lam + x[partner] * (1 - lam)
    y_mixed = one_hot * lam + one_hot[partner] * (1 - lam)
    return x_mixed, y_mixed, lam


def mixup_loss(
    model: Model, x: mg.Tensor, y: mg.Tensor, *, alpha: float = 1.0, num_classes: int = 10
) -> mg.Tensor:
    """−Σ_c ỹ_c log softmax(f(x̃))_c, averaged over the blended batch."""
    x_mixed, y_mixed, _ = mixup_batch(x, y, alpha=alpha, num_classes=num_classes)
    return F.cross_entropy(model(x_mixed), y_mixed)
