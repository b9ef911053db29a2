"""gan/experiments/mode_coverage.py: how runs are grouped into the table's cells."""

from __future__ import annotations

import pytest

from gan.experiments.mode_coverage import summarise


def _result(steps: int, seed: int, modes: int, high_quality: float) -> dict:
    return {
        "data": "grid",
        "regime": "default",
        "remedy": "minibatch-stddev",
        "steps": steps,
        "seed": seed,
        "modes_covered": modes,
        "high_quality_fraction": high_quality,
        "reverse_kl": 0.1,
        "seconds": 1.0,
    }


def test_runs_of_different_lengths_are_separate_cells():
    # The grid's default grew from 10,000 to 20,000 rounds; runs of both lengths stay in
    # the table, and averaging them together would hide what the longer schedule did.
    results = [
        _result(10000, 0, 23, 0.70),
        _result(10000, 1, 25, 0.90),
        _result(20000, 0, 25, 0.94),
        _result(20000, 1, 24, 0.96),
    ]
    rows = {row["steps"]: row for row in summarise(results)}
    assert sorted(rows) == [10000, 20000]
    assert rows[10000]["seeds"] == rows[20000]["seeds"] == 2
    assert rows[10000]["modes_covered"]["mean"] == pytest.approx(24.0)
    assert rows[20000]["modes_covered"]["mean"] == pytest.approx(24.5)
    assert rows[20000]["high_quality_fraction"]["min"] == pytest.approx(0.94)
    assert rows[10000]["modes_covered"]["std"] == pytest.approx(1.0)
