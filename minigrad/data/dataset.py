"""Datasets: anything with a length that hands out one example per integer index."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np


class Dataset(ABC):
    """The interface a ``DataLoader`` reads: ``len(dataset)`` and ``dataset[i]``.

    Subclasses implement both. ``dataset[i]`` returns one example, usually a tuple such as
    ``(image, label)`` whose parts are Tensors, numpy arrays or Python numbers.
    """

    @abstractmethod
    def __len__(self) -> int:
        """The number of examples."""

    @abstractmethod
    def __getitem__(self, index: int) -> Any:
        """Example number ``index`` (0 <= index < len(self))."""


class TensorDataset(Dataset):
    """Examples that are rows of equally long tensors: ``dataset[i] = (t[i] for t in tensors)``.

    Numpy arrays are accepted and wrapped as Tensors with their dtype kept (uint8 stays
    uint8, int64 labels stay int64). The ``DataLoader`` recognises this class and takes
    whole batches with one fancy index per tensor instead of stacking single rows.
    """

    def __init__(self, *tensors: Any) -> None:
        from minigrad.tensor import Tensor

        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        wrapped = []
        for position, value in enumerate(tensors):
            if not isinstance(value, Tensor):
                if not isinstance(value, np.ndarray):
                    raise TypeError(
                        f"TensorDataset argument {position} is a {type(value).__name__}, "
                        "expected a minigrad Tensor or a numpy array"
                    )
                value = Tensor(value, dtype=value.dtype)
            if value.ndim == 0:
                raise ValueError(
                    f"TensorDataset argument {position} is 0-d; every tensor needs a first "
                    "dimension that indexes examples"
                )
            wrapped.append(value)
        length = wrapped[0].shape[0]
        for position, value in enumerate(wrapped):
            if value.shape[0] != length:
                shapes = ", ".join(str(t.shape) for t in wrapped)
                raise ValueError(
                    "TensorDataset tensors must have the same first dimension (number of "
                    f"examples); argument {position} has {value.shape[0]}, argument 0 has "
                    f"{length} (shapes: {shapes})"
                )
        self.tensors: tuple[Tensor, ...] = tuple(wrapped)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        return tuple(tensor[index] for tensor in self.tensors)

    def __repr__(self) -> str:
        parts = ", ".join(f"{t.shape} {t.dtype}" for t in self.tensors)
        return f"TensorDataset({len(self)} examples: {parts})"
