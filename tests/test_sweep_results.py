"""minigrad.sweeps.results: a run's result file is whole or absent, and reads back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad.sweeps import load_finished, save_finished


def test_a_result_reads_back_bit_for_bit(tmp_path):
    samples = np.random.default_rng(0).standard_normal((64, 1, 4, 4)).astype(np.float32)
    result = {"seed": 3, "fd": 0.1 + 0.2, "curve": [1 / 3, 2 / 3], "samples": samples}
    save_finished(tmp_path / "arm.json", result)
    back = load_finished(tmp_path / "arm.json")
    assert back.keys() == result.keys()
    assert back["fd"] == result["fd"] and back["curve"] == result["curve"]
    assert back["samples"].dtype == np.float32
    assert back["samples"].tobytes() == samples.tobytes()


def test_no_json_means_not_finished(tmp_path):
    assert load_finished(tmp_path / "arm.json") is None
    # The arrays are written first: a run killed between the two files is unfinished.
    save_finished(tmp_path / "arm.json", {"samples": np.zeros(3)})
    (tmp_path / "arm.json").unlink()
    assert load_finished(tmp_path / "arm.json") is None


def test_a_value_json_cannot_hold_writes_nothing(tmp_path):
    with pytest.raises(TypeError):
        save_finished(tmp_path / "arm.json", {"samples": np.zeros(3), "bad": object()})
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="ends in .json"):
        save_finished(tmp_path / "arm.txt", {})
