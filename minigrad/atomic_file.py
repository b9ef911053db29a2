"""Write a file so that readers see the old file or the whole new one, never a torn one.

The new contents go to a temporary file in the same folder; it is flushed and fsynced,
given the permissions a plain ``open(path, "w")`` would have created, and renamed over
``path`` (``os.replace`` is atomic on POSIX and Windows). The folder is fsynced too, so
the rename itself survives a power cut. A run killed mid-write leaves at most a stray
``.<name>.*.tmp`` beside the old file, which is still intact (``minigrad.runs`` removes
such strays when it next opens the run folder). A failed write (disk full: ``ENOSPC``,
file-size limit: ``EFBIG``) removes its temporary file and leaves ``path`` as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def write_atomically(
    path: str | os.PathLike[str], write: Callable[[IO[Any]], None], binary: bool = True
) -> None:
    """Call ``write(stream)`` on a temporary file beside ``path``, then rename it over ``path``.

    ``binary`` picks the stream: bytes (``"wb"``) or UTF-8 text (``"w"``).
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        # mkstemp would name its temporary file, which the caller never asked for.
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(f"cannot write {path}: folder {folder} {problem}")
    handle, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if binary:
            stream = os.fdopen(handle, "wb")
        else:
            stream = os.fdopen(handle, "w", encoding="utf-8")
        with stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(temp_name, default_file_mode())
        os.replace(temp_name, path)
    except OSError as error:
        Path(temp_name).unlink(missing_ok=True)
        if error.filename is None and error.errno:  # a stream write names no file
            raise type(error)(error.errno, error.strerror, str(path)) from None
        raise
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_folder(folder)


def default_file_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: 0o666 less the umask (mkstemp's
    files are 0o600, which would hide caches and downloads from other users)."""
    # The only portable way to read the umask is to set it and put it back.
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows has no directory handles to sync."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
