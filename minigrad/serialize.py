"""``save`` / ``load``: nested containers of tensors and numbers in one ``.npz``, no pickle.

(``.pt`` / ``.pth`` paths get PyTorch's zip format instead: ``torch_format.py`` reads it
through an allow-list, ``torch_format_writer.py`` writes it; ``load`` tells the kinds apart
by their contents, not their names.)

A saved file is an ordinary numpy ``.npz`` archive that ``np.load(path,
allow_pickle=False)`` opens. It holds

* ``__minigrad__``: UTF-8 JSON (as a uint8 array) describing the object tree, where each
  node is tagged with its kind, e.g. ``{"kind": "tensor", "array": "a0",
  "requires_grad": false}`` or ``{"kind": "dict", "items": [[key, node], ...]}``;
* ``a0``, ``a1``, ...: one entry per tensor or numpy array, in its own dtype.

Nothing is ever unpickled, so loading a file cannot run code. Supported values: dicts
(str or int keys, order kept), lists, tuples, Tensors, numpy arrays and numpy scalars of
numeric or bool dtype, and int, float, bool, str, None. Tensors come back on the CPU.

Writes are atomic: the archive goes to a temporary file in the target folder, is
flushed and fsync'ed, then renamed over ``path``; a failure at any point leaves an
existing file at ``path`` untouched.
"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from minigrad import torch_format, torch_format_writer
from minigrad.atomic_file import write_atomically
from minigrad.map_location import placer

FORMAT_NAME = "minigrad.save"
FORMAT_VERSION = 1
_STRUCTURE_KEY = "__minigrad__"
TORCH_SUFFIXES = (".pt", ".pth")


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of Tensors, arrays, numbers) to ``path``.

    ``path`` is written exactly as given (no ``.npz`` suffix is added). A ``.pt`` or
    ``.pth`` path gets PyTorch's zip format instead, which ``torch.load(path,
    weights_only=True)`` reads. Raises ``TypeError`` naming the key path of the first
    value that cannot be stored.
    """
    if Path(path).suffix.lower() in TORCH_SUFFIXES:
        torch_format_writer.save(obj, path)
        return
    arrays: dict[str, np.ndarray] = {}
    root = _encode(obj, "obj", arrays)
    header = json.dumps(
        {"format": FORMAT_NAME, "version": FORMAT_VERSION, "root": root},
        ensure_ascii=False,
        allow_nan=True,
    )
    entries = {_STRUCTURE_KEY: np.frombuffer(header.encode("utf-8"), dtype=np.uint8)}
    entries.update(arrays)
    _write_atomically(Path(path), entries)


class UnreadableArchive(ValueError):
    """A file ``load`` cannot read: its message names the file and the problem in one line."""


_ZIP_MAGIC = b"PK\x03\x04"
_NPY_MAGIC = b"\x93NUMPY"


def load(
    f: str | os.PathLike[str] | IO[bytes], map_location: Any = None, *, weights_only: bool = True
) -> Any:
    """Read a checkpoint written by ``save`` or by ``torch.save``, whatever its suffix.

    ``map_location`` places the tensors as in PyTorch (see ``minigrad/map_location.py``):
    ``None`` (where they were saved; our ``.npz`` files hold CPU tensors), a device, a
    dict ``{saved location: device}`` or a callable. Nothing is ever unpickled freely:
    PyTorch files go through an allow-list of tensors, OrderedDicts and plain containers,
    which is PyTorch's ``weights_only=True``. ``weights_only=False`` is accepted for
    scripts that pass it, but reads the same way: a file that needs more is refused with
    an error naming the global it asked for.
    """
    if not isinstance(weights_only, bool):
        raise TypeError(f"weights_only must be True or False, got {weights_only!r}")
    place = placer(map_location)
    kind = _file_kind(f)
    if kind == "torch":
        return torch_format.load(f, place)
    if kind == "legacy torch":
        raise UnreadableArchive(
            f"{f} is in PyTorch's legacy (pre-1.6) format, which minigrad cannot read; "
            "re-save it with torch.save(torch.load(path), path) in a current PyTorch"
        )
    return _place_tensors(_load_npz(f), place)


def _file_kind(f: str | os.PathLike[str] | IO[bytes]) -> str:
    """"torch" (a zip with a data.pkl), "legacy torch" (a bare pickle) or "npz" (the rest)."""
    try:
        magic = _peek(f, len(_ZIP_MAGIC))
    except OSError:
        return "npz"  # the npz reader reports the missing file with its own message
    if magic[:1] == pickle.PROTO:
        return "legacy torch"
    if magic != _ZIP_MAGIC:
        return "npz"
    start = f.tell() if hasattr(f, "seek") else 0
    try:
        with zipfile.ZipFile(f) as zipped:
            return "torch" if torch_format.torch_prefix(zipped) else "npz"
    except zipfile.BadZipFile:
        # A damaged archive: its name is all that is left to say which reader should report it.
        named_torch = Path(getattr(f, "name", f)).suffix.lower() in TORCH_SUFFIXES
        return "torch" if named_torch else "npz"
    finally:
        if hasattr(f, "seek"):
            f.seek(start)


def _peek(f: str | os.PathLike[str] | IO[bytes], count: int) -> bytes:
    """The first ``count`` bytes of a path or (left where it was) an open binary file."""
    if hasattr(f, "read"):
        start = f.tell()
        magic = f.read(count)
        f.seek(start)
        return magic
    with open(f, "rb") as stream:
        return stream.read(count)


def _place_tensors(value: Any, place: Callable[[Any, str], Any]) -> Any:
    """Every Tensor in the tree put where ``map_location`` says (``.npz`` tensors are CPU)."""
    from minigrad.tensor import Tensor

    if isinstance(value, Tensor):
        placed = place(value.detach(), "cpu")
        return placed.requires_grad_(True) if value.requires_grad else placed
    if isinstance(value, dict):
        return type(value)((key, _place_tensors(item, place)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return type(value)(_place_tensors(item, place) for item in value)
    return value


def _load_npz(f: str | os.PathLike[str] | IO[bytes]) -> Any:
    """Read an object written by ``save`` to a ``.npz`` file; Tensors come back on the CPU.

    A file that is not such an archive (a truncated or overwritten one, a ``.npy``, any
    other file) raises ``UnreadableArchive`` (a ``ValueError``) naming the file and what
    is wrong with it; a missing file raises ``FileNotFoundError``.
    """
    name = getattr(f, "name", "<file object>") if hasattr(f, "read") else f
    magic = _peek(f, len(_NPY_MAGIC))
    if magic.startswith(_NPY_MAGIC):
        raise UnreadableArchive(
            f"{name} is a single-array .npy file, not a minigrad.save archive "
            "(read it with numpy.load)"
        )
    if not magic.startswith(_ZIP_MAGIC):
        raise UnreadableArchive(f"{name} is not a minigrad.save archive (not a zip/.npz file)")
    try:
        with np.load(f, allow_pickle=False) as archive:
            if _STRUCTURE_KEY not in archive.files:
                raise UnreadableArchive(
                    f"{name} is an .npz archive but not one written by minigrad.save "
                    f"(no {_STRUCTURE_KEY!r} entry)"
                )
            header = json.loads(archive[_STRUCTURE_KEY].tobytes().decode("utf-8"))
            if header.get("format") != FORMAT_NAME or header.get("version") != FORMAT_VERSION:
                raise UnreadableArchive(
                    f"{name}: unsupported format {header.get('format')!r} version "
                    f"{header.get('version')!r}; this minigrad reads {FORMAT_NAME!r} "
                    f"version {FORMAT_VERSION}"
                )
            return _decode(header["root"], archive)
    except UnreadableArchive:
        raise
    # What numpy, zipfile, zlib and json raise on damaged bytes: a truncated file, a
    # corrupted entry, a structure naming arrays that are not there, absurd nesting.
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        RecursionError,
        UnicodeDecodeError,
    ) as error:
        problem = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UnreadableArchive(
            f"{name} is damaged (truncated or overwritten?): {type(error).__name__}: {problem}"
        ) from None


def _encode(value: Any, key_path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The JSON node for ``value``; arrays are moved into ``arrays`` under fresh names."""
    from minigrad.tensor import Tensor

    # bool before int: bool is a subclass of int but must come back as bool.
    if value is None or isinstance(value, bool | str):
        return {"kind": "value", "value": value}
    if isinstance(value, int):
        return {"kind": "value", "value": value}
    if isinstance(value, float):
        # JSON has no NaN/inf literals that every reader accepts: keep floats as repr text.
        return {"kind": "float", "value": repr(value)}
    if isinstance(value, Tensor):
        array = _storable(value.detach().cpu().numpy(), key_path)
        return {
            "kind": "tensor",
            "array": _add_array(arrays, array),
            "requires_grad": bool(value.requires_grad),
        }
    if isinstance(value, np.ndarray):
        return {"kind": "ndarray", "array": _add_array(arrays, _storable(value, key_path))}
    if isinstance(value, np.generic):
        array = _storable(np.asarray(value), key_path)
        return {"kind": "numpy_scalar", "array": _add_array(arrays, array)}
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise TypeError(
                    f"minigrad.save: dict key {key!r} at {key_path} is a "
                    f"{type(key).__name__}; keys must be str or int"
                )
            items.append([key, _encode(item, f"{key_path}[{key!r}]", arrays)])
        return {"kind": "dict", "items": items}
    if isinstance(value, list | tuple):
        kind = "list" if isinstance(value, list) else "tuple"
        items = [_encode(item, f"{key_path}[{i}]", arrays) for i, item in enumerate(value)]
        return {"kind": kind, "items": items}
    raise TypeError(
        f"minigrad.save: cannot store {type(value).__name__} at {key_path}; supported are "
        "dict, list, tuple, Tensor, numpy array or scalar, int, float, bool, str and None"
    )


def _storable(array: np.ndarray, key_path: str) -> np.ndarray:
    # Object, void and other non-numeric dtypes would need pickle to round-trip.
    if array.dtype.kind not in "biufcUS":
        raise TypeError(
            f"minigrad.save: array at {key_path} has dtype {array.dtype}; only bool, "
            "integer, float, complex and fixed-width string dtypes can be stored without pickle"
        )
    return array


def _add_array(arrays: dict[str, np.ndarray], array: np.ndarray) -> str:
    name = f"a{len(arrays)}"
    arrays[name] = array
    return name


def _decode(node: dict[str, Any], archive: Any) -> Any:
    from minigrad.tensor import Tensor

    kind = node["kind"]
    if kind == "value":
        return node["value"]
    if kind == "float":
        return float(node["value"])
    if kind == "tensor":
        array = archive[node["array"]]
        return Tensor(array, dtype=array.dtype, requires_grad=node["requires_grad"])
    if kind == "ndarray":
        return archive[node["array"]]
    if kind == "numpy_scalar":
        return archive[node["array"]][()]
    if kind == "dict":
        return {key: _decode(item, archive) for key, item in node["items"]}
    if kind in ("list", "tuple"):
        items = [_decode(item, archive) for item in node["items"]]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"minigrad.load: unknown node kind {kind!r} in the archive's structure")


def _write_atomically(path: Path, entries: dict[str, np.ndarray]) -> None:
    """``np.savez`` into a temp file beside ``path``, then rename it over ``path``."""
    # No allow_pickle argument (numpy < 2.1 would store it as an entry): _storable
    # already refused the object arrays that are the only thing savez pickles.
    write_atomically(path, lambda stream: np.savez(stream, **entries))
