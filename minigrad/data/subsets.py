"""Datasets made of other datasets: ``Subset``, ``ConcatDataset`` and ``random_split``."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.data.dataset import Dataset
from minigrad.data.sampler import numpy_generator


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``: ``subset[i] = dataset[indices[i]]``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]


class ConcatDataset(Dataset):
    """Several datasets one after another: indices run through the first, then the next."""

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} is out of range for {len(self)} examples")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def _split_lengths(total: int, lengths: Sequence[float]) -> list[int]:
    """Integer lengths, or fractions turned into lengths as PyTorch does.

    Fractions are floored, and the examples left over go one each to the first splits.
    """
    lengths = list(lengths)
    if all(isinstance(n, int) and not isinstance(n, bool) for n in lengths):
        if sum(lengths) != total or min(lengths) < 0:
            raise ValueError(
                f"lengths {lengths} must be >= 0 and sum to the dataset's {total} examples"
            )
        return lengths
    if not math.isclose(sum(lengths), 1.0) or min(lengths) < 0:
        raise ValueError(f"fractional lengths {lengths} must be >= 0 and sum to 1")
    counts = [math.floor(total * f) for f in lengths]
    for i in range(total - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(
    dataset: Dataset,
    lengths: Sequence[float],
    generator: np.random.Generator | None = None,
) -> list[Subset]:
    """Disjoint random ``Subset``s of the given lengths (ints, or fractions summing to 1)."""
    counts = _split_lengths(len(dataset), lengths)
    order = numpy_generator(generator).permutation(len(dataset)).tolist()
    offsets = np.cumsum([0, *counts]).tolist()
    return [Subset(dataset, order[a:b]) for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
