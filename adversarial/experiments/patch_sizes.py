"""The adversarial sticker (Brown et al. 2017) on the undefended Fashion-MNIST CNN: how
often a patch trained on 500 images forces its class on 1,000 unseen ones, pasted at a
random place, against a random-noise patch of the same size.

    python -m adversarial.experiments.patch_sizes [--target 8]

Writes ``docs/results/adversarial/patch.json``, ``patch.png`` (success vs size) and
``patch_examples.png`` (the largest patch pasted on unseen images).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import minigrad as mg
from adversarial.attacks import paste_patch, patch_success_rate, train_patch
from adversarial.attacks.patch import random_positions
from adversarial.training import load_classifier, load_split
from minigrad.data import FASHION_MNIST_CLASSES
from minigrad.images import save_image_grid, save_line_plots
from minigrad.runs import write_text_atomically

SIZES = (4, 8, 12, 16, 20)
OUT = Path("docs/results/adversarial")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", default="runs/adversarial/undefended")
    parser.add_argument("--target", type=int, default=8)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    model, config = load_classifier(args.checkpoint)
    x_test, y_test = load_split(config["dataset"], "test")
    x_train_patch = x_test[1000:1500]
    x_eval, y_eval = x_test[:1000], y_test[:1000]
    rows = []
    patch = None
    for size in SIZES:
        mg.manual_seed(size)
        patch = train_patch(
            model,
            x_train_patch,
            args.target,
            size=size,
            steps=args.steps,
            clip_min=0.0,
            clip_max=1.0,
        )
        noise = mg.rand(1, size, size)
        rows.append(
            {
                "size": size,
                "area_fraction": size * size / (28 * 28),
                "patch_success": patch_success_rate(model, x_eval, y_eval, patch, args.target),
                "noise_success": patch_success_rate(model, x_eval, y_eval, noise, args.target),
            }
        )
        print(rows[-1], flush=True)
    document = {
        "target": args.target,
        "target_name": FASHION_MNIST_CLASSES[args.target],
        "steps": args.steps,
        "rows": rows,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    write_text_atomically(OUT / "patch.json", json.dumps(document, indent=2) + "\n")
    save_line_plots(
        OUT / "patch.png",
        {
            f"unseen images classified '{FASHION_MNIST_CLASSES[args.target]}'": {
                "trained patch": [r["patch_success"] for r in rows],
                "random-noise patch": [r["noise_success"] for r in rows],
            }
        },
        x=[r["size"] for r in rows],
        xlabel="patch side (pixels, on 28×28 images)",
    )
    shown = x_eval[:8]
    pasted = paste_patch(shown, patch, random_positions(8, (28, 28), SIZES[-1]))
    save_image_grid(
        mg.cat([shown, pasted], 0),
        OUT / "patch_examples.png",
        nrow=8,
        value_range=(0.0, 1.0),
        scale=3,
    )


if __name__ == "__main__":
    main()
