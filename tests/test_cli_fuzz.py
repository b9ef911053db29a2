"""Hypothesis-made bad command lines: every subcommand answers a mistake with exit 2, exactly one
line on stderr, and nothing written (the working folder is unchanged). In-process ``main(argv)``
for speed; two subprocess runs check that the real entry points behave the same."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adversarial.cli
import gan.cli
from minigrad.runs import RunFolder, capture_training_state

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

not_a_number = st.sampled_from(["abc", "", "1e", "--", "0x1g", "1,2"])
bad_int = st.one_of(st.integers(max_value=0).map(str), not_a_number, st.just("1.5"))
bad_float = st.one_of(st.sampled_from(["nan", "inf", "-inf", "-1", "0"]), not_a_number)
bad_choice = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz-_0123456789", min_size=1, max_size=12
).filter(lambda text: text not in KNOWN_CHOICES and not text.startswith("-"))
KNOWN_CHOICES = {
    "fashion-mnist", "mnist", "ring", "grid", "gaussian-1d", "nonsaturating", "minimax",
    "wgan-gp", "none", "minibatch-discrimination", "minibatch-stddev", "constant", "linear",
    "cpu", "cuda", "cuda-simulator", "png", "npy", "npz", "wong", "fgsm", "pgd", "fgsm_rs",
    "mixup", "input_gradient", "inf", "2", "bim", "cw", "jsma", "patch", "deepfool", "step_ll",
    "iterative_ll", "lenet",
}


def _listing(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def _assert_refused(main, argv, root: Path, capsys) -> None:
    before = _listing(root)
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2, (argv, err)
    assert err.count("\n") == 1 and err.endswith("\n"), (argv, err)
    assert "Traceback" not in err
    assert _listing(root) == before, argv


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A folder with a file, a GAN-less run folder and an adversarial-looking checkpoint."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    run = RunFolder(tmp_path / "other-run")
    run.save_checkpoint(1, capture_training_state(1, models={}, extra={"config": {}}))
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    return tmp_path


def _path_mistakes(root: Path) -> st.SearchStrategy[str]:
    return st.sampled_from(["", " ", str(root / "a-file"), str(root / "a-file" / "sub")])


def _checkpoint_mistakes(root: Path) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [str(root / "missing"), str(root / "a-file"), str(root / "junk.npz"),
         str(root / "other-run"), str(root / "empty-dir-that-is-not-there")]
    )


GAN_TRAIN_INTS = ["--steps", "--batch-size", "--z-dim", "--g-width", "--d-width", "--d-steps",
                  "--sample-every", "--checkpoint-every", "--keep-checkpoints", "--stddev-group"]
GAN_TRAIN_FLOATS = ["--lr-g", "--lr-d", "--gp-weight"]
GAN_TRAIN_CHOICES = ["--data", "--loss", "--remedy", "--lr-decay", "--device"]


@SETTINGS
@given(data=st.data())
def test_gan_train_mistakes(workspace, capsys, data):
    kind = data.draw(st.sampled_from(["int", "float", "beta", "choice", "path", "seed", "size"]))
    out = ["--out", str(workspace / "new-run")]
    if kind == "int":
        argv = [data.draw(st.sampled_from(GAN_TRAIN_INTS)), data.draw(bad_int), *out]
    elif kind == "float":
        argv = [data.draw(st.sampled_from(GAN_TRAIN_FLOATS)), data.draw(bad_float), *out]
    elif kind == "beta":
        value = data.draw(st.sampled_from(["1", "1.5", "-0.1", "nan"]))
        argv = [data.draw(st.sampled_from(["--beta1", "--beta2"])), value, *out]
    elif kind == "choice":
        argv = [data.draw(st.sampled_from(GAN_TRAIN_CHOICES)), data.draw(bad_choice), *out]
    elif kind == "seed":
        argv = ["--seed", data.draw(st.sampled_from(["-1", "x", "1.5"])), *out]
    elif kind == "size":
        argv = ["--image-size", data.draw(st.sampled_from(["27", "64", "0"])), *out]
    else:
        argv = ["--out", data.draw(_path_mistakes(workspace))]
    data_set = [] if "--data" in argv else ["--data", "ring"]  # a toy: no data files needed
    _assert_refused(gan.cli.main, ["train", *data_set, "--no-progress", *argv], workspace, capsys)


@SETTINGS
@given(data=st.data())
def test_gan_grow_mistakes(workspace, capsys, data):
    flag = data.draw(st.sampled_from(["--z-dim", "--batch-size", "--checkpoint-every",
                                      "--keep-checkpoints", "--lr", "--resolutions", "--data",
                                      "--gp-weight", "--ema-half-life-images"]))
    value = {
        "--lr": bad_float,
        "--gp-weight": bad_float,
        "--ema-half-life-images": bad_float,
        "--resolutions": st.sampled_from(["3,8", "4,x", "", "64"]),
        "--data": bad_choice,
    }.get(flag, bad_int)
    argv = ["grow", flag, data.draw(value), "--out", str(workspace / "grow"), "--no-progress"]
    if data.draw(st.booleans()):
        argv = ["grow", "--out", data.draw(_path_mistakes(workspace)), "--no-progress"]
    _assert_refused(gan.cli.main, argv, workspace, capsys)


@SETTINGS
@given(data=st.data())
def test_gan_sample_and_evaluate_mistakes(workspace, capsys, data):
    command = data.draw(st.sampled_from(["sample", "evaluate"]))
    argv = [command, "--checkpoint", data.draw(_checkpoint_mistakes(workspace))]
    if data.draw(st.booleans()):
        argv += ["--n", data.draw(bad_int)]
    if command == "sample" and data.draw(st.booleans()):
        argv += ["--format", data.draw(bad_choice)]
    _assert_refused(gan.cli.main, argv, workspace, capsys)


@SETTINGS
@given(data=st.data())
def test_adversarial_train_mistakes(workspace, capsys, data):
    kind = data.draw(st.sampled_from(["int", "float", "choice", "path"]))
    out = ["--out", str(workspace / "adv")]
    if kind == "int":
        flag = data.draw(st.sampled_from(["--epochs", "--batch-size", "--pgd-steps"]))
        argv = [flag, data.draw(bad_int), *out]
    elif kind == "float":
        flag = data.draw(st.sampled_from(["--learning-rate", "--eps"]))
        argv = [flag, data.draw(bad_float), *out]
    elif kind == "choice":
        flag = data.draw(st.sampled_from(["--data", "--defence", "--architecture"]))
        argv = [flag, data.draw(bad_choice), *out]
    else:
        argv = ["--out", data.draw(_path_mistakes(workspace))]
    _assert_refused(adversarial.cli.main, ["train", "--no-progress", *argv], workspace, capsys)


@SETTINGS
@given(data=st.data())
def test_adversarial_attack_and_report_mistakes(workspace, capsys, data):
    command = data.draw(st.sampled_from(["attack", "report"]))
    checkpoint = data.draw(_checkpoint_mistakes(workspace))
    out = data.draw(st.sampled_from([str(workspace / "result"), str(workspace / "a-file")]))
    argv = [command, "--checkpoint", checkpoint, "--out", out]
    if command == "report":
        flag = data.draw(st.sampled_from(["--pgd-steps", "--num-examples", "--eps-grid"]))
        grids = st.sampled_from(["-0.1,0.1", "0,2", "nan", "x"])
        value = grids if flag == "--eps-grid" else bad_int
        argv += [f"{flag}={data.draw(value)}"]
    else:
        flag = data.draw(st.sampled_from(["--steps", "--num-examples", "--eps", "--attack"]))
        value = {"--eps": bad_float, "--attack": bad_choice}.get(flag, bad_int)
        argv += [f"{flag}={data.draw(value)}"]
    _assert_refused(adversarial.cli.main, argv, workspace, capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["gan", "train", "--data", "ring", "--lr-g", "inf", "--out", "r"],
        ["adversarial", "report", "--checkpoint", "missing", "--out", "o", "--pgd-steps", "0"],
    ],
)
def test_the_real_entry_points_answer_in_one_line(tmp_path, argv):
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-m", *argv], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert list(tmp_path.iterdir()) == []
