"""gan.trainer and the CLI: the run folder, bit-for-bit resume after a kill, sample, evaluate."""

import json

import numpy as np
import pytest
from PIL import Image

import gan.build
from gan.cli import main
from gan.options import TrainOptions
from gan.trainer import train
from minigrad.runs import RunFolder, load_checkpoint

TINY_RING = dict(
    data="ring",
    d_steps=2,
    steps=6,
    batch_size=16,
    g_width=8,
    d_width=8,
    sample_every=3,
    checkpoint_every=3,
    progress=False,
    remedy="minibatch-stddev",
)


def _final_weights(folder):
    state = load_checkpoint(folder)
    return {
        f"{model}.{name}": value.numpy()
        for model, weights in state["models"].items()
        for name, value in weights.items()
    }


class _Killed(Exception):
    pass


def _kill_after(monkeypatch, step):
    """Make the run die right after logging ``step`` (after checkpoint 3, before 6)."""
    original = RunFolder.log_metrics

    def log_then_maybe_die(self, record):
        original(self, record)
        if record["step"] == step:
            raise _Killed

    monkeypatch.setattr(RunFolder, "log_metrics", log_then_maybe_die)


def _assert_same_run(a, b):
    assert RunFolder(a).read_metrics() == RunFolder(b).read_metrics()
    weights_a, weights_b = _final_weights(a), _final_weights(b)
    assert weights_a.keys() == weights_b.keys()
    for name in weights_a:
        assert np.array_equal(weights_a[name], weights_b[name]), name


def test_run_folder_contents(tmp_path):
    folder = train(TrainOptions(out=str(tmp_path / "run"), **TINY_RING))
    run = RunFolder(folder)
    records = run.read_metrics()
    assert [r["step"] for r in records] == list(range(1, 7))
    assert {"value", "d_loss", "g_loss", "d_real", "d_fake", "tp", "fn", "fp", "tn"} <= set(
        records[0]
    )
    # k = 2 D-steps of 16 reals and 16 fakes per round: 32 verdicts on each side.
    assert all(r["tp"] + r["fn"] == 32 and r["fp"] + r["tn"] == 32 for r in records)
    assert run.read_config()["data"] == "ring"
    assert [p.name for p in run.checkpoints()] == ["step-00000003.npz", "step-00000006.npz"]
    for name in ("curves.png", "samples.gif", "samples/step-00000003.png", "timing.json"):
        assert (folder / name).exists(), name
    with Image.open(folder / "samples.gif") as animation:
        assert animation.n_frames == 2
    with pytest.raises(FileExistsError, match="--resume"):
        train(TrainOptions(out=str(folder), **TINY_RING))


def test_resume_after_a_kill_equals_an_uninterrupted_run(tmp_path, monkeypatch):
    whole = train(TrainOptions(out=str(tmp_path / "whole"), **TINY_RING))
    _kill_after(monkeypatch, 5)
    with pytest.raises(_Killed):
        train(TrainOptions(out=str(tmp_path / "killed"), **TINY_RING))
    monkeypatch.undo()
    assert len(RunFolder(tmp_path / "killed").read_metrics()) == 5  # 4 and 5 are orphans
    resumed = train(
        TrainOptions(out=str(tmp_path / "killed"), steps=None, progress=False), resume=True
    )
    _assert_same_run(whole, resumed)


def test_image_run_resumes_mid_epoch(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    pixels = rng.random((40, 1, 28, 28), dtype=np.float32)
    labels = np.arange(40) % 10
    monkeypatch.setattr(gan.build, "load_pixels", lambda data, split="train": (pixels, labels))
    options = dict(
        data="fashion-mnist",
        steps=6,
        batch_size=8,
        z_dim=4,
        g_width=4,
        d_width=4,
        sample_every=3,
        checkpoint_every=3,
        progress=False,
    )
    whole = train(TrainOptions(out=str(tmp_path / "whole"), **options))
    with Image.open(whole / "samples" / "step-00000006.png") as picture:
        assert picture.size == (2 * (8 * 30 + 2), 2 * (8 * 30 + 2))  # 8x8 grid, scale 2
    state = load_checkpoint(whole / "checkpoints" / "step-00000003.npz")
    assert state["loaders"]["data"]["batches_done"] == 3  # 5 batches per epoch: mid-epoch

    _kill_after(monkeypatch, 4)
    with pytest.raises(_Killed):
        train(TrainOptions(out=str(tmp_path / "killed"), **options))
    monkeypatch.undo()
    monkeypatch.setattr(gan.build, "load_pixels", lambda data, split="train": (pixels, labels))
    resumed = train(TrainOptions(out=str(tmp_path / "killed"), progress=False), resume=True)
    _assert_same_run(whole, resumed)


def test_cli_train_sample_evaluate(tmp_path, capsys):
    folder = tmp_path / "toy"
    main(
        [
            "train",
            "--data",
            "gaussian-1d",
            "--steps",
            "4",
            "--batch-size",
            "32",
            "--sample-every",
            "2",
            "--checkpoint-every",
            "2",
            "--out",
            str(folder),
            "--no-progress",
        ]
    )
    assert RunFolder(folder).read_config()["z_dim"] == 1
    main(["sample", "--checkpoint", str(folder), "--n", "100"])
    assert (folder / "sample.png").exists()
    main(["evaluate", "--checkpoint", str(folder), "--n", "500"])
    result = json.loads((folder / "evaluation.json").read_text())
    assert result["data"] == "gaussian-1d" and result["target_mean"] == 2.0
    assert np.isfinite(result["mean"]) and result["mapping_gap"] >= 0
    assert "wrote" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["train", "--remedy", "dropout"])
    with pytest.raises(SystemExit) as exit_info:  # an occupied run folder: one-line error
        main(["train", "--data", "gaussian-1d", "--out", str(folder), "--no-progress"])
    assert exit_info.value.code == 2
    assert "already holds a run" in capsys.readouterr().err


def test_linear_learning_rate_decay():
    from gan.build import build_models, build_optimizers
    from gan.options import resolve
    from gan.trainer import set_learning_rates

    options = resolve(TrainOptions(data="ring", steps=100, lr_g=1e-3, lr_d=4e-3))
    assert options.lr_decay == "linear"
    g_optimizer, d_optimizer = build_optimizers(options, *build_models(options))
    set_learning_rates(options, 25, g_optimizer, d_optimizer)
    assert g_optimizer.param_groups[0]["lr"] == pytest.approx(0.75e-3)
    assert d_optimizer.param_groups[0]["lr"] == pytest.approx(3e-3)
    constant = resolve(TrainOptions(data="ring", steps=100, lr_decay="constant"))
    set_learning_rates(constant, 99, g_optimizer, d_optimizer)
    assert g_optimizer.param_groups[0]["lr"] == constant.lr_g
