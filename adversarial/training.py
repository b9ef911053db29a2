"""Training a classifier, undefended or with one of the defences: ``python -m adversarial train``.

A plain epoch loop around ``minigrad.models.fit`` (whose ``batch_loss`` hook is where each
defence plugs in), with a run folder from ``minigrad.runs``: the options in
``config.json``, one line of ``metrics.jsonl`` and one checkpoint per epoch, and resume
from the latest checkpoint. The last 5,000 training images are held out for validation
(never trained on); each epoch logs clean accuracy on them and PGD-10 accuracy on the
first ``holdout_size`` of them — the number Wong et al.'s early stop watches.
"""

from __future__ import annotations

import functools
import math
import shlex
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import minigrad as mg
from adversarial.defences.adversarial_training import (
    CatastrophicOverfittingGuard,
    fgsm_rs_loss,
    goodfellow_loss,
    pgd_training_loss,
)
from adversarial.defences.input_gradient import input_gradient_loss
from adversarial.defences.mixup import mixup_loss
from adversarial.models import ARCHITECTURES, build_classifier
from minigrad import nn
from minigrad.data import DataLoader, TensorDataset, fashion_mnist, mnist
from minigrad.divergence import check_finite_parameters, check_finite_values, check_learning_rate
from minigrad.images import save_line_plots
from minigrad.models import accuracy, fit
from minigrad.models.fit import BatchLoss, classification_loss
from minigrad.run_errors import Diverged
from minigrad.run_start import RunStart, merge_resumed_options, start_run
from minigrad.runs import (
    RunFolder,
    capture_training_state,
    load_checkpoint,
    require_extra,
    restore_training_state,
)

DATASETS = {"fashion_mnist": fashion_mnist, "mnist": mnist}
DEFENCES = ("none", "fgsm", "pgd", "fgsm_rs", "mixup", "input_gradient")
VALIDATION_SIZE = 5000
HISTORY_PLOT = "training.png"


@dataclass
class TrainOptions:
    """Everything a training run depends on (written to the run's ``config.json``)."""

    run_dir: str
    architecture: str = "wong"
    dataset: str = "fashion_mnist"
    defence: str = "none"
    epochs: int = 5
    batch_size: int = 128
    learning_rate: float = 1e-3
    eps: float = 0.1  # the defences' L∞ budget, on [0, 1] pixels
    fgsm_alpha: float = 0.5  # Goodfellow's weight of the clean loss
    pgd_steps: int = 7  # PGD adversarial training's inner steps
    mixup_alpha: float = 1.0  # λ ~ Beta(α, α)
    gradient_penalty: float = 1.0  # λ of the input-gradient penalty
    train_size: int | None = None  # first n training images (None: all 55,000)
    holdout_size: int = 500  # validation images attacked with PGD every epoch
    early_stop_drop: float = 0.2  # catastrophic-overfitting stop (FGSM-based defences)
    seed: int = 0
    progress: bool = True  # the per-batch progress bar (one line per epoch is always printed)

    def check(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {sorted(ARCHITECTURES)}")
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {self.dataset!r}")
        if self.defence not in DEFENCES:
            raise ValueError(f"defence must be one of {DEFENCES}, got {self.defence!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {self.seed!r}")
        for name in ("epochs", "batch_size", "pgd_steps", "holdout_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive int, got {getattr(self, name)!r}")
        if self.train_size is not None and not 1 <= self.train_size:
            raise ValueError(f"train_size must be None or >= 1, got {self.train_size!r}")
        if not 0 < self.eps <= 1:
            raise ValueError(f"eps must be in (0, 1] (pixels are in [0, 1]), got {self.eps}")
        check_learning_rate("learning_rate", self.learning_rate)
        for name in ("fgsm_alpha", "mixup_alpha", "gradient_penalty", "early_stop_drop"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


CONFIG_KEYS = tuple(f.name for f in fields(TrainOptions) if f.name != "progress")


@dataclass
class TrainResult:
    model: nn.Module
    run: RunFolder
    history: list[dict] = field(default_factory=list)
    stopped_early: bool = False
    seconds: float = 0.0  # wall time of this session


def load_split(dataset: str, split: str) -> tuple[mg.Tensor, mg.Tensor]:
    """(images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64) of a dataset split."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    images, labels = DATASETS[dataset](split, progress=False).tensors
    return images, labels


def train_validation_split(
    dataset: str, train_size: int | None = None
) -> tuple[tuple[mg.Tensor, mg.Tensor], tuple[mg.Tensor, mg.Tensor]]:
    """The training images minus the last 5,000 (optionally only the first n), and those
    last 5,000 as validation."""
    images, labels = load_split(dataset, "train")
    cut = len(images) - VALIDATION_SIZE
    end = cut if train_size is None else min(cut, train_size)
    return (images[:end], labels[:end]), (images[cut:], labels[cut:])


def batch_loss_for(options: TrainOptions) -> BatchLoss:
    """The ``fit`` batch loss of ``options.defence``."""
    eps = options.eps
    losses = {
        "none": classification_loss,
        "fgsm": functools.partial(goodfellow_loss, eps=eps, alpha=options.fgsm_alpha),
        "pgd": functools.partial(pgd_training_loss, eps=eps, steps=options.pgd_steps),
        "fgsm_rs": functools.partial(fgsm_rs_loss, eps=eps),
        "mixup": functools.partial(mixup_loss, alpha=options.mixup_alpha),
        "input_gradient": functools.partial(input_gradient_loss, weight=options.gradient_penalty),
    }
    return losses[options.defence]


def train(
    options: TrainOptions, resume: bool = False, given: Collection[str] | None = None
) -> TrainResult:
    """Train per ``options``; with ``resume`` continue from the run folder's newest intact
    checkpoint. On resume the options named in ``given`` (default: all) must match the
    run's own, except ``epochs``; the others are taken from the run. The folder rules
    (lock, occupied folder, stray files) are ``minigrad.run_start``'s. A non-finite loss or
    weight stops the run with ``Diverged`` before it is checkpointed."""
    options.check()
    start = start_run(options.run_dir, resume=resume, config_keys=CONFIG_KEYS)
    with start.lock:
        if resume:
            options = _resumed_options(start, options, given)
        return _train_locked(start, options)


def _resumed_options(
    start: RunStart, options: TrainOptions, given: Collection[str] | None
) -> TrainOptions:
    if start.state is not None:
        require_extra(start.state, start.checkpoint, ("config",), "python -m adversarial train")
        saved = start.state["extra"]["config"]
    else:
        saved = start.run.read_config()
    current = _jsonable_config(options)
    names = current if given is None else [name for name in given if name in current]
    typed = {name: current[name] for name in names if name != "run_dir"}
    merged = merge_resumed_options(saved, typed, may_change=("epochs",))
    merged["run_dir"] = options.run_dir  # paths come from the command line only
    resumed = TrainOptions(**merged, progress=options.progress)
    resumed.check()
    return resumed


def _train_locked(start: RunStart, options: TrainOptions) -> TrainResult:
    run = start.run
    started = time.perf_counter()
    mg.manual_seed(options.seed)
    (x_train, y_train), (x_val, y_val) = train_validation_split(options.dataset, options.train_size)
    model = build_classifier(options.architecture)
    optimizer = mg.optim.Adam(model.parameters(), lr=options.learning_rate)
    loader = DataLoader(
        TensorDataset(x_train, y_train),
        batch_size=options.batch_size,
        shuffle=True,
        seed=options.seed,
    )
    guard = CatastrophicOverfittingGuard(
        x_val[: options.holdout_size],
        y_val[: options.holdout_size],
        eps=options.eps,
        drop=options.early_stop_drop,
    )
    parts = {
        "models": {"model": model},
        "optimizers": {"adam": optimizer},
        "loaders": {"train": loader},
    }
    start_epoch = 0
    if start.state is not None:
        state = start.state
        start_epoch = restore_training_state(state, **parts)
        run.truncate_metrics(after_step=start_epoch)
        guard.history = list(state["extra"]["guard_history"])
        if state["extra"]["stopped_early"]:
            return TrainResult(model, run, run.read_metrics(), stopped_early=True)
    run.write_config(_jsonable_config(options))  # on resume: records the new epoch count
    batch_loss = batch_loss_for(options)
    # FGSM-style training is the kind that overfits catastrophically (Wong et al.).
    watch = options.defence in ("fgsm", "fgsm_rs")
    stopped = False
    for epoch in range(start_epoch + 1, options.epochs + 1):
        (train_loss,) = fit(
            model, loader, optimizer, epochs=1, batch_loss=batch_loss, progress=options.progress
        )
        try:
            # The epoch's mean loss is NaN as soon as one batch's is: one check per epoch.
            check_finite_values({"train_loss": train_loss}, step=epoch, unit="epoch")
            check_finite_parameters({"model": model}, step=epoch, unit="epoch")
        except Diverged as error:
            newest = run.latest_checkpoint()
            kept = f"kept the last good checkpoint {newest}" if newest else "no checkpoint written"
            raise Diverged(f"{error}; {kept}; lower --learning-rate") from None
        collapsed = guard.should_stop(model)
        record = {
            "step": epoch,
            "train_loss": train_loss,
            "val_accuracy": accuracy(model, x_val, y_val),
            "val_pgd_accuracy": guard.history[-1],
        }
        run.log_metrics(record)
        stopped = watch and collapsed
        if stopped:
            # Go back to the weights of the epoch with the best held-out PGD accuracy.
            best = load_checkpoint(run.checkpoint_path(guard.best_epoch))
            model.load_state_dict(best["models"]["model"])
        extra = {
            "config": _jsonable_config(options),
            "guard_history": guard.history,
            "stopped_early": stopped,
            "weights_from_epoch": guard.best_epoch if stopped else epoch,
        }
        run.save_checkpoint(epoch, capture_training_state(epoch, **parts, extra=extra))
        print(
            f"epoch {epoch}: loss {train_loss:.4f}, val accuracy "
            f"{record['val_accuracy']:.4f}, val PGD-10 accuracy {guard.history[-1]:.4f}"
            + (f" — collapsed; weights of epoch {guard.best_epoch} kept" if stopped else ""),
            flush=True,
        )
        if stopped:
            break
    history = run.read_metrics()
    # Derived from metrics.jsonl: rebuilt at every finish, so a kill mid-write heals.
    _plot_history(run.path(HISTORY_PLOT), history)
    model.eval()
    return TrainResult(model, run, history, stopped, time.perf_counter() - started)


def training_summary(result: TrainResult) -> str:
    """The lines ``python -m adversarial train`` ends with: what was made, and where."""
    run, history = result.run, result.history
    last = history[-1] if history else {}
    lines = [f"finished: {last.get('step', 0)} epochs in {result.seconds:.1f} s (this session)"]
    if last:
        lines.append(
            f"last epoch: validation accuracy {last['val_accuracy']:.4f}, under PGD-10 "
            f"{last['val_pgd_accuracy']:.4f}"
            + (" (stopped early: catastrophic overfitting)" if result.stopped_early else "")
        )
    curves = run.path(HISTORY_PLOT)
    if curves.exists():
        lines.append(f"curves:     {curves}")
    newest = run.latest_checkpoint()
    if newest is not None:
        lines.append(f"checkpoint: {newest}")
    folder = shlex.quote(str(run.root))
    lines.append(
        f"evaluate:   python -m adversarial report --checkpoint {folder} "
        f"--out {shlex.quote(str(run.root / 'report'))}"
    )
    return "\n".join(lines)


def load_classifier(checkpoint: str | Path) -> tuple[nn.Module, dict]:
    """The trained model (eval mode) and its run's options, from a checkpoint file or a
    run folder (its latest checkpoint)."""
    state = load_checkpoint(checkpoint)
    require_extra(state, checkpoint, ("config",), "python -m adversarial train")
    config = state["extra"]["config"]
    model = build_classifier(config["architecture"])
    model.load_state_dict(state["models"]["model"])
    model.eval()
    return model, config


def _jsonable_config(options: TrainOptions) -> dict:
    return {key: value for key, value in asdict(options).items() if key != "progress"}


def _plot_history(path: Path, history: list[dict]) -> None:
    epochs = [record["step"] for record in history]
    save_line_plots(
        path,
        {
            "training loss": {"loss": [r["train_loss"] for r in history]},
            "validation accuracy": {
                "clean": [r["val_accuracy"] for r in history],
                "PGD-10": [r["val_pgd_accuracy"] for r in history],
            },
        },
        x=epochs,
        xlabel="epoch",
    )
