"""One attack on one trained classifier, with its evidence: ``python -m adversarial attack``.

Runs the named attack on test images and writes ``attack.json`` (accuracy before and
after, success rate, mean perturbation sizes) and ``attack.png`` (clean images, their
adversarial versions, and the perturbations magnified, row by row).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import minigrad as mg
from adversarial.attacks.carlini_wagner import carlini_wagner_l2
from adversarial.attacks.fgsm import fgsm
from adversarial.attacks.jsma import jsma
from adversarial.attacks.objective import Model
from adversarial.attacks.patch import paste_patch, random_positions, train_patch
from adversarial.attacks.pgd import bim, pgd
from adversarial.attacks.step_ll import iterative_ll, step_ll
from minigrad.images import save_image_grid
from minigrad.runs import write_text_atomically

ATTACK_NAMES = ("fgsm", "bim", "pgd", "step_ll", "iter_ll", "cw", "jsma", "patch")
BOX = {"clip_min": 0.0, "clip_max": 1.0}


@dataclass
class AttackOptions:
    attack: str = "fgsm"
    eps: float = 0.1
    norm: str = "inf"
    steps: int = 40
    restarts: int = 1
    target: int | None = None  # targeted attacks; the patch's class
    patch_size: int = 16
    num_examples: int = 1000
    seed: int = 0


def craft(
    model: Model,
    x: mg.Tensor,
    y: mg.Tensor,
    options: AttackOptions,
    patch_images: mg.Tensor | None = None,
) -> mg.Tensor:
    """The adversarial batch of ``options.attack``. The patch is trained on
    ``patch_images`` (other images than x, so its success is measured on unseen ones) and
    pasted on x at random places."""
    o = options
    targeted = o.target is not None
    labels = mg.full((len(x),), o.target, dtype=mg.int64) if targeted else y
    if o.attack == "fgsm":
        return fgsm(model, x, labels, eps=o.eps, norm=o.norm, targeted=targeted, **BOX)
    if o.attack == "bim":
        return bim(model, x, labels, eps=o.eps, norm=o.norm, targeted=targeted, **BOX)
    if o.attack == "pgd":
        step = 2.5 * o.eps / o.steps
        return pgd(
            model,
            x,
            labels,
            eps=o.eps,
            step_size=step,
            steps=o.steps,
            norm=o.norm,
            restarts=o.restarts,
            targeted=targeted,
            **BOX,
        )
    if o.attack == "step_ll":
        return step_ll(model, x, eps=o.eps, norm=o.norm, **BOX)
    if o.attack == "iter_ll":
        return iterative_ll(model, x, eps=o.eps, norm=o.norm, **BOX)
    if o.attack == "cw":
        return carlini_wagner_l2(model, x, labels, targeted=targeted, **BOX)
    if o.attack == "jsma":
        return jsma(model, x, labels if targeted else None, **BOX)
    if o.attack == "patch":
        if o.target is None:
            raise ValueError("the patch attack needs --target (the class the sticker forces)")
        if patch_images is None:
            raise ValueError("the patch attack needs patch_images to train the patch on")
        patch = train_patch(model, patch_images, o.target, size=o.patch_size, **BOX)
        return paste_patch(x, patch, random_positions(len(x), x.shape[2:], o.patch_size))
    raise ValueError(f"attack must be one of {ATTACK_NAMES}, got {o.attack!r}")


def run_attack(
    model: Model, x: mg.Tensor, y: mg.Tensor, options: AttackOptions, out: str | Path
) -> dict:
    """Attack the first ``num_examples`` of (x, y); write the summary and the picture."""
    mg.manual_seed(options.seed)
    count = options.num_examples
    patch_images = x[count : 2 * count].detach() if options.attack == "patch" else None
    if patch_images is not None and len(patch_images) == 0:
        raise ValueError(f"the patch attack trains on images after the first {count}: none left")
    x, y = x[:count].detach(), y[:count]
    x_adv = craft(model, x, y, options, patch_images)
    with mg.no_grad():
        clean = model(x).argmax(dim=1).numpy()
        adversarial = model(x_adv).argmax(dim=1).numpy()
    truth = y.numpy()
    delta = (x_adv - x).reshape(len(x), -1)
    correct = clean == truth
    summary = {
        "options": asdict(options),
        "examples": len(x),
        "clean_accuracy": float(correct.mean()),
        "adversarial_accuracy": float((adversarial == truth).mean()),
        "success_rate_on_correct": float((adversarial[correct] != truth[correct]).mean()),
        "mean_linf": float(delta.abs().amax(dim=1).mean().item()),
        "mean_l2": float(delta.norm(dim=1).mean().item()),
        "mean_pixels_changed": float((delta.abs() > 1e-6).to(mg.float32).sum(dim=1).mean().item()),
    }
    if options.target is not None:
        summary["target_rate"] = float((adversarial == options.target).mean())
    if options.attack == "patch":
        summary["note"] = "patch trained on the next num_examples test images, not these"
        summary["target_rate_excluding_target_class"] = float(
            np.mean(adversarial[truth != options.target] == options.target)
        )
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomically(folder / "attack.json", json.dumps(summary, indent=2) + "\n")
    show = min(8, len(x))
    # Perturbations are magnified ×(1/2max|δ|) around grey so even ε = 0.01 is visible.
    scale = max(float(delta[:show].abs().amax().item()), 1e-8)
    rows = [x[:show], x_adv[:show], (x_adv[:show] - x[:show]) / (2 * scale) + 0.5]
    save_image_grid(
        mg.cat(rows, 0), folder / "attack.png", nrow=show, value_range=(0.0, 1.0), scale=3
    )
    return summary
