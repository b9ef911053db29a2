"""minigrad.sweeps.results: a run's result file is whole or absent, and reads back exactly."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from minigrad.run_errors import RunFolderBusy
from minigrad.run_lock import RunLock
from minigrad.sweeps import clear_unfinished, load_finished, save_finished


def test_a_result_reads_back_bit_for_bit(tmp_path):
    samples = np.random.default_rng(0).standard_normal((64, 1, 4, 4)).astype(np.float32)
    result = {"seed": 3, "fd": 0.1 + 0.2, "curve": [1 / 3, 2 / 3], "samples": samples}
    save_finished(tmp_path / "arm.json", result)
    back = load_finished(tmp_path / "arm.json")
    assert back.keys() == result.keys()
    assert back["fd"] == result["fd"] and back["curve"] == result["curve"]
    assert back["samples"].dtype == np.float32
    assert back["samples"].tobytes() == samples.tobytes()


def test_no_json_means_not_finished(tmp_path):
    assert load_finished(tmp_path / "arm.json") is None
    # The arrays are written first: a run killed between the two files is unfinished.
    save_finished(tmp_path / "arm.json", {"samples": np.zeros(3)})
    (tmp_path / "arm.json").unlink()
    assert load_finished(tmp_path / "arm.json") is None


def test_a_value_json_cannot_hold_writes_nothing(tmp_path):
    with pytest.raises(TypeError):
        save_finished(tmp_path / "arm.json", {"samples": np.zeros(3), "bad": object()})
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="ends in .json"):
        save_finished(tmp_path / "arm.txt", {})


def _half_written_run(folder):
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints" / "step-00000100.npz").write_bytes(b"weights")
    (folder / "curves.json").write_text("{}")


def test_an_unfinished_run_folder_is_emptied(tmp_path):
    folder = tmp_path / "ring-seed0"
    _half_written_run(folder)
    clear_unfinished(folder)
    assert folder.is_dir() and list(folder.iterdir()) == []
    clear_unfinished(tmp_path / "never-started")  # nothing there: nothing to do


def test_a_run_folder_still_being_written_is_left_alone(tmp_path):
    folder = tmp_path / "ring-seed0"
    _half_written_run(folder)
    with RunLock(folder), pytest.raises(RunFolderBusy, match=str(os.getpid())):
        clear_unfinished(folder)  # its writer (this process) is alive
    assert (folder / "checkpoints" / "step-00000100.npz").read_bytes() == b"weights"


def test_the_lock_of_a_dead_writer_does_not_keep_the_folder(tmp_path):
    folder = tmp_path / "ring-seed0"
    _half_written_run(folder)
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(finished.stdout)  # a process that has exited
    (folder / ".lock").write_text(f"{dead_pid} {socket.gethostname()}\n")
    clear_unfinished(folder)
    assert list(folder.iterdir()) == []
