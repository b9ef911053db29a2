"""Each defence beside the undefended model: clean accuracy and accuracy under FGSM and
PGD-40 over the ε grid, on Fashion-MNIST.

    python -m adversarial.experiments.defences [--defences none,pgd,...] [--examples 1000]

Trains (or resumes) one run per defence in ``runs/adversarial/<defence>`` with the same
architecture, data, seed and ε = 0.1, then attacks the first ``--examples`` test images.
Model selection uses the validation split only (never the test set): for a defence, the
checkpoint of the epoch with the best held-out PGD-10 accuracy (early stopping as in Wong
et al. 2020 and Rice et al. 2020); for the undefended model, the last epoch.
Writes ``docs/results/adversarial/defences.json`` and ``defences.png``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import minigrad as mg
from adversarial.attacks import fgsm, pgd
from adversarial.training import TrainOptions, load_classifier, load_split, train
from minigrad.images import save_line_plots
from minigrad.models import accuracy
from minigrad.runs import RunFolder, write_text_atomically

EPS_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
# Epochs per defence, sized so the whole sweep fits in well under an hour on 2 cores.
EPOCHS = {"none": 10, "fgsm": 10, "pgd": 6, "fgsm_rs": 10, "mixup": 10, "input_gradient": 10}
OUT = Path("docs/results/adversarial")


def selected_epoch(defence: str, history: list[dict], selection: str) -> int:
    """The last epoch for the undefended model (or with ``selection="last"``); else the
    epoch of best validation PGD-10 accuracy."""
    if defence == "none" or selection == "last":
        return history[-1]["step"]
    best = max(history, key=lambda record: record["val_pgd_accuracy"])
    return best["step"]


def attacked_accuracy(model, x, y, attack: str, eps: float, steps: int = 40) -> float:
    """Accuracy on (x, y) after the attack, in batches of 500."""
    correct = 0
    for start in range(0, len(x), 500):
        xb, yb = x[start : start + 500], y[start : start + 500]
        if attack == "fgsm":
            x_adv = fgsm(model, xb, yb, eps=eps, clip_min=0.0, clip_max=1.0)
        else:
            step = 2.5 * eps / steps if eps else 1.0
            x_adv = pgd(
                model, xb, yb, eps=eps, step_size=step, steps=steps, clip_min=0.0, clip_max=1.0
            )
        with mg.no_grad():
            correct += int((model(x_adv).argmax(dim=1) == yb).numpy().sum())
    return correct / len(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--defences", default=",".join(EPOCHS))
    parser.add_argument("--architecture", default="wong")
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument(
        "--selection",
        choices=("validation", "last"),
        default="validation",
        help="which checkpoint of each run: best validation PGD-10 epoch, or the last",
    )
    args = parser.parse_args()
    x_test, y_test = load_split("fashion_mnist", "test")
    results = {}
    for defence in args.defences.split(","):
        started = time.time()
        folder = "undefended" if defence == "none" else defence
        options = TrainOptions(
            run_dir=f"runs/adversarial/{folder}",
            architecture=args.architecture,
            defence=defence,
            epochs=EPOCHS[defence],
            eps=0.1,
            progress=False,
        )
        result = train(options, resume=True)
        epoch = selected_epoch(defence, result.history, args.selection)
        model, _ = load_classifier(RunFolder(options.run_dir).checkpoint_path(epoch))
        mg.manual_seed(0)
        x, y = x_test[: args.examples], y_test[: args.examples]
        entry = {
            "epochs": EPOCHS[defence],
            "selected_epoch": epoch,
            "stopped_early": result.stopped_early,
            "clean_accuracy_10k": accuracy(model, x_test, y_test),
            "fgsm": [attacked_accuracy(model, x, y, "fgsm", eps) for eps in EPS_GRID],
            "pgd40": [attacked_accuracy(model, x, y, "pgd", eps) for eps in EPS_GRID],
            "history": result.history,
            "seconds_train_and_eval": round(time.time() - started, 1),
        }
        results[defence] = entry
        print(defence, {k: v for k, v in entry.items() if k != "history"}, flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    document = {
        "eps_grid": EPS_GRID,
        "examples": args.examples,
        "architecture": args.architecture,
        "defences": results,
    }
    stem = "defences" if args.selection == "validation" else "defences_last_epoch"
    write_text_atomically(OUT / f"{stem}.json", json.dumps(document, indent=2) + "\n")
    save_line_plots(
        OUT / f"{stem}.png",
        {
            "PGD-40 accuracy": {name: r["pgd40"] for name, r in results.items()},
            "FGSM accuracy": {name: r["fgsm"] for name, r in results.items()},
        },
        x=EPS_GRID,
        xlabel="L∞ eps (Fashion-MNIST, pixels in [0, 1])",
    )


if __name__ == "__main__":
    main()
