"""The PyTorch-style scripts in examples/pytorch_style/ run as a PyTorch user runs them.

Each runs in its own process with tiny settings, on Fashion-MNIST when it is installed
and on learnable look-alike data (``--fake-data``) otherwise, and must show what its
PyTorch original shows: a classifier well above chance, a DCGAN writing its sample grids
and checkpoints, and FGSM accuracy falling as epsilon grows.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import minigrad as mg

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "examples" / "pytorch_style"

# The scripts use PyTorch's device and tensor spellings (issue 10); say which are missing.
_NEEDED = {
    "minigrad.device(...)": callable(getattr(mg, "device", None)),
    "minigrad.accelerator": hasattr(mg, "accelerator"),
    "minigrad.backends.cudnn": hasattr(mg, "backends"),
    "Tensor.eq / view_as / is_cuda": all(
        hasattr(mg.Tensor, name) for name in ("eq", "view_as", "is_cuda")
    ),
    "minigrad.load(map_location=...)": "map_location" in inspect.signature(mg.load).parameters,
}
pytestmark = pytest.mark.skipif(
    not all(_NEEDED.values()),
    reason="needs " + ", ".join(name for name, ok in _NEEDED.items() if not ok),
)


def _data_flags() -> list[str]:
    try:
        mg.data.fashion_mnist("test", download=False, progress=False)
        mg.data.fashion_mnist("train", download=False, progress=False)
    except (FileNotFoundError, mg.data.DownloadError):
        return ["--fake-data"]
    return []


def _run(script: str, *args: str, cwd: Path) -> str:
    # The scripts import minigrad from this checkout, ahead of any installed copy.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args, *_data_flags()],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_classifier_learns_with_adadelta_steplr_and_workers(tmp_path):
    out = _run(
        "classifier.py",
        *("--epochs", "2", "--max-batches", "12", "--width", "4", "--test-size", "400"),
        *("--test-batch-size", "200", "--num-workers", "2", "--save-model"),
        cwd=tmp_path,
    )
    accuracies = [int(a) for a in re.findall(r"Accuracy: \d+/\d+ \((\d+)%\)", out)]
    assert len(accuracies) == 2
    assert accuracies[-1] > 40, out  # chance is 10%
    assert mg.load(tmp_path / "fashion_cnn.pt")["fc2.weight"].shape == (10, 64)


def test_dcgan_writes_sample_grids_and_checkpoints(tmp_path):
    out = _run(
        "dcgan.py",
        *("--niter", "2", "--max-batches", "2", "--batchSize", "16", "--ngf", "8"),
        *("--ndf", "8", "--nz", "16", "--manualSeed", "3", "--outf", str(tmp_path)),
        cwd=tmp_path,
    )
    losses = re.findall(r"Loss_D: ([\d.]+) Loss_G: ([\d.]+)", out)
    assert len(losses) == 4 and all(0 < float(v) < 20 for pair in losses for v in pair)
    for name in ("real_samples.png", "fake_samples_epoch_000.png", "fake_samples_epoch_001.png"):
        with Image.open(tmp_path / name) as picture:
            # 16 images of 28x28, 8 a row, 2-pixel padding: 2 rows and 8 columns of 30 + 2.
            assert picture.size == (8 * 30 + 2, 2 * 30 + 2) and picture.mode == "RGB"
    state = mg.load(tmp_path / "netG_epoch_1.pth")
    assert state["main.0.weight"].shape == (16, 32, 7, 7)
    # Resuming from the checkpoints goes through torch.load(..., map_location=device).
    _run(
        "dcgan.py",
        *("--niter", "1", "--max-batches", "1", "--batchSize", "16", "--ngf", "8", "--ndf", "8"),
        *("--nz", "16", "--netG", str(tmp_path / "netG_epoch_1.pth")),
        *("--netD", str(tmp_path / "netD_epoch_1.pth"), "--outf", str(tmp_path / "again")),
        cwd=tmp_path,
    )


def test_fgsm_accuracy_falls_as_epsilon_grows(tmp_path):
    out = _run(
        "fgsm.py",
        *("--train-batches", "60", "--test-images", "60", "--epsilons", "0", "0.1", "0.3"),
        cwd=tmp_path,
    )
    accuracies = [float(a) for a in re.findall(r"Test Accuracy = \d+ / \d+ = ([\d.]+)", out)]
    assert len(accuracies) == 3
    assert accuracies[0] > 0.5, out
    assert accuracies[2] < accuracies[0] - 0.2, out
