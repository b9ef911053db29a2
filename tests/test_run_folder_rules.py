"""minigrad.run_start / run_lock / divergence / serialize errors: the rules that keep work safe."""

import errno
import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.command_line import run_command
from minigrad.divergence import (
    check_finite_parameters,
    check_finite_values,
    check_learning_rate,
)
from minigrad.run_errors import (
    CheckpointError,
    Diverged,
    NothingToResume,
    OptionsChanged,
    RunError,
    RunFolderBusy,
    RunFolderOccupied,
)
from minigrad.run_lock import RunLock
from minigrad.run_start import check_can_start, merge_resumed_options, start_run
from minigrad.runs import RunFolder, load_checkpoint, newest_intact_checkpoint
from minigrad.serialize import UnreadableArchive

KEYS = ("a", "b")


def _state(step):
    return {"step": step, "models": {}, "optimizers": {}, "loaders": {}, "rng": None, "extra": {}}


def _run_with_checkpoints(root, steps=(10, 20)):
    run = RunFolder(root)
    run.write_config({"a": 1, "b": 2})
    for step in steps:
        run.save_checkpoint(step, _state(step))
    return run


def test_second_writer_is_refused_and_the_lock_is_released(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(RunFolderBusy, match="in use by process"):
            RunLock(tmp_path).acquire()
    assert not (tmp_path / ".lock").exists()
    RunLock(tmp_path).acquire()  # free again


def test_lock_of_a_dead_process_is_taken_over(tmp_path):
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    import socket

    (tmp_path / ".lock").write_text(f"{int(child.stdout)} {socket.gethostname()}\n")
    lock = RunLock(tmp_path)
    lock.acquire()
    assert (tmp_path / ".lock").read_text().split()[0] == str(os.getpid())
    lock.release()


def test_lock_of_a_live_process_is_respected(tmp_path):
    import socket

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / ".lock").write_text(f"{live.pid} {socket.gethostname()}\n")
        with pytest.raises(RunFolderBusy, match=str(live.pid)):
            start_run(tmp_path, resume=False)
    finally:
        live.kill()
        live.wait()


def test_occupied_folder_needs_resume_and_says_what_to_do(tmp_path):
    _run_with_checkpoints(tmp_path)
    with pytest.raises(RunFolderOccupied, match="--resume .* another --out"):
        start_run(tmp_path, resume=False, config_keys=KEYS)
    assert not (tmp_path / ".lock").exists()  # released after the refusal


def test_another_kind_of_run_and_a_foreign_folder_are_refused(tmp_path):
    _run_with_checkpoints(tmp_path / "run")
    with pytest.raises(RunFolderOccupied, match="another kind of run"):
        start_run(tmp_path / "run", resume=True, config_keys=("a", "c"))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(RunFolderOccupied, match="not empty"):
        start_run(tmp_path / "mine", resume=False, config_keys=KEYS)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_bad_paths_are_one_line_errors(tmp_path):
    (tmp_path / "file").write_text("x")
    for root in ("", "   ", tmp_path / "file", tmp_path / "file" / "run"):
        with pytest.raises(RunError):
            start_run(root, resume=False)
        with pytest.raises(RunError):
            check_can_start(root, resume=False)


def test_resume_of_nothing_is_refused_without_creating_the_folder(tmp_path):
    with pytest.raises(NothingToResume, match="drop --resume"):
        start_run(tmp_path / "typo", resume=True)
    assert not (tmp_path / "typo").exists()
    with pytest.raises(NothingToResume):
        check_can_start(tmp_path / "typo", resume=True)


def test_a_run_without_checkpoint_restarts_afresh(tmp_path):
    run = RunFolder(tmp_path)
    run.write_config({"a": 1, "b": 2})
    run.log_metrics({"step": 1, "loss": 3.0})
    notes = []
    for resume in (False, True):
        start = start_run(tmp_path, resume=resume, config_keys=KEYS, note=notes.append)
        start.lock.release()
        assert start.state is None and not run.metrics_path.exists()
        run.log_metrics({"step": 1, "loss": 3.0})
    assert len(notes) == 2 and "afresh" in notes[0]


def test_stray_temp_files_are_removed(tmp_path):
    run = _run_with_checkpoints(tmp_path)
    (run.checkpoint_dir / ".step-00000030.npz.x1.tmp").write_bytes(b"half")
    (tmp_path / ".samples.gif.y2.tmp").write_bytes(b"half")
    start = start_run(tmp_path, resume=True, config_keys=KEYS)
    start.lock.release()
    assert not list(tmp_path.rglob("*.tmp"))
    assert start.state["step"] == 20


def test_resume_falls_back_to_the_newest_intact_checkpoint(tmp_path):
    run = _run_with_checkpoints(tmp_path, (10, 20, 30))
    newest = run.checkpoint_path(30)
    newest.write_bytes(newest.read_bytes()[:300])  # truncate -s 300
    notes = []
    start = start_run(tmp_path, resume=True, config_keys=KEYS, note=notes.append)
    start.lock.release()
    assert start.checkpoint == run.checkpoint_path(20) and start.state["step"] == 20
    assert len(notes) == 1 and "step-00000030.npz" in notes[0] and "step-00000020" in notes[0]
    assert (run.checkpoint_dir / "step-00000030.npz.unreadable").exists()  # kept, set aside
    assert run.checkpoints() == [run.checkpoint_path(10), run.checkpoint_path(20)]


def test_unreadable_checkpoints_name_the_file_and_the_problem(tmp_path):
    run = _run_with_checkpoints(tmp_path, (10,))
    good = run.checkpoint_path(10).read_bytes()
    cases = {
        "truncated": (good[: len(good) // 2], "damaged"),
        "random": (np.random.default_rng(0).bytes(4000), "not a minigrad.save archive"),
        "empty": (b"", "not a minigrad.save archive"),
    }
    for name, (content, problem) in cases.items():
        path = tmp_path / f"{name}.npz"
        path.write_bytes(content)
        with pytest.raises(CheckpointError, match=problem) as info:
            load_checkpoint(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)
        assert "pickle" not in str(info.value)
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(UnreadableArchive, match=r"array.npy is a single-array \.npy"):
        mg.load(tmp_path / "array.npy")
    mg.save({"weights": np.zeros(2)}, tmp_path / "plain.npz")
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        load_checkpoint(tmp_path / "plain.npz")
    for step in (10,):
        run.checkpoint_path(step).write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="no checkpoint .* can be read"):
        newest_intact_checkpoint(run)


def test_save_into_a_missing_folder_names_the_target(tmp_path):
    target = tmp_path / "missing" / "model.npz"
    with pytest.raises(FileNotFoundError, match="cannot write .*model.npz: folder .*missing"):
        mg.save({"a": 1}, target)
    assert not (tmp_path / "missing").exists()


def test_a_full_disk_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    run = _run_with_checkpoints(tmp_path, (10,))
    before = run.checkpoint_path(10).read_bytes()

    def full(stream, **entries):
        stream.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device", str(run.checkpoint_path(10)))

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(OSError) as info:
        run.save_checkpoint(10, _state(10))
    assert info.value.errno == errno.ENOSPC
    assert run.checkpoint_path(10).read_bytes() == before
    assert not list(tmp_path.rglob("*.tmp"))


def test_resumed_options_name_what_changed():
    saved = {"data": "ring", "lr_g": 0.001, "steps": 100, "sizes": [4, 8]}
    merged = merge_resumed_options(saved, {"steps": 200, "sizes": (4, 8)}, ("steps",))
    assert merged == {"data": "ring", "lr_g": 0.001, "steps": 200, "sizes": [4, 8]}
    with pytest.raises(OptionsChanged, match=r"data \(run: \"ring\", given: \"grid\"\); lr_g"):
        merge_resumed_options(saved, {"data": "grid", "lr_g": 0.5, "steps": 5}, ("steps",))


def test_learning_rates_must_be_finite_and_positive():
    check_learning_rate("lr", 1e-3)
    for bad in (0.0, -1.0, float("inf"), float("nan"), "0.1", True):
        with pytest.raises(ValueError, match="lr must be a finite number > 0"):
            check_learning_rate("lr", bad)


def test_divergence_guard_names_the_loss_or_tensor_and_the_step():
    check_finite_values({"d_loss": 0.5, "g_loss": 2.0}, step=3)
    with pytest.raises(Diverged, match="step 7: g_loss = nan"):
        check_finite_values({"d_loss": 0.5, "g_loss": float("nan")}, step=7)
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    check_finite_parameters({"generator": model}, step=1)
    model[0].weight.grad = mg.tensor(np.array([[0.0, np.inf]] * 3, dtype=np.float32))
    with pytest.raises(Diverged, match=r"generator gradient of 0.weight is inf \(3 of 6"):
        check_finite_parameters({"generator": model}, step=4)
    model[0].weight.grad = None
    with mg.no_grad():
        model[1].running_mean.fill_(float("nan"))
    with pytest.raises(Diverged, match="weight 1.running_mean is nan"):
        check_finite_parameters({"generator": model}, step=5)


def test_run_command_maps_failures_to_one_line_and_exit_codes(capsys):
    def fail(error):
        def body():
            raise error

        return body

    cases = [
        (OptionsChanged("lr differs"), 2, "prog: error: lr differs"),
        (ValueError("bad\nvalue"), 2, "prog: error: bad value"),
        (FileNotFoundError(2, "No such file or directory", "x.npz"), 2, "No such file"),
        (Diverged("diverged at step 2: d_loss = nan"), 1, "prog: stopped: diverged"),
        (OSError(errno.ENOSPC, "No space left on device", "ckpt"), 1, "No space left"),
        (OSError(errno.EFBIG, "File too large", "ckpt"), 1, "rerun with --resume"),
    ]
    for error, code, text in cases:
        with pytest.raises(SystemExit) as info:
            run_command("prog", fail(error))
        err = capsys.readouterr().err
        assert info.value.code == code and text in err and err.count("\n") == 1
    with pytest.raises(ZeroDivisionError):  # a bug keeps its traceback
        run_command("prog", fail(ZeroDivisionError("oops")))
    assert run_command("prog", lambda: 0) == 0
