"""minigrad.sweeps: one sweep, the same numbers in this process, in local processes and
on a Dask cluster; a worker killed mid-run loses no run; a raising run is reported.

The sweep is real but tiny: the ring, two seeds, 30 learning rounds each.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sweep_helpers import blas_threads, ratio, ratio_or_killed, ring_run_killed_once

from gan.experiments.mode_coverage import main as mode_coverage_main
from gan.experiments.mode_coverage import run_one
from minigrad.sweeps import ExecutorChoice, exit_with_summary, run_sweep

STEPS = 30
SEEDS = (0, 1)


def _ring_sweep(runs: Path, **extra) -> list[dict]:
    return [
        dict(data="ring", regime="default", remedy="none", seed=seed, steps=STEPS,
             runs=str(runs), **extra)
        for seed in SEEDS
    ]  # fmt: skip


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The sweep one run after another in this process, as before sweeps existed."""
    runs = tmp_path_factory.mktemp("serial")
    outcome = run_sweep(run_one, _ring_sweep(runs), progress=False)
    assert outcome.failures == []
    return outcome, runs


def _assert_same_runs(outcome, runs: Path, serial) -> None:
    """Every run's numbers and final samples equal the serial sweep's, bit for bit."""
    serial_outcome, serial_runs = serial
    assert outcome.failures == []
    assert len(outcome.results) == len(serial_outcome.results)
    for result, expected in zip(outcome.results, serial_outcome.results, strict=True):
        timing = "seconds"  # the only number that depends on the machine
        assert {k: v for k, v in result.items() if k != timing} == {
            k: v for k, v in expected.items() if k != timing
        }
    for seed in SEEDS:
        name = f"ring-default-none-{STEPS}steps-seed{seed}"
        # Trained here, not read back from the serial sweep's folder.
        assert json.loads((runs / name / "result.json").read_text())["seed"] == seed
        ours = np.load(runs / name / "final_samples.npy")
        theirs = np.load(serial_runs / name / "final_samples.npy")
        assert ours.dtype == theirs.dtype and ours.tobytes() == theirs.tobytes()


def test_dask_cluster_gives_the_serial_numbers_and_survives_a_killed_worker(serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    marker = tmp_path / "killed"
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    ) as cluster:
        outcome = run_sweep(
            ring_run_killed_once,
            _ring_sweep(tmp_path / "runs", marker=str(marker), kill_seed=1),
            ExecutorChoice(scheduler=cluster.scheduler_address),
            progress=False,
        )
    assert marker.exists()  # a worker really died under seed 1's run
    _assert_same_runs(outcome, tmp_path / "runs", serial)


def test_local_processes_give_the_serial_numbers_and_survive_a_killed_worker(serial, tmp_path):
    marker = tmp_path / "killed"
    outcome = run_sweep(
        ring_run_killed_once,
        _ring_sweep(tmp_path / "runs", marker=str(marker), kill_seed=0),
        ExecutorChoice(workers=2),
        progress=False,
    )
    assert marker.exists()
    # The pool broke with its process; seed 0 (and seed 1 if it was still running) went
    # to a fresh pool.
    assert outcome.resubmitted >= 1
    _assert_same_runs(outcome, tmp_path / "runs", serial)


def test_a_finished_run_is_not_trained_again(serial):
    outcome, runs = serial
    again = run_sweep(run_one, _ring_sweep(runs), progress=False)
    assert again.results == outcome.results  # "seconds" too: read back, not re-measured


def test_the_script_reports_the_sweep_into_results(serial, tmp_path, capsys):
    outcome, runs = serial
    results = tmp_path / "results"
    mode_coverage_main(
        ["--data", "ring", "--regimes", "default", "--remedies", "none", "--seeds", "2",
         "--steps", str(STEPS), "--runs", str(runs), "--results", str(results)]
    )  # fmt: skip
    report = json.loads((results / "mode_coverage.json").read_text())
    assert report["runs"] == outcome.results  # read back from the run folders, not retrained
    [row] = report["summary"]
    assert row["seeds"] == 2 and row["steps"] == STEPS
    assert (results / "mode_coverage.png").stat().st_size > 0
    assert "2 of 2 runs finished" in capsys.readouterr().out


def test_the_script_exits_1_when_a_run_fails(tmp_path, capsys):
    not_a_folder = tmp_path / "runs"
    not_a_folder.write_text("a file where the run folders should go\n")
    with pytest.raises(SystemExit) as exit_info:
        mode_coverage_main(
            ["--data", "ring", "--regimes", "default", "--remedies", "none", "--seeds", "1",
             "--steps", "10", "--runs", str(not_a_folder), "--results", str(tmp_path / "out")]
        )  # fmt: skip
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "0 of 1 runs finished" in err and "FAILED {'data': 'ring'" in err
    assert not (tmp_path / "out").exists()  # nothing finished, nothing reported


@pytest.mark.parametrize("workers", [1, 2])
def test_a_raising_run_is_reported_with_its_parameters_and_the_rest_finish(workers, capsys):
    runs = [{"numerator": 6, "denominator": 3}, {"numerator": 1, "denominator": 0},
            {"numerator": 9, "denominator": 3}]  # fmt: skip
    outcome = run_sweep(ratio, runs, ExecutorChoice(workers=workers), progress=False)
    assert outcome.results == [2.0, None, 3.0]
    assert [run for run, _ in outcome.finished] == [runs[0], runs[2]]
    [failure] = outcome.failures
    assert failure.parameters == {"numerator": 1, "denominator": 0}
    assert failure.error.startswith("ZeroDivisionError")
    assert "numerator / denominator" in failure.traceback  # the line in the worker
    with pytest.raises(SystemExit) as exit_info:
        exit_with_summary(outcome)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "2 of 3 runs finished" in err and "'denominator': 0" in err


@pytest.mark.parametrize("retries", [0, 1])
def test_a_run_that_keeps_killing_its_worker_fails_and_the_sweep_goes_on(retries):
    # The killer takes down the whole local pool each time, and with it any run in flight
    # beside it (which one is a matter of timing): those are retried or, past the retries,
    # reported. The runs after them go to a fresh pool and finish.
    runs = [{"numerator": n, "denominator": 1, "kill": n == 0} for n in range(4)]
    outcome = run_sweep(
        ratio_or_killed, runs, ExecutorChoice(workers=2), retries=retries, progress=False
    )
    failed = {failure.parameters["numerator"] for failure in outcome.failures}
    assert 0 in failed
    assert all(failure.error.startswith("BrokenProcessPool") for failure in outcome.failures)
    assert outcome.results[3] == 3.0
    for index in (1, 2):
        assert index in failed or outcome.results[index] == float(index)


@pytest.mark.parametrize("workers", [1, 2])
def test_blas_is_held_to_one_thread_during_a_run(workers):
    outcome = run_sweep(blas_threads, [{}], ExecutorChoice(workers=workers), progress=False)
    [threads] = outcome.results
    assert threads and set(threads) == {1}


@pytest.mark.parametrize(
    "arguments",
    [["--workers", "0"], ["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"],
     ["--scheduler", "127.0.0.1:8786"], ["--retries", "-1"]],
)  # fmt: skip
def test_a_bad_sweep_option_exits_2_with_one_line(arguments, capsys):
    with pytest.raises(SystemExit) as exit_info:
        mode_coverage_main(["--data", "ring", *arguments])
    assert exit_info.value.code == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "error: " in last_line and arguments[0] in last_line


def test_executor_choice_names_the_bad_argument():
    with pytest.raises(ValueError, match="workers must be an int >= 1"):
        ExecutorChoice(workers=0)
    with pytest.raises(ValueError, match="tcp://HOST:PORT"):
        ExecutorChoice(scheduler="localhost:8786")
    with pytest.raises(ValueError, match="not both"):
        ExecutorChoice(workers=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="retries must be an int >= 0"):
        run_sweep(ratio, [], retries=-1)


def test_what_counts_as_a_lost_worker():
    from concurrent.futures.process import BrokenProcessPool

    distributed = pytest.importorskip("distributed")
    on_cluster = ExecutorChoice(scheduler="tcp://127.0.0.1:8786")
    killed = distributed.KilledWorker("run-key", None, allowed_failures=3)
    assert on_cluster.worker_lost(killed) and not on_cluster.broken_by(killed)
    local = ExecutorChoice(workers=2)
    assert local.worker_lost(BrokenProcessPool()) and local.broken_by(BrokenProcessPool())
    for choice in (on_cluster, local):
        assert not choice.worker_lost(ZeroDivisionError())  # the run's own error: no retry
