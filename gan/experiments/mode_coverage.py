"""Mode coverage on the ring of 8 and the 5x5 grid, with and without a remedy, over seeds.

    python -m gan.experiments.mode_coverage [--seeds 5] [--remedies none minibatch-stddev]
        [--workers N | --scheduler tcp://HOST:PORT] [--runs DIR] [--results DIR]

For every (data, training regime, remedy, steps, seed) it trains a toy GAN with
``gan.trainer.train`` (each run leaves its own run folder under ``--runs``, named by all
five, so runs of different lengths sit side by side), draws 2500
samples and applies the usual protocol (``gan.mode_collapse.mode_coverage``). Training
regimes (the same step counts: ``--steps``, or the data's default):

* ``textbook``: one D-step per G-step and a constant learning rate;
* ``default``: the toy defaults of ``gan.options`` (k = 2 D-steps, linear lr decay);
* ``bn-generator``: the defaults with BatchNorm in the generator's hidden layers.

The runs are independent: they go through ``minigrad.sweeps`` (one after another by
default, ``--workers N`` local processes, or a Dask cluster; docs/sweeps.md), and a run
whose ``result.json`` is present is not trained again. It writes into ``--results``

* ``mode_coverage.json``: every run's numbers and the mean and standard deviation over
  seeds of each (data, regime, remedy, steps) cell, plus the machine and timings. It
  covers every run measured in the ``--runs`` folder so far, so cells can be added by
  later invocations;
* ``mode_coverage.png``: the final samples of every run, one row per
  (data, regime, remedy, steps), one column per seed.

The committed table is ``--runs runs/mode-coverage --results gan/experiments/results``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

import minigrad as mg
from gan.build import generator_from_checkpoint, noise_sampler, toy_target
from gan.mode_collapse import mode_coverage
from gan.options import DATA_DEFAULTS, TrainOptions
from gan.remedies import REMEDIES
from gan.snapshots import generate
from gan.trainer import train
from minigrad.runs import write_text_atomically
from minigrad.sweeps import (
    add_sweep_arguments,
    clear_unfinished,
    executor_choice,
    exit_with_summary,
    load_finished,
    run_sweep,
    save_finished,
)

SAMPLES = 2500
EVALUATION_SEED = 12345  # noise for the 2500 evaluation samples, the same for every run
REGIMES = {
    "textbook": {"d_steps": 1, "lr_decay": "constant"},
    "default": {},
    "bn-generator": {"g_batch_norm": True},
}


def _folder(runs: Path, data: str, regime: str, remedy: str, steps: int, seed: int) -> Path:
    return runs / f"{data}-{regime}-{remedy}-{steps}steps-seed{seed}"


def run_one(
    data: str, regime: str, remedy: str, seed: int, runs: str | Path, steps: int | None
) -> dict:
    """Train one toy GAN and measure its final generator (reused if already measured)."""
    if steps is None:
        steps = DATA_DEFAULTS[data]["steps"]
    folder = _folder(Path(runs), data, regime, remedy, steps, seed)
    finished = load_finished(folder / "result.json")
    if finished is not None:
        return finished
    clear_unfinished(folder)  # a run killed before it was measured
    started = time.perf_counter()
    options = TrainOptions(
        data=data,
        remedy=remedy,
        seed=seed,
        steps=steps,
        out=str(folder),
        progress=False,
        **REGIMES[regime],
    )
    train(options)
    seconds = time.perf_counter() - started
    generator, options = generator_from_checkpoint(folder)
    mg.manual_seed(EVALUATION_SEED)
    samples = generate(generator, noise_sampler(options)(SAMPLES))
    coverage = mode_coverage(samples, toy_target(data))
    np.save(folder / "final_samples.npy", samples)
    result = {
        "data": data,
        "regime": regime,
        "d_steps": options.d_steps,
        "lr_decay": options.lr_decay,
        "remedy": remedy,
        "seed": seed,
        "steps": options.steps,
        "seconds": round(seconds, 1),
        **coverage.as_dict(),
    }
    save_finished(folder / "result.json", result)  # written last: present means complete
    return result


def summarise(results: list[dict]) -> list[dict]:
    """Mean and standard deviation over seeds of each (data, regime, remedy, steps) cell."""
    cells: dict[tuple[str, str, str, int], list[dict]] = {}
    for result in results:
        cells.setdefault(_cell(result), []).append(result)
    summary = []
    for (data, regime, remedy, steps), runs in cells.items():
        row = {
            "data": data,
            "regime": regime,
            "remedy": remedy,
            "steps": steps,
            "seeds": len(runs),
        }
        for key in ("modes_covered", "high_quality_fraction", "reverse_kl", "seconds"):
            values = np.array([run[key] for run in runs], dtype=np.float64)
            row[key] = {
                "mean": float(values.mean()),
                "std": float(values.std()),
                "min": float(values.min()),
                "max": float(values.max()),
            }
        summary.append(row)
    return summary


def _cell(result: dict) -> tuple[str, str, str, int]:
    return result["data"], result["regime"], result["remedy"], result["steps"]


def plot(results: list[dict], runs: Path, path: Path) -> None:
    """One scatter per run: rows (data, regime, remedy, steps), columns seeds."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = sorted({_cell(r) for r in results})
    seeds = sorted({r["seed"] for r in results})
    figure = Figure(figsize=(2.2 * len(seeds), 2.4 * len(rows)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(rows), len(seeds), squeeze=False)
    for result in results:
        axis = axes[rows.index(_cell(result)), seeds.index(result["seed"])]
        folder = _folder(runs, *_cell(result), result["seed"])
        points = np.load(folder / "final_samples.npy")
        modes = toy_target(result["data"]).modes
        axis.scatter(points[:, 0], points[:, 1], s=1, alpha=0.3)
        axis.scatter(modes[:, 0], modes[:, 1], s=6, marker="x", color="tab:red")
        limit = np.abs(modes).max() * 1.3
        axis.set_xlim(-limit, limit)
        axis.set_ylim(-limit, limit)
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_title(
            f"{result['data']} {result['regime']} {result['steps']} rounds\n"
            f"{result['remedy']} seed {result['seed']}\n"
            f"{result['modes_covered']}/{result['num_modes']} modes, "
            f"HQ {result['high_quality_fraction']:.0%}",
            fontsize=7,
        )
    figure.tight_layout()
    figure.savefig(path, format="png")


def _shown(parameters: dict[str, Any], result: dict) -> str:
    return json.dumps({key: value for key, value in result.items() if key != "histogram"})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..n-1 (default 5)")
    parser.add_argument("--data", nargs="+", default=["ring", "grid"], choices=["ring", "grid"])
    parser.add_argument(
        "--remedies", nargs="+", default=["none", "minibatch-stddev"], choices=REMEDIES
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="learning rounds per run (default: the data's default)",
    )
    parser.add_argument(
        "--regimes",
        nargs="+",
        default=list(REGIMES),
        choices=list(REGIMES),
        help="training regimes (default: all)",
    )
    add_sweep_arguments(parser, runs="runs/mode-coverage", results="runs/mode-coverage/results")
    args = parser.parse_args(argv)
    choice = executor_choice(parser, args)
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    sweep = [
        {
            "data": data,
            "regime": regime,
            "remedy": remedy,
            "seed": seed,
            "runs": str(args.runs),
            "steps": args.steps,
        }
        for data in args.data
        for regime in args.regimes
        for remedy in args.remedies
        for seed in range(args.seeds)
    ]
    outcome = run_sweep(
        run_one, sweep, choice, retries=args.retries, description="mode coverage", show=_shown
    )
    # Report every run measured in this runs folder, from this invocation or earlier ones,
    # so that cells can be added one invocation at a time; this sweep's runs are the
    # results its workers returned.
    measured = {
        path.parent.name: json.loads(path.read_text())
        for path in args.runs.glob("*/result.json")
    }
    for _, result in outcome.finished:
        measured[_folder(args.runs, *_cell(result), result["seed"]).name] = result
    results = [measured[name] for name in sorted(measured)]
    if results:
        write_report(results, args.runs, args.results)
    exit_with_summary(outcome)


def write_report(results: list[dict], runs: Path, out: Path) -> None:
    """``mode_coverage.json`` and ``.png`` into ``out``, and the table on stdout."""
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "protocol": f"{SAMPLES} samples; high quality = within 3 std of the nearest mode",
        "summary": summarise(results),
        "runs": results,
    }
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomically(out / "mode_coverage.json", json.dumps(report, indent=2) + "\n")
    plot(results, runs, out / "mode_coverage.png")
    for row in report["summary"]:
        print(
            f"{row['data']:5s} {row['regime']:12s} {row['remedy']:26s} {row['steps']:6d} "
            f"modes {row['modes_covered']['mean']:.1f}"
            f" ± {row['modes_covered']['std']:.1f}  HQ {row['high_quality_fraction']['mean']:.3f}"
            f" ± {row['high_quality_fraction']['std']:.3f}  KL {row['reverse_kl']['mean']:.3f}"
        )


if __name__ == "__main__":
    main()
