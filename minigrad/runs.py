"""A run folder: the config, a metrics log and checkpoints of one training run, resumable.

Layout of a run folder ``root``::

    root/config.json                 the run's options (written atomically)
    root/metrics.jsonl               one JSON object per line, each with a "step" key
    root/checkpoints/step-00001200.npz   minigrad.save archives, one per checkpoint
    root/.lock                       pid and host of the process writing the run

A checkpoint is the whole state a training loop needs to continue as if it had never
stopped, gathered by :func:`capture_training_state`:

* every model's ``state_dict()`` (parameters and BatchNorm running statistics),
* every optimizer's ``state_dict()`` (moments, step counts),
* every DataLoader's ``state_dict()`` (its shuffling generator and the position inside
  the running epoch),
* ``minigrad.get_rng_state()`` (the generators behind ``randn``/``rand``/dropout),
* the step counter and any extra JSON-like values the loop keeps (e.g. a fixed noise
  batch, the epoch number).

(``capture_training_state``/``restore_training_state`` live in
``minigrad.training_state`` and are re-exported here.)

The run-folder discipline every trainer and command follows (docs/reliability.md)::

    from minigrad.run_start import start_run, merge_resumed_options
    from minigrad.divergence import check_finite_values, check_finite_parameters

    start = start_run(out, resume=resume, config_keys=option_names)  # locks, checks
    with start.lock:                                 # released at the end, even on error
        run = start.run
        if start.state is None:                      # fresh (or never checkpointed)
            run.write_config(options)
            step = 0
        else:                                        # newest *intact* checkpoint
            options = merge_resumed_options(saved_options, typed_options, ("steps",))
            step = restore_training_state(start.state, models=..., optimizers=...)
            run.truncate_metrics(after_step=step)   # drop lines logged after it
        while step < steps:
            ...
            check_finite_values({"loss": loss}, step=step)      # every step: cheap
            run.log_metrics({"step": step, "loss": loss})
            if step % every == 0:
                check_finite_parameters(models, step=step)      # never save NaNs
                run.save_checkpoint(step, capture_training_state(step, ...), keep_last=2)
        ...rebuild derived files (plots, GIFs) from the files on disk...

* :func:`minigrad.run_start.start_run`: one writer per folder (``minigrad.run_lock``; a
  dead writer's lock is taken over), an occupied folder refused without ``resume``,
  another kind of run refused, stray ``.*.tmp`` files removed, a folder that never
  reached its first checkpoint restarted, damaged checkpoints set aside;
  :func:`minigrad.run_start.check_can_start` runs the same refusals touching nothing.
* :func:`load_checkpoint` / :func:`newest_intact_checkpoint`: a damaged file is a
  one-line :class:`~minigrad.run_errors.CheckpointError`; a run folder falls back to its
  newest intact checkpoint and says so; :func:`require_extra` refuses another kind of run.
* ``minigrad.command_line.run_command``: a command's errors as one line, exit 2 (a
  mistake) or 1 (diverged, disk full).

Every file is written by write-to-temporary-then-rename, so a run killed at any moment
leaves the previous checkpoint and config intact. ``metrics.jsonl`` is appended line by
line and flushed; a line cut short by a kill is dropped when the log is read back.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.atomic_file import write_atomically
from minigrad.run_errors import CheckpointError, NothingToResume, RunError, RunFolderOccupied
from minigrad.run_lock import RunLock
from minigrad.serialize import UnreadableArchive, load, save
from minigrad.training_state import capture_training_state, restore_training_state

__all__ = [
    "CHECKPOINT_DIR",
    "RunFolder",
    "capture_training_state",
    "find_checkpoint",
    "load_checkpoint",
    "newest_intact_checkpoint",
    "require_extra",
    "restore_training_state",
    "write_text_atomically",
]

Note = Callable[[str], None]  # where a run says what it did on its own (default: stderr)

CHECKPOINT_DIR = "checkpoints"
_CHECKPOINT_NAME = re.compile(r"^step-(\d+)\.npz$")


class RunFolder:
    """One training run's folder (created if missing); see the module docstring for layout."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        if str(root).strip() == "":
            raise RunError("the run folder path is empty; give a folder, e.g. --out runs/gan")
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise RunFolderOccupied(
                f"run folder {self.root} exists and is not a folder; choose another --out"
            )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # a parent is a file, no permission, read-only disk
            raise RunError(f"cannot create run folder {self.root}: {error.strerror}") from None

    def lock(self) -> RunLock:
        """The folder's writer lock (``with run.lock(): ...``); see ``minigrad.run_lock``."""
        return RunLock(self.root)

    def holds_run(self) -> bool:
        """Whether a run was ever started here (config, metrics or a checkpoint)."""
        return (
            self.config_path.exists() or self.metrics_path.exists() or bool(self.checkpoints())
        )

    def remove_stray_temp_files(self) -> list[Path]:
        """Delete the ``.<name>.*.tmp`` files an atomic write killed midway left behind.

        Only safe while holding the lock (a live writer's temp file is not stray).
        """
        strays = [path for path in self.root.rglob(".*.tmp") if path.is_file()]
        for path in strays:
            path.unlink(missing_ok=True)
        return strays

    @property
    def config_path(self) -> Path:
        return self.root / "config.json"

    @property
    def metrics_path(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def checkpoint_dir(self) -> Path:
        return self.root / CHECKPOINT_DIR

    def path(self, name: str) -> Path:
        """``root / name``: where the loop should put its own files (sample grids, plots)."""
        return self.root / name

    # ---------------------------------------------------------------- config
    def write_config(self, config: Mapping[str, Any]) -> None:
        """Write ``config`` (JSON-able values) to ``config.json``, atomically."""
        text = json.dumps(_jsonable(dict(config)), indent=2, sort_keys=True) + "\n"
        write_text_atomically(self.config_path, text)

    def read_config(self) -> dict[str, Any]:
        if not self.config_path.exists():
            raise FileNotFoundError(f"{self.config_path} does not exist: not a run folder?")
        return json.loads(self.config_path.read_text(encoding="utf-8"))

    # --------------------------------------------------------------- metrics
    def log_metrics(self, record: Mapping[str, Any]) -> None:
        """Append ``record`` (must hold an int ``"step"``) as one line of ``metrics.jsonl``.

        Numpy scalars and 0-d arrays become Python numbers; the file is flushed per line
        so a killed run loses at most the line being written.
        """
        if not isinstance(record.get("step"), int | np.integer):
            raise ValueError(f"a metrics record needs an int 'step' entry, got {dict(record)!r}")
        line = json.dumps(_jsonable(dict(record)), sort_keys=False)
        with self.metrics_path.open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")
            stream.flush()

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every complete record of ``metrics.jsonl`` in order (a torn last line is skipped)."""
        if not self.metrics_path.exists():
            return []
        records = []
        for line in self.metrics_path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # the tail of a run killed mid-write
        return records

    def truncate_metrics(self, after_step: int) -> None:
        """Drop records with ``step > after_step`` (logged after the checkpoint resumed from).

        Resuming then appends exactly the lines the uninterrupted run would have written.
        """
        kept = [record for record in self.read_metrics() if record["step"] <= after_step]
        text = "".join(json.dumps(record) + "\n" for record in kept)
        write_text_atomically(self.metrics_path, text)

    # ----------------------------------------------------------- checkpoints
    def checkpoint_path(self, step: int) -> Path:
        return self.checkpoint_dir / f"step-{step:08d}.npz"

    def save_checkpoint(self, step: int, state: Any, keep_last: int | None = None) -> Path:
        """``minigrad.save(state)`` to ``checkpoints/step-<step>.npz`` (atomic rename).

        With ``keep_last=n`` only the newest ``n`` checkpoints are kept afterwards.
        """
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"step must be a non-negative int, got {step!r}")
        if keep_last is not None and keep_last < 1:
            raise ValueError(f"keep_last must be None or >= 1, got {keep_last!r}")
        self.checkpoint_dir.mkdir(exist_ok=True)
        path = self.checkpoint_path(step)
        save(state, path)
        if keep_last is not None:
            for old in self.checkpoints()[:-keep_last]:
                old.unlink(missing_ok=True)
        return path

    def checkpoints(self) -> list[Path]:
        """This run's checkpoint files, oldest step first."""
        if not self.checkpoint_dir.is_dir():
            return []
        found = []
        for entry in self.checkpoint_dir.iterdir():
            match = _CHECKPOINT_NAME.match(entry.name)
            if match:
                found.append((int(match.group(1)), entry))
        return [path for _, path in sorted(found)]

    def latest_checkpoint(self) -> Path | None:
        """The checkpoint with the highest step, or None when there is none yet."""
        found = self.checkpoints()
        return found[-1] if found else None


def find_checkpoint(path: str | os.PathLike[str]) -> Path:
    """A checkpoint file given either the file itself or a run folder (its latest one)."""
    path = Path(path)
    if path.is_file():
        return path
    if path.is_dir():
        latest = RunFolder(path).latest_checkpoint()
        if latest is None:
            raise NothingToResume(f"run folder {path} holds no checkpoints/step-*.npz yet")
        return latest
    raise FileNotFoundError(f"checkpoint {path} is neither a checkpoint file nor a run folder")


def load_checkpoint(path: str | os.PathLike[str], note: Note | None = None) -> dict[str, Any]:
    """``minigrad.load`` of a checkpoint file, or of a run folder's newest *intact* one.

    A damaged file raises :class:`CheckpointError` naming it and the problem. Given a run
    folder whose newest checkpoint is damaged, the newest intact one is loaded instead and
    ``note`` (default: a line on stderr) says so.
    """
    if Path(path).is_dir():
        checkpoint, state, _ = newest_intact_checkpoint(RunFolder(path), note)
        return state
    return _load_one(find_checkpoint(path))


def newest_intact_checkpoint(
    run: RunFolder, note: Note | None = None, set_aside: bool = False
) -> tuple[Path, dict[str, Any], list[Path]]:
    """(path, state, damaged paths) of the newest checkpoint of ``run`` that loads.

    Damaged newer ones are reported through ``note``; with ``set_aside`` they are renamed
    to ``<name>.unreadable`` (kept for inspection, never again counted or pruned).
    Raises :class:`NothingToResume` when there is no checkpoint, and
    :class:`CheckpointError` when none of them loads.
    """
    note = note or _note_on_stderr
    damaged: list[Path] = []
    problems: list[str] = []
    for checkpoint in reversed(run.checkpoints()):
        try:
            state = _load_one(checkpoint)
        except CheckpointError as error:
            damaged.append(checkpoint)
            problems.append(str(error))
            continue
        for path, problem in zip(damaged, problems, strict=True):
            aside = f"; renamed to {path.name}.unreadable" if set_aside else ""
            note(f"{problem}{aside}; using {checkpoint.name} (step {state['step']}) instead")
            if set_aside:
                path.rename(path.with_name(path.name + ".unreadable"))
        return checkpoint, state, damaged
    if damaged:
        raise CheckpointError(
            f"no checkpoint in {run.checkpoint_dir} can be read (newest: {problems[0]}); "
            "start afresh with another --out"
        )
    raise NothingToResume(f"run folder {run.root} holds no checkpoints/step-*.npz yet")


def require_extra(state: dict[str, Any], path: Any, keys: tuple[str, ...], kind: str) -> None:
    """Raise :class:`CheckpointError` unless ``state["extra"]`` has ``keys`` (the kind check).

    ``kind`` names the command that makes such checkpoints, e.g. ``"python -m gan train"``.
    """
    extra = state.get("extra")
    missing = [key for key in keys if not isinstance(extra, dict) or key not in extra]
    if missing:
        raise CheckpointError(
            f"{path} is a checkpoint of another kind of run (no {', '.join(missing)}); "
            f"give a checkpoint made by {kind}"
        )


def _load_one(path: Path) -> dict[str, Any]:
    try:
        state = load(path)
    except UnreadableArchive as error:
        raise CheckpointError(f"checkpoint {error}") from None
    if not isinstance(state, dict) or not isinstance(state.get("step"), int):
        raise CheckpointError(f"{path} is a minigrad archive but not a training checkpoint")
    return state


def _note_on_stderr(text: str) -> None:
    print(f"note: {text}", file=sys.stderr, flush=True)


def write_text_atomically(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path`` by ``text`` atomically (see ``minigrad.atomic_file``)."""
    write_atomically(path, lambda stream: stream.write(text), binary=False)


def _jsonable(value: Any) -> Any:
    """``value`` with numpy scalars/arrays and paths turned into JSON types (NaN stays NaN)."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, Path):
        return str(value)
    return value
