"""The lecture's claim, measured: progressive growing vs a direct 32x32 GAN, same budget.

    python bench/progressive_vs_direct.py [--budget 420] [--eval-every 60]
        [--images-per-phase 3000] [--seeds 0 1] [--results docs/results/progressive]
        [--workers N | --scheduler tcp://HOST:PORT] [--runs DIR]
    python bench/progressive_vs_direct.py --replot A.json B.json   # one plot of several seeds

Each (arm, seed) is an independent run of one sweep (``minigrad.sweeps``; docs/sweeps.md);
its result is kept in ``<runs>/`` and a finished one is not trained again. Writes
``<results>/progressive_vs_direct_seed<seed>.json`` (the curves and the final evaluation
of each arm), ``..._seed<seed>_<arm>_samples.png`` (64 samples of each arm at the end)
and ``<results>/progressive_vs_direct.png`` (the curves of every seed of the sweep).

"This process takes much less time to complete than if we'd trained with only the
full-sized images from the start." Two arms, each given the same compute budget:

* progressive: 4 -> 8 -> 16 -> 32 with fade-ins (gan.progressive), then 32x32 until
  the budget is spent;
* direct: the same final architecture (every level present from the start, alpha = 1),
  trained on 32x32 images from the first step.

Everything else is shared: WGAN-GP + drift, Adam(lr 1e-3, betas (0, 0.99)), batch 32,
pixel norm, equalised LR, minibatch stddev, the average of G for samples, the seed.

The clock is the process's CPU time spent in training rounds (evaluation excluded).
This machine's 2 cores are shared with other jobs, so wall-clock time depends on what
else runs; CPU time of a single-threaded process does not (OpenBLAS is held to one
thread, so CPU time is the work done; wall time is recorded too). Unlike the other
sweeps, how far an arm gets within its budget depends on the machine's speed, so runs on
different machines are comparable only as curves against CPU seconds. At each evaluation
point the averaged generator draws ``--eval-samples`` images at its current resolution
and alpha; they are enlarged to 32x32 by pixel repetition, cropped to 28x28 and
compared with the real test images in the judge classifier's features (Fréchet
distance, gan.evaluate). The real-train-vs-real-test distance is the floor.
"""

from __future__ import annotations

import os

# One BLAS thread: the clock below is CPU time, and on a shared 2-core machine
# OpenBLAS's spinning worker threads make a multi-threaded run many times slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
from gan.build import load_pixels  # noqa: E402
from gan.evaluate import (  # noqa: E402
    classifier_outputs,
    evaluate_images,
    frechet_distance,
    load_or_train_classifier,
)
from gan.progressive.data import pixels_to_pyramid  # noqa: E402
from gan.progressive.evaluation import judge_pixels  # noqa: E402
from gan.progressive.options import GrowOptions  # noqa: E402
from gan.progressive.trainer import ProgressiveTrainer  # noqa: E402
from minigrad.images import save_image_grid  # noqa: E402
from minigrad.runs import write_text_atomically  # noqa: E402
from minigrad.sweeps import (  # noqa: E402
    add_sweep_arguments,
    executor_choice,
    exit_with_summary,
    load_finished,
    run_sweep,
    save_finished,
)

ARMS = {"progressive": (4, 8, 16, 32), "direct": (32,)}


def sample(trainer: ProgressiveTrainer, z: mg.Tensor) -> np.ndarray:
    """avg(G)(z) at the trainer's current resolution and alpha, as numpy (N, 1, r, r)."""
    alpha = trainer.alpha if trainer.phase.resolution == trainer.resolution else 1.0
    with mg.no_grad():
        return np.concatenate(
            [trainer.generator_ema(z[i : i + 250], alpha).numpy() for i in range(0, len(z), 250)]
        )


def shared_inputs(eval_samples: int) -> dict[str, Any]:
    """What every arm of every seed measures against, computed once per worker process:
    the judge, the real test images' features, the floor, the training pyramid."""
    if eval_samples not in _SHARED_INPUTS:
        judge = load_or_train_classifier("fashion-mnist", progress=False)
        train_pixels = load_pixels("fashion-mnist", "train")[0]
        test_pixels = load_pixels("fashion-mnist", "test")[0][:eval_samples]
        real_features = classifier_outputs(judge.model, test_pixels)[0]
        floor_features = classifier_outputs(judge.model, train_pixels[:eval_samples])[0]
        _SHARED_INPUTS[eval_samples] = {
            "judge": judge,
            "real_features": real_features,
            "floor": frechet_distance(floor_features, real_features),
            "pyramid": pixels_to_pyramid(train_pixels, ARMS["progressive"]),
        }
    return _SHARED_INPUTS[eval_samples]


_SHARED_INPUTS: dict[int, dict[str, Any]] = {}


def run_arm(
    name: str,
    seed: int,
    budget: float,
    eval_every: float,
    eval_samples: int,
    images_per_phase: int,
    batch_size: int,
    runs: str,
) -> dict:
    """Train one arm for ``budget`` CPU seconds, evaluating every ``eval_every``; the result
    (curve, final evaluation, 64 samples) is kept in ``runs`` and reused if present."""
    result_file = Path(runs) / (
        f"{name}-seed{seed}-budget{budget:g}-every{eval_every:g}-samples{eval_samples}"
        f"-phase{images_per_phase}-batch{batch_size}.json"
    )
    finished = load_finished(result_file)
    if finished is not None:
        return finished
    inputs = shared_inputs(eval_samples)
    judge, pyramid = inputs["judge"], inputs["pyramid"]
    mg.manual_seed(seed)
    options = GrowOptions(
        resolutions=ARMS[name],
        batch_size=batch_size,
        images_per_phase=images_per_phase,
        final_images=10**9,  # the last phase runs until the budget is spent
        seed=seed,
        progress=False,
    )
    trainer = ProgressiveTrainer(options, {r: pyramid[r] for r in options.resolutions})
    noise = np.random.default_rng(seed + 2).standard_normal((eval_samples, options.z_dim))
    z = mg.tensor(noise, dtype=mg.float32)
    points, cpu, wall, next_eval = [], 0.0, 0.0, 0.0
    while True:
        if cpu >= next_eval or cpu >= budget:
            saved = mg.get_rng_state()
            images = sample(trainer, z)
            features = classifier_outputs(judge.model, judge_pixels(images))[0]
            mg.set_rng_state(saved)
            points.append(
                {
                    "cpu_s": round(cpu, 2),
                    "wall_s": round(wall, 2),
                    "rounds": trainer.step,
                    "images_shown": trainer.images_shown,
                    "resolution": trainer.resolution,
                    "alpha": trainer.alpha
                    if trainer.phase.resolution == trainer.resolution
                    else 1.0,
                    "frechet_distance": frechet_distance(features, inputs["real_features"]),
                }
            )
            next_eval += eval_every
            if cpu >= budget:
                break
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        trainer.train_round()
        cpu += time.process_time() - cpu_start
        wall += time.perf_counter() - wall_start
    final = evaluate_images(judge_pixels(images), "fashion-mnist", judge)
    result = {"points": points, "final": final, "samples": images[:64], "floor": inputs["floor"]}
    save_finished(result_file, result)
    return result


def plot(runs: list[dict], path: str) -> None:
    """Fréchet distance against CPU seconds: a colour per arm, a line style per seed.

    The progressive curves are labelled with the resolution (and alpha while fading).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.0, 4.6), dpi=100)
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    colours = {"progressive": "tab:blue", "direct": "tab:orange"}
    for index, results in enumerate(runs):
        style = ("-", "--", ":", "-.")[index % 4]
        for name, arm in results["arms"].items():
            xs = [p["cpu_s"] for p in arm["points"]]
            ys = [p["frechet_distance"] for p in arm["points"]]
            colour = colours.get(name)
            axis.plot(
                xs,
                ys,
                style,
                marker="o",
                markersize=3,
                color=colour,
                label=f"{name}, seed {results['seed']}",
            )
            if name != "progressive":
                continue
            for point in arm["points"]:
                label = f"{point['resolution']}"
                if point["alpha"] < 1:
                    label += f" a{point['alpha']:.1f}"
                axis.annotate(
                    label,
                    (point["cpu_s"], point["frechet_distance"]),
                    fontsize=6,
                    color=colour,
                    xytext=(2, 3),
                    textcoords="offset points",
                )
    axis.axhline(
        runs[0]["frechet_distance_floor"],
        color="gray",
        linestyle="--",
        label="real train vs real test (floor)",
    )
    axis.set_yscale("log")
    axis.set_xlabel("CPU seconds of training (evaluation excluded)")
    axis.set_ylabel("Fréchet distance (judge features)")
    axis.set_title("Progressive (labels: resolution in px) vs direct 32x32, same CPU budget")
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, format="png")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=420.0, help="CPU seconds per arm")
    parser.add_argument("--eval-every", type=float, default=60.0, help="CPU seconds apart")
    parser.add_argument("--eval-samples", type=int, default=2000)
    parser.add_argument("--images-per-phase", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seeds", "--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--arms", default="progressive,direct")
    parser.add_argument(
        "--replot",
        nargs="+",
        metavar="JSON",
        help="only draw the plot from result files of earlier runs (one per seed)",
    )
    add_sweep_arguments(
        parser, runs="runs/progressive-vs-direct", results="runs/progressive-vs-direct/results"
    )
    args = parser.parse_args(argv)
    choice = executor_choice(parser, args)
    unknown = sorted(set(args.arms.split(",")) - set(ARMS))
    if unknown:
        parser.error(f"--arms: unknown {unknown}; choose from {','.join(ARMS)}")
    out = args.results
    out.mkdir(parents=True, exist_ok=True)
    figure = out / "progressive_vs_direct.png"
    if args.replot:
        plot([json.loads(Path(name).read_text()) for name in args.replot], str(figure))
        return

    # Train (or load) the judge here once, so that local workers find it in the cache
    # instead of each training its own.
    load_or_train_classifier("fashion-mnist", progress=False)
    sweep = [
        {
            "name": name,
            "seed": seed,
            "budget": args.budget,
            "eval_every": args.eval_every,
            "eval_samples": args.eval_samples,
            "images_per_phase": args.images_per_phase,
            "batch_size": args.batch_size,
            "runs": str(args.runs),
        }
        for seed in args.seeds
        for name in args.arms.split(",")
    ]
    outcome = run_sweep(
        run_arm,
        sweep,
        choice,
        retries=args.retries,
        description="arms",
        show=lambda run, arm: f"{run['name']:12s} seed {run['seed']} {arm['points'][-1]}",
    )
    documents = []
    for seed in args.seeds:
        arms = {run["name"]: arm for run, arm in outcome.finished if run["seed"] == seed}
        if not arms:
            continue
        results = {
            "budget_cpu_s": args.budget,
            "eval_every_cpu_s": args.eval_every,
            "eval_samples": args.eval_samples,
            "images_per_phase": args.images_per_phase,
            "batch_size": args.batch_size,
            "seed": seed,
            "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
            "frechet_distance_floor": next(iter(arms.values()))["floor"],
            "arms": {},
        }
        stem = out / f"progressive_vs_direct_seed{seed}"
        for name, arm in arms.items():
            save_image_grid(arm["samples"], f"{stem}_{name}_samples.png", nrow=8, scale=2)
            results["arms"][name] = {"points": arm["points"], "final": arm["final"]}
        write_text_atomically(stem.with_suffix(".json"), json.dumps(results, indent=2) + "\n")
        documents.append(results)
        print(json.dumps({n: a["final"]["frechet_distance"] for n, a in results["arms"].items()}))
    if documents:
        plot(documents, str(figure))
    exit_with_summary(outcome)


if __name__ == "__main__":
    main()
