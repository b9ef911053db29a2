"""minigrad.save / minigrad.load: .npz without pickle, atomic writes, exact round trips."""

from __future__ import annotations

import math
import os
import stat
import zipfile

import numpy as np
import pytest

from minigrad import serialize
from minigrad.serialize import load, save
from minigrad.tensor import Tensor


def _nested_checkpoint() -> dict:
    rng = np.random.default_rng(0)
    weight = Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    return {
        "model": {
            "layer.weight": weight,
            "layer.bias": Tensor(np.zeros(3, np.float64)),
            "steps": Tensor(np.array([1, 2, 3], np.int64)),
        },
        "arrays": [
            rng.standard_normal((2, 3)),  # float64
            np.arange(6, dtype=np.int64).reshape(3, 2).T,  # non-contiguous view
            np.array([True, False, True]),
            np.float32(2.5),  # numpy scalar
            np.array(7, dtype=np.int16),  # 0-d array
        ],
        "optimizer": {0: {"lr": 1e-3, "betas": (0.9, 0.999)}, 1: {"lr": 0.5}},
        "epoch": 12,
        "big": 2**100,  # numpy Generator states hold 128-bit ints
        "flag": True,
        "name": "générateur ✓",
        "ключ": None,
        "specials": [float("nan"), float("inf"), -0.0],
        "empty": {"list": [], "tuple": (), "dict": {}},
    }


def test_round_trip_keeps_values_dtypes_and_structure(tmp_path):
    original = _nested_checkpoint()
    path = tmp_path / "checkpoint.npz"
    save(original, path)
    restored = load(path)

    assert list(restored) == list(original)  # key order kept
    model = restored["model"]
    for key, tensor in original["model"].items():
        assert isinstance(model[key], Tensor)
        assert model[key].device == "cpu"
        assert model[key].dtype == tensor.dtype
        assert model[key].requires_grad == tensor.requires_grad
        np.testing.assert_array_equal(model[key].numpy(), tensor.numpy())

    for saved, loaded in zip(original["arrays"][:3], restored["arrays"][:3], strict=True):
        assert isinstance(loaded, np.ndarray)
        assert loaded.dtype == saved.dtype and loaded.shape == saved.shape
        np.testing.assert_array_equal(loaded, saved)
    scalar, zero_d = restored["arrays"][3:]
    assert isinstance(scalar, np.float32) and scalar == np.float32(2.5)
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == () and zero_d.dtype == np.int16

    assert restored["optimizer"] == {0: {"lr": 1e-3, "betas": (0.9, 0.999)}, 1: {"lr": 0.5}}
    assert isinstance(restored["optimizer"][0]["betas"], tuple)
    assert restored["epoch"] == 12 and type(restored["epoch"]) is int
    assert restored["big"] == 2**100
    assert restored["flag"] is True
    assert restored["name"] == "générateur ✓"
    assert restored["ключ"] is None
    nan, inf, negative_zero = restored["specials"]
    assert math.isnan(nan) and inf == float("inf")
    assert negative_zero == 0.0 and math.copysign(1.0, negative_zero) == -1.0
    assert restored["empty"] == {"list": [], "tuple": (), "dict": {}}


def test_file_is_plain_npz_without_pickles(tmp_path):
    path = tmp_path / "plain.npz"
    save({"w": Tensor(np.ones((2, 2), np.float32)), "meta": {"note": "x"}}, path)
    with np.load(path, allow_pickle=False) as archive:
        names = sorted(archive.files)
        arrays = {name: archive[name] for name in names}
    assert names == ["__minigrad__", "a0"]
    assert all(array.dtype != object for array in arrays.values())
    np.testing.assert_array_equal(arrays["a0"], np.ones((2, 2), np.float32))
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            # Pickle streams start with the PROTO opcode 0x80; .npy entries with \x93NUMPY.
            assert archive.read(name)[:6] == b"\x93NUMPY"


def test_path_is_written_exactly_as_given(tmp_path):
    path = tmp_path / "model.ckpt"
    save({"x": 1}, path)
    assert path.is_file() and not (tmp_path / "model.ckpt.npz").exists()
    assert load(str(path)) == {"x": 1}


def test_unsupported_type_names_its_key_path_and_keeps_old_file(tmp_path):
    path = tmp_path / "checkpoint.npz"
    save({"epoch": 1}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"cannot store set at obj\['model'\]\['layers'\]\[1\]"):
        save({"epoch": 2, "model": {"layers": [np.zeros(2), {1, 2}]}}, path)
    assert path.read_bytes() == before
    assert load(path) == {"epoch": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]


def test_object_arrays_and_odd_keys_are_refused(tmp_path):
    with pytest.raises(TypeError, match=r"array at obj\['bad'\] has dtype object"):
        save({"bad": np.array([{}, None], dtype=object)}, tmp_path / "a.npz")
    with pytest.raises(TypeError, match=r"dict key \(1, 2\) at obj\['outer'\]"):
        save({"outer": {(1, 2): 3}}, tmp_path / "b.npz")
    assert list(tmp_path.iterdir()) == []


def test_failure_mid_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    save({"epoch": 1, "w": np.arange(4.0)}, path)
    before = path.read_bytes()

    def failing_savez(stream, **entries):
        stream.write(b"PK\x03\x04 partial archive")
        raise OSError("disk full")

    monkeypatch.setattr(serialize.np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        save({"epoch": 2, "w": np.arange(8.0)}, path)
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert load(path)["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]


def test_saved_file_gets_the_permissions_of_a_plain_open(tmp_path):
    # The temp file behind the atomic rename is created private (0600); the checkpoint
    # must not stay that way, or another user of a shared run folder cannot read it.
    path = tmp_path / "checkpoint.npz"
    save({"epoch": 1}, path)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_load_rejects_foreign_archives(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, x=np.zeros(3))
    with pytest.raises(ValueError, match="not one written by minigrad.save"):
        load(path)
