"""Where a sweep's independent runs execute: one ``concurrent.futures.Executor`` chooser.

A sweep is a list of runs that share nothing but their code: (data, regime, remedy, seed)
for mode coverage, one defence each for the defences table, (arm, seed) for progressive
vs direct. The same loop (``minigrad.sweeps.runner``) drives them wherever they go:

* ``workers=1`` (the default): in this process, one after another, as before sweeps
  existed;
* ``workers=N``: in N fresh local processes (``ProcessPoolExecutor``, spawned rather than
  forked so a worker starts from a clean interpreter, as a Dask worker does);
* ``scheduler="tcp://HOST:PORT"``: on a Dask distributed cluster, through
  ``Client.get_executor`` (``pip install "minigrad[cluster]"``).

A run's numbers must not depend on where it ran. Every run is seeded by its own
parameters, and :func:`call_pinned` holds BLAS to one thread while it runs: a GEMM split
over a different number of threads may add its partial sums in another order, and on
shared cores extra BLAS threads only spin.
"""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from threadpoolctl import threadpool_limits

_SCHEDULER_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx)://\S+$")


def call_pinned(function: Callable[..., Any], parameters: Mapping[str, Any]) -> Any:
    """``function(**parameters)`` with every BLAS/OpenMP pool of this process held to one thread."""
    with threadpool_limits(limits=1):
        return function(**parameters)


class InProcessExecutor(Executor):
    """Runs each call at ``submit``, in the calling thread: a serial sweep, as one loop would.

    The runner submits one run at a time to it, so a run starts after the previous one's
    result has been recorded (and the progress bar moved).
    """

    def __init__(self) -> None:
        self._shut_down = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if self._shut_down:
            raise RuntimeError("cannot submit to an InProcessExecutor after shutdown")
        future: Future = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:  # a run's failure is reported by the runner, not raised here
            future.set_exception(error)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shut_down = True


class DaskExecutor(Executor):
    """A Dask distributed ``Client`` connected to ``address``, seen as an Executor.

    Each submit is a separate task (``pure=False``: two equal calls are two runs). A
    worker that dies mid-run has its task rescheduled on another worker by the scheduler
    (up to ``distributed.scheduler.allowed-failures`` times, then ``KilledWorker``).
    """

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError as error:
            raise ImportError(
                "--scheduler needs dask.distributed: pip install 'minigrad[cluster]'"
            ) from error
        try:
            self.client = Client(address)
        except OSError as error:
            raise OSError(
                f"no Dask scheduler answers at {address} ({error}); start one with "
                "`dask scheduler` and its workers with `dask worker` (docs/sweeps.md)"
            ) from error
        self._executor = self.client.get_executor(pure=False)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # Closing the client releases every task it still holds, so cancelling is leaving.
        if wait and not cancel_futures:
            self._executor.shutdown(wait=True)
        self.client.close()


@dataclass(frozen=True)
class ExecutorChoice:
    """Where runs go: ``workers`` local processes, or the Dask scheduler at ``scheduler``."""

    workers: int = 1
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers must be an int >= 1, got {self.workers!r}")
        if self.scheduler is not None:
            if not isinstance(self.scheduler, str) or not _SCHEDULER_ADDRESS.match(self.scheduler):
                raise ValueError(
                    f"scheduler must be an address like tcp://HOST:PORT, got {self.scheduler!r}"
                )
            if self.workers != 1:
                raise ValueError(
                    "give either workers (local processes) or scheduler (a Dask cluster), not "
                    f"both: the cluster's workers run the runs (got workers={self.workers})"
                )

    def open(self) -> Executor:
        """A fresh Executor of this kind (the caller shuts it down)."""
        if self.scheduler is not None:
            return DaskExecutor(self.scheduler)
        if self.workers == 1:
            return InProcessExecutor()
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn")
        )

    @property
    def in_flight(self) -> int | None:
        """How many runs to hand over at once: one per local worker; all of them to a
        cluster, whose scheduler balances them over however many workers it has."""
        return None if self.scheduler is not None else self.workers

    def worker_lost(self, error: BaseException) -> bool:
        """Whether ``error`` says the run's worker died (retry it) rather than the run failed."""
        if isinstance(error, BrokenProcessPool):
            return True
        if self.scheduler is not None:
            from distributed import KilledWorker

            return isinstance(error, KilledWorker)
        return False

    def broken_by(self, error: BaseException) -> bool:
        """Whether the executor is unusable after ``error`` and a fresh one must be opened."""
        return isinstance(error, BrokenProcessPool)

    def __str__(self) -> str:
        if self.scheduler is not None:
            return f"the Dask cluster at {self.scheduler}"
        if self.workers == 1:
            return "this process"
        return f"{self.workers} local processes"
