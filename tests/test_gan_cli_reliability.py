"""python -m gan as a careful user meets it: divergence, resume rules, locks, outputs, summary."""

import json

import numpy as np
import pytest

import gan.trainer
from gan.cli import main
from minigrad.run_lock import RunLock
from minigrad.runs import RunFolder, load_checkpoint

TINY = ["--data", "ring", "--steps", "6", "--batch-size", "16", "--g-width", "8"]
TINY += ["--d-width", "8", "--sample-every", "3", "--checkpoint-every", "3", "--no-progress"]


def _train(out, *extra):
    return main(["train", *TINY, "--out", str(out), *extra])


def _exit_of(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    return info.value.code, err


@pytest.fixture
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("trained") / "run"
    assert _train(out) == 0
    return out


def test_divergence_stops_the_run_and_keeps_the_good_checkpoint(tmp_path, monkeypatch, capsys):
    original = gan.trainer.learning_round
    rounds = []

    def poisoned(generator, *args, **kwargs):
        rounds.append(1)
        if len(rounds) == 4:  # after checkpoint 3: the weights go bad
            for parameter in generator.parameters():
                parameter._data[...] = np.nan
        return original(generator, *args, **kwargs)

    monkeypatch.setattr(gan.trainer, "learning_round", poisoned)
    code, err = _exit_of(["train", *TINY, "--out", str(tmp_path / "r")], capsys)
    assert code == 1
    lines = [line for line in err.splitlines() if "Warning" not in line and "return" not in line]
    assert len(lines) == 1 and "diverged at step" in lines[0]
    assert "kept the last good checkpoint" in lines[0] and "step-00000003.npz" in lines[0]
    run = RunFolder(tmp_path / "r")
    assert [p.name for p in run.checkpoints()] == ["step-00000003.npz"]
    for weights in load_checkpoint(tmp_path / "r")["models"].values():
        assert all(np.isfinite(value.numpy()).all() for value in weights.values())
    assert (tmp_path / "r" / "curves.png").exists()


def test_huge_learning_rates_are_stopped_without_a_nan_checkpoint(tmp_path, capsys):
    code, err = _exit_of(["train", *TINY, "--lr-g", "1e6", "--lr-d", "1e6", "--out",
                          str(tmp_path / "r")], capsys)
    assert code == 1 and "diverged at step" in err
    assert RunFolder(tmp_path / "r").checkpoints() == []
    code, err = _exit_of(["train", *TINY, "--lr-g", "inf", "--out", str(tmp_path / "s")], capsys)
    assert code == 2 and "lr_g must be a finite number > 0" in err
    assert not (tmp_path / "s").exists()


def test_resume_refuses_changed_options_by_name_and_allows_steps(trained, capsys):
    before = RunFolder(trained).read_metrics()
    code, err = _exit_of(["train", "--out", str(trained), "--resume", "--data", "grid",
                          "--lr-g", "0.5"], capsys)
    assert code == 2 and "data (run: \"ring\", given: \"grid\")" in err and "lr_g" in err
    assert err.count("\n") == 1 and RunFolder(trained).read_metrics() == before
    assert main(["train", "--out", str(trained), "--resume", "--steps", "9",
                 "--no-progress"]) == 0
    assert [r["step"] for r in RunFolder(trained).read_metrics()] == list(range(1, 10))


def test_a_copied_run_resumes_into_its_own_folder(trained, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    before = (trained / "metrics.jsonl").read_text()
    assert main(["train", "--out", str(copy), "--resume", "--steps", "9", "--no-progress"]) == 0
    assert (trained / "metrics.jsonl").read_text() == before
    assert len(RunFolder(copy).read_metrics()) == 9


def test_a_locked_folder_is_refused(trained, capsys):
    with RunLock(trained):
        code, err = _exit_of(["train", "--out", str(trained), "--resume", "--no-progress"], capsys)
    assert code == 2 and "is in use by process" in err


def test_derived_files_are_rebuilt_on_resume(trained):
    (trained / "samples.gif").unlink()
    (trained / "curves.png").write_bytes(b"torn")
    assert main(["train", "--out", str(trained), "--resume", "--no-progress"]) == 0
    assert (trained / "samples.gif").stat().st_size > 100
    assert (trained / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_summary_names_what_was_made(tmp_path, capsys):
    out = tmp_path / "r"
    assert _train(out) == 0
    text = capsys.readouterr().out
    assert "finished: 6 rounds" in text and "D(x)" in text and "V(D,G)" in text
    for name in ("samples/step-00000006.png", "samples.gif", "curves.png",
                 "checkpoints/step-00000006.npz"):
        assert str(out / name) in text
    assert f"python -m gan evaluate --checkpoint {out}" in text


def test_sample_formats_and_where_they_go(trained, tmp_path, capsys):
    checkpoint = trained / "checkpoints" / "step-00000006.npz"
    assert main(["sample", "--checkpoint", str(checkpoint), "--n", "50", "--format", "npy"]) == 0
    points = np.load(trained / "sample.npy")
    assert points.shape == (50, 2) and points.dtype == np.float32
    loose = tmp_path / "a" / "b" / "x.npz"
    loose.parent.mkdir(parents=True)
    loose.write_bytes(checkpoint.read_bytes())
    assert main(["sample", "--checkpoint", str(loose), "--n", "5"]) == 0
    assert (loose.parent / "sample.png").exists() and not (tmp_path / "a" / "sample.png").exists()
    out = tmp_path / "s.npz"
    assert main(["sample", "--checkpoint", str(trained), "--n", "7", "--format", "npz",
                 "--out", str(out)]) == 0
    with np.load(out) as archive:
        assert archive["samples"].shape == (7, 2) and archive["z"].shape == (7, 2)
    for argv, text in [
        (["--out", ""], "--out is empty"),
        (["--out", str(tmp_path)], "is a folder"),
        (["--n", "100000000"], "more than 10000"),
        (["--out", str(tmp_path / "no" / "x.png")], "does not exist"),
    ]:
        code, err = _exit_of(["sample", "--checkpoint", str(trained), *argv], capsys)
        assert code == 2 and text in err and err.count("\n") == 1


def test_damaged_checkpoints_are_one_line_and_resume_falls_back(trained, capsys):
    newest = trained / "checkpoints" / "step-00000006.npz"
    newest.write_bytes(newest.read_bytes()[:300])
    code, err = _exit_of(["sample", "--checkpoint", str(newest)], capsys)
    assert code == 2 and str(newest) in err and err.count("\n") == 1
    assert main(["evaluate", "--checkpoint", str(trained), "--n", "200"]) == 0  # falls back
    captured = capsys.readouterr()
    assert "step-00000003.npz" in captured.err and "summary:" in captured.out
    assert json.loads((trained / "evaluation.json").read_text())["num_modes"] == 8
    assert main(["train", "--out", str(trained), "--resume", "--no-progress"]) == 0
    assert "renamed to step-00000006.npz.unreadable" in capsys.readouterr().err
    assert [r["step"] for r in RunFolder(trained).read_metrics()] == list(range(1, 7))


def test_other_kinds_of_checkpoint_are_named(tmp_path, capsys):
    from minigrad.runs import capture_training_state

    run = RunFolder(tmp_path / "adv")
    run.save_checkpoint(1, capture_training_state(1, models={}, extra={"config": {}}))
    code, err = _exit_of(["evaluate", "--checkpoint", str(tmp_path / "adv")], capsys)
    assert code == 2 and "another kind of run" in err and "python -m gan train" in err


GROW = ["--resolutions", "4,8", "--widths", "8,4", "--z-dim", "8", "--batch-size", "8",
        "--images-per-phase", "16", "--final-images", "16", "--train-examples", "64",
        "--checkpoint-every", "3", "--no-progress"]


def test_grow_resume_writes_where_out_says_and_refuses_early(tmp_path, monkeypatch, capsys):
    import shutil

    import gan.progressive.evaluation
    from gan.build import load_pixels

    try:
        load_pixels("fashion-mnist", "test")
    except (FileNotFoundError, OSError):
        pytest.skip("Fashion-MNIST files are not available")
    out = tmp_path / "grow"
    assert main(["grow", "--out", str(out), "--eval-samples", "0", *GROW]) == 0
    assert "finished: 6 rounds" in capsys.readouterr().out
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "growth.png").unlink()
    before = (out / "metrics.jsonl").read_text()
    assert main(["grow", "--out", str(copy), "--resume", "--no-progress"]) == 0
    assert (copy / "growth.png").exists() and (out / "metrics.jsonl").read_text() == before

    def no_classifier(*args, **kwargs):
        raise AssertionError("the folder must be checked before the classifier is trained")

    monkeypatch.setattr(gan.progressive.evaluation, "ResolutionEvaluator", no_classifier)
    code, err = _exit_of(["grow", "--out", str(out), *GROW], capsys)
    assert code == 2 and "already holds a run" in err
    code, err = _exit_of(["grow", "--out", str(out), "--resume", "--lr", "0.5"], capsys)
    assert code == 2 and "lr (run: 0.001, given: 0.5)" in err
    code, err = _exit_of(["grow", "--out", str(tmp_path / "x"), "--lr", "inf"], capsys)
    assert code == 2 and "lr must be a finite number" in err and not (tmp_path / "x").exists()
