"""Reductions over axes: sum, max and argmax (numpy's, which are already one pass).

Results are always arrays (0-d for a full reduction), as CuPy's are, never numpy scalars.

``axis`` is ``None`` (all axes), an int, or a tuple of ints for ``sum``/``max``;
``argmax`` takes ``None`` (index into the flattened array) or one int, like numpy.
"""

from __future__ import annotations

import numpy as np

Axis = int | tuple[int, ...] | None


def _axis(x: np.ndarray, axis, allow_tuple: bool):
    if axis is None:
        return None
    if isinstance(axis, list):
        axis = tuple(axis)
    if isinstance(axis, tuple) and allow_tuple:
        items = axis
    elif isinstance(axis, tuple):
        raise ValueError(f"axis must be None or an int, got {axis!r}")
    else:
        items = (axis,)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | np.integer):
            expected = "None, an int or a tuple of ints" if allow_tuple else "None or an int"
            raise ValueError(f"axis must be {expected}, got {axis!r}")
        if not -x.ndim <= item < x.ndim:
            raise ValueError(f"axis {item} is out of range for an array of shape {x.shape}")
    return axis


def sum(x: np.ndarray, axis: Axis = None, keepdims: bool = False) -> np.ndarray:  # noqa: A001
    """``sum_{i in axis} x[..., i, ...]`` in x's dtype."""
    # The ufunc's reduce directly: np.sum's Python wrapper costs 1 us, more than 8 numbers.
    if axis is not None:
        axis = _axis(x, axis, True)
    total = np.add.reduce(x, axis=axis, keepdims=keepdims)
    return total if type(total) is np.ndarray else np.asarray(total)


def max(x: np.ndarray, axis: Axis = None, keepdims: bool = False) -> np.ndarray:  # noqa: A001
    """``max_{i in axis} x[..., i, ...]`` (NaN wins, as in numpy and PyTorch)."""
    if x.size == 0:
        raise ValueError(f"max of an empty array (shape {x.shape}) is undefined")
    return np.asarray(np.maximum.reduce(x, axis=_axis(x, axis, True), keepdims=keepdims))


def argmax(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    """``argmax_i x[..., i, ...]`` as int64; the first maximum wins on ties."""
    if x.size == 0:
        raise ValueError(f"argmax of an empty array (shape {x.shape}) is undefined")
    return np.asarray(np.argmax(x, axis=_axis(x, axis, False)), dtype=np.int64)
