"""The training loop: learning rounds, logged, pictured and checkpointed in a run folder.

    for step in 1 .. steps:
        report = learning_round(G, D, ...)        # k D-steps, then one G-step
        metrics.jsonl  <- {step, V(D,G), losses, mean D(x), mean D(G(z)), TP FN FP TN}
        every sample_every steps:     samples/step-XXXXXXXX.png from a fixed z
        every checkpoint_every steps: checkpoints/step-XXXXXXXX.npz, curves.png

At the end: ``samples.gif`` (the snapshots as an animation), ``curves.png`` and
``timing.json`` (wall-clock seconds per step of each session, kept out of
metrics.jsonl so that a resumed run's log matches an uninterrupted one's line for line).

``resume=True`` continues from the newest checkpoint of the run folder bit for bit: the
models, both Adam states, the data loader's position in its epoch, the fixed sample
noise and the random generator all come back, and metrics logged after that checkpoint
(by the run that was killed) are dropped before the loop appends its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from dataclasses import fields
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import minigrad as mg
from gan.build import build_models, build_optimizers, noise_sampler, real_batches, toy_target
from gan.learning_round import learning_round
from gan.options import TrainOptions, options_from_dict, options_to_dict, resolve
from gan.snapshots import generate, save_animation, save_curves, save_snapshot
from minigrad import Tensor
from minigrad.divergence import check_finite_parameters, check_finite_values
from minigrad.run_errors import Diverged
from minigrad.run_start import RunStart, merge_resumed_options, start_run
from minigrad.runs import (
    RunFolder,
    capture_training_state,
    require_extra,
    restore_training_state,
    write_text_atomically,
)

SAMPLES_DIR = "samples"
OPTION_NAMES = tuple(field.name for field in fields(TrainOptions))


def fixed_noise(options: TrainOptions) -> Tensor:
    """The z every snapshot uses: 64 images, 1000 toy points, or a u-grid for the 1-D map."""
    if options.data == "gaussian-1d":
        u = np.linspace(0.0005, 0.9995, 2000).reshape(-1, 1)
        return mg.tensor(u, dtype=mg.float32, device=options.device)
    count = 64 if options.is_image else 1000
    return noise_sampler(options)(count)


def train(
    options: TrainOptions, resume: bool = False, given: Collection[str] | None = None
) -> Path:
    """Train a GAN as ``options`` say; returns the run folder.

    With ``resume`` the run continues from the folder's newest intact checkpoint; the
    options named in ``given`` (those the user typed; default: every one that differs
    from ``TrainOptions()``) must match the run's own, except ``steps`` and ``progress``.
    Without it a folder holding checkpoints is refused (``minigrad.run_start``). A loss
    or weight that turns NaN or infinite stops the run with ``Diverged``, before any bad
    state is checkpointed.
    """
    if not resume:
        options = resolve(options)  # bad options are refused before the folder is touched
    start = start_run(options.out, resume=resume, config_keys=OPTION_NAMES)
    with start.lock:
        return _train_locked(start, options, resume, given)


def _train_locked(
    start: RunStart, options: TrainOptions, resume: bool, given: Collection[str] | None
) -> Path:
    run, state = start.run, start.state
    if resume:
        options = _resumed_options(run, start.checkpoint, state, options, given)
    options = resolve(options)

    mg.manual_seed(options.seed)
    generator, discriminator = build_models(options)
    g_optimizer, d_optimizer = build_optimizers(options, generator, discriminator)
    next_real = real_batches(options)
    sample_z = noise_sampler(options)
    fixed_z = fixed_noise(options)
    models = {"generator": generator, "discriminator": discriminator}
    optimizers = {"generator": g_optimizer, "discriminator": d_optimizer}
    loaders = {"data": next_real.loader} if options.is_image else {}

    if state is None:
        step = 0
        run.write_config(options_to_dict(options))
    else:
        step = restore_training_state(state, models=models, optimizers=optimizers, loaders=loaders)
        fixed_z = state["extra"]["fixed_z"].to(options.device)
        run.truncate_metrics(after_step=step)

    target = None if options.is_image else toy_target(options.data)
    samples_dir = run.path(SAMPLES_DIR)
    samples_dir.mkdir(exist_ok=True)
    first_step, started = step, time.perf_counter()
    bar = tqdm(total=options.steps, initial=step, disable=not options.progress, desc="train")
    try:
        while step < options.steps:
            set_learning_rates(options, step, g_optimizer, d_optimizer)
            report = learning_round(
                generator,
                discriminator,
                d_optimizer,
                g_optimizer,
                next_real,
                sample_z,
                k=options.d_steps,
                loss=options.loss,
                gp_weight=options.gp_weight,
            )
            step += 1
            check_finite_values({"d_loss": report.d_loss, "g_loss": report.g_loss}, step=step)
            run.log_metrics({"step": step, **report.as_dict()})
            bar.update(1)
            bar.set_postfix(D_x=f"{report.d_real:.2f}", D_G_z=f"{report.d_fake:.2f}", refresh=False)
            last = step == options.steps
            if step % options.sample_every == 0 or last:
                samples = generate(generator, fixed_z)
                save_snapshot(
                    samples_dir / f"step-{step:08d}.png",
                    samples,
                    target,
                    title=f"step {step}",
                    z=fixed_z.numpy(),
                )
            if step % options.checkpoint_every == 0 or last:
                check_finite_parameters(models, step=step)  # never checkpoint a bad state
                state = capture_training_state(
                    step,
                    models=models,
                    optimizers=optimizers,
                    loaders=loaders,
                    extra={"options": options_to_dict(options), "fixed_z": fixed_z},
                )
                run.save_checkpoint(step, state, keep_last=options.keep_checkpoints)
                save_curves(run.read_metrics(), run.path("curves.png"))
    except Diverged as error:
        bar.close()
        _save_derived_files(run)
        raise Diverged(f"{error}; {_kept_checkpoint_text(run, '--lr-g/--lr-d')}") from None
    bar.close()
    if step > first_step:
        _record_timing(run, first_step, step, time.perf_counter() - started)
    _save_derived_files(run)
    return run.root


def _resumed_options(
    run: RunFolder,
    checkpoint: Path | None,
    state: dict | None,
    options: TrainOptions,
    given: Collection[str] | None,
) -> TrainOptions:
    """The run's own options (from its checkpoint, or config.json when it has none yet),
    with the path from the command line and the changes a resume may make."""
    if state is not None:
        require_extra(state, checkpoint, ("options", "fixed_z"), "python -m gan train")
        saved = state["extra"]["options"]
    else:
        saved = run.read_config()
    defaults = TrainOptions()
    if given is None:
        given = [
            name for name in OPTION_NAMES if getattr(options, name) != getattr(defaults, name)
        ]
    typed = {name: getattr(options, name) for name in given if name in OPTION_NAMES}
    typed.pop("out", None)
    merged = merge_resumed_options(saved, typed, may_change=("steps", "progress"))
    merged["out"] = options.out  # paths come from the command line only
    merged.setdefault("progress", options.progress)
    return options_from_dict(merged)


def _save_derived_files(run: RunFolder) -> None:
    """Rebuild what is computed from the run's files: the GIF of the snapshots, the curves.

    Done at every finish (and after a divergence or a resume of a finished run), so a file
    left half-written by a kill comes back whole.
    """
    save_curves(run.read_metrics(), run.path("curves.png"))
    save_animation(sorted(run.path(SAMPLES_DIR).glob("step-*.png")), run.path("samples.gif"))


def _kept_checkpoint_text(run: RunFolder, what_to_lower: str) -> str:
    """How a divergence message ends: which checkpoint is kept, and what to do."""
    newest = run.latest_checkpoint()
    if newest is None:
        return f"no checkpoint was written; start afresh with smaller {what_to_lower}"
    # Not "--resume": the same options would diverge again, and a resume may not change them.
    return (
        f"kept the last good checkpoint {newest}; start a new run with smaller "
        f"{what_to_lower} (another --out)"
    )


def set_learning_rates(options: TrainOptions, step: int, *optimizers: object) -> None:
    """lr at round ``step`` (0-based): constant, or linear decay lr * (1 - step / steps).

    A pure function of the step, so a resumed run needs no scheduler state.
    """
    factor = 1.0 if options.lr_decay == "constant" else 1.0 - step / options.steps
    for optimizer, base in zip(optimizers, (options.lr_g, options.lr_d), strict=True):
        for group in optimizer.param_groups:
            group["lr"] = base * factor


def _record_timing(run: RunFolder, first_step: int, last_step: int, seconds: float) -> None:
    """Append this session's speed to timing.json (a list: one entry per session)."""
    path = run.path("timing.json")
    sessions = json.loads(path.read_text()) if path.exists() else []
    steps = last_step - first_step
    sessions.append(
        {
            "first_step": first_step,
            "last_step": last_step,
            "seconds": round(seconds, 3),
            "seconds_per_step": round(seconds / steps, 5) if steps else None,
        }
    )
    write_text_atomically(path, json.dumps(sessions, indent=2) + "\n")
