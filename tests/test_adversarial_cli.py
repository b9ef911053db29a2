"""``python -m adversarial train | attack | report`` end to end on a tiny run, and resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
from adversarial_helpers import fashion_subset

from adversarial.cli import main
from minigrad.runs import load_checkpoint

TINY_TRAIN = ["--train-size", "512", "--batch-size", "128", "--no-progress"]


@pytest.fixture(autouse=True)
def _needs_fashion_mnist() -> None:
    fashion_subset("test", 0, 1)  # skips the test when the files are missing


def test_train_attack_report_from_the_command_line(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--epochs", "1", *TINY_TRAIN]) == 0
    summary = capsys.readouterr().out
    assert "finished: 1 epochs" in summary and "validation accuracy" in summary
    assert f"checkpoint: {run / 'checkpoints' / 'step-00000001.npz'}" in summary
    assert f"python -m adversarial report --checkpoint {run}" in summary
    assert (run / "config.json").exists() and (run / "training.png").exists()
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1
    out = tmp_path / "attack"
    args = ["attack", "--checkpoint", str(run), "--attack", "pgd", "--eps", "0.1"]
    assert main([*args, "--steps", "5", "--num-examples", "40", "--out", str(out)]) == 0
    summary = json.loads((out / "attack.json").read_text())
    assert summary["examples"] == 40
    assert summary["adversarial_accuracy"] < summary["clean_accuracy"]
    assert summary["mean_linf"] <= 0.1 + 1e-6
    assert (out / "attack.png").stat().st_size > 0
    report = tmp_path / "report"
    args = ["report", "--checkpoint", str(run), "--eps-grid", "0,0.1", "--l2-grid", "0,1"]
    extra = ["--pgd-steps", "5", "--num-examples", "30", "--l2-examples", "8"]
    assert main([*args, *extra, "--jsma-examples", "2", "--out", str(report)]) == 0
    data = json.loads((report / "report.json").read_text())
    assert data["linf"]["eps"] == [0.0, 0.1]
    assert capsys.readouterr().out.count(data["headline"]) == 1


def test_resume_continues_exactly_where_the_run_stopped(tmp_path, capsys) -> None:
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    defence = ["--defence", "fgsm_rs", "--eps", "0.1"]  # random starts: the RNG must resume too
    assert main(["train", "--out", str(straight), "--epochs", "2", *defence, *TINY_TRAIN]) == 0
    assert main(["train", "--out", str(resumed), "--epochs", "1", *defence, *TINY_TRAIN]) == 0
    # The old spellings still work, each with a one-line note.
    args = ["train", "--run-dir", str(resumed), "--dataset", "fashion_mnist", "--epochs", "2"]
    assert main([*args, "--resume", *defence, *TINY_TRAIN]) == 0
    assert capsys.readouterr().err.count("is deprecated; use --") == 2
    a = load_checkpoint(straight)["models"]["model"]
    b = load_checkpoint(resumed)["models"]["model"]
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
    lines = lambda run: (run / "metrics.jsonl").read_text().splitlines()  # noqa: E731
    assert lines(straight) == lines(resumed)
    # Options not typed come from the run; a typed one that differs is refused, by name.
    with pytest.raises(SystemExit) as refused:
        main(["train", "--out", str(resumed), "--epochs", "3", "--resume", "--eps", "0.2"])
    assert refused.value.code == 2
    assert len(lines(resumed)) == 2
