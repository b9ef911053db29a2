"""minigrad.runs: run folders, metrics logs, atomic checkpoints and bit-for-bit resume."""

import json
import os
import stat

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset
from minigrad.run_errors import CheckpointError
from minigrad.runs import (
    RunFolder,
    capture_training_state,
    find_checkpoint,
    load_checkpoint,
    restore_training_state,
)


def test_config_roundtrip_and_numpy_values(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.write_config({"lr": np.float32(0.5), "sizes": (1, 2), "path": tmp_path})
    config = run.read_config()
    assert config == {"lr": 0.5, "sizes": [1, 2], "path": str(tmp_path)}
    assert not list((tmp_path / "run").glob(".*.tmp"))


def test_metrics_append_truncate_and_torn_line(tmp_path):
    run = RunFolder(tmp_path)
    for step in range(1, 6):
        run.log_metrics({"step": step, "loss": np.float64(step / 2)})
    with run.metrics_path.open("a") as stream:
        stream.write('{"step": 6, "lo')  # a run killed mid-line
    assert [r["step"] for r in run.read_metrics()] == [1, 2, 3, 4, 5]
    run.truncate_metrics(after_step=3)
    assert run.read_metrics() == [{"step": s, "loss": s / 2} for s in (1, 2, 3)]
    with pytest.raises(ValueError, match="'step'"):
        run.log_metrics({"loss": 1.0})


def test_checkpoints_latest_and_keep_last(tmp_path):
    run = RunFolder(tmp_path)
    assert run.latest_checkpoint() is None
    with pytest.raises(FileNotFoundError, match="no checkpoints"):
        find_checkpoint(tmp_path)
    for step in (5, 100, 20):
        run.save_checkpoint(step, {"step": step, "w": np.arange(step)}, keep_last=2)
    assert [p.name for p in run.checkpoints()] == ["step-00000020.npz", "step-00000100.npz"]
    assert find_checkpoint(tmp_path) == run.checkpoint_path(100)
    state = load_checkpoint(tmp_path)
    assert state["step"] == 100 and (state["w"] == np.arange(100)).all()
    (run.checkpoint_dir / ".step-00000200.npz.abc.tmp").write_bytes(b"partial")
    assert run.latest_checkpoint() == run.checkpoint_path(100)


def _train(steps, model, optimizer, loader, batches):
    """A loop that draws from every random source a checkpoint must capture."""
    for _ in range(steps):
        try:
            x, y = next(batches)
        except StopIteration:
            batches = iter(loader)
            x, y = next(batches)
        noise = mg.randn(*x.shape) * 0.1  # the global generator
        loss = ((model(x + noise) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return batches


def _fresh(seed):
    """The same data every time; model, loader and global generator seeded by ``seed``."""
    data = np.random.default_rng(7).normal(size=(10, 4)).astype(np.float32)
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    dataset = TensorDataset(mg.tensor(data[:, :3]), mg.tensor(data[:, 3:]))
    loader = DataLoader(dataset, batch_size=4, shuffle=True)
    return model, optimizer, loader


def test_resume_is_bit_for_bit(tmp_path):
    model, optimizer, loader = _fresh(0)
    _train(9, model, optimizer, loader, iter(loader))
    expected = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    model, optimizer, loader = _fresh(0)
    batches = _train(5, model, optimizer, loader, iter(loader))  # stops mid-epoch
    run = RunFolder(tmp_path)
    state = capture_training_state(
        5, models={"m": model}, optimizers={"o": optimizer}, loaders={"l": loader}
    )
    run.save_checkpoint(5, state)
    del batches
    _train(3, model, optimizer, loader, iter(loader))  # the killed run wanders on

    model, optimizer, loader = _fresh(123)  # a new process with different randomness
    step = restore_training_state(
        load_checkpoint(tmp_path),
        models={"m": model},
        optimizers={"o": optimizer},
        loaders={"l": loader},
    )
    assert step == 5
    _train(4, model, optimizer, loader, iter(loader))
    for key, value in model.state_dict().items():
        assert np.array_equal(value.numpy(), expected[key]), key


def test_restore_names_missing_parts(tmp_path):
    model, optimizer, loader = _fresh(0)
    state = capture_training_state(0, models={"m": model})
    with pytest.raises(CheckpointError, match="no optimizers named"):
        restore_training_state(state, models={"m": model}, optimizers={"o": optimizer})
    assert json.loads(json.dumps(state["loaders"])) == {}


def test_written_files_get_the_usual_permissions(tmp_path):
    run = RunFolder(tmp_path)
    run.write_config({"a": 1})
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(run.config_path.stat().st_mode) == 0o666 & ~mask
