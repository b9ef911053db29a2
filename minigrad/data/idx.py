"""The IDX file format (the one MNIST and Fashion-MNIST ship in), read into numpy arrays.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the
values in C order, big-endian::

    byte 0-1   0x00 0x00
    byte 2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                          0x0D float32, 0x0E float64
    byte 3     number of dimensions d
    then       d x uint32 sizes, then prod(sizes) values

Files may be gzip-compressed (``.gz``); the reader recognises gzip by its own magic bytes,
not by the file name. Every way a file can be short or malformed is reported as an
``IdxFormatError`` naming the file and what was expected.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

# type code -> big-endian numpy dtype of the stored values
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"


class IdxFormatError(ValueError):
    """An IDX file (or its gzip wrapper) is truncated, corrupt or not IDX at all."""


def parse_idx(buffer: bytes | bytearray | memoryview, source: str = "<bytes>") -> np.ndarray:
    """Decode the uncompressed bytes of one IDX file into an array in native byte order.

    ``source`` names the file in error messages. The data section must hold exactly
    ``prod(dims) * itemsize`` bytes: fewer means truncated, more means corrupt.
    """
    view = memoryview(buffer).cast("B")
    if len(view) < 4:
        raise IdxFormatError(
            f"{source}: truncated IDX header: {len(view)} bytes, expected at least 4 (magic number)"
        )
    if view[0] != 0 or view[1] != 0:
        raise IdxFormatError(
            f"{source}: bad IDX magic number 0x{bytes(view[:4]).hex()}: expected "
            "0x0000 followed by a type code and a dimension count (is this an IDX file?)"
        )
    type_code, ndim = view[2], view[3]
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
        raise IdxFormatError(
            f"{source}: unknown IDX type code 0x{type_code:02X}, expected one of {known}"
        )
    if ndim == 0:
        raise IdxFormatError(f"{source}: IDX header declares 0 dimensions, expected >= 1")
    header_size = 4 + 4 * ndim
    if len(view) < header_size:
        raise IdxFormatError(
            f"{source}: truncated IDX header: {len(view)} bytes, expected {header_size} "
            f"for {ndim} dimension sizes"
        )
    dims = tuple(int(d) for d in np.frombuffer(view, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[type_code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(view) - header_size
    if found < expected:
        raise IdxFormatError(
            f"{source}: truncated IDX data: shape {dims} of {dtype.name} needs {expected} "
            f"bytes, found {found}"
        )
    if found > expected:
        raise IdxFormatError(
            f"{source}: corrupt IDX file: {found - expected} bytes past the end of the "
            f"data for shape {dims} of {dtype.name}"
        )
    values = np.frombuffer(view, dtype=dtype, count=expected // dtype.itemsize, offset=header_size)
    # astype copies into a writable array in native byte order (frombuffer views are read-only).
    return values.astype(dtype.newbyteorder("="), copy=True).reshape(dims)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, gzip-compressed or raw, into a numpy array.

    Raises ``FileNotFoundError`` if ``path`` does not exist and ``IdxFormatError`` if the
    gzip stream or the IDX content is truncated or corrupt.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except EOFError as error:
            raise IdxFormatError(f"{path}: truncated gzip stream ({error})") from error
        except (OSError, zlib.error) as error:
            raise IdxFormatError(f"{path}: corrupt gzip stream ({error})") from error
    return parse_idx(raw, str(path))
