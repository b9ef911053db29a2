"""``python -m gan grow``: train a progressive GAN in a run folder, resumable.

The run folder (minigrad.runs.RunFolder) receives

    config.json, metrics.jsonl             the options; one record per round
    checkpoints/step-XXXXXXXX.npz          every ``checkpoint_every`` rounds (alpha included)
    samples/res-XXX.png                    the averaged G's samples of a fixed z, at the end
                                           of each resolution
    evaluation/res-XXX.json                the evaluation metrics at the end of each resolution
    growth/res-XXX.npz, growth.png         the same 8 z at every resolution, side by side
    curves.png, timing.json                losses and alpha against images shown; seconds

``resume=True`` continues from the newest checkpoint exactly as the run would have gone
on (metrics logged after that checkpoint are dropped first). Evaluation and pictures run
with the random generator's state saved and restored, so they never change the numbers
of training.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from tqdm.auto import tqdm

import minigrad as mg
from gan.build import load_pixels
from gan.progressive.data import pixels_to_pyramid
from gan.progressive.growth_picture import save_growth_picture
from gan.progressive.options import GrowOptions, options_to_dict
from gan.progressive.trainer import ProgressiveTrainer
from minigrad.divergence import check_finite_parameters, check_finite_values
from minigrad.images import save_image_grid, save_line_plots
from minigrad.run_errors import Diverged, OptionsChanged
from minigrad.run_start import RunStart, start_run
from minigrad.runs import RunFolder, require_extra, write_text_atomically

# (images (N, 1, r, r) in [-1, 1] from the averaged G, resolution r) -> metrics
Evaluator = Callable[[np.ndarray, int], dict[str, Any]]

GRID_SAMPLES = 64
GROWTH_ROWS = 8


def fixed_noise(options: GrowOptions) -> mg.Tensor:
    """The z of every sample grid: drawn from its own seeded generator, not the global one."""
    rng = np.random.default_rng(options.seed + 1)
    return mg.tensor(rng.standard_normal((GRID_SAMPLES, options.z_dim)), dtype=mg.float32)


def sample_average(trainer: ProgressiveTrainer, z: mg.Tensor, batch: int = 250) -> np.ndarray:
    """avg(G)(z) at alpha = 1 and the current resolution, without a graph, in batches."""
    with mg.no_grad():
        parts = [
            trainer.generator_ema(z[i : i + batch], 1.0).numpy() for i in range(0, len(z), batch)
        ]
    return np.concatenate(parts)


class _RandomStateKept:
    """Run a block without consuming the global random stream (for side work)."""

    def __enter__(self) -> None:
        self.state = mg.get_rng_state()

    def __exit__(self, *exc: object) -> None:
        mg.set_rng_state(self.state)


def finish_resolution(
    run: RunFolder,
    trainer: ProgressiveTrainer,
    resolution: int,
    z: mg.Tensor,
    evaluator: Evaluator | None,
    eval_samples: int,
) -> dict[str, Any]:
    """Samples, growth column and evaluation of ``resolution``, whose last phase just ended."""
    with _RandomStateKept():
        samples = sample_average(trainer, z)
        for folder in ("samples", "growth", "evaluation"):
            run.path(folder).mkdir(exist_ok=True)
        scale = max(1, 64 // resolution)
        save_image_grid(samples, run.path(f"samples/res-{resolution:03d}.png"), nrow=8, scale=scale)
        mg.save({"images": samples[:GROWTH_ROWS]}, run.path(f"growth/res-{resolution:03d}.npz"))
        result: dict[str, Any] = {
            "resolution": resolution,
            "step": trainer.step,
            "images_shown": trainer.images_shown,
        }
        if evaluator is not None and eval_samples > 0:
            noise = mg.tensor(
                np.random.default_rng(trainer.options.seed + 2).standard_normal(
                    (eval_samples, trainer.options.z_dim)
                ),
                dtype=mg.float32,
            )
            result.update(evaluator(sample_average(trainer, noise), resolution))
        text = json.dumps(result, indent=2) + "\n"
        write_text_atomically(run.path(f"evaluation/res-{resolution:03d}.json"), text)
    return result


def growth_samples(run: RunFolder) -> dict[int, np.ndarray]:
    """{resolution: the growth rows saved at its end}, for every finished resolution."""
    found = {}
    for path in sorted(run.path("growth").glob("res-*.npz")):
        found[int(path.stem.split("-")[1])] = mg.load(path)["images"]
    return found


def save_curves(run: RunFolder) -> None:
    """Critic and generator losses, W, the penalties and alpha against images shown."""
    records = run.read_metrics()
    if not records:
        return
    shown = [r["images_shown"] for r in records]
    panels = {
        "losses": {
            "D loss": [r["d_loss"] for r in records],
            "G loss": [r["g_loss"] for r in records],
        },
        "critic": {
            "W estimate": [r["wasserstein"] for r in records],
            "gradient penalty": [r["gradient_penalty"] for r in records],
        },
        "growth": {
            "alpha": [r["alpha"] for r in records],
            "log2(resolution / 4)": [np.log2(r["resolution"] / 4) for r in records],
        },
    }
    save_line_plots(run.path("curves.png"), panels, x=shown, xlabel="images shown")


def _check_resumed_config(run: RunFolder, options: GrowOptions) -> None:
    saved = run.read_config()
    current = json.loads(json.dumps(options_to_dict(options)))
    differing = sorted(
        key
        for key in set(saved) | set(current)
        if key not in ("progress", "out") and saved.get(key) != current.get(key)
    )
    if differing:
        raise OptionsChanged(
            f"options {differing} differ from the run folder's config.json; resume with the "
            "options the run was started with (the command line reads them from config.json)"
        )


def grow(
    options: GrowOptions,
    resume: bool = False,
    evaluator: Evaluator | None = None,
    max_rounds: int | None = None,
    pixels: np.ndarray | None = None,
) -> ProgressiveTrainer:
    """Train (or continue) the run in ``options.out``; returns the trainer at the end.

    Without ``resume`` a folder holding checkpoints is refused (FileExistsError); with
    it, the folder must hold a run (FileNotFoundError) with the same options (ValueError);
    see ``minigrad.run_start``. A non-finite loss or weight stops the run with
    ``Diverged`` before anything bad is checkpointed.

    ``max_rounds`` stops after that many rounds of this session (a checkpoint is written
    there), as a killed run would; ``pixels`` (N, 1, 28, 28) in [0, 1] replaces the data
    set's training images (tests).
    """
    start = start_run(options.out, resume=resume, config_keys=tuple(options_to_dict(options)))
    with start.lock:
        return _grow_locked(start, options, evaluator, max_rounds, pixels)


def _grow_locked(
    start: RunStart,
    options: GrowOptions,
    evaluator: Evaluator | None,
    max_rounds: int | None,
    pixels: np.ndarray | None,
) -> ProgressiveTrainer:
    run = start.run
    if pixels is None:
        pixels = load_pixels(options.data, "train")[0]
    if options.train_examples is not None:
        pixels = pixels[: options.train_examples]
    pyramid = pixels_to_pyramid(pixels, options.resolutions)
    if start.state is None:
        mg.manual_seed(options.seed)
        run.write_config(options_to_dict(options))
        trainer = ProgressiveTrainer(options, pyramid)
    else:
        _check_resumed_config(run, options)
        require_extra(start.state, start.checkpoint, ("images_shown", "levels"), "gan grow")
        trainer = ProgressiveTrainer.restore(options, pyramid, start.state)
        run.truncate_metrics(after_step=trainer.step)
    z = fixed_noise(options)
    total_rounds = -(-trainer.schedule.total_images // options.batch_size)
    started, rounds = time.perf_counter(), 0
    bar = tqdm(total=total_rounds, initial=trainer.step, disable=not options.progress, unit="round")
    models = {
        "generator": trainer.generator,
        "discriminator": trainer.discriminator,
        "generator_ema": trainer.generator_ema,
    }
    try:
        while not trainer.finished and (max_rounds is None or rounds < max_rounds):
            record = trainer.train_round()
            rounds += 1
            check_finite_values(
                {"d_loss": record["d_loss"], "g_loss": record["g_loss"]}, step=trainer.step
            )
            run.log_metrics(record)
            bar.update(1)
            bar.set_postfix(
                res=record["resolution"],
                alpha=f"{record['alpha']:.2f}",
                W=f"{record['wasserstein']:.3f}",
            )
            if trainer.finished or trainer.phase.resolution != record["resolution"]:
                finish_resolution(
                    run, trainer, record["resolution"], z, evaluator, options.eval_samples
                )
                save_curves(run)
            at_end = trainer.finished or rounds == max_rounds
            if trainer.step % options.checkpoint_every == 0 or at_end:
                models.update(generator=trainer.generator, discriminator=trainer.discriminator)
                check_finite_parameters(models, step=trainer.step)  # never checkpoint NaNs
                run.save_checkpoint(
                    trainer.step, trainer.state(), keep_last=options.keep_checkpoints
                )
    except Diverged as error:
        bar.close()
        save_curves(run)
        newest = run.latest_checkpoint()
        kept = f"kept the last good checkpoint {newest}" if newest else "no checkpoint written"
        raise Diverged(f"{error}; {kept}; start afresh with a smaller --lr") from None
    bar.close()
    if rounds:
        _record_time(run, trainer.step, rounds, time.perf_counter() - started)
    # Derived files are rebuilt at every finish, so one cut short by a kill comes back.
    save_curves(run)
    if trainer.finished:
        save_growth_picture(growth_samples(run), run.path("growth.png"))
    return trainer


def _record_time(run: RunFolder, step: int, rounds: int, seconds: float) -> None:
    path = run.path("timing.json")
    sessions = json.loads(path.read_text())["sessions"] if path.exists() else []
    sessions.append({"until_step": step, "rounds": rounds, "seconds": round(seconds, 2)})
    write_text_atomically(path, json.dumps({"sessions": sessions}, indent=2) + "\n")
