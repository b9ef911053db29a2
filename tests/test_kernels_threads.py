"""The start-up choice of BLAS threads (kernels/cpu/threads.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kernels.cpu.threads import ENV_VAR, blas_threads_for, busy_elsewhere

pytest.importorskip("threadpoolctl")


@pytest.mark.parametrize(
    ("cores", "busy", "expected"),
    [(2, 0.0, 2), (2, 0.4, 2), (2, 0.6, 1), (2, 1.0, 1), (2, 7.5, 1), (16, 3.2, 13), (1, 0.0, 1)],
)
def test_one_thread_per_idle_core(cores, busy, expected):
    assert blas_threads_for(cores, busy) == expected


def test_busy_elsewhere_is_a_core_count():
    busy = busy_elsewhere(0.02)
    assert busy >= 0.0


def _threads_after_import(**env: str) -> str:
    """Import the CPU backend in a fresh process with ``env``; report what it chose."""
    chosen_elsewhere = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", ENV_VAR)
    clean = {k: v for k, v in os.environ.items() if k not in chosen_elsewhere}
    code = (
        "import kernels.cpu as c\n"
        "from threadpoolctl import threadpool_info\n"
        "print(c.blas_threads, [p['num_threads'] for p in threadpool_info()"
        " if p['user_api'] == 'blas'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )
    return done.stdout.strip() or done.stderr


def test_env_var_sets_the_count():
    assert _threads_after_import(MINIGRAD_BLAS_THREADS="1") == "1 [1]"


def test_user_openblas_setting_is_left_alone():
    assert _threads_after_import(OPENBLAS_NUM_THREADS="1").startswith("None")


def test_bad_env_value_names_the_variable():
    assert "MINIGRAD_BLAS_THREADS must be a positive int" in _threads_after_import(
        MINIGRAD_BLAS_THREADS="zero"
    )
