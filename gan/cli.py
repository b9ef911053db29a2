"""``python -m gan train | sample | evaluate | grow``: parse arguments, call the library.

python -m gan train --data fashion-mnist            # the DCGAN main job, ~25 min on 2 cores
python -m gan train --data ring --remedy minibatch-stddev --out runs/ring
python -m gan train --out runs/gan --resume         # continue a killed run bit for bit
python -m gan sample --checkpoint runs/gan --n 64   # a grid of new samples
python -m gan sample --checkpoint runs/gan --n 10000 --format npy   # for external tools
python -m gan evaluate --checkpoint runs/gan        # FD, classifier score, ... -> JSON

A mistake (a bad value, an occupied run folder, a damaged checkpoint) ends with one line
on stderr and exit status 2; a run that diverges (NaN) stops with one line and status 1,
keeping its last good checkpoint.
python -m gan grow --data fashion-mnist             # progressive growing, 4x4 -> 32x32
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from gan.learning_round import LOSSES
from gan.options import DATA, DATA_DEFAULTS, LR_DECAYS, TrainOptions
from gan.progressive.command import add_grow_command, run_grow
from gan.remedies import REMEDIES
from gan.sample import FORMATS
from minigrad.command_line import ArgumentParser, given_options, run_command
from minigrad.runs import CHECKPOINT_DIR, write_text_atomically

MAX_EVALUATION_SAMPLES = 100_000

HELP = {
    "data": "what to learn: fashion-mnist or mnist (DCGAN on images), ring (8 Gaussians on a "
    "circle), grid (5x5 Gaussians) or gaussian-1d (N(2, 0.5) from z ~ U(0, 1))",
    "out": "run folder: config.json, metrics.jsonl, samples/, samples.gif, curves.png, "
    "checkpoints/",
    "steps": "learning rounds to train (one generator update each)",
    "batch_size": "real (and fake) examples per discriminator step",
    "z_dim": "size of the noise vector z",
    "g_width": "generator width (DCGAN: channels of its last hidden map; MLP: units per layer)",
    "d_width": "discriminator width (DCGAN: channels of its first conv; MLP: units per layer)",
    "image_size": "image side for the DCGAN, 28 or 32 (data zero-padded to 32)",
    "loss": "nonsaturating (G maximises log D(G(z))), minimax (G minimises log(1 - D(G(z))), "
    "the value function taken literally) or wgan-gp (Wasserstein critic + gradient penalty)",
    "d_steps": "k: discriminator steps per generator step",
    "gp_weight": "weight of the WGAN-GP gradient penalty",
    "g_batch_norm": "BatchNorm in the toy MLP generator (the DCGAN generator always has it)",
    "remedy": "mode-collapse remedy in D: none, minibatch-discrimination (Salimans 2016) or "
    "minibatch-stddev (Karras 2018)",
    "stddev_group": "group size of the minibatch-stddev layer",
    "lr_g": "Adam learning rate of the generator",
    "lr_d": "Adam learning rate of the discriminator",
    "beta1": "Adam beta1 of both players",
    "beta2": "Adam beta2 of both players",
    "lr_decay": "learning-rate schedule: constant, or linear (down to 0 at the last step)",
    "seed": "seed of every random number of the run",
    "sample_every": "steps between sample pictures from a fixed z",
    "checkpoint_every": "steps between checkpoints (and curve plots)",
    "keep_checkpoints": "how many of the newest checkpoints to keep",
    "device": "cpu, cuda or cuda-simulator",
    "progress": "show a progress bar",
}


def _defaults_text() -> str:
    lines = ["per-data defaults (used for options not given):"]
    for data, values in DATA_DEFAULTS.items():
        lines.append(f"  {data}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    return "\n".join(lines)


def _add_train(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train",
        help="train a GAN and leave its pictures in a run folder",
        description="Train a GAN: k discriminator steps (reals, then fakes) and one generator "
        "step through the frozen discriminator per learning round.",
        epilog=_defaults_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = TrainOptions()
    for field in fields(TrainOptions):
        flag = "--" + field.name.replace("_", "-")
        default = getattr(defaults, field.name)
        text = HELP[field.name]
        if field.name == "progress":
            parser.add_argument(
                "--no-progress", dest="progress", action="store_false", help="hide the progress bar"
            )
            continue
        if field.name == "g_batch_norm":
            parser.add_argument("--g-batch-norm", action="store_true", help=text)
            continue
        kind = {"int": int, "float": float, "str": str}
        annotation = str(field.type).split(" | ")[0]
        shown = "per-data default" if default is None else default
        choices = {"data": DATA, "loss": LOSSES, "remedy": REMEDIES, "lr_decay": LR_DECAYS}.get(
            field.name
        )
        parser.add_argument(
            flag,
            dest=field.name,
            type=kind[annotation],
            default=default,
            choices=choices,
            help=f"{text} (default: {shown})",
        )
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its newest checkpoint"
    )


def _add_sample(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("sample", help="draw new samples from a trained generator")
    parser.add_argument(
        "--checkpoint",
        required=True,
        help="a checkpoint file, or a run folder (its newest checkpoint)",
    )
    parser.add_argument("--n", type=int, default=64, help="number of samples (default: 64)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise (default: 0)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="png",
        help="png (a picture), npy (the samples: images as (N, 1, 28, 28) pixels in [0, 1]) "
        "or npz (samples and z) (default: png)",
    )
    parser.add_argument(
        "--out", default=None, help="file to write (default: sample.FORMAT in the run folder)"
    )


def _add_evaluate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "evaluate", help="measure a trained generator (FD, scores, mode coverage)"
    )
    parser.add_argument(
        "--checkpoint",
        required=True,
        help="a checkpoint file, or a run folder (its newest checkpoint)",
    )
    parser.add_argument(
        "--n",
        type=int,
        default=None,
        help="samples to draw (default: 10000 images, 2500 toy points)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise (default: 0)")
    parser.add_argument(
        "--out", default=None, help="JSON to write (default: evaluation.json in the run folder)"
    )


def run_folder_of(checkpoint: str) -> Path:
    """The run folder a --checkpoint belongs to (the folder itself, or the one holding
    ``checkpoints/``), where outputs go by default; a loose file's own folder otherwise."""
    path = Path(checkpoint)
    if path.is_dir():
        return path
    return path.parent.parent if path.parent.name == CHECKPOINT_DIR else path.parent


def output_file(given: str | None, checkpoint: str, default_name: str) -> Path:
    """``--out`` checked (a file in an existing folder), or the run folder's default."""
    if given is None:
        return run_folder_of(checkpoint) / default_name
    if given.strip() == "":
        raise ValueError("--out is empty; give a file name or leave --out out")
    out = Path(given)
    if out.is_dir():
        example = out / default_name
        raise IsADirectoryError(f"--out {out} is a folder; give a file name, e.g. {example}")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"--out {out}: folder {out.parent} does not exist")
    return out


def check_device(device: str) -> None:
    """Refuse a device this machine cannot use, in one line (before anything is written)."""
    import minigrad as mg

    try:
        mg.zeros(1, device=device)
    except (RuntimeError, ImportError) as error:
        raise ValueError(f"--device {device}: {error}") from None


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser of ``python -m gan`` and its subcommands' parsers by name."""
    parser = ArgumentParser(
        prog="python -m gan",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_train(commands)
    _add_sample(commands)
    _add_evaluate(commands)
    # Progressive growing (issue 5) keeps its arguments in its own package.
    add_grow_command(commands)
    return parser, dict(commands.choices)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser, subparsers = build_parser()
    args = parser.parse_args(argv)
    given = given_options(subparsers[args.command], argv)
    return run_command(f"python -m gan {args.command}", lambda: _run(args, given))


def _run(args: argparse.Namespace, given: set[str]) -> int:
    """train, sample, evaluate or grow, as parsed."""
    if args.command == "grow":
        run_grow(args, given)
    elif args.command == "train":
        from gan.run_summary import train_summary
        from gan.trainer import train

        values = {field.name: getattr(args, field.name) for field in fields(TrainOptions)}
        check_device(args.device)
        folder = train(TrainOptions(**values), resume=args.resume, given=given)
        print(train_summary(folder))
    elif args.command == "sample":
        from gan.sample import check_sample_request, sample_to_file

        check_sample_request(args.n, args.format)
        out = output_file(args.out, args.checkpoint, f"sample.{args.format}")
        sample_to_file(args.checkpoint, out, args.n, args.seed, args.format)
        print(f"wrote {out}")
    else:
        from gan.evaluate.checkpoint import evaluate_checkpoint, evaluation_summary

        if args.n is not None and not 2 <= args.n <= MAX_EVALUATION_SAMPLES:
            raise ValueError(f"--n must be between 2 and {MAX_EVALUATION_SAMPLES}, got {args.n}")
        out = output_file(args.out, args.checkpoint, "evaluation.json")
        result = evaluate_checkpoint(args.checkpoint, args.n, args.seed)
        write_text_atomically(out, json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        print(f"wrote {out}")
        print(evaluation_summary(result))
    return 0
