"""Data: datasets, a batching loader, the IDX reader, and MNIST / Fashion-MNIST."""

from minigrad.data.dataset import Dataset, TensorDataset
from minigrad.data.download import DownloadError, download_file, sha256_of_file
from minigrad.data.idx import IdxFormatError, parse_idx, read_idx
from minigrad.data.idx_datasets import (
    FASHION_MNIST,
    FASHION_MNIST_CLASSES,
    MNIST,
    IdxDatasetSpec,
    fashion_mnist,
    load_idx_dataset,
    mnist,
)
from minigrad.data.loader import DataLoader, collate
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
    "collate",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "download_file",
    "DownloadError",
    "FASHION_MNIST",
    "fashion_mnist",
    "FASHION_MNIST_CLASSES",
    "get_worker_info",
    "IdxDatasetSpec",
    "IdxFormatError",
    "load_idx_dataset",
    "mnist",
    "MNIST",
    "parse_idx",
    "random_split",
    "RandomSampler",
    "read_idx",
    "Sampler",
    "SequentialSampler",
    "sha256_of_file",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
]
