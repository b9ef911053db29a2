"""Fetch one file over HTTP(S), verify its SHA-256, and only then put it in place.

The bytes go to a temporary file in the destination folder while they are hashed; the
file is renamed onto its final name (atomic on POSIX) only when the length and the
checksum are right. A truncated or corrupt download therefore never sits in the cache
where a later run would trust it.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from minigrad.atomic_file import default_file_mode

_CHUNK_BYTES = 1 << 16


class DownloadError(OSError):
    """A download failed, came back short, or did not match its expected SHA-256."""


def sha256_of_file(path: str | os.PathLike[str]) -> str:
    """The hex SHA-256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(
    url: str,
    destination: str | os.PathLike[str],
    sha256: str,
    *,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``destination`` if its bytes hash to ``sha256``.

    Raises ``DownloadError`` (leaving nothing at ``destination``) when the server fails,
    sends fewer bytes than its Content-Length, or the SHA-256 of what arrived differs from
    ``sha256``. Shows a tqdm progress bar on stderr unless ``progress=False``.
    """
    expected = sha256.lower()
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        raise ValueError(f"sha256 must be 64 hex digits, got {sha256!r}")
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
    )
    try:
        with os.fdopen(handle, "wb") as temp_file:
            actual, received = _fetch_into(url, temp_file, progress, timeout)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        if actual != expected:
            raise DownloadError(
                f"checksum mismatch for {url}: expected SHA-256 {expected}, got {actual} "
                f"({received} bytes received); the file is corrupt or the mirror serves "
                "different bytes, so it was not saved"
            )
        os.chmod(temp_name, default_file_mode())  # mkstemp's 0600 would hide it from others
        os.replace(temp_name, destination)
    except BaseException:
        # Whatever went wrong (including Ctrl-C), a half-written file must not survive.
        Path(temp_name).unlink(missing_ok=True)
        raise
    return destination


def _fetch_into(url: str, stream: BinaryIO, progress: bool, timeout: float) -> tuple[str, int]:
    """Copy the body at ``url`` into ``stream``; return (sha256 hex, bytes received)."""
    digest = hashlib.sha256()
    received = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length_header = response.headers.get("Content-Length")
            expected_length = int(length_header) if length_header is not None else None
            name = url.rsplit("/", 1)[-1]
            with tqdm(
                total=expected_length,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=f"downloading {name}",
                disable=not progress,
                leave=False,
            ) as bar:
                while True:
                    chunk = response.read(_CHUNK_BYTES)
                    if not chunk:
                        break
                    digest.update(chunk)
                    stream.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except http.client.IncompleteRead as error:
        raise DownloadError(
            f"truncated download from {url}: the connection closed after "
            f"{received + len(error.partial)} bytes, before the announced end"
        ) from error
    except (
        urllib.error.URLError,
        http.client.HTTPException,
        ConnectionError,
        TimeoutError,
    ) as error:
        raise DownloadError(f"download of {url} failed: {error}") from error
    if expected_length is not None and received != expected_length:
        raise DownloadError(
            f"truncated download from {url}: received {received} of {expected_length} bytes"
        )
    return digest.hexdigest(), received
