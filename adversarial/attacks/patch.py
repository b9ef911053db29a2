"""The adversarial patch, or "sticker" (Brown et al. 2017): a physical-world attack.

Instead of an invisible change to one image, a small visible square P that makes the
classifier answer a chosen class t *wherever it is stuck*, on any image. Pasting P at
position ℓ is

    A(P, x, ℓ) = (1 − M_ℓ) ⊙ x + M_ℓ ⊙ shift_ℓ(P)          (M_ℓ: the square's mask)

and P is trained by expectation over transformation — here over images and positions:

    P* = argmax_P  E_{x, ℓ} log softmax(f(A(P, x, ℓ)))_t,     P in the box [lo, hi],

by signed-gradient steps on random mini-batches, each image with its own random ℓ.
No ε bound: the patch is allowed to look like anything, only its size is limited.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from adversarial.attacks.arguments import check_count, check_eps, check_images
from adversarial.attacks.objective import Model, frozen_parameters, logits_of


def random_positions(count: int, image_hw: tuple[int, int], size: int) -> np.ndarray:
    """(count, 2) top-left corners (row, col) drawn uniformly so the square fits."""
    rows = mg.randint(0, image_hw[0] - size + 1, (count,)).numpy()
    cols = mg.randint(0, image_hw[1] - size + 1, (count,)).numpy()
    return np.stack([rows, cols], axis=1)


def paste_patch(x: mg.Tensor, patch: mg.Tensor, positions: np.ndarray) -> mg.Tensor:
    """A(P, x_n, ℓ_n) = (1 − M) ⊙ x_n + M ⊙ P placed at ℓ_n = positions[n] (differentiable
    in the patch, so its gradient is the sum over every place it was pasted)."""
    _, channels, height, width = x.shape
    size = patch.shape[-1]
    if patch.shape != (channels, size, size):
        raise ValueError(
            f"patch must be ({channels}, s, s) for images {x.shape}, got {patch.shape}"
        )
    positions = np.asarray(positions)
    if positions.shape != (x.shape[0], 2):
        raise ValueError(f"positions must be ({x.shape[0]}, 2) (row, col), got {positions.shape}")
    placed, masks = [], np.zeros((x.shape[0], 1, height, width), dtype=x.dtype)
    for n, (row, col) in enumerate(positions):
        if not (0 <= row <= height - size and 0 <= col <= width - size):
            raise ValueError(f"position ({row}, {col}) puts the {size}×{size} patch off the image")
        margins = (int(col), int(width - size - col), int(row), int(height - size - row))
        placed.append(F.pad(patch.reshape(1, channels, size, size), margins))
        masks[n, :, row : row + size, col : col + size] = 1
    mask = mg.tensor(masks, device=x.device)
    return x * (1 - mask) + mg.cat(placed, 0)


def train_patch(
    model: Model,
    images: mg.Tensor,
    target: int,
    *,
    size: int,
    steps: int = 200,
    batch_size: int = 64,
    step_size: float = 0.02,
    clip_min: float = 0.0,
    clip_max: float = 1.0,
) -> mg.Tensor:
    """P ← clip(P − α · sign(∇P Σ_n ℓ(f(A(P, x_n, ℓ_n)), t))) over random batches and
    positions, starting from uniform noise; returns P of shape (C, size, size)."""
    check_images(images, clip_min, clip_max)
    steps = check_count(steps, "steps")
    batch_size = check_count(batch_size, "batch_size")
    step_size = check_eps(step_size, "step_size")
    _, channels, height, width = images.shape
    if not isinstance(size, int) or not 1 <= size <= min(height, width):
        raise ValueError(f"size must be an int in [1, {min(height, width)}], got {size!r}")
    with mg.no_grad():
        classes = logits_of(model, images[:1]).shape[1]
    if not isinstance(target, int) or not 0 <= target < classes:
        raise ValueError(f"target must be a class index in [0, {classes}), got {target!r}")
    patch = mg.rand(channels, size, size, dtype=images.dtype) * (clip_max - clip_min) + clip_min
    with frozen_parameters(model):
        for _ in range(steps):
            picks = mg.randint(0, images.shape[0], (batch_size,)).numpy()
            batch = images[picks]
            positions = random_positions(batch_size, (height, width), size)
            patch_var = patch.detach().requires_grad_(True)
            logits = logits_of(model, paste_patch(batch, patch_var, positions))
            goal = mg.full((batch_size,), target, dtype=mg.int64, device=images.device)
            (grad,) = mg.grad(F.cross_entropy(logits, goal, reduction="sum"), patch_var)
            with mg.no_grad():
                patch = (patch - grad.sign() * step_size).clamp(clip_min, clip_max)
    return patch.detach()


def patch_success_rate(
    model: Model, images: mg.Tensor, labels: mg.Tensor, patch: mg.Tensor, target: int
) -> float:
    """Fraction of the images not already of class t that the model calls t once the patch
    is pasted at a fresh random position on each."""
    keep = labels.numpy() != target
    if not keep.any():
        raise ValueError(f"every image is of the target class {target}: nothing to attack")
    subset = images[np.flatnonzero(keep)]
    positions = random_positions(subset.shape[0], subset.shape[2:], patch.shape[-1])
    with mg.no_grad():
        predictions = logits_of(model, paste_patch(subset, patch, positions)).argmax(dim=1)
    return float(np.mean(predictions.numpy() == target))
