"""DataLoader with PyTorch's arguments: worker processes, samplers, splits, utils.data."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

import minigrad as mg
from minigrad.utils import data as torch_data
from minigrad.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    get_worker_info,
    random_split,
)


class Squares(Dataset):
    """Example i is (a (2, 3) array filled with i, i*i, {"id": i}): a nested structure."""

    def __init__(self, count: int, fail_at: int | None = None, die_at: int | None = None):
        self.count, self.fail_at, self.die_at = count, fail_at, die_at

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int):
        if index == self.fail_at:
            raise KeyError(f"no example {index}")
        if index == self.die_at:
            os._exit(3)
        return np.full((2, 3), index, dtype=np.float32), index * index, {"id": index}


class WhoReadsMe(Dataset):
    def __len__(self) -> int:
        return 12

    def __getitem__(self, index: int):
        info = get_worker_info()
        return np.array([index, -1 if info is None else info.id, os.getpid()])


class Slow(Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int):
        time.sleep(3)
        return np.zeros(1)


def _flatten(batches) -> list:
    out = []
    for images, squares, ids in batches:
        out.append((images.numpy().tolist(), squares.tolist(), ids["id"].tolist()))
    return out


def test_utils_data_is_minigrad_data():
    assert torch_data.DataLoader is mg.data.DataLoader
    assert mg.utils.data.TensorDataset is mg.data.TensorDataset
    assert torch_data.default_collate is mg.data.collate


@pytest.mark.parametrize("shuffle", [False, True])
def test_workers_give_the_batches_of_the_main_process(shuffle):
    dataset = Squares(23)
    single = DataLoader(dataset, batch_size=4, shuffle=shuffle, seed=7)
    several = DataLoader(dataset, batch_size=4, shuffle=shuffle, seed=7, num_workers=3)
    for _ in range(2):  # two epochs: the shuffles must stay in step too
        assert _flatten(several) == _flatten(single)


def test_tensor_dataset_and_collate_fn_through_workers():
    images, labels = mg.randn(30, 1, 4, 4), mg.arange(30)
    dataset = TensorDataset(images, labels)
    reference = [(x.numpy(), y.numpy()) for x, y in DataLoader(dataset, 8, shuffle=True, seed=1)]
    loaded = [
        (x.numpy(), y.numpy())
        for x, y in DataLoader(dataset, 8, shuffle=True, seed=1, num_workers=2, prefetch_factor=1)
    ]
    for (x0, y0), (x1, y1) in zip(reference, loaded, strict=True):
        assert np.array_equal(x0, x1) and np.array_equal(y0, y1)

    def label_sum(samples):
        return sum(int(label) for _, label in samples)

    sums = list(DataLoader(dataset, batch_size=10, collate_fn=label_sum, num_workers=2))
    assert sums == [45, 145, 245]


def test_worker_info_init_fn_and_persistent_workers():
    started = []
    loader = DataLoader(
        WhoReadsMe(),
        batch_size=3,
        num_workers=2,
        persistent_workers=True,
        worker_init_fn=started.append,  # runs in the workers: the main list stays empty
    )
    first = np.concatenate([b.numpy() for b in loader])
    second = np.concatenate([b.numpy() for b in loader])
    assert first[:, 0].tolist() == list(range(12))
    # Batch k goes to worker k % 2, so examples 0-2 come from worker 0, 3-5 from worker 1.
    assert first[:, 1].tolist() == [0, 0, 0, 1, 1, 1] * 2
    assert set(first[:, 2]) == set(second[:, 2]) and os.getpid() not in set(first[:, 2])
    assert started == []
    assert get_worker_info() is None
    fresh = DataLoader(WhoReadsMe(), batch_size=3, num_workers=2)
    pids = [set(np.concatenate([b.numpy() for b in fresh])[:, 2]) for _ in range(2)]
    assert pids[0].isdisjoint(pids[1])  # not persistent: new processes each epoch


def test_workers_have_different_seeds_and_early_break_is_clean():
    class Noise(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return np.array([np.random.rand(), mg.rand(1).item()])

    batches = [b.numpy() for b in DataLoader(Noise(), batch_size=2, num_workers=2)]
    assert not np.array_equal(batches[0][:, 0], batches[1][:, 0])
    assert not np.array_equal(batches[0][:, 1], batches[1][:, 1])

    loader = DataLoader(Squares(40), batch_size=4, num_workers=2, persistent_workers=True)
    iterator = iter(loader)
    next(iterator), next(iterator)
    del iterator  # an early break: the epoch's other batches are still in flight
    assert [ids["id"].tolist()[0] for _, _, ids in loader] == list(range(0, 40, 4))


def test_a_worker_error_is_raised_with_its_type_and_traceback():
    loader = DataLoader(Squares(10, fail_at=6), batch_size=2, num_workers=2)
    expected = r"(?s)Caught KeyError in DataLoader worker process 1.*no example 6"
    with pytest.raises(KeyError, match=expected):
        list(loader)
    dying = DataLoader(Squares(10, die_at=3), batch_size=2, num_workers=2)
    with pytest.raises(RuntimeError, match="exited unexpectedly with exit code 3"):
        list(dying)


def test_timeout_raises_and_spawned_workers_work():
    with pytest.raises(RuntimeError, match="timed out after 1.0 seconds"):
        list(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=1.0))
    spawned = DataLoader(Squares(6), batch_size=4, num_workers=1, multiprocessing_context="spawn")
    assert _flatten(spawned) == _flatten(DataLoader(Squares(6), batch_size=4))


def test_resuming_mid_epoch_with_workers():
    dataset = Squares(20)
    loader = DataLoader(dataset, batch_size=3, shuffle=True, seed=5, num_workers=2)
    iterator = iter(loader)
    next(iterator), next(iterator)
    state = loader.state_dict()
    rest = _flatten(iterator)
    resumed = DataLoader(dataset, batch_size=3, shuffle=True, seed=99)
    resumed.load_state_dict(state)
    assert _flatten(resumed) == rest


def test_arguments_without_a_meaning_are_refused_or_warned():
    dataset = Squares(4)
    with pytest.warns(UserWarning, match="pin_memory=True has no effect"):
        loader = DataLoader(dataset, pin_memory=True)
    assert loader.pin_memory
    for options in (
        {"persistent_workers": True},
        {"prefetch_factor": 2},
        {"multiprocessing_context": "spawn"},
    ):
        with pytest.raises(ValueError, match="they need num_workers > 0"):
            DataLoader(dataset, **options)
    for options in ({"timeout": 1}, {"worker_init_fn": print}):
        with pytest.warns(UserWarning, match="no effect with num_workers=0"):
            DataLoader(dataset, **options)
    with pytest.raises(ValueError, match="num_workers must be an int >= 0"):
        DataLoader(dataset, num_workers=-1)
    with pytest.raises(TypeError, match=r"numpy.random.Generator"):
        DataLoader(dataset, generator=42)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(dataset, shuffle=True, sampler=SequentialSampler(dataset))
    with pytest.raises(ValueError, match="batch_sampler is mutually exclusive"):
        DataLoader(dataset, batch_size=2, batch_sampler=BatchSampler(range(4), 2, False))


def test_samplers_and_a_shared_generator():
    dataset = TensorDataset(mg.arange(10))
    ids = [b[0].tolist() for b in DataLoader(dataset, 4, sampler=SubsetRandomSampler([1, 3, 5]))]
    assert sorted(sum(ids, [])) == [1, 3, 5]
    batches = BatchSampler(SequentialSampler(dataset), 4, drop_last=True)
    assert [b[0].tolist() for b in DataLoader(dataset, batch_sampler=batches)] == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
    ]
    weighted = WeightedRandomSampler([0, 0, 1.0, 0, 0, 0, 0, 0, 0, 3.0], 50)
    assert set(weighted) == {2, 9}
    orders = [
        [b[0].tolist() for b in DataLoader(dataset, 5, True, generator=np.random.default_rng(3))]
        for _ in range(2)
    ]
    assert orders[0] == orders[1] and sorted(sum(orders[0], [])) == list(range(10))


def test_subset_concat_and_random_split():
    dataset = TensorDataset(mg.arange(10))
    assert [int(Subset(dataset, [7, 2])[i][0]) for i in range(2)] == [7, 2]
    both = ConcatDataset([dataset, Subset(dataset, [0, 1])])
    assert len(both) == 12 and int(both[10][0]) == 0 and int(both[-1][0]) == 1
    parts = random_split(dataset, [0.5, 0.3, 0.2], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [5, 3, 2]
    assert sorted(sum((p.indices for p in parts), [])) == list(range(10))
    assert [len(p) for p in random_split(Subset(dataset, range(7)), [0.5, 0.5])] == [4, 3]
    with pytest.raises(ValueError, match="sum to the dataset's 10 examples"):
        random_split(dataset, [3, 3])
