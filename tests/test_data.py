"""minigrad.data: the IDX reader, TensorDataset and DataLoader."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from idx_writer import TYPE_CODES, idx_bytes, write_idx

from minigrad.data import (
    DataLoader,
    Dataset,
    IdxFormatError,
    TensorDataset,
    parse_idx,
    read_idx,
)
from minigrad.tensor import Tensor

# ---------------------------------------------------------------------------- IDX reader


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", list(TYPE_CODES))
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


def test_loader_state_saved_right_after_a_resume_keeps_its_place():
    # A checkpoint written after load_state_dict() but before the next iter() must still
    # say where the epoch stands, or a second resume would restart the epoch.
    dataset = TensorDataset(np.arange(30))
    reference = DataLoader(dataset, batch_size=4, shuffle=True, seed=5)
    iterator = iter(reference)
    for _ in range(3):
        next(iterator)
    state = reference.state_dict()
    expected = [batch[0].numpy().tolist() for batch in iterator]

    first_resume = DataLoader(dataset, batch_size=4, shuffle=True, seed=999)
    first_resume.load_state_dict(state)
    saved_again = first_resume.state_dict()
    assert saved_again["batches_done"] == 3

    second_resume = DataLoader(dataset, batch_size=4, shuffle=True, seed=123)
    second_resume.load_state_dict(saved_again)
    assert _labels_of(second_resume) == expected


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
