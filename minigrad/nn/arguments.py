"""Validation of layer constructor arguments, so a bad size fails where it is written."""

from __future__ import annotations

import numpy as np


def positive_int(value: object, name: str) -> int:
    """``value`` as an int, or a ValueError naming ``name`` unless it is an int > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def int_pair(value: object, name: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints as an (h, w) tuple, each at least ``minimum``."""
    pair = value if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum for v in pair
    ):
        raise ValueError(f"{name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def float_dtype(dtype: object) -> np.dtype:
    """The parameter dtype: float32 when None, otherwise float32 or float64."""
    resolved = np.dtype(np.float32 if dtype is None else dtype)
    if resolved not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {resolved}")
    return resolved
