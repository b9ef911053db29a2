"""PyTorch's .pt format both ways: our round trips, and against real PyTorch when installed."""

from __future__ import annotations

import io
import math
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, torch_format_writer
from minigrad.tensor import Tensor


# ------------------------------------------------------------------ round trips, no torch
def _checkpoint() -> dict:
    rng = np.random.default_rng(0)
    weight = Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    return {
        "model": OrderedDict(
            [
                ("layer.weight", weight),
                ("layer.bias", Tensor(rng.standard_normal(3))),  # float64
                ("half", Tensor(rng.standard_normal(5).astype(np.float16))),
                ("steps", mg.tensor(7)),  # 0-d int64
                ("mask", Tensor(np.array([True, False]))),
                *[
                    (f"as_{dtype}", Tensor(np.arange(-3, 3).astype(dtype)))
                    for dtype in ("int32", "int16", "int8")
                ],
                ("bytes", Tensor(np.arange(250, 256, dtype=np.uint8))),
                ("empty", Tensor(np.zeros((0, 3), np.float32))),
                ("transposed", Tensor(np.arange(6.0).reshape(2, 3)).T),
            ]
        ),
        "optimizer": {"state": {0: {"step": 3}}, "param_groups": [{"lr": 1e-3, "params": [0]}]},
        "epoch": 12,
        "big": 2**100,
        "negative": -(2**40),
        "name": "générateur ✓",
        "nothing": None,
        "flags": (True, False),
        "specials": [float("nan"), float("inf"), -0.0],
        "empty": {"list": [], "tuple": (), "dict": {}},
    }


def test_round_trip_keeps_values_dtypes_and_structure(tmp_path):
    original = _checkpoint()
    path = tmp_path / "checkpoint.pt"
    mg.save(original, path)
    assert zipfile.is_zipfile(path)
    restored = mg.load(path)

    assert type(restored["model"]) is OrderedDict and list(restored) == list(original)
    for key, tensor in original["model"].items():
        loaded = restored["model"][key]
        assert isinstance(loaded, Tensor) and loaded.device == "cpu"
        assert loaded.dtype == tensor.dtype and loaded.shape == tensor.shape
        assert loaded.requires_grad == tensor.requires_grad
        np.testing.assert_array_equal(loaded.numpy(), tensor.numpy())
    for key in ("optimizer", "epoch", "big", "negative", "name", "nothing", "flags", "empty"):
        assert restored[key] == original[key] and type(restored[key]) is type(original[key])
    nan, inf, negative_zero = restored["specials"]
    assert math.isnan(nan) and inf == math.inf and math.copysign(1.0, negative_zero) == -1.0


def test_numpy_values_become_tensors_and_numbers(tmp_path):
    path = tmp_path / "arrays.pth"
    values = {"a": np.arange(6.0).reshape(2, 3)[:, ::2], "s": np.float32(2.5), "i": np.int64(4)}
    mg.save(values, path)
    restored = mg.load(path)
    assert isinstance(restored["a"], Tensor)
    np.testing.assert_array_equal(restored["a"].numpy(), [[0.0, 2.0], [3.0, 5.0]])
    assert restored["s"] == 2.5 and type(restored["s"]) is float
    assert restored["i"] == 4 and type(restored["i"]) is int


def test_parameters_come_back_as_parameters(tmp_path):
    path = tmp_path / "params.pt"
    frozen = nn.Parameter(mg.ones(2), requires_grad=False)
    mg.save({"w": nn.Parameter(mg.arange(3.0)), "frozen": frozen}, path)
    restored = mg.load(path)
    assert isinstance(restored["w"], nn.Parameter) and restored["w"].requires_grad
    assert restored["w"].tolist() == [0.0, 1.0, 2.0]
    assert isinstance(restored["frozen"], nn.Parameter) and not restored["frozen"].requires_grad


def test_tied_tensors_stay_tied(tmp_path):
    shared = mg.randn(3, 3)
    path = tmp_path / "tied.pt"
    mg.save({"encoder": shared, "decoder": shared.detach()}, path)
    restored = mg.load(path)
    with zipfile.ZipFile(path) as zipped:
        assert sum(name.startswith("archive/data/") for name in zipped.namelist()) == 1
    assert np.shares_memory(restored["encoder"].numpy(), restored["decoder"].numpy())


def test_unsupported_values_name_their_key_path_and_keep_the_old_file(tmp_path):
    path = tmp_path / "checkpoint.pt"
    mg.save({"epoch": 1}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"cannot store set at obj\['model'\]\[1\]"):
        mg.save({"epoch": 2, "model": [mg.ones(1), {1, 2}]}, path)
    with pytest.raises(TypeError, match=r"tensor at obj\['c'\] has dtype complex128"):
        mg.save({"c": np.ones(2, complex)}, path)
    with pytest.raises(TypeError, match=r"dict key \(1, 2\) at obj"):
        mg.save({(1, 2): 3}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]


def test_failure_mid_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    mg.save({"epoch": 1}, path)
    before = path.read_bytes()

    def failing_zip(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch_format_writer.zipfile, "ZipFile", failing_zip)
    with pytest.raises(OSError, match="disk full"):
        mg.save({"epoch": 2}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and mg.load(path) == {"epoch": 1}


def test_load_reads_the_format_by_content_and_from_file_objects(tmp_path):
    path = tmp_path / "model.pt"
    mg.save({"w": mg.arange(3)}, path)
    renamed = tmp_path / "model.npz"  # a PyTorch file under an npz name
    renamed.write_bytes(path.read_bytes())
    assert mg.load(renamed)["w"].tolist() == [0, 1, 2]
    stream = io.BytesIO(path.read_bytes())
    assert mg.load(stream)["w"].tolist() == [0, 1, 2]


# ------------------------------------------------------------------ against real PyTorch
def _torch_model(torch):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3),
        torch.nn.BatchNorm2d(2),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 3),
    )
    model(torch.randn(4, 1, 4, 4))  # moves the BatchNorm statistics off their defaults
    return model


def _bits(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array).view(np.uint8)


def test_torch_checkpoint_loads_bit_for_bit(tmp_path):
    torch = pytest.importorskip("torch")
    model = _torch_model(torch)
    base = torch.randn(4, 6, dtype=torch.float64)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(2, 1, 4, 4)).sum().backward()
    optimizer.step()
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": 7,
        "transposed": base.t(),
        "view": base[1:, ::2],  # shares base's storage, offset 6, strides (6, 2)
        "base": base,
        "half": torch.randn(5).half(),
        "bfloat": torch.randn(5).bfloat16(),
        "ints": [torch.arange(5, dtype=dtype) for dtype in (torch.int32, torch.uint8, torch.int8)],
        "mask": torch.tensor([True, False, True]),
        "parameter": torch.nn.Parameter(torch.randn(2)),
        "plain": {"bytes": b"\x00\xffab", "set": {1, 2}, "size": base.shape, "complex": 1 + 2j},
    }
    path = tmp_path / "torch.pth"
    torch.save(checkpoint, path)
    loaded = mg.load(path)

    state = model.state_dict()
    assert list(loaded["model"]) == list(state)
    assert loaded["model"]["1.num_batches_tracked"].dtype == np.int64
    for key, tensor in state.items():
        np.testing.assert_array_equal(_bits(loaded["model"][key].numpy()), _bits(tensor.numpy()))
    for key in ("transposed", "view", "base", "half", "mask"):
        expected = checkpoint[key].numpy()
        assert loaded[key].shape == expected.shape and loaded[key].dtype == expected.dtype
        np.testing.assert_array_equal(_bits(loaded[key].numpy()), _bits(expected))
    for ours, theirs in zip(loaded["ints"], checkpoint["ints"], strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert loaded["bfloat"].dtype == np.float32
    np.testing.assert_array_equal(loaded["bfloat"].numpy(), checkpoint["bfloat"].float().numpy())
    assert np.shares_memory(loaded["view"].numpy(), loaded["base"].numpy())
    assert isinstance(loaded["parameter"], nn.Parameter) and loaded["parameter"].requires_grad
    assert loaded["epoch"] == 7
    assert loaded["plain"] == {**checkpoint["plain"], "size": (4, 6)}
    assert type(loaded["plain"]["size"]) is tuple

    saved_optimizer = optimizer.state_dict()
    assert loaded["optimizer"]["param_groups"] == saved_optimizer["param_groups"]
    for index, entries in saved_optimizer["state"].items():
        for name, value in entries.items():
            np.testing.assert_array_equal(loaded["optimizer"]["state"][index][name], value)


def test_our_checkpoint_loads_in_torch_with_weights_only(tmp_path):
    torch = pytest.importorskip("torch")
    original = _checkpoint()
    tied = mg.randn(2, 2)
    original["tied"] = [tied, tied.detach()]
    path = tmp_path / "ours.pt"
    mg.save(original, path)
    loaded = torch.load(path, weights_only=True)

    assert list(loaded) == list(original)
    for key, tensor in original["model"].items():
        theirs = loaded["model"][key]
        assert isinstance(theirs, torch.Tensor) and theirs.requires_grad == tensor.requires_grad
        assert theirs.detach().numpy().dtype == tensor.dtype
        np.testing.assert_array_equal(_bits(theirs.detach().numpy()), _bits(tensor.numpy()))
    for key in ("optimizer", "epoch", "big", "negative", "name", "nothing", "flags", "empty"):
        assert loaded[key] == original[key]
    first, second = loaded["tied"]
    assert first.untyped_storage().data_ptr() == second.untyped_storage().data_ptr()

    path = tmp_path / "parameters.pt"
    layer = nn.Linear(3, 2)
    mg.save(list(layer.parameters()), path)
    weight, bias = torch.load(path, weights_only=True)
    assert isinstance(weight, torch.nn.Parameter) and weight.requires_grad
    np.testing.assert_array_equal(weight.detach().numpy(), layer.weight.numpy())


def test_torch_state_dict_loads_into_our_matching_module(tmp_path):
    torch = pytest.importorskip("torch")
    model = _torch_model(torch).eval()
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)
    ours = nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3)
    ).eval()
    ours.load_state_dict(mg.load(path, map_location="cpu"))

    x = np.random.default_rng(1).standard_normal((3, 1, 4, 4)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert ours[1].num_batches_tracked.item() == model[1].num_batches_tracked.item()
