"""The lecture's claim, measured: progressive growing vs a direct 32x32 GAN, same budget.

    python bench/progressive_vs_direct.py [--budget 420] [--eval-every 60]
        [--images-per-phase 3000] [--seed 0] [--out docs/results/progressive]
    python bench/progressive_vs_direct.py --replot A.json B.json   # one plot of several seeds

Writes ``<out>/progressive_vs_direct_seed<seed>.json`` (the curves and the final
evaluation of each arm), ``..._seed<seed>_<arm>_samples.png`` (64 samples of each arm
at the end) and ``<out>/progressive_vs_direct.png`` (the curves).

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
thread, so CPU time is the work done; wall time is recorded too). At each evaluation
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

ARMS = {"progressive": (4, 8, 16, 32), "direct": (32,)}


def sample(trainer: ProgressiveTrainer, z: mg.Tensor) -> np.ndarray:
    """avg(G)(z) at the trainer's current resolution and alpha, as numpy (N, 1, r, r)."""
    alpha = trainer.alpha if trainer.phase.resolution == trainer.resolution else 1.0
    with mg.no_grad():
        return np.concatenate(
            [trainer.generator_ema(z[i : i + 250], alpha).numpy() for i in range(0, len(z), 250)]
        )


def run_arm(name: str, args: argparse.Namespace, pyramid: dict, judge, real_features) -> dict:
    mg.manual_seed(args.seed)
    options = GrowOptions(
        resolutions=ARMS[name],
        batch_size=args.batch_size,
        images_per_phase=args.images_per_phase,
        final_images=10**9,  # the last phase runs until the budget is spent
        seed=args.seed,
        progress=False,
    )
    trainer = ProgressiveTrainer(options, {r: pyramid[r] for r in options.resolutions})
    noise = np.random.default_rng(args.seed + 2).standard_normal((args.eval_samples, options.z_dim))
    z = mg.tensor(noise, dtype=mg.float32)
    points, cpu, wall, next_eval = [], 0.0, 0.0, 0.0
    while True:
        if cpu >= next_eval or cpu >= args.budget:
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
                    "frechet_distance": frechet_distance(features, real_features),
                }
            )
            print(f"{name:12s} {points[-1]}", flush=True)
            next_eval += args.eval_every
            if cpu >= args.budget:
                break
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        trainer.train_round()
        cpu += time.process_time() - cpu_start
        wall += time.perf_counter() - wall_start
    final = evaluate_images(judge_pixels(images), "fashion-mnist", judge)
    return {"points": points, "final": final, "samples": images[:64]}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=420.0, help="CPU seconds per arm")
    parser.add_argument("--eval-every", type=float, default=60.0, help="CPU seconds apart")
    parser.add_argument("--eval-samples", type=int, default=2000)
    parser.add_argument("--images-per-phase", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arms", default="progressive,direct")
    parser.add_argument("--out", default="docs/results/progressive", help="folder of the results")
    parser.add_argument(
        "--replot",
        nargs="+",
        metavar="JSON",
        help="only draw the plot from result files of earlier runs (one per seed)",
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figure = out / "progressive_vs_direct.png"
    if args.replot:
        plot([json.loads(Path(name).read_text()) for name in args.replot], str(figure))
        return

    judge = load_or_train_classifier("fashion-mnist", progress=False)
    train_pixels = load_pixels("fashion-mnist", "train")[0]
    test_pixels = load_pixels("fashion-mnist", "test")[0][: args.eval_samples]
    real_features = classifier_outputs(judge.model, test_pixels)[0]
    floor_features = classifier_outputs(judge.model, train_pixels[: args.eval_samples])[0]
    pyramid = pixels_to_pyramid(train_pixels, ARMS["progressive"])

    results = {
        "budget_cpu_s": args.budget,
        "eval_every_cpu_s": args.eval_every,
        "eval_samples": args.eval_samples,
        "images_per_phase": args.images_per_phase,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "frechet_distance_floor": frechet_distance(floor_features, real_features),
        "arms": {},
    }
    stem = out / f"progressive_vs_direct_seed{args.seed}"
    for name in args.arms.split(","):
        arm = run_arm(name, args, pyramid, judge, real_features)
        save_image_grid(arm.pop("samples"), f"{stem}_{name}_samples.png", nrow=8, scale=2)
        results["arms"][name] = arm
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    plot([results], str(figure))
    print(json.dumps({n: a["final"]["frechet_distance"] for n, a in results["arms"].items()}))


if __name__ == "__main__":
    main()
