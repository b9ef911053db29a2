"""PyTorch's checkpoint format (what ``torch.save`` writes), read and written without torch.

A ``.pt`` / ``.pth`` file is a zip archive whose entries sit under one folder (``archive/``):

* ``data.pkl``: a pickle of the object tree. Each tensor in it is the call
  ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)``,
  and its ``storage`` is a *persistent id* ``("storage", torch.FloatStorage, "0", "cpu", numel)``
  that names the entry holding the numbers;
* ``data/0``, ``data/1``, ...: each storage's raw bytes, in the byte order of ``byteorder``;
* ``version``, ``byteorder``: small text records.

Reading never trusts the pickle. Unpickling calls whatever global the stream names, so
a crafted file could name ``os.system``; here every global is looked up in
:data:`ALLOWED_GLOBALS`, which maps the few names PyTorch's own ``weights_only=True`` loader
needs for tensors, OrderedDicts and plain containers to *our* functions, and anything else
is refused with an error naming it. Attribute setting (the ``BUILD`` opcode) is allowed
only on an OrderedDict, where PyTorch keeps a state_dict's ``_metadata``.

Tensors that shared a storage in the file share memory when loaded (tied weights stay
tied), as with ``torch.load``; ``bfloat16`` storages, which numpy lacks, load as the exact
same values in float32. Writing is in ``torch_format_writer.py``.
"""

from __future__ import annotations

import os
import pickle
import re
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from minigrad.tensor import Tensor

#: PyTorch's typed-storage class names and the numpy dtypes of their elements.
STORAGE_DTYPES: dict[str, np.dtype] = {
    name: np.dtype(dtype)
    for name, dtype in [
        ("FloatStorage", np.float32),
        ("DoubleStorage", np.float64),
        ("HalfStorage", np.float16),
        ("BFloat16Storage", np.uint16),  # raw bits; widened to float32 on load
        ("LongStorage", np.int64),
        ("IntStorage", np.int32),
        ("ShortStorage", np.int16),
        ("CharStorage", np.int8),
        ("ByteStorage", np.uint8),
        ("BoolStorage", np.bool_),
    ]
}

# A tensor placed on its device: (tensor on the CPU, the location it was saved from) -> tensor.
Placer = Callable[[Tensor, str], Tensor]


class StorageType:
    """What the global ``torch.FloatStorage`` (etc.) stands for while reading: a dtype."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = STORAGE_DTYPES[name]


def _bytes_from_latin1(text: str, encoding: str = "latin1") -> bytes:
    """Protocol-2 pickles store ``bytes`` as ``_codecs.encode(text, "latin1")``."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(
            f"_codecs.encode({type(text).__name__}, {encoding!r}) is not allowed: only "
            "(str, 'latin1'), which is how protocol 2 writes bytes"
        )
    return text.encode("latin1")


#: Every global a PyTorch file may name, and what it means here. The two tensor
#: rebuilders, ``torch._utils._rebuild_tensor_v2`` and ``_rebuild_parameter``, are
#: :class:`_RestrictedUnpickler`'s own methods, since they need the file's storages.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch", "Size"): tuple,  # torch.Size((2, 3)) is a tuple subclass
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "complex"): complex,
    ("_codecs", "encode"): _bytes_from_latin1,
    **{("torch", name): StorageType(name) for name in STORAGE_DTYPES},
}
_REBUILDERS = ("_rebuild_tensor_v2", "_rebuild_parameter")


class _Storage:
    """One ``data/N`` entry as a flat numpy array, plus where it was saved."""

    def __init__(self, array: np.ndarray, location: str) -> None:
        self.array = array
        self.location = location


class _RestrictedUnpickler(pickle._Unpickler):
    """Python's unpickler with globals looked up in the allow-list and ``BUILD`` fenced in.

    The pure-Python unpickler is used because its opcode table can be changed; the
    pickles it reads hold only the tree's structure (the numbers are in ``data/N``).
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, stream: IO[bytes], archive: _Archive, place: Placer) -> None:
        super().__init__(stream, encoding="utf-8")
        self.archive = archive
        self.place = place
        self.storages: dict[tuple[str, str], _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        module = "builtins" if module == "__builtin__" else module
        if module == "torch._utils" and name in _REBUILDERS:
            return getattr(self, name)
        if (module, name) in ALLOWED_GLOBALS:
            return ALLOWED_GLOBALS[(module, name)]
        raise pickle.UnpicklingError(
            f"refusing to load '{module}.{name}' from {self.archive.name}: only tensors, "
            "OrderedDicts and plain containers are allowed"
        )

    def _load_build(self) -> None:
        state, target = self.stack[-1], self.stack[-2]
        if (
            type(target) is not OrderedDict
            or not isinstance(state, dict)
            or not all(isinstance(key, str) for key in state)
        ):
            raise pickle.UnpicklingError(
                f"refusing to set attributes of a {type(target).__name__} from "
                f"{self.archive.name}: only an OrderedDict's metadata may be set"
            )
        self.stack.pop()
        # Into __dict__, not setattr: a key such as "__class__" stays a plain entry.
        vars(target).update(state)

    dispatch[pickle.BUILD[0]] = _load_build

    def persistent_load(self, pid: Any) -> _Storage:
        """``("storage", storage type, key, location, numel)`` -> the storage's numbers."""
        if not (
            isinstance(pid, tuple)
            and len(pid) == 5
            and pid[0] == "storage"
            and isinstance(pid[1], StorageType)
            and isinstance(pid[2], str)
            and isinstance(pid[3], str)
            and _is_count(pid[4])
        ):
            raise pickle.UnpicklingError(
                f"{self.archive.name}: unexpected persistent id {pid!r}; expected "
                "('storage', torch.<Type>Storage, key, location, numel)"
            )
        _, storage_type, key, location, numel = pid
        cache_key = (key, storage_type.name)
        if cache_key not in self.storages:
            array = self.archive.storage(key, storage_type, numel)
            self.storages[cache_key] = _Storage(array, location)
        return self.storages[cache_key]

    def _rebuild_tensor_v2(
        self,
        storage: _Storage,
        storage_offset: int,
        size: tuple[int, ...],
        stride: tuple[int, ...],
        requires_grad: bool,
        backward_hooks: Any,
        metadata: Any = None,
    ) -> Tensor:
        if not isinstance(storage, _Storage):
            raise pickle.UnpicklingError(f"{self.archive.name}: a tensor without a storage")
        if metadata:
            raise pickle.UnpicklingError(
                f"{self.archive.name}: tensor metadata {metadata!r} (conjugate/negative views) "
                "is not supported"
            )
        array = _strided_view(storage.array, storage_offset, size, stride, self.archive.name)
        tensor = self.place(Tensor._make(array, "cpu", False), storage.location)
        if requires_grad is True:
            tensor.requires_grad_(True)
        return tensor

    def _rebuild_parameter(self, data: Tensor, requires_grad: bool, backward_hooks: Any) -> Any:
        from minigrad.nn.parameter import Parameter

        if not isinstance(data, Tensor):
            raise pickle.UnpicklingError(f"{self.archive.name}: a Parameter without a tensor")
        # _make keeps the storage (Parameter(...) would copy it and untie shared weights).
        parameter = Parameter._make(data.detach()._data, data.device, False)
        return parameter.requires_grad_(requires_grad is True)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _strided_view(
    flat: np.ndarray, offset: Any, size: Any, stride: Any, name: str
) -> np.ndarray:
    """``flat[offset + sum(i_k * stride_k)]`` as an array of ``size``, after bounds checks.

    A strided view reads raw memory, so the numbers come from the untrusted file are
    checked first: every element must lie inside the storage.
    """
    if not (
        _is_count(offset)
        and isinstance(size, tuple)
        and isinstance(stride, tuple)
        and len(size) == len(stride)
        and all(_is_count(n) for n in size + stride)
    ):
        raise pickle.UnpicklingError(
            f"{name}: malformed tensor layout offset={offset!r} size={size!r} stride={stride!r}"
        )
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    empty = 0 in size
    if offset > flat.size or (not empty and last >= flat.size):
        raise pickle.UnpicklingError(
            f"{name}: tensor of size {size} (offset {offset}, stride {stride}) reaches past "
            f"its storage of {flat.size} elements"
        )
    if empty:
        return np.zeros(size, flat.dtype)
    return np.lib.stride_tricks.as_strided(
        flat[offset:], shape=size, strides=[s * flat.itemsize for s in stride]
    )


class _Archive:
    """The zip file, its folder prefix and byte order; hands out storages as arrays."""

    def __init__(self, zipped: zipfile.ZipFile, name: str) -> None:
        self.zipped = zipped
        self.name = name
        self.prefix = torch_prefix(zipped)
        byteorder = self.record("byteorder", b"little").decode("ascii", "replace")
        if byteorder not in ("little", "big"):
            raise ValueError(f"{name}: byteorder record is {byteorder!r}, not 'little' or 'big'")
        self.byteorder = "<" if byteorder == "little" else ">"

    def record(self, name: str, default: bytes | None = None) -> bytes:
        try:
            return self.zipped.read(self.prefix + name)
        except KeyError:
            if default is None:
                raise ValueError(f"{self.name}: PyTorch archive lacks {name!r}") from None
            return default

    def storage(self, key: str, storage_type: StorageType, numel: int) -> np.ndarray:
        if not re.fullmatch(r"\w+", key):
            raise pickle.UnpicklingError(f"{self.name}: bad storage key {key!r}")
        raw = bytearray(self.record(f"data/{key}"))  # bytearray: loaded tensors are writable
        dtype = storage_type.dtype.newbyteorder(self.byteorder)
        if len(raw) < numel * dtype.itemsize:
            raise pickle.UnpicklingError(
                f"{self.name}: storage {key} holds {len(raw)} bytes, fewer than its "
                f"{numel} {storage_type.name} elements need"
            )
        array = np.frombuffer(raw, dtype=dtype, count=numel)
        if storage_type.name == "BFloat16Storage":
            # bfloat16 is the top half of a float32: shifting the bits back is exact.
            return (array.astype(np.uint32) << 16).view(np.float32)
        return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def torch_prefix(zipped: zipfile.ZipFile) -> str:
    """The folder (``"archive/"``) holding ``data.pkl``; ``""`` if this is no PyTorch archive."""
    for name in zipped.namelist():
        folder, _, leaf = name.rpartition("/")
        if leaf == "data.pkl" and folder and "/" not in folder:
            return folder + "/"
    return ""


def load(source: str | os.PathLike[str] | IO[bytes], place: Placer) -> Any:
    """Read a ``torch.save`` zip archive; ``place`` puts each tensor on its device."""
    name = os.fspath(source) if isinstance(source, str | os.PathLike) else repr(source)
    try:
        with zipfile.ZipFile(source) as zipped:
            archive = _Archive(zipped, name)
            with zipped.open(archive.prefix + "data.pkl") as stream:
                return _RestrictedUnpickler(stream, archive, place).load()
    except (zipfile.BadZipFile, EOFError, KeyError) as error:
        raise ValueError(
            f"{name}: not a readable PyTorch checkpoint (damaged or truncated: {error})"
        ) from None
