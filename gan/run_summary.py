"""The few lines a finished ``gan train`` / ``gan grow`` prints: what it made and where.

    finished: 6000 rounds in 12.9 min (this session: 6000 rounds)
    last round: D(x) 0.62, D(G(z)) 0.38, V(D,G) -1.31 (-log 4 = -1.386 at the equilibrium)
    samples:    runs/gan/samples/step-00006000.png
    animation:  runs/gan/samples.gif
    curves:     runs/gan/curves.png
    checkpoint: runs/gan/checkpoints/step-00006000.npz
    evaluate:   python -m gan evaluate --checkpoint runs/gan
"""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path

from minigrad.runs import RunFolder


def train_summary(folder: Path) -> str:
    """The summary of a ``gan train`` run folder (as left by ``gan.trainer.train``)."""
    run = RunFolder(folder)
    records = run.read_metrics()
    last = records[-1] if records else {}
    seconds = _total_seconds(run.path("timing.json"), "seconds")
    wgan = run.read_config().get("loss") == "wgan-gp"
    lines = [f"finished: {last.get('step', 0)} rounds in {_duration(seconds)}"]
    if last:
        if wgan:
            lines.append(
                f"last round: critic C(x) {last['d_real']:.3f}, C(G(z)) {last['d_fake']:.3f}, "
                f"W estimate {last['value']:.3f}"
            )
        else:
            lines.append(
                f"last round: D(x) {last['d_real']:.2f}, D(G(z)) {last['d_fake']:.2f}, "
                f"V(D,G) {last['value']:.3f} (-log 4 = {-math.log(4):.3f} at the equilibrium)"
            )
    snapshots = sorted(run.path("samples").glob("step-*.png"))
    return "\n".join(
        lines
        + _paths(
            run,
            {
                "samples": snapshots[-1] if snapshots else None,
                "animation": run.path("samples.gif"),
                "curves": run.path("curves.png"),
                "checkpoint": run.latest_checkpoint(),
            },
        )
        + [f"evaluate:   python -m gan evaluate --checkpoint {shlex.quote(str(run.root))}"]
    )


def grow_summary(folder: Path, resolution: int) -> str:
    """The summary of a ``gan grow`` run folder at its last resolution."""
    run = RunFolder(folder)
    records = run.read_metrics()
    last = records[-1] if records else {}
    sessions = []
    timing = run.path("timing.json")
    if timing.exists():
        sessions = json.loads(timing.read_text()).get("sessions", [])
    seconds = sum(entry["seconds"] for entry in sessions)
    lines = [
        f"finished: {last.get('step', 0)} rounds ({last.get('images_shown', 0)} images, "
        f"{resolution}x{resolution}) in {_duration(seconds)}"
    ]
    if last:
        lines.append(
            f"last round: W estimate {last['wasserstein']:.3f}, D loss {last['d_loss']:.3f}, "
            f"G loss {last['g_loss']:.3f}"
        )
    return "\n".join(
        lines
        + _paths(
            run,
            {
                "samples": run.path(f"samples/res-{resolution:03d}.png"),
                "growth": run.path("growth.png"),
                "curves": run.path("curves.png"),
                "evaluation": run.path(f"evaluation/res-{resolution:03d}.json"),
                "checkpoint": run.latest_checkpoint(),
            },
        )
    )


def _paths(run: RunFolder, named: dict[str, Path | None]) -> list[str]:
    return [
        f"{name + ':':<11} {path}" for name, path in named.items() if path and path.exists()
    ]


def _total_seconds(path: Path, key: str) -> float:
    if not path.exists():
        return 0.0
    return float(sum(entry[key] for entry in json.loads(path.read_text())))


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
