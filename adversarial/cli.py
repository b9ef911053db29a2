"""``python -m adversarial train | attack | report``: parse arguments, call the library.

python -m adversarial train  --out runs/wong --epochs 5
python -m adversarial train  --out runs/wong-pgd --defence pgd --eps 0.1
python -m adversarial train  --out runs/wong --epochs 8 --resume   # continue, 3 more epochs
python -m adversarial attack --checkpoint runs/wong --attack pgd --eps 0.1 --out out/pgd
python -m adversarial report --checkpoint runs/wong --out out/report-wong

The names are ``python -m gan``'s: ``--out`` (the folder a command writes), ``--data
fashion-mnist|mnist``, ``--seed``, ``--resume``, ``--no-progress``, ``--checkpoint`` (a run
folder or a checkpoint file). The old spellings ``--run-dir`` and ``--dataset
fashion_mnist`` still work, with a note. A mistake ends with one line on stderr and exit
status 2; a diverged run with one line and status 1 (its last good checkpoint kept).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from adversarial.attack_runner import ATTACK_NAMES, AttackOptions, run_attack
from adversarial.models import ARCHITECTURES
from adversarial.report import ReportOptions, robustness_report, write_report
from adversarial.training import (
    DEFENCES,
    TrainOptions,
    load_classifier,
    load_split,
    train,
    training_summary,
)
from minigrad.command_line import ArgumentParser, deprecated_alias, given_options, run_command

DATA = ("fashion-mnist", "mnist")  # the spelling of python -m gan; the library's keys use _
# The command line's names for TrainOptions fields that are spelled differently.
_LIBRARY_NAMES = {"out": "run_dir", "data": "dataset"}
_CLASSES = 10
_IMAGE_SIDE = 28


def _floats(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if not all(math.isfinite(value) for value in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


def _data_name(text: str) -> str:
    """fashion_mnist (the old spelling) -> fashion-mnist."""
    return text.replace("_", "-")


def build_parser() -> ArgumentParser:
    return build_parsers()[0]


def build_parsers() -> tuple[ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser of ``python -m adversarial`` and its subcommands' parsers by name."""
    parser = ArgumentParser(
        prog="python -m adversarial",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    t = commands.add_parser("train", help="train a classifier, optionally with a defence")
    t.add_argument("--out", default=None, help="run folder (config, metrics, checkpoints)")
    t.add_argument(
        "--run-dir", dest="out", action=deprecated_alias("--out", "--run-dir"),
        help=argparse.SUPPRESS,
    )
    t.add_argument("--architecture", choices=sorted(ARCHITECTURES), default="wong")
    t.add_argument("--data", choices=DATA, default="fashion-mnist", help="the data set")
    t.add_argument(
        "--dataset", dest="data", type=_data_name, choices=DATA,
        action=deprecated_alias("--data", "--dataset"), help=argparse.SUPPRESS,
    )
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
    t.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
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
    return parser, dict(commands.choices)


def _options(cls: type, args: argparse.Namespace, **overrides: object):
    """Build the dataclass ``cls`` from the parsed arguments of the same names."""
    values = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
    values.update(overrides)
    return cls(**values)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser, subparsers = build_parsers()
    args = parser.parse_args(argv)
    subparser = subparsers[args.command]
    given = {_LIBRARY_NAMES.get(name, name) for name in given_options(subparser, argv)}
    if args.command == "train" and args.out is None:
        subparser.error("the following arguments are required: --out")
    return run_command(f"python -m adversarial {args.command}", lambda: _run(args, given))


def _run(args: argparse.Namespace, given: set[str]) -> int:
    if args.command == "train":
        options = _options(
            TrainOptions,
            args,
            run_dir=args.out,
            dataset=args.data.replace("-", "_"),
            progress=not args.no_progress,
        )
        result = train(options, resume=args.resume, given=given)
        print(training_summary(result))
        return 0
    _check_output_folder(args.out)
    if args.command == "attack":
        _check_attack(args)
    else:
        _check_report(args)
    model, config = load_classifier(args.checkpoint)
    x_test, y_test = load_split(config["dataset"], "test")
    if args.command == "attack":
        import json

        summary = run_attack(model, x_test, y_test, _options(AttackOptions, args), args.out)
        print(json.dumps(summary, indent=2))
        return 0
    surrogate = load_classifier(args.surrogate)[0] if args.surrogate else None
    report = robustness_report(model, x_test, y_test, _options(ReportOptions, args), surrogate)
    paths = write_report(report, args.out)
    print(report["headline"])
    print(f"written: {', '.join(str(p) for p in paths.values())}")
    return 0


def _check_output_folder(out: str) -> None:
    """--out must name a folder that can be created (not a file, nothing under a file)."""
    if out.strip() == "":
        raise ValueError("--out is empty; give the folder to write into")
    path = Path(out)
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                raise NotADirectoryError(f"--out {out}: {folder} is a file, not a folder")
            return


def _positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")


def _check_attack(args: argparse.Namespace) -> None:
    for name in ("steps", "restarts", "num_examples"):
        _positive("--" + name.replace("_", "-"), getattr(args, name))
    if not (math.isfinite(args.eps) and args.eps > 0):
        raise ValueError(f"--eps must be a finite number > 0, got {args.eps}")
    if args.norm == "inf" and args.eps > 1:
        raise ValueError(f"--eps must be <= 1 for --norm inf (pixels in [0, 1]), got {args.eps}")
    if args.target is not None and not 0 <= args.target < _CLASSES:
        raise ValueError(f"--target must be a class 0..{_CLASSES - 1}, got {args.target}")
    if not 1 <= args.patch_size <= _IMAGE_SIDE:
        raise ValueError(f"--patch-size must be 1..{_IMAGE_SIDE}, got {args.patch_size}")


def _check_report(args: argparse.Namespace) -> None:
    for name in ("pgd_steps", "num_examples", "l2_examples", "jsma_examples"):
        _positive("--" + name.replace("_", "-"), getattr(args, name))
    if not all(0 <= eps <= 1 for eps in args.eps_grid):
        raise ValueError(f"--eps-grid values must be in [0, 1], got {list(args.eps_grid)}")
    if not all(eps >= 0 for eps in args.l2_grid):
        raise ValueError(f"--l2-grid values must be >= 0, got {list(args.l2_grid)}")
