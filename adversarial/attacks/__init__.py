"""White-box attacks. Each takes a model returning logits, a batch x, labels y (None: the
model's own predictions) or targets, a budget, and the valid input range."""

from adversarial.attacks.carlini_wagner import carlini_wagner_l2
from adversarial.attacks.fgsm import fgsm
from adversarial.attacks.jsma import jsma
from adversarial.attacks.patch import paste_patch, patch_success_rate, train_patch
from adversarial.attacks.pgd import bim, pgd
from adversarial.attacks.rand_fgsm import rand_fgsm
from adversarial.attacks.step_ll import iterative_ll, step_ll

__all__ = [
    "bim",
    "carlini_wagner_l2",
    "fgsm",
    "iterative_ll",
    "jsma",
    "paste_patch",
    "patch_success_rate",
    "pgd",
    "rand_fgsm",
    "step_ll",
    "train_patch",
]
