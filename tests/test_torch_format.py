"""PyTorch's .pt zip format: read without trusting pickle, written so torch.load reads it."""

from __future__ import annotations

import io
import math
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, torch_format_writer
from minigrad.tensor import Tensor


def _pt_file(path, pickle_bytes: bytes, storages: dict[str, bytes] | None = None) -> None:
    """A zip laid out as torch.save lays it out, around a hand-made pickle."""
    with zipfile.ZipFile(path, "w") as zipped:
        zipped.writestr("archive/data.pkl", pickle_bytes)
        zipped.writestr("archive/byteorder", b"little")
        for key, data in (storages or {}).items():
            zipped.writestr(f"archive/data/{key}", data)
        zipped.writestr("archive/version", b"3\n")


def _pickle_of(saved_path) -> bytes:
    with zipfile.ZipFile(saved_path) as zipped:
        return zipped.read("archive/data.pkl")


def _global(module: str, name: str, stack: bool) -> bytes:
    """The opcode that fetches ``module.name``: GLOBAL (protocols 0-3) or STACK_GLOBAL (4+)."""
    if not stack:
        return b"c%s\n%s\n" % (module.encode(), name.encode())
    short = [bytes([len(part)]) + part.encode() for part in (module, name)]
    return b"\x8c" + short[0] + b"\x8c" + short[1] + b"\x93"


def _hostile_pickle(global_name: str, argument: bytes, stack: bool) -> bytes:
    """``{"weight": [1.0, 2.0], "evil": module.name(argument)}``: a checkpoint with a payload."""
    module, name = global_name.rsplit(".", 1)
    header = b"\x80\x04" if stack else b"\x80\x02"
    call = _global(module, name, stack) + b"(" + argument + b"tR"
    return header + b"}(Vweight\n(lF1.0\naF2.0\naVevil\n" + call + b"u."


def _payloads(marker) -> dict[str, bytes]:
    """Each global and an argument with which it would create ``marker``."""
    touch = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    return {
        "os.system": b"V" + f"touch {marker}".encode() + b"\n",
        "builtins.eval": b"V" + touch.encode() + b"\n",
        "builtins.exec": b"V" + touch.encode() + b"\n",
        "subprocess.call": b"(lVtouch\naV" + str(marker).encode() + b"\na",
    }


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "builtins.exec", "subprocess.call"])
@pytest.mark.parametrize("stack", [False, True], ids=["GLOBAL", "STACK_GLOBAL"])
def test_code_in_a_crafted_checkpoint_never_runs(tmp_path, name, stack):
    marker = tmp_path / "pwned"
    data = _hostile_pickle(name, _payloads(marker)[name], stack)
    path = tmp_path / "evil.pt"
    _pt_file(path, data)

    with pytest.raises(pickle.UnpicklingError, match=rf"refusing to load '{name}' from .*evil.pt"):
        mg.load(path)
    assert not marker.exists()

    # The payload is real: a trusting unpickler runs it (so the check above can fail).
    pickle.loads(data)
    assert marker.exists()


def test_refusal_names_the_global_and_what_is_allowed(tmp_path):
    path = tmp_path / "x.pt"
    _pt_file(path, b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00trueR.")
    with pytest.raises(pickle.UnpicklingError) as error:
        mg.load(path)
    assert str(error.value) == (
        f"refusing to load 'os.system' from {path}: only tensors, OrderedDicts and plain "
        "containers are allowed"
    )


def _tensor_pickle(offset, size, stride, numel: int = 4) -> bytes:
    """A pickle of one ``_rebuild_tensor_v2`` call over FloatStorage "0", in text opcodes."""

    def ints(values) -> bytes:
        return b"(" + b"".join(b"I%d\n" % v for v in values) + b"t"

    return (
        b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n("
        + b"(Vstorage\nctorch\nFloatStorage\nV0\nVcpu\nI%d\ntQ" % numel
        + b"I%d\n" % offset
        + ints(size)
        + ints(stride)
        + b"\x89ccollections\nOrderedDict\n)RtR."
    )


FOUR_FLOATS = {"0": np.arange(4, dtype=np.float32).tobytes()}


def test_hand_made_tensor_pickle_loads(tmp_path):
    path = tmp_path / "ok.pt"
    _pt_file(path, _tensor_pickle(1, (3,), (1,)), FOUR_FLOATS)
    assert mg.load(path).tolist() == [1.0, 2.0, 3.0]
    _pt_file(path, _tensor_pickle(0, (2, 2), (1, 2)), FOUR_FLOATS)
    assert mg.load(path).tolist() == [[0.0, 2.0], [1.0, 3.0]]


def test_setting_attributes_is_refused_except_on_ordered_dicts(tmp_path):
    # BUILD on the rebuilt tensor, trying to swap its array for a string.
    hostile = _tensor_pickle(0, (4,), (1,))[:-1] + b"}V_data\nVevil\nsb."
    path = tmp_path / "build.pt"
    _pt_file(path, hostile, FOUR_FLOATS)
    with pytest.raises(pickle.UnpicklingError, match="refusing to set attributes of a Tensor"):
        mg.load(path)


def test_ordered_dict_metadata_is_kept_but_cannot_change_its_class(tmp_path):
    path = tmp_path / "meta.pt"
    state = b"}(V_metadata\n}V__class__\nc__builtin__\nset\nu"
    _pt_file(path, b"\x80\x02ccollections\nOrderedDict\n)R" + state + b"b.")
    loaded = mg.load(path)
    assert type(loaded) is OrderedDict and loaded._metadata == {}


@pytest.mark.parametrize(
    "offset, size, stride",
    [
        (3, (2,), (1,)),  # elements 3 and 4 of a 4-element storage
        (0, (3, 2), (1, 2)),  # reaches element 4
        (0, (2, 2), (4, 0)),
        (5, (0,), (1,)),  # even an empty tensor may not start past the end
        (0, (-1,), (1,)),
        (0, (2,), (-1,)),
        (0, (2,), (1, 1)),  # size and stride of different lengths
    ],
)
def test_layouts_reaching_outside_their_storage_are_refused(tmp_path, offset, size, stride):
    path = tmp_path / "outside.pt"
    _pt_file(path, _tensor_pickle(offset, size, stride), FOUR_FLOATS)
    with pytest.raises(pickle.UnpicklingError, match="reaches past its storage|malformed"):
        mg.load(path)


def test_storage_shorter_than_its_numel_is_refused(tmp_path):
    path = tmp_path / "short.pt"
    _pt_file(path, _tensor_pickle(0, (8,), (1,), numel=8), FOUR_FLOATS)
    with pytest.raises(pickle.UnpicklingError, match="storage 0 holds 16 bytes"):
        mg.load(path)


def test_legacy_format_is_refused_clearly(tmp_path):
    path = tmp_path / "old.pth"
    path.write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + b"more pickles")
    with pytest.raises(ValueError, match=r"old.pth is in PyTorch's legacy \(pre-1.6\) format"):
        mg.load(path)


def test_damaged_checkpoints_are_one_clear_error(tmp_path):
    path = tmp_path / "model.pt"
    values = np.arange(1000.0)
    mg.save({"w": mg.tensor(values, dtype=mg.float64)}, path)
    whole = path.read_bytes()

    path.write_bytes(whole[: len(whole) // 2])  # a copy cut short
    with pytest.raises(ValueError, match=r"model.pt: not a readable PyTorch checkpoint"):
        mg.load(path)

    flipped = bytearray(whole)
    flipped[whole.index(values.tobytes()) + 100] ^= 0xFF  # one bit of rot in a storage
    path.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=r"model.pt: not a readable .*CRC"):
        mg.load(path)

    _pt_file(path, _tensor_pickle(0, (4,), (1,))[:-3], FOUR_FLOATS)  # the pickle cut short
    with pytest.raises(ValueError, match=r"model.pt: not a readable PyTorch checkpoint"):
        mg.load(path)


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
