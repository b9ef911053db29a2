"""Each defence beside the undefended model: clean accuracy and accuracy under FGSM and
PGD-40 over the ε grid, on Fashion-MNIST.

    python -m adversarial.experiments.defences [--defences none,pgd,...] [--examples 1000]
        [--workers N | --scheduler tcp://HOST:PORT] [--runs DIR] [--results DIR]

Trains (or resumes: a finished run is not trained again) one run per defence in
``<runs>/<defence>`` with the same architecture, data, seed and ε = 0.1, then attacks the
first ``--examples`` test images. The defences are independent runs of one sweep
(``minigrad.sweeps``: one after another by default, or in parallel; docs/sweeps.md).
Model selection uses the validation split only (never the test set): for a defence, the
checkpoint of the epoch with the best held-out PGD-10 accuracy (early stopping as in Wong
et al. 2020 and Rice et al. 2020); for the undefended model, the last epoch.
Writes ``defences.json`` and ``defences.png`` into ``--results`` (the committed ones:
``--results docs/results/adversarial``).
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
from minigrad.sweeps import add_sweep_arguments, executor_choice, exit_with_summary, run_sweep

EPS_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
# Epochs per defence, sized so the whole sweep fits in well under an hour on 2 cores.
EPOCHS = {"none": 10, "fgsm": 10, "pgd": 6, "fgsm_rs": 10, "mixup": 10, "input_gradient": 10}


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


def defence_run(
    defence: str, architecture: str, examples: int, selection: str, runs: str
) -> dict:
    """Train (or resume) one defence's run, pick its checkpoint, and attack it."""
    started = time.time()
    x_test, y_test = load_split("fashion_mnist", "test")
    folder = "undefended" if defence == "none" else defence
    options = TrainOptions(
        run_dir=str(Path(runs) / folder),
        architecture=architecture,
        defence=defence,
        epochs=EPOCHS[defence],
        eps=0.1,
        progress=False,
    )
    # Resume only a run that has a checkpoint: a run folder that does not exist yet (or
    # whose run stopped before its first checkpoint) is a fresh start.
    resume = RunFolder(options.run_dir).latest_checkpoint() is not None
    result = train(options, resume=resume)
    epoch = selected_epoch(defence, result.history, selection)
    model, _ = load_classifier(RunFolder(options.run_dir).checkpoint_path(epoch))
    mg.manual_seed(0)
    x, y = x_test[:examples], y_test[:examples]
    return {
        "epochs": EPOCHS[defence],
        "selected_epoch": epoch,
        "stopped_early": result.stopped_early,
        "clean_accuracy_10k": accuracy(model, x_test, y_test),
        "fgsm": [attacked_accuracy(model, x, y, "fgsm", eps) for eps in EPS_GRID],
        "pgd40": [attacked_accuracy(model, x, y, "pgd", eps) for eps in EPS_GRID],
        "history": result.history,
        "seconds_train_and_eval": round(time.time() - started, 1),
    }


def _shown(parameters: dict, entry: dict) -> str:
    shown = {key: value for key, value in entry.items() if key != "history"}
    return f"{parameters['defence']} {shown}"


def main(argv: list[str] | None = None) -> None:
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
    add_sweep_arguments(parser, runs="runs/adversarial", results="runs/adversarial/results")
    args = parser.parse_args(argv)
    choice = executor_choice(parser, args)
    unknown = sorted(set(args.defences.split(",")) - set(EPOCHS))
    if unknown:
        parser.error(f"--defences: unknown {unknown}; choose from {','.join(EPOCHS)}")
    sweep = [
        {
            "defence": defence,
            "architecture": args.architecture,
            "examples": args.examples,
            "selection": args.selection,
            "runs": str(args.runs),
        }
        for defence in args.defences.split(",")
    ]
    outcome = run_sweep(
        defence_run, sweep, choice, retries=args.retries, description="defences", show=_shown
    )
    results = {run["defence"]: entry for run, entry in outcome.finished}
    if results:
        write_document(results, args)
    exit_with_summary(outcome)


def write_document(results: dict[str, dict], args: argparse.Namespace) -> None:
    """``defences.json`` (or ``defences_last_epoch.json``) and its plot into ``--results``."""
    out = args.results
    out.mkdir(parents=True, exist_ok=True)
    document = {
        "eps_grid": EPS_GRID,
        "examples": args.examples,
        "architecture": args.architecture,
        "defences": results,
    }
    stem = "defences" if args.selection == "validation" else "defences_last_epoch"
    write_text_atomically(out / f"{stem}.json", json.dumps(document, indent=2) + "\n")
    save_line_plots(
        out / f"{stem}.png",
        {
            "PGD-40 accuracy": {name: r["pgd40"] for name, r in results.items()},
            "FGSM accuracy": {name: r["fgsm"] for name, r in results.items()},
        },
        x=EPS_GRID,
        xlabel="L∞ eps (Fashion-MNIST, pixels in [0, 1])",
    )


if __name__ == "__main__":
    main()
