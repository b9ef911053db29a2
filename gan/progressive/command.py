"""The ``grow`` subcommand of ``python -m gan``: arguments in, gan.progressive.grow called.

    python -m gan grow --data fashion-mnist [--out runs/grow] [--images-per-phase 6000] ...
    python -m gan grow --resume --out runs/grow        # options come from config.json
                                                       # (the folder from --out, always)

Only argument parsing lives here; the work is gan.progressive.grow.grow.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Collection
from dataclasses import fields
from pathlib import Path

from gan.progressive.options import DATA, GrowOptions, options_from_dict
from minigrad.run_start import check_can_start, merge_resumed_options
from minigrad.runs import RunFolder

OPTION_NAMES = tuple(field.name for field in fields(GrowOptions))

_DEFAULTS = GrowOptions()


def _int_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated ints, got {text!r}") from None


def add_grow_command(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``grow`` on ``python -m gan``'s subcommands; returns its parser."""
    parser = commands.add_parser(
        "grow",
        help="train a progressive GAN: 4x4 first, then 8, 16 and 32 with fade-ins",
        description="Progressive growing (Karras et al. 2018): train small networks on 4x4 "
        "images, then add layers and double the resolution, fading each new block in. "
        "Writes per-resolution samples and metrics, a growth picture and checkpoints.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_grow_arguments(parser)
    return parser


def add_grow_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of GrowOptions as command-line flags."""
    d = _DEFAULTS
    add = parser.add_argument
    add("--data", choices=DATA, default=d.data, help="28x28 data set, padded to 32x32")
    add("--out", default=d.out, help="run folder (config, metrics, samples, checkpoints)")
    add(
        "--resume",
        action="store_true",
        help="continue the run in --out from its newest checkpoint (options from its config.json)",
    )
    add(
        "--resolutions",
        type=_int_tuple,
        default=d.resolutions,
        help="resolutions grown through, comma-separated; '32' trains directly at 32x32",
    )
    add("--widths", type=_int_tuple, default=d.widths, help="feature maps at 4, 8, 16, 32 px")
    add("--z-dim", type=int, default=d.z_dim, help="latent size")
    add("--batch-size", type=int, default=d.batch_size)
    add(
        "--images-per-phase",
        type=int,
        default=d.images_per_phase,
        help="images shown in each fade-in and each stabilisation phase",
    )
    add(
        "--final-images",
        type=int,
        default=d.final_images,
        help="images of the last stabilisation at full size",
    )
    add("--lr", type=float, default=d.lr, help="Adam learning rate (both players)")
    add("--beta1", type=float, default=d.beta1)
    add("--beta2", type=float, default=d.beta2)
    add("--gp-weight", type=float, default=d.gp_weight, help="lambda of the gradient penalty")
    add("--drift-weight", type=float, default=d.drift_weight, help="eps_drift: weight of E D(x)^2")
    add("--stddev-group", type=int, default=d.stddev_group, help="minibatch stddev group size")
    add(
        "--ema-half-life-images",
        type=float,
        default=d.ema_half_life_images,
        help="half-life of the average of G's weights, in images shown",
    )
    add(
        "--checkpoint-every",
        type=int,
        default=d.checkpoint_every,
        help="rounds between checkpoints",
    )
    add("--keep-checkpoints", type=int, default=d.keep_checkpoints)
    add(
        "--eval-samples",
        type=int,
        default=d.eval_samples,
        help="generated images per evaluation at the end of each resolution (0: none)",
    )
    add(
        "--train-examples",
        type=int,
        default=d.train_examples,
        help="use only the first n training images",
    )
    add("--seed", type=int, default=d.seed)
    add("--no-progress", action="store_true", help="no progress bar")


def options_from_arguments(
    args: argparse.Namespace, given: Collection[str] | None = None
) -> GrowOptions:
    """GrowOptions from parsed flags. With --resume: the run's config.json, checked against
    the flags in ``given`` (those typed); --out always comes from the command line."""
    values = {
        field.name: getattr(args, field.name)
        for field in fields(GrowOptions)
        if hasattr(args, field.name)
    }
    values["progress"] = not args.no_progress
    run_config = RunFolder(args.out).config_path if Path(args.out).is_dir() else None
    if args.resume and run_config is not None and run_config.exists():
        saved = RunFolder(args.out).read_config()
        typed = {name: values[name] for name in (given or ()) if name in values}
        typed.pop("out", None)
        typed["progress"] = values["progress"]
        merged = merge_resumed_options(saved, typed, may_change=("progress",))
        merged["out"] = args.out  # paths come from the command line only
        return options_from_dict(merged)
    return GrowOptions(**values)


def run_grow(args: argparse.Namespace, given: Collection[str] | None = None) -> None:
    """Train (or resume) and print a summary of what was made and where."""
    from gan.progressive.evaluation import ResolutionEvaluator
    from gan.progressive.grow import grow
    from gan.run_summary import grow_summary

    # Refuse an occupied folder (or another kind of run) now, before reading its config
    # and before training the scoring classifier.
    check_can_start(args.out, resume=args.resume, config_keys=OPTION_NAMES)
    options = options_from_arguments(args, given)
    evaluator = (
        ResolutionEvaluator(options.data, options.progress) if options.eval_samples else None
    )
    trainer = grow(options, resume=args.resume, evaluator=evaluator)
    print(grow_summary(RunFolder(options.out).root, trainer.resolution))
    last = RunFolder(options.out).path(f"evaluation/res-{trainer.resolution:03d}.json")
    if last.exists():
        print(json.dumps(json.loads(last.read_text()), indent=2))
