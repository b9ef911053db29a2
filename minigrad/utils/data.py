"""``torch.utils.data``'s spelling of ``minigrad.data``: the same objects, re-exported.

``from minigrad.utils.data import DataLoader`` and ``from minigrad.data import DataLoader``
give one and the same class.
"""

from minigrad.data.dataset import Dataset, TensorDataset
from minigrad.data.loader import DataLoader
from minigrad.data.loader import collate as default_collate
from minigrad.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from minigrad.data.subsets import ConcatDataset, Subset, random_split
from minigrad.data.workers import WorkerInfo, get_worker_info

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "get_worker_info",
    "random_split",
]
