"""What every gradient attack climbs: the classifier's loss, and its gradient in the input.

Untargeted attacks push the loss of the true (or predicted) class *up*; targeted attacks
push the loss of the target class *down*. :func:`loss_gradient` folds both into one
"ascent direction" so the attacks themselves are a single line each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import minigrad as mg
import minigrad.nn.functional as F
from adversarial.attacks.arguments import check_labels, check_logits

Model = Callable[[mg.Tensor], mg.Tensor]


@contextmanager
def frozen_parameters(model: Model) -> Iterator[None]:
    """Switch off ``requires_grad`` on the model's parameters for the duration.

    An attack needs ∇x only; with the weights frozen the backward pass skips every
    weight gradient (about half of the work) and leaves ``.grad`` of the weights alone.
    """
    parameters = list(model.parameters()) if hasattr(model, "parameters") else []
    flags = [p.requires_grad for p in parameters]
    for p in parameters:
        p.requires_grad = False
    try:
        yield
    finally:
        for p, flag in zip(parameters, flags, strict=True):
            p.requires_grad = flag


def logits_of(model: Model, x: mg.Tensor) -> mg.Tensor:
    """``model(x)``, checked to be a (N, classes) logit matrix and not probabilities."""
    logits = model(x)
    check_logits(logits, x.shape[0])
    return logits


def predicted_labels(model: Model, x: mg.Tensor) -> mg.Tensor:
    """argmax_c f(x)_c for every example (no graph)."""
    with mg.no_grad():
        return logits_of(model, x).argmax(dim=1)


def least_likely_labels(model: Model, x: mg.Tensor) -> mg.Tensor:
    """y_LL = argmin_c f(x)_c, the class the model believes least (Kurakin et al. 2017)."""
    with mg.no_grad():
        return logits_of(model, x).argmin(dim=1)


def labels_or_predictions(model: Model, x: mg.Tensor, y: mg.Tensor | None) -> mg.Tensor:
    """``y`` when given (checked), otherwise the model's own predictions.

    Using predictions (CleverHans' default) avoids "label leaking": with true labels an
    attack can exploit the label itself, and on misclassified points it would push the
    wrong prediction further from a class the model never chose.
    """
    if y is None:
        return predicted_labels(model, x)
    with mg.no_grad():
        classes = logits_of(model, x[:1]).shape[1]
    return check_labels(y, x.shape[0], classes)


def loss_gradient(
    model: Model, x: mg.Tensor, y: mg.Tensor, targeted: bool = False
) -> tuple[mg.Tensor, mg.Tensor]:
    """The ascent direction g and the logits at x.

    Untargeted: g = ∇x Σ_n ℓ(f(x_n), y_n)   (raise the loss of the label y);
    targeted:   g = −∇x Σ_n ℓ(f(x_n), t_n)  (lower the loss of the target t = y),
    with ℓ the cross-entropy. The per-example losses are summed, not averaged, so each
    example's gradient does not shrink with the batch size.
    """
    x_var = x.detach().requires_grad_(True)
    with frozen_parameters(model), mg.enable_grad():
        logits = logits_of(model, x_var)
        loss = F.cross_entropy(logits, y, reduction="sum")
        (grad,) = mg.grad(loss, x_var)
    return (-grad if targeted else grad), logits.detach()


def attack_succeeded(logits: mg.Tensor, y: mg.Tensor, targeted: bool) -> mg.Tensor:
    """Bool per example: the prediction is the target (targeted) or is not y (untargeted)."""
    predictions = logits.argmax(dim=1)
    return predictions == y if targeted else predictions != y
