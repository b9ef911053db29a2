"""A run's result file: present means finished, so a sweep run again skips the run.

``<name>.json`` holds the result's plain values; numpy arrays at its top level go to
``<name>.npz`` beside it. The arrays are written first and the JSON last, each by
write-then-rename (``minigrad.atomic_file``), so a run killed at any moment leaves either
no JSON (the run is trained again) or a complete result. Floats survive the JSON round
trip exactly (Python writes the shortest repr that reads back to the same double).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.atomic_file import write_atomically
from minigrad.run_lock import RunLock


def save_finished(path: str | os.PathLike[str], result: Mapping[str, Any]) -> None:
    """Store ``result`` as ``path`` (JSON) plus ``path.with_suffix(".npz")`` for its arrays."""
    path = Path(path)
    if path.suffix != ".json":
        raise ValueError(f"a result file ends in .json, got {str(path)!r}")
    arrays = {key: value for key, value in result.items() if isinstance(value, np.ndarray)}
    values = {key: value for key, value in result.items() if key not in arrays}
    text = json.dumps(values, allow_nan=True) + "\n"  # fails here, before anything is written
    path.parent.mkdir(parents=True, exist_ok=True)
    if arrays:
        write_atomically(path.with_suffix(".npz"), lambda stream: np.savez(stream, **arrays))
    write_atomically(path, lambda stream: stream.write(text), binary=False)


def load_finished(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The result stored by :func:`save_finished` at ``path``, or None if there is none yet."""
    path = Path(path)
    if not path.is_file():
        return None
    result = json.loads(path.read_text(encoding="utf-8"))
    arrays = path.with_suffix(".npz")
    if arrays.is_file():
        with np.load(arrays, allow_pickle=False) as stored:
            result.update({key: stored[key] for key in stored.files})
    return result


def clear_unfinished(folder: str | os.PathLike[str]) -> None:
    """Empty a run folder that holds no result yet (a run killed before it finished).

    The folder is emptied while holding its run lock (minigrad/run_lock.py), so a run
    still writing there is never deleted under it: on a cluster the scheduler may retry
    a run whose worker it lost touch with while that worker still trains it. Then
    :class:`~minigrad.run_errors.RunFolderBusy` names the writer and nothing is removed.
    """
    folder = Path(folder)
    if not folder.exists():
        return
    with RunLock(folder) as lock:
        for entry in folder.iterdir():
            if entry == lock.path:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
