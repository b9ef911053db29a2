"""Defences as batch losses for ``minigrad.models.fit`` (its ``batch_loss`` hook)."""

from adversarial.defences.adversarial_training import (
    CatastrophicOverfittingGuard,
    fgsm_rs_loss,
    goodfellow_loss,
    pgd_training_loss,
)
from adversarial.defences.input_gradient import input_gradient_loss, input_gradient_penalty
from adversarial.defences.mixup import mixup_batch, mixup_loss

__all__ = [
    "CatastrophicOverfittingGuard",
    "fgsm_rs_loss",
    "goodfellow_loss",
    "input_gradient_loss",
    "input_gradient_penalty",
    "mixup_batch",
    "mixup_loss",
    "pgd_training_loss",
]
