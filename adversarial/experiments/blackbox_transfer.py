"""The black-box attack of Papernot et al. (2017) against the undefended Fashion-MNIST CNN.

    python -m adversarial.experiments.blackbox_transfer [--oracle DIR] [--runs DIR] [--results DIR]

The attacker holds 150 test images (the seeds) and may only ask the oracle for labels.
A LeNet substitute is trained on the oracle's labels while Jacobian augmentation
(λ = 0.1) doubles the synthetic set each round; FGSM examples crafted on the substitute
are then given to the oracle, on 1,000 other test images. For comparison the same FGSM on
the oracle itself (white box). Writes ``blackbox.json``/``.png`` into ``--results`` (the
committed ones: ``--results docs/results/adversarial``). One training run, not a sweep:
the ε grid only evaluates the one substitute.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import minigrad as mg
from adversarial.attacks import fgsm
from adversarial.blackbox import LabelOracle, SubstituteOptions, train_substitute, transfer_attack
from adversarial.models import lenet
from adversarial.training import load_classifier, load_split
from minigrad.images import save_line_plots
from minigrad.runs import write_text_atomically

EPS_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--oracle", default=None, help="default: <runs>/undefended")
    parser.add_argument("--seeds", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=Path, default=Path("runs/adversarial"), metavar="DIR")
    parser.add_argument(
        "--results", type=Path, default=Path("runs/adversarial/results"), metavar="DIR"
    )
    args = parser.parse_args(argv)
    oracle = args.oracle or str(args.runs / "undefended")
    oracle_model, config = load_classifier(oracle)
    x_test, y_test = load_split(config["dataset"], "test")
    # Seeds, the images used to measure agreement, and the attacked images are disjoint.
    seeds = x_test[: args.seeds]
    agreement_images = x_test[5000:6000]
    x_eval, y_eval = x_test[8000:9000], y_test[8000:9000]
    mg.manual_seed(args.seed)
    started = time.time()
    substitute = train_substitute(
        LabelOracle(oracle_model),
        seeds,
        lenet,
        SubstituteOptions(rounds=args.rounds, lam=0.1, epochs_per_round=10),
        agreement_images=agreement_images,
    )
    train_seconds = time.time() - started
    transfer = [
        transfer_attack(oracle_model, substitute.substitute, x_eval, y_eval, eps)
        for eps in EPS_GRID
    ]
    whitebox = []
    for eps in EPS_GRID:
        x_adv = fgsm(oracle_model, x_eval, y_eval, eps=eps, clip_min=0.0, clip_max=1.0)
        with mg.no_grad():
            wrong = (oracle_model(x_adv).argmax(dim=1) != y_eval).numpy().mean()
        whitebox.append(float(wrong))
    document = {
        "oracle": oracle,
        "seeds": args.seeds,
        "rounds": args.rounds,
        "lambda": 0.1,
        "substitute": "lenet",
        "oracle_queries": substitute.queries,
        "substitute_rounds": substitute.history,
        "substitute_training_seconds": round(train_seconds, 1),
        "eps_grid": EPS_GRID,
        "transfer": transfer,
        "whitebox_fgsm_misclassification": whitebox,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    write_text_atomically(args.results / "blackbox.json", json.dumps(document, indent=2) + "\n")
    save_line_plots(
        args.results / "blackbox.png",
        {
            "oracle misclassification rate": {
                "FGSM transferred from the substitute (black box)": [
                    t["misclassification_rate"] for t in transfer
                ],
                "FGSM on the oracle itself (white box)": whitebox,
            }
        },
        x=EPS_GRID,
        xlabel="L∞ eps",
    )
    print(json.dumps({k: v for k, v in document.items() if k != "transfer"}, indent=2))
    print([(t["eps"], round(t["misclassification_rate"], 3)) for t in transfer])


if __name__ == "__main__":
    main()
