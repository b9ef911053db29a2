"""The adversarial sticker (Brown et al. 2017) on the undefended Fashion-MNIST CNN: how
often a patch trained on 500 images forces its class on 1,000 unseen ones, pasted at a
random place, against a random-noise patch of the same size.

    python -m adversarial.experiments.patch_sizes [--target 8]
        [--workers N | --scheduler tcp://HOST:PORT] [--runs DIR] [--results DIR]

Each patch size is an independent run of one sweep (``minigrad.sweeps``; docs/sweeps.md),
seeded by its size. Writes ``patch.json``, ``patch.png`` (success vs size) and
``patch_examples.png`` (the largest patch pasted on unseen images, at positions drawn
from seed ``EXAMPLES_SEED``) into ``--results`` (the committed ones:
``--results docs/results/adversarial``).
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
from minigrad.sweeps import add_sweep_arguments, executor_choice, exit_with_summary, run_sweep

SIZES = (4, 8, 12, 16, 20)
EXAMPLES_SEED = 0  # where the largest patch lands on the example images


def patch_run(checkpoint: str, target: int, steps: int, size: int) -> dict:
    """Train a ``size``-pixel patch for ``target`` on 500 test images; measure it and noise
    on 1,000 others. The patch comes back as an array, for the example picture."""
    model, config = load_classifier(checkpoint)
    x_test, y_test = load_split(config["dataset"], "test")
    x_train_patch = x_test[1000:1500]
    x_eval, y_eval = x_test[:1000], y_test[:1000]
    mg.manual_seed(size)
    patch = train_patch(
        model,
        x_train_patch,
        target,
        size=size,
        steps=steps,
        clip_min=0.0,
        clip_max=1.0,
    )
    noise = mg.rand(1, size, size)
    return {
        "size": size,
        "area_fraction": size * size / (28 * 28),
        "patch_success": patch_success_rate(model, x_eval, y_eval, patch, target),
        "noise_success": patch_success_rate(model, x_eval, y_eval, noise, target),
        "patch": patch.numpy(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--checkpoint", default=None, help="the attacked model (default: <runs>/undefended)"
    )
    parser.add_argument("--target", type=int, default=8)
    parser.add_argument("--steps", type=int, default=300)
    add_sweep_arguments(parser, runs="runs/adversarial", results="runs/adversarial/results")
    args = parser.parse_args(argv)
    choice = executor_choice(parser, args)
    checkpoint = Path(args.checkpoint).resolve() if args.checkpoint else args.runs / "undefended"
    sweep = [
        {"checkpoint": str(checkpoint), "target": args.target, "steps": args.steps, "size": size}
        for size in SIZES
    ]
    outcome = run_sweep(
        patch_run,
        sweep,
        choice,
        retries=args.retries,
        description="patch sizes",
        show=lambda _, row: str({key: value for key, value in row.items() if key != "patch"}),
    )
    rows = [result for _, result in outcome.finished]
    if rows:
        write_document(rows, args, checkpoint)
    exit_with_summary(outcome)


def write_document(rows: list[dict], args: argparse.Namespace, checkpoint: Path) -> None:
    """``patch.json``, ``patch.png`` and ``patch_examples.png`` into ``--results``."""
    _, config = load_classifier(str(checkpoint))
    x_eval = load_split(config["dataset"], "test")[0][:1000]
    largest = mg.tensor(rows[-1]["patch"])  # the last size is the largest
    rows = [{key: value for key, value in row.items() if key != "patch"} for row in rows]
    document = {
        "target": args.target,
        "target_name": FASHION_MNIST_CLASSES[args.target],
        "steps": args.steps,
        "rows": rows,
    }
    out = args.results
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomically(out / "patch.json", json.dumps(document, indent=2) + "\n")
    save_line_plots(
        out / "patch.png",
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
    mg.manual_seed(EXAMPLES_SEED)
    size = largest.shape[-1]
    pasted = paste_patch(shown, largest, random_positions(8, (28, 28), size))
    save_image_grid(
        mg.cat([shown, pasted], 0),
        out / "patch_examples.png",
        nrow=8,
        value_range=(0.0, 1.0),
        scale=3,
    )


if __name__ == "__main__":
    main()
