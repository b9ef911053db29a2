"""Starting or resuming a run in a folder: the checks every trainer and command share.

    start = start_run("runs/gan", resume=args.resume, config_keys=option_names)
    with start.lock:                       # one writer per folder
        if start.state is None:            # a fresh run (or one that never checkpointed)
            run.write_config(options)
        else:                              # resume: options from the checkpoint ...
            options = merge_resumed_options(saved, given, may_change={"steps", "progress"})
            step = restore_training_state(start.state, ...)
        ...

The rules (issue 11, "runs that never lose work"):

* the folder path comes from the command line only, never from a saved config;
* a second writer is refused while the first holds the lock; a lock left by a dead
  process is taken over (``minigrad.run_lock``);
* without ``resume`` a folder holding checkpoints is refused, and the message says what to
  do (``--resume``, or another ``--out``); a folder whose run never reached its first
  checkpoint is restarted afresh (it has nothing worth keeping), and so is one given
  ``--resume`` (saying so);
* a folder holding another kind of run (its ``config.json`` has other keys) is refused;
* stray ``.*.tmp`` files of a killed atomic write are removed;
* ``resume`` loads the newest *intact* checkpoint, setting damaged newer ones aside as
  ``*.unreadable`` and saying so;
* :func:`merge_resumed_options` refuses options given on the command line that differ
  from the run's own, naming them, except those a resume may change (steps, epochs,
  progress).

:func:`check_can_start` runs the same refusals without creating or locking anything,
for commands that have slow work to do before they write (``gan grow`` trains its
scoring classifier first): a mistake is then reported in a second, not after minutes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minigrad.run_errors import NothingToResume, OptionsChanged, RunError, RunFolderOccupied
from minigrad.run_lock import RunLock
from minigrad.runs import Note, RunFolder, _note_on_stderr, newest_intact_checkpoint


@dataclass
class RunStart:
    """What :func:`start_run` found: the folder, its held lock and the state to resume."""

    run: RunFolder
    lock: RunLock
    checkpoint: Path | None  # the checkpoint resumed from (None: start afresh)
    state: dict[str, Any] | None  # its contents

    @property
    def resumed(self) -> bool:
        return self.state is not None


def check_can_start(
    root: str | os.PathLike[str], *, resume: bool, config_keys: Collection[str] | None = None
) -> None:
    """Raise what :func:`start_run` would refuse with, touching nothing on disk."""
    path = Path(str(root))
    if str(root).strip() == "" or (path.exists() and not path.is_dir()):
        RunFolder(root)  # raises the one-line error
    existing = next(folder for folder in (path, *path.parents) if folder.exists())
    if not existing.is_dir():
        raise RunError(f"cannot create run folder {path}: {existing} is a file")
    if not path.is_dir():
        if resume:
            raise NothingToResume(_nothing_message(path))
        return
    _refusals(RunFolder(path), resume, config_keys)


def start_run(
    root: str | os.PathLike[str],
    *,
    resume: bool,
    config_keys: Collection[str] | None = None,
    note: Note | None = None,
) -> RunStart:
    """Create/lock the run folder ``root`` and decide between a fresh start and a resume.

    ``config_keys`` are the keys this kind of run writes to config.json (a folder whose
    config.json has other keys holds another kind of run and is refused). The returned
    lock is held: release it with ``with start.lock:`` or ``start.lock.release()``.
    """
    note = note or _note_on_stderr
    if resume and not Path(str(root)).is_dir() and str(root).strip():
        raise NothingToResume(_nothing_message(Path(root)))
    run = RunFolder(root)
    lock = run.lock()
    lock.acquire()
    try:
        run.remove_stray_temp_files()
        _refusals(run, resume, config_keys)
        if run.checkpoints() and resume:
            checkpoint, state, _ = newest_intact_checkpoint(run, note, set_aside=True)
            return RunStart(run, lock, checkpoint, state)
        if run.holds_run():
            note(
                f"{run.root} holds a run that stopped before its first checkpoint; "
                "starting it afresh"
            )
            run.metrics_path.unlink(missing_ok=True)
        return RunStart(run, lock, None, None)
    except BaseException:
        lock.release()
        raise


def merge_resumed_options(
    saved: Mapping[str, Any],
    given: Mapping[str, Any],
    may_change: Collection[str] = ("steps", "epochs", "progress"),
) -> dict[str, Any]:
    """``saved`` updated with the ``given`` options a resume may change.

    ``given`` holds only the options the user set explicitly (on the command line). Any
    other given option whose value differs from ``saved`` raises :class:`OptionsChanged`
    naming each one with both values.
    """
    changed = [
        f"{name} (run: {_shown(saved[name])}, given: {_shown(value)})"
        for name, value in given.items()
        if name not in may_change and name in saved and _normal(value) != _normal(saved[name])
    ]
    if changed:
        allowed = ", ".join(sorted(may_change))
        raise OptionsChanged(
            f"--resume with options that differ from the run's own: {'; '.join(changed)}. "
            f"Resume without them (a resume may change only: {allowed}) or start a new run "
            "with another --out"
        )
    merged = dict(saved)
    merged.update({name: value for name, value in given.items() if name in may_change})
    return merged


def _refusals(run: RunFolder, resume: bool, config_keys: Collection[str] | None) -> None:
    if run.config_path.exists() and config_keys is not None:
        try:
            saved_keys = set(json.loads(run.config_path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            saved_keys = set()
        if saved_keys != set(config_keys):
            raise RunFolderOccupied(
                f"{run.root} holds another kind of run (its config.json has other options); "
                "choose another --out"
            )
    elif not run.holds_run() and any(run.root.iterdir()):
        if not all(path.name.startswith(".") for path in run.root.iterdir()):
            raise RunFolderOccupied(
                f"{run.root} is not empty and holds no run; choose another --out"
            )
    checkpoints = run.checkpoints()
    if checkpoints and not resume:
        raise RunFolderOccupied(
            f"{run.root} already holds a run (newest checkpoint {checkpoints[-1].name}); "
            "pass --resume to continue it or choose another --out"
        )
    if resume and not run.holds_run():
        raise NothingToResume(_nothing_message(run.root))


def _nothing_message(root: Path) -> str:
    return f"--resume: {root} holds no run to resume; drop --resume to start one there"


def _normal(value: Any) -> Any:
    """JSON's view of a value, so (4, 8) given equals [4, 8] saved."""
    return json.loads(json.dumps(value))


def _shown(value: Any) -> str:
    return json.dumps(value)
