"""minigrad.data: IDX reader, datasets, DataLoader, and (Fashion-)MNIST lookup/download."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

import minigrad.data.idx_datasets as idx_datasets
from minigrad.data import (
    FASHION_MNIST,
    DataLoader,
    Dataset,
    DownloadError,
    IdxFormatError,
    TensorDataset,
    download_file,
    fashion_mnist,
    load_idx_dataset,
    parse_idx,
    read_idx,
)
from minigrad.tensor import Tensor

_TYPE_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array``: magic, big-endian uint32 dims, big-endian values."""
    header = bytes([0, 0, _TYPE_CODES[array.dtype], array.ndim])
    dims = struct.pack(f">{array.ndim}I", *array.shape)
    return header + dims + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


# ---------------------------------------------------------------------------- IDX reader


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", list(_TYPE_CODES))
def test_idx_round_trip(tmp_path, dtype, compress):
    rng = np.random.default_rng(0)
    for shape in [(7,), (3, 4, 5), (2, 1, 3, 2)]:
        if dtype.kind == "f":
            array = rng.standard_normal(shape).astype(dtype)
        else:
            info = np.iinfo(dtype)
            array = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
        path = write_idx(tmp_path / f"x{len(shape)}.idx", array, compress)
        loaded = read_idx(path)
        assert loaded.dtype == dtype.newbyteorder("=")
        assert loaded.shape == shape
        np.testing.assert_array_equal(loaded, array)
        assert loaded.flags.writeable


def test_idx_reads_big_endian_values():
    # 258 as big-endian int16 is 0x01 0x02; a little-endian misread would give 513.
    data = bytes([0, 0, 0x0B, 1]) + struct.pack(">I", 1) + bytes([0x01, 0x02])
    assert parse_idx(data).tolist() == [258]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x00\x00", "truncated IDX header"),
        (b"\x12\x34\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad IDX magic number"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "unknown IDX type code 0x07"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "truncated IDX header"),
        (b"\x00\x00\x08\x02" + struct.pack(">2I", 2, 3) + b"\x00" * 5, "needs 6 bytes, found 5"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 2) + b"\x00" * 3, "1 bytes past the end"),
    ],
)
def test_idx_rejects_malformed_content(data, message):
    with pytest.raises(IdxFormatError, match=message):
        parse_idx(data, "sample.idx")


def test_idx_rejects_truncated_and_corrupt_gzip(tmp_path):
    array = np.arange(4000, dtype=np.uint8).reshape(40, 100)
    good = gzip.compress(idx_bytes(array))

    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(IdxFormatError, match="truncated gzip stream"):
        read_idx(truncated)

    corrupt = bytearray(good)
    corrupt[len(corrupt) // 2] ^= 0xFF
    corrupt_path = tmp_path / "corrupt.gz"
    corrupt_path.write_bytes(bytes(corrupt))
    with pytest.raises(IdxFormatError, match="corrupt gzip stream|truncated"):
        read_idx(corrupt_path)


def test_idx_reports_truncated_data_in_raw_file(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(idx_bytes(np.zeros((10, 10), np.uint8))[:-7])
    with pytest.raises(IdxFormatError, match=r"short\.idx: truncated IDX data.*needs 100"):
        read_idx(path)


# ---------------------------------------------------------------------------- datasets


def test_tensor_dataset_rows_and_dtypes():
    images = np.arange(24, dtype=np.float32).reshape(6, 2, 2)
    labels = np.arange(6, dtype=np.int64)
    dataset = TensorDataset(images, labels)
    assert len(dataset) == 6
    assert all(isinstance(t, Tensor) for t in dataset.tensors)
    assert dataset.tensors[1].dtype == np.int64
    image, label = dataset[4]
    np.testing.assert_array_equal(image.numpy(), images[4])
    assert label.item() == 4


def test_tensor_dataset_rejects_mismatched_lengths_and_bad_inputs():
    with pytest.raises(ValueError, match="same first dimension.*argument 1 has 5"):
        TensorDataset(np.zeros((6, 2)), np.zeros(5))
    with pytest.raises(TypeError, match="argument 0 is a list"):
        TensorDataset([1, 2, 3])
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.array(1.0))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


class SquaresDataset(Dataset):
    """Example i is (array [i, i*i], i): exercises the item-by-item collate path."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int):
        return np.array([index, index * index], dtype=np.float32), index


def test_dataset_base_requires_len_and_getitem():
    class Incomplete(Dataset):
        pass

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()


# ---------------------------------------------------------------------------- DataLoader


def _labels_of(loader):
    return [batch[-1].numpy().tolist() for batch in loader]


def test_loader_batches_in_order_with_and_without_drop_last():
    dataset = TensorDataset(np.arange(10, dtype=np.float32)[:, None], np.arange(10))
    loader = DataLoader(dataset, batch_size=4)
    assert len(loader) == 3
    assert _labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    images, labels = next(iter(loader))
    assert isinstance(images, Tensor) and images.shape == (4, 1)
    assert labels.dtype == np.int64

    dropping = DataLoader(dataset, batch_size=4, drop_last=True)
    assert len(dropping) == 2
    assert _labels_of(dropping) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_loader_shuffle_is_a_seeded_permutation_per_epoch():
    dataset = TensorDataset(np.arange(50))
    loader = DataLoader(dataset, batch_size=8, shuffle=True, seed=123)
    first_epoch = sum(_labels_of(loader), [])
    second_epoch = sum(_labels_of(loader), [])
    assert sorted(first_epoch) == list(range(50))
    assert sorted(second_epoch) == list(range(50))
    assert first_epoch != list(range(50))
    assert first_epoch != second_epoch

    again = DataLoader(dataset, batch_size=8, shuffle=True, seed=123)
    assert sum(_labels_of(again), []) == first_epoch
    assert sum(_labels_of(again), []) == second_epoch
    other = DataLoader(dataset, batch_size=8, shuffle=True, seed=124)
    assert sum(_labels_of(other), []) != first_epoch


def test_loader_without_seed_follows_manual_seed():
    from minigrad.random import manual_seed

    dataset = TensorDataset(np.arange(40))
    manual_seed(3)
    first = sum(_labels_of(DataLoader(dataset, batch_size=5, shuffle=True)), [])
    manual_seed(3)
    repeat = sum(_labels_of(DataLoader(dataset, batch_size=5, shuffle=True)), [])
    manual_seed(4)
    other = sum(_labels_of(DataLoader(dataset, batch_size=5, shuffle=True)), [])
    assert first == repeat
    assert first != other
    assert sorted(first) == list(range(40))


def test_loader_generic_dataset_matches_tensor_dataset_fast_path():
    generic = SquaresDataset(11)
    tensors = TensorDataset(
        np.array([generic[i][0] for i in range(11)]), np.arange(11, dtype=np.int64)
    )
    slow = list(DataLoader(generic, batch_size=3, shuffle=True, seed=7))
    fast = list(DataLoader(tensors, batch_size=3, shuffle=True, seed=7))
    assert len(slow) == len(fast) == 4
    for (slow_x, slow_y), (fast_x, fast_y) in zip(slow, fast, strict=True):
        np.testing.assert_array_equal(slow_x.numpy(), fast_x.numpy())
        np.testing.assert_array_equal(slow_y.numpy(), fast_y.numpy())
        assert slow_x.dtype == np.float32


def test_loader_resumes_mid_epoch_from_state_dict():
    dataset = TensorDataset(np.arange(30))
    reference = DataLoader(dataset, batch_size=4, shuffle=True, seed=5)
    expected = _labels_of(reference) + _labels_of(reference)

    interrupted = DataLoader(dataset, batch_size=4, shuffle=True, seed=5)
    seen = []
    for batch in interrupted:
        seen.append(batch[0].numpy().tolist())
        if len(seen) == 3:
            state = interrupted.state_dict()
            break
    assert state["batches_done"] == 3

    resumed = DataLoader(dataset, batch_size=4, shuffle=True, seed=999)
    resumed.load_state_dict(state)
    seen += _labels_of(resumed) + _labels_of(resumed)
    assert seen == expected


def test_loader_state_survives_save_and_load(tmp_path):
    from minigrad.serialize import load, save

    loader = DataLoader(TensorDataset(np.arange(20)), batch_size=3, shuffle=True, seed=1)
    iterator = iter(loader)
    next(iterator)
    save({"loader": loader.state_dict()}, tmp_path / "ckpt.npz")
    expected = [batch[0].numpy().tolist() for batch in iterator]

    resumed = DataLoader(TensorDataset(np.arange(20)), batch_size=3, shuffle=True)
    resumed.load_state_dict(load(tmp_path / "ckpt.npz")["loader"])
    assert _labels_of(resumed) == expected


def test_loader_rejects_bad_arguments():
    dataset = TensorDataset(np.arange(4))
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DataLoader(dataset, batch_size=0)
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        DataLoader(object())
    with pytest.raises(ValueError, match="batches_done=9"):
        DataLoader(dataset, batch_size=2).load_state_dict(
            {"generator": np.random.default_rng(0).bit_generator.state, "batches_done": 9}
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
