"""minigrad.data downloads and (Fashion-)MNIST lookup, against a loopback HTTP server."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from idx_writer import idx_bytes

import minigrad.data.idx_datasets as idx_datasets
from minigrad.data import (
    FASHION_MNIST,
    DownloadError,
    IdxFormatError,
    download_file,
    fashion_mnist,
    load_idx_dataset,
)

# ---------------------------------------------------------------------------- downloads


class LoopbackServer:
    """An HTTP server on 127.0.0.1 serving ``files``; ``truncate`` names files sent half."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.truncate: set[str] = set()
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                owner.requests.append(name)
                body = owner.files.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if name in owner.truncate:
                    body = body[: len(body) // 2]
                    self.close_connection = True
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/data/"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def server():
    loopback = LoopbackServer()
    yield loopback
    loopback.close()


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """Point the user cache at tmp_path and clear the data environment variables."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.delenv(FASHION_MNIST.url_env, raising=False)
    return tmp_path / "cache" / "minigrad"


def fake_split_files(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, bytes, bytes]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 4, 4), dtype=np.uint8)
    labels = rng.integers(0, 10, size=count, dtype=np.uint8)
    return images, labels, gzip.compress(idx_bytes(images)), gzip.compress(idx_bytes(labels))


@pytest.fixture
def fake_dataset(server):
    """A 6-train / 4-test Fashion-MNIST look-alike of 4x4 images, served by ``server``."""
    arrays, checksums = {}, {}
    for split, count, seed in [("train", 6, 0), ("test", 4, 1)]:
        images, labels, images_gz, labels_gz = fake_split_files(count, seed)
        images_name, labels_name = FASHION_MNIST.files[split]
        server.files[images_name] = images_gz
        server.files[labels_name] = labels_gz
        checksums[images_name] = hashlib.sha256(images_gz).hexdigest()
        checksums[labels_name] = hashlib.sha256(labels_gz).hexdigest()
        arrays[split] = (images, labels)
    spec = dataclasses.replace(
        FASHION_MNIST,
        sha256=checksums,
        examples={"train": 6, "test": 4},
        image_size=(4, 4),
        mirrors=(server.url,),
        system_dir=None,
    )
    return spec, arrays


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_verifies_and_caches(server, fake_dataset, clean_env):
    spec, arrays = fake_dataset
    dataset = load_idx_dataset(spec, "train", progress=False)
    images, labels = dataset.tensors
    assert images.shape == (6, 1, 4, 4) and images.dtype == np.float32
    np.testing.assert_array_equal(images.numpy()[:, 0], arrays["train"][0] / np.float32(255))
    np.testing.assert_array_equal(labels.numpy(), arrays["train"][1].astype(np.int64))
    assert labels.dtype == np.int64

    folder = clean_env / "fashion-mnist"
    assert _leftovers(folder) == [
        "train-images-idx3-ubyte.gz",
        "train-images-idx3-ubyte.npy",
        "train-labels-idx1-ubyte.gz",
        "train-labels-idx1-ubyte.npy",
    ]
    assert len(server.requests) == 2
    again = load_idx_dataset(spec, "train", progress=False)
    assert len(server.requests) == 2, "a cached file was downloaded again"
    np.testing.assert_array_equal(again.tensors[0].numpy(), images.numpy())


def test_corrupt_download_is_rejected_and_not_cached(server, fake_dataset, clean_env):
    spec, _ = fake_dataset
    name = "t10k-images-idx3-ubyte.gz"
    corrupt = bytearray(server.files[name])
    corrupt[-10] ^= 0x01
    server.files[name] = bytes(corrupt)
    with pytest.raises(DownloadError, match=f"checksum mismatch for {server.url}{name}"):
        load_idx_dataset(spec, "test", progress=False)
    assert name not in _leftovers(clean_env / "fashion-mnist")
    assert not any(n.endswith(".part") for n in _leftovers(clean_env / "fashion-mnist"))


def test_truncated_download_is_rejected_and_not_cached(server, fake_dataset, clean_env):
    spec, _ = fake_dataset
    name = "train-labels-idx1-ubyte.gz"
    server.truncate.add(name)
    with pytest.raises(DownloadError, match="truncated download"):
        load_idx_dataset(spec, "train", progress=False)
    assert name not in _leftovers(clean_env / "fashion-mnist")
    assert not any(n.endswith(".part") for n in _leftovers(clean_env / "fashion-mnist"))


def test_download_file_reports_http_errors_and_bad_checksum_argument(server, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        download_file(server.url + "missing.gz", tmp_path / "m.gz", "0" * 64, progress=False)
    assert _leftovers(tmp_path) == []
    with pytest.raises(ValueError, match="64 hex digits"):
        download_file(server.url + "missing.gz", tmp_path / "m.gz", "abc", progress=False)


def test_fashion_mnist_uses_env_url_and_lookup_order(
    server, fake_dataset, clean_env, monkeypatch, tmp_path
):
    spec, arrays = fake_dataset
    monkeypatch.setattr(idx_datasets, "FASHION_MNIST", dataclasses.replace(spec, mirrors=()))
    monkeypatch.setenv(spec.url_env, server.url)

    # Nothing on disk: downloaded from the URL in the environment into the user cache.
    test_set = fashion_mnist("test", progress=False)
    np.testing.assert_array_equal(test_set.tensors[1].numpy(), arrays["test"][1])
    assert (clean_env / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").is_file()

    # $MINIGRAD_DATA comes before the cache, and an explicit root before both.
    data_dir = tmp_path / "data" / "fashion-mnist"
    root = tmp_path / "root"
    for folder, seed in [(data_dir, 10), (root, 20)]:
        folder.mkdir(parents=True)
        images, labels, images_gz, labels_gz = fake_split_files(4, seed)
        (folder / "t10k-images-idx3-ubyte.gz").write_bytes(images_gz)
        (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(labels_gz)
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "data"))
    from_data_dir = fashion_mnist("test", download=False)
    np.testing.assert_array_equal(from_data_dir.tensors[1].numpy(), fake_split_files(4, 10)[1])
    from_root = fashion_mnist("test", root=root, download=False)
    np.testing.assert_array_equal(from_root.tensors[1].numpy(), fake_split_files(4, 20)[1])
    assert len(server.requests) == 2


def test_missing_files_without_download_name_the_folders(fake_dataset, clean_env, tmp_path):
    spec, _ = fake_dataset
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\.gz not found in"):
        load_idx_dataset(spec, "train", root=tmp_path / "nowhere", download=False)
    with pytest.raises(ValueError, match="split must be one of"):
        load_idx_dataset(spec, "validation")


def test_wrong_counts_are_reported(fake_dataset, clean_env, tmp_path):
    spec, _ = fake_dataset
    _, labels, images_gz, _ = fake_split_files(6, 0)
    _, _, _, short_labels_gz = fake_split_files(5, 0)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(images_gz)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(short_labels_gz)
    with pytest.raises(IdxFormatError, match=r"expected 6 fashion-mnist train labels"):
        load_idx_dataset(spec, "train", root=tmp_path, download=False)


def test_stale_npy_cache_is_rebuilt(fake_dataset, clean_env, tmp_path):
    spec, _ = fake_dataset
    images, labels, images_gz, labels_gz = fake_split_files(6, 0)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(images_gz)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(labels_gz)
    (tmp_path / "train-labels-idx1-ubyte.npy").write_bytes(b"not an npy file")
    dataset = load_idx_dataset(spec, "train", root=tmp_path, download=False)
    np.testing.assert_array_equal(dataset.tensors[1].numpy(), labels)
    np.testing.assert_array_equal(np.load(tmp_path / "train-labels-idx1-ubyte.npy"), labels)


def test_cache_follows_a_replaced_file_even_with_an_older_mtime(fake_dataset, clean_env, tmp_path):
    import os

    spec, _ = fake_dataset
    _, labels, images_gz, labels_gz = fake_split_files(6, 0)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(images_gz)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(labels_gz)
    load_idx_dataset(spec, "train", root=tmp_path, download=False)  # builds the .npy cache
    _, other_labels, _, other_labels_gz = fake_split_files(6, 1)
    assert not np.array_equal(labels, other_labels)
    replaced = tmp_path / "train-labels-idx1-ubyte.gz"
    replaced.write_bytes(other_labels_gz)
    os.utime(replaced, (1_000_000_000, 1_000_000_000))  # 2001: older than the cache
    dataset = load_idx_dataset(spec, "train", root=tmp_path, download=False)
    np.testing.assert_array_equal(dataset.tensors[1].numpy(), other_labels)


def test_cache_and_downloads_get_the_usual_file_mode(server, fake_dataset, clean_env):
    import os
    import stat

    spec, _ = fake_dataset
    load_idx_dataset(spec, "train", progress=False)
    mask = os.umask(0)
    os.umask(mask)
    for path in (clean_env / "fashion-mnist").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path.name


# ---------------------------------------------------------------------------- the real data


@pytest.mark.skipif(
    not all(
        (FASHION_MNIST.system_dir / name).is_file()
        for pair in FASHION_MNIST.files.values()
        for name in pair
    ),
    reason="Debian package dataset-fashion-mnist is not installed",
)
def test_real_fashion_mnist_from_debian_folder(clean_env):
    for split, count in [("train", 60_000), ("test", 10_000)]:
        images, labels = fashion_mnist(split, download=False).tensors
        assert images.shape == (count, 1, 28, 28)
        assert images.dtype == np.float32
        assert labels.shape == (count,)
        assert labels.dtype == np.int64
        pixels = images.numpy()
        assert pixels.min() == 0.0 and pixels.max() == 1.0
        # Fashion-MNIST is balanced: every class has exactly a tenth of each split.
        assert np.bincount(labels.numpy(), minlength=10).tolist() == [count // 10] * 10
