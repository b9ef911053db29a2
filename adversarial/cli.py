"""``python -m adversarial train | attack | report``: parse arguments, call the library.

python -m adversarial train  --run-dir runs/wong --epochs 5
python -m adversarial train  --run-dir runs/wong-pgd --defence pgd --eps 0.1
python -m adversarial attack --checkpoint runs/wong --attack pgd --eps 0.1 --out out/pgd
python -m adversarial report --checkpoint runs/wong --out out/report-wong
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import fields

from adversarial.attack_runner import ATTACK_NAMES, AttackOptions, run_attack
from adversarial.models import ARCHITECTURES
from adversarial.report import ReportOptions, robustness_report, write_report
from adversarial.training import (
    DATASETS,
    DEFENCES,
    TrainOptions,
    load_classifier,
    load_split,
    train,
)


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(","))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m adversarial",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    t = commands.add_parser("train", help="train a classifier, optionally with a defence")
    t.add_argument("--run-dir", required=True, help="run folder (config, metrics, checkpoints)")
    t.add_argument("--architecture", choices=sorted(ARCHITECTURES), default="wong")
    t.add_argument("--dataset", choices=sorted(DATASETS), default="fashion_mnist")
    t.add_argument("--defence", choices=DEFENCES, default="none")
    t.add_argument("--epochs", type=int, default=5)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--learning-rate", type=float, default=1e-3)
    t.add_argument("--eps", type=float, default=0.1, help="the defences' L∞ budget")
    t.add_argument("--fgsm-alpha", type=float, default=0.5, help="weight of the clean loss")
    t.add_argument("--pgd-steps", type=int, default=7)
    t.add_argument("--mixup-alpha", type=float, default=1.0)
    t.add_argument("--gradient-penalty", type=float, default=1.0, help="λ of ‖∇x L‖²")
    t.add_argument("--train-size", type=int, default=None, help="first n training images")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--resume", action="store_true", help="continue from the latest checkpoint")
    t.add_argument("--no-progress", action="store_true")

    a = commands.add_parser("attack", help="attack a trained classifier on test images")
    a.add_argument("--checkpoint", required=True, help="checkpoint file or run folder")
    a.add_argument("--attack", choices=ATTACK_NAMES, default="fgsm")
    a.add_argument("--eps", type=float, default=0.1)
    a.add_argument("--norm", choices=("inf", "2"), default="inf")
    a.add_argument("--steps", type=int, default=40)
    a.add_argument("--restarts", type=int, default=1)
    a.add_argument("--target", type=int, default=None, help="target class (targeted attacks)")
    a.add_argument("--patch-size", type=int, default=16)
    a.add_argument("--num-examples", type=int, default=1000)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--out", required=True, help="folder for attack.json and attack.png")

    r = commands.add_parser("report", help="robustness report with the sanity checklist")
    r.add_argument("--checkpoint", required=True, help="checkpoint file or run folder")
    r.add_argument("--surrogate", default=None, help="a second model's checkpoint to transfer from")
    r.add_argument("--eps-grid", type=_floats, default=ReportOptions.eps_grid)
    r.add_argument("--l2-grid", type=_floats, default=ReportOptions.l2_grid)
    r.add_argument("--pgd-steps", type=int, default=ReportOptions.pgd_steps)
    r.add_argument("--num-examples", type=int, default=ReportOptions.num_examples)
    r.add_argument("--l2-examples", type=int, default=ReportOptions.l2_examples)
    r.add_argument("--jsma-examples", type=int, default=ReportOptions.jsma_examples)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", required=True, help="folder for report.json/.md/.png")
    return parser


def _options(cls: type, args: argparse.Namespace, **overrides: object):
    """Build the dataclass ``cls`` from the parsed arguments of the same names."""
    values = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
    values.update(overrides)
    return cls(**values)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "train":
        options = _options(TrainOptions, args, progress=not args.no_progress)
        result = train(options, resume=args.resume)
        print(json.dumps(result.history[-1] if result.history else {}, indent=2))
        return 0
    model, config = load_classifier(args.checkpoint)
    x_test, y_test = load_split(config["dataset"], "test")
    if args.command == "attack":
        summary = run_attack(model, x_test, y_test, _options(AttackOptions, args), args.out)
        print(json.dumps(summary, indent=2))
        return 0
    surrogate = load_classifier(args.surrogate)[0] if args.surrogate else None
    report = robustness_report(model, x_test, y_test, _options(ReportOptions, args), surrogate)
    paths = write_report(report, args.out)
    print(report["headline"])
    print(f"written: {', '.join(str(p) for p in paths.values())}")
    return 0
