"""MNIST and Fashion-MNIST: find the IDX files on disk, or download and verify them.

``fashion_mnist(split)`` and ``mnist(split)`` return a ``TensorDataset`` of
``(images, labels)``: images float32 in [0, 1] of shape (N, 1, 28, 28) (pixel / 255),
labels int64 class indices 0..9 of shape (N,). N is 60,000 for "train", 10,000 for "test".

Each of the four files of a dataset is looked for, in this order, in

1. ``root``, when given (a folder holding the ``*-ubyte.gz`` files directly);
2. ``$MINIGRAD_DATA/<name>`` (``<name>`` is ``fashion-mnist`` or ``mnist``);
3. the user cache, ``$XDG_CACHE_HOME/minigrad/<name>`` or ``~/.cache/minigrad/<name>``;
4. the folder a system package installs (Debian's ``dataset-fashion-mnist`` puts
   Fashion-MNIST in ``/usr/share/datasets/fashion-mnist``; Debian has no MNIST package).

A file found nowhere is downloaded (unless ``download=False``) into the first of 1-3 that
applies, from ``base_url``, else ``$MINIGRAD_FASHION_MNIST_URL`` / ``$MINIGRAD_MNIST_URL``,
else the dataset's canonical mirrors in turn, and kept only if its SHA-256 matches.
Decoded arrays are cached as ``.npy`` in that same folder: reading the 60,000 training
images from ``.npy`` takes ~0.02 s against ~0.3 s to gunzip and parse the IDX file.

Files found on disk are checked for structure (IDX header, exact length, shapes, counts,
label range), not for checksum: Debian re-packs the gzip wrappers (same IDX content,
different gzip header), so their bytes legitimately differ from the mirrors'.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minigrad.atomic_file import default_file_mode
from minigrad.data.dataset import TensorDataset
from minigrad.data.download import DownloadError, download_file
from minigrad.data.idx import IdxFormatError, read_idx
from minigrad.tensor import Tensor

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


@dataclass(frozen=True)
class IdxDatasetSpec:
    """Everything needed to find, fetch and check one MNIST-layout dataset."""

    name: str  # folder name under $MINIGRAD_DATA and the user cache
    files: dict[str, tuple[str, str]]  # split -> (images file, labels file)
    sha256: dict[str, str]  # file name -> SHA-256 of the file as the mirrors serve it
    examples: dict[str, int]  # split -> number of examples
    mirrors: tuple[str, ...]  # base URLs tried in order
    url_env: str  # environment variable that replaces the mirrors
    system_dir: Path | None = None  # where a system package installs the files
    image_size: tuple[int, int] = (28, 28)
    num_classes: int = 10


_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_SPLIT_EXAMPLES = {"train": 60_000, "test": 10_000}

# SHA-256 of the upstream files. Checked here byte for byte: the Debian files' deflate
# streams, wrapped in the upstream gzip header (original file name, mtime 2017-08-31),
# rebuild files with these SHA-256 sums and the MD5 sums published in the upstream README.
FASHION_MNIST = IdxDatasetSpec(
    name="fashion-mnist",
    files=_SPLIT_FILES,
    sha256={
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
        ),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
        ),
    },
    examples=_SPLIT_EXAMPLES,
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    url_env="MINIGRAD_FASHION_MNIST_URL",
    system_dir=Path("/usr/share/datasets/fashion-mnist"),
)

# SHA-256 of the original MNIST files as published with the mirrors' download code
# (no copy of MNIST exists on this machine to hash).
MNIST = IdxDatasetSpec(
    name="mnist",
    files=_SPLIT_FILES,
    sha256={
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
        ),
    },
    examples=_SPLIT_EXAMPLES,
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    url_env="MINIGRAD_MNIST_URL",
)


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/minigrad``, or ``~/.cache/minigrad`` when that is unset."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "minigrad"


def search_dirs(spec: IdxDatasetSpec, root: str | os.PathLike[str] | None) -> list[Path]:
    """The folders searched for ``spec``'s files, in lookup order."""
    folders = [Path(root)] if root is not None else []
    if os.environ.get("MINIGRAD_DATA"):
        folders.append(Path(os.environ["MINIGRAD_DATA"]) / spec.name)
    folders.append(user_cache_dir() / spec.name)
    if spec.system_dir is not None:
        folders.append(spec.system_dir)
    return folders


def load_idx_dataset(
    spec: IdxDatasetSpec,
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    base_url: str | None = None,
    progress: bool = True,
) -> TensorDataset:
    """Load one split of ``spec`` as ``TensorDataset(images, labels)`` (see module docs)."""
    if split not in spec.files:
        raise ValueError(f"split must be one of {sorted(spec.files)}, got {split!r}")
    folders = search_dirs(spec, root)
    # The first folder that is the user's own (not a system folder) receives downloads
    # and the decoded-array cache.
    home = folders[0]
    images_file, labels_file = spec.files[split]
    paths = [
        _find_or_fetch(spec, name, folders, home, download, base_url, progress)
        for name in (images_file, labels_file)
    ]
    images = _decoded(paths[0], home, ndim=3)
    labels = _decoded(paths[1], home, ndim=1)
    _check_split(spec, split, paths, images, labels)
    height, width = spec.image_size
    # The Tensor constructor copies while converting uint8 -> float32; dividing that fresh
    # array in place then saves a second pass over the 188 MB of training images.
    pixels = Tensor(images.reshape(len(images), 1, height, width), dtype=np.float32)
    pixels._data /= np.float32(255)
    return TensorDataset(pixels, labels.astype(np.int64))


def fashion_mnist(
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    base_url: str | None = None,
    progress: bool = True,
) -> TensorDataset:
    """Fashion-MNIST ``split`` ("train" or "test") as ``TensorDataset(images, labels)``.

    images: float32 (N, 1, 28, 28) in [0, 1]; labels: int64 (N,) indexing
    ``FASHION_MNIST_CLASSES``. Lookup order and download rules: see this module's docs.
    """
    return load_idx_dataset(FASHION_MNIST, split, root, download, base_url, progress)


def mnist(
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    base_url: str | None = None,
    progress: bool = True,
) -> TensorDataset:
    """MNIST handwritten digits ``split`` as ``TensorDataset(images, labels)``.

    images: float32 (N, 1, 28, 28) in [0, 1]; labels: int64 (N,) digits 0..9.
    """
    return load_idx_dataset(MNIST, split, root, download, base_url, progress)


def _find_or_fetch(
    spec: IdxDatasetSpec,
    name: str,
    folders: list[Path],
    home: Path,
    download: bool,
    base_url: str | None,
    progress: bool,
) -> Path:
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    searched = ", ".join(str(folder) for folder in folders)
    if not download:
        raise FileNotFoundError(
            f"{spec.name}: {name} not found in {searched}, and download=False. Put the "
            "files in one of those folders"
            + (" or install the Debian package dataset-fashion-mnist" if spec.system_dir else "")
        )
    bases = _base_urls(spec, base_url)
    failures = []
    for base in bases:
        url = base.rstrip("/") + "/" + name
        try:
            return download_file(url, home / name, spec.sha256[name], progress=progress)
        except DownloadError as error:
            failures.append(str(error))
    raise DownloadError(
        f"{spec.name}: {name} not found in {searched} and every download failed:\n  "
        + "\n  ".join(failures)
    )


def _base_urls(spec: IdxDatasetSpec, base_url: str | None) -> tuple[str, ...]:
    if base_url is not None:
        return (base_url,)
    if os.environ.get(spec.url_env):
        return (os.environ[spec.url_env],)
    return spec.mirrors


def _decoded(path: Path, cache_folder: Path, ndim: int) -> np.ndarray:
    """The uint8 array in the IDX file ``path``, via a ``.npy`` copy in ``cache_folder``.

    The ``.npy`` is written with the IDX file's modification time (to the nanosecond) and
    used only while the two times are equal and it holds a uint8 array of the right rank;
    otherwise it is rebuilt. Equality, not "newer than": an IDX file replaced by one with
    an *older* time (``cp -p``, an unpacked archive) must not be served from the cache.
    """
    cached = cache_folder / (path.name.removesuffix(".gz") + ".npy")
    source_time = path.stat().st_mtime_ns
    if cached.is_file() and cached.stat().st_mtime_ns == source_time:
        try:
            array = np.load(cached, allow_pickle=False)
        except (OSError, ValueError):
            array = None  # unreadable cache entry: fall through and rebuild it
        if array is not None and array.dtype == np.uint8 and array.ndim == ndim:
            return array
    array = read_idx(path)
    if array.dtype != np.uint8 or array.ndim != ndim:
        raise IdxFormatError(
            f"{path}: expected a {ndim}-d uint8 IDX array, found {array.ndim}-d {array.dtype}"
        )
    _write_npy_atomically(cached, array, source_time)
    return array


def _write_npy_atomically(target: Path, array: np.ndarray, mtime_ns: int) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except OSError:
        return  # the cache is only a speed-up: a read-only home folder just goes without
    try:
        with os.fdopen(handle, "wb") as stream:
            np.save(stream, array, allow_pickle=False)
        os.chmod(temp_name, default_file_mode())  # readable like any file, not mkstemp's 0600
        os.utime(temp_name, ns=(mtime_ns, mtime_ns))  # ties the cache to this IDX file
        os.replace(temp_name, target)
    except OSError:
        Path(temp_name).unlink(missing_ok=True)  # e.g. disk full: skip the speed-up
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _check_split(
    spec: IdxDatasetSpec, split: str, paths: list[Path], images: np.ndarray, labels: np.ndarray
) -> None:
    expected = spec.examples[split]
    if images.shape != (expected, *spec.image_size):
        raise IdxFormatError(
            f"{paths[0]}: expected {spec.name} {split} images of shape "
            f"{(expected, *spec.image_size)}, found {images.shape}"
        )
    if labels.shape != (expected,):
        raise IdxFormatError(
            f"{paths[1]}: expected {expected} {spec.name} {split} labels, found {labels.shape}"
        )
    if labels.max() >= spec.num_classes:
        raise IdxFormatError(
            f"{paths[1]}: labels must lie in 0..{spec.num_classes - 1}, found {labels.max()}"
        )
