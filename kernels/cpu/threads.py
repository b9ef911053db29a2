"""How many threads numpy's BLAS gets, chosen once when the CPU backend is imported.

OpenBLAS starts one thread per core and, after each GEMM, keeps them spin-waiting for
the next one. On a quiet machine that is the fastest choice. When another CPU-bound
process holds a core, one of our BLAS threads is descheduled in every GEMM, the others
spin until it returns, and a DCGAN run fell from 8.7 to 1.4 rounds/s on 2 cores. So at
start-up we look at how busy the cores are and give BLAS only the idle ones:

    threads = clamp(round(cores - busy_elsewhere), 1, cores)

where ``cores`` are the CPUs this process may run on and ``busy_elsewhere`` is how many
cores other processes kept busy over a short sample of ``/proc/stat`` (the 1-minute load
average where there is no ``/proc/stat``). The choice is made once, not per call: a
process started before its neighbours keeps its threads.

Overrides, in order: ``MINIGRAD_BLAS_THREADS=N`` sets the count; if the user set
``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``, their choice stands
and nothing is changed. Without ``threadpoolctl`` installed nothing is changed either.
"""

from __future__ import annotations

import os
import time

#: The variable that overrides the start-up choice.
ENV_VAR = "MINIGRAD_BLAS_THREADS"
_USER_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_SAMPLE_S = 0.05


def available_cores() -> int:
    """The CPUs this process may be scheduled on (its affinity mask, else ``cpu_count``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _busy_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from ``/proc/stat``'s first line."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user time
    return total - idle, total


def busy_elsewhere(sample_s: float = _SAMPLE_S) -> float:
    """Cores kept busy by other processes: machine-wide busy time over a short sample,
    minus this process's own CPU time, in units of cores."""
    try:
        busy0, total0 = _busy_jiffies()
        own0 = time.process_time()
        time.sleep(sample_s)
        busy1, total1 = _busy_jiffies()
        own1 = time.process_time()
    except (OSError, ValueError, IndexError):
        return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if total1 <= total0:
        return 0.0
    machine_cores = os.cpu_count() or 1
    busy_cores = (busy1 - busy0) / (total1 - total0) * machine_cores
    own_cores = (own1 - own0) / sample_s
    return max(0.0, busy_cores - own_cores)


def blas_threads_for(cores: int, busy: float) -> int:
    """``clamp(round(cores - busy), 1, cores)``: one thread per core nobody else is using."""
    return max(1, min(cores, round(cores - busy)))


def choose_blas_threads() -> int | None:
    """Limit numpy's BLAS to the idle cores, once; return the count set (None: unchanged).

    ``MINIGRAD_BLAS_THREADS`` overrides the measurement; a user-set
    ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` is left alone.
    """
    requested = os.environ.get(ENV_VAR)
    if requested is None and any(name in os.environ for name in _USER_BLAS_VARS):
        return None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    if requested is not None:
        try:
            threads = int(requested)
        except ValueError:
            threads = 0
        if threads < 1:
            raise ValueError(f"{ENV_VAR} must be a positive int, got {requested!r}")
    else:
        threads = blas_threads_for(available_cores(), busy_elsewhere())
    # Called without ``with``: the limit stays for the life of the process.
    threadpool_limits(threads, user_api="blas")
    return threads
