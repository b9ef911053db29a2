"""Writing PyTorch's checkpoint format (see ``torch_format.py`` for the layout) without torch.

The pickle is built opcode by opcode, so the stream can name
``torch._utils._rebuild_tensor_v2`` and ``torch.FloatStorage`` without importing torch, and
holds nothing but the opcodes below: ``torch.load(path, weights_only=True)`` reads it.
"""

from __future__ import annotations

import os
import pickle
import struct
import zipfile
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from minigrad.atomic_file import write_atomically
from minigrad.tensor import Tensor
from minigrad.torch_format import STORAGE_DTYPES

# numpy has no bfloat16, so nothing is ever written as one.
_STORAGE_NAMES = {dtype: name for name, dtype in STORAGE_DTYPES.items() if "BFloat16" not in name}
_ARCHIVE = "archive/"


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of Tensors and numbers) as ``torch.save`` would.

    numpy arrays are written as tensors and numpy scalars as Python numbers, since
    PyTorch's ``weights_only`` loader reads no numpy objects. Raises ``TypeError`` naming
    the key path of the first value that cannot be stored. Atomic, like every checkpoint.
    """
    writer = _PickleWriter()
    writer.write(obj, "obj")
    records = [("data.pkl", writer.finish()), ("byteorder", b"little")]
    records += [(f"data/{key}", array.tobytes()) for key, array in enumerate(writer.storages)]
    records.append(("version", b"3\n"))

    def write_zip(stream: IO[bytes]) -> None:
        with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as zipped:
            for name, data in records:
                zipped.writestr(_ARCHIVE + name, data)

    write_atomically(path, write_zip)


class _PickleWriter:
    """A protocol-2 pickle of the tree, opcode by opcode, naming torch's globals by text.

    Writing by hand (instead of ``pickle.Pickler``) is what lets the stream name
    ``torch._utils._rebuild_tensor_v2`` without importing torch; only the opcodes below
    are ever written, so the file holds nothing PyTorch's weights_only loader refuses.
    """

    def __init__(self) -> None:
        self.out = bytearray(pickle.PROTO + b"\x02")
        self.storages: list[np.ndarray] = []
        self.storage_keys: dict[int, int] = {}  # id(device array) -> key: tied weights stay tied
        self.keep_alive: list[Any] = []

    def finish(self) -> bytes:
        return bytes(self.out + pickle.STOP)

    def write(self, value: Any, key_path: str) -> None:
        out = self.out
        if value is None:
            out += pickle.NONE
        elif value is True or value is False:
            out += pickle.NEWTRUE if value else pickle.NEWFALSE
        elif isinstance(value, np.bool_):
            out += pickle.NEWTRUE if value else pickle.NEWFALSE
        elif isinstance(value, int | np.integer):
            self.integer(int(value))
        elif isinstance(value, float | np.floating):
            out += pickle.BINFLOAT + struct.pack(">d", float(value))
        elif isinstance(value, str):
            self.text(value)
        elif isinstance(value, Tensor | np.ndarray):
            from minigrad.nn.parameter import Parameter  # minigrad.nn loads after this module

            if isinstance(value, Parameter):
                self.parameter(value, key_path)
            else:
                self.tensor(value, key_path)
        elif isinstance(value, dict):
            if isinstance(value, OrderedDict):
                self.global_("collections", "OrderedDict")
                out += pickle.EMPTY_TUPLE + pickle.REDUCE
            else:
                out += pickle.EMPTY_DICT
            for key, item in value.items():
                if isinstance(key, bool) or not isinstance(key, str | int):
                    raise TypeError(
                        f"minigrad.save: dict key {key!r} at {key_path} is a "
                        f"{type(key).__name__}; keys must be str or int"
                    )
                out += pickle.MARK
                self.write(key, key_path)
                self.write(item, f"{key_path}[{key!r}]")
                out += pickle.SETITEMS
        elif isinstance(value, list):
            out += pickle.EMPTY_LIST
            for i, item in enumerate(value):
                out += pickle.MARK
                self.write(item, f"{key_path}[{i}]")
                out += pickle.APPENDS
        elif isinstance(value, tuple):
            out += pickle.MARK
            for i, item in enumerate(value):
                self.write(item, f"{key_path}[{i}]")
            out += pickle.TUPLE
        else:
            raise TypeError(
                f"minigrad.save: cannot store {type(value).__name__} at {key_path} in a PyTorch "
                "file; supported are dict, list, tuple, Tensor, numpy array or scalar, int, "
                "float, bool, str and None"
            )

    def integer(self, value: int) -> None:
        if -(2**31) <= value < 2**31:
            self.out += pickle.BININT + struct.pack("<i", value)
        else:
            encoded = pickle.encode_long(value)
            if len(encoded) >= 256:
                raise TypeError(f"minigrad.save: integer {value} is too large for a PyTorch file")
            self.out += pickle.LONG1 + bytes([len(encoded)]) + encoded

    def text(self, value: str) -> None:
        encoded = value.encode("utf-8", "surrogatepass")
        self.out += pickle.BINUNICODE + struct.pack("<I", len(encoded)) + encoded

    def global_(self, module: str, name: str) -> None:
        self.out += pickle.GLOBAL + f"{module}\n{name}\n".encode("ascii")

    def parameter(self, value: Tensor, key_path: str) -> None:
        """``_rebuild_parameter(tensor, requires_grad, {})``, as ``Parameter.__reduce_ex__``."""
        self.global_("torch._utils", "_rebuild_parameter")
        self.out += pickle.MARK
        self.tensor(value.detach(), key_path)  # same storage: a tied plain tensor stays tied
        self.out += pickle.NEWTRUE if value.requires_grad else pickle.NEWFALSE
        self.global_("collections", "OrderedDict")
        self.out += pickle.EMPTY_TUPLE + pickle.REDUCE
        self.out += pickle.TUPLE + pickle.REDUCE

    def tensor(self, value: Tensor | np.ndarray, key_path: str) -> None:
        """``_rebuild_tensor_v2(storage, 0, shape, contiguous strides, requires_grad, {})``."""
        device_array = value._data if isinstance(value, Tensor) else value
        requires_grad = isinstance(value, Tensor) and value.requires_grad
        array = value.detach().numpy() if isinstance(value, Tensor) else value
        storage_name = _STORAGE_NAMES.get(array.dtype.newbyteorder("="))
        if storage_name is None:
            raise TypeError(
                f"minigrad.save: tensor at {key_path} has dtype {array.dtype}, which a PyTorch "
                f"file cannot hold here; supported are {sorted(map(str, _STORAGE_NAMES))}"
            )
        key = self.storage_keys.get(id(device_array))
        if key is None:
            key = self.storage_keys[id(device_array)] = len(self.storages)
            self.storages.append(np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")))
            self.keep_alive.append(device_array)  # ids stay unique while we write
        strides = [int(np.prod(array.shape[k + 1 :])) for k in range(array.ndim)]
        self.global_("torch._utils", "_rebuild_tensor_v2")
        self.out += pickle.MARK + pickle.MARK
        self.text("storage")
        self.global_("torch", storage_name)
        self.text(str(key))
        self.text("cpu")
        self.integer(array.size)
        self.out += pickle.TUPLE + pickle.BINPERSID
        self.integer(0)
        self.write(tuple(array.shape), key_path)
        self.write(tuple(strides), key_path)
        self.out += pickle.NEWTRUE if requires_grad else pickle.NEWFALSE
        self.global_("collections", "OrderedDict")
        self.out += pickle.EMPTY_TUPLE + pickle.REDUCE
        self.out += pickle.TUPLE + pickle.REDUCE
