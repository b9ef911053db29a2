"""Mode coverage on the ring of 8 and the 5x5 grid, with and without a remedy, over seeds.

    python -m gan.experiments.mode_coverage [--seeds 5] [--remedies none minibatch-stddev]

For every (data, training regime, remedy, steps, seed) it trains a toy GAN with
``gan.trainer.train`` (each run leaves its own run folder under ``--runs``, named by all
five, so runs of different lengths sit side by side), draws 2500
samples and applies the usual protocol (``gan.mode_collapse.mode_coverage``). Training
regimes (the same step counts: ``--steps``, or the data's default):

* ``textbook``: one D-step per G-step and a constant learning rate;
* ``default``: the toy defaults of ``gan.options`` (k = 2 D-steps, linear lr decay);
* ``bn-generator``: the defaults with BatchNorm in the generator's hidden layers.

It writes, next to this file,

* ``results/mode_coverage.json``: every run's numbers and the mean and standard
  deviation over seeds of each (data, regime, remedy, steps) cell, plus the machine and
  timings. It covers every run measured in the ``--runs`` folder so far (a finished run
  is not trained again), so cells can be added by later invocations;
* ``results/mode_coverage.png``: the final samples of every run, one row per
  (data, regime, remedy, steps), one column per seed.

"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path

import numpy as np

import minigrad as mg
from gan.build import generator_from_checkpoint, noise_sampler, toy_target
from gan.mode_collapse import mode_coverage
from gan.options import DATA_DEFAULTS, TrainOptions
from gan.remedies import REMEDIES
from gan.snapshots import generate
from gan.trainer import train

RESULTS = Path(__file__).parent / "results"
SAMPLES = 2500
EVALUATION_SEED = 12345  # noise for the 2500 evaluation samples, the same for every run
REGIMES = {
    "textbook": {"d_steps": 1, "lr_decay": "constant"},
    "default": {},
    "bn-generator": {"g_batch_norm": True},
}


def _folder(runs: Path, data: str, regime: str, remedy: str, steps: int, seed: int) -> Path:
    return runs / f"{data}-{regime}-{remedy}-{steps}steps-seed{seed}"


def run_one(data: str, regime: str, remedy: str, seed: int, runs: Path, steps: int | None) -> dict:
    """Train one toy GAN and measure its final generator (reused if already measured)."""
    if steps is None:
        steps = DATA_DEFAULTS[data]["steps"]
    folder = _folder(runs, data, regime, remedy, steps, seed)
    if (folder / "result.json").exists():
        return json.loads((folder / "result.json").read_text())
    if folder.exists():
        shutil.rmtree(folder)  # a run killed before it was measured
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
    (folder / "result.json").write_text(json.dumps(result) + "\n")
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
    parser.add_argument("--runs", default="runs/mode-coverage", help="where run folders go")
    args = parser.parse_args(argv)
    runs = Path(args.runs)
    RESULTS.mkdir(exist_ok=True)
    for data in args.data:
        for regime in args.regimes:
            for remedy in args.remedies:
                for seed in range(args.seeds):
                    result = run_one(data, regime, remedy, seed, runs, args.steps)
                    shown = {k: v for k, v in result.items() if k != "histogram"}
                    print(json.dumps(shown), flush=True)
    # Report every run measured in this runs folder, from this invocation or earlier ones,
    # so that cells can be added one invocation at a time.
    results = [json.loads(path.read_text()) for path in sorted(runs.glob("*/result.json"))]
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "protocol": f"{SAMPLES} samples; high quality = within 3 std of the nearest mode",
        "summary": summarise(results),
        "runs": results,
    }
    (RESULTS / "mode_coverage.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(results, runs, RESULTS / "mode_coverage.png")
    for row in report["summary"]:
        print(
            f"{row['data']:5s} {row['regime']:12s} {row['remedy']:26s} {row['steps']:6d} "
            f"modes {row['modes_covered']['mean']:.1f}"
            f" ± {row['modes_covered']['std']:.1f}  HQ {row['high_quality_fraction']['mean']:.3f}"
            f" ± {row['high_quality_fraction']['std']:.3f}  KL {row['reverse_kl']['mean']:.3f}"
        )


if __name__ == "__main__":
    main()
