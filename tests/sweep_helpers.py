"""Run functions for tests/test_sweep*.py, importable by name in worker processes.

Spawned workers (a local process pool, a LocalCluster's workers) start with this
process's ``sys.path``, so they import this module as the tests do.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from threadpoolctl import threadpool_info

from gan.experiments.mode_coverage import run_one


def ring_run_killed_once(marker: str, kill_seed: int, **run) -> dict:
    """``run_one(**run)``; the first attempt of seed ``kill_seed`` dies in the middle.

    Once that run's folder holds its config (training has begun), a watcher thread sends
    SIGKILL to this worker process: the run's folder is left half-written and the worker
    is gone without a word, as when a machine is lost.
    """
    if run["seed"] == kill_seed and not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        folder = Path(run["runs"]) / (
            f"{run['data']}-{run['regime']}-{run['remedy']}-{run['steps']}steps-seed{run['seed']}"
        )

        def kill_when_training() -> None:
            while not (folder / "config.json").exists():
                time.sleep(0.02)
            os.kill(os.getpid(), signal.SIGKILL)

        threading.Thread(target=kill_when_training, daemon=True).start()
    return run_one(**run)


def ratio_or_killed(numerator: float, denominator: float, kill: bool) -> float:
    """numerator / denominator after half a second; with ``kill`` the run kills its worker
    at once, every time, so the pool breaks while the runs beside it are still running."""
    if kill:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.5)
    return ratio(numerator, denominator)


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator: raises ZeroDivisionError for a zero denominator."""
    return numerator / denominator


def blas_threads() -> list[int]:
    """The thread count of every BLAS library loaded in this process, as a run sees it."""
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
