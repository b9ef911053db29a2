"""Sweeps of independent runs on one Executor: this process, local processes, or Dask.

See ``executors.py`` (where runs go), ``runner.py`` (progress, lost workers, failed
runs), ``results.py`` (a finished run's result file) and ``arguments.py`` (the options
every sweep script shares). docs/sweeps.md shows a sweep on several machines.
"""

from minigrad.sweeps.arguments import add_sweep_arguments, executor_choice, exit_with_summary
from minigrad.sweeps.executors import (
    DaskExecutor,
    ExecutorChoice,
    InProcessExecutor,
    call_pinned,
)
from minigrad.sweeps.results import clear_unfinished, load_finished, save_finished
from minigrad.sweeps.runner import RunFailure, SweepOutcome, run_sweep
