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


# ---------------------------------------------------------------- map_location, weights_only
class _DeviceObject:
    """Stands in for torch.device / minigrad.device: a ``type`` and a printable name."""

    def __init__(self, name: str) -> None:
        self.type = name.split(":")[0]
        self.name = name

    def __str__(self) -> str:
        return self.name


def _saved_on(tmp_path, location: str):
    """A .pt file whose one tensor says it was saved on ``location``."""
    from minigrad import torch_format_writer

    path = tmp_path / "located.pt"
    torch_format_writer.save({"w": Tensor(np.arange(3.0))}, path)
    with zipfile.ZipFile(path) as zipped:
        records = {name: zipped.read(name) for name in zipped.namelist()}
    cpu = b"X\x03\x00\x00\x00cpu"
    assert records["archive/data.pkl"].count(cpu) == 1
    records["archive/data.pkl"] = records["archive/data.pkl"].replace(
        cpu, b"X" + len(location).to_bytes(4, "little") + location.encode()
    )
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data in records.items():
            zipped.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "map_location",
    ["cpu", _DeviceObject("cpu"), {"cpu": "cpu"}, {"cuda:0": "cpu"}, lambda storage, loc: storage],
    ids=["str", "device", "dict", "unrelated-dict", "callable"],
)
@pytest.mark.parametrize("suffix", [".npz", ".pt"])
def test_map_location_forms_keep_cpu_checkpoints_on_the_cpu(tmp_path, map_location, suffix):
    path = tmp_path / f"checkpoint{suffix}"
    weight = Tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    save({"w": weight, "epoch": 3}, path)
    restored = load(path, map_location=map_location)
    assert restored["epoch"] == 3
    assert restored["w"].device == "cpu" and restored["w"].requires_grad
    assert restored["w"].is_leaf
    np.testing.assert_array_equal(restored["w"].numpy(), weight.numpy())


@pytest.mark.parametrize("suffix", [".npz", ".pt"])
def test_map_location_callable_sees_each_tensor_and_its_location(tmp_path, suffix):
    path = tmp_path / f"checkpoint{suffix}"
    save({"a": Tensor(np.ones(2)), "b": [Tensor(np.zeros(3))]}, path)
    seen = []

    def doubled(storage, location):
        seen.append((storage.shape, location))
        return storage * 2

    restored = load(path, map_location=doubled)
    assert sorted(seen) == [((2,), "cpu"), ((3,), "cpu")]
    assert restored["a"].tolist() == [2.0, 2.0] and restored["b"][0].tolist() == [0.0] * 3


def test_tensors_saved_on_a_gpu_load_where_map_location_says(tmp_path):
    path = _saved_on(tmp_path, "cuda:0")
    for map_location in ("cpu", {"cuda:0": "cpu"}, lambda storage, loc: storage):
        assert load(path, map_location=map_location)["w"].device == "cpu"
    seen = []
    load(path, map_location=lambda storage, loc: seen.append(loc) or storage)
    assert seen == ["cuda:0"]


def test_tensors_saved_on_a_gpu_without_one_name_map_location(tmp_path):
    from minigrad.devices import get_backend

    try:
        get_backend("cuda")
        pytest.skip("a GPU is here: the tensor would load onto it")
    except RuntimeError:
        pass
    message = r"saved on 'cuda:0' needs device 'cuda'.*map_location='cpu'"
    with pytest.raises(RuntimeError, match=message):
        load(_saved_on(tmp_path, "cuda:0"))


def test_tensors_from_a_device_we_lack_are_refused_unless_mapped(tmp_path):
    path = _saved_on(tmp_path, "mps")
    with pytest.raises(ValueError, match=r"saved on 'mps', a device minigrad does not have"):
        load(path)
    assert load(path, map_location={"mps": "cpu"})["w"].tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    "map_location, error, message",
    [
        (5, TypeError, r"map_location must be None, a device .*got map_location 5 of type int"),
        ("gpu", ValueError, r"got map_location 'gpu', which is no device"),
        ({"cpu": 3}, TypeError, r"got map_location\['cpu'\] 3 of type int"),
        (_DeviceObject("tpu"), ValueError, r"got map_location 'tpu', which is no device"),
        (Tensor, TypeError, r"got map_location <class"),
    ],
)
def test_meaningless_map_locations_are_refused(tmp_path, map_location, error, message):
    path = tmp_path / "checkpoint.npz"
    save({"w": Tensor(np.ones(2))}, path)
    with pytest.raises(error, match=message):
        load(path, map_location=map_location)


def test_map_location_callable_must_return_a_matching_tensor(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save({"w": Tensor(np.ones(2))}, path)
    with pytest.raises(TypeError, match=r"callable returned ndarray .*must return a Tensor"):
        load(path, map_location=lambda storage, loc: storage.numpy())


def test_weights_only(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save({"w": Tensor(np.ones(2))}, path)
    # False reads the same allow-listed way (a file that needs more is still refused).
    assert load(path, weights_only=False)["w"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="weights_only must be True or False, got 'yes'"):
        load(path, weights_only="yes")
