"""The lecture's "many pixels" claim, measured: how well does D's image gradient point?

    python -m gan.experiments.gradient_directions [--seeds 3] [--steps 300]

> "Many pixels can lead to error gradients that cause the generator's output to move in
> almost random directions, rather than getting closer to matching the inputs."

At each resolution r in 4, 8, 16, 32 px (Fashion-MNIST padded to 32 and average-pooled)
we train a small convolutional D for a fixed number of steps to tell real images from the
fakes of a fixed, imperfect generator — a Gaussian with the data's per-pixel mean and
standard deviation (right first moments, no structure: a stand-in for G early in
training). Then we look at the image gradient D sends back to G, g = ∇x (−log D(x)) at
fresh fakes (the non-saturating loss; G moves its images along −g):

* ``d_accuracy``: how easily D separates reals from fakes (held-out batches);
* ``batch_agreement``: cosine between the mean −g of two independent fake batches —
  1 when every batch asks G for the same change, ~0 when the advice is noise;
* ``example_agreement``: mean cosine between the advice to two different fakes of one
  batch — how much of each fake's update is shared rather than its own;
* ``toward_data``: mean over fakes of cos(−g_i, nearest real − x_i), the alignment of
  each fake's update with the way to the data;
* ``random_baseline``: E|cos| of two random directions in r² dimensions, √(2 / (π r²)).

Writes ``results/gradient_directions.json`` and ``.png`` next to this file.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from gan.build import to_generator_range
from gan.learning_round import frozen
from gan.losses import discriminator_loss, generator_loss_nonsaturating

RESOLUTIONS = (4, 8, 16, 32)
KEYS = ("d_accuracy", "batch_agreement", "example_agreement", "toward_data", "random_baseline")
RESULTS = Path(__file__).parent / "results"


def pooled_images(resolution: int, count: int) -> np.ndarray:
    """Fashion-MNIST training images in [-1, 1], padded to 32 px, pooled to ``resolution``."""
    images, _ = mg.data.fashion_mnist("train", download=False, progress=False).tensors
    x = mg.tensor(to_generator_range(images[:count].numpy(), image_size=32))
    return F.avg_pool2d(x, 32 // resolution).numpy() if resolution < 32 else x.numpy()


def small_discriminator(resolution: int, width: int = 16) -> nn.Module:
    """Stride-2 3x3 convs from r down to 4 px (LeakyReLU 0.2), then one logit."""
    layers: list[nn.Module] = [nn.Conv2d(1, width, 3, padding=1), nn.LeakyReLU(0.2)]
    size = resolution
    while size > 4:
        layers += [nn.Conv2d(width, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        size //= 2
    layers += [nn.Flatten(), nn.Linear(width * 16, 1)]
    return nn.Sequential(*layers)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two (n, d) arrays."""
    return np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)


def measure(resolution: int, seed: int, steps: int, batch: int = 64) -> dict:
    mg.manual_seed(seed)
    reals = pooled_images(resolution, 12_000)
    train, held_out = reals[:10_000], reals[10_000:]
    mean, std = train.mean(0), train.std(0)

    def fakes(count: int) -> mg.Tensor:
        return mg.tensor(mean) + mg.tensor(std) * mg.randn(count, *mean.shape)

    discriminator = small_discriminator(resolution)
    optimizer = mg.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        real = mg.tensor(train[rng.integers(0, len(train), batch)])
        optimizer.zero_grad()
        discriminator_loss(discriminator(real), discriminator(fakes(batch))).backward()
        optimizer.step()

    with mg.no_grad():
        real_logits = discriminator(mg.tensor(held_out[:500])).numpy()
        fake_logits = discriminator(fakes(500)).numpy()
    d_accuracy = float((np.mean(real_logits > 0) + np.mean(fake_logits < 0)) / 2)

    def advice(count: int) -> tuple[np.ndarray, np.ndarray]:
        """(fakes, −∇x L_G at each fake), flattened."""
        x = fakes(count).requires_grad_(True)
        with frozen(discriminator):
            # Summed, not averaged, so each fake's gradient is its own loss's gradient.
            (grad,) = mg.grad(generator_loss_nonsaturating(discriminator(x)) * count, x)
        return x.detach().numpy().reshape(count, -1), -grad.numpy().reshape(count, -1)

    agreements, example_agreements = [], []
    for _ in range(10):
        _, first = advice(batch)
        _, second = advice(batch)
        agreements.append(float(cosine(first.mean(0)[None], second.mean(0)[None])[0]))
        unit = first / (np.linalg.norm(first, axis=1, keepdims=True) + 1e-12)
        pairs = unit @ unit.T
        example_agreements.append(float(pairs[~np.eye(batch, dtype=bool)].mean()))
    x, step = advice(200)
    bank = held_out.reshape(len(held_out), -1)
    # ‖x − b‖² = ‖x‖² − 2 x·b + ‖b‖², without a (fakes, bank, pixels) array in memory.
    distances = (x * x).sum(1)[:, None] - 2 * x @ bank.T + (bank * bank).sum(1)[None, :]
    nearest = bank[np.argmin(distances, axis=1)]
    return {
        "resolution": resolution,
        "seed": seed,
        "d_accuracy": d_accuracy,
        "batch_agreement": float(np.mean(agreements)),
        "example_agreement": float(np.mean(example_agreements)),
        "toward_data": float(np.mean(cosine(step, nearest - x))),
        "random_baseline": math.sqrt(2 / (math.pi * resolution**2)),
    }


def summarise(runs: list[dict]) -> dict:
    table = {}
    for resolution in RESOLUTIONS:
        rows = [r for r in runs if r["resolution"] == resolution]
        table[str(resolution)] = {
            key: {"mean": float(np.mean([r[key] for r in rows])),
                  "std": float(np.std([r[key] for r in rows]))}
            for key in KEYS
        }
    return table


def plot(summary: dict, path: Path) -> None:
    figure, axis = plt.subplots(figsize=(5.5, 3.8))
    sizes = [int(r) for r in summary]
    for key, label in (
        ("d_accuracy", "D's accuracy"),
        ("batch_agreement", "cos(mean advice, batch A vs B)"),
        ("example_agreement", "cos(advice to two fakes)"),
        ("toward_data", "cos(advice, nearest real - fake)"),
        ("random_baseline", "E|cos| of random directions"),
    ):
        means = [summary[str(r)][key]["mean"] for r in sizes]
        stds = [summary[str(r)][key]["std"] for r in sizes]
        axis.errorbar(sizes, means, yerr=stds, marker="o", capsize=3, label=label)
    axis.set_xscale("log", base=2)
    axis.set_xticks(sizes, [f"{r} px" for r in sizes])
    axis.set_ylim(-0.05, 1.05)
    axis.legend(fontsize=8)
    axis.set_title("D's image gradient (the advice to G) against image size", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300, help="D's training steps")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args(argv)
    started = time.time()
    runs = [measure(r, seed, args.steps) for r in RESOLUTIONS for seed in range(args.seeds)]
    summary = summarise(runs)
    args.out.mkdir(parents=True, exist_ok=True)
    record = {
        "steps": args.steps,
        "seeds": args.seeds,
        "summary": summary,
        "runs": runs,
        "machine": platform.processor() or platform.machine(),
        "seconds": round(time.time() - started, 1),
    }
    (args.out / "gradient_directions.json").write_text(json.dumps(record, indent=2) + "\n")
    plot(summary, args.out / "gradient_directions.png")
    for resolution, row in summary.items():
        print(f"{resolution:>3} px: " + "  ".join(
            f"{key} {value['mean']:.3f}±{value['std']:.3f}" for key, value in row.items()))


if __name__ == "__main__":
    main()
