"""Freed arrays kept in the heap for reuse (kernels/cpu/heap.py), each case in a fresh process."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from kernels.cpu.heap import ENV_VAR

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the malloc tuning applies to glibc only",
)

# Three 9 MB arrays written and freed, six times over, as a training step's buffers are:
# prints whether the tuning was applied and the page faults of rounds 2 to 6.
_ROUNDS = """
import resource
import numpy as np
import kernels.cpu as cpu

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

for round_ in range(6):
    if round_ == 1:
        start = faults()
    arrays = [np.ones(9 << 18, np.float32) for _ in range(3)]
    del arrays
print(cpu.keeps_freed_memory, faults() - start)
"""
_PAGES_PER_ROUND = 3 * (9 << 20) // 4096


def _after_import(**env: str) -> tuple[bool, int]:
    user_vars = (ENV_VAR, "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")
    clean = {k: v for k, v in os.environ.items() if k not in user_vars}
    done = subprocess.run(
        [sys.executable, "-c", _ROUNDS], env={**clean, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    applied, faults = done.stdout.split()
    return applied == "True", int(faults)


def test_freed_arrays_are_reused_without_page_faults():
    applied, faults = _after_import()
    assert applied
    # five rounds would write 5 * 6912 fresh pages if the memory went back to the system
    assert faults < 0.05 * 5 * _PAGES_PER_ROUND


@pytest.mark.parametrize(
    "env", [{ENV_VAR: "0"}, {"MALLOC_TRIM_THRESHOLD_": "1000000"}], ids=["off", "user-tuned"]
)
def test_malloc_is_left_alone_when_asked(env):
    applied, _ = _after_import(**env)
    assert not applied
