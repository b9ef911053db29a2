"""Run a sweep's independent runs on an Executor: progress, lost workers, failed runs.

    outcome = run_sweep(run_one, [{"data": "ring", "seed": s} for s in range(5)],
                        ExecutorChoice(workers=2))
    outcome.results      # one entry per run, in the order given (None where it failed)
    outcome.failures     # RunFailure(parameters, error, traceback) of the runs that raised

Two kinds of trouble, told apart:

* a worker that dies under a run (killed, out of memory, machine gone) says nothing
  about the run, so the run is handed out again, up to ``retries`` times. A local process
  pool breaks as a whole when one process dies (``BrokenProcessPool``), so the runs it
  held are resubmitted to a fresh pool; a Dask scheduler reschedules a dead worker's
  task on its own and reports ``KilledWorker`` only past its limit.
* a run that raises is a result: it is recorded with its parameters and the traceback,
  and the rest of the sweep goes on. The caller reports them at the end
  (:meth:`SweepOutcome.summary`) and exits non-zero.

Results come back to this process, so the caller aggregates them exactly as a serial
loop would, whichever executor ran them.
"""

from __future__ import annotations

import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from minigrad.sweeps.executors import ExecutorChoice, call_pinned


@dataclass(frozen=True)
class RunFailure:
    """A run that raised: its parameters, the error in one line, and the full traceback."""

    parameters: dict[str, Any]
    error: str
    traceback: str

    @classmethod
    def from_error(cls, parameters: dict[str, Any], error: BaseException) -> RunFailure:
        # A process pool chains the worker's own traceback as the cause; format_exception
        # prints it, so the report shows where in the run the error was raised.
        text = "".join(traceback.format_exception(error))
        return cls(dict(parameters), f"{type(error).__name__}: {error}", text)


@dataclass
class SweepOutcome:
    """What a sweep produced: ``results[i]`` belongs to ``runs[i]`` (None if it failed)."""

    runs: list[dict[str, Any]]
    results: list[Any]
    failures: list[RunFailure] = field(default_factory=list)
    resubmitted: int = 0  # runs handed out again after their worker died
    failed_indices: set[int] = field(default_factory=set)  # positions in runs of the failures

    @property
    def finished(self) -> list[tuple[dict[str, Any], Any]]:
        """(parameters, result) of every run that finished, in the order the runs were given."""
        return [
            (run, result)
            for index, (run, result) in enumerate(zip(self.runs, self.results, strict=True))
            if index not in self.failed_indices
        ]

    @property
    def exit_code(self) -> int:
        """0 when every run finished, 1 when any failed."""
        return 1 if self.failures else 0

    def summary(self) -> str:
        """A few lines: how many runs finished, and each failed run with its parameters."""
        lines = [f"{len(self.runs) - len(self.failures)} of {len(self.runs)} runs finished"]
        if self.resubmitted:
            lines[0] += f" ({self.resubmitted} handed out again after a worker died)"
        for failure in self.failures:
            lines.append(f"FAILED {failure.parameters}: {failure.error}")
        return "\n".join(lines)


def run_sweep(
    function: Callable[..., Any],
    runs: Sequence[Mapping[str, Any]],
    choice: ExecutorChoice | None = None,
    *,
    retries: int = 2,
    progress: bool = True,
    description: str = "runs",
    show: Callable[[dict[str, Any], Any], str | None] | None = None,
) -> SweepOutcome:
    """Call ``function(**run)`` for every run on ``choice``'s executor; see the module docstring.

    ``function`` must be importable by name on the workers (a module-level function).
    ``retries`` bounds how often one run is handed out again after its worker died.
    ``show(parameters, result)`` may return a line to print as each run finishes.
    """
    choice = choice or ExecutorChoice()
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be an int >= 0, got {retries!r}")
    runs = [dict(run) for run in runs]
    outcome = SweepOutcome(runs=runs, results=[None] * len(runs))
    losses = [0] * len(runs)
    waiting = deque(range(len(runs)))
    in_flight: dict[Future, int] = {}
    bar = tqdm(total=len(runs), desc=description, unit="run", disable=not progress)

    def settle(future: Future) -> bool:
        """Record one done future; True if its executor broke and must be replaced."""
        index = in_flight.pop(future)
        error = future.exception()
        if error is None:
            outcome.results[index] = future.result()
            line = show(runs[index], outcome.results[index]) if show else None
            if line:
                bar.write(line)
        elif choice.worker_lost(error) and losses[index] < retries:
            losses[index] += 1
            outcome.resubmitted += 1
            waiting.append(index)
        else:
            outcome.failures.append(RunFailure.from_error(runs[index], error))
            outcome.failed_indices.add(index)
            bar.write(f"run {runs[index]} failed: {outcome.failures[-1].error}")
        if index not in waiting:
            bar.update()
        return error is not None and choice.broken_by(error)

    executor = choice.open()
    try:
        while waiting or in_flight:
            while waiting and (choice.in_flight is None or len(in_flight) < choice.in_flight):
                index = waiting.popleft()
                in_flight[executor.submit(call_pinned, function, runs[index])] = index
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            broken = any([settle(future) for future in done])
            if broken:
                # Every run still on the broken pool is lost with it: settle them all,
                # then hand the lost ones to a fresh pool.
                wait(in_flight)
                for future in list(in_flight):
                    settle(future)
                executor.shutdown(wait=True)
                executor = choice.open()
    finally:
        executor.shutdown(wait=not (waiting or in_flight), cancel_futures=True)
        bar.close()
    return outcome
