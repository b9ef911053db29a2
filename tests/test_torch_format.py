"""Reading PyTorch's .pt zip format without trusting pickle: hostile and damaged files."""

from __future__ import annotations

import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg


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
