"""``save`` / ``load``: nested containers of tensors and numbers in one ``.npz``, no pickle.

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
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.atomic_file import write_atomically

FORMAT_NAME = "minigrad.save"
FORMAT_VERSION = 1
_STRUCTURE_KEY = "__minigrad__"


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of Tensors, arrays, numbers) to ``path``.

    ``path`` is written exactly as given (no ``.npz`` suffix is added). Raises
    ``TypeError`` naming the key path of the first value that cannot be stored.
    """
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


def load(path: str | os.PathLike[str]) -> Any:
    """Read an object written by ``save``; Tensors come back as CPU Tensors.

    A file that is not such an archive (a truncated or overwritten one, a ``.npy``, any
    other file) raises ``UnreadableArchive`` (a ``ValueError``) naming the file and what
    is wrong with it; a missing file raises ``FileNotFoundError``.
    """
    with open(path, "rb") as stream:
        magic = stream.read(len(_NPY_MAGIC))
    if magic.startswith(_NPY_MAGIC):
        raise UnreadableArchive(
            f"{path} is a single-array .npy file, not a minigrad.save archive "
            "(read it with numpy.load)"
        )
    if not magic.startswith(_ZIP_MAGIC):
        raise UnreadableArchive(f"{path} is not a minigrad.save archive (not a zip/.npz file)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _STRUCTURE_KEY not in archive.files:
                raise UnreadableArchive(
                    f"{path} is an .npz archive but not one written by minigrad.save "
                    f"(no {_STRUCTURE_KEY!r} entry)"
                )
            header = json.loads(archive[_STRUCTURE_KEY].tobytes().decode("utf-8"))
            if header.get("format") != FORMAT_NAME or header.get("version") != FORMAT_VERSION:
                raise UnreadableArchive(
                    f"{path}: unsupported format {header.get('format')!r} version "
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
            f"{path} is damaged (truncated or overwritten?): {type(error).__name__}: {problem}"
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
