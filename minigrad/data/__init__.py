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

__all__ = [
    "FASHION_MNIST",
    "FASHION_MNIST_CLASSES",
    "MNIST",
    "DataLoader",
    "Dataset",
    "DownloadError",
    "IdxDatasetSpec",
    "IdxFormatError",
    "TensorDataset",
    "collate",
    "download_file",
    "fashion_mnist",
    "load_idx_dataset",
    "mnist",
    "parse_idx",
    "read_idx",
    "sha256_of_file",
]
