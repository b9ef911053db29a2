"""``DataLoader``: a dataset cut into (optionally shuffled) mini-batches of Tensors."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from minigrad.data.dataset import Dataset, TensorDataset


def collate(samples: Sequence[Any]) -> Any:
    """Stack a list of examples into one batch, keeping the examples' structure.

    Tuples and lists are collated position by position, dicts key by key; Tensors are
    stacked along a new first dimension with ``minigrad.stack`` (so a graph through them is
    kept); numpy arrays and Python or numpy numbers become one Tensor of their numpy dtype.
    """
    from minigrad.tensor import Tensor

    first = samples[0]
    if isinstance(first, tuple | list):
        widths = {len(sample) for sample in samples}
        if len(widths) != 1:
            raise ValueError(f"collate: examples have different lengths {sorted(widths)}")
        return tuple(collate([sample[i] for sample in samples]) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: collate([sample[key] for sample in samples]) for key in first}
    if isinstance(first, Tensor):
        import minigrad

        return minigrad.stack(list(samples), 0)
    if isinstance(first, np.ndarray | np.generic | int | float | bool):
        stacked = np.stack([np.asarray(sample) for sample in samples])
        return Tensor(stacked, dtype=stacked.dtype)
    raise TypeError(
        f"collate: cannot batch examples of type {type(first).__name__}; a dataset item must "
        "be a Tensor, numpy array, number, or a tuple/list/dict of those"
    )


def _global_seed() -> np.random.SeedSequence:
    """A seed drawn from minigrad's seeded CPU generator (two 32-bit words of entropy)."""
    from minigrad import random

    draws = random.uniform_array((2,), np.dtype(np.float64), "cpu")
    return np.random.SeedSequence([int(value * 2**32) for value in draws])


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` examples.

    * ``shuffle=True`` draws a fresh permutation each epoch from the loader's own numpy
      ``Generator`` seeded with ``seed``: the same seed gives the same batches, run after
      run, independent of any other random numbers the program draws. ``seed=None`` takes
      the seed from minigrad's global generator, so ``minigrad.manual_seed(s)`` before
      building the loader makes its shuffles repeat too (as in PyTorch).
    * ``drop_last=True`` drops the final batch when it is smaller than ``batch_size``.
    * ``len(loader)`` is the number of batches per epoch.
    * A ``TensorDataset`` is batched by indexing each whole tensor with the batch's index
      array (one gather per tensor); other datasets are read example by example and joined
      by ``collate``. A ``TensorDataset`` batch is a tuple of Tensors.
    * ``state_dict()`` / ``load_state_dict()`` capture the generator and the position
      inside the current epoch, so a resumed training run sees exactly the batches the
      interrupted one would have seen next.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"dataset must define __len__ and __getitem__, got {type(dataset).__name__}"
            )
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = np.random.default_rng(_global_seed() if seed is None else seed)
        # Generator state at the start of the running epoch (None between epochs) and the
        # batches of it already handed out: what state_dict() needs to resume mid-epoch.
        self._epoch_start_state: dict[str, Any] | None = None
        self._batches_done = 0
        self._resume_at = 0

    def __len__(self) -> int:
        count = len(self.dataset)
        if self.drop_last:
            return count // self.batch_size
        return math.ceil(count / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        self._epoch_start_state = self.generator.bit_generator.state
        count = len(self.dataset)
        order = self.generator.permutation(count) if self.shuffle else np.arange(count)
        start, self._resume_at = self._resume_at, 0
        for batch in range(start, len(self)):
            indices = order[batch * self.batch_size : (batch + 1) * self.batch_size]
            self._batches_done = batch + 1
            yield self._fetch(indices)
        self._epoch_start_state = None
        self._batches_done = 0

    def _fetch(self, indices: np.ndarray) -> Any:
        if isinstance(self.dataset, TensorDataset):
            return tuple(tensor[indices] for tensor in self.dataset.tensors)
        return collate([self.dataset[int(i)] for i in indices])

    def state_dict(self) -> dict[str, Any]:
        """Where the loader stands: generator state at the epoch's start and batches done.

        Between epochs the state is the generator's current one and ``batches_done`` is 0,
        or, after ``load_state_dict`` and before the next ``iter``, the position still
        waiting to be resumed (so saving right after a resume keeps that place). The dict
        holds only ints and strings, so ``minigrad.save`` can store it.
        """
        if self._epoch_start_state is None:
            return {
                "generator": self.generator.bit_generator.state,
                "batches_done": self._resume_at,
            }
        return {"generator": self._epoch_start_state, "batches_done": self._batches_done}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from ``state_dict()``: the next ``iter(loader)`` continues that epoch."""
        batches_done = state["batches_done"]
        if not 0 <= batches_done <= len(self):
            raise ValueError(
                f"state_dict batches_done={batches_done} is outside 0..{len(self)} for this "
                "loader; was it saved from a loader over a different dataset or batch size?"
            )
        self.generator.bit_generator.state = state["generator"]
        self._epoch_start_state = None
        self._batches_done = 0
        self._resume_at = batches_done

    def __repr__(self) -> str:
        return (
            f"DataLoader({len(self.dataset)} examples, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, {len(self)} batches)"
        )
