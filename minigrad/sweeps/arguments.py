"""The command-line options every sweep script shares, and how a sweep script ends.

    parser = argparse.ArgumentParser()
    add_sweep_arguments(parser, runs="runs/mode-coverage", results="runs/mode-coverage/results")
    args = parser.parse_args()
    outcome = run_sweep(run_one, runs, executor_choice(parser, args), retries=args.retries)
    ...aggregate outcome.finished into args.results...
    exit_with_summary(outcome)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from minigrad.sweeps.executors import ExecutorChoice
from minigrad.sweeps.runner import SweepOutcome


def _folder(text: str) -> Path:
    # Absolute, so that a Dask worker started in another directory (or on another machine
    # with the same shared storage mounted at the same place) finds the same folder.
    return Path(text).expanduser().resolve()


def add_sweep_arguments(parser: argparse.ArgumentParser, *, runs: str, results: str) -> None:
    """``--workers``, ``--scheduler``, ``--retries``, ``--runs`` and ``--results``."""
    group = parser.add_argument_group("where the runs go (docs/sweeps.md)")
    group.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run N runs at once in local processes (default 1: one after another, here)",
    )
    group.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="send the runs to this Dask scheduler instead (pip install 'minigrad[cluster]')",
    )
    group.add_argument(
        "--retries",
        type=int,
        default=2,
        metavar="N",
        help="hand a run out again at most N times when its worker dies (default 2)",
    )
    group.add_argument(
        "--runs",
        type=_folder,
        default=runs,
        metavar="DIR",
        help=f"run folders; shared storage on a cluster (default {runs})",
    )
    group.add_argument(
        "--results",
        type=_folder,
        default=results,
        metavar="DIR",
        help=f"where the aggregated JSON and figures go (default {results})",
    )


def executor_choice(parser: argparse.ArgumentParser, args: argparse.Namespace) -> ExecutorChoice:
    """The parsed options as an ExecutorChoice; a bad combination exits 2 with one line."""
    if args.retries < 0:
        parser.error(f"--retries must be >= 0, got {args.retries}")
    if args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    if args.scheduler is not None and args.workers != 1:
        parser.error("give --workers (local processes) or --scheduler (a Dask cluster), not both")
    try:
        return ExecutorChoice(workers=args.workers, scheduler=args.scheduler)
    except ValueError as error:
        parser.error(f"--scheduler: {error}")


def exit_with_summary(outcome: SweepOutcome) -> None:
    """Print the failed runs' tracebacks and the summary; exit 1 if any run failed."""
    for failure in outcome.failures:
        print(f"--- {failure.parameters}\n{failure.traceback}", file=sys.stderr)
    print(outcome.summary(), file=sys.stderr if outcome.failures else sys.stdout)
    if outcome.failures:
        raise SystemExit(outcome.exit_code)
